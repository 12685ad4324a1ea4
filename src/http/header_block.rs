//! What a CGI program writes before its body (RFC 3875 §6): a header block of
//! `name: value` lines ended by an empty line, LF or CRLF. [`parse`] reads it from the
//! bytes received so far, without copying them; [`Header::head`] turns it into the
//! HTTP/1.1 response head. Bytes only: no syscalls.
//!
//! - `Status: 404 Not Found` (or `Status: 404`) sets the status line; without it the
//!   status is 200, or 302 when there is a `Location` (RFC 3875 §6.2.3's client
//!   redirect; a local redirect, a `Location` path, is answered the same way: browsers
//!   resolve a relative `Location`, and forkhttpd does no internal redirects).
//! - `Content-Length` frames the body; without it the body ends when the connection
//!   closes (the head always says `Connection: close`).
//! - Every other field is passed through as written, repeated ones kept in order
//!   (two `Set-Cookie`s stay two), except those that are the server's to send: `Date`
//!   (the server's clock), `Connection`, `Keep-Alive`, `Transfer-Encoding` (the body is
//!   relayed as the program writes it, never re-framed).
//!
//! Malformed, and so a 502: a line that is not `token ":" value`, a value with a control
//! byte (a bare CR could split the response), a line folded onto the previous one, a
//! `Status` that is not a final status (200-599), a bad or conflicting
//! `Content-Length`, no field at all, more than [`MAX_FIELDS`] fields.

use super::date;
use super::request::{decimal, is, is_tchar};
use crate::buf::{Buf, split};

/// More fields than this make the header block malformed (the request side's limit).
pub const MAX_FIELDS: usize = super::request::MAX_HEADERS;

/// The most pieces [`Header::head`] yields: the status line and `Date` around the reason
/// phrase, a field and its CRLF for each field, the closing line.
pub const MAX_PIECES: usize = 4 + 2 * MAX_FIELDS;

/// What the bytes received so far say.
#[derive(Debug, PartialEq, Eq)]
pub enum Output<'a> {
    /// The header block has not ended yet: read more.
    Partial,
/// The header block is whole.
    Complete(Header<'a>),
    /// Why it can never be a valid header block, for the event line.
    Malformed(&'static str),
}

/// A valid header block, as slices of the bytes received.
#[derive(Debug, PartialEq, Eq)]
pub struct Header<'a> {
/// The status code: the script's `Status`, 302 with a `Location`, else 200.
    pub status: u16,
    /// The reason phrase, possibly empty.
    pub reason: &'a [u8],
    /// The body's length, when the program gave one.
    pub length: Option<u64>,
    /// The header block's length, the empty line included: the body starts here.
    pub len: usize,
    /// The field lines, each with its line end.
    lines: &'a [u8],
}

/// Reads the header block at the start of `buf`.
pub fn parse(buf: &[u8]) -> Output<'_> {
    let (mut at, mut count) = (0, 0);
    let (mut status, mut length, mut location) = (None, None, false);
    loop {
        let Some(end) = buf.get(at..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) else {
            return Output::Partial;
        };
        let next = at + end + 1;
        let line = line(buf.get(at..next).unwrap_or(&[]));
        if line.is_empty() {
            if count == 0 {
                return Output::Malformed("no header field");
            }
            let (status, reason): (u16, &[u8]) = match status {
                Some(given) => given,
                None if location => (302, b"Found"),
                None => (200, b"OK"),
            };
            return Output::Complete(Header { status, reason, length, len: next, lines: buf.get(..at).unwrap_or(&[]) });
        }
        count += 1;
        if count > MAX_FIELDS {
            return Output::Malformed("more than 100 header fields");
        }
        let Some((name, value)) = field(line) else {
            return Output::Malformed("a line that is not a header field");
        };
        if is(name, b"status") {
            match (status_value(value), status) {
                (Some(given), None) => status = Some(given),
                (None, _) => return Output::Malformed("a Status that is not a final status code"),
                (Some(_), Some(_)) => return Output::Malformed("two Status fields"),
            }
        } else if is(name, b"content-length") {
            match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Output::Malformed("an invalid Content-Length"),
            }
        } else if is(name, b"location") {
            location = true;
        }
        at = next;
    }
}

