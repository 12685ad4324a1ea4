//! A directory's listing (`--list`, for a directory without `index.html`): an HTML page of
//! its entries ([`crate::fs::dir`]), names HTML-escaped and percent-encoded in links,
//! sizes and dates. Its length is counted first (a first rendering that sends nothing),
//! so the head says `Content-Length`; then the body leaves in buffers of 1 KiB.
//! Syscalls: `getdents64` and `newfstatat` (the entries), `sendto`.

use super::{Answer, Exchange, Site, send_all};
use crate::buf::Buf;
use crate::fs::dir::{Dir, Kind, MAX_ENTRIES};
use crate::http::{Status, date, response, target};
use crate::log::Cut;
use rustix::fd::OwnedFd;
use rustix::net::SendFlags;

/// The listing of `dir`, the directory at `path` (decoded, ending in `/`). Never inlined:
/// its 88 KiB `Dir` must be a frame of its own, or every file request would pay for the
/// stack probes of those pages (one page fault each).
#[inline(never)]
pub fn answer(x: &Exchange<'_>, site: &Site<'_>, dir: &OwnedFd, path: &[u8]) -> Answer {
    let mut entries = Dir::new();
    if let Err(e) = entries.read(dir) {
        return x.reply(super::file::refusal(site, e, path));
    }
    let mut len = 0u64;
    render(&entries, path, &mut |piece| len += piece.len() as u64);
    let mut out = Buf::new();
    response::start(&mut out, Status::Ok, x.unix);
    response::content(&mut out, b"text/html; charset=utf-8", len);
    if let Some(answer) = x.send_head(&mut out, Status::Ok, len) {
        return answer;
    }
    let mut sink = Sink { conn: x.conn, out: Buf::new(), sent: 0, cut: None };
    render(&entries, path, &mut |piece| sink.put(piece));
    sink.flush();
    Answer { code: 200, bytes: sink.sent, cut: sink.cut, last: false, log: true, user: None }
}

/// The HTML page for `dir` at `path`, in pieces handed to `emit`.
fn render(dir: &Dir, path: &[u8], emit: &mut dyn FnMut(&[u8])) {
    emit(b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    escape(path, emit);
    emit(b"</title></head>\n<body><h1>Index of ");
    escape(path, emit);
    emit(b"</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n");
    if path != b"/" {
        emit(b"<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    let mut piece = Buf::new();
    for e in dir.entries() {
        let slash: &[u8] = if e.kind == Kind::Dir { b"/" } else { b"" };
        piece.clear().push(b"<tr><td><a href=\"");
        target::encode(&mut piece, e.name);
        emit(piece.push(slash).push(b"\">").as_bytes());
        escape(e.name, emit);
        piece.clear().push(slash).push(b"</a></td><td>");
        if e.kind == Kind::File {
            piece.num(e.size);
        }
        piece.push(b"</td><td>");
        date::write(&mut piece, e.mtime);
        emit(piece.push(b"</td></tr>\n").as_bytes());
    }
    emit(b"</table>\n");
    if dir.is_cut() {
        const { assert!(MAX_ENTRIES == 1024) };
        emit(b"<p>Not every entry is shown: a listing holds at most 1024.</p>\n");
    }
    emit(b"</body></html>\n");
}

/// HTML text: `&`, `<`, `>`, `"` and `'` as character references.
fn escape(text: &[u8], emit: &mut dyn FnMut(&[u8])) {
    for b in text {
        emit(match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => core::slice::from_ref(b),
        });
    }
}

/// Pieces of a body gathered into buffers of `Buf`'s size, each sent when full.
struct Sink<'c> {
    conn: &'c OwnedFd,
    out: Buf,
    sent: u64,
    cut: Option<Cut>,
}

impl Sink<'_> {
    fn put(&mut self, piece: &[u8]) {
        if self.out.room() < piece.len() {
            self.flush();
        }
        self.out.push(piece);
    }

    fn flush(&mut self) {
        if self.cut.is_none() {
            match send_all(self.conn, self.out.as_bytes(), SendFlags::empty()) {
                Ok(()) => self.sent += self.out.as_bytes().len() as u64,
                Err(cut) => self.cut = Some(cut),
            }
        }
        self.out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut out = Vec::new();
        escape(b"<b>&amp.txt \"'", &mut |b| out.extend_from_slice(b));
        assert_eq!(out, b"&lt;b&gt;&amp;amp.txt &quot;&#39;");
    }
}
