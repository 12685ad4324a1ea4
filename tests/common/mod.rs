//! Running the release binary as users do, and looking at it through /proc.
#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use rustix::process::Signal;

/// The binary `make build` made. Tests run it, not a debug build: it is what ships. A
/// binary older than a source it is built from is refused, with what to do: `cargo test`
/// after an edit would otherwise test the old one.
pub fn bin(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("target/release").join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    let Ok(built) = built else {
        panic!("{} is missing: run `make test`, which builds it first", path.display());
    };
    // The drawing tool is a package of its own: its sources are its own.
    let package = if name == "tracesvg" { root.join("tools/tracesvg") } else { root.clone() };
    if let Some(newer) = sources(&package).into_iter().find(|(_, modified)| *modified > built) {
        panic!("{} is older than {}: run `make test` (or `make build` first), which builds it", path.display(), newer.0.display());
    }
    path
}

/// What a package's binaries are built from, with when each was last modified: `src/`,
/// the manifests, the build script and its configuration.
fn sources(root: &std::path::Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut found = Vec::new();
    let mut dirs = vec![root.join("src")];
    let files = ["Cargo.toml", "Cargo.lock", "build.rs", ".cargo/config.toml"].map(|f| root.join(f));
    found.extend(files.into_iter().filter_map(|f| Some((f.clone(), std::fs::metadata(&f).ok()?.modified().ok()?))));
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let (path, meta) = (entry.path(), entry.metadata());
            match meta {
                Ok(m) if m.is_dir() => dirs.push(path),
                Ok(m) => found.extend(m.modified().ok().map(|t| (path, t))),
                Err(_) => {}
            }
        }
    }
    found
}

/// A running forkhttpd and everything it has printed.
pub struct Server {
    pub child: Child,
    pub port: u16,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts forkhttpd on a free loopback port with `args` added.
    pub fn start(args: &[&str]) -> Server {
        let mut cmd = Command::new(bin("forkhttpd"));
        cmd.args(["--port", "0", "--bind", "127.0.0.1"]).args(args);
        Server::spawn(cmd)
    }

    /// Starts `cmd`, which must print forkhttpd's start-up line.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let Some(Ok(first)) = lines.next() else {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("{cmd:?} printed no start-up line; stderr: {err}");
        };
        // `Serving HTTP on port PORT ...`, the article's words, and forkhttpd's ` (ADDR, DIR)`.
        let port = first
            .strip_prefix("Serving HTTP on port ")
            .and_then(|rest| rest.split_once(" ..."))
            .and_then(|(p, _)| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected start-up line {first:?}"));
        assert_ne!(port, 0, "the start-up line must show the port the kernel chose");
        let out = collect(lines);
        let err = collect(BufReader::new(child.stderr.take().unwrap()).lines());
        Server { child, port, out, err }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines printed after the start-up line (the access log).
    pub fn log(&self) -> Vec<String> {
        self.out.lock().unwrap().clone()
    }

    /// The lines printed on stderr: the server's own events.
    pub fn events(&self) -> Vec<String> {
        self.err.lock().unwrap().clone()
    }

    /// Waits for an event line containing `text`.
    pub fn wait_event(&self, text: &str) -> String {
        wait_for(Duration::from_secs(10), || self.events().iter().any(|l| l.contains(text)));
        self.events().into_iter().find(|l| l.contains(text)).unwrap()
    }

    /// Waits for `n` access-log lines.
    pub fn wait_log(&self, n: usize) -> Vec<String> {
        wait_for(Duration::from_secs(10), || self.log().len() >= n);
        self.log()
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Sends `request`, says it is all (FIN: a kept-alive connection then ends after
    /// the answers), and returns everything the server answers until it closes.
    pub fn exchange(&self, request: &[u8]) -> Vec<u8> {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        read_to_close(&mut s).expect("a clean close")
    }

    /// Sends `request` and returns everything the server answers until it closes, its
    /// own side left open as curl leaves it: for answers that end the connection
    /// themselves (CGI), where a FIN from the client means it went away.
    pub fn exchange_open(&self, request: &[u8]) -> Vec<u8> {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        read_to_close(&mut s).expect("a clean close")
    }

    pub fn signal(&self, sig: Signal) {
        kill(self.pid(), sig);
    }

    /// Waits for the server to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < limit, "the server did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads lines in a thread into a shared list.
fn collect(lines: impl Iterator<Item = std::io::Result<String>> + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let list = Arc::new(Mutex::new(Vec::new()));
    let sink = list.clone();
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| sink.lock().unwrap().push(l)));
    list
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `sig` to `pid`.
pub fn kill(pid: u32, sig: Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a real pid");
    rustix::process::kill_process(pid, sig).expect("kill");
}

/// Reads until the peer's FIN. An RST (ECONNRESET) is an error: the test wants clean closes.
pub fn read_to_close(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    s.read_to_end(&mut got)?;
    let _ = s.shutdown(Shutdown::Both);
    Ok(got)
}

/// Polls `cond` until it holds; panics after `limit`.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "condition not met within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// x86_64 syscall numbers, for `wait_in_syscall`.
pub const ACCEPT: u32 = 43;
pub const ACCEPT4: u32 = 288;

/// Waits until `pid` sleeps in syscall `nr` (/proc/PID/syscall and state `S`): back in
/// accept, say, with every signal handler run finished. Under strace the syscall number
/// shows already in the syscall-entry stop (state `t`), before strace has written the
/// line: the state tells the two apart.
pub fn wait_in_syscall(pid: u32, nr: u32) {
    let state = |pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next())
    };
    wait_for(Duration::from_secs(10), || {
        let in_nr = std::fs::read_to_string(format!("/proc/{pid}/syscall"))
            .is_ok_and(|s| s.split_whitespace().next() == Some(&nr.to_string()));
        in_nr && state(pid) == Some('S')
    });
}

