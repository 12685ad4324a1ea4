//! Fork mode, the article's model: the parent accepts a connection, forks a child to serve
//! it, closes its copy, loops. Per connection the parent makes three syscalls: `accept4`,
//! `clone`, `close`; before the loop `getpid` (for the stop handler, see `signals`).
//!
//! It never dies or spins because of a client or a resource limit: at `--max-children` it
//! sleeps until a child exits, and when a client waits meanwhile it asks the oldest
//! connection's child to make room (SIGUSR1: a kept-alive or still-arriving head gives its
//! process up), another every 20 ms until one exits; when `accept4` runs out of
//! descriptors or memory, or `fork` out of processes, it logs the episode once, backs off,
//! and recovers by itself. With `--max-per-client`, a connection from an address that has
//! that many already gets 503 from the parent.
#![allow(unsafe_code)] // unsafe: a child takes its copies of the descriptors by number.

use super::ROUND;
use super::accept::{accept, pause, refuse};
use super::signals;
use super::stacks::{Never, Stacks};
use super::table::{self, Table};
use crate::config::Config;
use crate::conn;
use crate::handler::Site;
use crate::log::Episode;
use core::time::Duration;
use rustix::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use rustix::process::getpid;

/// Serves until SIGTERM or SIGINT, then lets the children finish; returns the exit
/// status. Runs on the parent's own stack (the caller's [`Stacks::run`]), and every child
/// starts on the main stack (see `stacks`).
pub fn serve(listener: OwnedFd, config: &Config, site: Option<&Site<'_>>, stacks: &Stacks) -> i32 {
    let table = Table::new();
    let _installed = table.install();
    let mut full = Episode::new("--max-children");
    let mut accept_failing = Episode::new("accept4");
    let mut fork_failing = Episode::new("fork");
    let mut crowded = Episode::new("--max-per-client");
    signals::arm(listener.as_fd(), getpid());
    loop {
        if signals::stopping() {
            break;
        }
        if table::live() >= config.max_children {
            // Connections wait in the listen backlog meanwhile; when one does, the oldest
            // connection makes room, then the next oldest every ROUND until a child exits.
            full.begins(None, "that many children running: new connections wait in the backlog");
            if table::client_waiting(listener.as_fd(), None) && table::ask_oldest() {
                // A child's exit ends the pause early (its handler interrupts the sleep).
                pause(ROUND.as_millis() as u32);
            } else if !signals::stopping() {
                table::wait_below(config.max_children);
            }
            continue;
        }
        full.ends();
        // The connection's own trouble (ECONNABORTED), the stop signal's EINVAL, or a pause.
        let Ok((conn, peer, accepted)) = accept(&listener, &mut accept_failing) else { continue };
        let client = match peer {
            Some(peer) if config.max_per_client > 0 => crate::addr::key(&peer.ip()),
            _ => 0,
        };
        if client != 0 && table::serving(client) >= config.max_per_client {
            crowded.begins(None, "answering 503 to an address over it");
            refuse(&conn);
            continue;
        }
        crowded.settles(CROWDED_QUIET);
        // What the child gets, by value: the descriptors' numbers (its copies of them are
        // its own), and what `main` holds, which is on the stack the child has.
        let (conn_fd, listener_fd) = (conn.as_raw_fd(), listener.as_raw_fd());
        let child = move |pid| -> Never {
            // SAFETY: in the child, these numbers are its own copies of the descriptors,
            // owned by nothing else there.
            let (conn, listener) = unsafe { (OwnedFd::from_raw_fd(conn_fd), OwnedFd::from_raw_fd(listener_fd)) };
            drop(listener);
            conn::serve(conn, peer.as_ref(), pid, config, site, accepted)
        };
        match stacks.fork(child) {
            // The child has its own reference to the connection; the parent's `conn` is
            // closed when it goes out of scope, or the socket would outlive the child.
            Ok(pid) => {
                table::record(pid, accepted.monotonic, client);
                fork_failing.ends();
            }
            Err(e) => {
                fork_failing.begins(Some(e), "answering 503");
                refuse(&conn);
                pause(50);
            }
        }
    }
    signals::disarm();
    drop(listener);
    table::finish(Duration::from_secs(config.grace.into()), "requests in flight", config.keep_alive > 0, config.cgi.is_some())
}

/// `--max-per-client`'s refusals are one episode until a second passes without one.
const CROWDED_QUIET: Duration = Duration::from_secs(1);

