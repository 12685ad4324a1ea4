//! The child: one connection. Read a request head, answer, log; again while the
//! connection persists (HTTP/1.1 keep-alive); close cleanly; exit.
//!
//! The answer is Hello's (no `DIR`) or a file's ([`files`]); every error is a short
//! `text/plain` response. A Hello request costs the child seven syscalls with
//! `--keep-alive 0`: `close` (the listening socket), `setsockopt` (SO_RCVTIMEO, the
//! deadline), `recvfrom`, `sendto`, `write` (the access log), `close` (the connection)
//! and `exit_group`. With
//! keep-alive, the first wait for a next request sets the idle limit (`setsockopt`);
//! then each request whose head arrives whole costs `recvfrom`, `sendto`, `write`, and
//! the end of the connection a last `recvfrom` (which returns 0, or times out). The clocks are read through the vDSO, without a
//! syscall.

pub mod cgi;
pub mod files;

use crate::buf::Buf;
use crate::clock::{self, Now};
use crate::config::Config;
use crate::files::Site;
use crate::http::request::{self, Head, Scan, Verdict};
use crate::http::{HEAD_MAX, Status, response};
use crate::log::{self, Cut};
use crate::signals;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
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
pub fn serve(conn: OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site<'_>>, accepted: Now) -> ! {
    connection(&conn, peer, pid, config, site, accepted);
    // Closed here, as the article's child does, not by `exit_group`: the kernel closes
    // an exiting process's descriptors only after it has torn down its address space,
    // so the FIN would leave tens of µs later. One more syscall, and yet about 10% more
    // connections a second (BENCHMARKS.md).
    drop(conn);
    rustix::runtime::exit_group(0)
}

/// Serves the connection `conn` from `peer`, accepted at `accepted`, until it is done;
/// `pid` is the serving process's, for the log. The caller closes it.
///
/// The first head must be complete within `--timeout` of the accept, and the first
/// response's `Date` is the accept's time: a child that serves one request reads no
/// clock at all (the vDSO's page is not faulted into it). A persistent
/// connection then waits up to `--keep-alive` seconds for the next request's first
/// bytes, and that head too must be complete within `--timeout`. Pipelined requests,
/// already received, are answered in order. The connection ends with the response that
/// says `Connection: close`: the client asked for it, the request had a body (never
/// read), the head was rejected, `--max-requests` were served, or the parent, at
/// `--max-children`, asked its children to make room (SIGUSR1, see `signals`).
pub fn connection(conn: &OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config<'_>, site: Option<&Site<'_>>, accepted: Now) {
    // SAFETY: `RECEIVED` is used here alone, and this function never runs twice at once
    // in a process: its one thread calls it for one connection at a time, and no signal
    // handler calls it.
    let buf = unsafe { &mut *RECEIVED.0.get() };
    buf.len = 0;
    let timeout = Duration::from_secs(config.timeout.into());
    let mut now = Some(accepted);
    let mut deadline = accepted.monotonic + timeout;
    let mut served = 0;
    // SO_RCVTIMEO is the idle limit (set before the first wait, and kept while every
    // head arrives whole): each further request costs no `setsockopt`.
    let mut idle_set = false;
    loop {
        // The first `recv`'s clock is the accept's (see above).
        let Some(verdict) = read_head(conn, buf, deadline, now.map(|now| now.monotonic), &mut idle_set) else { return };
        let received = buf.len;
        served += 1;
        let keep = verdict.accepted()
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
            unix: now.take().map_or_else(clock::unix_seconds, |now| now.unix),
            deadline,
            timeout,
        };
        let head = buf.as_bytes();
        // Methods other than GET and HEAD are a script's to take, or 405 (OPTIONS 204).
        let to_site = matches!(verdict.status, Status::Ok | Status::MethodNotAllowed | Status::NoContent);
        let answer = match site {
            Some(site) if to_site => files::answer(&x, head, site),
            _ => x.reply(verdict.status),
        };
        if !config.quiet {
            log::access(peer, request::request_line(head), answer.code, answer.bytes, pid, answer.cut);
        }
        if !keep || answer.cut.is_some() || answer.last {
            if verdict.may_leave_unread(received) {
                drain(conn, buf, deadline);
            }
            return;
        }
        // What came after this head (pipelined requests) moves to the front.
        buf.consume(verdict.head_len);
        if buf.len == 0 && !wait_for_request(conn, buf, Duration::from_secs(config.keep_alive.into()), &mut idle_set) {
            return;
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
        if out.is_cut() {
            return self.too_long();
        }
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// Makes room for `n` more bytes in `out`, the start of a head too long for one
    /// buffer, by sending what it holds (`MSG_MORE`: the rest follows at once). A head of
    /// ordinary size never needs this: it leaves in one `send`.
    pub fn make_room(&self, out: &mut Buf, n: usize) -> Result<(), Cut> {
        if out.room() < n {
            send_all(self.conn, out.as_bytes(), SendFlags::MORE)?;
            out.clear();
        }
        Ok(())
    }

    /// Ends and sends `out`, the head of a response whose body of `len` bytes the caller
    /// sends next; `Some` if nothing is to follow (HEAD, an empty body, a failed send).
    /// `MSG_MORE` when a body follows: the head waits for its first bytes, and both
    /// leave in one segment.
    pub fn send_head(&self, out: &mut Buf, status: Status, len: u64) -> Option<Answer> {
        response::end(out, self.connection);
        if out.is_cut() {
            return Some(self.too_long());
        }
        let body = !self.head_only && len > 0;
        let flags = if body { SendFlags::MORE } else { SendFlags::empty() };
        match send_all(self.conn, out.as_bytes(), flags) {
            Err(cut) => Some(Answer::sent(status, 0, Some(cut))),
            Ok(()) if !body => Some(Answer::sent(status, 0, None)),
            Ok(()) => None,
        }
    }
}

impl Exchange<'_> {
    /// A head built for this request did not fit its buffer: never sent cut, it becomes
    /// a 500, and an event says so. (No head the server builds in one buffer comes near
    /// its size; longer ones are built with `make_room`.)
    #[cold]
    fn too_long(&self) -> Answer {
        log::event(&mut |line| {
            line.push(b"a response head did not fit in its buffer: 500 instead");
        });
        self.reply(Status::InternalServerError)
    }
}

