//! The file answer: a GET or HEAD for a path under `DIR`.
//!
//! The path (decoded, without dot segments, no dotfile: the dispatcher saw to that) is
//! opened beneath the root by the kernel ([`crate::fs`]). A directory gets a redirect to
//! its `/` form, its `index.html`, or a listing ([`super::listing`]); a regular file gets
//! its bytes, whole or one range, unless the client's copy is still good (304), or those
//! of a precompressed twin (`FILE.br`, `FILE.zst`, `FILE.gz`) the client takes. A path
//! that is not there gets `--fallback`'s file, if there is one, with 200.
//! Syscalls: `openat2`, `fstat`, `pread64` (a small body, into the head's buffer) and
//! `sendto` (head and body), or `sendto` (the head) and `sendfile` (a longer body); `close`;
//! another `openat2` for `index.html`, for `--fallback`'s file, and for each twin the
//! client takes, best first, until one is there.

use super::{Answer, Exchange, Request, Site};
use crate::buf::Buf;
use crate::fs::{self, Opened, Path};
use crate::http::range::{self, Range};
use crate::http::request::{Message, is};
use crate::http::coding::{self, Coding};
use crate::http::{Status, date, etag, mime, response, target};
use crate::log;
use rustix::fs::FileType;
use rustix::io::Errno;

/// The request fields a file answer looks at.
#[derive(Default)]
struct Fields<'a> {
    if_none_match: Option<&'a [u8]>,
    if_modified_since: Option<&'a [u8]>,
    range: Option<&'a [u8]>,
    if_range: Option<&'a [u8]>,
    accept_encoding: Option<&'a [u8]>,
}

/// Answers a GET or HEAD of `request.path` beneath the root.
pub fn answer(x: &Exchange<'_>, request: &Request<'_>, site: &Site<'_>) -> Answer {
    let path = request.path;
    // Relative to the root (RESOLVE_BENEATH refuses absolute paths): `//a.txt` is `a.txt`.
    let rel = path.get(path.iter().take_while(|&&b| b == b'/').count()..).unwrap_or(&[]);
    let mut name = Path::new();
    let fields = fields(request.message);
    let opened = match name.join(&[rel]).ok_or(Errno::NAMETOOLONG).and_then(|p| fs::open(&site.root, p)) {
        Ok(opened) => opened,
        Err(e) => return missing(x, site, refusal(site, e, path), &mut name, &fields),
    };
    match opened.kind() {
        FileType::RegularFile => file(x, site, opened, &mut name, rel, b"", &fields),
        FileType::Directory if !path.ends_with(b"/") => redirect(x, rel, request.query),
        FileType::Directory => {
            let index = name.join(&[rel, b"index.html"]).ok_or(Errno::NAMETOOLONG).and_then(|p| fs::open(&site.root, p));
            match index {
                Ok(index) if index.kind() == FileType::RegularFile => file(x, site, index, &mut name, rel, b"index.html", &fields),
                Err(Errno::NOENT) if site.list => super::listing::answer(x, site, &opened.fd, path),
                Err(Errno::NOENT) => missing(x, site, Status::NotFound, &mut name, &fields),
                Ok(_) => x.reply(Status::Forbidden),
                Err(e) => x.reply(refusal(site, e, path)),
            }
        }
        // FIFOs, sockets, devices: opened without blocking, never read.
        _ => x.reply(Status::Forbidden),
    }
}

/// `status` for a path that could not be served; a 404 is `--fallback`'s file instead,
/// with its 200, when there is one (and it is there).
fn missing(x: &Exchange<'_>, site: &Site<'_>, status: Status, name: &mut Path, f: &Fields<'_>) -> Answer {
    let fallback = site.fallback.filter(|_| status == Status::NotFound);
    match fallback.and_then(|rel| name.join(&[rel]).and_then(|p| fs::open(&site.root, p).ok()).map(|opened| (rel, opened))) {
        Some((rel, opened)) if opened.kind() == FileType::RegularFile => file(x, site, opened, name, rel, b"", f),
        _ => x.reply(status),
    }
}

