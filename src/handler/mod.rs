//! The handlers: what answers a request, once its head is read and judged. Each gets the
//! request and an [`Exchange`], the one way a response leaves, and returns an
//! [`Answer`] for the access log:
//!
//! - [`health`]: `--health PATH`, for probes: `200 ok`, no log line;
//! - [`hello`]: the article's `Hello, World!` (no `DIR`), and every error's short
//!   `text/plain` response;
//! - [`file`]: a file beneath `DIR`: conditionals, ranges, `.gz` twins, redirects;
//! - [`listing`]: a directory's HTML listing (`--list`);
//! - [`cgi`]: a program under `--cgi`'s prefix, run for the request.
//!
//! Which one answers is decided in one place, `conn::dispatch`. Syscalls of this module:
//! `sendto` (a response head, or a whole `text/plain` response).

pub mod cgi;
pub mod file;
pub mod health;
pub mod hello;
pub mod listing;

use crate::buf::Buf;
use crate::http::request::Message;
use crate::http::{Status, response};
use crate::log::{self, Cut};
use crate::shared::Shared;
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{SendFlags, send};

/// The served directory (`DIR`), opened once at start-up, and what serving it involves.
pub struct Site<'a> {
    /// `DIR` (`O_PATH | O_DIRECTORY`): everything is opened beneath it.
    pub root: OwnedFd,
    /// `--list`: listings for directories without `index.html`.
    pub list: bool,
    /// `--cgi`: the programs under a prefix, and what they run with.
    pub cgi: Option<cgi::Programs<'a>>,
    /// What the server's processes share (a lookup that keeps failing is logged once).
    pub shared: &'a Shared,
}

/// A request for the site, as the dispatcher read it: the head, lexed, and its target's
/// path decoded.
pub struct Request<'a> {
    /// The head (method, target, fields).
    pub message: &'a Message<'a>,
    /// Every byte received so far: the head, then what came after it (a body's start).
    pub received: &'a [u8],
    /// The target's path, percent-decoded, without dot segments; starts with `/`.
    pub path: &'a [u8],
    /// The target's query, as received (not decoded).
    pub query: Option<&'a [u8]>,
}

/// What a handler did, for the access log.
pub struct Answer {
    /// The status code sent (a script's may be any).
    pub code: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Why the response was not sent whole, if it was not.
    pub cut: Option<Cut>,
    /// The response ended the connection whatever the request asked (a script's).
    pub last: bool,
    /// It is worth an access-log line (a health probe's is not).
    pub log: bool,
}

impl Answer {
    /// A response of `status` whose body was `bytes` long, sent whole unless `cut`.
    pub fn sent(status: Status, bytes: u64, cut: Option<Cut>) -> Answer {
        Answer { code: status.code(), bytes: if cut.is_none() { bytes } else { 0 }, cut, last: false, log: true }
    }
}

/// One request's answer: where it goes, and what every response head must say.
pub struct Exchange<'c> {
    /// The client's connection.
    pub conn: &'c OwnedFd,
    /// The client's address (CGI's `REMOTE_ADDR`).
    pub peer: Option<&'c SocketAddr>,
    /// The request was HEAD: heads only.
    pub head_only: bool,
    /// The `Connection` field: `response::CLOSE`, `KEEP_ALIVE` or `OPEN`.
    pub connection: &'static [u8],
    /// The response's `Date`, in seconds since 1970.
    pub unix: i64,
    /// When the head had to be complete: a script's header block has until then too.
    pub deadline: Duration,
    /// `--timeout`.
    pub timeout: Duration,
}

impl Exchange<'_> {
    /// Sends Hello's response (`Status::Ok`) or an error's: one `text/plain` buffer, one `send`.
    pub fn reply(&self, status: Status) -> Answer {
        let mut out = Buf::new();
        let body = response::write(&mut out, status, self.head_only, self.connection, self.unix);
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// Ends `out`, a `text/plain` head its caller built for `status`, adds the status's
    /// body, and sends.
    pub fn send_text(&self, mut out: Buf, status: Status) -> Answer {
        response::end(&mut out, self.connection);
        let body = if self.head_only { 0 } else { response::error_body(&mut out, status) };
        if out.is_cut() {
            return self.too_long();
        }
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// Makes room for `n` more bytes in `out`, the start of a head too long for one
    /// buffer, by sending what it holds (`MSG_MORE`: the rest follows at once). A head of
    /// ordinary size never needs this: it leaves in one `send`.
    pub fn make_room(&self, out: &mut Buf, n: usize) -> Result<(), Cut> {
        if out.room() < n {
            send_all(self.conn, out.as_bytes(), SendFlags::MORE)?;
            out.clear();
        }
        Ok(())
    }

    /// Ends and sends `out`, the head of a response whose body of `len` bytes the caller
    /// sends next; `Some` if nothing is to follow (HEAD, an empty body, a failed send).
    /// `MSG_MORE` when a body follows: the head waits for its first bytes, and both
    /// leave in one segment.
    pub fn send_head(&self, out: &mut Buf, status: Status, len: u64) -> Option<Answer> {
        response::end(out, self.connection);
        if out.is_cut() {
            return Some(self.too_long());
        }
        let body = !self.head_only && len > 0;
        let flags = if body { SendFlags::MORE } else { SendFlags::empty() };
        match send_all(self.conn, out.as_bytes(), flags) {
            Err(cut) => Some(Answer::sent(status, 0, Some(cut))),
            Ok(()) if !body => Some(Answer::sent(status, 0, None)),
            Ok(()) => None,
        }
    }

    /// A head built for this request did not fit its buffer: never sent cut, it becomes
    /// a 500, and an event says so. (No head the server builds in one buffer comes near
    /// its size; longer ones are built with `make_room`.)
    #[cold]
    fn too_long(&self) -> Answer {
        log::event(&mut |line| {
            line.push(b"a response head did not fit in its buffer: 500 instead");
        });
        self.reply(Status::InternalServerError)
    }
}

/// Sends all of `bytes` (`flags` and MSG_NOSIGNAL); fails if the client went away
/// (EPIPE, ECONNRESET: MSG_NOSIGNAL makes that an error, not a SIGPIPE death) or, where
/// `SO_SNDTIMEO` is set, took nothing for that long.
pub fn send_all(conn: &OwnedFd, mut bytes: &[u8], flags: SendFlags) -> Result<(), Cut> {
    while !bytes.is_empty() {
        match send(conn, bytes, flags | SendFlags::NOSIGNAL) {
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Cut::from(e)),
        }
    }
    Ok(())
}
