//! HTTP Basic authentication (RFC 7617, `--auth USER:PASSWORD`): the request's
//! `Authorization: Basic TOKEN`, whose base64 must decode to the configured
//! `USER:PASSWORD`. The token is decoded and compared as it is read, in a time that
//! depends on its length only, never on how much of a guess is right.

use super::request::{Message, is};

/// The challenge a 401 carries.
pub const CHALLENGE: &[u8] = b"WWW-Authenticate: Basic realm=\"forkhttpd\", charset=\"UTF-8\"\r\n";

/// Whether the head `head` carries exactly one `Authorization` field, `Basic` (any case)
/// with a token that decodes to `credentials`.
#[inline(never)]
pub fn allows(head: &[u8], credentials: &[u8]) -> bool {
    let Ok(message) = Message::lex(head) else { return false };
    let mut found = None;
    let mut count = 0;
    for (name, value) in message.fields() {
        if is(name, b"authorization") {
            found = Some(value);
            count += 1;
        }
    }
    let Some(value) = found.filter(|_| count == 1) else { return false };
    let scheme_end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (scheme, token) = value.split_at(scheme_end);
    is(scheme, b"basic") && matches(token.trim_ascii_start(), credentials)
}

/// Whether the base64 `token` (RFC 4648 §4, padded or not) decodes to `expected`. Every
/// byte of the token is looked at, and the differences gathered, whatever they are.
pub fn matches(token: &[u8], expected: &[u8]) -> bool {
    let (mut diff, mut bad) = (0u8, false);
    let (mut acc, mut bits, mut at, mut padding) = (0u32, 0u32, 0usize, 0usize);
    for &c in token {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => {
                bad = true;
                0
            }
        };
        // Nothing after the padding.
        bad |= padding > 0;
        acc = (acc << 6 | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = (acc >> bits) as u8;
            diff |= byte ^ expected.get(at).copied().unwrap_or(!byte);
            at += 1;
        }
    }
    bad |= padding > 2 || (padding > 0 && (token.len() % 4 != 0));
    // Not short-circuited: the answer waits for every byte's difference.
    core::hint::black_box(diff) == 0 && !bad && at == expected.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        // RFC 7617 §2's example.
        assert!(matches(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==", b"Aladdin:open sesame"));
        assert!(matches(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ", b"Aladdin:open sesame"), "unpadded");
        for wrong in [&b"QWxhZGRpbjpvcGVuIHNlc2FtZA=="[..], b"QWxhZGRpbjpvcGVuIHNlc2Ft", b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==QQ", b"", b"QWxh ZGRp", b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==="] {
            assert!(!matches(wrong, b"Aladdin:open sesame"), "{}", String::from_utf8_lossy(wrong));
        }
        assert!(matches(b"dGVzdDoxMjPCow==", "test:123£".as_bytes()), "UTF-8 (RFC 7617 §2.1)");
    }

    #[test]
    fn fields() {
        let ok = b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n";
        assert!(allows(ok, b"Aladdin:open sesame"));
        assert!(!allows(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"Aladdin:open sesame"));
        assert!(!allows(b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n", b"Aladdin:open sesame"));
        let twice = b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n";
        assert!(!allows(twice, b"Aladdin:open sesame"));
    }
}
