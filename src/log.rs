//! What forkhttpd prints: the start-up line, the access log (in three formats), and
//! one-line events and errors. Each line is assembled in a buffer and leaves in a single
//! `write(2)`: lines up to PIPE_BUF (4096) bytes are written atomically, so children
//! writing at once never interleave. Every byte that came from a request is escaped.
#![allow(unsafe_code)] // unsafe: borrowing descriptors 1 and 2, which nothing here owns.

use crate::addr;
use crate::buf::{Buf, ELLIPSIS};
use crate::clock;
use crate::http::date;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};
use core::time::Duration;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// How the access log and the events are written (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The learner's line: `PEER "REQUEST" STATUS BYTES pid=PID`; events as they are.
    #[default]
    Short,
    /// NCSA Combined, as Apache and nginx write it; events with a `[time]` first.
    Combined,
    /// One JSON object a line; events with an RFC 3339 time first.
    Json,
}

/// The format, set once at start-up (0: short), before any fork: children read it.
static FORMAT: AtomicU8 = AtomicU8::new(0);

/// Sets the format of every line from now on.
pub fn set_format(format: Format) {
    FORMAT.store(format as u8, Relaxed);
}

fn format() -> Format {
    match FORMAT.load(Relaxed) {
        1 => Format::Combined,
        2 => Format::Json,
        _ => Format::Short,
    }
}

/// Writes `line` on stdout: the start-up line, the access log.
pub fn stdout(line: &[u8]) {
    // SAFETY: the borrow lasts one `write`. Descriptor 1 is whatever the caller left
    // there; if it is not open, the write fails with EBADF, which `emit` ignores.
    emit(unsafe { rustix::stdio::stdout() }, line);
}

/// Writes `line` on stderr: events and errors.
pub fn stderr(line: &[u8]) {
    // SAFETY: as for `stdout`, with descriptor 2.
    emit(unsafe { rustix::stdio::stderr() }, line);
}

/// One `write(2)`, retried only if a signal interrupted it before anything was written.
/// A log that cannot be written (closed stdout, full disk) must not stop the server.
fn emit(fd: BorrowedFd<'_>, line: &[u8]) {
    while let Err(Errno::INTR) = rustix::io::write(fd, line) {}
}

/// An event of the server's own, on stderr: `forkhttpd: ` and what `build` appends.
/// Async-signal-safe: the reaper logs crashed children with it. (`dyn`: one copy of this
/// function serves every call site.)
#[inline(never)]
pub fn event(build: &mut dyn FnMut(&mut Buf)) {
    let mut line = Buf::new();
    // For a tool that reads the lines: their time first (the vDSO's clock, no syscall).
    match format() {
        Format::Short => {}
        Format::Combined => {
            line.byte(b'[');
            date::write_clf(&mut line, clock::unix_seconds());
            line.push(b"] ");
        }
        Format::Json => {
            date::write_rfc3339(&mut line, clock::unix_seconds());
            line.byte(b' ');
        }
    }
    line.push(b"forkhttpd: ");
    build(&mut line);
    stderr(line.end_line().as_bytes());
}

/// The article's start-up line, `Serving HTTP on port 8888 ...`, and with `what` what is
/// served: ` (0.0.0.0, ./site)`.
pub fn serving(port: u16, what: Option<(&core::net::IpAddr, &[u8])>) {
    let mut line = Buf::new();
    line.push(b"Serving HTTP on port ").num(port.into()).push(b" ...");
    if let Some((ip, served)) = what {
        line.push(b" (");
        addr::write_ip(&mut line, ip);
        line.push(b", ").push(served).byte(b')');
    }
    stdout(line.end_line().as_bytes());
}

/// Why a response was cut short: the access log says so after its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The client went away (EPIPE, ECONNRESET: `MSG_NOSIGNAL` and the ignored SIGPIPE
    /// make that an error, not a death), or another send error.
    Failed(Errno),
    /// The client took no byte for `--timeout` seconds (`SO_SNDTIMEO` ran out).
    Stalled,
    /// The file got shorter while it was sent: the connection was closed early.
    Shrank,
}

impl From<Errno> for Cut {
    fn from(e: Errno) -> Self {
        if e == Errno::AGAIN { Cut::Stalled } else { Cut::Failed(e) }
    }
}

