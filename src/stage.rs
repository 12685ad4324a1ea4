//! What the article's stages, webserver3a … webserver3h, share: their command line, the
//! listening socket, the pieces of `handle_request`, and one-line errors that name the
//! syscall and the errno. The accept loop, the fork and the reaper are not here: each
//! stage's own file shows them, because they are what the stages teach.
//!
//! For 3h, the gateway, also: `-- PROGRAM [ARGS…]` on the command line, `--timeout`,
//! the program found at start-up (`openat` of its directory, `newfstatat`, and `getcwd`
//! when its path is relative), and the request head read whole
//! (`setsockopt(SO_RCVTIMEO)`, `recvfrom` until the head ends).

use crate::argv::Strings;
use crate::buf::Buf;
use crate::config;
use crate::errno;
use crate::files::{self, PATH_MAX, Path};
use crate::http::request::{Head, Message};
use crate::http::{HEAD_MAX, Status, response};
use crate::listener;
use crate::log;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{CWD, Mode, OFlags, openat};
use rustix::io::{self, Errno, IoSlice};
use rustix::net::{RecvFlags, SendFlags, recv, send};
use rustix::thread::{NanosleepRelativeResult, nanosleep};
use rustix::time::Timespec;

/// The article's `SERVER_ADDRESS`: `('', 8888)`.
pub const PORT: u16 = 8888;

/// The article's response, byte for byte: bare LF line ends and no headers, so a client
/// knows the body has ended only when the connection closes.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\n\nHello, World!\n";

/// A stage's command line: `--port PORT` and, where the article sleeps, `--sleep SECONDS`;
/// for the gateway (3h), `--timeout SECONDS` and `-- PROGRAM [ARGS…]`.
pub struct Stage {
    pub name: &'static str,
    pub port: u16,
    pub sleep: u32,
    pub timeout: u32,
    /// The gateway's `PROGRAM ARGS…`, the arguments after `--`.
    pub program: Option<Strings>,
}

impl Stage {
    /// Reads the command line, or prints the usage (`--help`) or a one-line error (exit 2)
    /// and exits. `sleep` is the article's sleep for this stage, if it has one; `about`
    /// says what the stage shows.
    pub fn start(name: &'static str, args: Strings, sleep: Option<u32>, about: &str) -> Stage {
        Stage::parse(name, args, sleep, false, about)
    }

    /// The gateway's command line: `[--port PORT] [--timeout SECONDS] -- PROGRAM [ARGS…]`.
    pub fn start_gateway(name: &'static str, args: Strings, about: &str) -> Stage {
        let stage = Stage::parse(name, args, None, true, about);
        if stage.program.is_none_or(|mut program| program.next().is_none()) {
            usage_error(name, config::UsageError { problem: &NO_PROGRAM, arg: b"--" });
        }
        stage
    }

    fn parse(name: &'static str, args: Strings, sleep: Option<u32>, gateway: bool, about: &str) -> Stage {
        let mut stage = Stage { name, port: PORT, sleep: sleep.unwrap_or(0), timeout: 10, program: None };
        let mut args = args;
        args.next(); // the program's name
        while let Some(arg) = args.next() {
            let (option, inline) = config::split_option(arg);
            let mut value = || inline.or_else(|| args.next());
            let parsed = match option {
                b"-h" | b"--help" => stage.usage(sleep.is_some(), gateway, about),
                b"-p" | b"--port" => match value() {
                    Some(v) => config::number(v, &config::PORT).map(|p| stage.port = p as u16),
                    None => Err(needs_value(option)),
                },
                b"--sleep" if sleep.is_some() => match value() {
                    Some(v) => config::number(v, &SLEEP).map(|s| stage.sleep = s as u32),
                    None => Err(needs_value(option)),
                },
                b"-t" | b"--timeout" if gateway => match value() {
                    Some(v) => config::number(v, &TIMEOUT).map(|t| stage.timeout = t as u32),
                    None => Err(needs_value(option)),
                },
                b"--" if gateway => {
                    stage.program = Some(args);
                    break;
                }
                _ => Err(config::UsageError { problem: &config::UNKNOWN_OPTION, arg }),
            };
            if let Err(e) = parsed {
                usage_error(name, e);
            }
        }
        stage
    }

