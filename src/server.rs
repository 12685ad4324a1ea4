//! The parent: accept a connection, fork a child to serve it, close the parent's copy,
//! loop. Per connection the parent makes three syscalls: `accept4`, `clone`, `close`.

use crate::child;
use crate::config::Config;
use crate::signals;
use core::net::SocketAddr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::net::{SocketFlags, acceptfrom_with};
use rustix::runtime::{Fork, kernel_fork};

/// Serves until SIGTERM or SIGINT, then waits for in-flight children; returns the exit
/// status.
pub fn run(listener: OwnedFd, config: &Config) -> i32 {
    loop {
        signals::arm(listener.as_fd());
        if signals::stopping() {
            break;
        }
        // Errors here are the connection's (ECONNABORTED), or the stop signal's EINVAL.
        let Ok((conn, peer)) = acceptfrom_with(&listener, SocketFlags::empty()) else {
            continue;
        };
        signals::disarm();
        // SAFETY: the process is single-threaded, so the child starts with consistent
        // memory; it only uses its copy of `conn` and exits through `child::serve`.
        match unsafe { kernel_fork() } {
            Ok(Fork::Child(pid)) => {
                drop(listener);
                let peer = peer.and_then(|p| SocketAddr::try_from(p).ok());
                child::serve(conn, peer.as_ref(), pid.as_raw_nonzero().get() as u32, config)
            }
            // The child has its own reference to the connection; the parent's `conn`
            // is closed here, or the socket would stay open after the child is done.
            Ok(Fork::ParentOf(_)) | Err(_) => drop(conn),
        }
    }
    signals::disarm();
    drop(listener);
    signals::wait_for_children();
    0
}
