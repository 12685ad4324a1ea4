//! What forkhttpd prints: the start-up line, the access log, and one-line errors. Each
//! line is assembled in a buffer and leaves in a single `write(2)`: lines up to PIPE_BUF
//! (4096) bytes are written atomically, so children writing at once never interleave.

use crate::addr;
use crate::buf::Buf;
use core::net::SocketAddr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// The most of a request line the access log shows.
const REQUEST_LINE_MAX: usize = 256;

pub fn stdout(line: &[u8]) {
    // SAFETY: the borrow lasts one `write`. Descriptor 1 is whatever the caller left
    // there; if it is not open, the write fails with EBADF, which `emit` ignores.
    emit(unsafe { rustix::stdio::stdout() }, line);
}

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
    line.byte(b'\n');
    stderr(line.as_bytes());
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
/// printable ASCII escaped as `\xHH` and cut to 256 bytes (marked `...`), BYTES the body
/// bytes sent, PID the child that served the connection; then, if the response could not
/// be sent whole, why (see [`Cut`]).
pub fn access(peer: Option<&SocketAddr>, request_line: &[u8], status: u16, bytes: u64, pid: u32, cut: Option<Cut>) {
    let mut line = Buf::new();
    match peer {
        Some(peer) => addr::write(&mut line, peer),
        None => {
            line.byte(b'-');
        }
    }
    line.push(b" \"");
    escape(&mut line, request_line.get(..REQUEST_LINE_MAX).unwrap_or(request_line));
    if request_line.len() > REQUEST_LINE_MAX {
        line.push(b"...");
    }
    line.push(b"\" ").num(status.into()).byte(b' ').num(bytes);
    line.push(b" pid=").num(pid.into());
    match cut {
        Some(Cut::Failed(e)) => {
            line.push(b" send failed: ");
            crate::errno::write(&mut line, e);
        }
        Some(Cut::Stalled) => {
            line.push(b" send timed out: the client took nothing for --timeout");
        }
        Some(Cut::Shrank) => {
            line.push(b" file shrank while sent: connection closed early");
        }
        None => {}
    }
    stdout(line.byte(b'\n').as_bytes());
}

/// Keeps a client's bytes from forging log lines or fields.
fn escape(out: &mut Buf, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            out.byte(b);
        } else {
            out.push(b"\\x");
            out.byte(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'?'));
            out.byte(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'?'));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut b = Buf::new();
        escape(&mut b, b"GET /\"a\\b\r\n\x00\xff~ HTTP/1.1");
        assert_eq!(b.as_bytes(), br#"GET /\x22a\x5cb\x0d\x0a\x00\xff~ HTTP/1.1"#);
    }
}
