//! `make trace` draws: tools/trace on stage 3f writes traces/3f.svg beside traces/3f.txt,
//! and the picture is the trace's (a lane per process, an arrow per clone and per SIGCHLD,
//! the zombies `ps` saw). A browser draws it (headless Chromium, where installed).

mod common;
use common::{TempDir, bin, chromium, headless};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the SVG holds inside its `<g id="trace">`, read by Python's XML parser (which
/// refuses a file that is not well-formed XML).
fn svg_facts(svg: &Path) -> Vec<(String, Vec<String>)> {
    let script = r#"
import sys, xml.etree.ElementTree as E
ns = {'s': 'http://www.w3.org/2000/svg'}
root = E.parse(sys.argv[1]).getroot()
assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag
trace = root.find(".//s:g[@id='trace']", ns)
def attrs(path, attr): return [e.get(attr) for e in trace.findall(path, ns)]
print('lanes', *attrs(".//s:g[@class='lane']", 'data-pid'))
print('clones', *attrs(".//s:line[@class='arrow clone']", 'data-to'))
print('clone-parents', *attrs(".//s:line[@class='arrow clone']", 'data-from'))
print('sigchld', *attrs(".//s:line[@class='arrow sigchld']", 'data-from'))
print('exits', *attrs(".//s:rect[@class='exit']", 'data-pid'), *attrs(".//s:rect[@class='exit killed']", 'data-pid'))
print('unreaped', *attrs(".//s:rect[@class='zombie unreaped']", 'data-pid'))
print('size', root.get('width'), root.get('height'))
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(svg).output().expect("python3");
    assert!(out.status.success(), "{} is not the SVG expected: {}", svg.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_string);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

fn fact<'a>(facts: &'a [(String, Vec<String>)], key: &str) -> &'a [String] {
    &facts.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no {key} in {facts:?}")).1
}

#[test]
fn make_trace_3f_draws_every_process_clone_and_sigchld() {
    for needed in ["webserver3f", "client3", "tracesvg"] {
        bin(needed); // refuses a missing binary: `make test` builds them first
    }
    let dir = TempDir::new("trace-picture");
    // A burst of 12, not the article's 128: the picture is the same shape, and quick.
    let out = Command::new(repo().join("tools/trace")).arg("3f").env("TRACES", dir.path()).env("CLIENTS", "12").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tools/trace 3f: {said}");
    let svg = dir.path().join("3f.svg");
    assert!(said.contains(&format!("wrote {}: 13 processes (12 clones", svg.display())), "{said}");

    // The trace, as strace wrote it.
    let text = std::fs::read_to_string(dir.path().join("3f.txt")).unwrap();
    let lines: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (pid, rest) = l.split_once(' ').unwrap();
            (pid, rest.trim_start().split_once(' ').unwrap().1) // past the -ttt timestamp
        })
        .collect();
    let pids: BTreeSet<&str> = lines.iter().map(|(p, _)| *p).collect();
    let parent = lines[0].0;
    let mut children: Vec<String> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("clone(") || l.starts_with("<... clone resumed>"))
        .filter_map(|(_, l)| l.rsplit_once(") = ")?.1.parse::<u32>().ok())
        .map(|p| p.to_string())
        .collect();
    let sigchld = lines.iter().filter(|(_, l)| l.starts_with("--- SIGCHLD")).count();
    let exits = lines.iter().filter(|(_, l)| l.starts_with("+++ ")).count();
    let zombies_left: usize = text.lines().find_map(|l| l.strip_prefix("# zombies left")).unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(children.len(), 12, "a child per client");

    // The picture.
    let facts = svg_facts(&svg);
    let lanes = fact(&facts, "lanes");
    assert_eq!(lanes[0], parent, "the parent's lane on top");
    assert_eq!(lanes.iter().map(String::as_str).collect::<BTreeSet<_>>(), pids, "one lane per process of the trace");
    assert_eq!(lanes.len(), pids.len());
    assert_eq!(lanes[1..], children[..], "the children in the order of their birth");
    assert!(fact(&facts, "clone-parents").iter().all(|p| p == parent));
    let mut clones = fact(&facts, "clones").to_vec();
    clones.sort();
    children.sort();
    assert_eq!(clones, children, "one clone arrow per child");
    let from = fact(&facts, "sigchld");
    assert_eq!(from.len(), sigchld, "one SIGCHLD arrow per SIGCHLD the parent got");
    assert!(from.iter().all(|f| children.contains(f)), "each from a child: {from:?}");
    // Exits: one per process, its lane's end. A SIGCHLD per exit only when the signals do
    // not coalesce: that is 3f's lesson, so the test does not ask for it.
    assert_eq!(fact(&facts, "exits").len(), exits);
    assert_eq!(exits, pids.len());
    assert!(sigchld <= children.len());
    assert_eq!(fact(&facts, "unreaped").len(), zombies_left, "the zombies ps saw are the ones drawn never reaped");
}

#[test]
fn chromium_draws_the_picture() {
    let Some(browser) = chromium("chromium_draws_the_picture") else { return };
    let dir = TempDir::new("trace-picture-chromium");
    let svg = dir.path().join("3f.svg");
    let out = Command::new(bin("tracesvg")).arg("-o").arg(&svg).arg(repo().join("tools/tracesvg/tests/fixtures/3f.txt")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The SVG file itself, as a browser opens it: an XML error would be a parsererror page.
    let out = headless(&browser, &dir.path().join("profile-1")).arg("--dump-dom").arg(format!("file://{}", svg.display())).output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<svg") && dom.contains("id=\"trace\""), "Chromium did not open the SVG: {dom:.400}");
    assert!(!dom.contains("parsererror"), "Chromium could not parse the SVG: {dom:.2000}");

    // Inline in a page, measured by the browser's own layout.
    let text = std::fs::read_to_string(&svg).unwrap();
    let inline = &text[text.find("<svg").unwrap()..];
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        format!(
            r#"<!DOCTYPE html><html><body>{inline}<pre id="size">not measured</pre><script>
const drawing = document.getElementById('trace').getBBox();
const shown = document.querySelector('svg').getBoundingClientRect();
document.getElementById('size').textContent = ['measured', drawing.width, drawing.height, shown.width, shown.height, document.querySelectorAll('#trace .lane').length].join(' ');
</script></body></html>"#
        ),
    )
    .unwrap();
    let out = headless(&browser, &dir.path().join("profile-2")).arg("--dump-dom").arg(format!("file://{}", page.display())).output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let size = dom.split_once(r#"<pre id="size">"#).and_then(|(_, r)| r.split_once('<')).map(|(s, _)| s).unwrap_or_else(|| panic!("no size in {dom:.400}"));
    let numbers: Vec<f64> = size.strip_prefix("measured ").unwrap_or_else(|| panic!("the page's script did not run: {size}")).split(' ').map(|n| n.parse().unwrap()).collect();
    let [width, height, shown_w, shown_h, lanes] = numbers[..] else { panic!("{size}") };
    assert!(width > 500.0 && height > 200.0, "the drawing is {width} x {height}");
    let attr = |name: &str| -> f64 { text.split_once(&format!(" {name}=\"")).unwrap().1.split('"').next().unwrap().parse().unwrap() };
    assert_eq!((shown_w, shown_h), (attr("width"), attr("height")), "the page shows the picture at its own size");
    assert_eq!(lanes, 11.0, "a lane per process of the fixture");
}
