//! The connection's child between the client and the script: the request body to the
//! script's stdin, the script's stdout to the client, all in one `poll(2)` loop, so that
//! neither side can stall the other and every wait has a limit.
//!
//! Until the script's header block is complete the limit is the connection's deadline
//! (then 504, or 408 if the client is still sending the body); after, each wait may last
//! the timeout (then the response is cut off). A client that goes away (EOF or reset on
//! the connection) ends it all. Whatever ends it, the caller then kills and reaps the
//! script.
//!
//! Syscalls: `ppoll`; `recvfrom` of the body, `write` to the script's stdin, `close` of
//! it; `read` of the script's stdout; `sendmsg` of the head with the first body bytes,
//! then of each piece of the body.

use super::Outcome;
use super::process::{Process, event, write_status};
use crate::buf::Buf;
use crate::clock;
use crate::http::cgi::{self, MAX_PIECES, Output};
use crate::http::Status;
use crate::log::Cut;
use core::time::Duration;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::OwnedFd;
use rustix::io::{Errno, IoSlice};
use rustix::net::{RecvFlags, SendAncillaryBuffer, SendFlags, recv, sendmsg};
use rustix::time::Timespec;

/// The script's output is read in pieces this large; its header block must fit in one.
pub const OUT: usize = 32 * 1024;

/// The body goes to the script in pieces of at most PIPE_BUF: after `poll` says a pipe
/// is writable, a write that large never blocks.
const PIPE_BUF: usize = 4096;

/// One exchange between the client and the script.
pub struct Relay<'a> {
    pub conn: &'a OwnedFd,
    pub name: &'a [u8],
    pub head_only: bool,
    /// Body bytes still to come from the client.
    pub body_left: u64,
    pub deadline: Duration,
    pub timeout: Duration,
}

