//! Persistent connections (HTTP/1.1 keep-alive): several requests on one connection,
//! pipelining, the idle limit, the request limit, HTTP/1.0, and room at --max-children.

mod common;
use common::{Server, Signal, TempDir, children, response, wait_for};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The connection has ended: a read returns 0 (a FIN, not an RST).
fn ends(r: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).expect("a FIN, not an RST"), 0, "{:?}", String::from_utf8_lossy(&rest));
}

fn open(server: &Server) -> (TcpStream, BufReader<TcpStream>) {
    let s = server.connect();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

/// A directory with three small files, so that answers tell their requests apart.
fn site() -> TempDir {
    let dir = TempDir::new("keepalive");
    for name in ["a", "b", "c"] {
        std::fs::write(dir.path().join(name), name.repeat(3)).unwrap();
    }
    dir
}

#[test]
fn several_requests_on_one_connection_one_child() {
    let server = Server::start(&[]);
    let (mut s, mut r) = open(&server);
    for i in 0..3 {
        s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).unwrap();
        let (head, body) = response(&mut r);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && !head.contains("Connection"), "{head}");
        assert_eq!(body, b"Hello, World!\n");
    }
    s.write_all(b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
    let (head, _) = response(&mut r);
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    ends(&mut r);
    let log = server.wait_log(4);
    let pids: Vec<&str> = log.iter().map(|l| l.rsplit_once(" pid=").unwrap().1).collect();
    assert!(pids.iter().all(|p| *p == pids[0]), "one child served them all: {log:#?}");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let dir = site();
    let server = Server::start(&[dir.path().to_str().unwrap()]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let (_, a) = response(&mut r);
    let (head, _) = response_head_only(&mut r);
    let (_, c) = response(&mut r);
    assert_eq!((a.as_slice(), c.as_slice()), (&b"aaa"[..], &b"ccc"[..]));
    assert!(head.contains("Content-Length: 3"), "HEAD /b: {head}");
    ends(&mut r);
}

/// A HEAD's response: a head and no body, whatever its Content-Length says.
fn response_head_only(r: &mut BufReader<TcpStream>) -> (String, ()) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0);
        if line == "\r\n" {
            return (head, ());
        }
        head.push_str(&line);
    }
}

#[test]
fn an_idle_connection_is_closed_after_keep_alive_seconds() {
    let server = Server::start(&["--keep-alive", "1"]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    response(&mut r);
    let start = Instant::now();
    ends(&mut r);
    let idle = start.elapsed();
    assert!(idle >= Duration::from_millis(900) && idle < Duration::from_secs(5), "closed after {idle:?}");
    // Quietly: one access line, no 408.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}

#[test]
fn the_request_limit_ends_the_connection() {
    let server = Server::start(&["--max-requests", "2"]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let (first, _) = response(&mut r);
    let (second, _) = response(&mut r);
    assert!(!first.contains("Connection") && second.contains("\r\nConnection: close\r\n"), "{first}{second}");
    ends(&mut r);
}

#[test]
fn http_1_0_keeps_the_connection_only_when_asked() {
    let server = Server::start(&[]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let (head, _) = response(&mut r);
    assert!(head.contains("\r\nConnection: close\r\n"), "{head}");
    ends(&mut r);

    let (mut s, mut r) = open(&server);
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        let (head, _) = response(&mut r);
        assert!(head.contains("\r\nConnection: keep-alive\r\n"), "{head}");
    }
    drop(s);
}

#[test]
fn a_request_with_a_body_ends_the_connection_cleanly() {
    let server = Server::start(&[]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").unwrap();
    let (head, _) = response(&mut r);
    assert!(head.starts_with("HTTP/1.1 405 ") && head.contains("\r\nConnection: close\r\n"), "{head}");
    ends(&mut r);
    // A bad head too: its framing is unknown.
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let (head, _) = response(&mut r);
    assert!(head.starts_with("HTTP/1.1 400 ") && head.contains("\r\nConnection: close\r\n"), "{head}");
    ends(&mut r);
}

#[test]
fn each_request_has_the_head_deadline() {
    let server = Server::start(&["--timeout", "1", "--keep-alive", "10"]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    response(&mut r);
    std::thread::sleep(Duration::from_millis(1500)); // idle: within --keep-alive
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap(); // and never the rest
    let start = Instant::now();
    let (head, _) = response(&mut r);
    assert!(head.starts_with("HTTP/1.1 408 ") && head.contains("Connection: close"), "{head}");
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
}

/// At --max-children, kept-alive connections make room: the idle ones close at once, so
/// a new client is not kept waiting for --keep-alive seconds.
#[test]
fn idle_connections_make_room_at_the_cap() {
    let server = Server::start(&["--max-children", "2", "--keep-alive", "60"]);
    let mut idle = Vec::new();
    for _ in 0..2 {
        let (mut s, mut r) = open(&server);
        s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        response(&mut r);
        idle.push((s, r));
    }
    wait_for(Duration::from_secs(5), || children(server.pid()).len() == 2);
    let start = Instant::now();
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET /new HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
    let (head, _) = response(&mut r);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(start.elapsed() < Duration::from_secs(2), "the new client waited {:?}", start.elapsed());
    // The oldest connection made room, and only it: the other goes on.
    ends(&mut idle[0].1);
    let (s, r) = &mut idle[1];
    s.write_all(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert!(response(r).0.starts_with("HTTP/1.1 200 OK"));
    server.wait_event("--max-children: that many children running");
}

#[test]
fn a_stop_does_not_wait_for_idle_connections() {
    let mut server = Server::start(&["--keep-alive", "60"]);
    let (mut s, mut r) = open(&server);
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    response(&mut r);
    wait_for(Duration::from_secs(5), || children(server.pid()).len() == 1);
    let start = Instant::now();
    server.signal(Signal::TERM);
    ends(&mut r);
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}
