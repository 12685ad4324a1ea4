//! The connection's child between the client and the script: the request body to the
//! script's stdin, the script's stdout to the client, all in one `poll(2)` loop, so that
//! neither side can stall the other and every wait has a limit.
//!
//! Two phases, as darkhttpd's connections have explicit states:
//! - [`Phase::Head`]: the script's header block gathers; the limit is the connection's
//!   deadline (then 504, or 408 if the client is still sending the body);
//! - [`Phase::Body`]: the head has been sent, and the script's output is relayed as it
//!   comes; each wait may last the timeout (then the response is cut off).
//!
//! In both, the request body goes to the script as the client sends it. A client that
//! goes away (EOF or reset on the connection) ends it all. Whatever ends it, the caller
//! then kills and reaps the script.
//!
//! Syscalls: `ppoll`; `recvfrom` of the body, `write` to the script's stdin, `close` of
//! it; `read` of the script's stdout; `sendmsg` of the head with the first body bytes,
//! then of each piece of the body.

use super::Outcome;
use super::process::{Process, event, write_status};
use crate::buf::Buf;
use crate::clock;
use crate::http::header_block::{self, MAX_PIECES, Output};
use crate::http::{Status, response};
use crate::log::Cut;
use core::ops::ControlFlow::{self, Break, Continue};
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
    /// The client's connection.
    pub conn: &'a OwnedFd,
    /// The script, as the event lines name it.
    pub name: &'a [u8],
    /// The request was HEAD: the head only.
    pub head_only: bool,
    /// Body bytes still to come from the client.
    pub body_left: u64,
    /// The connection's deadline: the header block must be complete by then.
    pub deadline: Duration,
    /// After the header block, the longest the script may write nothing.
    pub timeout: Duration,
    /// How the server's own errors go (see `Server`).
    pub reply: super::Reply<'a>,
}

/// Where the exchange is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The script's header block: `got` bytes of it so far.
    Head {
        /// Bytes of the header block read so far.
        got: usize,
    },
    /// The body: at most `left` bytes more for the client (the script's
    /// `Content-Length`, 0 for HEAD, 204 and 304, none: until the script closes), and
    /// when the script's last output was sent.
    Body {
        /// Body bytes the client may still get.
        left: Option<u64>,
        /// When the last piece was sent: the next may take `timeout` from then.
        last: Duration,
    },
}

/// What `poll` found ready.
struct Ready {
    output: bool,
    client: bool,
    input: bool,
}

