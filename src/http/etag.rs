//! Entity tags (RFC 9110 §8.8.3): the one a file gets, and the comparison of the lists in
//! `If-None-Match`, `If-Match` and `If-Range` with it (§8.8.3.2, §13.1.1, §13.1.2). Bytes
//! only: no syscalls.

use crate::buf::Buf;

/// Appends the strong entity tag of a file, quotes included:
/// `"<inode>-<size>-<mtime seconds>.<mtime nanoseconds>"`, each in hex (a negative mtime
/// as its two's complement). A file replaced or rewritten changes one of them.
pub fn write(out: &mut Buf, ino: u64, size: u64, mtime: i64, mtime_nsec: u32) {
    out.byte(b'"').hex(ino).byte(b'-').hex(size).byte(b'-').hex(mtime as u64);
    out.byte(b'.').hex(u64::from(mtime_nsec)).byte(b'"');
}

/// Whether `list` (`*`, or a comma-separated list of entity-tags, each maybe `W/"…"`)
/// matches `etag`, a strong tag as `write` writes it. `weak`: the weak comparison of
/// `If-None-Match`, which ignores `W/`; otherwise the strong one (`If-Match`, `If-Range`),
/// which no `W/` tag passes. `*` matches in both: a caller for whom it is invalid
/// (`If-Range`) must check first. A list that is not valid syntax matches nothing.
pub fn matches(list: &[u8], etag: &[u8], weak: bool) -> bool {
    if list.trim_ascii() == b"*" {
        return true;
    }
    // `#entity-tag` read in one pass, a state per place in an element; any byte out of
    // place makes the whole list garbage. Empty elements and whitespace between elements
    // are allowed (RFC 9110 §5.6.1).
    const BETWEEN: u8 = 0; // before an element: whitespace, commas
    const W: u8 = 1; // after `W`
    const SLASH: u8 = 2; // after `W/`
    const INSIDE: u8 = 3; // in the quotes, which opened at `start`
    const AFTER: u8 = 4; // after the closing quote: whitespace, then a comma
    let (mut state, mut start, mut is_weak, mut found) = (BETWEEN, 0, false, false);
    for (i, &b) in list.iter().enumerate() {
        state = match (state, b) {
            (BETWEEN | AFTER, b' ' | b'\t') => state,
            (BETWEEN | AFTER, b',') => BETWEEN,
            (BETWEEN, b'W') => W,
            (W, b'/') => SLASH,
            (BETWEEN | SLASH, b'"') => {
                (start, is_weak) = (i, state == SLASH);
                INSIDE
            }
            (INSIDE, b'"') => {
                found |= list.get(start..=i) == Some(etag) && (weak || !is_weak);
                AFTER
            }
            // etagc: a visible byte but `"`, or obs-text.
            (INSIDE, _) if b > b' ' && b != 0x7f => INSIDE,
            _ => return false,
        };
    }
    found && (state == BETWEEN || state == AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &[u8] = b"\"1a-2b-3c.4d\"";

    fn m(list: &str, weak: bool) -> bool {
        matches(list.as_bytes(), TAG, weak)
    }

    #[test]
    fn written() {
        let text = |ino, size, mtime, nsec| {
            let mut b = Buf::new();
            write(&mut b, ino, size, mtime, nsec);
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(text(0x1a, 0x2b, 0x3c, 0x4d), "\"1a-2b-3c.4d\"");
        assert_eq!(text(0, 0, 0, 0), "\"0-0-0.0\"");
        assert_eq!(text(1_234_567, 14, 1_795_391_999, 999_999_999), "\"12d687-e-6b0381ff.3b9ac9ff\"");
        assert_eq!(text(u64::MAX, u64::MAX, i64::MAX, u32::MAX), "\"ffffffffffffffff-ffffffffffffffff-7fffffffffffffff.ffffffff\"");
        assert_eq!(text(1, 2, -1, 0), "\"1-2-ffffffffffffffff.0\"");
        // What is written is a valid entity-tag that matches itself, strongly.
        let tag = text(7, 8, -9, 10);
        assert!(matches(tag.as_bytes(), tag.as_bytes(), false));
        assert!(matches(format!("W/{tag}").as_bytes(), tag.as_bytes(), true));
    }

    #[test]
    fn strong_and_weak() {
        assert!(m("\"1a-2b-3c.4d\"", false));
        assert!(m("\"1a-2b-3c.4d\"", true));
        assert!(!m("W/\"1a-2b-3c.4d\"", false));
        assert!(m("W/\"1a-2b-3c.4d\"", true));
        assert!(!m("\"1a-2b-3c.4e\"", true));
        assert!(!m("\"1A-2B-3C.4D\"", true)); // opaque: compared byte for byte
        assert!(!m("\"1a-2b-3c.4d", true));
        assert!(!m("1a-2b-3c.4d", true));
        assert!(!m("\"\"", true));
        assert!(!m("w/\"1a-2b-3c.4d\"", true)); // `W/` is case-sensitive
    }

    #[test]
    fn star() {
        for weak in [false, true] {
            assert!(m("*", weak));
            assert!(m(" * ", weak));
            assert!(!m("**", weak));
            assert!(!m("*, \"1a-2b-3c.4d\"", weak)); // `*` is the whole field or nothing
            assert!(!m("\"x\", *", weak));
            assert!(!m("W/*", weak));
        }
    }

    #[test]
    fn lists() {
        assert!(m("\"x\", \"1a-2b-3c.4d\"", false));
        assert!(m("\"1a-2b-3c.4d\",\"x\"", false));
        assert!(m("\"a\" ,\t\"b\" , W/\"1a-2b-3c.4d\"", true));
        assert!(!m("\"a\" , \"b\" , W/\"1a-2b-3c.4d\"", false));
        assert!(m(",, \"1a-2b-3c.4d\" ,,", false));
        assert!(!m("\"x\", \"y\"", true));
        assert!(!m("", true));
        assert!(!m(" , ,", true));
        // A comma inside a tag is part of it.
        assert!(!m("\"1a-2b,\"1a-2b-3c.4d\"", true));
        assert!(matches(b"\"x\", \"a,b\"", b"\"a,b\"", false));
        assert!(matches(b"\"\x80\xff\"", b"\"\x80\xff\"", false)); // obs-text
    }

    #[test]
    fn garbage_matches_nothing() {
        for list in [
            "\"1a-2b-3c.4d\" x",
            "\"1a-2b-3c.4d\"\"x\"",
            "\"1a-2b-3c.4d\" \"x\"",
            "x, \"1a-2b-3c.4d\"",
            "\"1a-2b-3c.4d\", x",
            "\"1a-2b-3c.4d\", \"x",
            "\"1a-2b-3c.4d\", W/",
            "\"1a-2b-3c.4d\", W/x",
            "W/ \"1a-2b-3c.4d\"",
            "W\"1a-2b-3c.4d\"",
            "\"1a-2b-3c.4d\"; q=1",
            "\"a b\", \"1a-2b-3c.4d\"",
            "\"a\tb\", \"1a-2b-3c.4d\"",
            "\"a\x7fb\", \"1a-2b-3c.4d\"",
            "\"a\0b\", \"1a-2b-3c.4d\"",
        ] {
            assert!(!m(list, true), "{list:?}");
            assert!(!m(list, false), "{list:?}");
        }
    }
}
