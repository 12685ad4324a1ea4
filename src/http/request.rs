//! Reading a request head (RFC 9112) with `httparse` and deciding the status it earns.
//!
//! forkhttpd never reads a request body and always closes the connection after one
//! response, so a head is all it needs. It still checks what RFC 9112 says a server MUST
//! reject, because a lenient parser is how request smuggling starts.

use super::{HEAD_MAX, Status};

/// More header lines than this earn 431 (Apache's `LimitRequestFields` default).
pub const MAX_HEADERS: usize = 100;

/// What the bytes received so far say.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// The head has not ended yet; read more (or give up at the limit or on EOF).
    Partial,
    Complete(Verdict),
}

/// The answer a complete (or hopeless) head gets.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    /// The request was HEAD: the response carries no body.
    pub head_only: bool,
    /// Where the head ended, when it was accepted; 0 for a rejected request.
    pub head_len: usize,
    /// The client announced a body (which forkhttpd never reads).
    pub body_follows: bool,
}

impl Verdict {
    pub const fn reject(status: Status) -> Self {
        Verdict { status, head_only: false, head_len: 0, body_follows: false }
    }

    /// Bytes may still be on their way or unread after the head: closing at once would
    /// make the kernel answer them with RST, so the connection closes by draining.
    pub fn may_leave_unread(&self, received: usize) -> bool {
        self.status != Status::Ok || self.body_follows || received != self.head_len
    }
}

/// Judges the head in `buf`, the bytes received so far.
pub fn parse(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) if buf.len() >= HEAD_MAX => Head::Complete(at_limit(buf)),
        Ok(httparse::Status::Partial) => Head::Partial,
        Ok(httparse::Status::Complete(len)) => Head::Complete(judge(&req, len)),
        Err(httparse::Error::TooManyHeaders) => Head::Complete(Verdict::reject(Status::HeaderFieldsTooLarge)),
        Err(httparse::Error::Version) if names_a_version(request_line(buf)) => {
            Head::Complete(Verdict::reject(Status::VersionNotSupported))
        }
        Err(_) => Head::Complete(Verdict::reject(Status::BadRequest)),
    }
}

