//! Prefork (`--workers N`), Apache's model with its scoreboard: workers forked ahead of
//! time, each of which accepts a connection, serves it with the child's code (keep-alive
//! included), closes it and accepts the next. Per connection a worker makes `accept4`,
//! what the child makes (`setsockopt`, `recvfrom`, `sendto`, `write`), `close`: no
//! `clone`, no `exit_group`.
//!
//! N is how many workers stay **ready**: idle in `accept4`, or forked and about to be.
//! Each worker has a slot on the scoreboard (`crate::scoreboard`) and counts itself in
//! and out of the idle ones around `accept4`; the one that leaves fewer than N idle wakes
//! the parent (`kill(parent, SIGURG)`, once until the parent has done what it asks),
//! which forks the difference at once, up to `--max-children` processes in all. A worker
//! answering a connection younger than YOUNG counts as ready (a connection per request
//! frees it at once); the parent then looks again every YOUNG while short. A signal, not a
//! futex: the parent already sleeps in `rt_sigtimedwait` for SIGCHLD and the stop, so one
//! more signal in its set wakes it with nothing new, and the worker pays one `kill` only
//! when it takes the last spare place; SIGURG, because its default action is to be
//! ignored (a stray one harms no process) and nothing else here uses it. A worker idle
//! for IDLE_LIFE (its `accept4` times out: the listening socket's `SO_RCVTIMEO`, set here)
//! while more than N are idle exits: the pool shrinks back to N by itself.
//!
//! At `--max-children`, none idle, a client waiting in the backlog: the parent asks the
//! worker with the oldest kept-alive connection or still-arriving head to make room
//! (SIGUSR1, see `conn::room`), then the next oldest every ROUND while one still waits.
//!
//! A worker's start: its slot, `rt_sigprocmask` (the parent's blocked signals unblocked),
//! `prctl(PR_SET_PDEATHSIG)` and `getppid`: it dies with its parent.
//!
//! The parent accepts nothing. It blocks SIGCHLD, SIGTERM, SIGINT, SIGQUIT and SIGURG
//! (`rt_sigprocmask`), takes its pid (`getpid`, for the workers' check), and sleeps in
//! `rt_sigtimedwait`: on SIGCHLD it reaps (`wait4`, orphans too as PID 1; a reaped
//! worker's slot is freed) and forks what is missing (`clone`). Workers that die before
//! they ever wait in `accept4` make it fork at most N a second, so that workers which
//! die as they start cost a few forks a second, not a spin. On SIGTERM/SIGINT it shuts
//! the listening socket down (`shutdown(SHUT_RD)`): the socket is one for all the
//! processes, so every worker's `accept4` fails with EINVAL, at once for those waiting in
//! it, after the connection for those serving one, and the worker exits. Then `close`,
//! and the grace period as in fork mode (SIGUSR1 with keep-alive): the stop reaches the
//! workers through the socket (and SIGUSR1), never through their own SIGTERM/SIGINT
//! handlers.
#![allow(unsafe_code)] // unsafe: fork.

use super::ROUND;
use super::accept::{accept, refuse};
use super::signals::{self, Signal};
use super::table::{self, Table};
use crate::clock;
use crate::config::Config;
use crate::conn;
use crate::handler::Site;
use crate::log::{self, Episode};
use crate::scoreboard::{self, Board, State};
use core::time::Duration;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{Shutdown, shutdown};
use rustix::process::{Pid, getpid, getppid, kill_process, set_parent_process_death_signal};
use rustix::runtime::{Fork, kernel_fork};

const SECOND: Duration = Duration::from_secs(1);
const SHORT: &str = "short of --workers: forking at most that many a second";

/// How long a worker waits in `accept4` before it asks itself whether it is one too many.
const IDLE_LIFE: Duration = Duration::from_secs(10);

/// A connection younger than this, being answered, counts as about to free its worker:
/// under a connection-per-request load the pool does not grow (its workers serve one
/// short connection after another, without a context switch a request); kept-alive,
/// slow or long ones make it grow.
const YOUNG: Duration = Duration::from_millis(10);

