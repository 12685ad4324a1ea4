//! Prefork, `--workers N`: the workers as processes, what serves, what replaces them,
//! how they stop.

mod common;
use common::{Server, Signal, TempDir, children, cpu_ticks, fd_count, kill, read_to_close, split, under_nproc, wait_for, zombies};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// x86_64's recvfrom: a worker waiting there has accepted a connection.
const RECVFROM: u32 = 45;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

/// The server's live children (zombies left out), sorted.
fn workers(server: &Server) -> Vec<u32> {
    let mut pids: Vec<u32> = children(server.pid()).into_iter().filter(|&(_, state)| state != 'Z').map(|(pid, _)| pid).collect();
    pids.sort();
    pids
}

/// Waits until the server has `n` live children and returns their pids.
fn wait_workers(server: &Server, n: usize) -> Vec<u32> {
    wait_for(Duration::from_secs(10), || workers(server).len() == n);
    workers(server)
}

/// The pids the access log names.
fn served_by(log: &[String]) -> HashSet<u32> {
    log.iter().map(|l| l.rsplit_once(" pid=").expect("a pid").1.parse().unwrap()).collect()
}

/// Sends half a request and returns the connection once a worker waits for the rest.
fn in_flight(server: &Server) -> TcpStream {
    let mut s = server.connect();
    s.write_all(b"GET /slow HTTP/1.1\r\n").unwrap();
    let in_recv = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok_and(|s| s.split_whitespace().next() == Some(&RECVFROM.to_string()))
    };
    wait_for(Duration::from_secs(10), || workers(server).into_iter().any(in_recv));
    s
}

/// N workers start and serve connections one after another: each takes a worker for
/// less than 10 ms, so the parent forks no spare for it; the same N serve them all, no
/// fork per connection, none exited.
#[test]
fn n_workers_start_and_serve_every_connection() {
    let server = Server::start(&["--workers", "3"]);
    let pids = wait_workers(&server, 3);
    for i in 0..30 {
        let (_, body) = split(&server.exchange(format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()));
        assert_eq!(body, b"Hello, World!\n");
    }
    let served = served_by(&server.wait_log(30));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(workers(&server), pids, "the same processes");
    assert!(served.iter().all(|pid| pids.contains(pid)), "served by {served:?}, workers {pids:?}");
    assert!(server.events().is_empty(), "{:?}", server.events());
}

#[test]
fn a_killed_worker_is_replaced() {
    let server = Server::start(&["-w", "2"]);
    let before = wait_workers(&server, 2);
    kill(before[0], Signal::KILL);
    server.wait_event(&format!("child {} killed by signal 9 (SIGKILL)", before[0]));
    wait_for(Duration::from_secs(10), || {
        let now = workers(&server);
        now.len() == 2 && !now.contains(&before[0])
    });
    let after = workers(&server);
    assert!(after.contains(&before[1]), "the other worker lives on: {before:?} {after:?}");
    for _ in 0..10 {
        assert_eq!(split(&server.exchange(GET)).1, b"Hello, World!\n");
    }
    let served = served_by(&server.wait_log(10));
    let now = workers(&server);
    assert!(served.iter().all(|pid| now.contains(pid)), "served by {served:?}, workers {now:?}");
    // One death is no episode.
    assert_eq!(server.events().len(), 1, "{:?}", server.events());
}

/// SIGTERM or SIGINT: the idle worker exits at once, the port closes, the connection in
/// flight is served to the end, then exit status 0.
#[test]
fn a_stop_lets_the_connection_in_flight_finish() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut server = Server::start(&["-w", "2"]);
        wait_workers(&server, 2);
        let mut slow = in_flight(&server);
        server.signal(signal);
        wait_for(Duration::from_secs(5), || workers(&server).len() == 1);
        wait_for(Duration::from_secs(5), || TcpStream::connect(("127.0.0.1", server.port)).is_err());
        std::thread::sleep(Duration::from_millis(300));
        assert!(server.child.try_wait().unwrap().is_none(), "{signal:?}: exited with a request in flight");
        slow.write_all(b"Host: a\r\n\r\n").unwrap();
        let (_, body) = split(&read_to_close(&mut slow).unwrap());
        assert_eq!(body, b"Hello, World!\n", "{signal:?}");
        assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0), "{signal:?}");
        // The two workers, and the spare forked when the slow one took its connection
        // (if it came before the stop).
        server.wait_event("stopping: waiting up to 8 s for ");
        assert_eq!(server.events().len(), 1, "{:?}", server.events());
    }
}

