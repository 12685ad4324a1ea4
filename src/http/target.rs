//! The request target (RFC 9112 §3.2, RFC 3986): its path percent-decoded once, then rid
//! of dot segments (RFC 3986 §5.2.4) in place; dotfiles; percent-encoding for links.
//! Bytes only: no syscalls. Containment under the served directory is not this module's
//! job (the kernel's `openat2` does it): this one only says which name was asked for.

use crate::buf::Buf;

/// A decoded request target.
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// Percent-decoded, without dot segments; starts with `/`, holds no NUL.
    pub path: &'a [u8],
    /// The bytes after the first `?` (before any `#`), as received: not decoded.
    pub query: Option<&'a [u8]>,
}

/// Decodes `raw`, the request-target as received: origin-form (`/a%20b?x=1`) or
/// absolute-form (`http://host:8080/a?x`, whose scheme and authority are dropped; no path
/// means `/`). The path (up to `?` or `#`) is percent-decoded into `out`, once (so
/// `%252e` is the name `%2e`), then its dot segments are removed: `/sub/../a` is `/a`, no
/// `..` climbs above `/`, `/a/.` is `/a/`. `%2f` decodes to a `/` that then separates
/// segments like any other; `\` is an ordinary byte.
///
/// `None` (400) for an invalid escape (`%zz`, `%4`, `%` at the end), a NUL after
/// decoding, a target that is neither form (`*`, authority-form), or a path longer than
/// `out` (which a head's length bounds: give `out` the head's size).
pub fn decode<'a>(raw: &'a [u8], out: &'a mut [u8]) -> Option<Target<'a>> {
    let mut rest = raw;
    if !raw.starts_with(b"/") {
        // absolute-form: `scheme "://" authority`, then the path. A scheme holds no `:`.
        let colon = raw.iter().position(|&b| b == b':')?;
        let after = raw.get(colon + 1..)?.strip_prefix(b"//")?;
        rest = after.get(after.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(after.len())..)?;
    }
    let end = rest.iter().position(|&b| b == b'?' || b == b'#').unwrap_or(rest.len());
    let fragment = rest.iter().position(|&b| b == b'#').unwrap_or(rest.len());
    let path = rest.get(..end)?;
    let query = if rest.get(end) == Some(&b'?') { rest.get(end + 1..fragment) } else { None };

    // An empty path (absolute-form) is `/`; every other one starts with a literal `/`.
    let mut n = 0;
    if path.is_empty() {
        *out.get_mut(0)? = b'/';
        n = 1;
    }
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        let c = if b == b'%' {
            let digit = |at: usize| path.get(at).and_then(|&d| (d as char).to_digit(16));
            let v = digit(i + 1)? * 16 + digit(i + 2)?;
            i += 2;
            v as u8
        } else {
            b
        };
        if c == 0 {
            return None;
        }
        *out.get_mut(n)? = c;
        n += 1;
        i += 1;
    }
    let out = out.get_mut(..n)?;
    let len = remove_dot_segments(out);
    let out: &'a [u8] = out;
    Some(Target { path: out.get(..len)?, query })
}

/// RFC 3986 §5.2.4 on a path that starts with `/`, in place: returns the new length. The
/// output (`p[..w]`) never outgrows what has been read (`p[..r]`), so one buffer serves
/// as both of the RFC's buffers; its steps A and D (a leading `.` or `..` without `/`)
/// cannot occur.
fn remove_dot_segments(p: &mut [u8]) -> usize {
    let (mut r, mut w) = (0, 0);
    while r < p.len() {
        // `p[r]` is a `/`; its segment runs to the next `/` or the end.
        let end = p.iter().skip(r + 1).position(|&b| b == b'/').map_or(p.len(), |i| r + 1 + i);
        match p.get(r + 1..end) {
            Some(b"." | b"..") => {
                // Steps B and C: drop the segment (and for `..` the output's last one);
                // a final one leaves the `/` it followed.
                if end - r == 3 {
                    w = p.get(..w).and_then(|o| o.iter().rposition(|&b| b == b'/')).unwrap_or(0);
                }
                if end == p.len() {
                    if let Some(slot) = p.get_mut(w) {
                        *slot = b'/';
                    }
                    w += 1;
                }
                r = end;
            }
            // Step E: move `/segment` to the output.
            _ => {
                while r < end {
                    let b = p.get(r).copied().unwrap_or(b'/');
                    if let Some(slot) = p.get_mut(w) {
                        *slot = b;
                    }
                    r += 1;
                    w += 1;
                }
            }
        }
    }
    w
}