/// Keeps `--workers` workers ready until SIGTERM or SIGINT; returns the exit status.
pub fn run(listener: OwnedFd, config: &Config, site: Option<&Site>) -> i32 {
    // Forks are few here (start-up, growth, replacements): the table and this loop stay
    // on the main stack, and workers are forked as such (see `stacks` for the fork path).
    let table = Table::new();
    let _installed = table.install();
    table::block();
    let parent = getpid();
    signals::set_parent(parent);
    // An idle worker's `accept4` ends after IDLE_LIFE (EAGAIN): see `work`. (Accepted
    // connections inherit it; a connection sets its own before it reads.)
    let _ = set_socket_timeout(&listener, Timeout::Recv, Some(IDLE_LIFE));
    let Some(board) = scoreboard::board() else { return 1 };
    let n = config.workers;
    let cap = config.max_children;
    let mut dying = Episode::new("workers");
    let mut crowded = Episode::new("--max-children");
    // Forks that replace workers gone (not asked for by a worker taking the last spare
    // place) in the current second of the monotonic clock: at most `n`, not counting the
    // start-up's `n`.
    let (mut second, mut forked) = (clock::monotonic().as_secs(), -(n as isize));
    while !signals::stopping() {
        let now = clock::monotonic();
        if now.as_secs() != second {
            (second, forked) = (now.as_secs(), 0);
        }
        let asked = scoreboard::parent_asked();
        let live = table::live();
        let (ready, idle) = ready(board, live, now);
        let missing = n.saturating_sub(ready).min(cap.saturating_sub(live));
        // Growth, on a worker's call: at once. Replacements: within the second's budget.
        let more = if asked { missing } else { missing.min(n.saturating_sub(forked.max(0) as usize)) };
        let mut short = missing > more;
        if short {
            dying.begins(None, SHORT);
        }
        // Asked, and done with it (or nothing to do): the next shortage wakes the parent
        // again. Short only of workers busy with young connections: the request stays, and
        // the parent looks again in YOUNG, without a signal a request meanwhile.
        let waiting = asked && idle < n;
        if asked && (more > 0 || !waiting) {
            scoreboard::parent_looked();
        }
        for _ in 0..more {
            forked += isize::from(!asked);
            // SAFETY: the process is single-threaded, so the worker starts with
            // consistent memory; it never returns from `work`.
            match unsafe { kernel_fork() } {
                Ok(Fork::Child(pid)) => work(&listener, pid.as_raw_nonzero().get() as u32, parent, config, site),
                Ok(Fork::ParentOf(pid)) => table::record(pid, now, 0),
                // Out of processes: try again next second.
                Err(e) => {
                    dying.begins(Some(e), SHORT);
                    (forked, short) = (n as isize, true);
                    break;
                }
            }
        }
        // At the cap, none idle: a client waiting gets room from the oldest idle
        // connection, and the parent looks again every ROUND.
        let full = live + more >= cap && idle == 0;
        if full {
            crowded.begins(None, "that many workers busy: new connections wait in the backlog");
            // A client waits in the backlog: a `ppoll` that does not wait.
            if table::client_waiting(listener.as_fd(), Some(Duration::ZERO)) {
                ask_oldest(board);
            }
        } else {
            crowded.ends();
        }
        let timeout = match () {
            _ if full => Some(ROUND),
            _ if waiting && more == 0 => Some(YOUNG),
            // Short: till the next second's budget.
            _ if short => Some(Duration::new(0, 1_000_000_000 - now.subsec_nanos())),
            // In an episode: it is over once all the workers have lived a second.
            _ if dying.active() => Some(SECOND),
            _ => None,
        };
        match table::wait_signal(timeout) {
            Some(sig) if sig == Signal::CHILD.as_raw() => table::reap(),
            Some(sig) if sig == Signal::QUIT.as_raw() => {
                signals::force(sig);
                break;
            }
            Some(sig) if sig == Signal::URG.as_raw() => {}
            Some(_) => break,
            None if !short => dying.ends(),
            None => {}
        }
    }
    let _ = shutdown(&listener, Shutdown::Read);
    drop(listener);
    table::finish(Duration::from_secs(config.grace.into()), "workers", config.keep_alive > 0, config.cgi.is_some())
}

