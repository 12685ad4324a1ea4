//! Making room (keep-alive only): at `--max-children` with a client waiting, or at the
//! stop, the parent sends its children SIGUSR1. A child waiting for a kept-alive
//! connection's next request closes it at once; a child in the middle of a request makes
//! its response the connection's last.
//!
//! The handler ([`on_room`], installed by `process::signals`) only sets a flag and, when
//! the connection is idle, shuts its reading side down (`shutdown(SHUT_RD)`), which ends
//! the wait's `recvfrom` at once: no window between a check of the flag and the wait.
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
