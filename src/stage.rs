//! What the article's stages, webserver3a … webserver3g, share: their command line, the
//! listening socket, the pieces of `handle_request`, and one-line errors that name the
//! syscall and the errno. The accept loop, the fork and the reaper are not here: each
//! stage's own file shows them, because they are what the stages teach.

use crate::argv::Strings;
use crate::buf::Buf;
use crate::config;
use crate::errno;
use crate::listener;
use crate::log;
use core::net::{Ipv4Addr, SocketAddr};
use rustix::fd::OwnedFd;
use rustix::io::{self, Errno, IoSlice};
use rustix::net::{RecvFlags, SendFlags, recv, send};
use rustix::thread::{NanosleepRelativeResult, nanosleep};
use rustix::time::Timespec;

/// The article's `SERVER_ADDRESS`: `('', 8888)`.
pub const PORT: u16 = 8888;

/// The article's response, byte for byte: bare LF line ends and no headers, so a client
/// knows the body has ended only when the connection closes.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\n\nHello, World!\n";

/// A stage's command line: `--port PORT` and, where the article sleeps, `--sleep SECONDS`.
pub struct Stage {
    pub name: &'static str,
    pub port: u16,
    pub sleep: u32,
}

impl Stage {
    /// Reads the command line, or prints the usage (`--help`) or a one-line error (exit 2)
    /// and exits. `sleep` is the article's sleep for this stage, if it has one; `about`
    /// says what the stage shows.
    pub fn start(name: &'static str, args: Strings, sleep: Option<u32>, about: &str) -> Stage {
        let mut stage = Stage { name, port: PORT, sleep: sleep.unwrap_or(0) };
        let mut args = args;
        args.next(); // the program's name
        while let Some(arg) = args.next() {
            let (option, inline) = config::split_option(arg);
            let mut value = || inline.or_else(|| args.next());
            let parsed = match option {
                b"-h" | b"--help" => stage.usage(sleep.is_some(), about),
                b"-p" | b"--port" => match value() {
                    Some(v) => config::number(v, &config::PORT).map(|p| stage.port = p as u16),
                    None => Err(needs_value(option)),
                },
                b"--sleep" if sleep.is_some() => match value() {
                    Some(v) => config::number(v, &SLEEP).map(|s| stage.sleep = s as u32),
                    None => Err(needs_value(option)),
                },
                _ => Err(config::UsageError { problem: &config::UNKNOWN_OPTION, arg }),
            };
            if let Err(e) = parsed {
                let mut line = Buf::new();
                e.write(&mut line, name);
                log::stderr(line.as_bytes());
                exit(2);
            }
        }
        stage
    }

    fn usage(&self, sleeps: bool, about: &str) -> ! {
        let mut text = Buf::new();
        text.push(b"Usage: ").push(self.name.as_bytes()).push(b" [--port PORT]");
        if sleeps {
            text.push(b" [--sleep SECONDS]");
        }
        text.push(b"\n\n").push(about.as_bytes()).push(b"\n\nOptions:\n");
        text.push(b"  -p, --port PORT    port to listen on, 0 for any free one (default: 8888)\n");
        if sleeps {
            text.push(b"      --sleep SECS   the article's sleep (default: ").num(self.sleep.into()).push(b")\n");
        }
        log::stdout(text.as_bytes());
        exit(0)
    }

    /// `socket`, `setsockopt(SO_REUSEADDR)`, `bind(('', port))`, `listen(backlog)`, then
    /// the article's `Serving HTTP on port PORT ...`. Exits 1 with a one-line error.
    pub fn listen(&self, backlog: i32) -> OwnedFd {
        let addr = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), self.port);
        match listener::open(&addr, backlog, None) {
            Ok((socket, port)) => {
                log::serving(port);
                socket
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
