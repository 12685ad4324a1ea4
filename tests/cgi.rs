//! webserver3h, the article's exercise: a WSGI application (Python's wsgiref, run as a
//! CGI/1.1 program) and a shell script behind the concurrent server, over real TCP.
//! The application is tests/cgi-bin/app.py; each route is one behaviour.

mod common;
use common::{Server, bin, children, split, wait_for};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// webserver3h on a free port, running `program` (relative to the checkout) with `args`
/// after `--`, and `options` before it.
fn gateway(options: &[&str], program: &str, args: &[&str]) -> Server {
    Server::spawn(gateway_command(options, program, args))
}

fn gateway_command(options: &[&str], program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("webserver3h"));
    cmd.current_dir(root()).args(["--port", "0"]).args(options).arg("--").arg(program).args(args);
    // The scripts say `#!/usr/bin/env python3`, and the server passes its PATH on: put
    // the interpreter itself first, so that no wrapper (pyenv's shims are shell scripts)
    // runs before each request's Python. Loaded machines start ten Pythons slowly enough.
    cmd.env("PATH", std::env::join_paths([python_dir()].into_iter().chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap());
    cmd
}

/// The directory of the real `python3` (after any wrapper).
fn python_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let script = "import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))";
        let out = Command::new("python3").args(["-c", script]).output().expect("the tests need python3");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

fn app(options: &[&str]) -> Server {
    gateway(options, "tests/cgi-bin/app.py", &[])
}

/// A GET that asks to close: a static answer would otherwise keep the connection.
fn get(server: &Server, target: &str, headers: &str) -> (String, Vec<u8>) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n{headers}\r\n", server.port);
    split(&server.exchange_open(request.as_bytes()))
}

/// The environment the application saw, as `NAME=value` lines.
fn env_of(body: &[u8]) -> Vec<String> {
    String::from_utf8(body.to_vec()).unwrap().lines().map(String::from).collect()
}

/// A fresh directory for the files a test and its scripts share.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("forkhttpd-cgi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits for a script to write its pid into `file`.
fn pid_in(file: &Path) -> u32 {
    wait_for(Duration::from_secs(10), || std::fs::read_to_string(file).is_ok_and(|s| s.parse::<u32>().is_ok()));
    std::fs::read_to_string(file).unwrap().parse().unwrap()
}

/// Gone from /proc: exited and reaped.
fn gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `pid` still runs: a zombie (reparented to a PID 1 that has not reaped it yet)
/// does not.
fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X']))
}

#[test]
fn parts_2_hello_app_through_wsgiref() {
    let server = gateway(&[], "examples/site/cgi-bin/hello.py", &[]);
    let (head, body) = get(&server, "/hello", "");
    assert_eq!(body, b"Hello world from a simple WSGI application!\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{head}");
    assert!(head.contains("\r\nContent-Type: text/plain\r\n") && head.contains("\r\nContent-Length: 44\r\n"), "{head}");
    assert!(head.ends_with("\r\nConnection: close"), "{head}");
    // HEAD: the same head, no body.
    let response = server.exchange_open(format!("HEAD /hello HTTP/1.1\r\nHost: localhost:{}\r\n\r\n", server.port).as_bytes());
    let (head_only, rest) = split(&response);
    assert!(rest.is_empty() && head_only.contains("\r\nContent-Length: 44\r\n"), "{head_only}");
    // The child prints the request it serves, as 3g does.
    wait_for(Duration::from_secs(5), || server.log().iter().any(|l| l == "HEAD /hello HTTP/1.1"));
    assert!(server.events().is_empty(), "{:?}", server.events());
}