impl Relay<'_> {
    /// Runs the exchange; `body` is the part of the body that came with the head.
    pub fn run(&mut self, script: &mut Process, body: &[u8]) -> Outcome {
        let mut input = [0u8; PIPE_BUF];
        let mut out = [0u8; OUT];
        // The body bytes waiting for the script: first `body`, then what `input` received.
        let mut pending = body;
        let mut got = 0; // bytes of the header block read so far
        let mut header_sent = false;
        let mut body_limit: Option<u64> = None; // body bytes the client may still get
        let mut outcome = Outcome { status: 0, bytes: 0, cut: None, unread: false };
        let mut last = clock::monotonic();
        loop {
            if pending.is_empty() && self.body_left == 0 {
                script.stdin = None; // the whole body is written: EOF for the script
            }
            let limit = if header_sent { last.saturating_add(self.timeout) } else { self.deadline };
            let Some(left) = limit.checked_sub(clock::monotonic()).filter(|d| !d.is_zero()) else {
                return self.timed_out(header_sent, script.stdin.is_some(), outcome);
            };
            let to_write = !pending.is_empty();
            let reading_body = script.stdin.is_some() && !to_write && self.body_left > 0;
            // Once the response is complete, the client may leave: it has all it needs.
            let watch_client = !(header_sent && body_limit == Some(0));
            let (script_out, client, script_in) = {
                // Without a body to read, watch the connection only for the client leaving.
                let watch = if reading_body { PollFlags::IN } else { PollFlags::RDHUP };
                let mut fds = [PollFd::new(&script.stdout, PollFlags::IN), PollFd::new(self.conn, watch), PollFd::new(self.conn, watch)];
                let mut n = 1 + usize::from(watch_client);
                let mut writing = false;
                if let (Some(stdin), true, Some(slot)) = (&script.stdin, to_write, fds.get_mut(n)) {
                    *slot = PollFd::new(stdin, PollFlags::OUT);
                    (n, writing) = (n + 1, true);
                }
                let timeout = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos().into() };
                match poll(fds.get_mut(..n).unwrap_or(&mut []), Some(&timeout)) {
                    Ok(_) | Err(Errno::INTR) => {}
                    // EFAULT, EINVAL, ENOMEM: nothing a retry would mend.
                    Err(_) => return self.error(Status::BadGateway, outcome),
                }
                let revents = |i: usize, used: bool| fds.get(i).filter(|_| used).map_or(PollFlags::empty(), PollFd::revents);
                (revents(0, true), revents(1, watch_client), revents(n - 1, writing))
            };
            if reading_body && !client.is_empty() {
                let room = self.body_left.min(PIPE_BUF as u64) as usize;
                match recv(self.conn, input.get_mut(..room).unwrap_or(&mut []), RecvFlags::empty()) {
                    Ok((0, _)) | Err(_) => return self.client_gone(outcome),
                    Ok((n, _)) => (pending, self.body_left) = (input.get(..n).unwrap_or(&[]), self.body_left - n as u64),
                }
            } else if !reading_body && !client.is_empty() {
                return self.client_gone(outcome);
            }
            if !script_in.is_empty() {
                let chunk = pending.get(..PIPE_BUF).unwrap_or(pending);
                match script.stdin.as_ref().map(|fd| rustix::io::write(fd, chunk)) {
                    Some(Ok(n)) => pending = pending.get(n..).unwrap_or(&[]),
                    Some(Err(Errno::INTR)) => {}
                    // EPIPE: the script does not read (all of) its body. Stop feeding it;
                    // the rest stays unread on the connection.
                    _ => {
                        (script.stdin, pending) = (None, &[]);
                        outcome.unread = true;
                    }
                }
            }
            if script_out.is_empty() {
                continue;
            }
            // Before the header block is complete, its bytes gather in `out`; after, each
            // read is sent on at once.
            let n = match rustix::io::read(&script.stdout, out.get_mut(got..).unwrap_or(&mut [])) {
                Ok(n) => n,
                Err(Errno::INTR) => continue,
                Err(_) => 0,
            };
            if n == 0 && header_sent {
                return outcome; // the script is done
            }
            if n == 0 {
                let status = script.end();
                event(self.name, &mut |line| {
                    write_status(line, status);
                    line.push(b" before a complete header block: 502");
                });
                return self.error(Status::BadGateway, outcome);
            }
            got += n;
            let received = out.get(..got).unwrap_or(&[]);
            let mut pieces: [&[u8]; MAX_PIECES + 1] = [&[]; MAX_PIECES + 1];
            let mut status_line = Buf::new();
            let mut count = 0;
            let start = if header_sent { 0 } else {
                let header = match cgi::parse(received) {
                    Output::Complete(header) => Ok(header),
                    Output::Partial if got < OUT => continue,
                    Output::Partial => Err("no end in 32 KiB"),
                    Output::Malformed(why) => Err(why),
                };
                let header = match header {
                    Ok(header) => header,
                    Err(why) => {
                        event(self.name, &mut |line| {
                            line.push(b"malformed header block: ").push(why.as_bytes()).push(b": 502");
                        });
                        return self.error(Status::BadGateway, outcome);
                    }
                };
                body_limit = if self.head_only || header.bodyless() { Some(0) } else { header.length };
                let reason_at = header.status_line(&mut status_line, clock::unix_seconds());
                count = header.head(status_line.as_bytes(), reason_at, &mut pieces);
                outcome.status = header.status;
                header_sent = true;
                header.len
            };
            let body = capped(received.get(start..).unwrap_or(&[]), &mut body_limit);
            if let Some(slot) = pieces.get_mut(count) {
                (*slot, count) = (body, count + 1);
            }
            if let Err(e) = send_pieces(self.conn, pieces.get_mut(..count).unwrap_or(&mut [])) {
                outcome.cut = Some(Cut::from(e));
                return self.client_gone(outcome);
            }
            // The script's next output may take `timeout` from now, the send's end.
            (got, last) = (0, clock::monotonic());
            outcome.bytes += body.len() as u64;
        }
    }

    /// Out of time: before the header block, the client still sending its body earns
    /// 408, a script still working 504; after it, the response is cut off.
    fn timed_out(&self, header_sent: bool, body_pending: bool, outcome: Outcome) -> Outcome {
        let secs = self.timeout.as_secs();
        let (what, status): (&[u8], _) = match (header_sent, body_pending && self.body_left > 0) {
            (true, _) => (b"no output for ", None),
            (false, true) => (b"request body still incomplete after ", Some(Status::RequestTimeout)),
            (false, false) => (b"no header block within ", Some(Status::GatewayTimeout)),
        };
        event(self.name, &mut |line| {
            line.push(what).num(secs).push(b" s: killed");
            if let Some(status) = status {
                line.push(b", ").num(status.code().into());
            }
        });
        match status {
            Some(status) => self.error(status, outcome),
            None => outcome,
        }
    }

    /// The client left (or, `SO_SNDTIMEO` having run out, took nothing for that long).
    fn client_gone(&self, outcome: Outcome) -> Outcome {
        let stalled = outcome.cut == Some(Cut::Stalled);
        event(self.name, &mut |line| {
            match stalled {
                true => line.push(b"the client took nothing for ").num(self.timeout.as_secs()).push(b" s: killed"),
                false => line.push(b"the client went away: killed"),
            };
        });
        Outcome { unread: false, ..outcome }
    }

    /// An error response instead of the script's.
    fn error(&self, status: Status, outcome: Outcome) -> Outcome {
        super::respond(self.conn, status, self.head_only, self.body_left > 0 || outcome.unread)
    }
}

/// `bytes`, cut to what `limit` still allows (and counted against it).
fn capped<'b>(bytes: &'b [u8], limit: &mut Option<u64>) -> &'b [u8] {
    match limit {
        Some(left) => {
            let n = bytes.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
            *left -= n as u64;
            bytes.get(..n).unwrap_or(&[])
        }
        None => bytes,
    }
}

/// All of `pieces` in as few `sendmsg`s as the socket takes. MSG_NOSIGNAL: a client
/// that went away is an error, not a SIGPIPE death.
pub fn send_pieces(conn: &OwnedFd, pieces: &mut [&[u8]]) -> Result<(), Errno> {
    let mut first = 0;
    loop {
        // Nothing left to send (a HEAD's discarded body, say) is no syscall.
        while pieces.get(first).is_some_and(|p| p.is_empty()) {
            first += 1;
        }
        if first == pieces.len() {
            return Ok(());
        }
        let mut iov = [IoSlice::new(&[]); MAX_PIECES + 1];
        let mut count = 0;
        for (slot, piece) in iov.iter_mut().zip(pieces.iter().skip(first)) {
            *slot = IoSlice::new(piece);
            count += 1;
        }
        let mut sent = match sendmsg(conn, iov.get(..count).unwrap_or(&[]), &mut SendAncillaryBuffer::default(), SendFlags::NOSIGNAL) {
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        };
        while let Some(piece) = pieces.get_mut(first) {
            if sent < piece.len() {
                *piece = piece.get(sent..).unwrap_or(&[]);
                break;
            }
            sent -= piece.len();
            first += 1;
        }
    }
}