/// The request line, for the log: the first line after any empty ones (RFC 9112 §2.2
/// lets a server skip those), without its line end. Whatever arrived if it never ended.
pub fn request_line(buf: &[u8]) -> &[u8] {
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
    let line = buf.get(start..).unwrap_or(&[]);
    let line = line.split(|&b| b == b'\n').next().unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A head that filled the buffer without ending: 414 if even its first line did not end.
fn at_limit(buf: &[u8]) -> Verdict {
    let line = request_line(buf);
    let line_ended = buf.len() > line.len() + buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    Verdict::reject(if line_ended { Status::HeaderFieldsTooLarge } else { Status::UriTooLong })
}

/// A well-formed request line whose version is `HTTP/<digit>.<digit>`: a version we do
/// not speak (505), where anything else malformed is 400.
fn names_a_version(line: &[u8]) -> bool {
    let mut parts = line.split(|&b| b == b' ');
    let (_method, _target, version) = (parts.next(), parts.next(), parts.next());
    match (version, parts.next()) {
        (Some([b'H', b'T', b'T', b'P', b'/', major, b'.', minor]), None) => major.is_ascii_digit() && minor.is_ascii_digit(),
        _ => false,
    }
}

fn judge(req: &httparse::Request<'_, '_>, head_len: usize) -> Verdict {
    let bad = Verdict::reject(Status::BadRequest);
    let http11 = req.version == Some(1);
    let (mut hosts, mut length, mut chunked) = (0, None, None);
    for h in req.headers.iter() {
        let value = h.value.trim_ascii();
        if h.name.eq_ignore_ascii_case("host") {
            // RFC 9112 §3.2: exactly one Host, and a valid one.
            hosts += 1;
            if hosts > 1 || !value.iter().all(|&b| is_host_byte(b)) {
                return bad;
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            // RFC 9112 §6.3: an invalid Content-Length is an unrecoverable framing error.
            match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return bad,
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // RFC 9112 §6.1: chunked must be the final coding; repeated fields are one list.
            let last = value.rsplit(|&b| b == b',').next().map(<[u8]>::trim_ascii).unwrap_or(value);
            chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
        }
    }
    if http11 && hosts == 0 {
        return bad;
    }
    // RFC 9112 §6.1-6.3: Transfer-Encoding with Content-Length, in HTTP/1.0, or not
    // ending in chunked leaves the body's end unknown: reject.
    if chunked.is_some() && (length.is_some() || !http11 || chunked == Some(false)) {
        return bad;
    }

    let method = req.method.unwrap_or("");
    let path = req.path.unwrap_or("").as_bytes();
    let status = match method {
        "GET" | "HEAD" if path.starts_with(b"/") || is_absolute(path) => Status::Ok,
        "GET" | "HEAD" => return bad, // `*` or authority-form is for OPTIONS or CONNECT only
        "POST" | "PUT" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" | "PATCH" => Status::MethodNotAllowed,
        _ => Status::NotImplemented,
    };
    Verdict {
        status,
        head_only: method == "HEAD",
        head_len,
        body_follows: chunked.is_some() || length.is_some_and(|n| n > 0),
    }
}

/// RFC 3986 `host [ ":" port ]`: reg-name, IP literals and port characters.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]%".contains(&b)
}

/// `1*DIGIT` that fits in a u64.
fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

/// absolute-form (RFC 9112 §3.2.2): `scheme://…`, a scheme being a letter, then letters,
/// digits, `+`, `-` or `.`.
fn is_absolute(path: &[u8]) -> bool {
    let scheme_len = path.iter().take_while(|&&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)).count();
    path.first().is_some_and(u8::is_ascii_alphabetic) && path.get(scheme_len..).is_some_and(|rest| rest.starts_with(b"://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(head: &[u8]) -> Status {
        match parse(head) {
            Head::Complete(v) => v.status,
            Head::Partial => panic!("partial: {:?}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn get_and_head() {
        let head = b"GET /hello HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl\r\n\r\n";
        assert_eq!(
            parse(head),
            Head::Complete(Verdict { status: Status::Ok, head_only: false, head_len: head.len(), body_follows: false })
        );
        match parse(b"HEAD / HTTP/1.0\r\n\r\n") {
            Head::Complete(v) => assert!(v.head_only && v.status == Status::Ok),
            other => panic!("{other:?}"),
        }
        assert_eq!(status(b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"), Status::Ok);
        assert_eq!(status(b"GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"), Status::Ok);
        assert_eq!(status(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), Status::Ok);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"), Status::Ok);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: [::1]:8888\r\n\r\n"), Status::Ok);
    }

    #[test]
    fn partial_until_the_empty_line() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for end in 0..head.len() {
            assert_eq!(parse(&head[..end]), Head::Partial, "{end}");
        }
    }

    #[test]
    fn methods() {
        for m in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"] {
            assert_eq!(status(format!("{m} / HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()), Status::MethodNotAllowed);
        }
        assert_eq!(status(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), Status::MethodNotAllowed);
        assert_eq!(status(b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), Status::NotImplemented);
        assert_eq!(status(b"get / HTTP/1.1\r\nHost: a\r\n\r\n"), Status::NotImplemented); // methods are case-sensitive
    }

    #[test]
    fn rfc9112_musts() {
        for bad in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],                                   // no Host in 1.1
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                    // two Hosts
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",                             // invalid Host
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",                              // space before colon
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",                    // obs-fold
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",         // bad length
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", // chunked not last
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",          // TE in 1.0
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",                               // asterisk-form for GET
            b"GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n",                  // authority-form for GET
            b"GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",                      // not a scheme
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",                              // two spaces
            b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",                            // space in target
            b"GET / HTTP/1.1\rHost: a\r\n\r\n",                                 // bare CR
            b"GET / FOO/1.1\r\nHost: a\r\n\r\n",                                // not a version
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",         // TLS on the HTTP port
        ] {
            assert_eq!(status(bad), Status::BadRequest, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(status(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"), Status::VersionNotSupported);
        assert_eq!(status(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"), Status::VersionNotSupported);
    }

    #[test]
    fn bodies_are_noticed() {
        let v = |h: &[u8]| match parse(h) {
            Head::Complete(v) => v.body_follows,
            Head::Partial => panic!(),
        };
        assert!(v(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"));
        assert!(v(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"));
        assert!(!v(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"));
        assert!(!v(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    }

    #[test]
    fn limits() {
        let mut long_line = b"GET /".to_vec();
        long_line.resize(HEAD_MAX, b'a');
        assert_eq!(status(&long_line), Status::UriTooLong);
        let mut long_head = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        long_head.resize(HEAD_MAX, b'a');
        assert_eq!(status(&long_head), Status::HeaderFieldsTooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(status(format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n").as_bytes()), Status::HeaderFieldsTooLarge);
    }

    #[test]
    fn request_lines_for_the_log() {
        assert_eq!(request_line(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), b"GET / HTTP/1.1");
        assert_eq!(request_line(b"\r\n\r\nGET /x HTTP/1.0\nHost: a\n\n"), b"GET /x HTTP/1.0");
        assert_eq!(request_line(b"GET /unfinis"), b"GET /unfinis");
        assert_eq!(request_line(b""), b"");
    }

    #[test]
    fn unread_bytes() {
        let ok = Verdict { status: Status::Ok, head_only: false, head_len: 20, body_follows: false };
        assert!(!ok.may_leave_unread(20));
        assert!(ok.may_leave_unread(25));
        assert!(Verdict { body_follows: true, ..ok }.may_leave_unread(20));
        assert!(Verdict::reject(Status::BadRequest).may_leave_unread(0));
    }
}
