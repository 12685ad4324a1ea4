//! Prefork (`--workers N`), Apache's model: N processes forked at start-up, each of which
//! accepts a connection, serves it with the child's code (keep-alive included), closes
//! it and accepts the next. Per connection a worker makes `accept4`, what the child makes
//! (`setsockopt`, `recvfrom`, `sendto`, `write`), `close`: no `clone`, no `exit_group`.
//! At its start `rt_sigprocmask` (the parent's blocked signals unblocked), then
//! `prctl(PR_SET_PDEATHSIG)` and `getppid`: it dies with its parent.
//!
//! The parent accepts nothing. It blocks SIGCHLD, SIGTERM and SIGINT (`rt_sigprocmask`),
//! takes its pid (`getpid`, for the workers' check), and sleeps in `rt_sigtimedwait`: on
//! SIGCHLD it reaps (`wait4`, orphans too as PID 1) and forks a replacement (`clone`), at
//! most N a second after start-up, so that workers which die as they start cost it a
//! few forks a second, not a spin. On SIGTERM/SIGINT it shuts the listening socket down
//! (`shutdown(SHUT_RD)`): the socket is one for all the processes, so every worker's
//! `accept4` fails with EINVAL, at once for those waiting in it, after the connection for
//! those serving one, and the worker exits. Then `close`, and the grace period as in fork
//! mode (SIGUSR1 with keep-alive): the stop reaches the workers through the socket (and
//! SIGUSR1), never through their own SIGTERM/SIGINT handlers.
#![allow(unsafe_code)] // unsafe: fork.

use super::accept::accept;
use super::signals::{self, Signal};
use super::table::{self, Table};
use crate::clock;
use crate::config::Config;
use crate::conn;
use crate::handler::Site;
use crate::log::{self, Episode};
use core::time::Duration;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{Shutdown, shutdown};
use rustix::process::{Pid, getpid, getppid, set_parent_process_death_signal};
use rustix::runtime::{Fork, kernel_fork};

const SECOND: Duration = Duration::from_secs(1);
const SHORT: &str = "short of --workers: forking at most that many a second";

/// Keeps `--workers` workers serving until SIGTERM or SIGINT; returns the exit status.
pub fn run(listener: OwnedFd, config: &Config, site: Option<&Site>) -> i32 {
    // Forks are rare here (start-up, replacements): the table and this loop stay on the
    // main stack, and workers are forked as such (see `stacks` for the fork path's way).
    let table = Table::new();
    let _installed = table.install();
    table::block();
    let parent = getpid();
    signals::set_parent(parent);
    let mut dying = Episode::new("workers");
    // Forks in the current second of the monotonic clock: at most `n`, not counting
    // the start-up's `n`.
    let n = config.workers as isize;
    let (mut second, mut forked) = (clock::monotonic().as_secs(), -n);
    // A stop that came before the block ran its handler, which only set the flag.
    while !signals::stopping() {
        let now = clock::monotonic();
        if now.as_secs() != second {
            (second, forked) = (now.as_secs(), 0);
        }
        let short = (table::live() as isize) < n;
        if short && forked < n {
            forked += 1;
            // SAFETY: the process is single-threaded, so the worker starts with
            // consistent memory; it never returns from `work`.
            match unsafe { kernel_fork() } {
                Ok(Fork::Child(pid)) => work(&listener, pid.as_raw_nonzero().get() as u32, parent, config, site),
                Ok(Fork::ParentOf(pid)) => {
                    table::record(pid);
                    continue;
                }
                // Out of processes: try again next second.
                Err(e) => {
                    dying.begins(Some(e), SHORT);
                    forked = n;
                }
            }
        } else if short {
            // Dying as fast as they are replaced.
            dying.begins(None, SHORT);
        }
        // Short: till the next second. In an episode: it is over once all the workers
        // have lived a second.
        let timeout = if short {
            Some(Duration::new(0, 1_000_000_000 - now.subsec_nanos()))
        } else {
            dying.active().then_some(SECOND)
        };
        match table::wait_signal(timeout) {
            Some(sig) if sig == Signal::CHILD.as_raw() => table::reap(),
            Some(sig) if sig == Signal::QUIT.as_raw() => {
                signals::force(sig);
                break;
            }
            Some(_) => break,
            None if !short => dying.ends(),
            None => {}
        }
    }
    let _ = shutdown(&listener, Shutdown::Read);
    drop(listener);
    table::finish(Duration::from_secs(config.grace.into()), "workers", config.keep_alive > 0, config.cgi.is_some())
}

/// A worker: accept, serve, close, until the listening socket is shut down.
fn work(listener: &OwnedFd, pid: u32, parent: Pid, config: &Config, site: Option<&Site>) -> ! {
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
    let mut accept_failing = Episode::new("accept4");
    loop {
        match accept(listener, &mut accept_failing) {
            Ok((conn, peer, accepted)) => {
                conn::connection(&conn, peer.as_ref(), pid, config, site, accepted);
            }
            // The parent's shutdown: the stop.
            Err(Errno::INVAL) => rustix::runtime::exit_group(0),
            // The connection's own trouble (ECONNABORTED), or a pause.
            Err(_) => {}
        }
    }
}