/// A line without its line end (LF or CRLF).
fn line(with_end: &[u8]) -> &[u8] {
    let line = with_end.strip_suffix(b"\n").unwrap_or(with_end);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `token ":" OWS value OWS`, the value without its surrounding whitespace; `None` for
/// anything else, folded lines and control bytes included. (Also `--header`'s check.)
pub fn field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (line.get(..colon)?, line.get(colon + 1..)?);
    let valid = !name.is_empty() && name.iter().all(|&b| is_tchar(b));
    let clean = value.iter().all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f));
    (valid && clean).then_some((name, value.trim_ascii()))
}

/// `3DIGIT [ SP reason-phrase ]`, a final status: 200 to 599.
fn status_value(value: &[u8]) -> Option<(u16, &[u8])> {
    let code = value.get(..3).and_then(decimal).filter(|c| (200..=599).contains(c))?;
    let reason = match value.get(3..) {
        Some([]) | None => &[][..],
        Some([b' ', reason @ ..]) => reason.trim_ascii_start(),
        Some(_) => return None,
    };
    Some((code as u16, reason))
}

impl<'a> Header<'a> {
    /// RFC 9110: 204 and 304 responses never have a body.
    pub fn bodyless(&self) -> bool {
        matches!(self.status, 204 | 304)
    }

    /// `HTTP/1.1 STATUS ` and `\r\nDate: ` the date of `unix` `\r\n`, in `out`: the status
    /// line and `Date` but for the reason phrase, which is the script's and may be long
    /// (the head leaves in pieces). Returns where the reason goes.
    pub fn status_line(&self, out: &mut Buf, unix: i64) -> usize {
        out.push(b"HTTP/1.1 ").num(self.status.into()).byte(b' ');
        let reason_at = out.as_bytes().len();
        out.push(b"\r\nDate: ");
        date::write(out, unix);
        out.push(b"\r\n");
        reason_at
    }

    /// The response head in pieces, for one `sendmsg`: `status_line` (from
    /// [`Header::status_line`], the reason inserted at `reason_at`), each field passed
    /// through and a CRLF, then `Connection: close` and the empty line: at most
    /// [`MAX_PIECES`]. Returns how many pieces it put in `out`.
    pub fn head<'s>(&self, status_line: &'s [u8], reason_at: usize, out: &mut [&'s [u8]]) -> usize
    where
        'a: 's,
    {
        let mut n = 0;
        let mut put = |piece: &'s [u8]| {
            if let Some(slot) = out.get_mut(n) {
                *slot = piece;
                n += 1;
            }
        };
        let (start, rest) = status_line.split_at(reason_at.min(status_line.len()));
        put(start);
        put(self.reason);
        put(rest);
        for field in split(self.lines, b'\n') {
            let field = field.strip_suffix(b"\r").unwrap_or(field);
            let name = split(field, b':').next().unwrap_or(field);
            if !field.is_empty() && !split(SERVERS, b' ').any(|own| is(name, own)) {
                put(field);
                put(b"\r\n");
            }
        }
        put(b"Connection: close\r\n\r\n");
        n
    }
}

/// The fields that are the server's to send, never the script's.
const SERVERS: &[u8] = b"status date connection keep-alive transfer-encoding";

#[cfg(test)]
mod tests {
    use super::*;