    fn usage(&self, sleeps: bool, gateway: bool, about: &str) -> ! {
        let mut text = Buf::new();
        text.push(b"Usage: ").push(self.name.as_bytes()).push(b" [--port PORT]");
        if sleeps {
            text.push(b" [--sleep SECONDS]");
        }
        if gateway {
            text.push(b" [--timeout SECONDS] -- PROGRAM [ARGS...]");
        }
        text.push(b"\n\n").push(about.as_bytes()).push(b"\n\nOptions:\n");
        text.push(b"  -p, --port PORT    port to listen on, 0 for any free one (default: 8888)\n");
        if sleeps {
            text.push(b"      --sleep SECS   the article's sleep (default: ").num(self.sleep.into()).push(b")\n");
        }
        if gateway {
            text.push(b"  -t, --timeout SECS time for the program's header block, 1-86400 (default: 10)\n");
        }
        log::stdout(text.as_bytes());
        exit(0)
    }

    /// `socket`, `setsockopt(SO_REUSEADDR)`, `bind(('', port))`, `listen(backlog)`, then
    /// the article's `Serving HTTP on port PORT ...`. Exits 1 with a one-line error.
    pub fn listen(&self, backlog: i32) -> OwnedFd {
        self.listen_port(backlog).0
    }

    /// `listen`, and the port it listens on (the kernel's choice for `--port 0`). The
    /// gateway's socket gets `SO_SNDTIMEO` (`--timeout`), as forkhttpd's file server's: a
    /// client that stops reading cannot hold a child, and its script, forever.
    pub fn listen_port(&self, backlog: i32) -> (OwnedFd, u16) {
        let addr = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), self.port);
        let send = [(rustix::net::sockopt::Timeout::Send, self.timeout)];
        match listener::open(&addr, backlog, if self.program.is_some() { &send } else { &[] }) {
            Ok((socket, port)) => {
                log::serving(port);
                (socket, port)
            }
            Err(e) => {
                let mut line = Buf::new();
                e.write(&mut line, self.name, &addr);
                log::stderr(line.as_bytes());
                exit(1)
            }
        }
    }
}

fn needs_value(option: &[u8]) -> config::UsageError<'_> {
    config::UsageError { problem: &config::NEEDS_VALUE, arg: option }
}

/// The one-line error for a bad command line, and exit status 2.
fn usage_error(name: &str, e: config::UsageError<'_>) -> ! {
    let mut line = Buf::new();
    e.write(&mut line, name);
    log::stderr(line.as_bytes());
    exit(2)
}

const NO_PROGRAM: config::Problem = config::Problem { text: "expected PROGRAM [ARGS...] after", hint: "" };

const TIMEOUT: config::Range = config::Range {
    min: 1,
    max: 86400,
    problem: config::Problem { text: "invalid timeout", hint: ": expected whole seconds from 1 to 86400" },
};

const SLEEP: config::Range = config::Range {
    min: 0,
    max: 3600,
    problem: config::Problem { text: "invalid sleep", hint: ": expected seconds from 0 to 3600" },
};

/// The result of `syscall`, or, as the article's Python would raise, the end of the
/// process: `accept: too many open files (EMFILE)` on stderr, exit status 1.
pub fn check<T>(syscall: &str, result: io::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => die(syscall, e),
    }
}

pub fn die(syscall: &str, e: Errno) -> ! {
    let mut line = Buf::new();
    line.push(syscall.as_bytes()).push(b": ");
    errno::write(&mut line, e);
    line.byte(b'\n');
    log::stderr(line.as_bytes());
    exit(1)
}

/// `request = client_connection.recv(1024)`.
pub fn recv_request<'a>(conn: &OwnedFd, buf: &'a mut [u8; 1024]) -> &'a [u8] {
    let n = check("recv", recv(conn, &mut *buf, RecvFlags::empty())).0;
    buf.get(..n).unwrap_or(&[])
}

/// `print(...)`: the bytes and a newline, in one `writev(2)`.
pub fn print(bytes: &[u8]) {
    // SAFETY: the borrow of descriptor 1 lasts one `writev`.
    let stdout = unsafe { rustix::stdio::stdout() };
    let _ = rustix::io::writev(stdout, &[IoSlice::new(bytes), IoSlice::new(b"\n")]);
}

/// `client_connection.sendall(...)`. MSG_NOSIGNAL: Python ignores SIGPIPE, so a client
/// that went away is an error (EPIPE), not a killed process.
pub fn sendall(conn: &OwnedFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let sent = check("send", send(conn, bytes, SendFlags::NOSIGNAL));
        bytes = bytes.get(sent..).unwrap_or(&[]);
    }
}

/// `time.sleep(secs)`, which sleeps on after a signal handler like Python's (PEP 475).
pub fn sleep(secs: u32) {
    let mut left = Timespec { tv_sec: secs.into(), tv_nsec: 0 };
    while let NanosleepRelativeResult::Interrupted(rest) = nanosleep(&left) {
        left = rest;
    }
}

