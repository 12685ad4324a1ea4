//! What the article's stages, webserver3a … webserver3h, share: their command line, the
//! listening socket, the pieces of `handle_request`, and one-line errors that name the
//! syscall and the errno. The accept loop, the fork and the reaper are not here: each
//! stage's own file shows them, because they are what the stages teach.
//!
//! For 3h, the gateway, also: `-- PROGRAM [ARGS…]` on the command line, `--timeout`,
//! the program found at start-up (`openat` of its directory, `newfstatat`, and `getcwd`
//! when its path is relative), and the request head read whole
//! (`setsockopt(SO_RCVTIMEO)`, `recvfrom` until the head ends).
#![allow(unsafe_code)] // unsafe: borrowing descriptor 1 for the stages' print.

use crate::argv::Strings;
use crate::buf::Buf;
use crate::config::{self, Hint, Kind, Opt, Problem, Stop, Unit, UsageError};
use crate::errno;
use crate::cgi::NotRunnable;
use crate::fs::{self, PATH_MAX, Path};
use crate::http::request::{Head, Message};
use crate::http::{HEAD_MAX, Status, response};
use crate::net;
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
    /// The program's name, for its messages.
    pub name: &'static str,
    /// `--port`.
    pub port: u16,
    /// `--sleep`: the article's `time.sleep`, in seconds.
    pub sleep: u32,
    /// `--timeout` (the gateway's).
    pub timeout: u32,
    /// The gateway's `PROGRAM ARGS…`, the arguments after `--`.
    pub program: Option<Strings>,
}

const PORT_OPTION: Opt<Stage> = Opt {
    long: "port",
    short: b'p',
    kind: Kind::Number { name: "PORT", unit: Unit::Plain, min: 0, max: 65535, default: PORT as u64, set: |s, n| s.port = n as u16 },
    help: "port to listen on, 0 for any free one",
    needs_dir: false,
};
const HELP_OPTION: Opt<Stage> = Opt { long: "help", short: b'h', kind: Kind::Help, help: "print this help and exit", needs_dir: false };

/// `--sleep SECONDS`, the article's `secs` by default.
const fn sleep_option(secs: u64) -> Opt<Stage> {
    Opt {
        long: "sleep",
        short: 0,
        kind: Kind::Number { name: "SECONDS", unit: Unit::Seconds, min: 0, max: 3600, default: secs, set: |s, n| s.sleep = n as u32 },
        help: "the article's sleep",
        needs_dir: false,
    }
}

/// The command line of a stage that does not sleep.
pub const SERVER: &[Opt<Stage>] = &[PORT_OPTION, HELP_OPTION];
/// Of one that sleeps a minute (3b, 3c)…
pub const SLEEPS_60: &[Opt<Stage>] = &[PORT_OPTION, sleep_option(60), HELP_OPTION];
/// … or three seconds (3e).
pub const SLEEPS_3: &[Opt<Stage>] = &[PORT_OPTION, sleep_option(3), HELP_OPTION];
/// The gateway's (3h), before its `-- PROGRAM [ARGS…]`.
pub const GATEWAY: &[Opt<Stage>] = &[
    PORT_OPTION,
    Opt {
        long: "timeout",
        short: b't',
        kind: Kind::Number { name: "SECONDS", unit: Unit::Seconds, min: 1, max: 86400, default: 10, set: |s, n| s.timeout = n as u32 },
        help: "time for the program's header block",
        needs_dir: false,
    },
    HELP_OPTION,
];

impl Stage {
    /// Reads the command line by `options`, or prints the usage (`--help`) or a one-line
    /// error (exit 2) and exits. `about` says what the stage shows.
    pub fn start(name: &'static str, args: Strings, options: &'static [Opt<Stage>], about: &str) -> Stage {
        Stage::parse(name, args, options, about, false)
    }