    fn header(block: &[u8]) -> Header<'_> {
        match parse(block) {
            Output::Complete(h) => h,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(block)),
        }
    }

    fn head(block: &[u8]) -> String {
        let h = header(block);
        let mut status = Buf::new();
        let at = h.status_line(&mut status, 784_111_777);
        let mut pieces = [&[][..]; MAX_PIECES + 1];
        let n = h.head(status.as_bytes(), at, &mut pieces);
        assert!(n <= MAX_PIECES);
        String::from_utf8(pieces[..n].concat()).unwrap()
    }

    #[test]
    fn wsgiref_output() {
        let out = b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nHello\n";
        let h = header(out);
        assert_eq!((h.status, h.reason, h.length, h.len), (200, &b"OK"[..], Some(6), out.len() - 6));
        assert_eq!(
            head(out),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\n\
             Content-Length: 6\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn defaults_lf_and_repeated_fields() {
        let out = b"Content-type: text/html\nSet-Cookie: a=1\nSet-Cookie: b=2\nX-Empty:\n\n<p>";
        let h = header(out);
        assert_eq!((h.status, h.reason, h.length, h.len), (200, &b"OK"[..], None, out.len() - 3));
        assert!(head(out).ends_with(" GMT\r\nContent-type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\nConnection: close\r\n\r\n"));
    }

    #[test]
    fn status_and_location() {
        let h = header(b"Location: http://example.com/there\r\n\r\n");
        assert_eq!((h.status, h.reason), (302, &b"Found"[..]));
        assert!(head(b"Location: /there\n\n").starts_with("HTTP/1.1 302 Found\r\n"));
        let h = header(b"Status: 301 Moved Permanently\nLocation: http://example.com/\n\n");
        assert_eq!((h.status, h.reason), (301, &b"Moved Permanently"[..]));
        assert!(head(b"Status: 418 I'm a teapot\n\n").starts_with("HTTP/1.1 418 I'm a teapot\r\nDate: "));
        assert!(head(b"status:404\n\n").starts_with("HTTP/1.1 404 \r\n"));
        assert!(!head(b"Status: 500 Oops\r\nX: 1\r\n\r\n").contains("Status"));
        assert!(header(b"Status: 204 No Content\n\n").bodyless());
        assert!(!header(b"Status: 200 OK\n\n").bodyless());
    }

    #[test]
    fn the_servers_own_fields_are_dropped() {
        let text = head(b"Content-Type: a/b\nDate: yesterday\nConnection: keep-alive\nKeep-Alive: 5\nTransfer-Encoding: chunked\nX: y\n\n");
        assert_eq!(text.matches("Date: ").count(), 1);
        assert!(text.contains("Date: Sun, 06 Nov 1994"));
        assert!(!text.contains("keep-alive") && !text.contains("Keep-Alive") && !text.contains("chunked"), "{text}");
        assert!(text.ends_with("Content-Type: a/b\r\nX: y\r\nConnection: close\r\n\r\n"), "{text}");
    }

    #[test]
    fn partial_until_the_empty_line() {
        let out = b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n";
        for end in 0..out.len() {
            assert_eq!(parse(&out[..end]), Output::Partial, "{end}");
        }
        assert!(matches!(parse(out), Output::Complete(_)));
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\n"[..],                                    // no field
            b"\r\n\r\n",                                   // no field
            b"HTTP/1.1 200 OK\r\n\r\n",                    // a status line is no field
            b"Content-Type text/plain\n\n",                // no colon
            b": empty\n\n",                                // empty name
            b"Bad Name: x\n\n",                            // space in the name
            b"X: a\rb\n\n",                                // bare CR
            b"X: a\x00\n\n",                               // NUL
            b"X: a\n folded\n\n",                          // obs-fold
            b"Status: 100 Continue\n\n",                   // not final
            b"Status: 600 Nope\n\n",                       // out of range
            b"Status: 20\n\n",                             // not 3 digits
            b"Status: 2000\n\n",                           // not 3 digits
            b"Status: OK\n\n",                             // no code
            b"Status: 200 OK\nStatus: 404 No\n\n",         // two
            b"Content-Length: -1\n\n",                     // not a number
            b"Content-Length: 1\nContent-Length: 2\n\n",   // conflicting
        ] {
            assert!(matches!(parse(bad), Output::Malformed(_)), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(matches!(parse(b"Content-Length: 3\nContent-Length: 3\n\n"), Output::Complete(_)));
        let many: String = (0..=MAX_FIELDS).map(|i| format!("X-{i}: 1\n")).collect();
        assert_eq!(parse(format!("{many}\n").as_bytes()), Output::Malformed("more than 100 header fields"));
        let enough: String = (0..MAX_FIELDS).map(|i| format!("X-{i}: 1\n")).collect();
        assert_eq!(head(format!("{enough}\n").as_bytes()).matches("X-").count(), MAX_FIELDS);
        let reason = "r".repeat(5000);
        assert!(head(format!("Status: 299 {reason}\n\n").as_bytes()).starts_with(&format!("HTTP/1.1 299 {reason}\r\nDate: Sun, 06 Nov 1994")));
    }
}
