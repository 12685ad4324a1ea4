//! What forkhttpd prints: the start-up line, the access log, and one-line errors. Each
//! line is assembled in a buffer and leaves in a single `write(2)`: lines up to PIPE_BUF
//! (4096) bytes are written atomically, so children writing at once never interleave.
#![allow(unsafe_code)] // unsafe: borrowing descriptors 1 and 2, which nothing here owns.

use crate::clock;
use crate::addr;
use crate::buf::Buf;
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// Writes `line` on stdout: the start-up line, the access log.
pub fn stdout(line: &[u8]) {
    // SAFETY: the borrow lasts one `write`. Descriptor 1 is whatever the caller left
    // there; if it is not open, the write fails with EBADF, which `emit` ignores.
    emit(unsafe { rustix::stdio::stdout() }, line);
}

/// Writes `line` on stderr: events and errors.
pub fn stderr(line: &[u8]) {
    // SAFETY: as for `stdout`, with descriptor 2.
    emit(unsafe { rustix::stdio::stderr() }, line);
}

/// One `write(2)`, retried only if a signal interrupted it before anything was written.
/// A log that cannot be written (closed stdout, full disk) must not stop the server.
fn emit(fd: BorrowedFd<'_>, line: &[u8]) {
    while let Err(Errno::INTR) = rustix::io::write(fd, line) {}
}

/// An event of the server's own, on stderr: `forkhttpd: ` and what `build` appends.
/// Async-signal-safe: the reaper logs crashed children with it. (`dyn`: one copy of this
/// function serves every call site.)
#[inline(never)]
pub fn event(build: &mut dyn FnMut(&mut Buf)) {
    let mut line = Buf::new();
    line.push(b"forkhttpd: ");
    build(&mut line);
    stderr(line.end_line().as_bytes());
}

/// The article's start-up line.
pub fn serving(port: u16) {
    let mut line = Buf::new();
    line.push(b"Serving HTTP on port ").num(port.into()).push(b" ...\n");
    stdout(line.as_bytes());
}

/// Why a response was cut short: the access log says so after its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The client went away (EPIPE, ECONNRESET: `MSG_NOSIGNAL` and the ignored SIGPIPE
    /// make that an error, not a death), or another send error.
    Failed(Errno),
    /// The client took no byte for `--timeout` seconds (`SO_SNDTIMEO` ran out).
    Stalled,
    /// The file got shorter while it was sent: the connection was closed early.
    Shrank,
}

impl From<Errno> for Cut {
    fn from(e: Errno) -> Self {
        if e == Errno::AGAIN { Cut::Stalled } else { Cut::Failed(e) }
    }
}

/// `PEER "REQUEST LINE" STATUS BYTES pid=PID`: PEER as `1.2.3.4:5678` or `[::1]:5678`
/// (`-` if unknown), the request line as received with `"`, `\` and bytes outside
/// printable ASCII escaped as `\xHH`, BYTES the body bytes sent, PID the child that
/// served the connection; then, if the response could not be sent whole, why (see
/// [`Cut`]). The line is whole, its end included, in one buffer: a request line whose
/// escaped form does not fit the room the rest leaves is shortened, visibly (`…` before
/// the closing quote).
pub fn access(peer: Option<&SocketAddr>, request_line: &[u8], status: u16, bytes: u64, pid: u32, cut: Option<Cut>) {
    let mut line = Buf::new();
    match peer {
        Some(peer) => addr::write(&mut line, peer),
        None => {
            line.byte(b'-');
        }
    }
    line.push(b" \"");
    escape_within(&mut line, request_line, TAIL_MAX);
    tail(&mut line, status, bytes, pid, cut);
    stdout(line.as_bytes());
}

/// `" STATUS BYTES pid=PID`, why the response was cut if it was, the newline.
fn tail(line: &mut Buf, status: u16, bytes: u64, pid: u32, cut: Option<Cut>) {
    line.push(b"\" ").num(status.into()).byte(b' ').num(bytes);
    line.push(b" pid=").num(pid.into());
    match cut {
        Some(Cut::Failed(e)) => {
            line.push(b" send failed: ");
            crate::errno::write(line, e);
        }
        Some(Cut::Stalled) => {
            line.push(b" send timed out: the client took nothing for --timeout");
        }
        Some(Cut::Shrank) => {
            line.push(b" file shrank while sent: connection closed early");
        }
        None => {}
    }
    line.byte(b'\n');
}

/// The most an access line takes after its request line: `" STATUS BYTES pid=PID`, the
/// longest reason a response was cut, the newline (see the test).
const TAIL_MAX: usize = 128;

