//! client3: the article's test client, and a load generator for benchmarks.
//!
//! This is a tool, not a server: it uses std (threads, `std::net`, allocation).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const HELP: &str = "\
Usage: client3 [--host HOST] [--port PORT] [--max-clients N] [--max-conns M]
       client3 [--host HOST] [--port PORT] --requests N [--concurrency C] [--timeout SECS]

The article's test client (client3.py), and a load generator.

Article mode (the default): forks N client processes; each opens M connections,
sends the article's request on each and prints the connection's number, keeps them
all open until the last is open, then exits. The article's code calls os._exit()
inside its loop, so each of its clients opened only one connection whatever
--max-conns said; this client opens all M. M defaults to 1, which is what the
article's runs did; its --max-conns default of 1024 was never reached.

Load mode (--requests): C threads make N requests in all, one connection per
request, each read to the end. Prints responses/s, latency percentiles, and the
errors by kind: refused, reset, timeout, short (incomplete or not a 200 with
'Hello, World!'). Exits 1 if any request failed.

Options:
  --host HOST         server host (default: localhost)
  --port PORT         server port (default: 8888)
  --max-clients N     article mode: client processes (default: 1)
  --max-conns M       article mode: connections per client (default: 1)
  --requests N        load mode: requests in all
  --concurrency C     load mode: requests at once (default: 1)
  --timeout SECS      load mode: per request, connect to last byte (default: 10)
  -h, --help          print this help
";

/// The article's REQUEST, byte for byte.
const ARTICLE_REQUEST: &[u8] = b"GET /hello HTTP/1.1\nHost: localhost:8888\n\n";

struct Options {
    host: String,
    port: u16,
    max_clients: usize,
    max_conns: usize,
    requests: Option<usize>,
    concurrency: usize,
    timeout: Duration,
}

fn main() {
    let o = parse(std::env::args().skip(1)).unwrap_or_else(|e| {
        eprintln!("client3: {e} (see client3 --help)");
        exit(2)
    });
    let addr = match (o.host.as_str(), o.port).to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(addr)) => addr,
        _ => {
            eprintln!("client3: cannot resolve host '{}'", o.host);
            exit(2)
        }
    };
    let ok = match o.requests {
        Some(requests) => load(addr, requests, o.concurrency, o.timeout, &o.host),
        None => article(addr, o.max_clients, o.max_conns),
    };
    exit(if ok { 0 } else { 1 })
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        host: "localhost".into(),
        port: 8888,
        max_clients: 1,
        max_conns: 1,
        requests: None,
        concurrency: 1,
        timeout: Duration::from_secs(10),
    };
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            print!("{HELP}");
            exit(0);
        }
        let value = inline.or_else(|| args.next()).ok_or(format!("option needs a value: '{name}'"))?;
        let number = |min: usize| match value.parse::<usize>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(format!("invalid {name} '{value}': expected a whole number from {min}")),
        };
        match name.as_str() {
            "--host" => o.host = value.clone(),
            "--port" => o.port = value.parse().map_err(|_| format!("invalid port '{value}': expected 0 to 65535"))?,
            "--max-clients" => o.max_clients = number(1)?,
            "--max-conns" => o.max_conns = number(1)?,
            "--requests" => o.requests = Some(number(1)?),
            "--concurrency" => o.concurrency = number(1)?,
            "--timeout" => o.timeout = Duration::from_secs(number(1)? as u64),
            _ => return Err(format!("unknown option '{name}'")),
        }
    }
    Ok(o)
}

/// The article's `main(max_clients, max_conns)`, with its early exit fixed.
fn article(addr: SocketAddr, max_clients: usize, max_conns: usize) -> bool {
    for client_num in 0..max_clients {
        // SAFETY: this process has one thread, so the child starts with consistent
        // memory; it only makes connections, prints and exits.
        match unsafe { rustix::runtime::kernel_fork() } {
            Ok(rustix::runtime::Fork::Child(_)) => exit(client(addr, client_num, max_conns)),
            Ok(rustix::runtime::Fork::ParentOf(_)) => {}
            Err(e) => {
                eprintln!("client3: fork: {e} after {client_num} clients");
                break;
            }
        }
    }
    let mut failed = 0;
    while let Ok(Some((_, status))) = rustix::process::wait(rustix::process::WaitOptions::empty()) {
        failed += usize::from(status.exit_status() != Some(0));
    }
    if failed > 0 {
        eprintln!("client3: {failed} of {max_clients} clients failed");
    }
    failed == 0
}

/// One client process: opens `max_conns` connections, keeping all of them open until the
/// last is open. Returns the exit status.
fn client(addr: SocketAddr, client_num: usize, max_conns: usize) -> i32 {
    let mut socks = Vec::with_capacity(max_conns);
    for connection_num in 0..max_conns {
        let sock = TcpStream::connect(addr).and_then(|mut s| s.write_all(ARTICLE_REQUEST).map(|()| s));
        match sock {
            Ok(sock) => socks.push(sock),
            Err(e) => {
                eprintln!("client {client_num}: connection {connection_num}: {e}");
                return 1;
            }
        }
        println!("{connection_num}");
    }
    0
}

/// What went wrong with one request.
#[derive(Clone, Copy)]
enum Failure {
    Refused,
    Reset,
    Timeout,
    Short,
}

fn load(addr: SocketAddr, requests: usize, concurrency: usize, timeout: Duration, host: &str) -> bool {
    // One request per connection, and the server is told so: it closes after answering.
    let request = Arc::new(format!("GET /hello HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\n\r\n", addr.port()).into_bytes());
    let left = Arc::new(AtomicUsize::new(requests));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency.min(requests))
        .map(|_| {
            let (request, left) = (request.clone(), left.clone());
            std::thread::spawn(move || {
                let (mut latencies, mut failures) = (Vec::new(), [0usize; 4]);
                while left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                    let t = Instant::now();
                    match one_request(addr, &request, timeout) {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(f) => failures[f as usize] += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let (mut latencies, mut failures) = (Vec::with_capacity(requests), [0usize; 4]);
    for w in workers {
        let (l, f) = w.join().expect("a load thread panicked");
        latencies.extend(l);
        failures.iter_mut().zip(f).for_each(|(total, n)| *total += n);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "requests {requests}, concurrency {concurrency}: {:.0} responses/s, {} ok in {elapsed:.2} s",
        latencies.len() as f64 / elapsed,
        latencies.len()
    );
    println!("latency ms: p50 {:.3}, p90 {:.3}, p99 {:.3}, max {:.3}", ms(0.5), ms(0.9), ms(0.99), ms(1.0));
    let [refused, reset, timeouts, short] = failures;
    println!("errors: refused {refused}, reset {reset}, timeout {timeouts}, short {short}");
    failures.iter().sum::<usize>() == 0
}

fn one_request(addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(failure)?;
    s.write_all(request).map_err(failure)?;
    let mut response = Vec::with_capacity(256);
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now()).ok_or(Failure::Timeout)?;
        s.set_read_timeout(Some(left)).map_err(failure)?;
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(failure(e)),
        }
    }
    let complete = response.starts_with(b"HTTP/1.1 200 ") && response.ends_with(b"Hello, World!\n");
    if complete { Ok(()) } else { Err(Failure::Short) }
}

fn failure(e: std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::Timeout,
        _ => Failure::Reset,
    }
}
