//! Reading a request head (RFC 9112) and deciding the status it earns.
//!
//! forkhttpd never reads a request body and always closes the connection after one
//! response, so a head is all it needs. [`Message::lex`] checks the head's grammar in one
//! pass over the received bytes, without copying them; [`parse`] then checks what RFC 9112
//! says a server MUST reject, because a lenient parser is how request smuggling starts.
//!
//! The lexer accepts exactly what `httparse` 1.10 accepts by default, except raw bytes
//! 0x80-0xFF in the request target, which it passes on unchecked where httparse requires
//! UTF-8. httparse made the binary 2.6 KB larger than this lexer does, against a 24 KiB
//! bound; it stays the reference: the unit tests and the fuzz target compare the two on
//! every input (`super::reference`).

use super::{HEAD_MAX, Status};

/// More header lines than this earn 431 (Apache's `LimitRequestFields` default).
pub const MAX_HEADERS: usize = 100;

/// What the bytes received so far say.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// The head has not ended yet; read more (or give up at the limit or on EOF).
    Partial,
/// The head is whole, or can never be: what it earns.
    Complete(Verdict),
}

/// The answer a complete (or hopeless) head gets.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
/// `Ok` (GET, HEAD), `NoContent` (OPTIONS), or what the head earns instead.
    pub status: Status,
    /// The request was HEAD: the response carries no body.
    pub head_only: bool,
    /// Where the head ended, when it was accepted; 0 for a rejected request.
    pub head_len: usize,
    /// The client announced a body (which forkhttpd never reads).
    pub body_follows: bool,
    /// The client lets the connection persist (RFC 9112 §9.3): HTTP/1.1 without
    /// `Connection: close`, HTTP/1.0 with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// HTTP/1.0: a persistent connection must be confirmed with `Connection: keep-alive`.
    pub http10: bool,
}

impl Verdict {
/// The verdict of a head refused with `status`.
    pub const fn reject(status: Status) -> Self {
        Verdict { status, head_only: false, head_len: 0, body_follows: false, keep_alive: false, http10: false }
    }

    /// Bytes may still be on their way or unread after the head: closing at once would
    /// make the kernel answer them with RST, so the connection closes by draining.
    pub fn may_leave_unread(&self, received: usize) -> bool {
        !self.accepted() || self.body_follows || received != self.head_len
    }

    /// The head was accepted: a GET or HEAD (`Ok`), or an OPTIONS (`NoContent`).
    pub fn accepted(&self) -> bool {
        matches!(self.status, Status::Ok | Status::NoContent)
    }
}

/// A head that RFC 9112's grammar accepts, as slices of the bytes received.
#[derive(Debug)]
pub struct Message<'a> {
/// The method: `GET`, `POST`.
    pub method: &'a [u8],
/// The request target, as received.
    pub target: &'a [u8],
    /// The `y` of `HTTP/1.y`: 0 or 1.
    pub minor: u8,
    /// The field lines, each with its line end.
    fields: &'a [u8],
    /// The head's length, the empty line included.
    pub len: usize,
}

/// 400: what the lexer and the judge answer to a malformed head.
const BAD: Verdict = Verdict::reject(Status::BadRequest);

impl<'a> Message<'a> {
    /// `*( CRLF ) method SP request-target SP HTTP-version CRLF *( field-line CRLF ) CRLF`.
    /// `Err` is what the head earns before it is whole: `Partial` while every byte so far
    /// fits the grammar, a rejection as soon as one does not.
    pub fn lex(buf: &'a [u8]) -> Result<Self, Head> {
        Scan::default().lex(buf)
    }

    /// The header fields, `(name, value)`, the value without its surrounding whitespace.
    pub fn fields(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.fields.split(|&b| b == b'\n').filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((line.get(..colon)?, line.get(colon + 1..)?.trim_ascii()))
        })
    }
}

/// Where the lexer is in the grammar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// §2.2: empty lines before the request line are ignored.
    #[default]
    Leading,
    /// A CR there: its LF must follow (a bare CR is rejected).
    LeadingLf,
    /// §3: the request line, single spaces between its parts.
    Method,
    Target,
    /// The `i`th byte of `HTTP/1.x`.
    Version(u8),
    /// The request line's end: LF, or CR LF.
    LineEnd,
    LineLf,
    /// §5: at the start of a field line, or of the empty line that ends the head.
    FieldStart,
    /// `field-name ":" OWS field-value OWS`; no space before the colon, no obs-fold (a
    /// line starting with whitespace has an empty name).
    Name,
    Value,
    ValueLf,
    /// The CR of the empty line: its LF ends the head.
    EndLf,
}

