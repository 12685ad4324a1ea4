//! Directory listings (`--list`): `getdents64` for the names, `newfstatat` without
//! following symlinks for each one's size and date (a symlink shows its own, never its
//! target's, so a link out of the directory tells nothing of what it points to). Dotfiles
//! are left out; names are sorted bytewise, HTML-escaped, and percent-encoded in links.

use crate::buf::Buf;
use crate::http::{date, target};
use core::mem::MaybeUninit;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, FileType, RawDir, statat};
use rustix::io::Errno;

/// The most entries a listing shows; it says so when a directory has more.
pub const MAX_ENTRIES: usize = 1024;
/// Room for their names: 64 bytes each on average (a name may take 255).
const NAMES: usize = 64 * 1024;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// Where the name is in `names`, and its length.
    at: u32,
    len: u8,
    kind: Kind,
    size: u64,
    mtime: i64,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    File,
    Dir,
    Link,
}

/// The entries of one directory, without an allocator.
pub struct Listing {
    names: [u8; NAMES],
    entries: [Entry; MAX_ENTRIES],
    count: usize,
    /// Entries left out for want of room.
    cut: bool,
}

impl Listing {
    pub fn new() -> Self {
        Listing { names: [0; NAMES], entries: [Entry::default(); MAX_ENTRIES], count: 0, cut: false }
    }

    /// Reads `dir`: the regular files, directories and symlinks in it that are not
    /// dotfiles (FIFOs, sockets and devices are never served, so never listed).
    pub fn read(&mut self, dir: &OwnedFd) -> Result<(), Errno> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
        let mut entries = RawDir::new(dir, &mut buf);
        let mut used = 0;
        while let Some(entry) = entries.next() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name.first() == Some(&b'.') {
                continue;
            }
            // Gone since getdents, or not ours to see: not listed.
            let Ok(stat) = statat(dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) else { continue };
            let kind = match FileType::from_raw_mode(stat.st_mode) {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Link,
                _ => continue,
            };
            let (Some(slot), Some(room), Ok(len)) =
                (self.entries.get_mut(self.count), self.names.get_mut(used..used + name.len()), u8::try_from(name.len()))
            else {
                self.cut = true;
                continue;
            };
            room.copy_from_slice(name);
            *slot = Entry { at: used as u32, len, kind, size: stat.st_size.max(0) as u64, mtime: stat.st_mtime };
            used += name.len();
            self.count += 1;
        }
        self.sort();
        Ok(())
    }

    fn name(&self, e: &Entry) -> &[u8] {
        let at = e.at as usize;
        self.names.get(at..at + usize::from(e.len)).unwrap_or(&[])
    }

    /// Insertion sort by name: a few hundred bytes of code where core's sort takes
    /// kilobytes, and a listing is at most `MAX_ENTRIES` long.
    fn sort(&mut self) {
        for i in 1..self.count {
            let mut j = i;
            while j > 0 {
                let (Some(a), Some(b)) = (self.entries.get(j - 1).copied(), self.entries.get(j).copied()) else { break };
                if self.name(&a) <= self.name(&b) {
                    break;
                }
                self.entries.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    /// The HTML page for the directory at `path` (decoded, ending in `/`), in pieces
    /// handed to `emit`: called once to count the bytes, once to send them.
    pub fn render(&self, path: &[u8], emit: &mut dyn FnMut(&[u8])) {
        emit(b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
        escape(path, emit);
        emit(b"</title></head>\n<body><h1>Index of ");
        escape(path, emit);
        emit(b"</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n");
        if path != b"/" {
            emit(b"<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
        }
        let mut piece = Buf::new();
        for e in self.entries.get(..self.count).unwrap_or(&[]) {
            let name = self.name(e);
            let slash: &[u8] = if e.kind == Kind::Dir { b"/" } else { b"" };
            piece.clear().push(b"<tr><td><a href=\"");
            target::encode(&mut piece, name);
            emit(piece.push(slash).push(b"\">").as_bytes());
            escape(name, emit);
            piece.clear().push(slash).push(b"</a></td><td>");
            if e.kind == Kind::File {
                piece.num(e.size);
            }
            piece.push(b"</td><td>");
            date::write(&mut piece, e.mtime);
            emit(piece.push(b"</td></tr>\n").as_bytes());
        }
        emit(b"</table>\n");
        if self.cut {
            emit(b"<p>Not every entry is shown: a listing holds at most 1024.</p>\n");
        }
        emit(b"</body></html>\n");
    }
}

impl Default for Listing {
    fn default() -> Self {
        Self::new()
    }
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
