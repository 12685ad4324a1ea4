//! Taking a connection, for both models: `accept4`, its peer and its time. It never
//! spins: out of descriptors or kernel memory, the connection waits in the backlog, one
//! event line says so (an episode), and the caller pauses before it tries again.
//! Syscalls: `accept4`; `nanosleep` for a pause.

use crate::buf::Buf;
use crate::clock::{self, Now};
use crate::http::{Status, response};
use crate::log::Episode;
use core::net::SocketAddr;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags, Shutdown, SocketFlags, acceptfrom_with, recv, send, shutdown};
use rustix::thread::nanosleep;
use rustix::time::Timespec;

/// `accept4`: the connection, its peer, and when it was accepted. Out of descriptors or
/// kernel memory, the connection waits in the backlog until resources return, and
/// retrying at once would only spin: the episode is logged and the caller paused 100 ms
/// before the error is returned.
pub fn accept(listener: &OwnedFd, failing: &mut Episode) -> Result<(OwnedFd, Option<SocketAddr>, Now), Errno> {
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

/// Sleeps `ms` milliseconds, or less if a signal comes (the loop then checks for a stop).
pub fn pause(ms: u32) {
    let _ = nanosleep(&Timespec { tv_sec: 0, tv_nsec: i64::from(ms) * 1_000_000 });
}


/// Answers 503 (with `Retry-After`) in the process that accepted, which must not wait for
/// a slow client: nothing blocks. What has arrived of the request is read first, so that
/// the close sends FIN, not RST. The caller closes.
#[cold]
#[inline(never)]
pub fn refuse(conn: &OwnedFd) {
    let mut request = [0u8; 1024];
    let _ = recv(conn, &mut request, RecvFlags::DONTWAIT);
    let mut out = Buf::new();
    response::write(&mut out, Status::ServiceUnavailable, false, response::CLOSE, clock::unix_seconds());
    let _ = send(conn, out.as_bytes(), SendFlags::DONTWAIT | SendFlags::NOSIGNAL);
    let _ = shutdown(conn, Shutdown::Write);
}