/// One request, as the access log tells it.
pub struct Access<'a> {
    /// The client's address.
    pub peer: Option<&'a SocketAddr>,
    /// The request line, as received.
    pub request_line: &'a [u8],
    /// The status sent.
    pub status: u16,
    /// The body bytes sent.
    pub bytes: u64,
    /// The process that served it.
    pub pid: u32,
    /// Why the response was not sent whole, if it was not.
    pub cut: Option<Cut>,
    /// The response's `Date`: the time the combined and JSON lines give.
    pub unix: i64,
    /// How long it took, from its head's first bytes to the response's last (JSON).
    pub micros: u64,
    /// `Referer` (combined) and `User-Agent` (combined, JSON), or empty.
    pub referer: &'a [u8],
    /// See `referer`.
    pub user_agent: &'a [u8],
    /// The user `--auth` let in (combined, JSON).
    pub user: Option<&'a [u8]>,
}

/// Writes the access line of `a` in the format set (see [`Format`]), whole, its end
/// included, in one buffer: request bytes whose escaped form does not fit the room are
/// shortened, visibly (`…` before the closing quote).
///
/// - short: `PEER "REQUEST LINE" STATUS BYTES pid=PID`, PEER as `1.2.3.4:5678` or
///   `[::1]:5678` (`-` if unknown), then, if the response could not be sent whole, why
///   (see [`Cut`]);
/// - combined: `CLIENT - USER [05/Dec/2026:17:58:11 +0000] "REQUEST LINE" STATUS BYTES
///   "REFERER" "USER-AGENT"`, CLIENT without its port, USER `--auth`'s (else `-`), `-`
///   for an empty field;
/// - JSON: `{"time":…,"client":…,"method":…,"target":…,"protocol":…,"status":…,
///   "bytes":…,"duration_us":…,"pid":…,"user_agent":…}` (and `"user"` with `--auth`,
///   `"cut"` when cut).
///
/// In the short and combined lines `"`, `\` and bytes outside printable ASCII are
/// `\xHH`, as nginx writes them; in JSON's strings `\"`, `\\` and `\u00HH`.
pub fn access(a: &Access<'_>) {
    match format() {
        Format::Short => short(a),
        Format::Combined => combined(a),
        Format::Json => json(a),
    }
}

fn short(a: &Access<'_>) {
    let mut line = Buf::new();
    match a.peer {
        Some(peer) => addr::write(&mut line, peer),
        None => {
            line.byte(b'-');
        }
    }
    line.push(b" \"");
    escape_within(&mut line, a.request_line, TAIL_MAX);
    tail(&mut line, a.status, a.bytes, a.pid, a.cut);
    stdout(line.as_bytes());
}

/// The most the referer and the user agent take, escaped, in a combined or JSON line.
const FIELD_MAX: usize = 200;

fn combined(a: &Access<'_>) {
    let mut line = Buf::new();
    client(&mut line, a.peer);
    line.push(b" - ");
    match a.user {
        Some(user) => escape_max(&mut line, user, 64, escape),
        None => {
            line.byte(b'-');
        }
    }
    line.push(b" [");
    date::write_clf(&mut line, a.unix);
    line.push(b"] \"");
    // The rest: its numbers, then two fields of at most FIELD_MAX each.
    escape_within(&mut line, a.request_line, 48 + 2 * (FIELD_MAX + 3));
    line.push(b"\" ").num(a.status.into()).byte(b' ').num(a.bytes).push(b" \"");
    for (i, field) in [a.referer, a.user_agent].into_iter().enumerate() {
        if i == 1 {
            line.push(b"\" \"");
        }
        match field {
            [] => {
                line.byte(b'-');
            }
            _ => escape_max(&mut line, field, FIELD_MAX, escape),
        }
    }
    stdout(line.push(b"\"\n").as_bytes());
}