/// The lexer, resumable: it keeps where it stopped in a head that is not complete yet,
/// and [`Scan::lex`] goes on from there when more bytes have come, so that a head sent a
/// byte at a time is read once, not again from its start at every `recv`. One pass of a
/// state machine over the bytes, without copying them (the slices are taken at the end).
#[derive(Clone, Copy, Debug, Default)]
pub struct Scan {
    /// The next byte to look at, and what it may be.
    at: usize,
    phase: Phase,
    /// Where the current part began.
    start: usize,
    method: (usize, usize),
    target: (usize, usize),
    minor: u8,
    /// Where the field lines begin, and how many have ended.
    fields: usize,
    count: usize,
}

impl Scan {
    /// Lexes `buf`, which holds at least the bytes this scan has seen, unchanged: goes on
    /// from where it stopped. (Start a new `Scan` for a new head.)
    pub fn lex<'a>(&mut self, buf: &'a [u8]) -> Result<Message<'a>, Head> {
        let unsupported = || Head::Complete(Verdict::reject(Status::VersionNotSupported));
        while let Some(&b) = buf.get(self.at) {
            let at = self.at;
            self.at += 1;
            self.phase = match (self.phase, b) {
                (Phase::Leading, b'\n') => Phase::Leading,
                (Phase::Leading, b'\r') => Phase::LeadingLf,
                (Phase::LeadingLf, b'\n') => Phase::Leading,
                (Phase::Leading, _) => {
                    // The request line begins: this byte is the method's first.
                    (self.at, self.start) = (at, at);
                    Phase::Method
                }
                (Phase::Method, _) if is_tchar(b) => Phase::Method,
                (Phase::Method, b' ') if at > self.start => {
                    (self.method, self.start) = ((self.start, at), at + 1);
                    Phase::Target
                }
                (Phase::Target, _) if b > b' ' && b != 0x7f => Phase::Target,
                (Phase::Target, b' ') if at > self.start => {
                    self.target = (self.start, at);
                    Phase::Version(0)
                }
                // §2.3: `HTTP/1.0` or `HTTP/1.1`. Another `HTTP/DIGIT.DIGIT` is 505 as soon
                // as its digit shows; anything else is 400.
                (Phase::Version(i @ 0..7), _) if b"HTTP/1.".get(usize::from(i)) == Some(&b) => Phase::Version(i + 1),
                (Phase::Version(5), _) if b.is_ascii_digit() => return Err(unsupported()),
                (Phase::Version(7), b'0' | b'1') => {
                    self.minor = b - b'0';
                    Phase::LineEnd
                }
                (Phase::Version(7), _) if b.is_ascii_digit() => return Err(unsupported()),
                (Phase::LineEnd, b'\r') => Phase::LineLf,
                (Phase::LineEnd | Phase::LineLf, b'\n') => {
                    self.fields = at + 1;
                    Phase::FieldStart
                }
                (Phase::FieldStart, b'\r') => Phase::EndLf,
                (Phase::FieldStart | Phase::EndLf, b'\n') => return Ok(self.message(buf, at)),
                (Phase::FieldStart, _) => {
                    // A field line begins: this byte is its name's first.
                    (self.at, self.start) = (at, at);
                    Phase::Name
                }
                (Phase::Name, _) if is_tchar(b) => Phase::Name,
                (Phase::Name, b':') if at > self.start => Phase::Value,
                (Phase::Value, _) if b == b'\t' || (b >= b' ' && b != 0x7f) => Phase::Value,
                (Phase::Value, b'\r') => Phase::ValueLf,
                (Phase::Value | Phase::ValueLf, b'\n') => {
                    self.count += 1;
                    if self.count > MAX_HEADERS {
                        return Err(Head::Complete(Verdict::reject(Status::HeaderFieldsTooLarge)));
                    }
                    Phase::FieldStart
                }
                _ => return Err(Head::Complete(BAD)),
            };
        }
        Err(Head::Partial)
    }

    /// The message whose head's last byte, the final LF, is at `end`.
    fn message<'a>(&self, buf: &'a [u8], end: usize) -> Message<'a> {
        let part = |(from, to): (usize, usize)| buf.get(from..to).unwrap_or(&[]);
        // The fields end where the empty line starts: its CR, or its bare LF.
        let empty_line = if self.phase == Phase::EndLf { end - 1 } else { end };
        Message {
            method: part(self.method),
            target: part(self.target),
            minor: self.minor,
            fields: part((self.fields, empty_line)),
            len: end + 1,
        }
    }
}

/// RFC 9110 §5.6.2 `tchar`: what methods and field names are made of.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// Judges the head in `buf`, the bytes received so far.
pub fn parse(buf: &[u8]) -> Head {
    parse_on(&mut Scan::default(), buf)
}

