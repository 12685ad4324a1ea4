//! The server as a process: its binary, its command line, its children, its signals.

mod common;
use common::{Server, Signal, TempDir, bin, children, fd_count, kill, minor_faults, read_to_close, split, unshare, wait_for, zombies};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_binary_is_static_and_has_no_allocator() {
    let elf = std::fs::read(bin("forkhttpd")).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let (phoff, phentsize, phnum) = (u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize, u16_at(54), u16_at(56));
    let types: Vec<u32> = (0..phnum).map(|i| u32::from_le_bytes(elf[phoff + i * phentsize..][..4].try_into().unwrap())).collect();
    assert!(!types.contains(&3), "PT_INTERP: a dynamic loader is requested");
    assert!(!types.contains(&2), "PT_DYNAMIC: the binary links shared libraries");

    let nm = Command::new("nm").arg(bin("forkhttpd")).output().expect("nm (binutils)");
    let symbols = String::from_utf8(nm.stdout).unwrap();
    assert!(symbols.contains("origin_main"), "nm must see the symbols of the unstripped build");
    for forbidden in ["malloc", "__rust_alloc", "__libc_start_main", "__rdl_alloc"] {
        assert!(!symbols.contains(forbidden), "{forbidden} is linked in");
    }
}

#[test]
fn help_version_and_bad_command_lines() {
    let run = |args: &[&str]| Command::new(bin("forkhttpd")).args(args).env_remove("PORT").output().unwrap();
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    for option in ["--port", "--bind", "--backlog", "--timeout", "--workers", "--quiet", "--help", "--version", "$PORT"] {
        assert!(text.contains(option), "--help does not mention {option}");
    }
    let version = run(&["-V"]);
    assert_eq!(String::from_utf8(version.stdout).unwrap(), format!("forkhttpd {}\n", env!("CARGO_PKG_VERSION")));

    for (args, message) in [
        (&["--frobnicate"][..], "forkhttpd: unknown option '--frobnicate' (see forkhttpd --help)\n"),
        (&["--port", "http"], "forkhttpd: invalid port 'http': expected a number from 0 to 65535 (see forkhttpd --help)\n"),
        (&["--port"], "forkhttpd: option needs a value: '--port' (see forkhttpd --help)\n"),
        (&["-b", "localhost"], "forkhttpd: invalid bind address 'localhost': expected an IPv4 or IPv6 literal such as 0.0.0.0, 127.0.0.1 or :: (see forkhttpd --help)\n"),
        (&["--backlog", "0"], "forkhttpd: invalid backlog '0': expected a number from 1 to 65535 (see forkhttpd --help)\n"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8(out.stderr).unwrap(), message);
        assert_eq!(out.stdout, b"", "{args:?}: nothing may be bound or printed");
    }
    let bad_env = Command::new(bin("forkhttpd")).env("PORT", "eighty").output().unwrap();
    assert_eq!(bad_env.status.code(), Some(2));
    assert!(String::from_utf8(bad_env.stderr).unwrap().starts_with("forkhttpd: invalid $PORT 'eighty'"));
}

