//! Making room: at `--max-children` with a client waiting, the parent sends SIGUSR1 to the
//! process holding the oldest connection (fork mode: the oldest child; prefork: the
//! oldest kept-alive or still-reading worker, from the scoreboard), one at a time until
//! the client is served; at the stop, with keep-alive, to every child. A child waiting
//! for a kept-alive connection's next request closes it at once; one still reading a
//! head gives up with 408 (a slow or stalled head must not hold a process others need);
//! one in the middle of a request makes its response the connection's last.
//!
//! The handler ([`on_room`], installed by `process::signals` for the children) only sets
//! a flag and, when the connection is idle, shuts its reading side down
//! (`shutdown(SHUT_RD)`), which ends the wait's `recvfrom` at once: no window between a
//! check of the flag and the wait. A head's `recvfrom` has a timeout, so the handler
//! interrupts it (EINTR) without that.
#![allow(unsafe_code)] // unsafe: the handler borrows the connection's descriptor by number.

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};
use rustix::fd::{AsRawFd, BorrowedFd};

/// SIGUSR1 came: the connection ends after the response in progress.
static CLOSING: AtomicBool = AtomicBool::new(false);

/// The connection plus one while it waits for a kept-alive client's next request, else 0
/// (a zero start puts the static in .bss).
static IDLE: AtomicI32 = AtomicI32::new(0);

/// SIGUSR1's handler, in a child: async-signal-safe, an atomic and a `shutdown`.
pub extern "C" fn on_room(_: i32) {
    CLOSING.store(true, SeqCst);
    let fd = IDLE.load(SeqCst) - 1;
    if fd >= 0 {
        // SAFETY: `arm_idle` stores only the child's open connection, and `disarm_idle`
        // clears it before the connection is closed.
        let _ = rustix::net::shutdown(unsafe { BorrowedFd::borrow_raw(fd) }, rustix::net::Shutdown::Read);
    }
}

/// Lets SIGUSR1 end the wait for the next request on `conn`; call before checking
/// [`closing`].
pub fn arm_idle(conn: BorrowedFd<'_>) {
    IDLE.store(conn.as_raw_fd() + 1, SeqCst);
}

/// The wait for the next request is over (before the connection may be closed).
pub fn disarm_idle() {
    IDLE.store(0, SeqCst);
}

/// The parent asked for room: this response is the connection's last.
pub fn closing() -> bool {
    CLOSING.load(SeqCst)
}

/// A prefork worker's next connection: the last one's request for room is done with.
/// (Written only when set: a fork-mode child never writes the flag's page for nothing.)
pub fn reset() {
    if CLOSING.load(SeqCst) {
        CLOSING.store(false, SeqCst);
    }
}
