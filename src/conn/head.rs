//! Reading a connection's request heads: the bytes received (a static buffer, so that
//! a small request writes one page of it), read until a head is complete, rejected or
//! out of time; the wait for a kept-alive connection's next request; and the clean close
//! that never resets a client still sending.
//!
//! Syscalls: `setsockopt(SO_RCVTIMEO)` (the time left, before a `recvfrom` that must end
//! by a deadline; the idle limit, once, before the first wait for a next request),
//! `recvfrom`, and at a close with bytes perhaps unread `shutdown(SHUT_WR)`.
#![allow(unsafe_code)] // unsafe: the static buffer, borrowed by one function at a time.

use super::room;
use crate::clock;
use crate::http::request::{self, Head, Scan, Verdict};
use crate::http::{HEAD_MAX, Status};
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::time::Duration;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{RecvFlags, Shutdown, recv, shutdown};

/// The connection's bytes: a request head (at most `HEAD_MAX`), perhaps what follows it.
/// A static, not on the stack: the stack probes of an 8 KiB frame write two pages, each
/// a page fault in every child; here, never zeroed and page-aligned, a small request
/// writes (and so copies) one page.
#[repr(C, align(4096))]
pub struct Received {
    /// The first `len` bytes were received; the rest were never written. First, so that
    /// it shares the page of the first bytes.
    pub len: usize,
    bytes: [MaybeUninit<u8>; HEAD_MAX],
}

/// A static the process's one thread may borrow mutably.
struct Single<T>(UnsafeCell<T>);

// SAFETY: forkhttpd's processes have one thread each; the one borrow is [`received`]'s.
unsafe impl<T> Sync for Single<T> {}

static RECEIVED: Single<Received> = Single(UnsafeCell::new(Received { len: 0, bytes: [MaybeUninit::uninit(); HEAD_MAX] }));

impl Received {
    /// The bytes received and not yet consumed.
    pub fn as_bytes(&self) -> &[u8] {
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
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// The connection's buffer, emptied.
///
/// # Safety
///
/// At most one borrow of it may live at a time in the process: the caller serves one
/// connection at a time, and no signal handler calls this.
pub unsafe fn received() -> &'static mut Received {
    // SAFETY: the function's contract.
    let buf = unsafe { &mut *RECEIVED.0.get() };
    buf.len = 0;
    buf
}

/// How long a head may have been arriving before a request for room makes it give up:
/// a client's head comes in one piece, or nearly; one still arriving after this is slow,
/// or stalling on purpose.
pub const PATIENCE: Duration = Duration::from_secs(1);

/// Reads until the head in `buf` is complete, rejected, or out of time; `None` if the
/// client left (or reset) before sending anything worth an answer. `began`: when the
/// head began (for [`PATIENCE`]); `now`: the time, if the caller knows it, for the first
/// `recv`'s timeout. `idle_set` turns false once a `recv` here has its own timeout.
pub fn read_head(conn: &OwnedFd, buf: &mut Received, began: Duration, deadline: Duration, mut now: Option<Duration>, idle_set: &mut bool) -> Option<Verdict> {
    // The lexer goes on from where the last `recv`'s bytes ended: a head that arrives a
    // byte at a time is read once, not again from its start each time.
    let mut scan = Scan::default();
    let timeout = Verdict::reject(Status::RequestTimeout);
    loop {
        if buf.len > 0 {
            if let Head::Complete(verdict) = request::parse_on(&mut scan, buf.as_bytes()) {
                return Some(verdict);
            }
        }
        // The parent asked for room (at `--max-children`, a client waiting, this the
        // oldest connection): a head begun, not complete, and slow (PATIENCE) gives up,
        // with 408; a younger one goes on, and its response will be the connection's
        // last. (Not looked at before the first bytes: a child that reads its head whole
        // at once never reads the flag's page.)
        if buf.len > 0 && room::closing() && clock::monotonic().saturating_sub(began) >= PATIENCE {
            return Some(timeout);
        }
        let now = now.take().unwrap_or_else(clock::monotonic);
        *idle_set = false;
        if !recv_deadline(conn, deadline, now) {
            return Some(timeout);
        }
        match buf.recv(conn) {
            // The client left; or, the parent having asked for room just as this request
            // began, its reading side was shut down: not the client's fault.
            Ok(0) if buf.len == 0 => return None,
            // The client half-closed in mid-head: it will never be complete.
            Ok(0) => return Some(Verdict::reject(Status::BadRequest)),
            Ok(_) => {}
            // SO_RCVTIMEO ran out.
            Err(Errno::AGAIN) => return Some(timeout),
            // Timed receives are not restarted after a signal handler: SIGUSR1's (see
            // above) ends the wait for the rest of a slow head at once.
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Waits up to `idle` (already `SO_RCVTIMEO` if `idle_set`) for the next request's first
/// bytes; false if the client closed,
/// went quiet for that long, or the parent asked for room (the SIGUSR1 handler shuts the
/// connection's reading side down, which ends this `recv` at once).
pub fn wait_for_request(conn: &OwnedFd, buf: &mut Received, idle: Duration, idle_set: &mut bool) -> bool {
    room::arm_idle(conn.as_fd());
    let got = loop {
        if room::closing() {
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
    room::disarm_idle();
    got
}

/// Closes without RST: closing a socket with unread input makes the kernel reset the
/// connection, and a reset client loses the response it has not read yet. So send our
/// FIN first, then read and discard until the client's FIN or the deadline. No byte
/// limit: a client still uploading a body reads the response only when it is done.
pub fn drain(conn: &OwnedFd, buf: &mut Received, deadline: Duration) {
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