/// The connection's bytes: a request head (at most `HEAD_MAX`), perhaps what follows it.
/// A static, not on the stack: the stack probes of an 8 KiB frame write two pages, each
/// a page fault in every child; here, never zeroed and page-aligned, a small request
/// writes (and so copies) one page.
#[repr(C, align(4096))]
struct Received {
    /// The first `len` bytes were received; the rest were never written. First, so that
    /// it shares the page of the first bytes.
    len: usize,
    bytes: [MaybeUninit<u8>; HEAD_MAX],
}

/// A static the process's one thread may borrow mutably.
struct Single<T>(UnsafeCell<T>);

// SAFETY: forkhttpd's processes have one thread each; the one borrow is `connection`'s.
unsafe impl<T> Sync for Single<T> {}

static RECEIVED: Single<Received> = Single(UnsafeCell::new(Received { len: 0, bytes: [MaybeUninit::uninit(); HEAD_MAX] }));

impl Received {
    fn as_bytes(&self) -> &[u8] {
        let filled = self.bytes.get(..self.len).unwrap_or(&[]);
        // SAFETY: `recv` wrote the first `len` bytes (`recv` and `consume` keep that
        // so), and `MaybeUninit<u8>` has `u8`'s layout.
        unsafe { &*(filled as *const [MaybeUninit<u8>] as *const [u8]) }
    }

    /// One `recv` into the room after the bytes held; 0 at the client's FIN.
    fn recv(&mut self, conn: &OwnedFd) -> Result<usize, Errno> {
        let room = self.bytes.get_mut(self.len..).unwrap_or(&mut []);
        let ((got, _), _) = recv(conn, room, RecvFlags::empty())?;
        let n = got.len();
        self.len += n;
        Ok(n)
    }

    /// Forgets the first `n` bytes (an answered head): what followed moves to the front.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// Reads until the head in `buf` is complete, rejected, or out of time; `None` if the
/// client left (or reset) before sending anything worth an answer. `now`: the time, if
/// the caller knows it, for the first `recv`'s timeout. `idle_set` turns false once a
/// `recv` here has its own timeout.
fn read_head(conn: &OwnedFd, buf: &mut Received, deadline: Duration, mut now: Option<Duration>, idle_set: &mut bool) -> Option<Verdict> {
    // The lexer goes on from where the last `recv`'s bytes ended: a head that arrives a
    // byte at a time is read once, not again from its start each time.
    let mut scan = Scan::default();
    loop {
        if buf.len > 0 {
            if let Head::Complete(verdict) = request::parse_on(&mut scan, buf.as_bytes()) {
                return Some(verdict);
            }
        }
        let timeout = Verdict::reject(Status::RequestTimeout);
        let now = now.take().unwrap_or_else(clock::monotonic);
        *idle_set = false;
        if !recv_deadline(conn, deadline, now) {
            return Some(timeout);
        }
        match buf.recv(conn) {
            // The client left; or, the parent having asked for room just as this request
            // began, its reading side was shut down: not the client's fault.
            Ok(0) if buf.len == 0 || signals::closing() => return None,
            // The client half-closed in mid-head: it will never be complete.
            Ok(0) => return Some(Verdict::reject(Status::BadRequest)),
            Ok(_) => {}
            // SO_RCVTIMEO ran out.
            Err(Errno::AGAIN) => return Some(timeout),
            // Timed receives are not restarted after a signal handler.
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Waits up to `idle` (already `SO_RCVTIMEO` if `idle_set`) for the next request's first
/// bytes; false if the client closed,
/// went quiet for that long, or the parent asked for room (the SIGUSR1 handler shuts the
/// connection's reading side down, which ends this `recv` at once).
fn wait_for_request(conn: &OwnedFd, buf: &mut Received, idle: Duration, idle_set: &mut bool) -> bool {
    signals::arm_idle(conn.as_fd());
    let got = loop {
        if signals::closing() {
            break false;
        }
        if !*idle_set {
            if set_socket_timeout(conn, Timeout::Recv, Some(idle)).is_err() {
                break false;
            }
            *idle_set = true;
        }
        match buf.recv(conn) {
            Ok(n) => break n > 0,
            Err(Errno::INTR) => continue,
            Err(_) => break false,
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
fn drain(conn: &OwnedFd, buf: &mut Received, deadline: Duration) {
    let _ = shutdown(conn, Shutdown::Write);
    while recv_deadline(conn, deadline, clock::monotonic()) {
        buf.len = 0;
        match buf.recv(conn) {
            Ok(0) => return,
            Ok(_) | Err(Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// Makes the next `recv` give up at `deadline`, it being `now`; false if it has passed.
fn recv_deadline(conn: &OwnedFd, deadline: Duration, now: Duration) -> bool {
    // Whole microseconds: rustix 1.1.4 rounds 999_999_500 ns up to 1_000_000 µs, which
    // the kernel rejects with EDOM.
    let left = deadline.checked_sub(now).map(|d| Duration::from_micros(d.as_micros() as u64));
    match left {
        Some(left) if !left.is_zero() => set_socket_timeout(conn, Timeout::Recv, Some(left)).is_ok(),
        _ => false,
    }
}