/// Judges the head in `buf`, lexing on from where `scan` stopped (see [`Scan`]).
pub fn parse_on(scan: &mut Scan, buf: &[u8]) -> Head {
    match scan.lex(buf) {
        Ok(message) => Head::Complete(judge(&message)),
        Err(Head::Partial) if buf.len() >= HEAD_MAX => Head::Complete(at_limit(buf)),
        Err(head) => head,
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

fn judge(message: &Message<'_>) -> Verdict {
    let http11 = message.minor == 1;
    let (mut hosts, mut length, mut chunked) = (0, None, None);
    let (mut close, mut keep_alive) = (false, false);
    for (name, value) in message.fields() {
        if is(name, b"host") {
            // RFC 9112 §3.2: exactly one Host, and a valid one.
            hosts += 1;
            if hosts > 1 || !value.iter().all(|&b| is_host_byte(b)) {
                return BAD;
            }
        } else if is(name, b"content-length") {
            // RFC 9112 §6.3: an invalid Content-Length is an unrecoverable framing error.
            match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return BAD,
            }
        } else if is(name, b"transfer-encoding") {
            // RFC 9112 §6.1: chunked must be the final coding; repeated fields are one list.
            let last = value.rsplit(|&b| b == b',').next().map(<[u8]>::trim_ascii).unwrap_or(value);
            chunked = Some(is(last, b"chunked"));
        } else if is(name, b"connection") {
            // A list of options; repeated fields are one list.
            for option in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                close |= is(option, b"close");
                keep_alive |= is(option, b"keep-alive");
            }
        }
    }
    if http11 && hosts == 0 {
        return BAD;
    }
    // RFC 9112 §6.1-6.3: Transfer-Encoding with Content-Length, in HTTP/1.0, or not
    // ending in chunked leaves the body's end unknown: reject.
    if chunked.is_some() && (length.is_some() || !http11 || chunked == Some(false)) {
        return BAD;
    }

    let (method, target) = (message.method, message.target);
    let status = match method {
        b"GET" | b"HEAD" if target.starts_with(b"/") || is_absolute(target) => Status::Ok,
        b"GET" | b"HEAD" => return BAD, // `*` or authority-form is for OPTIONS or CONNECT only
        // What the server allows: for itself (`*`, RFC 9112 §3.2.4) or a resource.
        b"OPTIONS" if target == b"*" || target.starts_with(b"/") || is_absolute(target) => Status::NoContent,
        b"OPTIONS" => return BAD,
        b"POST" | b"PUT" | b"DELETE" | b"CONNECT" | b"TRACE" | b"PATCH" => Status::MethodNotAllowed,
        _ => Status::NotImplemented,
    };
    Verdict {
        status,
        head_only: method == b"HEAD",
        head_len: message.len,
        body_follows: chunked.is_some() || length.is_some_and(|n| n > 0),
        keep_alive: !close && (http11 || keep_alive),
        http10: !http11,
    }
}

/// `word` is `lower` in any case (`lower` being lowercase). (`<[u8]>::eq_ignore_ascii_case` is 250 bytes of code
/// made for long strings.)
pub(crate) fn is(word: &[u8], lower: &[u8]) -> bool {
    word.len() == lower.len() && word.iter().zip(lower).all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// RFC 3986 `host [ ":" port ]`: reg-name, IP literals and port characters.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'!' | b'$'..=b',' | b';' | b'=' | b':' | b'[' | b']')
}

/// `1*DIGIT` that fits in a u64 (`Range` uses it too).
pub(crate) fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &d| if d.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(d - b'0')) } else { None })
}