/// A process's own CPU time so far, in clock ticks (1/100 s): utime + stime of
/// /proc/PID/stat (its children's not included).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A process's minor page faults so far: its own, and its own plus those of the children
/// it has reaped (minflt and cminflt of /proc/PID/stat).
pub fn minor_faults(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split_whitespace().collect();
    let (own, reaped) = (fields[7].parse::<u64>().unwrap(), fields[8].parse::<u64>().unwrap());
    (own, own + reaped)
}

/// Open descriptors of a process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// (pid, state) of every process whose parent is `ppid`, read from /proc/*/stat.
pub fn children(ppid: u32) -> Vec<(u32, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...; comm may hold spaces and parentheses.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let mut fields = rest.split_whitespace();
        let (state, parent) = (fields.next(), fields.next().and_then(|p| p.parse::<u32>().ok()));
        if parent == Some(ppid) {
            let pid = head.split_whitespace().next().and_then(|p| p.parse().ok()).unwrap_or(0);
            found.push((pid, state.and_then(|s| s.chars().next()).unwrap_or('?')));
        }
    }
    found
}

/// Waits until `ppid` has exactly one child and returns its pid, taken from the same
/// look at /proc that counted it: a second look may find that child already gone.
pub fn only_child(ppid: u32) -> u32 {
    let mut pid = 0;
    wait_for(Duration::from_secs(5), || match children(ppid)[..] {
        [(only, _)] => {
            pid = only;
            true
        }
        _ => false,
    });
    pid
}

pub fn zombies(ppid: u32) -> usize {
    children(ppid).iter().filter(|(_, state)| *state == 'Z').count()
}

/// Splits a response into its head (without the final CRLF CRLF) and its body.
pub fn split(response: &[u8]) -> (String, Vec<u8>) {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    (String::from_utf8(response[..end].to_vec()).unwrap(), response[end + 4..].to_vec())
}

/// The syscall names of a trace, one per line that records a call. Signal lines
/// (`--- SIGCHLD ...`), exit lines (`+++ ...`) and calls the kernel restarts after a
/// handler (`= ? ERESTARTSYS`) are not calls of the program's own.
pub fn names(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| !l.contains("ERESTARTSYS"))
        .filter_map(|l| {
            let name: String = l.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!name.is_empty() && l[name.len()..].starts_with('(')).then_some(name)
        })
        .collect()
}

/// The fenced block that follows `<!-- trace: NAME -->` in `file` (README.md,
/// docs/stages.md): the documented trace that a test compares with a real one.
pub fn documented(file: &str, name: &str) -> String {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let marker = format!("<!-- trace: {name} -->");
    let after = text.split_once(&marker).unwrap_or_else(|| panic!("{file} has no {marker}")).1;
    let block = after.split_once("```text\n").unwrap().1;
    block.split_once("```").unwrap().0.to_string()
}

