//! The parent: accept a connection, fork a child to serve it, close the parent's copy,
//! loop. Per connection the parent makes three syscalls: `accept4`, `clone`, `close`;
//! before the loop `getpid` (for the stop handler, see `signals`).
//!
//! It never dies or spins because of a client or a resource limit: at `--max-children` it
//! sleeps until a child exits; when `accept4` runs out of descriptors or memory, or `fork`
//! out of processes, it logs the episode once, backs off, and recovers by itself.

use crate::buf::Buf;
use crate::children::{self, Table};
use crate::child;
use crate::clock::{self, Now};
use crate::config::Config;
use crate::errno;
use crate::files::Site;
use crate::http::{Status, response};
use crate::log;
use crate::signals;
use crate::stacks::{Never, Stacks};
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::getpid;
use rustix::net::{RecvFlags, SendFlags, Shutdown, SocketFlags, acceptfrom_with, recv, send, shutdown};
use rustix::thread::nanosleep;
use rustix::time::Timespec;

/// Serves until SIGTERM or SIGINT, then lets the children finish; returns the exit status.
/// The loop runs on the parent's own stack, and every child starts on the main stack
/// (see `stacks`).
pub fn run(listener: OwnedFd, config: &Config<'_>, site: Option<&Site<'_>>, stacks: &Stacks) -> i32 {
    stacks.run(|| serve(listener, config, site, stacks))
}

fn serve(listener: OwnedFd, config: &Config<'_>, site: Option<&Site<'_>>, stacks: &Stacks) -> i32 {
    let table = Table::new();
    let _installed = table.install();
    let mut full = Episode::new("--max-children");
    let mut accept_failing = Episode::new("accept4");
    let mut fork_failing = Episode::new("fork");
    signals::arm(listener.as_fd(), getpid());
    loop {
        if signals::stopping() {
            break;
        }
        if children::live() >= config.max_children {
            // Connections wait in the listen backlog meanwhile.
            full.begins(None, "that many children running: new connections wait in the backlog");
            if config.keep_alive > 0 && children::client_waiting(listener.as_fd()) {
                children::ask_for_room();
            }
            children::wait_below(config.max_children);
            continue;
        }
        full.ends();
        // The connection's own trouble (ECONNABORTED), the stop signal's EINVAL, or a pause.
        let Ok((conn, peer, accepted)) = accept(&listener, &mut accept_failing) else { continue };
        // What the child gets, by value: the descriptors' numbers (its copies of them are
        // its own), and what `main` holds, which is on the stack the child has.
        let (conn_fd, listener_fd) = (conn.as_raw_fd(), listener.as_raw_fd());
        let child = move |pid| -> Never {
            // SAFETY: in the child, these numbers are its own copies of the descriptors,
            // owned by nothing else there.
            let (conn, listener) = unsafe { (OwnedFd::from_raw_fd(conn_fd), OwnedFd::from_raw_fd(listener_fd)) };
            drop(listener);
            child::serve(conn, peer.as_ref(), pid, config, site, accepted)
        };
        match stacks.fork(child) {
            // The child has its own reference to the connection; the parent's `conn` is
            // closed when it goes out of scope, or the socket would outlive the child.
            Ok(pid) => {
                children::record(pid);
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
    children::finish(Duration::from_secs(config.grace.into()), "requests in flight", config.keep_alive > 0, config.cgi.is_some())
}

/// `accept4`: the connection, its peer, and when it was accepted. Out of descriptors or
/// kernel memory, the connection waits in the backlog until resources return, and
/// retrying at once would only spin: the episode is logged and the caller paused 100 ms
/// before the error is returned.
pub(crate) fn accept(listener: &OwnedFd, failing: &mut Episode) -> Result<(OwnedFd, Option<SocketAddr>, Now), Errno> {
    match acceptfrom_with(listener, SocketFlags::empty()) {
        Ok((conn, peer)) => {
            failing.ends();
            Ok((conn, peer.and_then(|p| SocketAddr::try_from(p).ok()), clock::now()))
        }
        Err(e) => {
            if matches!(e, Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM) {
                failing.begins(Some(e), "pausing accepts, retrying every 100 ms");
                pause(100);
            }
            Err(e)
        }
    }
}

/// Answers 503 from the parent, which cannot wait for a slow client: nothing blocks. What
/// has arrived of the request is read first, so that the close sends FIN, not RST.
#[cold]
#[inline(never)]
fn refuse(conn: &OwnedFd) {
    let mut request = [0u8; 1024];
    let _ = recv(conn, &mut request, RecvFlags::DONTWAIT);
    let mut out = Buf::new();
    response::write(&mut out, Status::ServiceUnavailable, false, response::CLOSE, clock::unix_seconds());
    let _ = send(conn, out.as_bytes(), SendFlags::DONTWAIT | SendFlags::NOSIGNAL);
    let _ = shutdown(conn, Shutdown::Write);
}

/// Sleeps `ms` milliseconds, or less if a signal comes (the loop then checks for a stop).
fn pause(ms: u32) {
    let _ = nanosleep(&Timespec { tv_sec: 0, tv_nsec: i64::from(ms) * 1_000_000 });
}

/// A run of one trouble (the cap reached, accept4 or fork failing, workers dying): one log line when it
/// begins, one when it ends, however many times it happens in between.
pub(crate) struct Episode {
    name: &'static str,
    since: Option<Duration>,
    times: u64,
}

impl Episode {
    pub(crate) fn new(name: &'static str) -> Self {
        Episode { name, since: None, times: 0 }
    }

    /// It happened (again): the first time logs `forkhttpd: NAME: `, the errno if any,
    /// and `detail`.
    pub(crate) fn begins(&mut self, errno: Option<Errno>, detail: &str) {
        self.times += 1;
        if self.since.is_none() {
            self.since = Some(clock::monotonic());
            log::event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": ");
                if let Some(e) = errno {
                    errno::write(line, e);
                    line.push(b": ");
                }
                line.push(detail.as_bytes());
            });
        }
    }

    /// It is over: `forkhttpd: NAME: over after N ms (M times)`.
    pub(crate) fn ends(&mut self) {
        if let Some(since) = self.since.take() {
            let ms = (clock::monotonic().saturating_sub(since)).as_millis() as u64;
            log::event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": over after ").num(ms).push(b" ms (");
                line.num(self.times).push(b" times)");
            });
            self.times = 0;
        }
    }

    pub(crate) fn active(&self) -> bool {
        self.since.is_some()
    }
}
