//! The child: one connection. Read a request head, answer, log; again while the
//! connection persists (HTTP/1.1 keep-alive); close cleanly; exit.
//!
//! The answer is Hello's (no `DIR`) or a file's ([`files`]); every error is a short
//! `text/plain` response. A Hello request costs the child six syscalls with
//! `--keep-alive 0`: `close` (the listening socket), `setsockopt` (SO_RCVTIMEO, the
//! deadline), `recvfrom`, `sendto`, `write` (the access log) and `exit_group`. With
//! keep-alive, each further request costs `setsockopt` (the idle limit), `recvfrom`,
//! `sendto`, `write`, and the end of the connection a last `setsockopt` and `recvfrom`
//! (which returns 0, or times out). The clocks are read through the vDSO, without a
//! syscall.

pub mod cgi;
pub mod files;

use crate::buf::Buf;
use crate::clock;
use crate::config::Config;
use crate::files::Site;
use crate::http::request::{self, Head, Verdict};
use crate::http::{HEAD_MAX, Status, response};
use crate::log::{self, Cut};
use crate::signals;
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{RecvFlags, SendFlags, Shutdown, recv, send, shutdown};

/// What a handler did, for the access log.
pub struct Answer {
    /// The status code sent (a script's may be any).
    pub code: u16,
    /// Body bytes sent.
    pub bytes: u64,
    pub cut: Option<Cut>,
    /// The response ended the connection whatever the request asked (a script's).
    pub last: bool,
}

impl Answer {
    fn sent(status: Status, bytes: u64, cut: Option<Cut>) -> Answer {
        Answer { code: status.code(), bytes: if cut.is_none() { bytes } else { 0 }, cut, last: false }
    }
}

/// One request's answer: where it goes, and what every response head must say.
pub struct Exchange<'c> {
    pub conn: &'c OwnedFd,
    pub peer: Option<&'c SocketAddr>,
    pub head_only: bool,
    /// The `Connection` field: `response::CLOSE`, `KEEP_ALIVE` or `OPEN`.
    pub connection: &'static [u8],
    pub unix: i64,
    /// When the head had to be complete: a script's header block has until then too.
    pub deadline: Duration,
    /// `--timeout`.
    pub timeout: Duration,
}

/// Serves the connection, then exits the process.
pub fn serve(conn: OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site<'_>>) -> ! {
    connection(&conn, peer, pid, config, site);
    rustix::runtime::exit_group(0)
}

/// Serves the connection `conn` from `peer` until it is done; `pid` is the serving
/// process's, for the log. The caller closes it.
///
/// The first head must be complete within `--timeout` of the accept. A persistent
/// connection then waits up to `--keep-alive` seconds for the next request's first
/// bytes, and that head too must be complete within `--timeout`. Pipelined requests,
/// already received, are answered in order. The connection ends with the response that
/// says `Connection: close`: the client asked for it, the request had a body (never
/// read), the head was rejected, `--max-requests` were served, or the parent, at
/// `--max-children`, asked its children to make room (SIGUSR1, see `signals`).
pub fn connection(conn: &OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site<'_>>) {
    let mut buf = [0u8; HEAD_MAX];
    let mut received = 0;
    let timeout = Duration::from_secs(config.timeout.into());
    let mut deadline = clock::monotonic() + timeout;
    let mut served = 0;
    loop {
        let Some((verdict, got)) = read_head(conn, &mut buf, received, deadline) else { return };
        received = got;
        served += 1;
        let keep = verdict.status == Status::Ok
            && verdict.keep_alive
            && !verdict.body_follows
            && config.keep_alive > 0
            && served < config.max_requests
            && !signals::closing();
        let x = Exchange {
            conn,
            peer,
            head_only: verdict.head_only,
            connection: match (keep, verdict.http10) {
                (false, _) => response::CLOSE,
                (true, true) => response::KEEP_ALIVE,
                (true, false) => response::OPEN,
            },
            unix: clock::unix_seconds(),
            deadline,
            timeout,
        };
        let head = buf.get(..received).unwrap_or(&[]);
        // Methods other than GET and HEAD are a script's to take, or 405.
        let to_site = verdict.status == Status::Ok || verdict.status == Status::MethodNotAllowed;
        let answer = match site {
            Some(site) if to_site => files::answer(&x, head, site),
            _ => x.reply(verdict.status),
        };
        if !config.quiet {
            log::access(peer, request::request_line(head), answer.code, answer.bytes, pid, answer.cut);
        }
        if !keep || answer.cut.is_some() || answer.last {
            if verdict.may_leave_unread(received) {
                drain(conn, &mut buf, deadline);
            }
            return;
        }
        // What came after this head (pipelined requests) moves to the front.
        buf.copy_within(verdict.head_len.min(received)..received, 0);
        received -= verdict.head_len.min(received);
        if received == 0 {
            let idle = Duration::from_secs(config.keep_alive.into());
            match wait_for_request(conn, &mut buf, idle) {
                Some(n) => received = n,
                None => return,
            }
        }
        deadline = clock::monotonic() + timeout;
    }
}

