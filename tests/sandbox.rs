//! The sandbox (issue 20): seccomp's allow-list and Landlock's view of `DIR`, on by
//! default; the whole suite runs under it. Here: that it is on, that it kills what is not
//! on the list and refuses what is outside `DIR` (through the test-only trial, see
//! `handler::trial`), that the README's list is the code's and covers the traces.

mod common;
use common::{Server, TempDir, bin, children, documented, names, split, wait_for};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

/// `Seccomp:` and `NoNewPrivs:` of `/proc/PID/status`.
fn sandboxed(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("?").trim().to_string();
    (field("Seccomp:"), field("NoNewPrivs:"))
}

fn with_trial(args: &[&str]) -> Server {
    let mut cmd = Command::new(bin("forkhttpd"));
    cmd.args(["-p", "0", "-b", "127.0.0.1"]).args(args).env("FORKHTTPD_SANDBOX_TEST", "1");
    Server::spawn(cmd)
}

#[test]
fn on_by_default_in_the_parent_and_every_child() {
    let dir = TempDir::new("sandbox-on");
    for args in [vec![], vec!["-w", "2"], vec![dir.path().to_str().unwrap()]] {
        let server = Server::start(&args);
        assert_eq!(sandboxed(server.pid()), ("2".into(), "1".into()), "{args:?}: the parent");
        // A child while it serves (a head in flight).
        let mut s = server.connect();
        s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        wait_for(Duration::from_secs(5), || !children(server.pid()).is_empty());
        for (child, _) in children(server.pid()) {
            assert_eq!(sandboxed(child), ("2".into(), "1".into()), "{args:?}: child {child}");
        }
    }
    let off = Server::start(&["--no-sandbox"]);
    assert_eq!(sandboxed(off.pid()), ("0".into(), "0".into()));
}

/// A process that calls what is not on the list dies (SIGSYS) before it sends anything;
/// the parent logs it and serves on. In both models.
#[test]
fn the_filter_kills_what_is_not_on_the_list() {
    for args in [&[][..], &["-w", "1"]] {
        let server = with_trial(args);
        for call in ["execve", "socket", "ptrace"] {
            let got = server.exchange_open(format!("GET /.sandbox-test/{call} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes());
            assert!(got.is_empty(), "{args:?} {call}: {}", String::from_utf8_lossy(&got));
        }
        wait_for(Duration::from_secs(5), || server.events().iter().filter(|e| e.ends_with(" killed by signal 31 (SIGSYS)")).count() == 3);
        let (head, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{args:?}: served on");
        assert_eq!(body, b"Hello, World!\n");
    }
    // Without the sandbox the same calls are made, and fail or succeed harmlessly.
    let server = with_trial(&["--no-sandbox"]);
    let (_, body) = split(&server.exchange_open(b"GET /.sandbox-test/execve HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert_eq!(body, b"execve: no such file or directory (ENOENT)\n");
}

/// Outside `DIR` the kernel refuses twice: `openat2`'s `RESOLVE_BENEATH`, and Landlock
/// for a call that does not ask for it (a symlink followed, an absolute path).
#[test]
fn landlock_shows_dir_and_nothing_else() {
    let dir = TempDir::new("sandbox-landlock");
    std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
    let d = dir.path().to_str().unwrap();
    let server = with_trial(&[d]);
    assert_eq!(split(&server.exchange(b"GET /link HTTP/1.1\r\nHost: a\r\n\r\n")).0.lines().next(), Some("HTTP/1.1 403 Forbidden"));
    for (call, said) in [("escape/link", "escape/link: permission denied (EACCES)\n"), ("open-passwd", "open-passwd: permission denied (EACCES)\n"), ("escape/a.txt", "escape/a.txt: done\n")] {
        let (_, body) = split(&server.exchange_open(format!("GET /.sandbox-test/{call} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes()));
        assert_eq!(String::from_utf8_lossy(&body), said);
    }
    // Without the sandbox, only openat2's refusal is left: the trial opens the file.
    let server = with_trial(&["--no-sandbox", d]);
    let (_, body) = split(&server.exchange_open(b"GET /.sandbox-test/escape/link HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert_eq!(body, b"escape/link: done\n");
    // Without DIR no file is ever opened: openat2 is not even on the list.
    let server = with_trial(&[]);
    assert!(server.exchange_open(b"GET /.sandbox-test/open-passwd HTTP/1.1\r\nHost: a\r\n\r\n").is_empty());
    server.wait_event("killed by signal 31 (SIGSYS)");
}

#[test]
fn cgi_runs_without_it_and_says_so() {
    let dir = TempDir::new("sandbox-cgi");
    std::fs::create_dir(dir.path().join("cgi-bin")).unwrap();
    let server = Server::start(&["--cgi", "/cgi-bin/", dir.path().to_str().unwrap()]);
    let event = server.wait_event("no sandbox");
    assert_eq!(event, "forkhttpd: --cgi: no sandbox: a CGI program may need any syscall and any file (see README: Sandbox)");
    assert_eq!(sandboxed(server.pid()), ("0".into(), "0".into()));
}

/// The README's allow-list is the code's, and every call the documented traces show a
/// serving process make is on it.
#[test]
fn the_readme_lists_the_allowed_calls_and_they_cover_the_traces() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme.split_once("<!-- allow-list -->").expect("the allow-list in README.md").1;
    let rows: Vec<(String, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect();
    // The code's `CALLS`, read from its source (a test cannot link the no-libc library):
    // `(__NR_accept4, need::ALL, "accept4"),`.
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/process/sandbox.rs")).unwrap();
    let calls = source.split_once("pub const CALLS").unwrap().1.split_once("];").unwrap().0;
    let code: Vec<(String, String)> = calls
        .lines()
        .filter_map(|l| l.trim().strip_prefix("(__NR_"))
        .map(|l| {
            let parts: Vec<&str> = l.trim_end_matches("),").split(", ").collect();
            let when = match parts[1] {
                "need::ALL" => "always",
                "need::DIR" => "with `DIR`",
                "need::LIST" => "with `--list`",
                "need::PREFORK" => "with `--workers`",
                other => panic!("{other}"),
            };
            (parts[2].trim_matches('"').to_string(), when.to_string())
        })
        .collect();
    assert!(code.len() > 20, "{code:?}");
    assert_eq!(rows, code, "README.md's allow-list");
    // What the traces show after start-up (children, workers, the parents' loops).
    let allowed: Vec<&str> = code.iter().map(|(name, _)| name.as_str()).collect();
    for trace in ["request", "child-kept", "child", "child-once", "stop", "file-child", "workers-parent", "worker"] {
        for call in names(&documented("docs/syscalls.md", trace)) {
            assert!(allowed.contains(&call.as_str()), "{trace}: {call} is not on the list");
        }
    }
}
