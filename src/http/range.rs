//! The `Range` header (RFC 9110 §14.1.2), one byte range of it: `bytes=a-b`, `bytes=a-`,
//! `bytes=-n`. Bytes only: no syscalls.

use super::request::{decimal, is};

/// What a `Range` header asks of a representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// No range, or one to ignore: send the whole representation (200).
    Whole,
    /// Bytes `start..=end`, within the representation (206).
    Part {
        /// The first byte.
        start: u64,
        /// The last byte, included.
        end: u64,
    },
    /// A valid range that selects nothing of it (416).
    Unsatisfiable,
}

/// The `Range` header value `value` against a representation of `len` bytes.
///
/// The unit `bytes` in any case, `=` right after it, the range-spec with optional
/// whitespace around it. A last-byte past the end is clamped to `len - 1`; `bytes=-n`
/// with `n >= len` is the whole as a `Part`. A first-byte at or past `len`, `bytes=-0`
/// and any valid range of an empty representation are `Unsatisfiable`. Anything else is
/// `Whole`, ignored as RFC 9110 §14.2 allows: invalid syntax, another unit, a first-byte
/// after the last-byte, a number over u64, several ranges (a comma).
pub fn parse(value: &[u8], len: u64) -> Range {
    spec(value, len).unwrap_or(Range::Whole)
}

fn spec(value: &[u8], len: u64) -> Option<Range> {
    let (unit, set) = value.split_at_checked(value.iter().position(|&b| b == b'=')?)?;
    if !is(unit, b"bytes") {
        return None;
    }
    // `=` then OWS; the lexer lets no other whitespace into a field value.
    let set = set.get(1..)?.trim_ascii();
    let dash = set.iter().position(|&b| b == b'-')?;
    let (first, last) = (set.get(..dash)?, set.get(dash + 1..)?);
    let part = |start: u64, end: u64| Some(if start >= len { Range::Unsatisfiable } else { Range::Part { start, end: end.min(len - 1) } });
    if first.is_empty() {
        // suffix-range: the last `n` bytes.
        let n = decimal(last)?;
        return if n == 0 { Some(Range::Unsatisfiable) } else { part(len.saturating_sub(n), u64::MAX) };
    }
    let start = decimal(first)?;
    let end = if last.is_empty() { u64::MAX } else { decimal(last)? };
    if start > end {
        return None;
    }
    part(start, end)
}

#[cfg(test)]
mod tests {
    use super::Range::{self, *};
    use super::parse;

    fn part(start: u64, end: u64) -> Range {
        Part { start, end }
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(parse(b"bytes=0-0", 10), part(0, 0));
        assert_eq!(parse(b"bytes=0-9", 10), part(0, 9));
        assert_eq!(parse(b"bytes=2-5", 10), part(2, 5));
        assert_eq!(parse(b"bytes=9-9", 10), part(9, 9));
        assert_eq!(parse(b"bytes=3-", 10), part(3, 9));
        assert_eq!(parse(b"bytes=0-", 10), part(0, 9));
        assert_eq!(parse(b"bytes=9-", 10), part(9, 9));
        assert_eq!(parse(b"bytes=-1", 10), part(9, 9));
        assert_eq!(parse(b"bytes=-3", 10), part(7, 9));
        assert_eq!(parse(b"bytes=-10", 10), part(0, 9));
        // RFC 9110 §14.1.2's examples on a 10000-byte representation.
        assert_eq!(parse(b"bytes=0-499", 10000), part(0, 499));
        assert_eq!(parse(b"bytes=500-999", 10000), part(500, 999));
        assert_eq!(parse(b"bytes=-500", 10000), part(9500, 9999));
        assert_eq!(parse(b"bytes=9500-", 10000), part(9500, 9999));
    }