impl Exchange<'_> {
    /// Sends Hello's response (`Status::Ok`) or an error's: one `text/plain` buffer, one `send`.
    pub fn reply(&self, status: Status) -> Answer {
        let mut out = Buf::new();
        let body = response::write(&mut out, status, self.head_only, self.connection, self.unix);
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// Ends `out`, a `text/plain` head its caller built for `status`, adds the status's
    /// body, and sends.
    pub fn send_text(&self, mut out: Buf, status: Status) -> Answer {
        response::end(&mut out, self.connection);
        let body = if self.head_only { 0 } else { response::error_body(&mut out, status) };
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// Ends and sends `out`, the head of a response whose body of `len` bytes the caller
    /// sends next; `Some` if nothing is to follow (HEAD, an empty body, a failed send).
    /// `MSG_MORE` when a body follows: the head waits for its first bytes, and both
    /// leave in one segment.
    pub fn send_head(&self, out: &mut Buf, status: Status, len: u64) -> Option<Answer> {
        response::end(out, self.connection);
        let body = !self.head_only && len > 0;
        let flags = if body { SendFlags::MORE } else { SendFlags::empty() };
        match send_all(self.conn, out.as_bytes(), flags) {
            Err(cut) => Some(Answer::sent(status, 0, Some(cut))),
            Ok(()) if !body => Some(Answer::sent(status, 0, None)),
            Ok(()) => None,
        }
    }
}

/// Reads until the head is complete, rejected, or out of time, the first `received`
/// bytes of `buf` being there already; `None` if the client left (or reset) before
/// sending anything worth an answer. Returns the bytes received.
fn read_head(conn: &OwnedFd, buf: &mut [u8; HEAD_MAX], mut received: usize, deadline: Duration) -> Option<(Verdict, usize)> {
    loop {
        if received > 0 {
            if let Head::Complete(verdict) = request::parse(buf.get(..received).unwrap_or(&[])) {
                return Some((verdict, received));
            }
        }
        let timeout = Verdict::reject(Status::RequestTimeout);
        if !recv_deadline(conn, deadline) {
            return Some((timeout, received));
        }
        let free = buf.get_mut(received..).unwrap_or(&mut []);
        match recv(conn, free, RecvFlags::empty()) {
            // The client left; or, the parent having asked for room just as this request
            // began, its reading side was shut down: not the client's fault.
            Ok((0, _)) if received == 0 || signals::closing() => return None,
            // The client half-closed in mid-head: it will never be complete.
            Ok((0, _)) => return Some((Verdict::reject(Status::BadRequest), received)),
            Ok((n, _)) => received += n,
            // SO_RCVTIMEO ran out.
            Err(Errno::AGAIN) => return Some((timeout, received)),
            // Timed receives are not restarted after a signal handler.
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Waits up to `idle` for the next request's first bytes; `None` if the client closed,
/// went quiet for that long, or the parent asked for room (the SIGUSR1 handler shuts the
/// connection's reading side down, which ends this `recv` at once).
fn wait_for_request(conn: &OwnedFd, buf: &mut [u8], idle: Duration) -> Option<usize> {
    signals::arm_idle(conn.as_fd());
    let got = loop {
        if signals::closing() || set_socket_timeout(conn, Timeout::Recv, Some(idle)).is_err() {
            break None;
        }
        match recv(conn, &mut *buf, RecvFlags::empty()) {
            Ok((n, _)) if n > 0 => break Some(n),
            Err(Errno::INTR) => continue,
            _ => break None,
        }
    };
    signals::disarm_idle();
    got
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