#[test]
fn the_environment() {
    let mut cmd = gateway_command(&[], "tests/cgi-bin/app.py", &["one", "two words"]);
    cmd.env("FORKHTTPD_TEST", "passed on").env("HTTP_PROXY", "http://server-side-proxy:3128").env("REMOTE_USER", "root");
    let server = Server::spawn(cmd);
    let (head, body) = get(&server, "/env/a%20b/%C3%A9?x=1&y=%20&z", "X-Custom-Header: yes\r\nProxy: http://evil.example:1/\r\nAccept: a\r\nAccept: b\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let env = env_of(&body);
    let port = server.port.to_string();
    for expected in [
        "GATEWAY_INTERFACE=CGI/1.1",
        &format!("SERVER_SOFTWARE=forkhttpd/{}", env!("CARGO_PKG_VERSION")),
        "SERVER_NAME=localhost",
        &format!("SERVER_PORT={port}"),
        "SERVER_PROTOCOL=HTTP/1.1",
        "REQUEST_METHOD=GET",
        "SCRIPT_NAME=",
        "PATH_INFO=/env/a b/é",
        "QUERY_STRING=x=1&y=%20&z",
        "REMOTE_ADDR=127.0.0.1",
        "HTTP_X_CUSTOM_HEADER=yes",
        "HTTP_ACCEPT=a, b",
        &format!("HTTP_HOST=localhost:{port}"),
        "FORKHTTPD_TEST=passed on",
        &format!("CWD={}", root().join("tests/cgi-bin").canonicalize().unwrap().display()),
        "ARGV=['one', 'two words']",
    ] {
        assert!(env.iter().any(|l| l == expected), "{expected} missing in {env:#?}");
    }
    assert!(env.iter().any(|l| l.starts_with("REMOTE_PORT=")), "{env:#?}");
    // httpoxy: neither the client nor the server's environment sets HTTP_PROXY; and
    // nobody was authenticated.
    for absent in ["HTTP_PROXY=", "REMOTE_USER=", "PATH_TRANSLATED=", "CONTENT_LENGTH=", "CONTENT_TYPE="] {
        assert!(!env.iter().any(|l| l.starts_with(absent)), "{absent} in {env:#?}");
    }

    // HTTP/1.0 without Host: SERVER_NAME is the address the client reached.
    let (_, body) = split(&server.exchange_open(b"GET /env HTTP/1.0\r\n\r\n"));
    let env = env_of(&body);
    assert!(env.iter().any(|l| l == "SERVER_NAME=127.0.0.1") && env.iter().any(|l| l == "SERVER_PROTOCOL=HTTP/1.0"), "{env:#?}");
}

#[test]
fn a_100_kib_post_with_every_byte_value_comes_back() {
    let server = app(&[]);
    let body: Vec<u8> = (0..100 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!((0..=255u8).all(|b| body.contains(&b)));
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let (head, echoed) = split(&server.exchange_open(&request));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())), "{head}");
    assert!(echoed == body, "{} bytes back, {} sent", echoed.len(), body.len());
}

#[test]
fn status_location_and_repeated_headers_pass_through() {
    let server = app(&[]);
    let (head, body) = get(&server, "/redirect", "");
    assert!(head.starts_with("HTTP/1.1 301 Moved Permanently\r\n"), "{head}");
    assert!(head.contains("\r\nLocation: http://example.com/elsewhere\r\n") && body.is_empty(), "{head}");
    let (head, body) = get(&server, "/teapot", "");
    assert!(head.starts_with("HTTP/1.1 418 I'm a teapot\r\n") && body == b"short and stout\n", "{head}");
    let (head, _) = get(&server, "/cookies", "");
    assert!(head.contains("\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\n"), "{head}");
    let (head, _) = get(&server, "/nowhere", "");
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
}

#[test]
fn five_mib_of_output_end_with_the_close() {
    let server = app(&[]);
    let (head, body) = get(&server, "/big", "");
    assert!(!head.contains("Content-Length"), "the app gave none: {head}");
    assert!(head.ends_with("\r\nConnection: close"), "{head}");
    assert_eq!(body.len(), 5 * 1024 * 1024);
    assert!(body.chunks(256).all(|c| c.iter().enumerate().all(|(i, &b)| b == i as u8)), "the bytes as written");
}

#[test]
fn a_shell_script() {
    let server = gateway(&[], "tests/cgi-bin/hello.sh", &[]);
    let (head, body) = get(&server, "/some/where?q=1", "");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Type: text/plain\r\n"), "{head}");
    assert_eq!(String::from_utf8(body).unwrap(), "Hello from sh: GET /some/where?q=1\n");
}

