//! `--status PATH`: the scoreboard as a `text/plain` page, one line per process, as
//! Apache's mod_status shows it: what each process does, since when, how many requests it
//! has answered, for whom, and the start of its request line (escaped as the access log
//! escapes it). It shows clients' addresses and requests, so only loopback clients get it
//! (others: 404), as Apache's `Require local`. Refresh it while `wrk` runs to watch the
//! process model live.
//!
//! The page is read while the processes write it: its length is not known before it is
//! written, so it has no `Content-Length` and ends the connection. Syscalls: `sendto`.

use super::{Answer, Exchange, send_all};
use crate::addr;
use crate::buf::Buf;
use crate::clock;
use crate::config::Config;
use crate::http::{Status, response};
use crate::log;
use crate::scoreboard::{self, State};
use core::net::IpAddr;
use rustix::net::SendFlags;

/// The page, or 404 for a client that is not on this machine.
#[inline(never)]
pub fn answer(x: &Exchange<'_>, config: &Config) -> Answer {
    let local = x.peer.is_some_and(|peer| match peer.ip() {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    });
    let Some(board) = scoreboard::board().filter(|_| local) else {
        return x.reply(Status::NotFound);
    };
    let x = Exchange { connection: response::CLOSE, ..*x };
    let mut out = Buf::new();
    response::start(&mut out, Status::Ok, x.unix);
    response::field(&mut out, b"Content-Type").push(response::TEXT).push(b"\r\nCache-Control: no-store\r\n");
    // A body follows (its length unknown: 1 says "some"), unless the request was HEAD.
    if let Some(answer) = x.send_head(&mut out, Status::Ok, 1) {
        return Answer { last: true, ..answer };
    }
    let now = clock::monotonic();
    let mut sent = 0u64;
    let mut line = Buf::new();
    // Its counts first, then the processes.
    let (mut counts, mut total) = ([0u64; 5], 0);
    for seen in board.seen() {
        if let Some(n) = counts.get_mut(seen.state as usize) {
            *n += 1;
        }
        total += 1;
    }
    line.push(b"forkhttpd ").push(env!("CARGO_PKG_VERSION").as_bytes()).push(b": ");
    match config.workers {
        0 => line.push(b"a fork per connection"),
        n => line.push(b"prefork, ").num(n as u64).push(b" workers kept ready"),
    };
    line.push(b", at most ").num(config.max_children as u64).push(b" processes\n");
    line.num(total).push(b" serving:");
    for state in [State::Idle, State::Reading, State::Writing, State::KeptAlive, State::Starting] {
        line.byte(b' ').num(counts.get(state as usize).copied().unwrap_or(0)).byte(b' ').push(state.name());
    }
    line.push(b"\n\nPID     STATE     SECONDS  REQUESTS  CLIENT                 REQUEST\n");
    for seen in board.seen() {
        if line.room() < 200 {
            if send_all(x.conn, line.as_bytes(), SendFlags::empty()).is_err() {
                break;
            }
            sent += line.as_bytes().len() as u64;
            line.clear();
        }
        column(&mut line, |l| { l.num(seen.pid.unsigned_abs().into()); }, 8);
        column(&mut line, |l| { l.push(seen.state.name()); }, 10);
        let age = now.saturating_sub(seen.since);
        column(&mut line, |l| { l.num(age.as_secs()).byte(b'.').num(u64::from(age.subsec_millis() / 100)); }, 9);
        column(&mut line, |l| { l.num(seen.requests); }, 10);
        column(
            &mut line,
            |l| match seen.client {
                Some(client) => addr::write(l, &client),
                None => {
                    l.byte(b'-');
                }
            },
            23,
        );
        if !seen.line().is_empty() {
            line.byte(b'"');
            log::escape(&mut line, seen.line());
            line.byte(b'"');
        }
        line.byte(b'\n');
    }
    let cut = send_all(x.conn, line.as_bytes(), SendFlags::empty()).err();
    if cut.is_none() {
        sent += line.as_bytes().len() as u64;
    }
    Answer { code: 200, bytes: sent, cut, last: true, log: true, user: None }
}

/// Appends what `write` writes, then spaces up to `width` bytes (one at least).
fn column(line: &mut Buf, write: impl FnOnce(&mut Buf), width: usize) {
    let start = line.as_bytes().len();
    write(line);
    let used = line.as_bytes().len() - start;
    for _ in 0..width.saturating_sub(used).max(1) {
        line.byte(b' ');
    }
}
