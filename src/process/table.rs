//! The parent's children: the pid table, the reaper, and the waits for children: at the
//! `--max-children` cap, in the prefork parent (signals blocked, `rt_sigtimedwait`), and
//! at the stop.
//!
//! The parent records each child's pid after `fork` in a fixed table (no allocator); the
//! reaper, run by the SIGCHLD handler ([`install_reaper`]), removes it. So the parent
//! always knows how many children run, and which to SIGKILL when the grace period is
//! over, without ever signalling a pid that was already reaped (and may belong to someone
//! else by now). Syscalls: `rt_sigaction(SIGCHLD)` at start-up; `wait4` in the reaper;
//! `rt_sigprocmask`, `rt_sigsuspend`, `rt_sigtimedwait`, `ppoll` in the waits; `kill`.
#![allow(unsafe_code)] // unsafe: signal masks and waits, and the table reached from the handler.

use super::signals;
use crate::clock;
use crate::config::PROCESSES_MAX;
use crate::errno;
use crate::log;
use core::marker::PhantomData;
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use core::time::Duration;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::BorrowedFd;
use rustix::io::Errno;
use rustix::process::{Pid, Signal, WaitOptions, WaitStatus, kill_process, wait, waitpid};
use rustix::runtime::{How, KernelSigSet, kernel_sigprocmask, kernel_sigsuspend, kernel_sigtimedwait};
use rustix::time::Timespec;

/// Installs the reaper: SIGCHLD's handler, [`reap`]. `SA_NOCLDSTOP`: a stopped child is
/// no news; `SA_RESTART`: `accept4` goes on after it.
#[cfg(feature = "start")]
pub fn install_reaper() {
    signals::set(Signal::CHILD, Some(on_child), signals::Flags::RESTART | signals::Flags::NOCLDSTOP);
}

#[cfg(feature = "start")]
extern "C" fn on_child(_: i32) {
    reap();
}

/// The parent's record of its running children: pids, 0 for a free slot (slots are
/// taken from the start, so only the first cache lines are ever touched), how many, and
/// the pids the reaper found in no slot.
/// It lives in the parent's stack frame, not in a static: in fork mode that stack is one
/// no child receives (see `stacks`), so the parent's writes here, one per connection,
/// fall on a page no child shares and cost no copy-on-write fault.
pub struct Table {
    pids: [AtomicI32; PROCESSES_MAX],
    /// When each slot's child was forked (`clock::monotonic`, µs), with the top bit set
    /// once it has been asked to make room: at the cap, the oldest is asked first, once.
    born: [AtomicU64; PROCESSES_MAX],
    /// Its client's address, as `addr::key` (`--max-per-client`); 0 if not counted.
    clients: [AtomicU64; PROCESSES_MAX],
    live: AtomicUsize,
    /// A child that exited before the parent recorded it (between `clone` and `record`,
    /// at most one), or an orphan reparented to us as PID 1.
    unrecorded: [AtomicI32; 4],
}

/// The table in use, set by [`Table::install`]. Never used in a child: a child's
/// copy may point into the parent's stack, which the child does not have. (The reaper
/// is the one way in; a CGI child resets SIGCHLD before it forks its script.)
static TABLE: AtomicPtr<Table> = AtomicPtr::new(null_mut());

/// The table before one is installed: no child recorded, so at most an orphan's pid
/// written to `unrecorded` (as PID 1), and then forgotten.
static NONE: Table = Table::new();

impl Table {
    /// An empty table: no child yet.
    pub const fn new() -> Table {
        Table {
            pids: [const { AtomicI32::new(0) }; PROCESSES_MAX],
            born: [const { AtomicU64::new(0) }; PROCESSES_MAX],
            clients: [const { AtomicU64::new(0) }; PROCESSES_MAX],
            live: AtomicUsize::new(0),
            unrecorded: [const { AtomicI32::new(0) }; 4],
        }
    }

    /// Makes this the parent's table while the guard lives.
    pub fn install(&self) -> Installed<'_> {
        TABLE.store(ptr::from_ref(self).cast_mut(), SeqCst);
        Installed(PhantomData)
    }
}

/// The table is in use until this is dropped.
pub struct Installed<'a>(PhantomData<&'a Table>);

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        TABLE.store(null_mut(), SeqCst);
    }
}

