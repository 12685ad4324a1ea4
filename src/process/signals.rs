//! Signals: graceful stop on SIGTERM/SIGINT (a second SIGINT forces it), SIGPIPE ignored,
//! and, with keep-alive, SIGUSR1 (the parent asks its children to make room: the handler
//! is the connection's, `conn::room`). The SIGCHLD reaper is the pid table's
//! (`table::install_reaper`).
//!
//! Handlers are installed with origin's `sigaction`, which supplies `SA_RESTORER` and the
//! `rt_sigreturn` trampoline the kernel returns through. All use `SA_RESTART`, so the
//! parent's `accept4` is restarted by the kernel instead of failing with EINTR. Handlers
//! only touch atomics and make async-signal-safe syscalls; nothing in them can panic.
//! Syscalls: `rt_sigaction` for each, at start-up; `getpid` and `shutdown` in the stop
//! handler.
#![allow(unsafe_code)] // unsafe: installing handlers; the stop handler borrows the socket by number.

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};
use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::process::Pid;
pub use rustix::runtime::{KernelSigactionFlags as Flags, KernelSighandler, Signal};

/// Set by SIGTERM or SIGINT: stop accepting.
static STOP: AtomicBool = AtomicBool::new(false);

/// Set by a second SIGINT: do not wait for the children.
static FORCE: AtomicBool = AtomicBool::new(false);

/// The listening socket plus one while the parent accepts on it, else 0 (a zero start
/// puts the static in .bss, not in a .data section of its own); and the parent's pid.
/// Set once, not around each `fork`: a write per connection would make the parent copy
/// this page, which its children share. A child has the same values, and its handler
/// tells itself apart by its pid.
static LISTENER: AtomicI32 = AtomicI32::new(0);
static PARENT: AtomicI32 = AtomicI32::new(0);

/// Installs the stop's handlers and ignores SIGPIPE; forked children inherit them.
/// `keep_alive`: children keep connections open, so they need SIGUSR1's.
#[cfg(feature = "start")]
pub fn install(keep_alive: bool) {
    set(Signal::TERM, Some(on_stop), Flags::RESTART);
    set(Signal::INT, Some(on_stop), Flags::RESTART);
    // A client that went away must cost a child an EPIPE, not its life.
    set(Signal::PIPE, rustix::runtime::kernel_sig_ign(), Flags::RESTART);
    if keep_alive {
        set(Signal::USR1, Some(crate::conn::room::on_room), Flags::RESTART);
    }
}

/// One `rt_sigaction`: `handler` for `sig`, with `flags` (and origin's `SA_RESTORER`).
/// Not in unit tests: they never install handlers, and referring to origin would link
/// its `_start` into the test binary, which has libc's.
#[cfg(all(feature = "start", not(test)))]
pub fn set(sig: Signal, handler: KernelSighandler, flags: Flags) {
    let action = rustix::runtime::KernelSigaction { sa_handler_kernel: handler, sa_flags: flags, ..Default::default() };
    // SAFETY: callers pass async-signal-safe handlers, and origin's `sigaction` adds the
    // `SA_RESTORER` trampoline the kernel needs to return from them. Installing can only
    // fail for an invalid signal number, and `Signal`s are valid.
    let _ = unsafe { origin::signal::sigaction(sig, Some(action)) };
}

/// In unit tests, nothing: they install no handler.
#[cfg(all(feature = "start", test))]
pub fn set(_: Signal, _: KernelSighandler, _: Flags) {}

/// Stops the accept loop. `accept4` is restarted after handlers, so the flag alone could
/// go unseen while the parent blocks there; shutting the listening socket down makes that
/// `accept4` (or the next one) fail with EINVAL at once, with no window in between.
#[cfg(feature = "start")]
extern "C" fn on_stop(sig: i32) {
    if STOP.swap(true, SeqCst) && sig == Signal::INT.as_raw() {
        FORCE.store(true, SeqCst);
    }
    let fd = LISTENER.load(SeqCst) - 1;
    // A child's copy of the socket is the parent's socket: a child must never shut it
    // down (a SIGINT from the terminal reaches them all; a child may be sent a SIGTERM).
    if fd >= 0 && rustix::process::getpid().as_raw_nonzero().get() == PARENT.load(SeqCst) {
        // SAFETY: `arm` stores only the parent's open listening socket, and `disarm`
        // clears it before that socket is closed; this is the parent.
        let _ = rustix::net::shutdown(unsafe { BorrowedFd::borrow_raw(fd) }, rustix::net::Shutdown::Read);
    }
}

/// Lets SIGTERM/SIGINT shut `listener` down, in the parent `pid` only (one `getpid` per
/// stop signal, in every process that gets it); call before checking `stopping`.
pub fn arm(listener: BorrowedFd<'_>, pid: Pid) {
    PARENT.store(pid.as_raw_nonzero().get(), SeqCst);
    LISTENER.store(listener.as_raw_fd() + 1, SeqCst);
}

/// Before closing the listener: a closed descriptor must not be shut down.
pub fn disarm() {
    LISTENER.store(0, SeqCst);
}

/// SIGTERM or SIGINT came: stop accepting.
pub fn stopping() -> bool {
    STOP.load(SeqCst)
}

/// A second SIGINT came.
pub fn forced() -> bool {
    FORCE.load(SeqCst)
}
