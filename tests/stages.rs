//! The article's stages: each one's syscalls are those docs/stages.md shows, and each
//! one's lesson happens, failures included. Plus client3, the article's client.

mod common;
use common::{ACCEPT, Server, Signal, Traced, bin, children, documented, fd_count, kill, names, take_reaper_runs, under_nproc, wait_for, wait_in_syscall, zombies};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// The article's REQUEST and response, byte for byte.
const REQUEST: &[u8] = b"GET /hello HTTP/1.1\nHost: localhost:8888\n\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\n\nHello, World!\n";

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Sends the article's request on `s` and reads until the response is complete (not
/// until the close: 3d never closes).
fn request_on(s: &mut TcpStream) -> Vec<u8> {
    s.write_all(REQUEST).unwrap();
    let (mut got, mut buf) = (Vec::new(), [0; 256]);
    while !got.ends_with(b"Hello, World!\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

fn start(stage: &str, args: &[&str]) -> Server {
    let mut cmd = Command::new(bin(&format!("webserver{stage}")));
    cmd.args(["--port", "0"]).args(args);
    Server::spawn(cmd)
}

/// Starts the stage under `prlimit LIMIT` (util-linux).
fn start_limited(stage: &str, limit: &str) -> Server {
    let mut cmd = Command::new("prlimit");
    cmd.args([limit, "--"]).arg(bin(&format!("webserver{stage}"))).args(["--port", "0"]);
    Server::spawn(cmd)
}

/// What the stage printed on stderr before it died.
fn stderr_of(server: &mut Server) -> String {
    wait_for(Duration::from_secs(5), || !server.events().is_empty());
    server.events().iter().map(|l| format!("{l}\n")).collect()
}


/// Traces one request to `stage` and compares the syscall names with docs/stages.md.
fn golden(stage: &str, args: &[&str]) {
    let name = format!("webserver{stage}");
    let traced = Traced::start(&name, &[&["--port", "0"][..], args].concat());
    let mut s = connect(traced.server.port);
    assert_eq!(request_on(&mut s), RESPONSE, "{stage}");
    let forks = !matches!(stage, "3a" | "3b");
    if stage != "3d" {
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap(); // the close
    }
    if stage == "3e" {
        // It dies by itself: that is its lesson.
    } else {
        // The child has exited, and the parent is back in accept. A stage with a SIGCHLD
        // handler (3f, 3g) has reaped it: a zombie is not enough, since under strace the
        // parent hears of the exit only once strace has, which on a loaded machine is later.
        let reaps = matches!(stage, "3f" | "3g");
        wait_for(Duration::from_secs(10), || {
            let kids = children(traced.pid);
            if reaps { kids.is_empty() } else { kids.iter().all(|(_, state)| *state == 'Z') }
        });
        wait_in_syscall(traced.pid, ACCEPT);
        kill(traced.pid, Signal::KILL);
    }
    let (status, parent, kids) = traced.finish();
    if stage == "3e" {
        assert_eq!(status.code(), Some(1), "3e dies");
    }
    let doc = |part: &str| documented("docs/stages.md", &format!("{stage} {part}"));
    let (rest, runs) = take_reaper_runs(&parent);
    let (doc_rest, doc_runs) = take_reaper_runs(&[doc("start-up"), doc("request")].concat());
    assert_eq!(names(&rest), names(&doc_rest), "{stage}, the parent:\n{parent}");
    assert_eq!(runs, doc_runs, "{stage}, the SIGCHLD handler:\n{parent}");
    if forks {
        assert_eq!(kids.len(), 1, "{stage}: one child");
        assert_eq!(names(&kids[0]), names(&doc("child")), "{stage}, the child:\n{}", kids[0]);
    } else {
        assert!(kids.is_empty(), "{stage} does not fork");
    }
}

#[test]
fn golden_traces_3a_3b() {
    golden("3a", &[]);
    golden("3b", &["--sleep", "0"]);
}

#[test]
fn golden_traces_3c_3d() {
    golden("3c", &["--sleep", "0"]);
    golden("3d", &[]);
}

#[test]
fn golden_traces_3e_3f_3g() {
    golden("3e", &["--sleep", "1"]);
    golden("3f", &[]);
    golden("3g", &[]);
}

/// 3h runs a CGI program per request: the parent is 3g's, the child forks again, and the
/// script's process is traced up to its `execveat` (what follows is /bin/sh's).
#[test]
fn golden_traces_3h() {
    let traced = Traced::start("webserver3h", &["--port", "0", "--", "examples/site/cgi-bin/hello.sh"]);
    let mut s = connect(traced.server.port);
    s.write_all(REQUEST).unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: ") && text.ends_with("\r\nConnection: close\r\n\r\nHello, World!\n"), "{text}");
    // Reaped, not only a zombie: under strace the parent hears of the exit only once
    // strace has, which on a loaded machine is later (issue 22's runs found it).
    wait_for(Duration::from_secs(10), || children(traced.pid).is_empty());
    wait_in_syscall(traced.pid, ACCEPT);
    kill(traced.pid, Signal::KILL);
    let (_, parent, kids) = traced.finish();
    let doc = |part: &str| documented("docs/stages.md", &format!("3h {part}"));
    let (rest, runs) = take_reaper_runs(&parent);
    let (doc_rest, doc_runs) = take_reaper_runs(&[doc("start-up"), doc("request")].concat());
    assert_eq!(names(&rest), names(&doc_rest), "3h, the parent:\n{parent}");
    assert_eq!(runs, doc_runs, "3h, the SIGCHLD handler:\n{parent}");
    assert_eq!(kids.len(), 2, "the child and the script's process");
    let (script, child): (Vec<&String>, Vec<&String>) = kids.iter().partition(|t| t.contains("execveat("));
    // A signal may stop a wait that the kernel then restarts: `= ? ERESTART...`.
    let calls = |t: &str| names(&t.lines().filter(|l| !l.contains("= ? ERESTART")).collect::<Vec<_>>().join("\n"));
    assert_eq!(calls(child[0]), names(&doc("child")), "3h, the child:\n{}", child[0]);
    let until_exec = script[0].split_inclusive('\n').take_while(|l| !l.starts_with("execveat(")).collect::<String>();
    assert_eq!([calls(&until_exec), vec!["execveat".into()]].concat(), names(&doc("script")), "3h, the script:\n{}", script[0]);
}

#[test]
fn three_b_serves_one_client_at_a_time() {
    let server = start("3b", &["--sleep", "1"]);
    let t = Instant::now();
    let (mut first, mut second) = (connect(server.port), connect(server.port));
    // The second is connected at once (the backlog), but served only after the sleep.
    let second_waits = std::thread::spawn(move || {
        let response = request_on(&mut second);
        (response, t.elapsed())
    });
    assert_eq!(request_on(&mut first), RESPONSE);
    assert!(t.elapsed() < Duration::from_millis(800), "the first client waited {:?}", t.elapsed());
    let (response, waited) = second_waits.join().unwrap();
    assert_eq!(response, RESPONSE);
    assert!(waited >= Duration::from_millis(900), "the second client was served after {waited:?}, during the sleep");
}

#[test]
fn three_c_serves_clients_at_once() {
    let server = start("3c", &["--sleep", "2"]);
    let t = Instant::now();
    let mut clients: Vec<TcpStream> = (0..2).map(|_| connect(server.port)).collect();
    for c in &mut clients {
        assert_eq!(request_on(c), RESPONSE);
    }
    assert!(t.elapsed() < Duration::from_millis(1500), "both answered before either child's sleep ends: {:?}", t.elapsed());
    let children_now = children(server.pid());
    assert_eq!(children_now.len(), 2, "a child per client: {children_now:?}");
    // The two children write concurrently: wait for both lines, in whatever order.
    let child_lines = || server.log().into_iter().filter(|l| l.starts_with("Child PID: ")).collect::<Vec<_>>();
    wait_for(Duration::from_secs(10), || child_lines().len() >= 2);
    let (lines, log) = (child_lines(), server.log());
    assert_eq!(lines.len(), 2, "{log:#?}");
    assert!(lines.iter().all(|l| l.ends_with(&format!(". Parent PID {}", server.pid()))), "{lines:?}");
    assert_eq!(log.first().map(String::as_str), Some(format!("Parent PID (PPID): {}", server.pid()).as_str()));
}

#[test]
fn three_d_leaks_a_descriptor_and_a_zombie_per_client() {
    let server = start("3d", &[]);
    let fds = fd_count(server.pid());
    let mut clients: Vec<TcpStream> = (0..5).map(|_| connect(server.port)).collect();
    for c in &mut clients {
        assert_eq!(request_on(c), RESPONSE);
    }
    wait_for(Duration::from_secs(10), || zombies(server.pid()) == 5);
    assert_eq!(fd_count(server.pid()), fds + 5, "the parent keeps each connection open");
    // The client never sees the end of the response: the parent's copy keeps it open.
    clients[0].set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let err = clients[0].read(&mut [0; 16]).expect_err("no FIN may come");
    assert!(matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{err}");
}

#[test]
fn three_d_dies_with_emfile_under_a_low_descriptor_limit() {
    let mut server = start_limited("3d", "--nofile=32:32");
    let port = server.port.to_string();
    // 28 accepted connections use up the descriptors. But a client3 client leaves as soon
    // as it has sent, and with 3d's backlog of 5 a loaded machine loses many before 3d
    // accepts them (a handshake whose last ACK found the queue full is gone once the
    // client has left): rounds of clients until 3d has died.
    for _ in 0..10 {
        let _ = Command::new(bin("client3")).args(["--host", "127.0.0.1", "--port", &port, "--max-clients", "60"]).output().unwrap();
        if server.child.try_wait().unwrap().is_some() {
            break;
        }
    }
    assert_eq!(server.wait_exit(Duration::from_secs(20)).code(), Some(1));
    assert_eq!(stderr_of(&mut server), "accept: too many open files (EMFILE)\n");
}

#[test]
fn three_d_dies_on_fork_with_eagain_under_a_process_limit() {
    let (_dir, mut cmd) = under_nproc("webserver3d", 8);
    cmd.args(["--port", "0"]);
    let mut server = Server::spawn(cmd);
    // Each client leaves a zombie, which counts: with the parent, 8 processes after 7
    // clients, and the 8th client's fork fails.
    let mut served = 0;
    for _ in 0..12 {
        if server.child.try_wait().unwrap().is_some() {
            break;
        }
        let Ok(mut c) = TcpStream::connect(("127.0.0.1", server.port)) else { break };
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        served += usize::from(request_on(&mut c) == RESPONSE);
    }
    assert_eq!(served, 7, "clients served before fork failed");
    assert_eq!(server.wait_exit(Duration::from_secs(10)).code(), Some(1));
    assert_eq!(stderr_of(&mut server), "fork: resource temporarily unavailable (EAGAIN)\n");
}

#[test]
fn three_e_dies_with_eintr_when_its_first_child_exits() {
    let mut server = start("3e", &["--sleep", "1"]);
    let mut c = connect(server.port);
    assert_eq!(request_on(&mut c), RESPONSE);
    assert_eq!(server.wait_exit(Duration::from_secs(10)).code(), Some(1));
    assert_eq!(stderr_of(&mut server), "accept: interrupted system call (EINTR)\n");
    let log = server.log();
    assert!(log.iter().any(|l| l.starts_with("Child ") && l.ends_with(" terminated with status 0")), "{log:#?}");
}

#[test]
fn three_g_leaves_no_zombie_after_a_burst_of_128() {
    let server = start("3g", &[]);
    let port = server.port.to_string();
    let out = Command::new(bin("client3")).args(["--host", "127.0.0.1", "--port", &port, "--max-clients", "128"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 128, "one line per connection");
    wait_for(Duration::from_secs(20), || server.log().iter().filter(|l| l.starts_with("GET /hello")).count() == 128);
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
    assert_eq!(zombies(server.pid()), 0);
}

#[test]
fn client3_opens_every_connection_it_is_asked_for() {
    let server = start("3g", &[]);
    let port = server.port.to_string();
    let out = Command::new(bin("client3"))
        .args(["--host", "127.0.0.1", "--port", &port, "--max-clients", "2", "--max-conns", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    lines.sort();
    assert_eq!(lines, ["0", "0", "1", "1", "2", "2"]);
    wait_for(Duration::from_secs(10), || server.log().iter().filter(|l| l.starts_with("GET /hello")).count() == 6);
}

#[test]
fn client3_load_mode_counts_responses_and_errors() {
    let server = Server::start(&["--quiet"]);
    let port = server.port.to_string();
    let out = Command::new(bin("client3"))
        .args(["--host", "127.0.0.1", "--port", &port, "--requests", "300", "--concurrency", "8"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("requests 300, concurrency 8: ") && text.contains(" responses/s, 300 ok in "), "{text}");
    assert!(text.contains("latency ms: p50 ") && text.contains("errors: refused 0, reset 0, timeout 0, short 0"), "{text}");
    drop(server);

    // A port bound but not listening refuses connections, and no one else can take it
    // while the socket is open.
    let closed = rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::STREAM, None).unwrap();
    rustix::net::bind(&closed, &std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    let bound = std::net::SocketAddrV4::try_from(rustix::net::getsockname(&closed).unwrap()).unwrap();
    let port = bound.port().to_string();
    let out = Command::new(bin("client3")).args(["--host", "127.0.0.1", "--port", &port, "--requests", "5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stdout).unwrap().contains("errors: refused 5, reset 0, timeout 0, short 0"));
}

#[test]
fn stage_command_lines() {
    let run = |stage: &str, args: &[&str]| Command::new(bin(&format!("webserver{stage}"))).args(args).output().unwrap();
    let help = run("3b", &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.starts_with("Usage: webserver3b [--port PORT] [--sleep SECONDS]") && text.contains("default: 60)"), "{text}");
    let out = run("3a", &["--sleep", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "webserver3a: unknown option '--sleep' (see webserver3a --help)\n");
    let out = run("3g", &["--port", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("webserver3g: invalid port 'x'"));
}