/// Keep-alive in a worker: requests on one connection are served by one worker; at the
/// stop, the connection waiting for its next request is closed at once, not after
/// --keep-alive.
#[test]
fn a_kept_alive_connection_in_a_worker_and_the_stop() {
    let mut server = Server::start(&["-w", "1", "--keep-alive", "30"]);
    wait_workers(&server, 1);
    let mut s = server.connect();
    for _ in 0..2 {
        s.write_all(GET).unwrap();
        let mut got = Vec::new();
        while !got.ends_with(b"Hello, World!\n") {
            let mut chunk = [0u8; 512];
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&chunk[..n]);
        }
        assert!(!String::from_utf8_lossy(&got).contains("Connection: close"), "{}", String::from_utf8_lossy(&got));
    }
    assert_eq!(served_by(&server.wait_log(2)).len(), 1, "one worker: {:?}", server.log());
    let start = Instant::now();
    server.signal(Signal::TERM);
    assert_eq!(read_to_close(&mut s).unwrap(), b"", "nothing more, a clean close");
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(start.elapsed() < Duration::from_secs(2), "the stop took {:?}", start.elapsed());
}

#[test]
fn a_second_sigint_kills_the_workers() {
    let mut server = Server::start(&["-w", "2", "--grace", "60", "-q"]);
    wait_workers(&server, 2);
    let _slow = in_flight(&server);
    server.signal(Signal::INT);
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.child.try_wait().unwrap().is_none(), "the first SIGINT waits for the connection");
    server.signal(Signal::INT);
    assert_eq!(server.wait_exit(Duration::from_secs(2)).code(), Some(130));
    server.wait_event("killing 1 children still running");
}

