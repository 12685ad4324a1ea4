//! forkhttpd when the world is unkind: slow clients, long runs, life as PID 1.

mod common;
use common::{Server, Signal, bin, children, fd_count, kill, read_to_close, split, wait_for, zombies};
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// Sends `GET / HTTP/1.1` one byte every `every` and never ends the head; returns what
/// the server answered and when it closed.
fn slowloris(port: u16, every: Duration) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let writer = s.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut w = writer;
        for b in b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ".iter().chain(std::iter::repeat(&b'z')) {
            if w.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    });
    let response = read_to_close(&mut s).unwrap_or_default();
    (response, start.elapsed())
}

/// The deadline is total, not an idle timer: a byte every 500 ms does not keep a
/// connection alive past --timeout.
#[test]
fn a_slowloris_client_gets_408_at_the_deadline() {
    let server = Server::start(&["--timeout", "2"]);
    let (response, took) = slowloris(server.port, Duration::from_millis(500));
    let (head, body) = split(&response);
    assert!(head.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{head}");
    assert_eq!(body, b"408 Request Timeout\n");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(3), "closed after {took:?}");
    let log = server.wait_log(1);
    // The log shows the part of the request line that had arrived ("GET /", about).
    assert!(log[0].contains(" \"GET") && log[0].contains("\" 408 20 pid="), "{log:?}");
}

/// 200 slow clients hold 200 children; a normal client is still served at once.
#[test]
fn two_hundred_slow_clients_do_not_block_a_normal_one() {
    let server = Server::start(&["--timeout", "3", "--quiet"]);
    let port = server.port;
    let slow: Vec<_> = (0..200).map(|_| std::thread::spawn(move || slowloris(port, Duration::from_millis(500)))).collect();
    wait_for(Duration::from_secs(10), || children(server.pid()).len() >= 200);
    let start = Instant::now();
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    assert!(start.elapsed() < Duration::from_secs(1), "a normal client waited {:?}", start.elapsed());
    for s in slow {
        let (response, took) = s.join().unwrap();
        assert!(response.starts_with(b"HTTP/1.1 408 "), "{:?}", String::from_utf8_lossy(&response));
        assert!(took < Duration::from_secs(5), "a slow client was held {took:?}");
    }
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// 10,000 connections in bursts of 500: every one answered, and afterwards no zombie,
/// and the parent's descriptors and resident memory where they were after the first burst.
#[test]
fn soak_10000_connections_in_bursts_of_500() {
    let server = Server::start(&["--quiet"]);
    let burst = |n: usize| {
        let mut conns: Vec<TcpStream> = (0..n).map(|_| server.connect()).collect();
        for c in &mut conns {
            c.write_all(b"GET /soak HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        }
        for c in &mut conns {
            let (_, body) = split(&read_to_close(c).expect("a clean close"));
            assert_eq!(body, b"Hello, World!\n");
        }
        wait_for(Duration::from_secs(20), || children(server.pid()).is_empty());
    };
    burst(500); // warms the stack and the table pages the parent will ever touch
    let (fds, rss) = (fd_count(server.pid()), rss_kb(server.pid()));
    for _ in 1..20 {
        burst(500);
    }
    assert_eq!(zombies(server.pid()), 0);
    assert_eq!(fd_count(server.pid()), fds, "descriptors");
    assert_eq!(rss_kb(server.pid()), rss, "resident memory (kB)");
}

/// As PID 1 of a PID namespace, forkhttpd is the reaper of orphans: a process whose
/// parent died is reparented to it, and must not stay a zombie when it exits.
#[test]
fn as_pid_1_it_reaps_orphans_and_stops_on_sigterm() {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child"]).arg(bin("forkhttpd")).args(["-p", "0", "-b", "127.0.0.1", "-q"]);
    let mut server = Server::spawn(cmd);
    let pid1 = children(server.pid()).first().expect("unshare's child").0;
    // A shell in the namespace leaves a sleep behind and exits: the sleep is an orphan.
    let orphaner = Command::new("nsenter")
        .args(["--target", &pid1.to_string(), "--pid", "--", "sh", "-c", "sleep 0.5 & exit 0"])
        .status()
        .unwrap();
    assert!(orphaner.success());
    wait_for(Duration::from_secs(5), || children(pid1).iter().any(|(_, state)| *state != 'Z'));
    // The orphan exits; the reaper must collect it.
    wait_for(Duration::from_secs(5), || children(pid1).is_empty());

    // SIGTERM with a request in flight: it completes, then exit status 0.
    let mut slow = server.connect();
    slow.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    wait_for(Duration::from_secs(5), || children(pid1).len() == 1);
    kill(pid1, Signal::TERM);
    std::thread::sleep(Duration::from_millis(200));
    slow.write_all(b"Host: a\r\n\r\n").unwrap();
    let (_, body) = split(&read_to_close(&mut slow).unwrap());
    assert_eq!(body, b"Hello, World!\n");
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0));
}
