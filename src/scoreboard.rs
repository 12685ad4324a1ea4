//! The scoreboard (Apache's name for it): one slot per serving process, in a mapping
//! every process shares, made before the first fork. A process claims a free slot when it
//! starts serving and says in it what it is doing: idle in `accept4` (prefork), reading a
//! head, writing a response, kept alive; since when; for whom; the start of the request
//! line. The parent reads it: the prefork parent to keep `--workers` spares ready and, at
//! `--max-children`, to find the oldest connection that holds a process without a request
//! to answer; `--status` renders it.
//!
//! Only the process that owns a slot writes it, with atomics (no lock, nothing held across
//! a syscall), except the reaper, which frees the slot of a process it reaped. A reader
//! may see a slot in the middle of a change: a line of the status page may mix two
//! moments, never bytes that were not written there.
//!
//! It exists in prefork always, and in fork mode with `--status` only: without it, a
//! fork-mode child writes no slot, and its traces are unchanged. Syscalls: `mmap` once at
//! start-up; none after (writes are memory writes; the first of a process to a page of the
//! mapping costs it a page fault).
#![allow(unsafe_code)] // unsafe: the shared mapping, made into a reference.

use crate::config::PROCESSES_MAX;
use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use core::time::Duration;
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};

/// What a process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum State {
    /// Forked, not serving yet (or a slot being taken).
    Starting = 0,
    /// Waiting in `accept4` for a connection (a prefork worker).
    Idle = 1,
    /// Reading a request head.
    Reading = 2,
    /// Answering a request.
    Writing = 3,
    /// Waiting for a kept-alive connection's next request.
    KeptAlive = 4,
}

impl State {
    fn from_raw(raw: u32) -> State {
        match raw {
            1 => State::Idle,
            2 => State::Reading,
            3 => State::Writing,
            4 => State::KeptAlive,
            _ => State::Starting,
        }
    }

    /// Its name on the status page.
    pub fn name(self) -> &'static [u8] {
        match self {
            State::Starting => b"starting",
            State::Idle => b"idle",
            State::Reading => b"reading",
            State::Writing => b"writing",
            State::KeptAlive => b"keepalive",
        }
    }
}

/// How many bytes of a request line a slot keeps.
pub const LINE: usize = 64;

/// One process's slot: 128 bytes, two cache lines, so that processes never write the
/// same line.
#[repr(C, align(128))]
pub struct Slot {
    /// The process; 0: the slot is free.
    pid: AtomicI32,
    state: AtomicU32,
    /// When the state began (`clock::monotonic`, µs); for Reading, when the connection
    /// was accepted or its next head began.
    since: AtomicU64,
    /// Requests this process has answered.
    requests: AtomicU64,
    /// When its connection was accepted (`clock::monotonic`, µs).
    accepted: AtomicU64,
    /// The client's address: the IPv6 (or v4-mapped) address, then the port and 1 for a
    /// known peer.
    client: [AtomicU64; 3],
    /// The parent asked this process to make room (SIGUSR1), and it has not been idle
    /// since: it is not asked twice.
    asked: AtomicBool,
    line_len: AtomicU32,
    line: [AtomicU64; LINE / 8],
}

/// The scoreboard: the prefork counters, then the slots.
#[repr(C)]
pub struct Board {
    /// Prefork: workers waiting in `accept4` (each counts itself in and out).
    idle: AtomicI32,
    /// A worker has asked the parent for spares, and the parent has not looked yet: at
    /// most one wake-up signal is on its way.
    wake: AtomicBool,
    /// One past the highest slot ever claimed: readers look no further.
    high: AtomicUsize,
    slots: [Slot; PROCESSES_MAX],
}

/// The board, once mapped (inherited by every process forked after).
static BOARD: AtomicPtr<Board> = AtomicPtr::new(null_mut());

/// This process's slot, once claimed.
static MINE: AtomicPtr<Slot> = AtomicPtr::new(null_mut());

