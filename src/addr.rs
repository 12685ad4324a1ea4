//! IP addresses as text: written for the access log and error messages, read from
//! `--bind`. Neither uses `core::fmt` or `core::net`'s parser: together they would be
//! a tenth of the binary.

use crate::buf::{Buf, split};
use core::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Reads an IPv4 (`127.0.0.1`) or IPv6 (`::1`, `::ffff:1.2.3.4`) literal, accepting
/// exactly what `core::net::IpAddr`'s parser accepts.
pub fn parse(s: &[u8]) -> Option<IpAddr> {
    if s.iter().any(|&b| b == b':') { parse_v6(s).map(|g| IpAddr::V6(g.into())) } else { parse_v4(s).map(|o| IpAddr::V4(o.into())) }
}

/// Four decimal octets; no leading zeros (they read as octal elsewhere).
fn parse_v4(s: &[u8]) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = split(s, b'.');
    for octet in octets.iter_mut() {
        let part = parts.next()?;
        let leading_zero = part.len() > 1 && part.first() == Some(&b'0');
        if part.is_empty() || part.len() > 3 || leading_zero || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *octet = u8::try_from(part.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'))).ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// Eight groups of 1-4 hex digits, at most one `::` standing for one or more zero
/// groups, and an IPv4 address in place of the last two groups.
fn parse_v6(s: &[u8]) -> Option<[u16; 8]> {
    let (head, tail) = match s.windows(2).position(|w| w == b"::") {
        Some(i) => (s.get(..i)?, Some(s.get(i + 2..)?)),
        None => (s, None),
    };
    let mut groups = [0u16; 8];
    let n_head = read_groups(head, &mut groups, tail.is_none())?;
    let Some(tail) = tail else {
        return (n_head == 8).then_some(groups);
    };
    let mut rest = [0u16; 8];
    let n_tail = read_groups(tail, &mut rest, true)?;
    if n_head + n_tail > 7 {
        return None;
    }
    for (dst, src) in groups.iter_mut().skip(8 - n_tail).zip(rest) {
        *dst = src;
    }
    Some(groups)
}

/// Reads `:`-separated groups into `out`; returns how many it filled. The last part
/// may be IPv4 (two groups) when `last` says this part ends the address.
fn read_groups(s: &[u8], out: &mut [u16; 8], last: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut parts = split(s, b':').peekable();
    while let Some(part) = parts.next() {
        if last && parts.peek().is_none() && part.iter().any(|&b| b == b'.') {
            let [a, b, c, d] = parse_v4(part)?;
            *out.get_mut(n)? = u16::from_be_bytes([a, b]);
            *out.get_mut(n + 1)? = u16::from_be_bytes([c, d]);
            return Some(n + 2);
        }
        if part.is_empty() || part.len() > 4 || !part.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let hex = |d: &u8| u16::from((*d as char).to_digit(16).unwrap_or(0) as u8);
        *out.get_mut(n)? = part.iter().fold(0, |v, d| v << 4 | hex(d));
        n += 1;
    }
    Some(n)
}

/// Appends `addr` as `1.2.3.4:80` or `[2001:db8::1]:80` (RFC 5952 text for IPv6).
pub fn write(out: &mut Buf, addr: &SocketAddr) {
    match addr {
        SocketAddr::V4(a) => {
            write_v4(out, a.ip().octets());
        }
        SocketAddr::V6(a) => {
            out.byte(b'[');
            write_v6(out, a.ip());
            out.byte(b']');
        }
    }
    out.byte(b':').num(u64::from(addr.port()));
}

/// Appends the address alone, as CGI's `REMOTE_ADDR` has it: `1.2.3.4`, `2001:db8::1`.
pub fn write_ip(out: &mut Buf, ip: &IpAddr) {
    match ip {
        IpAddr::V4(ip) => write_v4(out, ip.octets()),
        IpAddr::V6(ip) => write_v6(out, ip),
    }
}

fn write_v4(out: &mut Buf, octets: [u8; 4]) {
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            out.byte(b'.');
        }
        out.num(u64::from(o));
    }
}

/// RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups
/// (the first of equals) shown as `::`, and IPv4-mapped addresses (what a dual-stack
/// `::` listener sees for IPv4 clients) as `::ffff:1.2.3.4`.
fn write_v6(out: &mut Buf, ip: &Ipv6Addr) {
    if let Some(v4) = ip.to_ipv4_mapped() {
        out.push(b"::ffff:");
        return write_v4(out, v4.octets());
    }
    let groups = ip.segments();
    let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
    for (i, g) in groups.iter().enumerate() {
        if *g == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best, best_len) = (run, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let skip = if best_len >= 2 { best..best + best_len } else { 0..0 };
    let mut i = 0;
    while i < groups.len() {
        if i == skip.start && !skip.is_empty() {
            out.push(b"::");
            i = skip.end;
            continue;
        }
        if i > 0 && i != skip.end {
            out.byte(b':');
        }
        out.hex(u64::from(groups.get(i).copied().unwrap_or(0)));
        i += 1;
    }
}

/// A number that stands for `ip` when counting connections from one address: an IPv4
/// address and its IPv4-mapped IPv6 form are the same; never 0.
pub fn key(ip: &IpAddr) -> u64 {
    let v6 = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    };
    let n = u128::from_be_bytes(v6.octets());
    ((n >> 64) as u64 ^ n as u64) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut b = Buf::new();
        write(&mut b, &s.parse().unwrap());
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn parses_what_std_parses() {
        for s in [
            "0.0.0.0", "127.0.0.1", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4",
            "1..2.3", "", ".", "1.2.3.4 ", "a.b.c.d", "::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::8", ":::",
            "1:::2", "1::2::3", ":1", "1:", "fe80::1", "FE80::ABCD", "12345::", "::ffff:127.0.0.1",
            "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1.2.3.4::", "::1.2.3.4:5",
            "2001:db8::1:0:0:1", "0:0:0:0:0:0:0:0", "g::", "::%1", "[::1]", "1:2:3:4:5::1.2.3.4",
        ] {
            assert_eq!(parse(s.as_bytes()), s.parse::<IpAddr>().ok(), "{s:?}");
        }
    }

    #[test]
    fn matches_std_display() {
        for s in [
            "127.0.0.1:8888",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[::]:80",
            "[::1]:80",
            "[2001:db8::1]:1",
            "[2001:db8:0:0:1:0:0:1]:2",
            "[2001:0:0:1:0:0:0:1]:3",
            "[fe80::1:0:0:0]:4",
            "[1:2:3:4:5:6:7:8]:5",
            "[1:0:3:4:5:6:7:8]:6",
            "[::ffff:127.0.0.1]:7",
        ] {
            let addr: SocketAddr = s.parse().unwrap();
            assert_eq!(text(s), addr.to_string(), "{s}");
        }
    }
}