    #[test]
    fn clamped() {
        assert_eq!(parse(b"bytes=5-100", 10), part(5, 9));
        assert_eq!(parse(b"bytes=0-10", 10), part(0, 9));
        assert_eq!(parse(b"bytes=-11", 10), part(0, 9));
        assert_eq!(parse(b"bytes=-18446744073709551615", 10), part(0, 9));
        assert_eq!(parse(b"bytes=0-18446744073709551615", 10), part(0, 9));
        assert_eq!(parse(b"bytes=1-1", 1), Unsatisfiable);
        assert_eq!(parse(b"bytes=0-5", 1), part(0, 0));
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse(b"bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=11-11", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=18446744073709551615-", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse(b"bytes=-000", 10), Unsatisfiable);
        // An empty representation has no byte to give.
        for value in ["bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-0", "bytes=5-9"] {
            assert_eq!(parse(value.as_bytes(), 0), Unsatisfiable, "{value}");
        }
    }

    #[test]
    fn ignored() {
        for value in [
            "", "bytes", "bytes=", "bytes=-", "bytes=--1", "bytes=1", "bytes=a-b", "bytes=1-a", "bytes=0x1-2",
            "bytes=+1-2", "bytes=1-+2", "bytes=1.5-2", "bytes=5-4", "bytes=1-2-3", "bytes=-5-", "bytes=1 -2",
            "bytes=1- 2", "bytes =0-1", "bytes= =0-1", " bytes=0-1", "bytes:0-1", "byte=0-1", "bytesx=0-1",
            "items=0-1", "none", "=0-1",
            // Several ranges: the whole file, not multipart.
            "bytes=0-1,3-4", "bytes=0-1, 3-4", "bytes=0-1,", "bytes=,0-1", "bytes=-1,-2",
            // Numbers over u64.
            "bytes=18446744073709551616-", "bytes=0-18446744073709551616", "bytes=-18446744073709551616",
            "bytes=99999999999999999999999999999-1",
        ] {
            assert_eq!(parse(value.as_bytes(), 10), Whole, "{value:?}");
            assert_eq!(parse(value.as_bytes(), 0), Whole, "{value:?} on empty");
        }
        // Even when the inverted range lies past the end.
        assert_eq!(parse(b"bytes=20-15", 10), Whole);
    }

    #[test]
    fn unit_case_and_whitespace() {
        assert_eq!(parse(b"BYTES=0-1", 10), part(0, 1));
        assert_eq!(parse(b"Bytes=0-1", 10), part(0, 1));
        assert_eq!(parse(b"bytes= 0-1", 10), part(0, 1));
        assert_eq!(parse(b"bytes=0-1 ", 10), part(0, 1));
        assert_eq!(parse(b"bytes=\t -2 \t", 10), part(8, 9));
        assert_eq!(parse(b"bytes=007-008", 10), part(7, 8));
    }

    #[test]
    fn big_representations() {
        let max = u64::MAX;
        assert_eq!(parse(b"bytes=0-", max), part(0, max - 1));
        assert_eq!(parse(b"bytes=-1", max), part(max - 1, max - 1));
        assert_eq!(parse(b"bytes=18446744073709551614-18446744073709551615", max), part(max - 1, max - 1));
        assert_eq!(parse(b"bytes=18446744073709551615-", max), Unsatisfiable);
        assert_eq!(parse(b"bytes=4294967296-4294967297", 1 << 33), part(1 << 32, (1 << 32) + 1));
    }

    /// Whatever the value and length, a `Part` lies within the representation.
    #[test]
    fn parts_are_within() {
        let nums = ["", "0", "1", "2", "9", "10", "11", "18446744073709551615", "18446744073709551616"];
        for len in [0, 1, 2, 10, 11, u64::MAX - 1, u64::MAX] {
            for a in nums {
                for b in nums {
                    if let Part { start, end } = parse(format!("bytes={a}-{b}").as_bytes(), len) {
                        assert!(start <= end && end < len, "{a}-{b} of {len}");
                    }
                }
            }
        }
    }
}