    /// The gateway's command line: `[--port PORT] [--timeout SECONDS] -- PROGRAM [ARGS…]`.
    pub fn start_gateway(name: &'static str, args: Strings, about: &str) -> Stage {
        let stage = Stage::parse(name, args, GATEWAY, about, true);
        if stage.program.is_none_or(|mut program| program.next().is_none()) {
            usage_error(name, UsageError { problem: NO_PROGRAM, arg: b"--" });
        }
        stage
    }

    fn parse(name: &'static str, mut args: Strings, options: &'static [Opt<Stage>], about: &str, gateway: bool) -> Stage {
        let mut stage = Stage { name, port: PORT, sleep: 0, timeout: 0, program: None };
        args.next(); // the program's name
        let parsed = config::run(options, &mut stage, &mut args, &mut |_, _| Err(config::UNEXPECTED));
        match parsed.map(|parsed| parsed.stop) {
            Ok(Some(Stop::Rest)) if gateway => stage.program = Some(args),
            Ok(Some(Stop::Rest)) => usage_error(name, UsageError { problem: config::UNKNOWN_OPTION, arg: b"--" }),
            Ok(Some(Stop::Help | Stop::Version)) => stage.usage(options, about, gateway),
            Ok(None) => {}
            Err(e) => usage_error(name, e),
        }
        stage
    }

    fn usage(&self, options: &'static [Opt<Stage>], about: &str, gateway: bool) -> ! {
        let mut line = Buf::new();
        line.push(b"Usage: ").push(self.name.as_bytes());
        for opt in options.iter().filter(|o| matches!(o.kind, Kind::Number { .. })) {
            if let Kind::Number { name, .. } = opt.kind {
                line.push(b" [--").push(opt.long.as_bytes()).byte(b' ').push(name.as_bytes()).byte(b']');
            }
        }
        if gateway {
            line.push(b" -- PROGRAM [ARGS...]");
        }
        log::stdout(line.push(b"\n\n").as_bytes());
        log::stdout(about.as_bytes());
        log::stdout(b"\n\nOptions:\n");
        config::write_options(options, &mut |piece| log::stdout(piece));
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
        match net::listen(&addr, backlog, if self.program.is_some() { &send } else { &[] }) {
            Ok((socket, port)) => {
                log::serving(port, None);
                (socket, port)
            }
            Err(e) => {
                let mut line = Buf::new();
                net::write_error(&e, &mut line, self.name, &addr);
                log::stderr(line.as_bytes());
                exit(1)
            }
        }
    }
}

/// The one-line error for a bad command line, and exit status 2.
fn usage_error(name: &str, e: UsageError) -> ! {
    let mut line = Buf::new();
    e.write(&mut line, name);
    log::stderr(line.as_bytes());
    exit(2)
}

const NO_PROGRAM: Problem = Problem { text: "expected PROGRAM [ARGS...] after", hint: Hint::None };

/// The result of `syscall`, or, as the article's Python would raise, the end of the
/// process: `accept: too many open files (EMFILE)` on stderr, exit status 1.
pub fn check<T>(syscall: &str, result: io::Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => die(syscall, e),
    }
}

/// `accept: too many open files (EMFILE)` on stderr, exit status 1.
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
            Some(Err(NotRunnable::Directory(e) | NotRunnable::Lookup(e))) => fail(b"", Some(e)),
            Some(Err(why)) => {
                let mut text = Buf::new();
                why.write(&mut text);
                fail(text.as_bytes(), None)
            }
            None => fail(b"", Some(Errno::NAMETOOLONG)),
        };
        let mut absolute = [0; PATH_MAX];
        let absolute_len = fs::absolute(path, &mut absolute).unwrap_or_else(|e| fail(b"its absolute path: ", Some(e))).len();
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
    // Without its deadline a read could wait forever: then no read at all.
    if set_socket_timeout(conn, Timeout::Recv, Some(Duration::from_secs(timeout.into()))).is_err() {
        return None;
    }
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
