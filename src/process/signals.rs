//! Signals, each with a meaning: graceful stop on SIGTERM/SIGINT (a second SIGINT, or a
//! SIGQUIT, forces it), SIGPIPE ignored, SIGHUP and SIGUSR2 ignored with an event line,
//! and SIGUSR1: the parent's request to a child to make room (the handler is the
//! connection's, `conn::room`); sent to the parent, it is ignored like HUP. The SIGCHLD
//! reaper is the pid table's (`table::install_reaper`); SIGURG is how a prefork worker
//! wakes its parent for spares (`prefork`), and nothing to anyone else (its default
//! action is to be ignored).
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

/// The signal that forced the stop (a second SIGINT, a SIGQUIT): the children are not
/// waited for; 0 until then.
static FORCE: AtomicI32 = AtomicI32::new(0);

/// The listening socket plus one while the parent accepts on it, else 0 (a zero start
/// puts the static in .bss, not in a .data section of its own); and the parent's pid.
/// Set once, not around each `fork`: a write per connection would make the parent copy
/// this page, which its children share. A child has the same values, and its handler
/// tells itself apart by its pid.
static LISTENER: AtomicI32 = AtomicI32::new(0);
static PARENT: AtomicI32 = AtomicI32::new(0);

/// Installs the stop's handlers (TERM, INT, QUIT), ignores SIGPIPE, and has HUP and USR2
/// logged and ignored, so that every signal has a meaning and none kills the server by
/// its default action; forked children inherit them, and SIGUSR1's, which is theirs.
#[cfg(feature = "start")]
pub fn install() {
    set(Signal::TERM, Some(on_stop), Flags::RESTART);
    set(Signal::INT, Some(on_stop), Flags::RESTART);
    set(Signal::QUIT, Some(on_stop), Flags::RESTART);
    // A client that went away must cost a child an EPIPE, not its life.
    set(Signal::PIPE, rustix::runtime::kernel_sig_ign(), Flags::RESTART);
    set(Signal::HUP, Some(on_ignored), Flags::RESTART);
    set(Signal::USR2, Some(on_ignored), Flags::RESTART);
    set(Signal::USR1, Some(on_room), Flags::RESTART);
}

/// SIGUSR1: a child makes room (`conn::room`); the parent, whose children's signal it
/// is, logs it and does nothing else (its flag would be inherited by every child forked
/// after: each would close its connection after one response).
#[cfg(feature = "start")]
extern "C" fn on_room(sig: i32) {
    let parent = PARENT.load(SeqCst);
    if parent == 0 || rustix::process::getpid().as_raw_nonzero().get() == parent {
        on_ignored(sig);
    } else {
        crate::conn::room::on_room(sig);
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
    // SIGQUIT, or SIGINT a second time: do not wait for the requests in flight.
    if sig == Signal::QUIT.as_raw() || STOP.swap(true, SeqCst) && sig == Signal::INT.as_raw() {
        FORCE.store(sig, SeqCst);
    }
    STOP.store(true, SeqCst);
    let fd = LISTENER.load(SeqCst) - 1;
    // A child's copy of the socket is the parent's socket: a child must never shut it
    // down (a SIGINT from the terminal reaches them all; a child may be sent a SIGTERM).
    if fd >= 0 && rustix::process::getpid().as_raw_nonzero().get() == PARENT.load(SeqCst) {
        // SAFETY: `arm` stores only the parent's open listening socket, and `disarm`
        // clears it before that socket is closed; this is the parent.
        let _ = rustix::net::shutdown(unsafe { BorrowedFd::borrow_raw(fd) }, rustix::net::Shutdown::Read);
    }
}

/// HUP, USR2 (and USR1 sent to the parent): one event line from the parent, nothing
/// else. There is no configuration file to reload: the command line is all there is.
/// Before the parent is recorded (between the start-up line and the loop) there are no
/// children yet: whoever gets the signal then is the parent.
#[cfg(feature = "start")]
extern "C" fn on_ignored(sig: i32) {
    let parent = PARENT.load(SeqCst);
    if parent == 0 || rustix::process::getpid().as_raw_nonzero().get() == parent {
        crate::log::event(&mut |line| {
            crate::errno::write_signal(line, sig);
            line.push(b": ignored (forkhttpd has no configuration file to reload)");
        });
    }
}

/// The parent is `pid`: its handlers act, its children's do not. (Fork mode: [`arm`].)
pub fn set_parent(pid: Pid) {
    PARENT.store(pid.as_raw_nonzero().get(), SeqCst);
}

/// Lets SIGTERM/SIGINT shut `listener` down, in the parent `pid` only (one `getpid` per
/// stop signal, in every process that gets it); call before checking `stopping`.
pub fn arm(listener: BorrowedFd<'_>, pid: Pid) {
    set_parent(pid);
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

/// The signal that forced the stop, if one did (a second SIGINT, a SIGQUIT).
pub fn forced() -> Option<i32> {
    Some(FORCE.load(SeqCst)).filter(|&sig| sig != 0)
}

/// Forces the stop with `sig`, taken by `sigtimedwait` rather than by the handler.
pub fn force(sig: i32) {
    STOP.store(true, SeqCst);
    FORCE.store(sig, SeqCst);
}
