//! Signals: the SIGCHLD reaper, graceful stop on SIGTERM/SIGINT (a second SIGINT forces
//! it), SIGPIPE ignored, and, with keep-alive, SIGUSR1: the parent at `--max-children`
//! asks its children to make room.
//!
//! Handlers are installed with origin's `sigaction`, which supplies `SA_RESTORER` and the
//! `rt_sigreturn` trampoline the kernel returns through. All use `SA_RESTART`, so the
//! parent's `accept4` is restarted by the kernel instead of failing with EINTR. Handlers
//! only touch atomics and make async-signal-safe syscalls; nothing in them can panic.

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

/// In a child: SIGUSR1 came, the connection ends after the response in progress.
static CLOSING: AtomicBool = AtomicBool::new(false);

/// In a child: the connection plus one while it waits for a kept-alive client's next
/// request, else 0.
static IDLE: AtomicI32 = AtomicI32::new(0);

/// Installs the handlers; forked children inherit them. `keep_alive`: children keep
/// connections open, so they need SIGUSR1's.
#[cfg(feature = "start")]
pub fn install(keep_alive: bool) {
    set(Signal::CHILD, Some(on_child), Flags::RESTART | Flags::NOCLDSTOP);
    set(Signal::TERM, Some(on_stop), Flags::RESTART);
    set(Signal::INT, Some(on_stop), Flags::RESTART);
    // A client that went away must cost a child an EPIPE, not its life.
    set(Signal::PIPE, rustix::runtime::kernel_sig_ign(), Flags::RESTART);
    if keep_alive {
        set(Signal::USR1, Some(on_room), Flags::RESTART);
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

#[cfg(all(feature = "start", test))]
pub fn set(_: Signal, _: KernelSighandler, _: Flags) {}

/// The reaper (see `children::reap`).
#[cfg(feature = "start")]
extern "C" fn on_child(_: i32) {
    crate::children::reap();
}

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

/// In a child, when the parent at `--max-children` asks for room: the connection ends
/// after the response in progress, and at once if it is waiting for the next request
/// (shutting its reading side down ends that `recv` with 0, with no window between a
/// check of the flag and the wait).
#[cfg(feature = "start")]
extern "C" fn on_room(_: i32) {
    CLOSING.store(true, SeqCst);
    let fd = IDLE.load(SeqCst) - 1;
    if fd >= 0 {
        // SAFETY: `arm_idle` stores only the child's open connection, and `disarm_idle`
        // clears it before the connection is closed.
        let _ = rustix::net::shutdown(unsafe { BorrowedFd::borrow_raw(fd) }, rustix::net::Shutdown::Read);
    }
}

/// Lets SIGUSR1 end the wait for the next request on `conn`; call before checking
/// `closing`.
pub fn arm_idle(conn: BorrowedFd<'_>) {
    IDLE.store(conn.as_raw_fd() + 1, SeqCst);
}

pub fn disarm_idle() {
    IDLE.store(0, SeqCst);
}

/// The parent asked for room: this response is the connection's last.
pub fn closing() -> bool {
    CLOSING.load(SeqCst)
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

pub fn stopping() -> bool {
    STOP.load(SeqCst)
}

/// A second SIGINT came.
pub fn forced() -> bool {
    FORCE.load(SeqCst)
}
