//! One connection's life, in a fork-mode child or a prefork worker: read a request head
//! ([`head`]), have it answered ([`dispatch`] chooses the handler), log it; again while the
//! connection persists (HTTP/1.1 keep-alive, and [`room`] when the parent needs it back);
//! close cleanly.
//!
//! A Hello request costs the child seven syscalls with `--keep-alive 0`: `close` (the
//! listening socket, the parent's `fork` path), `setsockopt` (SO_RCVTIMEO, the
//! deadline), `recvfrom`, `sendto`, `write` (the access log), `close` (the connection)
//! and `exit_group`. With keep-alive, the first wait for a next request sets the idle
//! limit (`setsockopt`); then each request whose head arrives whole costs `recvfrom`,
//! `sendto`, `write`, and the end of the connection a last `recvfrom` (which returns 0,
//! or times out). The clocks are read through the vDSO, without a syscall.

pub mod dispatch;
pub mod head;
pub mod room;

use crate::clock::{self, Now};
use crate::config::Config;
use crate::handler::{Answer, Exchange, Site};
use crate::http::request::{self, Message, is};
use crate::http::{cors, response};
use crate::log::{self, Format};
use crate::scoreboard::{self, State};
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::OwnedFd;

/// How long a connection asked to make room drains what its client still sends before
/// it closes.
const DRAIN_ASKED: Duration = Duration::from_millis(100);

/// Serves the connection, then exits the process: a fork-mode child's whole life.
pub fn serve(conn: OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config, site: Option<&Site<'_>>, accepted: Now) -> ! {
    // With `--status`, the child's slot on the scoreboard (none without: nothing written).
    if config.scoreboard {
        scoreboard::claim(pid);
    }
    connection(&conn, peer, pid, config, site, accepted);
    // Closed here, as the article's child does, not by `exit_group`: the kernel closes
    // an exiting process's descriptors only after it has torn down its address space,
    // so the FIN would leave tens of µs later. One more syscall, and yet about 10% more
    // connections a second (BENCHMARKS.md).
    drop(conn);
    rustix::runtime::exit_group(0)
}

/// Serves the connection `conn` from `peer`, accepted at `accepted`, until it is done;
/// `pid` is the serving process's, for the log. The caller closes it.
///
/// The first head must be complete within `--timeout` of the accept, and the first
/// response's `Date` is the accept's time: a child that serves one request reads no
/// clock at all (the vDSO's page is not faulted into it). A persistent connection then
/// waits up to `--keep-alive` seconds for the next request's first bytes, and that head
/// too must be complete within `--timeout`. Pipelined requests, already received, are
/// answered in order. The connection ends with the response that says `Connection:
/// close`: the client asked for it, the request had a body (never read), the head was
/// rejected, `--max-requests` were served, or the parent asked its children to make room
/// (SIGUSR1, see [`room`]).
pub fn connection(conn: &OwnedFd, peer: Option<&SocketAddr>, pid: u32, config: &Config, site: Option<&Site<'_>>, accepted: Now) {
    // SAFETY: this function is the one user of the buffer, and never runs twice at once
    // in a process: its one thread calls it for one connection at a time, and no signal
    // handler calls it.
    #[allow(unsafe_code)]
    let buf = unsafe { head::received() };
    let board = config.scoreboard;
    if board {
        scoreboard::connection(peer, accepted.monotonic);
    }
    let timeout = Duration::from_secs(config.timeout.into());
    let mut now = Some(accepted);
    let mut deadline = accepted.monotonic + timeout;
    let mut served = 0;
    // SO_RCVTIMEO is the idle limit (set before the first wait, and kept while every
    // head arrives whole): each further request costs no `setsockopt`.
    let mut idle_set = false;
    loop {
        // The first `recv`'s clock is the accept's (see above).
        let began = deadline.saturating_sub(timeout);
        let Some(verdict) = head::read_head(conn, buf, began, deadline, now.map(|now| now.monotonic), &mut idle_set) else { return };
        let received = buf.len;
        served += 1;
        let keep = verdict.accepted()
            && verdict.keep_alive
            && !verdict.body_follows
            && config.keep_alive > 0
            && served < config.max_requests
            && !room::closing();
        let x = Exchange {
            conn,
            peer,
            head_only: verdict.head_only,
            connection: match (keep, verdict.http10) {
                (false, _) => response::CLOSE,
                (true, true) => response::KEEP_ALIVE,
                (true, false) => response::OPEN,
            },
            unix: now.take().map_or_else(clock::unix_seconds, |now| now.unix),
            deadline,
            timeout,
            fields: config.headers.as_slice(),
            cors: cors::allow(config.cors.as_slice(), buf.as_bytes()),
            site,
        };
        let head = buf.as_bytes();
        if board {
            scoreboard::request(request::request_line(head), began);
        }
        let answer = dispatch::answer(&x, &verdict, head, config, site);
        if !config.quiet && answer.log {
            access(&x, head, &answer, pid, config.log_format, began);
        }
        if !keep || answer.cut.is_some() || answer.last {
            if verdict.may_leave_unread(received) {
                // Asked for room, the process is needed elsewhere: a short drain (a
                // client that stalls on purpose never sends its FIN).
                let until = if room::closing() { deadline.min(clock::monotonic() + DRAIN_ASKED) } else { deadline };
                head::drain(conn, buf, until);
            }
            return;
        }
        // What came after this head (pipelined requests) moves to the front.
        buf.consume(verdict.head_len);
        if board {
            scoreboard::set(State::KeptAlive);
        }
        if buf.len == 0 && !head::wait_for_request(conn, buf, Duration::from_secs(config.keep_alive.into()), &mut idle_set) {
            return;
        }
        if board {
            scoreboard::set(State::Reading);
        }
        deadline = clock::monotonic() + timeout;
    }
}

/// The access-log line of the request whose head starts `head`, begun at `started`
/// (monotonic). The short format needs nothing but the request line; the others read
/// `Referer` and `User-Agent` (a second pass over the head) and the clock (the vDSO's).
fn access(x: &Exchange<'_>, head: &[u8], answer: &Answer, pid: u32, format: Format, started: Duration) {
    let (mut referer, mut user_agent, mut micros) = (&[][..], &[][..], 0);
    if format != Format::Short {
        let message = Message::lex(head).ok();
        for (name, value) in message.iter().flat_map(Message::fields) {
            if is(name, b"referer") {
                referer = value;
            } else if is(name, b"user-agent") {
                user_agent = value;
            }
        }
        micros = clock::monotonic().saturating_sub(started).as_micros() as u64;
    }
    log::access(&log::Access {
        peer: x.peer,
        request_line: request::request_line(head),
        status: answer.code,
        bytes: answer.bytes,
        pid,
        cut: answer.cut,
        unix: x.unix,
        micros,
        referer,
        user_agent,
        user: answer.user,
    });
}
