//! Never freeze (issue 19): prefork keeps `--workers` spares ready and shrinks back; at
//! `--max-children` the oldest idle connection or slow head makes room, in both models;
//! `--max-per-client`; the scoreboard's `--status` page in both models. Timings here are
//! behaviours (answered within a second, not after a `--timeout`), not speed: `make
//! bench` measures that.

mod common;
use common::{Server, children, read_to_close, split, unshare, bin, wait_for};
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server's live children.
fn processes(server: &Server) -> usize {
    children(server.pid()).into_iter().filter(|&(_, s)| s != 'Z').count()
}

/// A connection that made one request and keeps the connection open.
fn kept_alive(server: &Server) -> (TcpStream, BufReader<TcpStream>) {
    let mut s = server.connect();
    s.write_all(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    response(&mut r);
    (s, r)
}

/// Reads one response (head and `Content-Length` body); its status line.
fn response(r: &mut BufReader<TcpStream>) -> String {
    common::response(r).0.lines().next().unwrap().to_string()
}

/// A new client's whole GET, and how long it took.
fn timed_get(server: &Server) -> (String, Duration) {
    let start = Instant::now();
    let (head, _) = split(&server.exchange_open(b"GET /new HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    (head.lines().next().unwrap().to_string(), start.elapsed())
}

/// Connections that send a head a line at a time, a line every 200 ms, never its end,
/// until `stop`.
fn slow_heads(server: &Server, n: usize, stop: Arc<AtomicBool>) -> Vec<TcpStream> {
    let conns: Vec<TcpStream> = (0..n).map(|_| server.connect()).collect();
    let mut writers: Vec<TcpStream> = conns.iter().map(|c| c.try_clone().unwrap()).collect();
    for w in &mut writers {
        w.write_all(b"GET /slow HTTP/1.1\r\n").unwrap();
    }
    std::thread::spawn(move || {
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
            i += 1;
            for w in &mut writers {
                let _ = w.write_all(format!("X-Slow-{i}: y\r\n").as_bytes());
            }
        }
    });
    conns
}

#[test]
fn spares_grow_for_idle_connections_and_shrink_back() {
    let server = Server::start(&["-w", "2", "-q", "--keep-alive", "60"]);
    wait_for(Duration::from_secs(5), || processes(&server) == 2);
    // Six clients keep their connections (a browser's), each holding a worker.
    let idle: Vec<_> = (0..6).map(|_| kept_alive(&server)).collect();
    let (status, took) = timed_get(&server);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(took < Duration::from_secs(1), "the new client waited {took:?}");
    // Six busy, two ready (or about to be): eight at least.
    wait_for(Duration::from_secs(5), || processes(&server) >= 8);
    drop(idle);
    // Idle 10 s with more than 2 idle: back to 2.
    let left = Instant::now();
    wait_for(Duration::from_secs(20), || processes(&server) == 2);
    assert!(left.elapsed() < Duration::from_secs(15), "{:?}", left.elapsed());
}

/// At the cap the oldest kept-alive connection closes for a new client, and only it, in
/// both models.
#[test]
fn at_the_cap_the_oldest_idle_connection_makes_room() {
    for args in [&["-c", "2"][..], &["-w", "1", "-c", "2"]] {
        let server = Server::start(&[args, &["-q", "--keep-alive", "60"]].concat());
        let mut first = kept_alive(&server);
        std::thread::sleep(Duration::from_millis(50));
        let (mut second_s, mut second_r) = kept_alive(&server);
        wait_for(Duration::from_secs(5), || processes(&server) == 2);
        let (status, took) = timed_get(&server);
        assert_eq!(status, "HTTP/1.1 200 OK", "{args:?}");
        assert!(took < Duration::from_secs(1), "{args:?}: the new client waited {took:?}");
        let mut rest = Vec::new();
        assert_eq!(first.1.read_to_end(&mut rest).expect("a FIN, not an RST"), 0, "{args:?}: the oldest closed");
        second_s.write_all(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(response(&mut second_r), "HTTP/1.1 200 OK", "{args:?}: the younger goes on");
        drop(first.0);
    }
}

/// Slow heads fill the cap (slowloris): a new client is answered at once, the oldest
/// slow heads having been told to give up with 408; in both models.
#[test]
fn slow_heads_at_the_cap_give_up_for_a_new_client() {
    for args in [&["-c", "20"][..], &["-w", "2", "-c", "20"]] {
        let server = Server::start(&[args, &["-q", "--timeout", "30"]].concat());
        let stop = Arc::new(AtomicBool::new(false));
        let mut slow = slow_heads(&server, 24, stop.clone());
        wait_for(Duration::from_secs(5), || processes(&server) == 20);
        // Old enough to count as slow (a second).
        std::thread::sleep(Duration::from_millis(1300));
        let (status, took) = timed_get(&server);
        stop.store(true, Ordering::SeqCst);
        assert_eq!(status, "HTTP/1.1 200 OK", "{args:?}");
        assert!(took < Duration::from_secs(1), "{args:?}: the new client waited {took:?}");
        // The oldest gave up, with 408 and a clean close.
        let got = read_to_close(&mut slow[0]).expect("a FIN, not an RST");
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{args:?}: {}", String::from_utf8_lossy(&got));
    }
}

/// A young head (under a second) is not told to give up: a client that is merely slow
/// to send its head whole is served, its response the connection's last.
#[test]
fn a_young_head_is_not_cut_at_the_cap() {
    let server = Server::start(&["-c", "1", "-q"]);
    let mut young = server.connect();
    young.write_all(b"GET /young HTTP/1.1\r\n").unwrap();
    wait_for(Duration::from_secs(5), || processes(&server) == 1);
    let waiting = std::thread::spawn({
        let port = server.port;
        move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /new HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
            split(&read_to_close(&mut s).unwrap()).0
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    young.write_all(b"Host: a\r\n\r\n").unwrap();
    let got = String::from_utf8(read_to_close(&mut young).unwrap()).unwrap();
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n") && got.contains("\r\nConnection: close\r\n"), "{got}");
    assert!(waiting.join().unwrap().starts_with("HTTP/1.1 200 OK"));
}

#[test]
fn max_per_client_in_both_models() {
    for args in [&["--max-per-client", "2"][..], &["-w", "2", "--max-per-client", "2"]] {
        let server = Server::start(&[args, &["-q", "--keep-alive", "60"]].concat());
        let held: Vec<_> = (0..2).map(|_| kept_alive(&server)).collect();
        let (head, body) = split(&server.exchange_open(b"GET /third HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n") && head.contains("\r\nRetry-After: 1\r\n"), "{args:?}: {head}");
        assert_eq!(body, b"503 Service Unavailable\n");
        drop(held);
        wait_for(Duration::from_secs(5), || split(&server.exchange_open(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).0.starts_with("HTTP/1.1 200"));
    }
}

/// The status page: a line per process in both models, the request bytes escaped; a
/// worker killed in mid-request is gone from it.
#[test]
fn the_status_page_shows_the_scoreboard() {
    for args in [&["--status", "/server-status"][..], &["-w", "2", "--status", "/server-status"]] {
        let server = Server::start(&[args, &["--keep-alive", "60"]].concat());
        // A kept-alive connection whose last request line has a quote, a backslash and
        // a byte that is not ASCII.
        let mut s = server.connect();
        s.write_all(b"GET /a\"b\\c\xff HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        response(&mut r);
        // (The worker marks itself kept alive just after its response: the page is read
        // until it says so.)
        let get = || split(&server.exchange_open(b"GET /server-status HTTP/1.1\r\nHost: a\r\n\r\n"));
        wait_for(Duration::from_secs(5), || String::from_utf8_lossy(&get().1).lines().any(|l| l.split_whitespace().nth(1) == Some("keepalive")));
        let (head, page) = get();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"), "{head}");
        assert!(head.contains("\r\nConnection: close"), "{head}");
        let page = String::from_utf8(page).expect("ASCII: every request byte escaped");
        let model = if args.contains(&"-w") { "prefork, 2 workers kept ready" } else { "a fork per connection" };
        assert!(page.starts_with(&format!("forkhttpd {}: {model}, at most 1024 processes\n", env!("CARGO_PKG_VERSION"))), "{page}");
        let processes_lines = || page.lines().skip_while(|l| !l.starts_with("PID ")).skip(1);
        let kept = processes_lines().find(|l| l.split_whitespace().nth(1) == Some("keepalive")).unwrap_or_else(|| panic!("{page}"));
        assert!(kept.ends_with(r#""GET /a\x22b\x5cc\xff HTTP/1.1""#) && kept.contains(" 127.0.0.1:"), "{kept}");
        assert!(processes_lines().any(|l| l.split_whitespace().nth(1) == Some("writing") && l.ends_with("\"GET /server-status HTTP/1.1\"")), "{page}");
        // A line per serving process (prefork: the spares too), each a child of the server.
        let pids: Vec<u32> = processes_lines().map(|l| l.split_whitespace().next().unwrap().parse().unwrap()).collect();
        let alive: Vec<u32> = children(server.pid()).into_iter().map(|(p, _)| p).collect();
        assert!(pids.len() >= 2 && pids.iter().filter(|p| !alive.contains(p)).count() <= 1, "a line per process: {page} {alive:?}");
        // HEAD: the head alone.
        let (head, body) = split(&server.exchange_open(b"HEAD /server-status HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.is_empty(), "{head}");
        drop((s, r));
    }
    // Prefork: a worker killed in mid-request leaves no line behind.
    let server = Server::start(&["-w", "1", "--status", "/s", "-q", "--timeout", "30"]);
    let mut slow = server.connect();
    slow.write_all(b"GET /slow HTTP/1.1\r\n").unwrap();
    // The processes' lines: after the column names.
    let lines = || {
        let page = String::from_utf8(split(&server.exchange_open(b"GET /s HTTP/1.1\r\nHost: a\r\n\r\n")).1).unwrap();
        page.lines().skip_while(|l| !l.starts_with("PID ")).skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    let reading = || {
        let reading = lines().into_iter().find(|l| l.split_whitespace().nth(1) == Some("reading"));
        reading.map(|l| l.split_whitespace().next().unwrap().parse::<u32>().unwrap())
    };
    wait_for(Duration::from_secs(5), || reading().is_some());
    let pid = reading().unwrap();
    common::kill(pid, common::Signal::KILL);
    wait_for(Duration::from_secs(5), || !lines().iter().any(|l| l.starts_with(&format!("{pid} "))));
    drop(slow);
}

/// Clients from another address get 404: the page shows clients and their requests.
/// (A network namespace of its own with a dummy interface: a client address that is
/// not loopback, on any machine.)
#[test]
fn the_status_page_is_for_loopback_clients_only() {
    let mut cmd = unshare();
    cmd.args(["--net", "--", "sh", "-c"]).arg(format!(
        "ip link set lo up && ip addr add 10.9.9.1/32 dev lo || exit 9; \
         {} -p 8080 -b 0.0.0.0 --status /server-status -q & server=$!; sleep 0.3; \
         curl -s -o /dev/null -w 'loopback=%{{http_code}}\\n' http://127.0.0.1:8080/server-status; \
         curl -s -o /dev/null -w 'other=%{{http_code}}\\n' --interface 10.9.9.1 http://10.9.9.1:8080/server-status; \
         kill $server; wait",
        bin("forkhttpd").display()
    ));
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("loopback=200\n") && stdout.contains("other=404\n"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
}