/// Workers ready, and idle, as the board says `now`. Ready: idle; forked and not serving
/// yet (in the table, not yet on the board, or starting there); or answering a
/// connection accepted less than YOUNG ago, which will let it go at once (a connection
/// per request). Not ready: a kept-alive connection, a slow head, a long response.
fn ready(board: &Board, live: usize, now: Duration) -> (usize, usize) {
    let (mut claimed, mut idle, mut soon) = (0, 0, 0);
    for seen in board.seen() {
        claimed += 1;
        match seen.state {
            State::Idle => idle += 1,
            State::Starting => soon += 1,
            State::Reading | State::Writing if now.saturating_sub(seen.accepted) < YOUNG => soon += 1,
            _ => {}
        }
    }
    (idle + soon + live.saturating_sub(claimed), idle)
}

/// Asks the worker with the oldest kept-alive connection or slow head (arriving for
/// `conn::head::PATIENCE` or more), not asked yet, to make room (SIGUSR1). Workers
/// answering a request are not asked: they are doing what they are for.
fn ask_oldest(board: &Board) {
    let now = clock::monotonic();
    let slow = |s: &scoreboard::Seen| now.saturating_sub(s.since) >= conn::head::PATIENCE;
    let holding = board.seen().filter(|s| !s.asked && (s.state == State::KeptAlive || s.state == State::Reading && slow(s)));
    if let Some(oldest) = holding.min_by_key(|s| s.since) {
        board.mark_asked(oldest.pid);
        if let Some(pid) = Pid::from_raw(oldest.pid) {
            let _ = kill_process(pid, Signal::USR1);
        }
    }
}

/// A worker: accept, serve, close, until the listening socket is shut down, or until it
/// has been idle for IDLE_LIFE while more than `--workers` others were too.
fn work(listener: &OwnedFd, pid: u32, parent: Pid, config: &Config, site: Option<&Site>) -> ! {
    // Its slot first: a worker that dies before it serves is seen to die young.
    scoreboard::claim(pid);
    // The signals a fork-mode child has: the handlers only set flags a worker never
    // reads (LISTENER is 0: a stop signal does not shut the port down) and interrupt a
    // wait, and a CGI script must not inherit them blocked.
    table::unblock();
    // It dies with its parent: a parent SIGKILLed must not leave workers behind that
    // hold the port and serve unsupervised. One that died before this is seen at once.
    // A worker that cannot ask for that does not serve.
    if let Err(e) = set_parent_process_death_signal(Some(Signal::KILL)) {
        log::event(&mut |line| {
            line.push(b"a worker cannot ask to die with its parent (prctl): ");
            crate::errno::write(line, e);
        });
        rustix::runtime::exit_group(1)
    }
    if getppid() != Some(parent) {
        rustix::runtime::exit_group(1)
    }
    let spares = config.workers as i32;
    let mut accept_failing = Episode::new("accept4");
    let mut idle = false;
    loop {
        if !idle {
            scoreboard::enter_idle();
            idle = true;
        }
        match accept(listener, &mut accept_failing) {
            Ok((conn, peer, accepted)) => {
                idle = false;
                // The last spare place taken: the parent forks more.
                if scoreboard::leave_idle(accepted.monotonic) < spares && scoreboard::ask_parent() {
                    let _ = kill_process(parent, Signal::URG);
                }
                if let Some(peer) = peer.filter(|_| config.max_per_client > 0) {
                    if scoreboard::serving(&peer.ip()) >= config.max_per_client {
                        refuse(&conn);
                        continue;
                    }
                }
                conn::room::reset();
                conn::connection(&conn, peer.as_ref(), pid, config, site, accepted);
            }
            // Idle for IDLE_LIFE: one too many goes.
            Err(Errno::AGAIN) if scoreboard::retire(spares) => rustix::runtime::exit_group(0),
            // The parent's shutdown: the stop.
            Err(Errno::INVAL) => rustix::runtime::exit_group(0),
            // The connection's own trouble (ECONNABORTED), a pause, or idle and needed.
            Err(_) => {}
        }
    }
}