/// Fork mode maps the parent's own stack before anything else: refused (here by
/// RLIMIT_AS: the server's 250 KiB fit, the stack's 260 do not), one line, exit 1,
/// nothing bound.
#[test]
fn no_memory_for_the_parents_stack() {
    let out = Command::new("prlimit").arg("--as=400000").arg(bin("forkhttpd")).args(["-p", "0", "-b", "127.0.0.1"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "forkhttpd: cannot map the parent's stack (260 KiB): out of memory (ENOMEM)\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{:?}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn port_from_the_environment() {
    let mut cmd = Command::new(bin("forkhttpd"));
    cmd.env("PORT", "0").args(["-b", "127.0.0.1"]);
    let server = Server::spawn(cmd);
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
}

#[test]
fn bind_failure_names_the_address_and_the_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(bin("forkhttpd")).args(["-b", "127.0.0.1", "-p", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "forkhttpd: cannot bind 127.0.0.1:{port}: address already in use (EADDRINUSE); \
             another process listens there: stop it or choose another --port\n"
        )
    );
    assert_eq!(out.stdout, b"");
}

/// An empty root: no /etc, /proc, /dev, no libc or loader, only the binary.
#[test]
fn runs_alone_in_an_empty_root() {
    let root = TempDir::new("root");
    root.copy_bin("forkhttpd");
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    let mut cmd = unshare();
    cmd.arg("--root").arg(root.path()).args(["/forkhttpd", "-p", "0", "-b", "127.0.0.1"]); // chroot(2)
    let server = Server::spawn(cmd);
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
}

/// 500 connections open at once: every one answered, every line logged whole, then no
/// zombie and no descriptor left behind in the parent.
#[test]
fn a_burst_of_500_concurrent_connections() {
    let server = Server::start(&[]);
    let fds_at_start = fd_count(server.pid());
    let mut conns: Vec<TcpStream> = (0..500).map(|_| server.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.write_all(format!("GET /{i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    }
    for c in &mut conns {
        let (head, body) = split(&read_to_close(c).expect("a response and a clean close"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert_eq!(body, b"Hello, World!\n");
    }
    let log = server.wait_log(500);
    assert_eq!(log.len(), 500);
    let mut paths: Vec<usize> = log
        .iter()
        .map(|l| {
            let path = l.split_once("\"GET /").and_then(|(_, r)| r.split_once(" HTTP/1.1\" 200 14 pid="));
            path.unwrap_or_else(|| panic!("a broken or interleaved line: {l:?}")).0.parse().unwrap()
        })
        .collect();
    paths.sort();
    assert_eq!(paths, (0..500).collect::<Vec<_>>());
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
    assert_eq!(zombies(server.pid()), 0);
    assert_eq!(fd_count(server.pid()), fds_at_start, "the parent leaked descriptors");
}

/// The fork path's page discipline (src/stacks.rs): the parent's writes per connection
/// fall on pages no child shares, so the parent takes no page fault, and a Hello child
/// takes three (its code, one page of stack, its receive buffer). A plain fork, whose
/// child shares the parent's stack pages, cost 6 to 7 a connection, 2 to 3 of them the
/// parent's. (Counts, not time: the bench measures what they cost.)
#[test]
fn a_connection_costs_the_parent_no_page_fault() {
    let server = Server::start(&[]);
    let one = || {
        let (head, _) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    };
    // The parent's first connections fault its own stack and table in.
    (0..20).for_each(|_| one());
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
    let (parent0, tree0) = minor_faults(server.pid());
    const N: u64 = 300;
    (0..N).for_each(|_| one());
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
    let (parent1, tree1) = minor_faults(server.pid());
    assert!(parent1 - parent0 <= N / 100, "the parent took {} page faults in {N} connections", parent1 - parent0);
    let per_child = (tree1 - tree0 - (parent1 - parent0)) as f64 / N as f64;
    assert!(per_child <= 4.0, "{per_child:.2} page faults a child");
}

/// A stop signal that reaches a child (a terminal's SIGINT reaches the whole group; anyone
/// may send a child SIGTERM) stops neither the parent nor its listening socket: the
/// child closed its copy of the socket first thing, and the inherited handler shuts the
/// socket down only in the parent's pid (which also covers a signal that comes before
/// that `close`, a window too short to hit from here).
#[test]
fn a_stop_signal_to_a_child_leaves_the_server_serving() {
    use std::io::Read;
    let server = Server::start(&[]);
    for signal in [Signal::TERM, Signal::INT] {
        // A kept-alive connection: its child waits for a next request.
        let mut kept = server.connect();
        kept.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        let mut head = [0; 17];
        kept.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200 OK\r\n");
        wait_for(Duration::from_secs(10), || children(server.pid()).len() == 1);
        kill(children(server.pid())[0].0, signal);
        drop(kept);
        wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
        let (head, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "after {signal:?} to a child: {head}");
        assert_eq!(body, b"Hello, World!\n");
    }
    assert!(server.events().is_empty(), "{:?}", server.events());
}

/// SIGTERM while a client is in mid-request: no new connections, the request completes,
/// exit status 0.
#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut server = Server::start(&[]);
        let mut slow = server.connect();
        slow.write_all(b"GET /slow HTTP/1.1\r\n").unwrap();
        wait_for(Duration::from_secs(5), || children(server.pid()).len() == 1);
        server.signal(signal);
        wait_for(Duration::from_secs(5), || TcpStream::connect(("127.0.0.1", server.port)).is_err());
        assert!(server.child.try_wait().unwrap().is_none(), "{signal:?}: exited with a request in flight");
        std::thread::sleep(Duration::from_millis(300));
        slow.write_all(b"Host: a\r\nConnection: close\r\n\r\n").unwrap();
        let (_, body) = split(&read_to_close(&mut slow).unwrap());
        assert_eq!(body, b"Hello, World!\n", "{signal:?}");
        let status = server.wait_exit(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "{signal:?}");
    }
}

/// As PID 1 of a PID namespace (a container's init), SIGTERM has no default action: it
/// works only because forkhttpd handles it.
#[test]
fn sigterm_as_pid_1() {
    let mut cmd = unshare();
    cmd.args(["--pid", "--fork", "--kill-child"]).arg(bin("forkhttpd")).args(["-p", "0", "-b", "127.0.0.1"]);
    let mut server = Server::spawn(cmd);
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    // The server is the child of unshare; in its own namespace it is PID 1.
    let pid1 = children(server.pid()).first().expect("unshare's child").0;
    let status = std::fs::read_to_string(format!("/proc/{pid1}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert!(nspid.trim_end().ends_with("\t1"), "not PID 1 in its namespace: {nspid}");
    let start = Instant::now();
    kill(pid1, Signal::TERM);
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "unshare reports its child's status");
    assert!(start.elapsed() < Duration::from_secs(5));
}
