//! Cross-origin resource sharing (Fetch standard, `--cors ORIGIN`): which response says
//! what to a page of another origin. A request with an `Origin` the list allows gets
//! `Access-Control-Allow-Origin`; a list of origins (not `*`) makes every response vary
//! with `Origin`. A preflight (`OPTIONS` with `Access-Control-Request-Method`) learns
//! the methods (GET, HEAD), the request headers it asked for, and for how long it may
//! keep the answer.

use super::request::{Message, is, is_tchar};
use crate::buf::Buf;

/// What a response says to the request's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allow<'a> {
    /// No `--cors`: nothing.
    Off,
    /// `--cors '*'`: any origin, whoever asks.
    Any,
    /// The request's `Origin`, which the list names: that origin, and `Vary: Origin`.
    Origin(&'a [u8]),
    /// A list that does not name the request's origin (or no `Origin`): `Vary: Origin`
    /// alone, as the answer depends on it.
    Other,
}

/// How long a browser may keep a preflight's answer, in seconds (Chromium keeps at
/// most 7,200).
pub const MAX_AGE: &[u8] = b"7200";

/// What `--cors`'s `origins` say to the request whose head starts `head`. With `*`, the
/// head is not looked at.
#[inline(never)]
pub fn allow<'a>(origins: &[&[u8]], head: &'a [u8]) -> Allow<'a> {
    if origins.is_empty() {
        return Allow::Off;
    }
    if origins.contains(&&b"*"[..]) {
        return Allow::Any;
    }
    let origin = Message::lex(head).ok().and_then(|m| m.fields().find(|(name, _)| is(name, b"origin")).map(|(_, v)| v));
    match origin {
        Some(origin) if origins.iter().any(|o| same_origin(o, origin)) => Allow::Origin(origin),
        _ => Allow::Other,
    }
}

/// Origins compare byte for byte but for case, which a scheme and a host do not have.
fn same_origin(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// The response fields for `allow`.
pub fn write(out: &mut Buf, allow: Allow<'_>) {
    match allow {
        Allow::Off => {}
        Allow::Any => {
            out.push(b"Access-Control-Allow-Origin: *\r\n");
        }
        Allow::Origin(origin) => {
            out.push(b"Access-Control-Allow-Origin: ").push(origin).push(b"\r\nVary: Origin\r\n");
        }
        Allow::Other => {
            out.push(b"Vary: Origin\r\n");
        }
    }
}

/// A preflight: `OPTIONS` with `Access-Control-Request-Method`; the headers it asks
/// for (`Access-Control-Request-Headers`), if any.
pub fn preflight<'a>(message: &Message<'a>) -> Option<Option<&'a [u8]>> {
    if message.method != b"OPTIONS" {
        return None;
    }
    let mut method = false;
    let mut headers = None;
    for (name, value) in message.fields() {
        if is(name, b"access-control-request-method") {
            method = true;
        } else if is(name, b"access-control-request-headers") {
            headers = Some(value);
        }
    }
    method.then_some(headers.filter(|h| is_token_list(h)))
}

/// `token *( OWS "," OWS token )`: header names, which the answer repeats as they came;
/// anything else is not repeated.
fn is_token_list(v: &[u8]) -> bool {
    !v.is_empty() && v.split(|&b| b == b',').all(|name| {
        let name = name.trim_ascii();
        !name.is_empty() && name.iter().all(|&b| is_tchar(b))
    })
}

/// `--cors`'s value: `*`, or an origin (`http://` or `https://`, a host, maybe a port;
/// no path, no space).
pub fn is_origin(v: &[u8]) -> bool {
    let host = v.strip_prefix(b"https://").or_else(|| v.strip_prefix(b"http://"));
    v == b"*" || host.is_some_and(|h| !h.is_empty() && h.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example\r\n\r\n";

    #[test]
    fn which_origin_is_told() {
        assert_eq!(allow(&[], HEAD), Allow::Off);
        assert_eq!(allow(&[b"*"], b"not even a head"), Allow::Any);
        assert_eq!(allow(&[b"https://x.example", b"https://APP.example"], HEAD), Allow::Origin(b"https://app.example"));
        assert_eq!(allow(&[b"https://x.example"], HEAD), Allow::Other);
        assert_eq!(allow(&[b"https://app.example"], b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Allow::Other);
        let mut out = Buf::new();
        write(&mut out, Allow::Origin(b"https://app.example"));
        assert_eq!(out.as_bytes(), b"Access-Control-Allow-Origin: https://app.example\r\nVary: Origin\r\n");
    }

    #[test]
    fn preflights() {
        let lex = |head: &'static [u8]| Message::lex(head).unwrap_or_else(|_| panic!("a head"));
        let m = lex(b"OPTIONS /a HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-token, content-type\r\n\r\n");
        assert_eq!(preflight(&m), Some(Some(&b"x-token, content-type"[..])));
        let m = lex(b"OPTIONS /a HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x\"y\r\n\r\n");
        assert_eq!(preflight(&m), Some(None), "not a list of names: not repeated");
        assert_eq!(preflight(&lex(b"OPTIONS /a HTTP/1.1\r\nHost: a\r\n\r\n")), None);
        assert_eq!(preflight(&lex(b"GET /a HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Method: GET\r\n\r\n")), None);
    }

    #[test]
    fn origins_it_takes() {
        for good in ["*", "https://app.example", "http://localhost:3000", "http://[::1]:8080"] {
            assert!(is_origin(good.as_bytes()), "{good}");
        }
        for bad in ["", "app.example", "https://", "https://app.example/", "https://a b", "ftp://a", "**"] {
            assert!(!is_origin(bad.as_bytes()), "{bad}");
        }
    }
}