fn table() -> &'static Table {
    // SAFETY: TABLE is null or points to the table an `Installed` guard keeps alive
    // (and uninstalls before it goes); this process is the parent (see TABLE).
    unsafe { TABLE.load(SeqCst).as_ref() }.unwrap_or(&NONE)
}

/// How many children are running.
pub fn live() -> usize {
    table().live.load(SeqCst)
}

/// Records a child the parent has just forked, at `born`, for `client` (an `addr::key`,
/// or 0). (Slots are read before they are written: a locked compare-exchange on every
/// slot passed would cost the fork path.)
pub fn record(pid: Pid, born: Duration, client: u64) {
    let pid = pid.as_raw_nonzero().get();
    let table = table();
    let slot = table.pids.iter().position(|slot| slot.load(SeqCst) == 0 && slot.compare_exchange(0, pid, SeqCst, SeqCst).is_ok());
    if let Some(i) = slot {
        if let (Some(b), Some(c)) = (table.born.get(i), table.clients.get(i)) {
            b.store(born.as_micros() as u64 & !ASKED, SeqCst);
            c.store(client, SeqCst);
        }
        table.live.fetch_add(1, SeqCst);
    }
    // If it has been reaped already, the reaper left its pid here. Every other pid here
    // is an orphan's: only this child can have been reaped before being recorded.
    for slot in &table.unrecorded {
        if slot.load(SeqCst) != 0 && slot.swap(0, SeqCst) == pid {
            forget(pid);
        }
    }
}

/// How many running children serve `client` (an `addr::key`).
pub fn serving(client: u64) -> usize {
    let table = table();
    table.pids.iter().zip(&table.clients).filter(|(pid, c)| pid.load(SeqCst) != 0 && c.load(SeqCst) == client).count()
}

/// Removes `pid` from the table; false if it was not there.
fn forget(pid: i32) -> bool {
    let table = table();
    let found = table.pids.iter().any(|slot| slot.load(SeqCst) == pid && slot.compare_exchange(pid, 0, SeqCst, SeqCst).is_ok());
    if found {
        table.live.fetch_sub(1, SeqCst);
    }
    found
}

/// `wait4(-1, …)` until nothing is left to reap now (`WNOHANG`). `-1` matters: it
/// reaps our children and, as PID 1, orphans reparented to us, whatever their group. One
/// SIGCHLD may stand for many exits: the kernel does not queue a pending signal twice.
/// Async-signal-safe: atomics, a buffer on the stack, `write(2)`.
pub fn reap() {
    loop {
        match wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => reaped(pid.as_raw_nonzero().get(), status),
            Err(Errno::INTR) => continue,
            Ok(None) | Err(_) => break,
        }
    }
}

fn reaped(pid: i32, status: WaitStatus) {
    settle(pid);
    crate::scoreboard::free(pid);
    if status.exit_status() != Some(0) {
        log::event(&mut |line| {
            line.push(b"child ").num(pid.unsigned_abs().into());
            match (status.terminating_signal(), status.exit_status()) {
                (Some(sig), _) => {
                    line.push(b" killed by signal ").num(sig.unsigned_abs().into()).push(b" (");
                    errno::write_signal(line, sig);
                    line.byte(b')')
                }
                (None, Some(code)) => line.push(b" exited with status ").num(code.unsigned_abs().into()),
                (None, None) => line.push(b" ended"),
            };
        });
    }
}

/// `pid` was reaped: out of the table, or, not recorded yet (it exited between `clone`
/// and `record`, or is an orphan reparented to PID 1), set aside for `record`.
fn settle(pid: i32) {
    if !forget(pid) {
        let _ = table().unrecorded.iter().any(|slot| slot.compare_exchange(0, pid, SeqCst, SeqCst).is_ok());
    }
}

/// The signals that end a wait: a child's exit, a stop (QUIT: a forced one), and a
/// prefork worker's call for spares (URG).
fn wakers() -> KernelSigSet {
    let mut set = KernelSigSet::empty();
    for sig in [Signal::CHILD, Signal::TERM, Signal::INT, Signal::QUIT, Signal::URG] {
        set.insert(sig);
    }
    set
}