fn json(a: &Access<'_>) {
    let mut line = Buf::new();
    line.push(b"{\"time\":\"");
    date::write_rfc3339(&mut line, a.unix);
    line.push(b"\",\"client\":\"");
    client(&mut line, a.peer);
    // The request line's parts (all of it the method if it has no spaces).
    let mut parts = crate::buf::split(a.request_line, b' ');
    let method = parts.next().unwrap_or(&[]);
    let target = parts.next().unwrap_or(&[]);
    let protocol = parts.next().unwrap_or(&[]);
    line.push(b"\",\"method\":\"");
    escape_max(&mut line, method, 64, json_escape);
    line.push(b"\",\"target\":\"");
    // The rest: the numbers, the protocol, the user agent, a cut's reason.
    let room = line.room().saturating_sub(280 + FIELD_MAX + 6);
    escape_max(&mut line, target, room, json_escape);
    line.push(b"\",\"protocol\":\"");
    escape_max(&mut line, protocol, 16, json_escape);
    line.push(b"\",\"status\":").num(a.status.into()).push(b",\"bytes\":").num(a.bytes);
    line.push(b",\"duration_us\":").num(a.micros).push(b",\"pid\":").num(a.pid.into());
    line.push(b",\"user_agent\":\"");
    escape_max(&mut line, a.user_agent, FIELD_MAX, json_escape);
    line.byte(b'"');
    if let Some(user) = a.user {
        line.push(b",\"user\":\"");
        escape_max(&mut line, user, 64, json_escape);
        line.byte(b'"');
    }
    if let Some(cut) = a.cut {
        line.push(b",\"cut\":\"");
        write_cut(&mut line, cut);
        line.byte(b'"');
    }
    stdout(line.push(b"}\n").as_bytes());
}

/// The client's address without its port, `-` if unknown.
fn client(line: &mut Buf, peer: Option<&SocketAddr>) {
    match peer {
        Some(peer) => addr::write_ip(line, &peer.ip()),
        None => {
            line.byte(b'-');
        }
    }
}

/// Escapes `bytes` with `escape` into at most `max` bytes of `out`, `…` at the end if
/// not all of them fit.
fn escape_max(out: &mut Buf, bytes: &[u8], max: usize, escape: fn(&mut Buf, &[u8])) {
    let start = out.as_bytes().len();
    for b in bytes {
        let before = out.as_bytes().len();
        escape(out, core::slice::from_ref(b));
        if out.as_bytes().len() - start > max.saturating_sub(ELLIPSIS.len()) {
            out.truncate(before);
            out.push(ELLIPSIS);
            return;
        }
    }
}

/// JSON string escaping (RFC 8259): `"` and `\` with a backslash, every byte that is not
/// printable ASCII as `\u00HH`: the line is valid JSON (and ASCII) whatever the request
/// held.
fn json_escape(out: &mut Buf, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.byte(b'\\').byte(b);
            }
            b' '..=b'~' => {
                out.byte(b);
            }
            _ => {
                out.push(b"\\u00");
                out.byte(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
                out.byte(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
            }
        }
    }
}

/// `" STATUS BYTES pid=PID`, why the response was cut if it was, the newline.
fn tail(line: &mut Buf, status: u16, bytes: u64, pid: u32, cut: Option<Cut>) {
    line.push(b"\" ").num(status.into()).byte(b' ').num(bytes);
    line.push(b" pid=").num(pid.into());
    if let Some(cut) = cut {
        line.byte(b' ');
        write_cut(line, cut);
    }
    line.byte(b'\n');
}

/// Why a response was cut: `send failed: broken pipe (EPIPE)`.
fn write_cut(line: &mut Buf, cut: Cut) {
    match cut {
        Cut::Failed(e) => {
            line.push(b"send failed: ");
            crate::errno::write(line, e);
        }
        Cut::Stalled => {
            line.push(b"send timed out: the client took nothing for --timeout");
        }
        Cut::Shrank => {
            line.push(b"file shrank while sent: connection closed early");
        }
    }
}

/// The most an access line takes after its request line: `" STATUS BYTES pid=PID`, the
/// longest reason a response was cut, the newline (see the test).
const TAIL_MAX: usize = 128;

/// Escapes `bytes` into `out`, leaving `keep` bytes of room: as many as fit, then `…` if
/// not all did.
pub fn escape_within(out: &mut Buf, bytes: &[u8], keep: usize) {
    let escaped: usize = bytes.iter().map(|&b| escaped_len(b)).sum();
    let room = out.room().saturating_sub(keep);
    if escaped <= room {
        escape(out, bytes);
        return;
    }
    let mut left = room.saturating_sub(crate::buf::ELLIPSIS.len());
    for &b in bytes {
        let Some(rest) = left.checked_sub(escaped_len(b)) else { break };
        escape(out, core::slice::from_ref(&b));
        left = rest;
    }
    out.push(crate::buf::ELLIPSIS);
}