/// Maps the board, before the first fork. Fails only when the kernel is out of memory.
pub fn map() -> Result<(), Errno> {
    let len = size_of::<Board>().next_multiple_of(4096);
    // SAFETY: a new anonymous mapping aliases nothing; the kernel fills it with zeros,
    // which is a valid `Board` (atomics of 0: free slots). It is never unmapped.
    let board = unsafe { mmap_anonymous(null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED)? };
    BOARD.store(board.cast(), SeqCst);
    Ok(())
}

/// The board, if there is one.
pub fn board() -> Option<&'static Board> {
    // SAFETY: BOARD is null or the mapping `map` made, which lives as long as the
    // process and holds atomics only.
    unsafe { BOARD.load(SeqCst).as_ref() }
}

fn mine() -> Option<&'static Slot> {
    // SAFETY: MINE is null or a slot of the board (see `board`).
    unsafe { MINE.load(SeqCst).as_ref() }
}

/// Takes a free slot for this process, `pid`, if there is a board: from then on the
/// state setters below write it. False if there is none (or no free slot).
pub fn claim(pid: u32) -> bool {
    let Some(board) = board() else { return false };
    let Some((i, slot)) = board.slots.iter().enumerate().find(|(_, s)| s.pid.load(SeqCst) == 0 && s.pid.compare_exchange(0, pid as i32, SeqCst, SeqCst).is_ok()) else {
        return false;
    };
    board.high.fetch_max(i + 1, SeqCst);
    slot.state.store(State::Starting as u32, SeqCst);
    slot.requests.store(0, SeqCst);
    slot.line_len.store(0, SeqCst);
    slot.asked.store(false, SeqCst);
    MINE.store(ptr::from_ref(slot).cast_mut(), SeqCst);
    true
}

/// This process's state is now `state`, since `now` (monotonic).
fn set_at(state: State, now: Duration) {
    if let Some(slot) = mine() {
        slot.since.store(now.as_micros() as u64, SeqCst);
        slot.state.store(state as u32, SeqCst);
    }
}

/// This process's state is now `state`, since now (the clock is read only if the
/// process has a slot).
pub fn set(state: State) {
    if mine().is_some() {
        set_at(state, crate::clock::monotonic());
    }
}

/// A connection from `peer`, accepted at `now`: reading its first head.
pub fn connection(peer: Option<&SocketAddr>, now: Duration) {
    if let Some(slot) = mine() {
        let (ip, port) = match peer {
            Some(peer) => {
                let v6 = match peer.ip() {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                };
                (u128::from_be_bytes(v6.octets()), u64::from(peer.port()) << 1 | 1)
            }
            None => (0, 0),
        };
        slot.client[0].store((ip >> 64) as u64, SeqCst);
        slot.client[1].store(ip as u64, SeqCst);
        slot.client[2].store(port, SeqCst);
        slot.line_len.store(0, SeqCst);
        slot.accepted.store(now.as_micros() as u64, SeqCst);
        set_at(State::Reading, now);
    }
}

/// A request whose line is `line` is being answered, since `now`.
pub fn request(line: &[u8], now: Duration) {
    if let Some(slot) = mine() {
        let len = line.len().min(LINE);
        for (i, word) in slot.line.iter().enumerate() {
            let mut bytes = [0u8; 8];
            for (j, b) in bytes.iter_mut().enumerate() {
                *b = line.get(i * 8 + j).copied().unwrap_or(0);
            }
            word.store(u64::from_le_bytes(bytes), SeqCst);
        }
        slot.line_len.store(len as u32, SeqCst);
        slot.requests.fetch_add(1, SeqCst);
        set_at(State::Writing, now);
    }
}

/// A prefork worker waits in `accept4` from now: counted idle, and no longer asked.
pub fn enter_idle() {
    if let (Some(board), Some(slot)) = (board(), mine()) {
        slot.asked.store(false, SeqCst);
        set(State::Idle);
        board.idle.fetch_add(1, SeqCst);
    }
}