/// Sleeps until fewer than `cap` children run, or a stop signal comes. Blocking, never a
/// busy loop: the signals are blocked while the count is read, and `sigsuspend` unblocks
/// them and sleeps in one step, so an exit between the two cannot be missed.
pub fn wait_below(cap: usize) {
    // SAFETY: blocking signals, then restoring the mask as it was, breaks no invariant.
    let Ok(old) = (unsafe { kernel_sigprocmask(How::BLOCK, Some(&wakers())) }) else {
        return;
    };
    while live() >= cap && !signals::stopping() {
        // Returns with EINTR once a handler has run (the reaper, or the stop).
        let _ = kernel_sigsuspend(&old);
    }
    // SAFETY: as above.
    let _ = unsafe { kernel_sigprocmask(How::SETMASK, Some(&old)) };
}

/// At `--max-children`, in both models: sleeps in `ppoll` until a new client waits in
/// `listener`'s backlog (true) or a signal comes (false: a child exited, or a stop);
/// `timeout`: at most that long (false; zero: a look that does not wait). Connections
/// are asked to make room only when someone waits.
pub fn client_waiting(listener: BorrowedFd<'_>, timeout: Option<Duration>) -> bool {
    let mut fds = [PollFd::new(&listener, PollFlags::IN)];
    let timeout = timeout.map(|t| Timespec { tv_sec: t.as_secs() as i64, tv_nsec: t.subsec_nanos().into() });
    poll(&mut fds, timeout.as_ref()).is_ok_and(|n| n > 0)
}

/// The top bit of a `born`: asked already.
const ASKED: u64 = 1 << 63;

/// At `--max-children`, a client waiting (fork mode): asks the oldest child not asked
/// yet to make room (SIGUSR1, see `conn::room`): a kept-alive connection closes, a head
/// still arriving gets 408, a request in progress is the connection's last. False if
/// every child has been asked. SIGCHLD is blocked meanwhile, so that no pid is reaped,
/// and perhaps reused, between its reading and its `kill`.
pub fn ask_oldest() -> bool {
    // SAFETY: blocking signals, then restoring the mask as it was, breaks no invariant.
    let Ok(old) = (unsafe { kernel_sigprocmask(How::BLOCK, Some(&wakers())) }) else {
        return false;
    };
    let table = table();
    let oldest = table
        .pids
        .iter()
        .zip(&table.born)
        .filter(|(pid, born)| pid.load(SeqCst) != 0 && born.load(SeqCst) & ASKED == 0)
        .min_by_key(|(_, born)| born.load(SeqCst));
    if let Some((pid, born)) = oldest {
        born.fetch_or(ASKED, SeqCst);
        if let Some(pid) = Pid::from_raw(pid.load(SeqCst)) {
            let _ = kill_process(pid, Signal::USR1);
        }
    }
    // SAFETY: as above.
    let _ = unsafe { kernel_sigprocmask(How::SETMASK, Some(&old)) };
    oldest.is_some()
}

/// At the stop, with keep-alive: asks every child to make room (SIGUSR1): idle
/// connections close at once, busy ones after their response. SIGCHLD is blocked
/// meanwhile (see [`ask_oldest`]).
pub fn ask_for_room() {
    // SAFETY: blocking signals, then restoring the mask as it was, breaks no invariant.
    let Ok(old) = (unsafe { kernel_sigprocmask(How::BLOCK, Some(&wakers())) }) else {
        return;
    };
    for slot in &table().pids {
        if let Some(pid) = Pid::from_raw(slot.load(SeqCst)) {
            let _ = kill_process(pid, Signal::USR1);
        }
    }
    // SAFETY: as above.
    let _ = unsafe { kernel_sigprocmask(How::SETMASK, Some(&old)) };
}

/// Blocks the wakers: their handlers no longer run, [`wait_signal`] takes them instead.
/// (The prefork parent from its start, `finish` from the stop.) Forked children inherit
/// the mask: see [`unblock`].
pub fn block() {
    // SAFETY: blocking signals breaks no invariant; the callers reap by themselves.
    let _ = unsafe { kernel_sigprocmask(How::BLOCK, Some(&wakers())) };
}

/// Unblocks the wakers again: in a prefork worker, which then has a fork-mode child's
/// signals, and whose CGI scripts must not start with them blocked.
pub fn unblock() {
    // SAFETY: the handlers are async-signal-safe, and a worker's do nothing harmful.
    let _ = unsafe { kernel_sigprocmask(How::UNBLOCK, Some(&wakers())) };
}