/// absolute-form (RFC 9112 §3.2.2): `scheme://…`, a scheme being a letter, then letters,
/// digits, `+`, `-` or `.`.
fn is_absolute(path: &[u8]) -> bool {
    let scheme_len = path.iter().take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')).count();
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
            Head::Complete(Verdict {
                status: Status::Ok,
                head_only: false,
                head_len: head.len(),
                body_follows: false,
                keep_alive: true,
                http10: false
            })
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
    fn lexed_on_from_where_it_stopped_as_from_the_start() {
        let heads: [&[u8]; 6] = [
            b"\r\n\nGET /a?b HTTP/1.1\r\nHost: a\r\nX-Y: z \t\r\nEmpty:\n\r\n",
            b"GET / HTTP/1.0\n\nGET /next HTTP/1.1\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.3\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        ];
        for head in heads {
            // Fed a byte at a time, in pieces of 3, and whole: the same every time.
            let whole = parse(head);
            for step in [1, 3] {
                let mut scan = Scan::default();
                let mut last = Head::Partial;
                for end in (step..head.len() + step).step_by(step) {
                    let end = end.min(head.len());
                    last = parse_on(&mut scan, &head[..end]);
                    assert_eq!(last, parse(&head[..end]), "{:?} at {end}", String::from_utf8_lossy(head));
                    if last != Head::Partial {
                        break;
                    }
                }
                assert_eq!(last, whole);
            }
        }
        let mut scan = Scan::default();
        let message = scan.lex(heads[0]).unwrap();
        assert_eq!((message.method, message.target, message.minor, message.len), (&b"GET"[..], &b"/a?b"[..], 1, heads[0].len()));
        assert_eq!(message.fields().collect::<Vec<_>>(), [(&b"Host"[..], &b"a"[..]), (b"X-Y", b"z"), (b"Empty", b"")]);
    }

    /// What a `recv` brought is lexed once: a head that arrives a byte at a time costs a
    /// pass over its bytes, not a pass over all of them at every `recv` (a 7 KB head took
    /// the child 90 ms of CPU that way). Shown by changing bytes already lexed: a scan that
    /// went back over them would find the head malformed.
    #[test]
    fn bytes_already_lexed_are_not_looked_at_again() {
        let head = b"GET /a HTTP/1.1\r\nHost: a\r\nX-Long: vvvvvvvvvvvvvvvvvvvv\r\n\r\n";
        let mut buf = head.to_vec();
        let mut scan = Scan::default();
        for end in 1..head.len() {
            assert_eq!(parse_on(&mut scan, &buf[..end]), Head::Partial, "at {end}");
            // Everything before `end` has been looked at: spoil it.
            buf[end - 1] = 0;
        }
        // The last byte: the head is whole (the judge then reads it once, spoilt or not).
        assert_eq!(scan.lex(&buf).map(|m| m.len).ok(), Some(head.len()));
        assert_eq!(parse(&buf), Head::Complete(BAD), "from the start, the spoilt bytes are seen");
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
        for m in ["POST", "PUT", "DELETE", "TRACE", "PATCH"] {
            assert_eq!(status(format!("{m} / HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()), Status::MethodNotAllowed);
        }
        for target in ["*", "/", "/x?y", "http://a/"] {
            assert_eq!(status(format!("OPTIONS {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()), Status::NoContent);
        }
        assert_eq!(status(b"OPTIONS a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), Status::BadRequest);
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
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", // over u64
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
    fn persistence() {
        let v = |h: &[u8]| match parse(h) {
            Head::Complete(v) => (v.keep_alive, v.http10),
            Head::Partial => panic!(),
        };
        assert_eq!(v(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), (true, false));
        assert_eq!(v(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"), (false, false));
        assert_eq!(v(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, TE\r\nConnection: close\r\n\r\n"), (false, false));
        assert_eq!(v(b"GET / HTTP/1.0\r\n\r\n"), (false, true));
        assert_eq!(v(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), (true, true));
        assert_eq!(v(b"GET / HTTP/1.0\r\nConnection: x, keep-alive\r\n\r\n"), (true, true));
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
        assert!(v(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"));
        assert!(!v(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000000000000000000000000\r\n\r\n"));
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
    fn lexer_agrees_with_httparse() {
        let heads: &[&[u8]] = &[
            b"GET /hello HTTP/1.1\r\nHost: localhost:8888\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n",
            b"\r\n\nHEAD / HTTP/1.0\nX:\t a b \t\nY:\n\n",
            b"GET http://a/x?y=%20 HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9 \xff\r\n\r\nbody",
            b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
            b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
            b"GET / HTTP/1.1\r\nA\xc3\xa9: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 \r\n\r\n",
            b"GET /a\x7fb HTTP/1.1\r\n\r\n",
            b"GET /\tx HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b" GET / HTTP/1.1\r\n\r\n",
            b"\rGET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.2\r\n\r\n",
            b"GET / HTTP/1.x\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET / HTTP/1.10\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ];
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        let just_enough: String = (1..MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
        let just_enough = format!("GET / HTTP/1.1\r\nHost: a\r\n{just_enough}\r\n");
        for head in heads.iter().copied().chain([many.as_bytes(), just_enough.as_bytes()]) {
            // Every prefix, as a slow client would deliver it.
            for end in 0..=head.len() {
                super::super::reference::check(&head[..end]);
            }
        }
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
        let ok = Verdict { head_len: 20, status: Status::Ok, ..Verdict::reject(Status::Ok) };
        assert!(!ok.may_leave_unread(20));
        assert!(ok.may_leave_unread(25));
        assert!(Verdict { body_follows: true, ..ok }.may_leave_unread(20));
        assert!(Verdict::reject(Status::BadRequest).may_leave_unread(0));
    }
}