/// Removes each run of the SIGCHLD handler (from the signal line to its `rt_sigreturn`)
/// and returns the runs apart: when a child's exit interrupts the parent depends on
/// timing. A SIGCHLD not followed by a handler's `wait4` (no handler: 3d) is no run.
pub fn take_reaper_runs(trace: &str) -> (String, Vec<Vec<String>>) {
    let (mut rest, mut runs) = (String::new(), Vec::new());
    let mut lines = trace.lines().peekable();
    while let Some(line) = lines.next() {
        let handled = lines.peek().is_some_and(|next| next.starts_with("wait4("));
        if line.starts_with("--- SIGCHLD") && handled {
            let mut run = String::new();
            for l in lines.by_ref() {
                run.push_str(l);
                run.push('\n');
                if l.starts_with("rt_sigreturn(") {
                    break;
                }
            }
            runs.push(names(&run));
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    (rest, runs)
}

/// A program running under `strace -ff`: one trace file per process.
pub struct Traced {
    pub server: Server,
    pub pid: u32,
    dir: TempDir,
}

impl Traced {
    /// Starts the release binary `name` with `args` under strace; it must print the
    /// start-up line.
    pub fn start(name: &str, args: &[&str]) -> Traced {
        let dir = TempDir::new(&format!("strace-{name}"));
        let mut cmd = Command::new("strace");
        cmd.args(["-ff", "-qq", "-o"]).arg(dir.path().join("trace")).arg(bin(name)).args(args);
        let server = Server::spawn(cmd);
        let pid = children(server.pid()).first().expect("strace's tracee").0;
        Traced { server, pid, dir }
    }

    /// Waits for the traced program to end (after `kill`, or by itself); returns its exit
    /// status (strace exits with it), its trace and its children's; the files go with `dir`.
    pub fn finish(mut self) -> (ExitStatus, String, Vec<String>) {
        let status = self.server.wait_exit(Duration::from_secs(20));
        let (mut parent, mut others) = (None, Vec::new());
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let pid: u32 = entry.path().extension().unwrap().to_str().unwrap().parse().unwrap();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            if pid == self.pid { parent = Some(text) } else { others.push(text) }
        }
        (status, parent.expect("the tracee's own trace"), others)
    }
}

/// A fresh directory of the test's own, mode 0755 under a temporary root that every user
/// may pass through, removed with what it holds when dropped, also when the test fails.
/// Its name carries `tag`, the pid and a counter: tests running at once, in this process
/// or another, never share one.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        // Another user must reach what is in it: $TMPDIR may be private, /tmp is not.
        let open_to_all = |dir: &std::path::Path| {
            dir.ancestors().all(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
        };
        let root = Some(std::env::temp_dir()).filter(|t| open_to_all(t)).unwrap_or_else(|| "/tmp".into());
        assert!(open_to_all(&root), "no temporary directory that every user may enter: {}", root.display());
        loop {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = root.join(format!("forkhttpd-{tag}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&dir) {
                // The mode explicitly: the umask may have taken bits from it.
                Ok(()) => {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
                    return TempDir(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue, // an old run's
                Err(e) => panic!("cannot create {}: {e}", dir.display()),
            }
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Copies the release binary `name` in, mode 0755, for a user who may not reach
    /// target/release (a checkout in a 0700 directory), and returns the copy's path.
    pub fn copy_bin(&self, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let copy = self.0.join(name);
        std::fs::copy(bin(name), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `unshare` (util-linux), which as root is itself, and as another user first makes a
/// user namespace of its own where that user is root: enough for a PID namespace,
/// `--root` (chroot), and an RLIMIT_NPROC that counts only what runs inside.
pub fn unshare() -> Command {
    let mut cmd = Command::new("unshare");
    if !rustix::process::geteuid().is_root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    cmd
}

/// A command that runs the release binary `name` where RLIMIT_NPROC holds it to `n`
/// processes, itself included, and nothing else counts: its `n`th fork fails with EAGAIN.
/// The limit does not bind root, so root runs it as a user id of its own, picked at random
/// above 2^30, far from the ids of accounts (nobody's would count whatever else runs as
/// nobody, other test runs included), from a copy that user can reach. Another user runs it in a
/// user namespace of its own, where only its own processes count. Keep the TempDir until
/// the program has ended.
pub fn under_nproc(name: &str, n: usize) -> (TempDir, Command) {
    let dir = TempDir::new(&format!("nproc-{name}"));
    let mut cmd = if rustix::process::geteuid().is_root() {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let uid = 0x4000_0000 | (random as u32 & 0x3fff_ffff);
        let mut cmd = Command::new("setpriv");
        cmd.args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into()]);
        cmd
    } else {
        unshare()
    };
    cmd.arg("prlimit").arg(format!("--nproc={n}:{n}")).arg("--").arg(dir.copy_bin(name)).current_dir(dir.path());
    (dir, cmd)
}

/// Reads one response by its Content-Length: (head, body).
pub fn response(r: &mut BufReader<TcpStream>) -> (String, Vec<u8>) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "the connection ended before a response; head so far: {head:?}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap_or_else(|| panic!("no Content-Length: {head}"))
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (head, body)
}

/// A Chromium binary on PATH; without one, `test` says on stderr that it is skipped and
/// why (straight to stderr, past the harness's capture: the skip must be seen), and gets
/// `None`. `make test` installs Chromium as root.
pub fn chromium(test: &str) -> Option<String> {
    let names = ["chromium", "chromium-browser", "google-chrome"];
    for name in names {
        if Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(name.to_string());
        }
    }
    let why = format!("none of {} on PATH (`make test` installs chromium as root with apt-get)", names.join(", "));
    let _ = writeln!(std::io::stderr(), "{test}: skipped: no headless Chromium: {why}");
    None
}

/// `browser` without a window, with a profile of its own in `profile`.
pub fn headless(browser: &str, profile: &std::path::Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}