/// A prefork worker left `accept4` with a connection accepted at `now`: how many stay
/// idle. It is no longer counted, nor idle on the board, and its connection's age is
/// there, before the parent can be woken to count (the rest of its slot follows with
/// [`connection`]).
pub fn leave_idle(now: Duration) -> i32 {
    match (board(), mine()) {
        (Some(board), Some(slot)) => {
            slot.accepted.store(now.as_micros() as u64, SeqCst);
            slot.since.store(now.as_micros() as u64, SeqCst);
            slot.state.store(State::Reading as u32, SeqCst);
            board.idle.fetch_sub(1, SeqCst) - 1
        }
        _ => i32::MAX,
    }
}

/// A prefork worker idle too long: it may go if more than `spares` others are idle, and
/// then takes itself out of the count and frees its slot (true). At most the surplus go.
pub fn retire(spares: i32) -> bool {
    let (Some(board), Some(slot)) = (board(), mine()) else { return false };
    let mut idle = board.idle.load(SeqCst);
    while idle > spares {
        match board.idle.compare_exchange(idle, idle - 1, SeqCst, SeqCst) {
            Ok(_) => {
                slot.state.store(State::Starting as u32, SeqCst);
                slot.pid.store(0, SeqCst);
                MINE.store(null_mut(), SeqCst);
                return true;
            }
            Err(now) => idle = now,
        }
    }
    false
}

/// How many processes serve a connection from `ip` now (`--max-per-client`).
pub fn serving(ip: &IpAddr) -> usize {
    let Some(board) = board() else { return 0 };
    let key = crate::addr::key(ip);
    let serving = |s: &Seen| matches!(s.state, State::Reading | State::Writing | State::KeptAlive);
    board.seen().filter(|s| serving(s) && s.client.is_some_and(|c| crate::addr::key(&c.ip()) == key)).count()
}

/// Asks for the parent's attention once: true if this call is the one that must wake it
/// (the caller sends the signal); false while an earlier wake-up is still unseen.
pub fn ask_parent() -> bool {
    board().is_some_and(|board| !board.wake.swap(true, SeqCst))
}

/// A worker has asked the parent for spares since it last looked.
pub fn parent_asked() -> bool {
    board().is_some_and(|board| board.wake.load(SeqCst))
}

/// The parent has done what was asked: the next worker short of spares wakes it again.
/// (Until then a worker taking the last spare place sends nothing: no signal a request.)
pub fn parent_looked() {
    if let Some(board) = board() {
        board.wake.store(false, SeqCst);
    }
}

/// The reaper reaped `pid`: its slot, if it had one, is free again (an idle worker's
/// count with it). Async-signal-safe: atomics only.
pub fn free(pid: i32) {
    let Some(board) = board() else { return };
    if let Some(slot) = board.used().iter().find(|s| s.pid.load(SeqCst) == pid) {
        if slot.state.swap(State::Starting as u32, SeqCst) == State::Idle as u32 {
            board.idle.fetch_sub(1, SeqCst);
        }
        slot.pid.store(0, SeqCst);
    }
}

/// A slot in use, as read now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The process.
    pub pid: i32,
    /// What it does.
    pub state: State,
    /// Since when (monotonic).
    pub since: Duration,
    /// When its connection was accepted (monotonic).
    pub accepted: Duration,
    /// Requests it has answered.
    pub requests: u64,
    /// Its client, if it has one.
    pub client: Option<SocketAddr>,
    /// Asked to make room, not idle since.
    pub asked: bool,
    line: [u8; LINE],
    line_len: usize,
}

impl Seen {
    /// The start of its request line (the last one, while kept alive).
    pub fn line(&self) -> &[u8] {
        self.line.get(..self.line_len).unwrap_or(&[])
    }
}

impl Board {
    /// The slots ever claimed.
    fn used(&self) -> &[Slot] {
        self.slots.get(..self.high.load(SeqCst)).unwrap_or(&self.slots)
    }