/// Whether a segment of `path` (which starts with `/`, as `decode` gives it) starts with
/// `.` (a dotfile, a `.git`: 404), except a first segment that is exactly `.well-known`
/// (RFC 8615: ACME, security.txt).
pub fn is_hidden(path: &[u8]) -> bool {
    let rest = match path.strip_prefix(b"/.well-known") {
        Some(rest) if rest.is_empty() || rest.starts_with(b"/") => rest,
        _ => path,
    };
    rest.windows(2).any(|w| w == b"/.")
}

/// Appends `path` percent-encoded for a URL path or an HTML `href`: unreserved bytes
/// (RFC 3986 §2.3) and `/` as they are, every other byte as `%XX`.
pub fn encode(out: &mut Buf, path: &[u8]) {
    for &b in path {
        let digit = |d: u8| if d < 10 { b'0' + d } else { b'A' + d - 10 };
        let escaped = [b'%', digit(b >> 4), digit(b & 0xf)];
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
        out.push(if keep { core::slice::from_ref(&b) } else { &escaped });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (path, query) of `raw`, or None.
    fn dec(raw: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out = vec![0; raw.len() + 1];
        decode(raw, &mut out).map(|t| (t.path.to_vec(), t.query.map(<[u8]>::to_vec)))
    }

    fn path(raw: &str) -> String {
        String::from_utf8_lossy(&dec(raw.as_bytes()).unwrap_or_else(|| panic!("{raw:?} rejected")).0).into_owned()
    }

    fn query(raw: &str) -> Option<String> {
        dec(raw.as_bytes()).unwrap().1.map(|q| String::from_utf8(q).unwrap())
    }

    /// RFC 3986 §5.2.4, as the RFC writes it: two strings, steps A to E.
    fn reference(input: &[u8]) -> Vec<u8> {
        let (mut input, mut output) = (input.to_vec(), Vec::new());
        let pop = |output: &mut Vec<u8>| {
            let at = output.iter().rposition(|&b| b == b'/').unwrap_or(0);
            output.truncate(at);
        };
        while !input.is_empty() {
            if input.starts_with(b"../") {
                input.drain(..3);
            } else if input.starts_with(b"./") || input.starts_with(b"/./") {
                input.drain(..2); // A: "./" goes; B: "/./" becomes "/"
            } else if input == b"/." {
                input = b"/".to_vec();
            } else if input.starts_with(b"/../") {
                input.drain(..3);
                pop(&mut output);
            } else if input == b"/.." {
                input = b"/".to_vec();
                pop(&mut output);
            } else if input == b"." || input == b".." {
                input.clear();
            } else {
                let start = usize::from(input[0] == b'/');
                let end = input[start..].iter().position(|&b| b == b'/').map_or(input.len(), |i| start + i);
                output.extend(input.drain(..end));
            }
        }
        output
    }

    fn removed(p: &[u8]) -> Vec<u8> {
        let mut buf = p.to_vec();
        let n = remove_dot_segments(&mut buf);
        buf.truncate(n);
        buf
    }

    #[test]
    fn origin_form() {
        assert_eq!(dec(b"/"), Some((b"/".to_vec(), None)));
        assert_eq!(path("/hello"), "/hello");
        assert_eq!(path("/a%20b"), "/a b");
        assert_eq!(path("/%41%4a%4A%7e"), "/AJJ~");
        assert_eq!(path("/a+b"), "/a+b"); // `+` is a space only in forms
        assert_eq!(path("/a\\..\\b"), "/a\\..\\b"); // backslash is a byte like any other
        assert_eq!(path("//a//b/"), "//a//b/");
        assert_eq!(path("/caf%C3%A9"), "/café");
        assert_eq!(dec(b"/%c0%ae%c0%ae/x").unwrap().0, b"/\xc0\xae\xc0\xae/x"); // overlong UTF-8: a name
    }

    #[test]
    fn query_and_fragment() {
        assert_eq!(query("/a"), None);
        assert_eq!(query("/a?"), Some("".into()));
        assert_eq!(query("/a?x=1&y=%2e%2e"), Some("x=1&y=%2e%2e".into())); // not decoded
        assert_eq!(query("/a?x?y"), Some("x?y".into()));
        assert_eq!(query("/a?x#f"), Some("x".into()));
        assert_eq!(query("/a#f?x"), None);
        assert_eq!(path("/a%3fb?c"), "/a?b");
        assert_eq!(path("/a?/../../b"), "/a");
        assert_eq!(path("/a#/../b"), "/a");
        assert_eq!(path("/a/..#x"), "/");
        assert_eq!(path("/%3F%23"), "/?#");
        // A `%zz` in the query is not the path's business.
        assert_eq!(path("/a?%zz%00"), "/a");
    }

    #[test]
    fn absolute_form() {
        assert_eq!(dec(b"http://host:8080/a?x"), Some((b"/a".to_vec(), Some(b"x".to_vec()))));
        assert_eq!(path("http://host"), "/");
        assert_eq!(path("http://host:80"), "/");
        assert_eq!(dec(b"http://host?q"), Some((b"/".to_vec(), Some(b"q".to_vec()))));
        assert_eq!(dec(b"http://host#f"), Some((b"/".to_vec(), None)));
        assert_eq!(path("https://[::1]:8443/%2e%2e/%2e%2e/etc/passwd"), "/etc/passwd");
        assert_eq!(path("HTTP://h/a/../../b"), "/b");
        assert_eq!(path("http://h//x"), "//x");
        assert_eq!(path("http://user@h/x"), "/x");
        // The scheme and authority are dropped, not decoded or checked.
        assert_eq!(path("http://%zz/x"), "/x");
        // Neither form.
        for raw in ["*", "host:80", "", "a/b", "http:/x", "mailto:x"] {
            assert_eq!(dec(raw.as_bytes()), None, "{raw}");
        }
    }

    #[test]
    fn invalid_escapes_and_nul() {
        for raw in ["/%", "/a%", "/%4", "/a%4", "/%zz", "/%g0", "/%0g", "/% 1", "/%-1", "/%+1", "/%00", "/a%00.html", "/a\0b", "/%%41"] {
            assert_eq!(dec(raw.as_bytes()), None, "{raw}");
        }
        // Invalid in the path, even if the rest is fine.
        assert_eq!(dec(b"/ok/%zz?x"), None);
        assert_eq!(dec(b"http://h/%"), None);
    }

    #[test]
    fn decoded_once() {
        assert_eq!(path("/%252e%252e/x"), "/%2e%2e/x");
        assert_eq!(path("/%25"), "/%");
        assert_eq!(path("/%2541"), "/%41");
        assert_eq!(path("/%252f"), "/%2f");
    }

    #[test]
    fn dot_segments() {
        let cases = [
            ("/sub/../a.txt", "/a.txt"),
            ("/..", "/"),
            ("/../", "/"),
            ("/../..", "/"),
            ("/../../../etc/passwd", "/etc/passwd"),
            ("/.", "/"),
            ("/./", "/"),
            ("/a/.", "/a/"),
            ("/a/./", "/a/"),
            ("/a/..", "/"),
            ("/a/../", "/"),
            ("/a/b/..", "/a/"),
            ("/a/b/../..", "/"),
            ("/a/b/../../..", "/"),
            ("/a/./b/../c", "/a/c"),
            ("/.../x", "/.../x"),
            ("/..a/..b", "/..a/..b"),
            ("/a./b.", "/a./b."),
            ("/.a/.b", "/.a/.b"),
            ("/a//../b", "/a/b"),
            ("//..", "/"),
            ("/a/b//..//c", "/a/b//c"),
            // Encoded dots and slashes are decoded first, then removed.
            ("/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"),
            ("/%2E%2e", "/"),
            ("/.%2e/x", "/x"),
            ("/sub%2f..%2f..%2fsecret", "/secret"),
            ("/sub%2F%2E%2E%2Fa", "/a"),
            ("/a%2f.", "/a/"),
        ];
        for (raw, want) in cases {
            assert_eq!(path(raw), want, "{raw}");
        }
    }

    /// RFC 3986 §5.4's examples whose merged path starts from `/b/c/d;p`, as the paths they
    /// give: §5.4.1 normal and §5.4.2 abnormal examples.
    #[test]
    fn rfc3986_examples() {
        let cases = [
            ("/b/c/g", "/b/c/g"),
            ("/b/c/./g", "/b/c/g"),
            ("/b/c/g/", "/b/c/g/"),
            ("/g", "/g"),
            ("/b/c/.", "/b/c/"),
            ("/b/c/./", "/b/c/"),
            ("/b/c/..", "/b/"),
            ("/b/c/../", "/b/"),
            ("/b/c/../g", "/b/g"),
            ("/b/c/../..", "/"),
            ("/b/c/../../", "/"),
            ("/b/c/../../g", "/g"),
            ("/b/c/../../../g", "/g"),
            ("/b/c/../../../../g", "/g"),
            ("/./g", "/g"),
            ("/../g", "/g"),
            ("/b/c/g.", "/b/c/g."),
            ("/b/c/.g", "/b/c/.g"),
            ("/b/c/g..", "/b/c/g.."),
            ("/b/c/..g", "/b/c/..g"),
            ("/b/c/./../g", "/b/g"),
            ("/b/c/./g/.", "/b/c/g/"),
            ("/b/c/g/./h", "/b/c/g/h"),
            ("/b/c/g/../h", "/b/c/h"),
            ("/b/c/g;x=1/./y", "/b/c/g;x=1/y"),
            ("/b/c/g;x=1/../y", "/b/c/y"),
            // §5.2.4's own walk-through.
            ("/a/b/c/./../../g", "/a/g"),
        ];
        for (p, want) in cases {
            assert_eq!(removed(p.as_bytes()), want.as_bytes(), "{p}");
            assert_eq!(reference(p.as_bytes()), want.as_bytes(), "reference on {p}");
        }
    }

    /// Every path of up to 7 pieces from `/`, `.`, `..`, `a`, `.a`, and many longer random
    /// ones, against the RFC's algorithm written plainly.
    #[test]
    fn same_as_the_rfc_algorithm() {
        const PIECES: [&[u8]; 5] = [b"/", b".", b"..", b"a", b".a"];
        let check = |p: &[u8]| {
            let got = removed(p);
            assert_eq!(got, reference(p), "{:?}", String::from_utf8_lossy(p));
            assert!(got.starts_with(b"/"));
            assert!(!got.windows(4).any(|w| w == b"/../") && !got.windows(3).any(|w| w == b"/./"));
            assert!(!got.ends_with(b"/..") && !got.ends_with(b"/."));
        };
        let mut count = 0;
        for len in 0..=7u32 {
            for mut k in 0..5usize.pow(len) {
                let mut p = b"/".to_vec();
                for _ in 0..len {
                    p.extend_from_slice(PIECES[k % 5]);
                    k /= 5;
                }
                check(&p);
                count += 1;
            }
        }
        // Longer ones from a small xorshift generator, so the run is the same each time.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            let mut p = b"/".to_vec();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                p.extend_from_slice(PIECES[(x % 5) as usize]);
            }
            check(&p);
            count += 1;
        }
        assert!(count > 190_000);
    }

    #[test]
    fn out_too_small_is_none_not_a_panic() {
        let mut out = [0u8; 3];
        assert!(decode(b"/abcd", &mut out).is_none());
        assert!(decode(b"/abc", &mut out).is_none());
        let mut out = [0u8; 4];
        assert_eq!(decode(b"/abc", &mut out).unwrap().path, b"/abc");
        // Escapes shrink: `%41%42` needs two bytes.
        let mut out = [0u8; 3];
        assert_eq!(decode(b"/%41%42", &mut out).unwrap().path, b"/AB");
        let mut out = [0u8; 0];
        assert!(decode(b"/", &mut out).is_none());
        assert!(decode(b"http://h", &mut out).is_none());
    }

    #[test]
    fn hidden() {
        for p in ["/.git", "/.git/config", "/a/.env", "/a/.b/c", "/.", "/..", "/a/.well-known", "/.well-known/.x", "/.well-knownx", "/.Well-known/x", "/.well-known/a/.b"] {
            assert!(is_hidden(p.as_bytes()), "{p}");
        }
        for p in ["/", "/a", "/a.b", "/a./b", "/a/b.", "/.well-known", "/.well-known/", "/.well-known/acme-challenge/x", "/a..b", "//a"] {
            assert!(!is_hidden(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn encoding() {
        let enc = |p: &[u8]| {
            let mut b = Buf::new();
            encode(&mut b, p);
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(enc(b"/a-b_c.d~e/AZaz09"), "/a-b_c.d~e/AZaz09");
        assert_eq!(enc(b"/<b>&amp.txt"), "/%3Cb%3E%26amp.txt");
        assert_eq!(enc(b"/a b?c#d%e\"f'g"), "/a%20b%3Fc%23d%25e%22f%27g");
        assert_eq!(enc("/café".as_bytes()), "/caf%C3%A9");
        assert_eq!(enc(b"\x00\x1f\x7f\xff+:@!"), "%00%1F%7F%FF%2B%3A%40%21");
        assert_eq!(enc(b""), "");
        // What is encoded decodes back to itself, whatever the bytes (except NUL).
        for b in 1..=255u8 {
            let p = [b'/', b, b'x'];
            let e = enc(&p);
            let want = removed(&p);
            assert_eq!(dec(e.as_bytes()).unwrap().0, want, "{b:#x}");
        }
    }
}
