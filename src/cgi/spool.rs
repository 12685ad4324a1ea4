//! A chunked request body, read whole before the script starts and decoded
//! ([`crate::http::chunked`]) into an anonymous file, which becomes the script's stdin:
//! a CGI program is promised a `CONTENT_LENGTH`, and the length of a chunked body is
//! known only at its end. No allocator: the file holds the body, not memory.
//!
//! Until the connection's deadline (then 408), at most `--max-body` bytes (then 413).
//!
//! Syscalls: `memfd_create`, then `recvfrom` (with `setsockopt(SO_RCVTIMEO)` before each,
//! the time left) and `write` until the body ends, and `lseek` back to its start.

use super::Server;
use crate::clock;
use crate::http::Status;
use crate::http::chunked::Decoder;
use core::time::Duration;
use rustix::fd::OwnedFd;
use rustix::fs::{MemfdFlags, SeekFrom, memfd_create, seek};
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{RecvFlags, recv};

/// Reads the chunked body that starts with `received` (what came after the head) from
/// `conn`; returns the file that holds it, at its start, and its length. `Err(Some)`: the
/// response the request gets instead; `Err(None)`: the client went away.
pub fn read(conn: &OwnedFd, received: &[u8], server: &Server<'_>) -> Result<(OwnedFd, u64), Option<Status>> {
    let file = memfd_create(c"forkhttpd-body", MemfdFlags::CLOEXEC).map_err(|_| Some(Status::ServiceUnavailable))?;
    let mut decoder = Decoder::new();
    let mut sink = Sink { file: &file, length: 0, max: server.max_body, failed: None };
    let mut input = [0u8; 16 * 1024];
    let mut piece = received;
    loop {
        decoder.feed(piece, &mut |bytes| sink.put(bytes)).map_err(|_| Some(Status::BadRequest))?;
        if let Some(status) = sink.failed {
            return Err(Some(status));
        }
        if decoder.done() {
            break;
        }
        let left = server.deadline.checked_sub(clock::monotonic()).map(|d| Duration::from_micros(d.as_micros() as u64));
        let Some(left) = left.filter(|d| !d.is_zero()) else { return Err(Some(Status::RequestTimeout)) };
        // Without its deadline the read could wait forever: the body never comes.
        set_socket_timeout(conn, Timeout::Recv, Some(left)).map_err(|_| Some(Status::RequestTimeout))?;
        piece = match recv(conn, &mut input, RecvFlags::empty()) {
            Ok((0, _)) => return Err(None),
            Ok((n, _)) => input.get(..n).unwrap_or(&[]),
            Err(Errno::INTR) => &[],
            Err(Errno::AGAIN) => return Err(Some(Status::RequestTimeout)),
            Err(_) => return Err(None),
        };
    }
    let length = sink.length;
    seek(&file, SeekFrom::Start(0)).map_err(|_| Some(Status::ServiceUnavailable))?;
    Ok((file, length))
}

/// Where the decoded bytes go.
struct Sink<'f> {
    file: &'f OwnedFd,
    length: u64,
    max: u64,
    /// The status the request gets once storing has failed; nothing is stored after.
    failed: Option<Status>,
}

impl Sink<'_> {
    fn put(&mut self, mut bytes: &[u8]) {
        self.length += bytes.len() as u64;
        if self.failed.is_none() && self.length > self.max {
            self.failed = Some(Status::ContentTooLarge);
        }
        while self.failed.is_none() && !bytes.is_empty() {
            match rustix::io::write(self.file, bytes) {
                Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
                Err(Errno::INTR) => {}
                // ENOSPC, ENOMEM: no room for it.
                Err(_) => self.failed = Some(Status::ServiceUnavailable),
            }
        }
    }
}