/// The status an `openat2` failure earns. Only what a request cannot cause by itself is
/// logged: the rest is the client's business, and logging it would let clients fill the log.
pub fn refusal(site: &Site<'_>, e: Errno, path: &[u8]) -> Status {
    match e {
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => Status::NotFound,
        // EXDEV: the path leads out of DIR (RESOLVE_BENEATH); ELOOP: a magic link or a
        // symlink loop; ENXIO: a socket.
        Errno::ACCESS | Errno::PERM | Errno::XDEV | Errno::LOOP | Errno::NXIO => Status::Forbidden,
        // Still EAGAIN after every try (see `fs::open`): renames or mounts keep racing
        // the lookup, or a lease holds the file. Soon over: 503, one line a run of them.
        Errno::AGAIN => {
            if site.shared.lookups.happened(crate::clock::monotonic()) {
                log::event(&mut |line| {
                    line.push(b"open ");
                    log::escape(line, path);
                    line.push(b": ");
                    crate::errno::write(line, e);
                    line.push(b" after ").num(fs::TRIES as u64);
                    line.push(b" tries (a rename, mount or lease in the way): answering 503 while it lasts");
                });
            }
            Status::ServiceUnavailable
        }
        _ => {
            log::event(&mut |line| {
                line.push(b"open ");
                log::escape(line, path);
                line.push(b": ");
                crate::errno::write(line, e);
            });
            Status::InternalServerError
        }
    }
}

fn fields<'a>(message: &Message<'a>) -> Fields<'a> {
    let mut f = Fields::default();
    let mut ranges = 0;
    for (name, value) in message.fields() {
        let slot = if is(name, b"range") {
            ranges += 1;
            &mut f.range
        } else if is(name, b"if-range") {
            &mut f.if_range
        } else if is(name, b"if-none-match") {
            &mut f.if_none_match
        } else if is(name, b"accept-encoding") {
            &mut f.accept_encoding
        } else if is(name, b"if-modified-since") {
            &mut f.if_modified_since
        } else {
            continue;
        };
        *slot = Some(value);
    }
    // A singleton field given twice: which one the client meant is unknown (RFC 9110
    // §5.3), so neither is used, and the whole file is sent.
    if ranges > 1 {
        f.range = None;
    }
    f
}

/// `/sub` names a directory (`rel`, relative to the root): 301 to `/sub/`, the query kept.
/// One `/` first, however many the target had: `//sub/` would be protocol-relative, a
/// link to the host `sub` (an open redirect). The `Location` may be long (a query of up
/// to 8 KiB, a path three times longer encoded): the head then leaves in pieces.
fn redirect(x: &Exchange<'_>, rel: &[u8], query: Option<&[u8]>) -> Answer {
    /// Input taken at a time: its encoding (at most three times as long) always fits.
    const PIECE: usize = 256;
    let status = Status::MovedPermanently;
    let mut out = Buf::new();
    response::start(&mut out, status, x.unix);
    response::field(&mut out, b"Location").byte(b'/');
    let location = (|| {
        for piece in rel.chunks(PIECE) {
            x.make_room(&mut out, 3 * PIECE)?;
            target::encode(&mut out, piece);
        }
        out.push(if query.is_some() { b"/?" } else { b"/" });
        for piece in query.unwrap_or(&[]).chunks(PIECE) {
            x.make_room(&mut out, PIECE)?;
            out.push(piece);
        }
        // What `send_text` adds before the operator's fields: the line end, the content fields.
        x.make_room(&mut out, 128)
    })();
    match location {
        Ok(()) => {
            response::line_end(&mut out);
            x.send_text(&mut out, status)
        }
        Err(cut) => Answer::sent(status, 0, Some(cut)),
    }
}

/// A regular file at `dir` + `leaf` (`leaf`: `index.html`, or empty): 304, 416, 206 or
/// 200 with its bytes, or those of the twin the client takes best. The type is the
/// file's own, also when a twin is sent.
/// `path`: room for a twin's path (the caller's, done with: one 4 KiB frame fewer, one
/// page of stack, and so one page fault, fewer a request).
fn file(x: &Exchange<'_>, site: &Site<'_>, file: Opened, path: &mut Path, dir: &[u8], leaf: &[u8], f: &Fields<'_>) -> Answer {
    if !servable(site, &file) {
        return x.reply(Status::Forbidden);
    }
    let name = if leaf.is_empty() { dir.rsplit(|&b| b == b'/').next().unwrap_or(dir) } else { leaf };
    let content_type = mime::content_type(name);
    for coding in coding::preferred(f.accept_encoding.unwrap_or(b"")) {
        let twin = path.join(&[dir, leaf, coding.suffix]).and_then(|p| fs::open(&site.root, p).ok());
        if let Some(twin) = twin.filter(|twin| twin.kind() == FileType::RegularFile && servable(site, twin)) {
            return send_file(x, &twin, content_type, Some(coding), f);
        }
    }
    send_file(x, &file, content_type, None, f)
}

