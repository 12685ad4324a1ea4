//! `Accept-Encoding` (RFC 9110 §12.5.3): which precompressed twin of a file, if any, the
//! client takes best. The twins are `FILE.br`, `FILE.zst` and `FILE.gz`, made ahead of
//! time (`brotli -k`, `zstd -k`, `gzip -k`); the server compresses nothing itself.

use super::request::is;

/// A content coding a twin may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coding {
    /// Its name in `Accept-Encoding` and `Content-Encoding`.
    pub name: &'static [u8],
    /// The twin's suffix.
    pub suffix: &'static [u8],
}

/// The codings, in the order a tie of q-values is broken: the smaller file first.
pub const CODINGS: [Coding; 3] = [
    Coding { name: b"br", suffix: b".br" },
    Coding { name: b"zstd", suffix: b".zst" },
    Coding { name: b"gzip", suffix: b".gz" },
];

/// The codings `accept` takes, best first: at most three, each with a q-value above 0
/// (its own, else `*`'s). `q=0` refuses; a coding not named, with no `*`, is not taken.
pub fn preferred(accept: &[u8]) -> impl Iterator<Item = Coding> {
    // Thousandths, as q-values have at most three decimals; -1: not named.
    let mut q = [-1i32; 3];
    let mut any = -1;
    for item in accept.split(|&b| b == b',') {
        let mut parts = item.split(|&b| b == b';').map(<[u8]>::trim_ascii);
        let name = parts.next().unwrap_or(&[]);
        let weight = parts.find_map(|p| p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q="))).map_or(1000, qvalue);
        match CODINGS.iter().position(|c| is(name, c.name)) {
            Some(i) => q[i] = weight,
            None if name == b"*" => any = weight,
            None => {}
        }
    }
    let q = q.map(|v| if v < 0 { any } else { v });
    // Best first; a stable order keeps br, zstd, gzip among equals.
    // Best first; among equals br, zstd, gzip (an insertion sort of three, stable).
    let mut order = [0usize, 1, 2];
    for i in 1..order.len() {
        let mut j = i;
        while j > 0 && q.get(order[j]) > q.get(order[j - 1]) {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    order.into_iter().filter_map(move |i| CODINGS.get(i).filter(|_| q.get(i).is_some_and(|&q| q > 0)).copied())
}

/// `0`, `0.5`, `1.000` as thousandths; anything else counts as 0 (refused), so that a
/// malformed weight never makes a coding preferred.
fn qvalue(v: &[u8]) -> i32 {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (v.get(..dot).unwrap_or(v), v.get(dot + 1..).unwrap_or(&[])),
        None => (v, &[][..]),
    };
    if int.len() != 1 || frac.len() > 3 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return 0;
    }
    // `0.5` is `0` `5` `0` `0`: the digits, padded to four, in decimal.
    let digits = int.iter().chain(frac).copied().chain([b'0'; 3]).take(4);
    digits.fold(0, |n, d| n * 10 + i32::from(d - b'0')).min(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(accept: &str) -> Vec<&'static str> {
        preferred(accept.as_bytes()).map(|c| core::str::from_utf8(c.name).unwrap()).collect()
    }

    #[test]
    fn q_values_then_br_zstd_gzip() {
        assert_eq!(names("gzip, deflate, br, zstd"), ["br", "zstd", "gzip"]);
        assert_eq!(names("gzip"), ["gzip"]);
        assert_eq!(names("GZIP"), ["gzip"]);
        assert_eq!(names("br;q=0.5, gzip"), ["gzip", "br"]);
        assert_eq!(names("br;q=0.5, gzip;q=0.8, zstd;q=0.9"), ["zstd", "gzip", "br"]);
        assert_eq!(names("*"), ["br", "zstd", "gzip"]);
        assert_eq!(names("deflate, *;q=0.1"), ["br", "zstd", "gzip"]);
        assert_eq!(names("*;q=0.1, gzip"), ["gzip", "br", "zstd"]);
        assert_eq!(names(" gzip , br"), ["br", "gzip"]);
        assert_eq!(names("gzip; q=1"), ["gzip"]);
        assert_eq!(names("gzip;q=0.5"), ["gzip"]);
    }

    #[test]
    fn q_zero_refuses_and_nothing_else_is_taken() {
        for refuses in ["", "identity", "deflate", "gzip;q=0", "gzip; q=0.000", "gzip;Q=0.0, deflate", "x-gzip", "gzipx", "*;q=0", "br;q=0, *", "gzip;q=2.5x"] {
            let refused = names(refuses);
            assert!(!refused.contains(&"gzip") || refuses == "br;q=0, *", "{refuses}: {refused:?}");
        }
        assert_eq!(names("br;q=0, *"), ["zstd", "gzip"]);
        assert_eq!(names("*;q=0, gzip"), ["gzip"]);
    }
}