/// Whether `b` stands for itself in a line: printable ASCII but `"` and `\`.
fn plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'
}

fn escaped_len(b: u8) -> usize {
    if plain(b) { 1 } else { 4 }
}

/// Keeps a client's bytes from forging log lines or fields, or reaching the terminal:
/// every byte but printable ASCII (CR, LF, ESC, every control byte, every byte over
/// 0x7E), and `"` and `\`, as `\xHH`. Every request byte the server writes, in the access
/// log and in the events alike, goes through here.
pub fn escape(out: &mut Buf, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if plain(b) {
            out.byte(b);
        } else {
            out.push(b"\\x");
            out.byte(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'?'));
            out.byte(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'?'));
        }
    }
}

/// A run of one trouble (the cap reached, accept4 or fork failing, workers dying): one log line when it
/// begins, one when it ends, however many times it happens in between.
pub struct Episode {
    name: &'static str,
    since: Option<Duration>,
    times: u64,
}

impl Episode {
/// No trouble yet; `name` is what its lines say first.
    pub fn new(name: &'static str) -> Self {
        Episode { name, since: None, times: 0 }
    }

    /// It happened (again): the first time logs `forkhttpd: NAME: `, the errno if any,
    /// and `detail`.
    pub fn begins(&mut self, errno: Option<Errno>, detail: &str) {
        self.times += 1;
        if self.since.is_none() {
            self.since = Some(clock::monotonic());
            event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": ");
                if let Some(e) = errno {
                    crate::errno::write(line, e);
                    line.push(b": ");
                }
                line.push(detail.as_bytes());
            });
        }
    }

    /// It is over: `forkhttpd: NAME: over after N ms (M times)`.
    pub fn ends(&mut self) {
        if let Some(since) = self.since.take() {
            let ms = (clock::monotonic().saturating_sub(since)).as_millis() as u64;
            event(&mut |line| {
                line.push(self.name.as_bytes()).push(b": over after ").num(ms).push(b" ms (");
                line.num(self.times).push(b" times)");
            });
            self.times = 0;
        }
    }

/// It is going on.
    pub fn active(&self) -> bool {
        self.since.is_some()
    }

    /// Ends it if it began more than `quiet` ago (for troubles that come and go, so that
    /// a steady run of them is a line a `quiet`, not a line each).
    pub fn settles(&mut self, quiet: Duration) {
        if self.since.is_some_and(|since| clock::monotonic().saturating_sub(since) > quiet) {
            self.ends();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut b = Buf::new();
        escape(&mut b, b"GET /\"a\\b\r\n\x00\xff~\x1b[31m HTTP/1.1");
        assert_eq!(b.as_bytes(), br#"GET /\x22a\x5cb\x0d\x0a\x00\xff~\x1b[31m HTTP/1.1"#);
    }

    #[test]
    fn the_longest_tail_fits_its_room() {
        let cuts = [None, Some(Cut::Failed(Errno::ADDRNOTAVAIL)), Some(Cut::Failed(Errno::from_raw_os_error(4095))), Some(Cut::Stalled), Some(Cut::Shrank)];
        for cut in cuts {
            let mut line = Buf::new();
            tail(&mut line, 599, u64::MAX, u32::MAX, cut);
            assert!(line.as_bytes().len() <= TAIL_MAX, "{cut:?}: {}", line.as_bytes().len());
        }
    }

    #[test]
    fn escaped_bytes_are_shortened_to_fit_visibly() {
        let mut b = Buf::new();
        escape_within(&mut b, b"abc", 10);
        assert_eq!(b.as_bytes(), b"abc");
        let mut b = Buf::new();
        b.push(&[b'.'; 1000]);
        escape_within(&mut b, &[0xff; 10], 10);
        assert_eq!(&b.as_bytes()[1000..], "\\xff\\xff\u{2026}".as_bytes(), "whole escapes only, then the mark");
        assert_eq!(b.room(), 10 + 3, "the room kept, and what a whole escape could not use");
        let mut b = Buf::new();
        escape_within(&mut b, &[b'a'; 2000], 50);
        assert_eq!(b.room(), 50);
        assert!(b.as_bytes().ends_with("a\u{2026}".as_bytes()));
    }
}