/// The article's lesson, for applications: each request has a process of its own, so
/// ten requests to an application that takes a second are answered in about a second.
#[test]
fn ten_slow_requests_are_served_at_once_by_ten_processes() {
    let server = app(&[]);
    let port = server.port;
    let start = Instant::now();
    let clients: Vec<_> = (0..10)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.write_all(b"GET /sleep HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).unwrap();
                (split(&got), start.elapsed())
            })
        })
        .collect();
    let mut pids = Vec::new();
    for client in clients {
        let ((head, body), took) = client.join().unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(took < Duration::from_secs(3), "a response after {took:?}");
        pids.push(String::from_utf8(body).unwrap());
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 10, "ten processes: {pids:?}");
    // Children and scripts all reaped.
    wait_for(Duration::from_secs(10), || children(server.pid()).is_empty());
}

#[test]
fn a_script_that_dies_before_its_header_block_is_a_502() {
    let server = app(&[]);
    let (head, body) = get(&server, "/crash", "");
    assert!(head.starts_with("HTTP/1.1 502 Bad Gateway\r\n") && body == b"502 Bad Gateway\n", "{head}");
    server.wait_event("tests/cgi-bin/app.py: killed by SIGSEGV before a complete header block: 502");
    let (head, _) = get(&server, "/exit", "");
    assert!(head.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{head}");
    server.wait_event("tests/cgi-bin/app.py: exited with status 3 before a complete header block: 502");
}

#[test]
fn a_hanging_script_is_a_504_within_the_timeout_and_is_killed() {
    let server = app(&["--timeout", "2"]);
    let dir = temp_dir("hang");
    let pidfile = dir.join("pid");
    let start = Instant::now();
    let (head, _) = get(&server, &format!("/hang?pidfile={}", pidfile.display()), "");
    let took = start.elapsed();
    assert!(head.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"), "{head}");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(4), "504 after {took:?}");
    let pid = pid_in(&pidfile);
    wait_for(Duration::from_secs(2), || gone(pid));
    server.wait_event("tests/cgi-bin/app.py: no header block within 2 s: killed, 504");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_client_that_leaves_mid_request_takes_the_script_with_it() {
    let server = app(&[]);
    let dir = temp_dir("leave");
    let pidfile = dir.join("pid");
    let mut s = server.connect();
    let head = format!("POST /wait-body?pidfile={} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n", pidfile.display());
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&[b'x'; 10]).unwrap();
    let pid = pid_in(&pidfile);
    assert!(alive(pid), "the script waits for the rest of its body");
    drop(s);
    wait_for(Duration::from_secs(5), || gone(pid));
    server.wait_event("tests/cgi-bin/app.py: the client went away: killed");
    std::fs::remove_dir_all(dir).unwrap();
}

/// forkhttpd SIGKILLs children its grace period has run out on: their scripts must not
/// run on as orphans (`PR_SET_PDEATHSIG`).
#[test]
fn a_script_dies_with_a_killed_child() {
    let server = app(&[]);
    let dir = temp_dir("orphan");
    let pidfile = dir.join("pid");
    let mut s = server.connect();
    s.write_all(format!("GET /hang?pidfile={} HTTP/1.1\r\nHost: localhost\r\n\r\n", pidfile.display()).as_bytes()).unwrap();
    let script = pid_in(&pidfile);
    let child = common::only_child(server.pid());
    common::kill(child, common::Signal::KILL);
    wait_for(Duration::from_secs(5), || !alive(script));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_client_that_sends_no_body_for_the_timeout_gets_408_and_the_script_is_killed() {
    let server = app(&["--timeout", "2"]);
    let dir = temp_dir("silent");
    let pidfile = dir.join("pid");
    let mut s = server.connect();
    let start = Instant::now();
    let head = format!("POST /wait-body?pidfile={} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n", pidfile.display());
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&[b'x'; 10]).unwrap();
    let pid = pid_in(&pidfile);
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let took = start.elapsed();
    assert!(split(&response).0.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{:?}", String::from_utf8_lossy(&response));
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(4), "408 after {took:?}");
    wait_for(Duration::from_secs(2), || gone(pid));
    server.wait_event("tests/cgi-bin/app.py: request body still incomplete after 2 s: killed, 408");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A client that stops reading: the send times out (`SO_SNDTIMEO`, `--timeout`), and the
/// child ends the script and itself.
#[test]
fn a_client_that_stops_reading_does_not_hold_the_script() {
    let server = app(&["--timeout", "2"]);
    let mut s = server.connect();
    // More than the socket buffers on both sides can hold (Linux lets them grow to a few MiB).
    s.write_all(b"GET /big?mib=256 HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    server.wait_event("tests/cgi-bin/app.py: the client took nothing for 2 s: killed");
    // The child is gone, and it goes only after the script is killed and reaped.
    wait_for(Duration::from_secs(5), || children(server.pid()).is_empty());
    drop(s);
}

#[test]
fn requests_the_gateway_refuses() {
    // A transfer coding other than chunked (RFC 9112 §6.1).
    let server = app(&[]);
    let response = server.exchange_open(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    assert!(split(&response).0.starts_with("HTTP/1.1 501 Not Implemented\r\n"));
    let response = server.exchange_open(b"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(split(&response).0.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    drop(server);

    // An environment that does not fit in the fixed region.
    let mut cmd = gateway_command(&[], "tests/cgi-bin/app.py", &[]);
    cmd.env("BIG", "x".repeat(33 * 1024));
    let server = Server::spawn(cmd);
    let (head, _) = get(&server, "/hello", "");
    assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
    server.wait_event("tests/cgi-bin/app.py: the request's environment does not fit in 32 KiB: 431");
}

#[test]
fn the_program_is_checked_at_start_up() {
    let dir = temp_dir("start");
    let plain = dir.join("plain.py");
    std::fs::write(&plain, "print('hi')\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(bin("webserver3h")).args(["--port", "0"]).args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let missing = dir.join("missing.py");
    let cases = [
        (vec!["--", missing.to_str().unwrap()], format!("webserver3h: cannot run '{}': no such file or directory (ENOENT)\n", missing.display())),
        (vec!["--", plain.to_str().unwrap()], format!("webserver3h: cannot run '{}': not executable (chmod +x it)\n", plain.display())),
        (vec!["--", dir.to_str().unwrap()], format!("webserver3h: cannot run '{}': not a regular file\n", dir.display())),
        (vec!["--"], "webserver3h: expected PROGRAM [ARGS...] after '--' (see webserver3h --help)\n".into()),
        (vec![], "webserver3h: expected PROGRAM [ARGS...] after '--' (see webserver3h --help)\n".into()),
        (vec!["--timeout", "0", "--", "x"], "webserver3h: invalid timeout '0': expected whole seconds from 1 to 86400 (see webserver3h --help)\n".into()),
    ];
    for (args, message) in cases {
        assert_eq!(run(&args), (Some(2), message), "{args:?}");
    }
    let help = Command::new(bin("webserver3h")).arg("--help").output().unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(help.status.success() && text.starts_with("Usage: webserver3h [--port PORT] [--timeout SECONDS] -- PROGRAM [ARGS...]\n"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

// forkhttpd --cgi PREFIX DIR: the same library behind the file server.

/// A site: static files, the test app as an executable script, a script that is not
/// executable, a directory under the prefix, a symlink from the static side to the app,
/// and a secret beside DIR.
fn site_tree() -> common::TempDir {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let tree = common::TempDir::new("cgi-site");
    let www = tree.path().join("www");
    std::fs::create_dir_all(www.join("cgi-bin/sub")).unwrap();
    std::fs::create_dir_all(www.join("static")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>static</h1>\n").unwrap();
    std::fs::write(tree.path().join("secret.txt"), "SECRET-OUTSIDE\n").unwrap();
    std::fs::copy(root().join("tests/cgi-bin/app.py"), www.join("cgi-bin/app.py")).unwrap();
    std::fs::set_permissions(www.join("cgi-bin/app.py"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(www.join("cgi-bin/source.py"), "print('SECRET-SOURCE')\n").unwrap();
    std::fs::set_permissions(www.join("cgi-bin/source.py"), std::fs::Permissions::from_mode(0o644)).unwrap();
    symlink("../cgi-bin/app.py", www.join("static/link.py")).unwrap();
    std::fs::hard_link(www.join("cgi-bin/app.py"), www.join("static/hard.py")).unwrap();
    tree
}

/// forkhttpd `--cgi /cgi-bin/` serving `dir`, its PATH with the real python3 first.
fn forkhttpd_cgi(dir: &Path, options: &[&str]) -> Server {
    Server::spawn(forkhttpd_cgi_command(dir, options))
}

fn forkhttpd_cgi_command(dir: &Path, options: &[&str]) -> Command {
    let mut cmd = Command::new(bin("forkhttpd"));
    cmd.args(["--port", "0", "--bind", "127.0.0.1", "--cgi", "/cgi-bin/"]).args(options).arg(dir);
    cmd.env("PATH", std::env::join_paths([python_dir()].into_iter().chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap());
    cmd
}

/// An executable script at `path`.
fn script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn forkhttpd_runs_scripts_beside_static_files() {
    let tree = site_tree();
    let www = tree.path().join("www");
    let server = forkhttpd_cgi(&www, &[]);
    let (head, body) = get(&server, "/cgi-bin/app.py/hello", "");
    assert_eq!(body, b"Hello world from a simple WSGI application!\n", "{head}");
    assert!(head.ends_with("\r\nConnection: close"), "{head}");
    let (_, body) = get(&server, "/index.html", "");
    assert_eq!(body, b"<h1>static</h1>\n");

    let (_, body) = get(&server, "/cgi-bin/app.py/env/x%20y?q=%20&r", "");
    let env = env_of(&body);
    let port = server.port.to_string();
    for expected in [
        "SCRIPT_NAME=/cgi-bin/app.py",
        "PATH_INFO=/env/x y",
        "QUERY_STRING=q=%20&r",
        &format!("SERVER_PORT={port}"),
        &format!("PATH_TRANSLATED={}/env/x y", www.display()),
        &format!("CWD={}", www.join("cgi-bin").canonicalize().unwrap().display()),
        "ARGV=[]",
    ] {
        assert!(env.iter().any(|l| l == expected), "{expected} missing in {env:#?}");
    }

    // Any method is the script's; a static file takes GET and HEAD only.
    let post = |target: &str| {
        let request = format!("POST {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
        split(&server.exchange_open(request.as_bytes()))
    };
    let (head, body) = post("/cgi-bin/app.py/echo");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body == b"hello", "{head}");
    let (head, _) = post("/index.html");
    assert!(head.starts_with("HTTP/1.1 405 ") && head.contains("\r\nAllow: GET, HEAD, OPTIONS\r\n"), "{head}");
    let log = server.wait_log(5);
    assert!(log.iter().any(|l| l.contains("\"GET /cgi-bin/app.py/hello HTTP/1.1\" 200 44 pid=")), "{log:#?}");
}

#[test]
fn no_script_source_ever_leaves() {
    let tree = site_tree();
    let www = tree.path().join("www");
    let app_source = std::fs::read_to_string(root().join("tests/cgi-bin/app.py")).unwrap();
    let server = forkhttpd_cgi(&www, &["--list"]);
    for (target, code) in [
        ("/cgi-bin/source.py", 403),
        ("/cgi-bin//source.py", 403),
        ("//cgi-bin/source.py", 403),
        ("/static/../cgi-bin/source.py", 403),
        ("/cgi-bin/%73ource.py", 403),
        ("/cgi-bin/sub", 403),
        ("/cgi-bin/", 404),
        ("/cgi-bin/missing.py", 404),
        ("/static/link.py", 403),
        ("/static/hard.py", 403),
        ("/cgi-bin/../../secret.txt", 404),
        ("/cgi-bin/%2e%2e/%2e%2e/secret.txt", 404),
        ("/cgi-bin/..%2f..%2fsecret.txt", 404),
        ("/cgi-bin/app.py/../../secret.txt", 404),
    ] {
        for method in ["GET", "HEAD"] {
            let raw = server.exchange_open(format!("{method} {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes());
            let text = String::from_utf8_lossy(&raw);
            assert!(text.starts_with(&format!("HTTP/1.1 {code} ")), "{method} {target}: {text}");
            for secret in ["SECRET-SOURCE", "CGIHandler", "SECRET-OUTSIDE"] {
                assert!(!text.contains(secret), "{method} {target} leaked {secret}");
            }
        }
    }
    assert!(!app_source.is_empty());
    // The listing of the static side still names them; they just cannot be fetched.
    let (_, listing) = get(&server, "/static/", "");
    assert!(String::from_utf8_lossy(&listing).contains("link.py"));
    // Each written before its response was; read by the test's own thread, perhaps later.
    assert_eq!(server.wait_event("source.py"), "forkhttpd: source.py: not executable (chmod +x it): 403");
    assert_eq!(server.wait_event("missing.py"), "forkhttpd: missing.py: cannot open: no such file or directory (ENOENT): 404");
}

#[test]
fn a_kept_alive_connection_ends_with_its_script() {
    let tree = site_tree();
    let server = forkhttpd_cgi(&tree.path().join("www"), &[]);
    let mut s = server.connect();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /cgi-bin/app.py/hello HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.contains("<h1>static</h1>\n"), "{text}");
    assert!(text.ends_with("Hello world from a simple WSGI application!\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
}

#[test]
fn the_example_site() {
    let server = forkhttpd_cgi(&root().join("examples/site"), &[]);
    let url = format!("http://127.0.0.1:{}", server.port);
    let out = Command::new("curl").args(["-sS", &format!("{url}/cgi-bin/hello.py")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello world from a simple WSGI application!\n");
    let out = Command::new("curl").args(["-sS", &format!("{url}/")]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("/cgi-bin/hello.py"));
    let out = Command::new("curl").args(["-sS", &format!("{url}/cgi-bin/hello.sh")]).output().unwrap();
    assert!(out.status.success() && !out.stdout.is_empty(), "{out:?}");
}

// What the trust review found (issue 15): each test failed before its fix.

/// A CGI program starts with descriptors 0, 1 and 2 and no other: not the listening
/// socket (under --workers a script that found it could accept the next client's
/// connection), not the script's own descriptor, not what the server's launcher left open
/// without close-on-exec.
#[test]
fn a_script_starts_with_exactly_stdin_stdout_and_stderr() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let tree = site_tree();
    let www = tree.path().join("www");
    let leaked = std::fs::File::open(root().join("Cargo.toml")).unwrap();
    let fd = leaked.as_raw_fd();
    for mode in [&[][..], &["-w", "2"], &["-w", "1", "--keep-alive", "0"]] {
        let mut cmd = forkhttpd_cgi_command(&www, mode);
        // SAFETY: between fork and exec, one fcntl on a descriptor this process owns.
        unsafe {
            cmd.pre_exec(move || {
                let fd = rustix::fd::BorrowedFd::borrow_raw(fd);
                rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty()).map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))
            });
        }
        let server = Server::spawn(cmd);
        for _ in 0..2 {
            let (head, body) = get(&server, "/cgi-bin/app.py/fds", "");
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
            let fds = String::from_utf8(body).unwrap();
            let numbers: Vec<&str> = fds.lines().map(|l| l.split('=').next().unwrap()).collect();
            assert_eq!(numbers, ["0", "1", "2"], "{mode:?}: the script started with\n{fds}");
            assert!(fds.lines().nth(1).unwrap().starts_with("1=pipe:"), "{fds}");
        }
    }
    drop(leaked);
}

/// A script that double-forks a daemon (setsid: out of its process group) does not leave
/// it running: not after the response, and not when the grace period kills the request.
#[test]
fn a_daemon_a_script_starts_is_killed_with_it() {
    let tree = site_tree();
    let www = tree.path().join("www");
    let server = forkhttpd_cgi(&www, &[]);
    let pidfile = tree.path().join("daemon.pid");
    let (head, body) = get(&server, &format!("/cgi-bin/app.py/daemon?pidfile={}", pidfile.display()), "");
    assert_eq!(body, b"daemon started\n", "{head}");
    let daemon = pid_in(&pidfile);
    wait_for(Duration::from_secs(5), || !alive(daemon));

    // A request still running at the stop: the grace period SIGKILLs the connection's
    // child, and the daemon, adopted by the server, goes too.
    let mut server = forkhttpd_cgi(&www, &["--grace", "1"]);
    let pidfile = tree.path().join("daemon2.pid");
    let mut s = server.connect();
    s.write_all(format!("GET /cgi-bin/app.py/daemon?pidfile={}&hang HTTP/1.1\r\nHost: a\r\n\r\n", pidfile.display()).as_bytes()).unwrap();
    let daemon = pid_in(&pidfile);
    assert!(alive(daemon));
    server.signal(common::Signal::TERM);
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0));
    wait_for(Duration::from_secs(2), || !alive(daemon));
}

/// A script finds itself: its path names it (`$0`, `sys.argv[0]`, `__file__`), so the
/// files beside it are found; SCRIPT_FILENAME and PATH_TRANSLATED are absolute (here with
/// a relative DIR); REDIRECT_STATUS is 200, as Apache and lighttpd pass it.
#[test]
fn a_script_finds_itself_and_the_files_beside_it() {
    let tree = site_tree();
    let www = tree.path().join("www");
    std::fs::write(www.join("cgi-bin/beside.txt"), "next to the script\n").unwrap();
    script(&www.join("cgi-bin/self.sh"), "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\ncd \"$(dirname \"$0\")\" && cat beside.txt\n");
    let mut cmd = forkhttpd_cgi_command(Path::new("www"), &[]);
    cmd.current_dir(tree.path());
    let server = Server::spawn(cmd);
    let cgi_bin = www.join("cgi-bin").canonicalize().unwrap();

    let (head, body) = get(&server, "/cgi-bin/app.py/self", "");
    let lines = env_of(&body);
    assert!(lines.contains(&"BESIDE=next to the script".to_string()), "{head}\n{lines:#?}");
    assert!(lines.contains(&format!("HERE={}", cgi_bin.display())), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("/dev/fd/") || l.contains("/proc/")), "{lines:#?}");

    let (_, body) = get(&server, "/cgi-bin/self.sh", "");
    assert_eq!(body, b"next to the script\n");

    let (_, body) = get(&server, "/cgi-bin/app.py/env/x", "");
    let env = env_of(&body);
    let abs = tree.path().canonicalize().unwrap().join("www");
    for expected in [
        format!("SCRIPT_FILENAME={}/cgi-bin/app.py", abs.display()),
        format!("PATH_TRANSLATED={}/env/x", abs.display()),
        "REDIRECT_STATUS=200".to_string(),
    ] {
        assert!(env.contains(&expected), "{expected} missing in {env:#?}");
    }
}

/// php-cgi, the most used CGI program, renders a page (it needs SCRIPT_FILENAME and
/// REDIRECT_STATUS; `make test` installs it).
#[test]
fn php_cgi_renders_a_page() {
    let php = Path::new("/usr/bin/php-cgi");
    assert!(php.exists(), "{} is missing: make test installs it (apt-get install php-cgi)", php.display());
    let tree = site_tree();
    let www = tree.path().join("www");
    script(&www.join("cgi-bin/hello.php"), "#!/usr/bin/php-cgi\n<?php header('X-Powered: php'); echo 'Hello from PHP, ', basename(__FILE__), ' in ', basename(__DIR__), \", q=\", $_GET['q'], \"\\n\"; ?>\n");
    let server = forkhttpd_cgi(&www, &[]);
    let (head, body) = get(&server, "/cgi-bin/hello.php?q=42", "");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nX-Powered: php\r\n"), "{head}\n{}", String::from_utf8_lossy(&body));
    assert_eq!(String::from_utf8_lossy(&body), "Hello from PHP, hello.php in cgi-bin, q=42\n");
}

/// A chunked request body (`curl -T -`, Go's and Python's clients for bodies of unknown
/// length) reaches the script whole, with its CONTENT_LENGTH; over --max-body it is 413.
#[test]
fn a_chunked_body_is_decoded_for_the_script() {
    let tree = site_tree();
    let server = forkhttpd_cgi(&tree.path().join("www"), &["--max-body", "100000"]);
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let url = format!("http://127.0.0.1:{}/cgi-bin/app.py/echo", server.port);
    let mut curl = Command::new("curl")
        .args(["-sS", "-T", "-", "-o", "-", "-w", "\n%{http_code}", &url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    curl.stdin.take().unwrap().write_all(&data).unwrap();
    let out = curl.wait_with_output().unwrap();
    assert!(out.stdout.ends_with(b"\n200"), "{:?}", String::from_utf8_lossy(&out.stdout[out.stdout.len().saturating_sub(200)..]));
    assert!(out.stdout[..out.stdout.len() - 4] == data[..], "the body came back changed ({} bytes)", out.stdout.len() - 4);

    // By hand: chunk extensions and a trailer; then too much, and a malformed size.
    let raw = b"POST /cgi-bin/app.py/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    let (head, body) = split(&server.exchange_open(raw));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"hello world");
    let raw = b"POST /cgi-bin/app.py/env HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n";
    let env = env_of(&split(&server.exchange_open(raw)).1);
    assert!(env.contains(&"CONTENT_LENGTH=11".to_string()), "{env:#?}");
    assert!(!env.iter().any(|l| l.starts_with("HTTP_TRANSFER_ENCODING")), "the script sees a plain body: {env:#?}");
    let mut big = b"POST /cgi-bin/app.py/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..30 {
        big.extend_from_slice(b"1000\r\n");
        big.extend_from_slice(&[b'x'; 0x1000]);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"0\r\n\r\n");
    let (head, _) = split(&server.exchange_open(&big));
    assert!(head.starts_with("HTTP/1.1 413 Content Too Large\r\n"), "{head}");
    let bad = b"POST /cgi-bin/app.py/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    let (head, _) = split(&server.exchange_open(bad));
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
}

/// A script's long `Status:` line: the head goes out whole, `Date` and its end included.
#[test]
fn a_long_status_line_is_sent_whole() {
    let tree = site_tree();
    let www = tree.path().join("www");
    let reason = "x".repeat(1100);
    script(&www.join("cgi-bin/status.sh"), &format!("#!/bin/sh\nprintf 'Status: 299 {reason}\\nContent-Type: text/plain\\n\\nbody\\n'\n"));
    let server = forkhttpd_cgi(&www, &[]);
    let (head, body) = get(&server, "/cgi-bin/status.sh", "");
    assert!(head.starts_with(&format!("HTTP/1.1 299 {reason}\r\nDate: ")), "{head}");
    assert!(head.contains("\r\nContent-Type: text/plain\r\n") && head.ends_with("\r\nConnection: close"), "{head}");
    assert_eq!(body, b"body\n");
}

/// Request bytes in an event line are escaped: a decoded script name with a newline and
/// an ANSI escape cannot forge a line or colour the operator's terminal.
#[test]
fn a_script_name_cannot_forge_an_event_line() {
    let tree = site_tree();
    let server = forkhttpd_cgi(&tree.path().join("www"), &[]);
    let (head, _) = get(&server, "/cgi-bin/x%0aforkhttpd:%20child%201%20killed%20by%20signal%209%20(SIGKILL)%1b[31m%0d", "");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let event = server.wait_event("cannot open");
    assert_eq!(event, r"forkhttpd: x\x0aforkhttpd: child 1 killed by signal 9 (SIGKILL)\x1b[31m\x0d: cannot open: no such file or directory (ENOENT): 404");
    std::thread::sleep(Duration::from_millis(200));
    // That line, and start-up's saying that --cgi runs without a sandbox.
    let events = server.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(events[0].starts_with("forkhttpd: --cgi: no sandbox: "), "{events:#?}");
}

/// With --cgi, a `.gz` twin with an execute bit is a program's bytes: never sent, not even
/// for its sibling's name.
#[test]
fn an_executable_gz_twin_is_not_served() {
    let tree = site_tree();
    let www = tree.path().join("www");
    std::fs::write(www.join("tool.txt"), "plain text\n").unwrap();
    script(&www.join("tool.txt.gz"), "#!/bin/sh\necho SECRET-TWIN\n");
    let server = forkhttpd_cgi(&www, &[]);
    let (head, body) = get(&server, "/tool.txt", "Accept-Encoding: gzip\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && !head.contains("Content-Encoding"), "{head}");
    assert_eq!(body, b"plain text\n");
    let (head, _) = get(&server, "/tool.txt.gz", "");
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
}
