//! The handlers: what answers a request, once its head is read and judged. Each gets the
//! request and an [`Exchange`], the one way a response leaves, and returns an
//! [`Answer`] for the access log:
//!
//! - [`health`]: `--health PATH`, for probes: `200 ok`, no log line;
//! - [`hello`]: the article's `Hello, World!` (no `DIR`);
//! - [`preflight`]: a CORS preflight (`--cors`);
//! - [`status`]: `--status PATH`, the scoreboard, for loopback clients;
//! - [`trial`]: tests only, the sandbox's trial (`$FORKHTTPD_SANDBOX_TEST`);
//! - [`file`]: a file beneath `DIR`: conditionals, ranges, `.gz` twins, redirects;
//! - [`listing`]: a directory's HTML listing (`--list`);
//! - [`cgi`]: a program under `--cgi`'s prefix, run for the request.
//!
//! Which one answers is decided in one place, `conn::dispatch`. Every response head ends
//! here ([`Exchange`]), with the operator's fields (`-H`) and CORS's; every error's body
//! is the short `text/plain` one, or the operator's page for its status
//! (`--error-page`). Syscalls of this module: `sendto` (a response head, or a whole
//! response); `pread64` (a small file's body, read into its head's buffer); for an error
//! page `openat2`, `fstat`, `pread64` or `sendfile`, `close`.

pub mod cgi;
pub mod file;
pub mod health;
pub mod hello;
pub mod listing;
pub mod preflight;
pub mod status;
pub mod trial;

use crate::buf::Buf;
use crate::fs;
use crate::http::cors::{self, Allow};
use crate::http::request::Message;
use crate::http::{Status, mime, response};
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
    /// `--fallback`: the file a GET or HEAD that would be 404 gets, relative to the root.
    pub fallback: Option<&'a [u8]>,
    /// `--error-page CODE=PATH`s, as given.
    pub error_pages: &'a [&'a [u8]],
}

impl Site<'_> {
    /// The error page for `status`, relative to the root (the last given for its code):
    /// `404=/404.html` is `404.html`.
    fn error_page(&self, status: Status) -> Option<&[u8]> {
        let code = status.code();
        let digits = [code / 100, code / 10 % 10, code % 10].map(|d| b'0' + d as u8);
        self.error_pages.iter().rev().find(|page| page.get(..3) == Some(&digits[..]))?.get(5..)
    }
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
    /// The user `--auth` let in (CGI's `REMOTE_USER`).
    pub user: Option<&'a [u8]>,
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
    /// The user `--auth` let in.
    pub user: Option<&'static [u8]>,
}

impl Answer {
    /// A response of `status` whose body was `bytes` long, sent whole unless `cut`.
    pub fn sent(status: Status, bytes: u64, cut: Option<Cut>) -> Answer {
        Answer { code: status.code(), bytes: if cut.is_none() { bytes } else { 0 }, cut, last: false, log: true, user: None }
    }
}

/// One request's answer: where it goes, and what every response head must say.
#[derive(Clone, Copy)]
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
    /// `-H`: the operator's fields, on every response head that ends here.
    pub fields: &'c [&'c [u8]],
    /// What the response says to the request's origin (`--cors`).
    pub cors: Allow<'c>,
    /// The site, whose error pages replace the plain bodies; none for Hello.
    pub site: Option<&'c Site<'c>>,
}

/// Bytes of a long field taken at a time: with what a head holds before it, they fit.
const PIECE: usize = 512;