impl Relay<'_> {
    /// Runs the exchange; `body` is the part of the body that came with the head.
    pub fn run(&mut self, script: &mut Process, body: &[u8]) -> Outcome {
        let mut input = [0u8; PIPE_BUF];
        let mut out = [0u8; OUT];
        // The body bytes waiting for the script: first `body`, then what `input` received.
        let mut pending = body;
        let mut phase = Phase::Head { got: 0 };
        let mut outcome = Outcome { status: 0, bytes: 0, cut: None, unread: false };
        loop {
            if pending.is_empty() && self.body_left == 0 {
                script.stdin = None; // the whole body is written: EOF for the script
            }
            let reading_body = script.stdin.is_some() && pending.is_empty() && self.body_left > 0;
            let ready = match self.wait(script, phase, reading_body, !pending.is_empty()) {
                Ok(ready) => ready,
                Err(Some(status)) => return self.error(status, outcome),
                Err(None) => return outcome,
            };
            // The client: the body's next bytes, or (not reading it) its leaving.
            if ready.client && !reading_body {
                return self.client_gone(outcome);
            }
            if ready.client {
                let room = self.body_left.min(PIPE_BUF as u64) as usize;
                match recv(self.conn, input.get_mut(..room).unwrap_or(&mut []), RecvFlags::empty()) {
                    Ok((0, _)) | Err(_) => return self.client_gone(outcome),
                    Ok((n, _)) => (pending, self.body_left) = (input.get(..n).unwrap_or(&[]), self.body_left - n as u64),
                }
            }
            if ready.input {
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
            if !ready.output {
                continue;
            }
            let step = match phase {
                Phase::Head { got } => self.head(script, &mut out, got, &mut outcome),
                Phase::Body { left, last } => self.body(script, &mut out, left, last, &mut outcome),
            };
            match step {
                Continue(next) => phase = next,
                Break(Some(status)) => return self.error(status, outcome),
                Break(None) => return outcome,
            }
        }
    }

    /// Waits for what can happen now: the script's output, the client (the body, or its
    /// leaving, until the response is complete), the script's stdin taking `pending`
    /// bytes. `Err` when the phase's time is up (the response to send instead, if any).
    fn wait(&self, script: &Process, phase: Phase, reading_body: bool, pending: bool) -> Result<Ready, Option<Status>> {
        let limit = match phase {
            Phase::Head { .. } => self.deadline,
            Phase::Body { last, .. } => last.saturating_add(self.timeout),
        };
        let Some(left) = limit.checked_sub(clock::monotonic()).filter(|d| !d.is_zero()) else {
            return Err(self.timed_out(phase, script.stdin.is_some()));
        };
        // Once the response is complete, the client may leave: it has all it needs.
        let watch_client = !matches!(phase, Phase::Body { left: Some(0), .. });
        // Without a body to read, watch the connection only for the client leaving.
        let watch = if reading_body { PollFlags::IN } else { PollFlags::RDHUP };
        let mut fds = [PollFd::new(&script.stdout, PollFlags::IN), PollFd::new(self.conn, watch), PollFd::new(self.conn, watch)];
        let mut n = 1 + usize::from(watch_client);
        let mut writing = false;
        if let (Some(stdin), true, Some(slot)) = (&script.stdin, pending, fds.get_mut(n)) {
            *slot = PollFd::new(stdin, PollFlags::OUT);
            (n, writing) = (n + 1, true);
        }
        let timeout = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos().into() };
        match poll(fds.get_mut(..n).unwrap_or(&mut []), Some(&timeout)) {
            Ok(_) | Err(Errno::INTR) => {}
            // EFAULT, EINVAL, ENOMEM: nothing a retry would mend.
            Err(_) => return Err(Some(Status::BadGateway)),
        }
        let ready = |i: usize, used: bool| used && fds.get(i).is_some_and(|fd| !fd.revents().is_empty());
        Ok(Ready { output: ready(0, true), client: ready(1, watch_client), input: ready(n - 1, writing) })
    }

    /// [`Phase::Head`]: reads more of the header block after the `got` bytes in `out`;
    /// once it is complete, sends the response head with the body's first bytes.
    fn head(&self, script: &mut Process, out: &mut [u8; OUT], got: usize, outcome: &mut Outcome) -> ControlFlow<Option<Status>, Phase> {
        let n = match rustix::io::read(&script.stdout, out.get_mut(got..).unwrap_or(&mut [])) {
            Ok(n) => n,
            Err(Errno::INTR) => return Continue(Phase::Head { got }),
            Err(_) => 0,
        };
        if n == 0 {
            let status = script.end();
            event(self.name, &mut |line| {
                write_status(line, status);
                line.push(b" before a complete header block: 502");
            });
            return Break(Some(Status::BadGateway));
        }
        let got = got + n;
        let received = out.get(..got).unwrap_or(&[]);
        let header = match header_block::parse(received) {
            Output::Complete(header) => header,
            Output::Partial if got < OUT => return Continue(Phase::Head { got }),
            malformed => {
                let why = if let Output::Malformed(why) = malformed { why } else { "no end in 32 KiB" };
                event(self.name, &mut |line| {
                    line.push(b"malformed header block: ").push(why.as_bytes()).push(b": 502");
                });
                return Break(Some(Status::BadGateway));
            }
        };
        let mut left = if self.head_only || header.bodyless() { Some(0) } else { header.length };
        let mut status_line = Buf::new();
        let reason_at = header.status_line(&mut status_line, clock::unix_seconds());
        let mut pieces: [&[u8]; MAX_PIECES + 1] = [&[]; MAX_PIECES + 1];
        let mut count = header.head(status_line.as_bytes(), reason_at, &mut pieces);
        outcome.status = header.status;
        let body = capped(received.get(header.len..).unwrap_or(&[]), &mut left);
        if let Some(slot) = pieces.get_mut(count) {
            (*slot, count) = (body, count + 1);
        }
        self.send(pieces.get_mut(..count).unwrap_or(&mut []), body.len(), left, outcome)
    }

    /// [`Phase::Body`]: relays the script's next output, at most `left` bytes more.
    fn body(&self, script: &Process, out: &mut [u8; OUT], mut left: Option<u64>, last: Duration, outcome: &mut Outcome) -> ControlFlow<Option<Status>, Phase> {
        let n = match rustix::io::read(&script.stdout, &mut out[..]) {
            Ok(n) => n,
            Err(Errno::INTR) => return Continue(Phase::Body { left, last }),
            Err(_) => 0,
        };
        if n == 0 {
            return Break(None); // the script is done
        }
        let body = capped(out.get(..n).unwrap_or(&[]), &mut left);
        self.send(&mut [body], body.len(), left, outcome)
    }

    /// Sends `pieces`, `body` bytes of them the body's; then the body goes on, `left`
    /// bytes at most, the script's next output due `timeout` from the send's end.
    fn send(&self, pieces: &mut [&[u8]], body: usize, left: Option<u64>, outcome: &mut Outcome) -> ControlFlow<Option<Status>, Phase> {
        if let Err(e) = send_pieces(self.conn, pieces) {
            outcome.cut = Some(Cut::from(e));
            *outcome = self.client_gone(*outcome);
            return Break(None);
        }
        outcome.bytes += body as u64;
        Continue(Phase::Body { left, last: clock::monotonic() })
    }

    /// Out of time: before the header block, the client still sending its body earns
    /// 408, a script still working 504; after it, the response is cut off (`None`).
    fn timed_out(&self, phase: Phase, body_pending: bool) -> Option<Status> {
        let secs = self.timeout.as_secs();
        let (what, status): (&[u8], _) = match (phase, body_pending && self.body_left > 0) {
            (Phase::Body { .. }, _) => (b"no output for ", None),
            (Phase::Head { .. }, true) => (b"request body still incomplete after ", Some(Status::RequestTimeout)),
            (Phase::Head { .. }, false) => (b"no header block within ", Some(Status::GatewayTimeout)),
        };
        event(self.name, &mut |line| {
            line.push(what).num(secs).push(b" s: killed");
            if let Some(status) = status {
                line.push(b", ").num(status.code().into());
            }
        });
        status
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
        respond(self.conn, status, self.head_only, self.body_left > 0 || outcome.unread, self.reply)
    }
}