    /// The slots in use, each as read now.
    pub fn seen(&self) -> impl Iterator<Item = Seen> + '_ {
        self.used().iter().filter_map(|slot| {
            let pid = slot.pid.load(SeqCst);
            if pid == 0 {
                return None;
            }
            let mut line = [0u8; LINE];
            for (i, word) in slot.line.iter().enumerate() {
                if let Some(dst) = line.get_mut(i * 8..i * 8 + 8) {
                    dst.copy_from_slice(&word.load(SeqCst).to_le_bytes());
                }
            }
            let (hi, lo, port) = (slot.client[0].load(SeqCst), slot.client[1].load(SeqCst), slot.client[2].load(SeqCst));
            let client = (port & 1 == 1).then(|| {
                let v6 = Ipv6Addr::from(u128::from(hi) << 64 | u128::from(lo));
                let ip = v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4);
                SocketAddr::new(ip, (port >> 1) as u16)
            });
            Some(Seen {
                pid,
                state: State::from_raw(slot.state.load(SeqCst)),
                since: Duration::from_micros(slot.since.load(SeqCst)),
                accepted: Duration::from_micros(slot.accepted.load(SeqCst)),
                requests: slot.requests.load(SeqCst),
                client,
                asked: slot.asked.load(SeqCst),
                line,
                line_len: (slot.line_len.load(SeqCst) as usize).min(LINE),
            })
        })
    }

    /// Prefork: how many workers count themselves idle.
    pub fn idle(&self) -> i32 {
        self.idle.load(SeqCst)
    }


    /// Marks `pid`'s slot asked (the parent is about to send it SIGUSR1).
    pub fn mark_asked(&self, pid: i32) {
        if let Some(slot) = self.used().iter().find(|s| s.pid.load(SeqCst) == pid) {
            slot.asked.store(true, SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_claimed_written_read_and_freed() {
        // One process plays the parent and its workers, in turn.
        map().unwrap();
        let board = board().unwrap();
        assert!(claim(100));
        let t = Duration::from_millis;
        enter_idle();
        assert_eq!(board.idle(), 1);
        assert_eq!(leave_idle(t(6)), 0);
        let peer: SocketAddr = "192.0.2.7:4242".parse().unwrap();
        connection(Some(&peer), t(6));
        request(b"GET /a-rather-long-path/that/does/not/fit/in/sixty-four/bytes/of/a/slot HTTP/1.1", t(7));
        let seen: Vec<Seen> = board.seen().collect();
        assert_eq!(seen.len(), 1);
        let s = seen[0];
        assert_eq!((s.pid, s.state, s.since, s.requests, s.client, s.asked), (100, State::Writing, t(7), 1, Some(peer), false));
        assert_eq!(s.line(), &b"GET /a-rather-long-path/that/does/not/fit/in/sixty-four/bytes/of/a/slot HTTP/1.1"[..LINE]);
        board.mark_asked(100);
        assert!(board.seen().next().unwrap().asked);
        // Idle again, then reaped while idle: the count follows.
        enter_idle();
        assert!(!board.seen().next().unwrap().asked, "idle: no longer asked");
        free(100);
        assert_eq!((board.idle(), board.seen().count()), (0, 0));
        // Retiring: only the surplus over the spares.
        MINE.store(null_mut(), SeqCst);
        assert!(claim(200));
        enter_idle();
        assert!(!retire(1), "one idle, one spare wanted: it stays");
        assert!(retire(0));
        assert_eq!((board.idle(), board.seen().count()), (0, 0));
        assert!(ask_parent() && !ask_parent(), "one wake-up at a time");
        assert!(parent_asked());
        parent_looked();
        assert!(!parent_asked() && ask_parent());
        let v6: SocketAddr = "[2001:db8::1]:80".parse().unwrap();
        assert!(claim(300));
        connection(Some(&v6), t(10));
        assert_eq!(board.seen().next().unwrap().client, Some(v6));
    }
}
