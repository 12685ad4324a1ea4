//! The child: read the request head, answer, log, close cleanly, exit.
//!
//! The answer is Hello's (no `DIR`) or a file's ([`files`]); every error is a short
//! `text/plain` response. A Hello request costs the child six syscalls: `close` (the
//! listening socket), `setsockopt` (SO_RCVTIMEO, the deadline), `recvfrom`, `sendto`,
//! `write` (the access log) and `exit_group`. The clocks are read through the vDSO,
//! without a syscall.

pub mod files;

use crate::buf::Buf;
use crate::clock;
use crate::config::Config;
use crate::files::Site;
use crate::http::request::{self, Head, Verdict};
use crate::http::{HEAD_MAX, Status, response};
use crate::log::{self, Cut};
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{RecvFlags, SendFlags, Shutdown, recv, send, shutdown};

/// What a handler did, for the access log.
pub struct Answer {
    pub status: Status,
    /// Body bytes sent.
    pub bytes: u64,
    pub cut: Option<Cut>,
}

/// Serves the connection, then exits the process.
pub fn serve(conn: OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site>) -> ! {
    connection(&conn, peer, pid, config, site);
    rustix::runtime::exit_group(0)
}

/// Serves the connection `conn` from `peer` until it is done; `pid` is the serving
/// process's, for the log. The caller closes it.
pub fn connection(conn: &OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site>) {
    let deadline = clock::monotonic() + Duration::from_secs(config.timeout.into());
    let mut buf = [0u8; HEAD_MAX];
    if let Some((verdict, received)) = read_head(conn, &mut buf, deadline) {
        let head = buf.get(..received).unwrap_or(&[]);
        let unix = clock::unix_seconds();
        let answer = match site {
            Some(site) if verdict.status == Status::Ok => files::answer(conn, head, verdict.head_only, site, unix),
            _ => reply(conn, verdict.status, verdict.head_only, unix),
        };
        if !config.quiet {
            log::access(peer, request::request_line(head), answer.status.code(), answer.bytes, pid, answer.cut);
        }
        if verdict.may_leave_unread(received) {
            drain(conn, &mut buf, deadline);
        }
    }
}

/// Sends Hello's response (`Status::Ok`) or an error's: one `text/plain` buffer, one `send`.
pub fn reply(conn: &OwnedFd, status: Status, head_only: bool, unix: i64) -> Answer {
    let mut out = Buf::new();
    let body = response::write(&mut out, status, head_only, unix);
    let cut = send_all(conn, out.as_bytes(), SendFlags::empty()).err();
    Answer { status, bytes: if cut.is_none() { body } else { 0 }, cut }
}

/// Reads until the head is complete, rejected, or out of time; `None` if the client left
/// (or reset) before sending anything worth an answer. Returns the bytes received.
fn read_head(conn: &OwnedFd, buf: &mut [u8; HEAD_MAX], deadline: Duration) -> Option<(Verdict, usize)> {
    let mut received = 0;
    loop {
        let timeout = Verdict::reject(Status::RequestTimeout);
        if !recv_deadline(conn, deadline) {
            return Some((timeout, received));
        }
        let free = buf.get_mut(received..).unwrap_or(&mut []);
        match recv(conn, free, RecvFlags::empty()) {
            Ok((0, _)) if received == 0 => return None,
            // The client half-closed in mid-head: it will never be complete.
            Ok((0, _)) => return Some((Verdict::reject(Status::BadRequest), received)),
            Ok((n, _)) => received += n,
            // SO_RCVTIMEO ran out.
            Err(Errno::AGAIN) => return Some((timeout, received)),
            // Timed receives are not restarted after a signal handler.
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
        if let Head::Complete(verdict) = request::parse(buf.get(..received).unwrap_or(&[])) {
            return Some((verdict, received));
        }
    }
}

/// Sends all of `bytes` (`flags` and MSG_NOSIGNAL); fails if the client went away
/// (EPIPE, ECONNRESET: MSG_NOSIGNAL makes that an error, not a SIGPIPE death) or, where
/// `SO_SNDTIMEO` is set, took nothing for that long.
pub fn send_all(conn: &OwnedFd, mut bytes: &[u8], flags: SendFlags) -> Result<(), Cut> {
    while !bytes.is_empty() {
        match send(conn, bytes, flags | SendFlags::NOSIGNAL) {
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Cut::from(e)),
        }
    }
    Ok(())
}

/// Closes without RST: closing a socket with unread input makes the kernel reset the
/// connection, and a reset client loses the response it has not read yet. So send our
/// FIN first, then read and discard until the client's FIN or the deadline. No byte
/// limit: a client still uploading a body reads the response only when it is done.
fn drain(conn: &OwnedFd, buf: &mut [u8], deadline: Duration) {
    let _ = shutdown(conn, Shutdown::Write);
    while recv_deadline(conn, deadline) {
        match recv(conn, &mut *buf, RecvFlags::empty()) {
            Ok((0, _)) => return,
            Ok(_) | Err(Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// Makes the next `recv` give up at `deadline`; false if it has passed.
fn recv_deadline(conn: &OwnedFd, deadline: Duration) -> bool {
    // Whole microseconds: rustix 1.1.4 rounds 999_999_500 ns up to 1_000_000 µs, which
    // the kernel rejects with EDOM.
    let left = deadline.checked_sub(clock::monotonic()).map(|d| Duration::from_micros(d.as_micros() as u64));
    match left {
        Some(left) if !left.is_zero() => set_socket_timeout(conn, Timeout::Recv, Some(left)).is_ok(),
        _ => false,
    }
}
