//! The drawing's structure for real traces made by `make trace` (tests/fixtures/: 3f with
//! a burst of 10 clients, 3h with one): its lanes, arrows, zombies, exits and
//! interrupted calls, compared with a golden listing (tests/fixtures/*.structure), and
//! counted again from the trace's own lines, so that the golden listing cannot drift
//! from what strace wrote. `UPDATE_GOLDEN=1 cargo test -p tracesvg` rewrites the
//! listings; read the diff before committing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The start tags of an SVG this tool wrote, in order: (name, attributes). Its
/// attribute values never hold a raw `"` or `>`, and its text never a raw `<`.
fn tags(svg: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').expect("a tag that ends");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with(['/', '?', '!']) {
            continue;
        }
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut map = BTreeMap::new();
        while let Some((key, after)) = attrs.split_once("=\"") {
            let (value, after) = after.split_once('"').expect("a closed attribute");
            map.insert(key.trim().to_string(), value.to_string());
            attrs = after;
        }
        out.push((name.to_string(), map));
    }
    out
}

/// One line per lane, arrow, zombie, exit and interrupted call, and the count of marks
/// per lane, in the order the SVG draws them (inside `<g id="trace">` only: not the legend).
fn structure(svg: &str) -> String {
    let all = tags(svg);
    let start = all.iter().position(|(n, a)| n == "g" && a.get("id").map(String::as_str) == Some("trace")).expect("g#trace");
    let mut lines = Vec::new();
    let mut marks: BTreeMap<String, usize> = BTreeMap::new();
    for (name, a) in &all[start..] {
        let get = |k: &str| a.get(k).cloned().unwrap_or_default();
        let class = get("class");
        match (name.as_str(), class.as_str()) {
            ("g", "lane") => lines.push(format!("lane {}{}", get("data-pid"), a.get("data-parent").map_or(String::new(), |p| format!(" parent={p}")))),
            ("line", "arrow clone") => lines.push(format!("clone {} -> {}", get("data-from"), get("data-to"))),
            ("line", "arrow sigchld") => lines.push(format!("sigchld {} -> {}", get("data-from"), get("data-to"))),
            ("line", "arrow signal") => lines.push(format!("signal {} -> {}", get("data-from"), get("data-to"))),
            ("rect", "zombie") => lines.push(format!("zombie {} reaped by {}", get("data-pid"), get("data-reaper"))),
            ("rect", "zombie unreaped") => lines.push(format!("zombie {} never reaped", get("data-pid"))),
            ("rect", c) if c.starts_with("exit") => lines.push(format!("{c} {}", get("data-pid"))),
            ("g", c) if c.starts_with("call") || c.starts_with("signal") || c == "birth" => {
                *marks.entry(get("data-pid")).or_default() += 1;
                if c.contains("intr") {
                    lines.push(format!("interrupted {} {}", get("data-pid"), get("data-name")));
                }
            }
            _ => {}
        }
    }
    lines.extend(marks.iter().map(|(pid, n)| format!("marks {pid} {n}")));
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn render(trace: &Path) -> String {
    let text = std::fs::read_to_string(trace).unwrap();
    tracesvg::render(&tracesvg::read(&[tracesvg::Source { pid: None, text }]), &Default::default()).svg
}

fn golden(name: &str) -> String {
    let got = structure(&render(&fixture(&format!("{name}.txt"))));
    let path = fixture(&format!("{name}.structure"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(got, want, "the structure of {name}'s picture changed (UPDATE_GOLDEN=1 to accept it)");
    got
}

fn count(structure: &str, prefix: &str) -> usize {
    structure.lines().filter(|l| l.starts_with(prefix)).count()
}

/// The trace's lines that are not `#` lines, with the pid column split off.
fn lines(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.txt"))).unwrap();
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| {
        let (pid, rest) = l.split_once(' ').unwrap();
        (pid.to_string(), rest.trim_start().split_once(' ').unwrap().1.to_string())
    }).collect()
}

#[test]
fn a_3f_burst_lanes_arrows_zombies() {
    let s = golden("3f");
    let lines = lines("3f");
    let pids: std::collections::BTreeSet<&str> = lines.iter().map(|(p, _)| p.as_str()).collect();
    // One lane per process of the trace, the parent first, then the children in the order
    // of the clones that made them.
    assert_eq!(count(&s, "lane "), pids.len());
    let children: Vec<String> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("clone(") || l.starts_with("<... clone resumed>"))
        .filter_map(|(_, l)| l.rsplit_once(") = ").and_then(|(_, r)| r.parse::<u32>().ok()))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(children.len(), pids.len() - 1, "every child of 3f is cloned by the parent");
    let lanes: Vec<&str> = s.lines().filter_map(|l| l.strip_prefix("lane ")).map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(lanes[1..], children.iter().map(String::as_str).collect::<Vec<_>>()[..]);
    // One clone arrow per child, one SIGCHLD arrow per SIGCHLD the parent got, one exit per
    // process, a zombie per child: reaped by the parent, or never.
    assert_eq!(count(&s, "clone "), children.len());
    let sigchld = lines.iter().filter(|(_, l)| l.starts_with("--- SIGCHLD")).count();
    assert_eq!(count(&s, "sigchld "), sigchld);
    assert!(sigchld < children.len(), "the fixture shows SIGCHLDs coalesced: {sigchld} for {} exits", children.len());
    assert_eq!(count(&s, "exit"), lines.iter().filter(|(_, l)| l.starts_with("+++")).count());
    let reaps = lines
        .iter()
        .filter(|(_, l)| l.starts_with("wait4(") || l.starts_with("<... wait4 resumed>"))
        .filter(|(_, l)| l.rsplit_once(") = ").is_some_and(|(_, r)| r.parse::<u32>().is_ok_and(|p| p > 0)))
        .count();
    assert_eq!(count(&s, "zombie "), children.len());
    assert_eq!(s.matches("reaped by").count(), reaps);
    // The zombies `ps` saw at the end (tools/trace's header) are those never reaped.
    let text = std::fs::read_to_string(fixture("3f.txt")).unwrap();
    let ps: usize = text.lines().find_map(|l| l.strip_prefix("# zombies left")).unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(s.matches("never reaped").count(), ps);
    // Interrupted calls: each `= ? ERESTART...` and `= -1 EINTR`, in red.
    let interrupted = lines.iter().filter(|(_, l)| l.contains("= ? ERESTART") || l.contains("= -1 EINTR")).count();
    assert_eq!(count(&s, "interrupted "), interrupted);
}

#[test]
fn a_cgi_program_has_its_lane_under_its_child() {
    let s = golden("3h");
    let lanes: Vec<&str> = s.lines().filter(|l| l.starts_with("lane ")).collect();
    assert_eq!(lanes.len(), 3);
    let child = lanes[1].split(' ').nth(1).unwrap();
    let script = lanes[2].split(' ').nth(1).unwrap();
    assert!(lanes[2].ends_with(&format!("parent={child}")), "{lanes:?}");
    assert!(s.contains(&format!("clone {child} -> {script}\n")), "{s}");
    // The script's exit signals the child, which reaps it with wait4(pid).
    assert!(s.contains(&format!("sigchld {script} -> {child}\n")), "{s}");
    assert!(s.contains(&format!("zombie {script} reaped by {child}\n")), "{s}");
    // And its lane is named after the program it runs.
    let svg = render(&fixture("3h.txt"));
    assert!(svg.contains(&format!(">{script} hello.sh</text>")), "the script's lane is named hello.sh");
}

/// The same trace as `strace -ff` writes it, one file per process with no pid column,
/// read from their directory or their prefix: the same picture.
#[test]
fn ff_files_by_directory_or_prefix() {
    let dir = std::env::temp_dir().join(format!("tracesvg-ff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let text = std::fs::read_to_string(fixture("3f.txt")).unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (pid, rest) = line.split_once(' ').unwrap();
        let rest = rest.trim_start();
        // -ff has no <unfinished ...> / <... resumed>: each file holds its calls whole.
        if let Some(start) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid.to_string(), start.to_string());
            continue;
        }
        let whole = match rest.split_once(' ').map(|(_, l)| l).and_then(|l| l.strip_prefix("<... ")) {
            Some(resumed) => format!("{}{}", pending.remove(pid).unwrap(), resumed.split_once("resumed>").unwrap().1),
            None => rest.to_string(),
        };
        files.entry(pid.to_string()).or_default().push_str(&format!("{whole}\n"));
    }
    for (pid, text) in &files {
        std::fs::write(dir.join(format!("trace.{pid}")), text).unwrap();
    }
    let want = structure(&render(&fixture("3f.txt")));
    let bin = env!("CARGO_BIN_EXE_tracesvg");
    for input in [dir.clone(), dir.join("trace")] {
        let out = Command::new(bin).arg(&input).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(structure(&String::from_utf8(out.stdout).unwrap()), want, "tracesvg {}", input.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_writes_a_file_and_refuses_what_is_not_a_trace() {
    let bin = env!("CARGO_BIN_EXE_tracesvg");
    let out_path = std::env::temp_dir().join(format!("tracesvg-out-{}.svg", std::process::id()));
    let out = Command::new(bin).arg("-o").arg(&out_path).arg(fixture("3f.txt")).output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.starts_with(&format!("wrote {}: 11 processes (10 clones, 11 exits", out_path.display())), "{said}");
    assert!(std::fs::read_to_string(&out_path).unwrap().starts_with("<?xml"));
    std::fs::remove_file(&out_path).unwrap();
    let out = Command::new(bin).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no argument: usage");
    let out = Command::new(bin).arg(fixture("3f.structure")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no strace lines"), "{}", String::from_utf8_lossy(&out.stderr));
}