/// With --cgi, a program's bytes never leave as a file, whatever path (a symlink, a hard
/// link, a case-folding directory, a twin's name, an error page's) led to it.
pub fn servable(site: &Site<'_>, file: &Opened) -> bool {
    site.cgi.is_none() || file.stat.st_mode & 0o111 == 0
}

fn send_file(x: &Exchange<'_>, file: &Opened, content_type: &[u8], coding: Option<Coding>, f: &Fields<'_>) -> Answer {
    let size = file.size();
    let mtime = file.stat.st_mtime;
    let mut tag = Buf::new();
    etag::write(&mut tag, file.stat.st_ino, size, mtime, file.stat.st_mtime_nsec as u32);
    let tag = tag.as_bytes();

    // RFC 9110 §13.2.2: If-None-Match, else If-Modified-Since (an unreadable date is ignored).
    let fresh = match (f.if_none_match, f.if_modified_since.and_then(date::parse)) {
        (Some(list), _) => etag::matches(list, tag, true),
        (None, Some(since)) => mtime <= since,
        (None, None) => false,
    };
    // If-Range: the range only if the client's copy is this one (strong comparison; one
    // tag or a date, never `*`).
    let range_applies = f.if_range.is_none_or(|v| (v != b"*" && etag::matches(v, tag, false)) || date::parse(v) == Some(mtime));
    let range = match f.range {
        Some(value) if range_applies && !fresh => range::parse(value, size),
        _ => Range::Whole,
    };
    let (status, start, len) = match range {
        _ if fresh => (Status::NotModified, 0, 0),
        Range::Whole => (Status::Ok, 0, size),
        Range::Part { start, end } => (Status::PartialContent, start, end - start + 1),
        Range::Unsatisfiable => {
            let status = Status::RangeNotSatisfiable;
            let mut out = Buf::new();
            response::start(&mut out, status, x.unix);
            response::field(&mut out, b"Content-Range").push(b"bytes */").num(size).push(b"\r\n");
            out.push(VARY);
            return x.send_text(&mut out, status);
        }
    };

    let mut out = Buf::new();
    response::start(&mut out, status, x.unix);
    if status != Status::NotModified {
        response::content(&mut out, content_type, len);
        out.push(b"Accept-Ranges: bytes\r\n");
    }
    if status == Status::PartialContent {
        response::field(&mut out, b"Content-Range").push(b"bytes ").num(start).byte(b'-');
        out.num(start + len - 1).byte(b'/').num(size).push(b"\r\n");
    }
    // RFC 9110 §8.8.2.1: never later than `Date`.
    response::field(&mut out, b"Last-Modified");
    date::write(&mut out, mtime.min(x.unix));
    response::line_end(&mut out);
    response::field(&mut out, b"ETag").push(tag).push(b"\r\n");
    if let Some(coding) = coding {
        response::field(&mut out, b"Content-Encoding").push(coding.name).push(b"\r\n");
    }
    out.push(VARY);
    x.send_file(&mut out, status, &file.fd, start, len)
}

/// On every response for a file, whichever representation it carries (or none, a 304):
/// any file may have a twin, and a cache must know that the client's
/// `Accept-Encoding` may change the answer (REDbot's VARY_INCONSISTENT otherwise). Always,
/// because knowing whether this file has one would cost a lookup on every request.
const VARY: &[u8] = b"Vary: Accept-Encoding\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_range_is_no_range() {
        let fields = |head: &'static [u8]| {
            let message = Message::lex(head).unwrap_or_else(|_| panic!("a valid head"));
            let f = fields(&message);
            (f.range, f.if_range, f.accept_encoding)
        };
        assert_eq!(fields(b"GET / HTTP/1.1\r\nRange: bytes=0-1\r\nIf-Range: \"x\"\r\n\r\n"), (Some(&b"bytes=0-1"[..]), Some(&b"\"x\""[..]), None));
        assert_eq!(fields(b"GET / HTTP/1.1\r\nRange: bytes=0-1\r\nrange: bytes=2-3\r\n\r\n").0, None);
        assert_eq!(fields(b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n").2, Some(&b"gzip"[..]));
    }
}
