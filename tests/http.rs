//! What clients see: exact response bytes over real TCP on loopback.

mod common;
use common::{Server, read_to_close, split, wait_for};
use std::io::Write;
use std::net::Shutdown;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The exact head forkhttpd must send, its Date checked against `date(1)`: an IMF-fixdate
/// of a second between `before` and now.
fn assert_head(head: &str, before: u64, expected_without_date: &str) {
    let (status_line, rest) = head.split_once("\r\n").unwrap();
    let (date_line, rest) = rest.split_once("\r\n").unwrap();
    assert_eq!(format!("{status_line}\r\n{rest}"), expected_without_date, "head: {head:?}");
    let date = date_line.strip_prefix("Date: ").unwrap_or_else(|| panic!("Date second: {head:?}"));
    let expected: Vec<String> = (before..=unix_now())
        .map(|t| {
            let out = Command::new("date")
                .args(["-u", "-d", &format!("@{t}"), "+%a, %d %b %Y %H:%M:%S GMT"])
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect();
    assert!(expected.iter().any(|e| e == date), "Date {date:?} is none of {expected:?}");
}

const HELLO_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
                          Content-Length: 14\r\nConnection: close";

#[test]
fn get_and_head_exact_bytes() {
    let server = Server::start(&[]);
    let before = unix_now();
    let (head, body) = split(&server.exchange(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    assert_head(&head, before, HELLO_HEAD);
    assert_eq!(body, b"Hello, World!\n");

    // HTTP/1.1 without `Connection: close`: the connection may go on, the head says nothing.
    let kept = HELLO_HEAD.strip_suffix("\r\nConnection: close").unwrap();
    let (head, body) = split(&server.exchange(b"HEAD /any/path?q=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    assert_head(&head, before, kept);
    assert_eq!(body, b"", "HEAD: the same head, no body");
}

#[test]
fn http_1_0_gets_an_http_1_1_response() {
    let server = Server::start(&[]);
    let before = unix_now();
    let (head, body) = split(&server.exchange(b"GET / HTTP/1.0\r\n\r\n"));
    assert_head(&head, before, HELLO_HEAD);
    assert_eq!(body, b"Hello, World!\n");
}

fn error_head(code: u16, reason: &str, extra: &str) -> (String, Vec<u8>) {
    let body = format!("{code} {reason}\n");
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close",
        body.len()
    );
    (head, body.into_bytes())
}

#[test]
fn errors_have_exact_responses() {
    let server = Server::start(&[]);
    let big_header = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n", "b".repeat(9000));
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
    let cases: Vec<(Vec<u8>, (String, Vec<u8>))> = vec![
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".to_vec(), error_head(405, "Method Not Allowed", "Allow: GET, HEAD, OPTIONS\r\n")),
        (b"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), error_head(405, "Method Not Allowed", "Allow: GET, HEAD, OPTIONS\r\n")),
        (b"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), error_head(501, "Not Implemented", "")),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n".to_vec(), error_head(505, "HTTP Version Not Supported", "")),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), error_head(400, "Bad Request", "")),
        (b"this is not http\r\n\r\n".to_vec(), error_head(400, "Bad Request", "")),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), error_head(400, "Bad Request", "")),
        (big_header.into_bytes(), error_head(431, "Request Header Fields Too Large", "")),
        (long_target.into_bytes(), error_head(414, "URI Too Long", "")),
    ];
    for (request, (expected_head, expected_body)) in cases {
        let before = unix_now();
        let (head, body) = split(&server.exchange(&request));
        assert_head(&head, before, &expected_head);
        assert_eq!(body, expected_body, "{expected_head}");
    }
}

#[test]
fn a_request_split_over_many_writes() {
    let server = Server::start(&[]);
    let mut s = server.connect();
    s.set_nodelay(true).unwrap();
    for b in b"GET /slowly HTTP/1.1\r\nHost: localhost\r\nUser-Agent: one-byte-at-a-time\r\n\r\n" {
        s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    s.shutdown(Shutdown::Write).unwrap();
    let (head, body) = split(&read_to_close(&mut s).unwrap());
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(body, b"Hello, World!\n");
}

#[test]
fn clients_that_leave_early_do_not_disturb_the_server() {
    let server = Server::start(&[]);
    // Connects and leaves without a byte; leaves in mid-head; half-closes in mid-head.
    drop(server.connect());
    let mut s = server.connect();
    s.write_all(b"GET / HT").unwrap();
    drop(s);
    let mut s = server.connect();
    s.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let (head, _) = split(&read_to_close(&mut s).unwrap());
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
    // Still serving.
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
}

/// The kernel answers unread input with RST, and an RST makes the client drop the
/// response it has not read. forkhttpd drains, so each of these ends with a FIN.
#[test]
fn clean_close_when_the_client_sent_more_than_was_read() {
    let server = Server::start(&[]);
    // A body that is never read, much larger than socket buffers: the client reads the
    // response only after it has written everything.
    let body = vec![b'x'; 4 << 20];
    let mut request = format!("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    request.extend_from_slice(&body);
    let (head, _) = split(&server.exchange(&request));
    assert!(head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{head}");

    // Pipelined requests, the first asking to close: one answer, then FIN.
    let two = b"GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    let (head, body) = split(&server.exchange(two));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    // The same without keep-alive: one answer, then FIN.
    let once = Server::start(&["--keep-alive", "0"]);
    let (head, body) = split(&once.exchange(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\nConnection: close"), "{head}");
    assert_eq!(body, b"Hello, World!\n");

    // A head over the limit, sent whole before reading.
    let huge = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "y".repeat(100_000));
    let (head, _) = split(&server.exchange(huge.as_bytes()));
    assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
}

#[test]
fn curl_as_a_client() {
    let server = Server::start(&[]);
    let url = format!("http://127.0.0.1:{}/hello", server.port);
    let out = Command::new("curl").args(["-sS", "--max-time", "10", &url]).output().expect("curl (make test installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"Hello, World!\n");

    let out = Command::new("curl").args(["-sS", "-I", "--http1.0", &url]).output().unwrap();
    let head = String::from_utf8(out.stdout).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Length: 14\r\n"), "{head}");

    let out = Command::new("curl").args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", &url]).output().unwrap();
    assert_eq!(out.stdout, b"405");
}

#[test]
fn access_log_lines() {
    let server = Server::start(&[]);
    server.exchange(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    server.exchange(b"HEAD / HTTP/1.0\r\n\r\n");
    server.exchange(b"GET /\"quoted\"\x01 HTTP/1.1\r\nHost: a\r\n\r\n");
    let log = server.wait_log(3);
    assert_eq!(log.len(), 3, "{log:?}");
    let expect = [r#""GET /hello HTTP/1.1" 200 14 pid="#, r#""HEAD / HTTP/1.0" 200 0 pid="#, r#""GET /\x22quoted\x22\x01 HTTP/1.1" 400 16 pid="#];
    for (line, expected) in log.iter().zip(expect) {
        let (peer, rest) = line.split_once(' ').unwrap();
        assert!(peer.starts_with("127.0.0.1:") && peer[10..].parse::<u16>().is_ok(), "{line}");
        let pid: u32 = rest.strip_prefix(expected).unwrap_or_else(|| panic!("{line:?} vs {expected:?}")).parse().unwrap();
        assert!(pid > 0 && pid != server.pid(), "the child's pid: {line}");
    }
}

#[test]
fn quiet_means_no_access_log() {
    let server = Server::start(&["--quiet"]);
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    // Once the child is gone, all it would log is in the pipe; then time to read it.
    wait_for(Duration::from_secs(10), || common::children(server.pid()).is_empty());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.log(), Vec::<String>::new());
}

#[test]
fn ipv6_loopback() {
    let has_ipv6 = std::fs::read_to_string("/proc/net/if_inet6").is_ok_and(|t| t.lines().any(|l| l.starts_with("00000000000000000000000000000001")));
    let mut cmd = Command::new(common::bin("forkhttpd"));
    cmd.args(["--port", "0", "--bind", "::1"]);
    if !has_ipv6 {
        // No IPv6 here: the one-line error must say so.
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("forkhttpd: cannot bind [::1]:0: "));
        return;
    }
    let server = Server::spawn(cmd);
    let mut s = std::net::TcpStream::connect(("::1", server.port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n").unwrap();
    let (_, body) = split(&read_to_close(&mut s).unwrap());
    assert_eq!(body, b"Hello, World!\n");
    let log = server.wait_log(1);
    assert!(log[0].starts_with("[::1]:"), "{log:?}");
}

// What the trust review found (issue 15): each test failed before its fix.

/// A request line whose escaped form passes the line's room is shortened visibly (`…`
/// before the closing quote); the line still ends with its status, size, pid and newline.
#[test]
fn a_long_escaped_request_line_is_shortened_visibly() {
    let server = Server::start(&[]);
    let mut request = b"GET /".to_vec();
    request.extend_from_slice(&[0xff; 300]);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    server.exchange(&request);
    wait_for(Duration::from_secs(10), || common::children(server.pid()).is_empty());
    server.exchange(b"GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let log = server.wait_log(2);
    let long = &log[0];
    assert!(long.starts_with(r#"127.0.0.1:"#) && long.contains(r#" "GET /\xff\xff"#), "{long}");
    let (fields, pid) = long.rsplit_once(" pid=").unwrap();
    assert!(fields.ends_with("\u{2026}\" 200 14") && pid.parse::<u32>().is_ok(), "{long}");
    assert!(long.len() <= 1024, "{} bytes", long.len());
    assert!(log[1].contains(r#" "GET /next HTTP/1.1" 200 14 pid="#), "{:?}", log[1]);
}

/// `OPTIONS *` (asterisk-form, RFC 9112 §3.2.4) and `OPTIONS /path`: 204 with `Allow`.
#[test]
fn options_is_answered() {
    let server = Server::start(&[]);
    for target in ["*", "/", "/any/path"] {
        let (head, body) = split(&server.exchange(format!("OPTIONS {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes()));
        assert!(head.starts_with("HTTP/1.1 204 No Content\r\nDate: "), "{target}: {head}");
        assert!(head.ends_with("\r\nAllow: GET, HEAD, OPTIONS\r\nConnection: close"), "{target}: {head}");
        assert!(!head.contains("Content-Length") && body.is_empty(), "{target}: {head}");
    }
}
