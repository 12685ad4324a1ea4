//! The response: status line, `Date`, `Content-Type`, `Content-Length`, `Connection: close`
//! (and `Allow` on 405, `Retry-After` on 503), then the body, in one buffer for one `send`.

use super::{Status, date};
use crate::buf::Buf;

/// What `GET` and `HEAD` get, on any path.
pub const HELLO: &[u8] = b"Hello, World!\n";

/// Appends the response for `status` at time `unix`; returns the length of the body sent
/// (0 for HEAD), which the access log reports.
pub fn write(out: &mut Buf, status: Status, head_only: bool, unix: i64) -> usize {
    let code = u64::from(status.code());
    let reason = status.reason().as_bytes();
    // Errors explain themselves in the body too: "404 Not Found\n".
    let body_len = match status {
        Status::Ok => HELLO.len(),
        _ => 3 + 1 + reason.len() + 1,
    };
    out.push(b"HTTP/1.1 ").num(code).byte(b' ').push(reason).push(b"\r\nDate: ");
    date::write(out, unix);
    out.push(b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ").num(body_len as u64);
    match status {
        Status::MethodNotAllowed => out.push(b"\r\nAllow: GET, HEAD"),
        // Only when the parent cannot fork: a child will likely exit within a second.
        Status::ServiceUnavailable => out.push(b"\r\nRetry-After: 1"),
        _ => out,
    };
    out.push(b"\r\nConnection: close\r\n\r\n");
    if head_only {
        return 0;
    }
    match status {
        Status::Ok => out.push(HELLO),
        _ => out.num(code).byte(b' ').push(reason).byte(b'\n'),
    };
    body_len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(status: Status, head_only: bool) -> (String, usize) {
        let mut out = Buf::new();
        let n = write(&mut out, status, head_only, 784_111_777);
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
    }

    #[test]
    fn errors_carry_their_own_length() {
        for s in [
            Status::BadRequest,
            Status::MethodNotAllowed,
            Status::RequestTimeout,
            Status::UriTooLong,
            Status::HeaderFieldsTooLarge,
            Status::NotImplemented,
            Status::ServiceUnavailable,
            Status::VersionNotSupported,
        ] {
            let (t, n) = text(s, false);
            let (head, body) = t.split_once("\r\n\r\n").unwrap();
            assert_eq!(body, format!("{} {}\n", s.code(), s.reason()));
            assert_eq!(n, body.len());
            assert!(head.contains(&format!("\r\nContent-Length: {n}\r\n")));
            assert_eq!(head.contains("\r\nAllow: GET, HEAD\r\n"), s == Status::MethodNotAllowed);
            assert_eq!(head.contains("\r\nRetry-After: 1\r\n"), s == Status::ServiceUnavailable);
        }
    }
}
