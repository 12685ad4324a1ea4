//! The syscalls are part of the interface: real strace output must match the sequences
//! documented in README.md, which this test reads from there.

mod common;
use common::{Server, Signal, bin, children, kill, split, wait_for};
use std::process::Command;
use std::time::Duration;

/// The syscall names of a trace, one per line that records a call. Signal lines
/// (`--- SIGCHLD ...`), exit lines (`+++ ...`) and calls the kernel restarts after a
/// handler (`= ? ERESTARTSYS`) are not calls of the program's own.
fn names(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| !l.contains("ERESTARTSYS"))
        .filter_map(|l| {
            let name: String = l.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!name.is_empty() && l[name.len()..].starts_with('(')).then_some(name)
        })
        .collect()
}

/// The fenced block that follows `<!-- trace: NAME -->` in README.md.
fn documented(name: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = format!("<!-- trace: {name} -->");
    let after = readme.split_once(&marker).unwrap_or_else(|| panic!("README.md has no {marker}")).1;
    let block = after.split_once("```text\n").unwrap().1;
    block.split_once("```").unwrap().0.to_string()
}

/// Removes each SIGCHLD handler run (from the signal line to its `rt_sigreturn`) and
/// returns it apart: when a child's exit interrupts the parent depends on timing.
fn take_reaper_runs(trace: &str) -> (String, Vec<Vec<String>>) {
    let (mut rest, mut runs, mut run): (String, Vec<Vec<String>>, Option<String>) = (String::new(), vec![], None);
    for line in trace.lines() {
        match &mut run {
            None if line.starts_with("--- SIGCHLD") => run = Some(String::new()),
            None => {
                rest.push_str(line);
                rest.push('\n');
            }
            Some(r) => {
                r.push_str(line);
                r.push('\n');
                if line.starts_with("rt_sigreturn(") {
                    runs.push(names(r));
                    run = None;
                }
            }
        }
    }
    (rest, runs)
}

#[test]
fn start_up_one_request_and_stop_match_the_readme() {
    let dir = std::env::temp_dir().join(format!("forkhttpd-strace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("trace");
    let mut cmd = Command::new("strace");
    cmd.args(["-ff", "-qq", "-o"]).arg(&prefix).arg(bin("forkhttpd")).args(["-p", "0", "-b", "127.0.0.1"]);
    let mut server = Server::spawn(cmd);
    let (_, body) = split(&server.exchange(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    server.wait_log(1);
    let pid = children(server.pid()).first().expect("strace's tracee").0;
    // Stop only once the child has been reaped, so its run of the handler is in the trace.
    wait_for(Duration::from_secs(10), || children(pid).is_empty());
    kill(pid, Signal::TERM);
    assert_eq!(server.wait_exit(Duration::from_secs(10)).code(), Some(0));

    let mut traces: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let pid = e.path().extension().unwrap().to_str().unwrap().parse().unwrap();
            (pid, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    traces.sort();
    assert_eq!(traces.len(), 2, "one parent, one child: {traces:#?}");
    let (parent, child) = (&traces[0].1, &traces[1].1);

    // The child, whole.
    assert_eq!(names(child), names(&documented("child")), "child trace:\n{child}");

    // The parent: start-up up to the first accept4, one request, the stop.
    let (parent_rest, reaper_runs) = take_reaper_runs(parent);
    let whole = [documented("start-up"), documented("request"), documented("stop")].concat();
    let (doc_rest, doc_runs) = take_reaper_runs(&whole);
    let startup = names(&documented("start-up"));
    assert_eq!(names(parent_rest.as_str())[..startup.len()], startup[..], "start-up:\n{parent}");
    assert_eq!(names(&parent_rest), names(&doc_rest), "parent trace:\n{parent}");
    assert_eq!(reaper_runs, doc_runs, "SIGCHLD handler runs:\n{parent}");

    // The reaper is wait4(-1, ..., WNOHANG) until nothing is left to reap.
    let waits: Vec<&str> = parent.lines().filter(|l| l.starts_with("wait4(")).collect();
    assert!(waits.iter().any(|l| l.contains("WNOHANG") && l.ends_with(&format!("= {}", traces[1].0))), "{parent}");
    assert!(waits.iter().all(|l| l.starts_with("wait4(-1, ")), "wait4 must wait for any child: {waits:#?}");
}
