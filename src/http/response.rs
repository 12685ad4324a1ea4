//! Response heads: the status line and `Date`, header lines, the `Connection` field that
//! says whether the connection goes on; and the whole `text/plain` responses of the Hello server and of every error,
//! each assembled in one buffer for one `send`.

use super::{Status, date};
use crate::buf::Buf;

/// What `GET` and `HEAD` get, on any path, from the Hello server.
pub const HELLO: &[u8] = b"Hello, World!\n";

/// `HTTP/1.1 CODE REASON` and the `Date` header for time `unix`.
pub fn start(out: &mut Buf, status: Status, unix: i64) {
    out.push(b"HTTP/1.1 ").num(status.code().into()).byte(b' ').push(status.reason());
    out.push(b"\r\nDate: ");
    date::write(out, unix);
    out.push(b"\r\n");
}

/// `NAME: ` — the caller appends the value, then [`line_end`].
pub fn field<'b>(out: &'b mut Buf, name: &[u8]) -> &'b mut Buf {
    out.push(name).push(b": ")
}

/// A header line's end: CRLF.
pub fn line_end(out: &mut Buf) {
    out.push(b"\r\n");
}

/// `Content-Type` and `Content-Length`.
pub fn content(out: &mut Buf, content_type: &[u8], length: u64) {
    field(out, b"Content-Type").push(content_type).push(b"\r\nContent-Length: ").num(length).push(b"\r\n");
}

/// The last response on the connection.
pub const CLOSE: &[u8] = b"Connection: close\r\n";
/// Another request may follow on an HTTP/1.0 connection, whose default is to close.
pub const KEEP_ALIVE: &[u8] = b"Connection: keep-alive\r\n";
/// Another request may follow on an HTTP/1.1 connection: its default, no field.
pub const OPEN: &[u8] = b"";

/// `connection` (one of the three above), and the empty line that ends the head.
pub fn end(out: &mut Buf, connection: &[u8]) {
    out.push(connection).push(b"\r\n");
}

/// The type of every body this module writes.
pub const TEXT: &[u8] = b"text/plain; charset=utf-8";

/// The methods the server itself answers (a CGI program answers any).
pub const ALLOW: &[u8] = b"Allow: GET, HEAD, OPTIONS\r\n";

/// The field `status` requires: `Allow` on 405 and on OPTIONS' 204, `Retry-After` on
/// 503, the challenge on 401.
pub fn status_fields(out: &mut Buf, status: Status) {
    match status {
        Status::MethodNotAllowed | Status::NoContent => out.push(ALLOW),
        // The parent cannot fork, or a lookup keeps racing renames: likely over soon.
        Status::ServiceUnavailable => out.push(b"Retry-After: 1\r\n"),
        Status::Unauthorized => out.push(super::basic::CHALLENGE),
        _ => out,
    };
}

/// The content fields of `status`'s plain body (Hello's, or an error's): none for a
/// 204 (RFC 9110 §8.6).
pub fn text_content(out: &mut Buf, status: Status) {
    if status != Status::NoContent {
        content(out, TEXT, body_len(status));
    }
}

/// `status`'s plain body: `Hello, World!` for a 200, `404 Not Found` for an error,
/// nothing for a 204; returns its length.
pub fn body(out: &mut Buf, status: Status) -> u64 {
    let before = out.as_bytes().len();
    match status {
        Status::Ok => {
            out.push(HELLO);
        }
        Status::NoContent => {}
        _ => {
            out.num(status.code().into()).byte(b' ').push(status.reason()).byte(b'\n');
        }
    }
    (out.as_bytes().len() - before) as u64
}

/// The length of `status`'s plain body.
pub fn body_len(status: Status) -> u64 {
    match status {
        Status::Ok => HELLO.len() as u64,
        Status::NoContent => 0,
        _ => 3 + 1 + status.reason().len() as u64 + 1,
    }
}

/// Appends Hello's response (`Status::Ok`) or an error's at time `unix`, ending its head
/// with `connection`; returns the length of the body sent (0 for HEAD), which the access
/// log reports. (The responses of a connection's request are the handlers', which add
/// the operator's fields; this is for the stages, the parent's 503 and CGI's relay.)
pub fn write(out: &mut Buf, status: Status, head_only: bool, connection: &[u8], unix: i64) -> u64 {
    start(out, status, unix);
    status_fields(out, status);
    text_content(out, status);
    end(out, connection);
    if head_only { 0 } else { body(out, status) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(status: Status, head_only: bool) -> (String, u64) {
        let mut out = Buf::new();
        let n = write(&mut out, status, head_only, CLOSE, 784_111_777);
        assert!(!out.is_full());
        (String::from_utf8(out.as_bytes().to_vec()).unwrap(), n)
    }

    #[test]
    fn hello() {
        assert_eq!(
            text(Status::Ok, false),
            (
                "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\
                 Connection: close\r\n\r\nHello, World!\n"
                    .into(),
                14
            )
        );
        let (head, n) = text(Status::Ok, true);
        assert_eq!(n, 0);
        assert!(head.ends_with("Content-Length: 14\r\nConnection: close\r\n\r\n"));
        for (connection, end) in [(OPEN, "Content-Length: 14\r\n\r\n"), (KEEP_ALIVE, "Length: 14\r\nConnection: keep-alive\r\n\r\n")] {
            let mut out = Buf::new();
            write(&mut out, Status::Ok, true, connection, 0);
            assert!(out.as_bytes().ends_with(end.as_bytes()));
        }
    }

    #[test]
    fn options_gets_204_with_allow_and_no_content_fields() {
        let (text, n) = text(Status::NoContent, false);
        assert_eq!(n, 0);
        assert_eq!(&text[..text.find("\r\n").unwrap()], "HTTP/1.1 204 No Content");
        assert!(text.ends_with(" GMT\r\nAllow: GET, HEAD, OPTIONS\r\nConnection: close\r\n\r\n"), "{text}");
    }

    #[test]
    fn errors_carry_their_own_length() {
        for s in [
            Status::BadRequest,
            Status::Unauthorized,
            Status::Forbidden,
            Status::NotFound,
            Status::MethodNotAllowed,
            Status::RequestTimeout,
            Status::UriTooLong,
            Status::RangeNotSatisfiable,
            Status::HeaderFieldsTooLarge,
            Status::InternalServerError,
            Status::NotImplemented,
            Status::ServiceUnavailable,
            Status::VersionNotSupported,
        ] {
            let (t, n) = text(s, false);
            let (head, body) = t.split_once("\r\n\r\n").unwrap();
            assert_eq!(body, format!("{} {}\n", s.code(), String::from_utf8_lossy(s.reason())));
            assert_eq!(n, body.len() as u64);
            assert!(head.contains(&format!("\r\nContent-Length: {n}\r\n")));
            assert_eq!(head.contains("\r\nAllow: GET, HEAD, OPTIONS\r\n"), s == Status::MethodNotAllowed);
            assert_eq!(head.contains("\r\nRetry-After: 1\r\n"), s == Status::ServiceUnavailable);
            assert_eq!(head.contains("\r\nWWW-Authenticate: Basic realm=\"forkhttpd\", charset=\"UTF-8\"\r\n"), s == Status::Unauthorized);
        }
    }
}