/// Escapes `bytes` into `out`, leaving `keep` bytes of room: as many as fit, then `…` if
/// not all did.
pub fn escape_within(out: &mut Buf, bytes: &[u8], keep: usize) {
    let escaped: usize = bytes.iter().map(|&b| escaped_len(b)).sum();
    let room = out.room().saturating_sub(keep);
    if escaped <= room {
        escape(out, bytes);
        return;
    }
    let mut left = room.saturating_sub(crate::buf::ELLIPSIS.len());
    for &b in bytes {
        let Some(rest) = left.checked_sub(escaped_len(b)) else { break };
        escape(out, core::slice::from_ref(&b));
        left = rest;
    }
    out.push(crate::buf::ELLIPSIS);
}

/// Whether `b` stands for itself in a line: printable ASCII but `"` and `\`.
fn plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'
}

fn escaped_len(b: u8) -> usize {
    if plain(b) { 1 } else { 4 }
}

/// Keeps a client's bytes from forging log lines or fields, or reaching the terminal:
/// every byte but printable ASCII (CR, LF, ESC, every control byte, every byte over
/// 0x7E), and `"` and `\`, as `\xHH`. Every request byte the server writes, in the access
/// log and in the events alike, goes through here.
pub fn escape(out: &mut Buf, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if plain(b) {
            out.byte(b);
        } else {
            out.push(b"\\x");
            out.byte(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'?'));
            out.byte(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'?'));
        }
    }
}

/// A run of one trouble (the cap reached, accept4 or fork failing, workers dying): one log line when it
/// begins, one when it ends, however many times it happens in between.
pub struct Episode {
    name: &'static str,
    since: Option<Duration>,
    times: u64,
}

impl Episode {
/// No trouble yet; `name` is what its lines say first.
    pub fn new(name: &'static str) -> Self {
        Episode { name, since: None, times: 0 }
    }

    /// It happened (again): the first time logs `forkhttpd: NAME: `, the errno if any,
    /// and `detail`.
    pub fn begins(&mut self, errno: Option<Errno>, detail: &str) {
        self.times += 1;
        if self.since.is_none() {
            self.since = Some(clock::monotonic());
            event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": ");
                if let Some(e) = errno {
                    crate::errno::write(line, e);
                    line.push(b": ");
                }
                line.push(detail.as_bytes());
            });
        }
    }

    /// It is over: `forkhttpd: NAME: over after N ms (M times)`.
    pub fn ends(&mut self) {
        if let Some(since) = self.since.take() {
            let ms = (clock::monotonic().saturating_sub(since)).as_millis() as u64;
            event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": over after ").num(ms).push(b" ms (");
                line.num(self.times).push(b" times)");
            });
            self.times = 0;
        }
    }

/// It is going on.
    pub fn active(&self) -> bool {
        self.since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut b = Buf::new();
        escape(&mut b, b"GET /\"a\\b\r\n\x00\xff~\x1b[31m HTTP/1.1");
        assert_eq!(b.as_bytes(), br#"GET /\x22a\x5cb\x0d\x0a\x00\xff~\x1b[31m HTTP/1.1"#);
    }

    #[test]
    fn the_longest_tail_fits_its_room() {
        let cuts = [None, Some(Cut::Failed(Errno::ADDRNOTAVAIL)), Some(Cut::Failed(Errno::from_raw_os_error(4095))), Some(Cut::Stalled), Some(Cut::Shrank)];
        for cut in cuts {
            let mut line = Buf::new();
            tail(&mut line, 599, u64::MAX, u32::MAX, cut);
            assert!(line.as_bytes().len() <= TAIL_MAX, "{cut:?}: {}", line.as_bytes().len());
        }
    }

    #[test]
    fn escaped_bytes_are_shortened_to_fit_visibly() {
        let mut b = Buf::new();
        escape_within(&mut b, b"abc", 10);
        assert_eq!(b.as_bytes(), b"abc");
        let mut b = Buf::new();
        b.push(&[b'.'; 1000]);
        escape_within(&mut b, &[0xff; 10], 10);
        assert_eq!(&b.as_bytes()[1000..], "\\xff\\xff\u{2026}".as_bytes(), "whole escapes only, then the mark");
        assert_eq!(b.room(), 10 + 3, "the room kept, and what a whole escape could not use");
        let mut b = Buf::new();
        escape_within(&mut b, &[b'a'; 2000], 50);
        assert_eq!(b.room(), 50);
        assert!(b.as_bytes().ends_with("a\u{2026}".as_bytes()));
    }
}