/// `os._exit(status)`: no clean-up, the kernel closes what is open.
pub fn exit(status: i32) -> ! {
    rustix::runtime::exit_group(status)
}

/// Appends `label` and the decimal `n`: the pieces of the stages' `print` lines.
pub fn push_num(line: &mut Buf, label: &str, n: i64) {
    line.push(label.as_bytes());
    if n < 0 {
        line.byte(b'-');
    }
    line.num(n.unsigned_abs());
}

/// The gateway's program, found once at start-up as the article's WSGI server loads its
/// application once: every request runs the inode checked then, from its directory.
pub struct Program {
    /// The path as given.
    pub path: &'static [u8],
    /// Its directory (`O_PATH`): the program's working directory, where it is looked up.
    pub dir: OwnedFd,
    /// What `cgi::check` found (see `cgi::Script::checked`).
    pub checked: (u64, u64),
    /// Its absolute path (`SCRIPT_FILENAME`): `absolute[..absolute_len]`.
    absolute: [u8; PATH_MAX],
    absolute_len: usize,
}

impl Program {
    /// Opens `path`'s directory (`openat`), checks the program in it (`newfstatat`), and
    /// takes its absolute path (`getcwd` if `path` is relative), or exits 2 with one line:
    /// `webserver3h: cannot run 'x.py': not executable (chmod +x it)`.
    pub fn open(name: &str, path: &'static [u8]) -> Program {
        let fail = |why: &[u8], e: Option<Errno>| -> ! {
            let mut line = Buf::new();
            line.push(name.as_bytes()).push(b": cannot run '").push(path).push(b"': ").push(why);
            if let Some(e) = e {
                errno::write(&mut line, e);
            }
            log::stderr(line.byte(b'\n').as_bytes());
            exit(2)
        };
        let (dir, base) = match path.iter().rposition(|&b| b == b'/') {
            Some(slash) => (path.get(..slash.max(1)).unwrap_or(b"/"), path.get(slash + 1..).unwrap_or(b"")),
            None => (&b"."[..], path),
        };
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = openat(CWD, dir, flags, Mode::empty()).unwrap_or_else(|e| fail(b"", Some(e)));
        let mut entry = Path::new();
        let checked = match entry.join(&[base]).map(|entry| crate::cgi::check(dir.as_fd(), entry, true)) {
            Some(Ok(checked)) => checked,
            Some(Err((_, Some(e)))) => fail(b"", Some(e)),
            Some(Err((why, None))) => fail(why, None),
            None => fail(b"", Some(Errno::NAMETOOLONG)),
        };
        let mut absolute = [0; PATH_MAX];
        let absolute_len = files::absolute(path, &mut absolute).unwrap_or_else(|e| fail(b"its absolute path: ", Some(e))).len();
        Program { path, dir, checked, absolute, absolute_len }
    }

    /// The program's absolute path.
    pub fn absolute(&self) -> &[u8] {
        self.absolute.get(..self.absolute_len).unwrap_or(&[])
    }
}

/// Reads until the request head is complete; returns how many bytes came (the head,
/// perhaps the start of a body). A head that cannot be complete gets its error response
/// (400, 431, 505, 408 after `timeout`) and `None`, as does a client that leaves.
pub fn recv_head(conn: &OwnedFd, buf: &mut [u8; HEAD_MAX], timeout: u32) -> Option<usize> {
    use rustix::net::sockopt::{Timeout, set_socket_timeout};
    let _ = set_socket_timeout(conn, Timeout::Recv, Some(Duration::from_secs(timeout.into())));
    let mut received = 0;
    let status = loop {
        let n = match recv(conn, buf.get_mut(received..).unwrap_or(&mut []), RecvFlags::empty()) {
            Ok((0, _)) => return None,
            Ok((n, _)) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => break Status::RequestTimeout,
            Err(_) => return None,
        };
        received += n;
        match Message::lex(buf.get(..received).unwrap_or(&[])) {
            Ok(_) => return Some(received),
            Err(Head::Partial) if received < HEAD_MAX => continue,
            Err(Head::Partial) => break Status::HeaderFieldsTooLarge,
            Err(Head::Complete(verdict)) => break verdict.status,
        }
    };
    let mut out = Buf::new();
    response::write(&mut out, status, false, response::CLOSE, crate::clock::unix_seconds());
    let _ = send(conn, out.as_bytes(), SendFlags::NOSIGNAL);
    None
}
