//! `--probe URL`: a health check's client, in the server's own binary, for images that
//! hold nothing else (a `FROM scratch` image has no curl or wget): one `GET`, exit 0 on a
//! 2xx or 3xx status, 1 on anything else (another status, a refusal, a reset, no answer
//! within `--timeout`), with one line on stderr saying why. No libc, no allocation.
//!
//! `URL` is `http://HOST[:PORT][/PATH]`, HOST an IPv4 literal, an IPv6 literal in
//! brackets, or `localhost` (127.0.0.1: a probe has no resolver to ask).
//!
//! Syscalls: `socket`, `setsockopt` (`SO_SNDTIMEO` and `SO_RCVTIMEO`: the connect, the
//! send and each read end by `--timeout`), `connect`, `sendto`, `recvfrom` until the
//! status line is whole, `close`.

use crate::addr;
use crate::buf::Buf;
use crate::errno;
use crate::log;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use rustix::io::Errno;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, connect, recv, send, socket_with};

/// A probe's URL, taken apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` field: the URL's host and port, as written.
    pub host: &'a [u8],
    /// The request target: `/` if the URL has no path.
    pub path: &'a [u8],
}

/// `http://HOST[:PORT][/PATH]`, or `None`. The path must be printable ASCII without
/// spaces: it goes into the request line as it is.
pub fn parse(url: &[u8]) -> Option<Url<'_>> {
    let rest = url.strip_prefix(b"http://")?;
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    let path = if path.is_empty() { &b"/"[..] } else { path };
    if !path.iter().all(|&b| b > b' ' && b < 0x7f) {
        return None;
    }
    // `[v6]:port`, `v4:port`, `localhost:port`; the port is 80 if none.
    let (name, port) = match host.strip_prefix(b"[") {
        Some(v6) => {
            let close = v6.iter().position(|&b| b == b']')?;
            (v6.get(..close)?, v6.get(close + 1..)?)
        }
        None => {
            let colon = host.iter().position(|&b| b == b':').unwrap_or(host.len());
            (host.get(..colon)?, host.get(colon..)?)
        }
    };
    let port = match port {
        [] => 80,
        [b':', digits @ ..] => crate::config::number(digits, 1, u16::MAX.into())? as u16,
        _ => return None,
    };
    let ip = match name {
        b"localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => addr::parse(name).filter(|ip| ip.is_ipv6() == host.starts_with(b"["))?,
    };
    Some(Url { addr: SocketAddr::new(ip, port), host, path })
}

/// Probes `url` (`raw` as given, for the message), each step within `timeout`; returns
/// the exit status.
pub fn run(raw: &[u8], url: &Url<'_>, timeout: u32) -> i32 {
    match get(url, Duration::from_secs(timeout.into())) {
        Ok(code) if (200..400).contains(&code) => 0,
        result => {
            log::event(&mut |line| {
                line.push(b"probe ").push(raw).push(b": ");
                match result {
                    Ok(code) => {
                        line.push(b"status ").num(code.into());
                    }
                    Err(Failure::Call(e)) if e.errno == Errno::AGAIN || e.errno == Errno::INPROGRESS => {
                        line.push(b"no answer within ").num(timeout.into()).push(b" s (--timeout)");
                    }
                    Err(Failure::Call(e)) => e.write(line),
                    Err(Failure::NoStatus) => {
                        line.push(b"no HTTP status line in the answer");
                    }
                }
            });
            1
        }
    }
}

/// Why a probe got no status.
enum Failure {
    /// A syscall failed (a refusal, a reset, a timeout: EAGAIN).
    Call(errno::Error),
    /// The server closed, or said something that is no HTTP/1.x status line.
    NoStatus,
}

/// One GET of `url`; the status code.
fn get(url: &Url<'_>, timeout: Duration) -> Result<u16, Failure> {
    let fail = |call| move |e| Failure::Call(errno::Error { call, errno: e });
    let family = if url.addr.is_ipv6() { AddressFamily::INET6 } else { AddressFamily::INET };
    let conn = socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None).map_err(fail("socket"))?;
    // On Linux SO_SNDTIMEO bounds `connect` too.
    set_socket_timeout(&conn, Timeout::Send, Some(timeout)).map_err(fail("setsockopt"))?;
    set_socket_timeout(&conn, Timeout::Recv, Some(timeout)).map_err(fail("setsockopt"))?;
    connect(&conn, &url.addr).map_err(fail("connect"))?;
    let mut request = Buf::new();
    request.push(b"GET ").push(url.path).push(b" HTTP/1.1\r\nHost: ").push(url.host);
    request.push(b"\r\nUser-Agent: forkhttpd-probe\r\nConnection: close\r\n\r\n");
    if request.is_cut() {
        return Err(Failure::NoStatus);
    }
    let mut bytes = request.as_bytes();
    while !bytes.is_empty() {
        let n = send(&conn, bytes, SendFlags::NOSIGNAL).map_err(fail("sendto"))?;
        bytes = bytes.get(n..).unwrap_or(&[]);
    }
    // `HTTP/1.x NNN`: twelve bytes are all it takes.
    let mut answer = [0u8; 12];
    let mut got = 0;
    while got < answer.len() {
        match recv(&conn, answer.get_mut(got..).unwrap_or(&mut []), RecvFlags::empty()) {
            Ok((0, _)) => return Err(Failure::NoStatus),
            Ok((n, _)) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(fail("recvfrom")(e)),
        }
    }
    status(&answer).ok_or(Failure::NoStatus)
}

/// The code of a status line's start, `HTTP/1.x NNN`.
fn status(line: &[u8; 12]) -> Option<u16> {
    let (version, code) = line.split_at(9);
    let valid = version.starts_with(b"HTTP/1.") && version.ends_with(b" ");
    valid.then(|| crate::http::request::decimal(code)).flatten().map(|c| c as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = |s: &'static str| parse(s.as_bytes());
        assert_eq!(
            url("http://127.0.0.1:8888/health"),
            Some(Url { addr: "127.0.0.1:8888".parse().unwrap(), host: b"127.0.0.1:8888", path: b"/health" })
        );
        assert_eq!(url("http://[::1]:80/").map(|u| u.addr), Some("[::1]:80".parse().unwrap()));
        assert_eq!(url("http://localhost").map(|u| (u.addr, u.path)), Some(("127.0.0.1:80".parse().unwrap(), &b"/"[..])));
        assert_eq!(url("http://10.0.0.1/a?b=c").map(|u| u.path), Some(&b"/a?b=c"[..]));
        for bad in ["https://127.0.0.1/", "127.0.0.1:80", "http://example.com/", "http://::1/", "http://[127.0.0.1]/", "http://1.2.3.4:0/", "http://1.2.3.4:65536/", "http://1.2.3.4/a b", "http://1.2.3.4:x/"] {
            assert_eq!(url(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(status(b"HTTP/1.1 200"), Some(200));
        assert_eq!(status(b"HTTP/1.0 503"), Some(503));
        assert_eq!(status(b"HTTP/2.0 200"), None);
        assert_eq!(status(b"SSH-2.0-Open"), None);
    }
}
