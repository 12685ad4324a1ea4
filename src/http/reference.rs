//! The request lexer against httparse, its reference: for the unit tests and the fuzz
//! target, never in the server.

use super::request::{Head, MAX_HEADERS, Message};
use super::{HEAD_MAX, Status};

/// Panics unless [`Message::lex`] and httparse agree on `buf` (at most `HEAD_MAX` bytes):
/// the same head, fields and length when both accept it, both waiting for more, or both
/// rejecting it. The one difference, raw bytes over 0x7f in the request target, which
/// httparse takes only as UTF-8 and the lexer passes on unchecked, is compared on a copy
/// with an `x` for each such byte.
pub fn check(buf: &[u8]) {
    let mut copy = [0u8; HEAD_MAX];
    let buf = copy.get_mut(..buf.len()).map(|c| {
        c.copy_from_slice(buf);
        c
    });
    let buf = buf.expect("check takes at most HEAD_MAX bytes");
    let line = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
    let target = buf.iter().skip(line).position(|&b| b == b' ').map_or(buf.len(), |i| line + i + 1);
    for b in buf.iter_mut().skip(target).take_while(|b| **b > b' ' && **b != 0x7f) {
        if *b > 0x7f {
            *b = b'x';
        }
    }
    let buf = &*buf;

    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut theirs = httparse::Request::new(&mut headers);
    match (theirs.parse(buf), Message::lex(buf)) {
        (Ok(httparse::Status::Complete(len)), Ok(ours)) => {
            assert_eq!(ours.len, len, "head length");
            assert_eq!(Some(ours.method), theirs.method.map(str::as_bytes), "method");
            assert_eq!(Some(ours.target), theirs.path.map(str::as_bytes), "target");
            assert_eq!(Some(ours.minor), theirs.version, "version");
            let fields = theirs.headers.iter().map(|h| (h.name.as_bytes(), h.value));
            assert!(ours.fields().eq(fields), "\"{}\": fields differ", buf.escape_ascii());
        }
        (Ok(httparse::Status::Partial), Err(Head::Partial)) => {}
        (Err(httparse::Error::TooManyHeaders), Err(Head::Complete(v))) if v.status == Status::HeaderFieldsTooLarge => {}
        (Err(e), Err(Head::Complete(v))) if e != httparse::Error::TooManyHeaders && v.status != Status::HeaderFieldsTooLarge => {}
        (theirs, ours) => panic!("\"{}\": httparse {theirs:?}, lexer {ours:?}", buf.escape_ascii()),
    }
}