/// 10,000 connections in bursts of 500 through 4 workers kept ready: every one answered;
/// whatever the pool grew to (at most --max-children), 10 s idle it is back to 4
/// processes; no zombie, the parent's descriptors as they were.
#[test]
fn soak_10000_connections_through_4_workers() {
    let server = Server::start(&["-w", "4", "-q"]);
    let pids = wait_workers(&server, 4);
    let fds = fd_count(server.pid());
    for _ in 0..20 {
        let mut conns: Vec<TcpStream> = (0..500).map(|_| server.connect()).collect();
        for c in &mut conns {
            c.write_all(b"GET /soak HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
        }
        for c in &mut conns {
            assert_eq!(split(&read_to_close(c).expect("a clean close")).1, b"Hello, World!\n");
        }
    }
    // Short connections: the pool grows only when they queue for more than 10 ms.
    let grown = workers(&server).len();
    assert!(grown >= 4 && grown <= 1024, "{grown} workers");
    let left = Instant::now();
    wait_for(Duration::from_secs(20), || workers(&server).len() == 4);
    assert!(left.elapsed() < Duration::from_secs(15), "back to 4 after {:?}", left.elapsed());
    wait_for(Duration::from_secs(5), || zombies(server.pid()) == 0);
    assert_eq!(fd_count(server.pid()), fds, "descriptors");
    let _ = pids;
}

/// Workers killed as soon as they appear, for 3 s: the parent forks at most --workers
/// replacements a second, logs one line for it all, sleeps in between, and serves again
/// once they are left alone.
#[test]
fn workers_dying_as_fast_as_they_start_cost_the_parent_little() {
    let server = Server::start(&["-w", "2", "-q"]);
    wait_workers(&server, 2);
    let cpu_before = cpu_ticks(server.pid());
    let mut killed = HashSet::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        for pid in workers(&server) {
            if killed.insert(pid) {
                // It may be gone already: the result does not matter.
                let _ = rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap(), Signal::KILL);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // 2 at start, then at most 2 a second: 3 or 4 seconds began.
    assert!(killed.len() <= 10, "{} workers forked in 3 s", killed.len());
    let cpu = cpu_ticks(server.pid()) - cpu_before;
    assert!(cpu <= 10, "the parent used {cpu} ticks in 3 s");
    server.wait_event("workers: over after ");
    let events = server.events();
    let episode: Vec<_> = events.iter().filter(|l| l.starts_with("forkhttpd: workers: ")).collect();
    assert_eq!(episode.len(), 2, "{events:?}");
    assert_eq!(episode[0], "forkhttpd: workers: short of --workers: forking at most that many a second");
    assert!(events.iter().filter(|l| l.contains(" killed by signal 9 (SIGKILL)")).count() >= killed.len() - 1, "{events:?}");
    assert_eq!(split(&server.exchange(GET)).1, b"Hello, World!\n");
}

/// Out of processes (RLIMIT_NPROC), a worker short: logged once, the others serve.
#[test]
fn when_fork_fails_the_workers_there_serve() {
    // The parent and one worker.
    let (_dir, mut cmd) = under_nproc("forkhttpd", 2);
    cmd.args(["-p", "0", "-b", "127.0.0.1", "-q", "-w", "3"]);
    let server = Server::spawn(cmd);
    server.wait_event("workers: resource temporarily unavailable (EAGAIN): short of --workers");
    assert_eq!(workers(&server).len(), 1);
    assert_eq!(split(&server.exchange(GET)).1, b"Hello, World!\n");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.events().len(), 1, "{:?}", server.events());
}

/// A parent SIGKILLed (no stop, no grace) takes its workers with it: none is left to
/// hold the port.
#[test]
fn workers_die_with_their_parent() {
    let mut server = Server::start(&["-w", "2", "-q"]);
    let pids = wait_workers(&server, 2);
    server.signal(Signal::KILL);
    server.wait_exit(Duration::from_secs(5));
    // Gone, or a zombie of whoever adopted it.
    let gone = |pid: &u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(") ").is_none_or(|(_, rest)| rest.starts_with('Z'))
    };
    wait_for(Duration::from_secs(5), || pids.iter().all(gone));
    assert!(TcpStream::connect(("127.0.0.1", server.port)).is_err(), "the port is still served");
}

/// `--cgi` in a worker: the script runs, and does not inherit the signals the parent
/// blocks (SIGCHLD, SIGTERM, SIGINT) blocked.
#[test]
fn a_worker_runs_cgi_scripts_with_no_signal_blocked() {
    use std::os::unix::fs::PermissionsExt;
    let site = TempDir::new("workers-cgi");
    // awk, not sh: a shell unblocks every signal as it starts.
    let script = site.path().join("cgi-bin/mask.awk");
    std::fs::create_dir(site.path().join("cgi-bin")).unwrap();
    let awk = "#!/usr/bin/awk -f\nBEGIN { printf \"Content-Type: text/plain\\r\\n\\r\\n\"\n\
               while ((getline l < \"/proc/self/status\") > 0) if (l ~ /^SigBlk/) print l }\n";
    std::fs::write(&script, awk).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start(&["-w", "1", "-q", "--cgi", "/cgi-bin/", site.path().to_str().unwrap()]);
    let (head, body) = split(&server.exchange_open(b"GET /cgi-bin/mask.awk HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(String::from_utf8_lossy(&body), "SigBlk:\t0000000000000000\n");
}

/// `--workers 0`, the default: a fork per connection, no process waiting in between.
#[test]
fn zero_workers_is_a_fork_per_connection() {
    let server = Server::start(&["--workers=0"]);
    for _ in 0..2 {
        assert_eq!(split(&server.exchange(GET)).1, b"Hello, World!\n");
    }
    assert_eq!(served_by(&server.wait_log(2)).len(), 2);
    wait_for(Duration::from_secs(5), || children(server.pid()).is_empty());
}