/// Sleeps until a blocked waker is pending, at most `timeout` (none: no limit); returns
/// its number, or `None` once the time is up.
pub fn wait_signal(timeout: Option<Duration>) -> Option<i32> {
    let timeout = timeout.map(|t| Timespec { tv_sec: t.as_secs() as i64, tv_nsec: t.subsec_nanos().into() });
    // SAFETY: only blocked signals are waited for; their handlers will not run.
    let info = unsafe { kernel_sigtimedwait(&wakers(), timeout.as_ref()) }.ok()?;
    // SAFETY: every variant of the union begins with si_signo.
    Some(unsafe { info.__bindgen_anon_1.__bindgen_anon_1.si_signo })
}

/// After the listening socket is closed: waits up to `grace` for the children to finish,
/// then SIGKILLs those left (at once after a second SIGINT), reaps them, and returns the
/// exit status: 0, or 130 after a second SIGINT. `what` the children are, for the log.
/// With `keep_alive`, the children are first asked to close their connections after the
/// response in progress, and at once those waiting for a next request. With `adopted`
/// (`--cgi`: the parent is a child subreaper), the processes scripts left behind when
/// their connection's child was killed have come to the parent: they are killed and
/// reaped last.
pub fn finish(grace: Duration, what: &str, keep_alive: bool, adopted: bool) -> i32 {
    let status = wait_for_all(grace, what, keep_alive);
    if adopted {
        block();
        crate::cgi::process::end_adopted();
    }
    status
}

fn wait_for_all(grace: Duration, what: &str, keep_alive: bool) -> i32 {
    if live() == 0 {
        return signals::forced().map_or(0, |sig| 128 + sig);
    }
    log::event(&mut |line| {
        line.push(b"stopping: waiting up to ").num(grace.as_secs()).push(b" s for ");
        line.num(live() as u64).byte(b' ').push(what.as_bytes());
    });
    if keep_alive {
        ask_for_room();
    }
    // The handlers stay blocked from here on: the loop reaps by itself.
    block();
    let deadline = clock::monotonic() + grace;
    let mut forced = signals::forced();
    loop {
        reap();
        if live() == 0 {
            break;
        }
        forced = forced.or(signals::forced());
        let left = deadline.saturating_sub(clock::monotonic());
        if forced.is_some() || left.is_zero() {
            kill_all();
            break;
        }
        forced = match wait_signal(Some(left)) {
            Some(sig) if sig == Signal::INT.as_raw() || sig == Signal::QUIT.as_raw() => Some(sig),
            _ => None,
        };
    }
    // 128 + the signal, as a shell reports a process it killed: 130 (INT), 131 (QUIT).
    forced.map_or(0, |sig| 128 + sig)
}

/// SIGKILLs every recorded child, then waits for each: they are ours, unreaped, so their
/// pids cannot have been reused.
fn kill_all() {
    log::event(&mut |line| {
        line.push(b"killing ").num(live() as u64).push(b" children still running");
    });
    for slot in &table().pids {
        if let Some(pid) = Pid::from_raw(slot.load(SeqCst)) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
    for slot in &table().pids {
        if let Some(pid) = Pid::from_raw(slot.load(SeqCst)) {
            if let Ok(Some((_, status))) = waitpid(Some(pid), WaitOptions::empty()) {
                reaped(pid.as_raw_nonzero().get(), status);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_table() {
        let pid = |n| Pid::from_raw(n).unwrap_or_else(|| panic!("{n}"));
        let table = Box::new(Table::new());
        let installed = table.install();
        assert_eq!(live(), 0);
        (100..110).for_each(|n| record(pid(n), Duration::from_millis(n as u64), 7));
        assert_eq!(live(), 10);
        settle(104);
        assert_eq!(live(), 9);
        assert!(!forget(104), "gone once");
        // Reaped before it was recorded: set aside, and forgotten as it is recorded.
        settle(200);
        assert_eq!(live(), 9);
        record(pid(200), Duration::ZERO, 0);
        assert_eq!(live(), 9);
        assert!(table.unrecorded.iter().all(|slot| slot.load(SeqCst) == 0));
        // A freed slot is taken again; the table holds PROCESSES_MAX at most.
        record(pid(300), Duration::ZERO, 0);
        assert_eq!(table.pids.iter().filter(|s| s.load(SeqCst) == 300).count(), 1);
        assert_eq!(serving(7), 9);
        (1000..1000 + PROCESSES_MAX as i32).for_each(|n| record(pid(n), Duration::ZERO, 0));
        assert_eq!(live(), PROCESSES_MAX);
        drop(installed);
        assert_eq!(live(), 0, "no table installed: the empty one");
    }
}