/// Sends the response for `status` (an error, instead of the script's) through `reply`,
/// else the plain one; `unread`: bytes of the request may be left on the connection.
pub fn respond(conn: &OwnedFd, status: Status, head_only: bool, unread: bool, reply: super::Reply<'_>) -> Outcome {
    let (bytes, cut) = match reply {
        Some(reply) => reply(status),
        None => {
            let mut out = Buf::new();
            let body = response::write(&mut out, status, head_only, response::CLOSE, clock::unix_seconds());
            let cut = send_pieces(conn, &mut [out.as_bytes()]).err().map(Cut::from);
            (if cut.is_none() { body } else { 0 }, cut)
        }
    };
    Outcome { status: status.code(), bytes, cut, unread }
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

#[cfg(test)]
#[allow(unsafe_code)] // a socket pair's descriptor, taken by number
mod tests {
    use super::*;

    #[test]
    fn a_body_capped_to_its_length() {
        let mut left = Some(5);
        assert_eq!(capped(b"abc", &mut left), b"abc");
        assert_eq!(capped(b"defgh", &mut left), b"de");
        assert_eq!((capped(b"more", &mut left), left), (&b""[..], Some(0)));
        let mut unbounded = None;
        assert_eq!((capped(b"all of it", &mut unbounded), unbounded), (&b"all of it"[..], None));
    }

    #[test]
    fn pieces_go_out_whole_across_short_sends() {
        use std::io::Read;
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        // SAFETY: `a`'s descriptor is owned here, and handed to the OwnedFd once.
        let conn = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(a)) };
        let big = vec![7u8; 300_000];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut b = b;
            b.read_to_end(&mut got).unwrap();
            got
        });
        send_pieces(&conn, &mut [b"head ", b"", &big, b" end"]).unwrap();
        drop(conn);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), 5 + 300_000 + 4);
        assert!(got.starts_with(b"head \x07") && got.ends_with(b"\x07 end"));
    }
}