impl Exchange<'_> {
    /// Sends Hello's response (`Status::Ok`) or an error's (its page, with
    /// `--error-page`), with the fields its status requires.
    pub fn reply(&self, status: Status) -> Answer {
        let mut out = Buf::new();
        response::start(&mut out, status, self.unix);
        response::status_fields(&mut out, status);
        self.send_text(&mut out, status)
    }

    /// Ends `out`, a head its caller began for `status` (the status line, the fields
    /// the status requires, its own), with the status's plain body or error page, and
    /// sends.
    pub fn send_text(&self, out: &mut Buf, status: Status) -> Answer {
        if let Some(page) = self.site.and_then(|site| site.error_page(status).map(|page| (site, page))) {
            if let Some(answer) = self.send_page(out, status, page.0, page.1) {
                return answer;
            }
        }
        response::text_content(out, status);
        // The body: at most the longest status text.
        if let Err(cut) = self.end(out, 64) {
            return Answer::sent(status, 0, Some(cut));
        }
        let body = if self.head_only { 0 } else { response::body(out, status) };
        if out.is_cut() {
            return self.too_long();
        }
        Answer::sent(status, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
    }

    /// The error page `path` as the body of `status`'s response begun in `out`; `None`
    /// if it cannot be served (the plain body goes instead). It is opened beneath the
    /// root like any file, and like any file refused if it is not a regular one, or is
    /// a program under `--cgi`. Never inlined: its path's 4 KiB would be in every plain
    /// reply's frame, a page of stack (a page fault) more for each.
    #[cold]
    #[inline(never)]
    fn send_page(&self, out: &mut Buf, status: Status, site: &Site<'_>, path: &[u8]) -> Option<Answer> {
        let page = fs::open(&site.root, fs::Path::new().join(&[path])?).ok()?;
        if page.kind() != rustix::fs::FileType::RegularFile || !file::servable(site, &page) {
            return None;
        }
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        response::content(out, mime::content_type(name), page.size());
        Some(self.send_file(out, status, &page.fd, 0, page.size()))
    }

    /// Ends and sends `out`, the head of a response whose body is `len` bytes of `file`
    /// from `start`, then the body (none for HEAD). A body that fits in `out` after the
    /// head (a small file: about 700 bytes) is read there (`pread64`) and leaves with the
    /// head in one `send`, one pass through TCP; a longer one (or one that cannot be
    /// read) follows the head (`MSG_MORE`) with `sendfile`. A file that shrank is sent as
    /// far as it goes, and the connection ends (`Shrank`), never padded.
    pub fn send_file(&self, out: &mut Buf, status: Status, file: &OwnedFd, start: u64, len: u64) -> Answer {
        if let Err(cut) = self.end(out, 0) {
            return Answer::sent(status, 0, Some(cut));
        }
        if out.is_cut() {
            return self.too_long();
        }
        let body = !self.head_only && len > 0;
        if body && len <= out.room() as u64 {
            if let Ok(got) = out.read_in(len as usize, |room| rustix::io::pread(file, room, start)) {
                return match send_all(self.conn, out.as_bytes(), SendFlags::empty()) {
                    Err(cut) => Answer::sent(status, 0, Some(cut)),
                    Ok(()) => {
                        let cut = ((got as u64) < len).then_some(Cut::Shrank);
                        Answer { code: status.code(), bytes: got as u64, cut, last: false, log: true, user: None }
                    }
                };
            }
        }
        let flags = if body { SendFlags::MORE } else { SendFlags::empty() };
        if let Err(cut) = send_all(self.conn, out.as_bytes(), flags) {
            return Answer::sent(status, 0, Some(cut));
        }
        if !body {
            return Answer::sent(status, 0, None);
        }
        let (bytes, cut) = fs::send(self.conn, file, start, len);
        Answer { code: status.code(), bytes, cut, last: false, log: true, user: None }
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

    /// Appends `bytes` to `out`, however long, making room as it goes.
    pub fn put(&self, out: &mut Buf, bytes: &[u8]) -> Result<(), Cut> {
        for piece in bytes.chunks(PIECE) {
            self.make_room(out, piece.len())?;
            out.push(piece);
        }
        Ok(())
    }

    /// Ends the head in `out`: the operator's fields (`-H`), CORS's, `Connection`, the
    /// empty line; then leaves room for `then` more bytes. (Out of line: one copy.)
    #[inline(never)]
    fn end(&self, out: &mut Buf, then: usize) -> Result<(), Cut> {
        for field in self.fields {
            self.put(out, field)?;
            out.push(b"\r\n");
        }
        // An allowed origin is one of `--cors`'s, which are short.
        self.make_room(out, 256 + then)?;
        cors::write(out, self.cors);
        response::end(out, self.connection);
        Ok(())
    }

    /// Ends and sends `out`, the head of a response whose body of `len` bytes the caller
    /// sends next; `Some` if nothing is to follow (HEAD, an empty body, a failed send).
    /// `MSG_MORE` when a body follows: the head waits for its first bytes, and both
    /// leave in one segment.
    pub fn send_head(&self, out: &mut Buf, status: Status, len: u64) -> Option<Answer> {
        if let Err(cut) = self.end(out, 0) {
            return Some(Answer::sent(status, 0, Some(cut)));
        }
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
        let mut out = Buf::new();
        let body = response::write(&mut out, Status::InternalServerError, self.head_only, self.connection, self.unix);
        Answer::sent(Status::InternalServerError, body, send_all(self.conn, out.as_bytes(), SendFlags::empty()).err())
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
