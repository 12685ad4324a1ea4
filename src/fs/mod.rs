//! The served directory, as the kernel sees it: opening beneath it, and sending files.
//!
//! Containment is the kernel's: every open is `openat2(root, path, RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)`, which fails with EXDEV for any path, `..` or symlink included,
//! that would leave the directory, whatever the request target said. Syscalls:
//! `openat2` (the directory at start-up, then each file), `fstat`, `sendfile`,
//! `faccessat` (at start-up), `getcwd` (once, for [`absolute`]); and for listings
//! `getdents64` and `newfstatat` (see [`dir`]).

pub mod dir;

use crate::log::Cut;
use core::ffi::CStr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{CWD, FileType, Mode, OFlags, ResolveFlags, Stat, fstat, openat2, sendfile};
use rustix::io::Errno;

/// Longest path the kernel takes (PATH_MAX, the NUL included).
pub const PATH_MAX: usize = 4096;

/// Opens the directory to serve: `O_PATH | O_DIRECTORY`, so that it needs no read
/// permission, only search. Through `openat2`, so that a kernel without it (Linux < 5.6:
/// ENOSYS) is found out at start-up, not at the first request.
pub fn open_root(dir: &CStr) -> Result<OwnedFd, Errno> {
    openat2(CWD, dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty(), ResolveFlags::empty())
}

/// An open file or directory beneath the root, and what `fstat` says of it.
pub struct Opened {
/// The file, open for reading.
    pub fd: OwnedFd,
/// What `fstat` said of it.
    pub stat: Stat,
}

impl Opened {
/// A regular file, a directory, or what else.
    pub fn kind(&self) -> FileType {
        FileType::from_raw_mode(self.stat.st_mode)
    }

/// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.stat.st_size.max(0) as u64
    }
}

/// Opens `path` (relative to the root) for reading. `O_NONBLOCK`: opening a FIFO must not
/// wait for a writer (a socket fails with ENXIO; what is neither a regular file nor a
/// directory is refused by the caller after `fstat`). `O_NOCTTY`: a terminal in the
/// directory must not become the child's.
pub fn open(root: &OwnedFd, path: &CStr) -> Result<Opened, Errno> {
    let fd = beneath(root, path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY)?;
    let stat = fstat(&fd)?;
    Ok(Opened { fd, stat })
}

/// How many times a lookup is tried before its EAGAIN stands (see [`beneath`]).
pub const TRIES: usize = 8;

/// `openat2(root, path, flags | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`. With
/// `RESOLVE_BENEATH` the kernel fails a lookup with EAGAIN when a rename or a mount,
/// anywhere on the host, races a `..` in it (it cannot then vouch for containment), and
/// openat2(2) says to retry: up to [`TRIES`] times in all. (A non-blocking open of a
/// file under a lease fails with EAGAIN too; retried the same.)
fn beneath(root: &OwnedFd, path: &CStr, flags: OFlags) -> Result<OwnedFd, Errno> {
    let mut tries = 0;
    loop {
        tries += 1;
        match openat2(root, path, flags | OFlags::CLOEXEC, Mode::empty(), ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS) {
            Err(Errno::AGAIN) if tries < TRIES => continue,
            result => return result,
        }
    }
}

/// Opens the directory `path` (relative to the root) as a place to look things up in:
/// `O_PATH | O_DIRECTORY`, beneath the root.
pub fn open_dir(root: &OwnedFd, path: &CStr) -> Result<OwnedFd, Errno> {
    beneath(root, path, OFlags::PATH | OFlags::DIRECTORY)
}

/// `path` made absolute in `buf`: as it is if it starts with `/`, else after the working
/// directory (`getcwd`); without a leading `./` or trailing `/`s.
pub fn absolute<'b>(path: &[u8], buf: &'b mut [u8; PATH_MAX]) -> Result<&'b [u8], Errno> {
    let mut rel = path;
    while let Some(rest) = rel.strip_prefix(b"./") {
        rel = rest.strip_prefix(b"/").unwrap_or(rest);
    }
    while let Some(rest) = rel.strip_suffix(b"/").filter(|r| !r.is_empty()) {
        rel = rest;
    }
    let start = match rel.first() {
        Some(b'/') => 0,
        _ => {
            let cwd = crate::sys::getcwd(buf)?.len();
            let slash = buf.get_mut(cwd).ok_or(Errno::NAMETOOLONG)?;
            *slash = b'/';
            cwd + 1
        }
    };
    // `.` alone is the working directory itself.
    let rel = if rel == b"." { &[][..] } else { rel };
    buf.get_mut(start..start + rel.len()).ok_or(Errno::NAMETOOLONG)?.copy_from_slice(rel);
    let end = if rel.is_empty() { start.saturating_sub(1).max(1) } else { start + rel.len() };
    buf.get(..end).ok_or(Errno::NAMETOOLONG)
}

/// A path relative to the root, NUL-terminated, for `openat2`.
pub struct Path {
    bytes: [u8; PATH_MAX],
}

impl Path {
/// An empty path.
    pub const fn new() -> Self {
        Path { bytes: [0; PATH_MAX] }
    }

    /// `parts` joined, `.` if that is empty. None if it is longer than the kernel takes
    /// (a target cannot name such a file) or holds a NUL.
    pub fn join(&mut self, parts: &[&[u8]]) -> Option<&CStr> {
        let mut len = 0;
        for part in parts {
            self.bytes.get_mut(len..len + part.len())?.copy_from_slice(part);
            len += part.len();
        }
        if len == 0 {
            *self.bytes.get_mut(0)? = b'.';
            len = 1;
        }
        *self.bytes.get_mut(len)? = 0;
        CStr::from_bytes_with_nul(self.bytes.get(..=len)?).ok()
    }
}

impl Default for Path {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends `len` bytes of `file` from `offset` with `sendfile`, as many calls as it takes
/// (short sends, EINTR); returns the bytes sent, and why it stopped short, if it did.
/// The socket's `SO_SNDTIMEO` (`--timeout`) bounds each call: a client that takes no
/// bytes for that long is cut (`Stalled`), a fast download never is. A file that
/// shrinks while it is sent ends the connection, never padded (`Shrank`).
pub fn send(conn: impl AsFd, file: &OwnedFd, mut offset: u64, len: u64) -> (u64, Option<Cut>) {
    let mut sent = 0;
    while sent < len {
        // At most 1 GiB a call: what Linux moves at once anyway (0x7ffff000 bytes).
        let chunk = (len - sent).min(1 << 30) as usize;
        match sendfile(&conn, file, Some(&mut offset), chunk) {
            Ok(0) => return (sent, Some(Cut::Shrank)),
            Ok(n) => sent += n as u64,
            Err(Errno::INTR) => continue,
            Err(e) => return (sent, Some(Cut::from(e))),
        }
    }
    (sent, None)
}

/// Can the server, under the ids it serves with, read and search the root? Checked once
/// at start-up (`faccessat`), after `--user`: an unreadable `DIR` is refused then, not
/// answered 403 at every request.
pub fn check_root(root: &OwnedFd) -> Result<(), Errno> {
    rustix::fs::accessat(root, c".", rustix::fs::Access::READ_OK | rustix::fs::Access::EXEC_OK, rustix::fs::AtFlags::empty())
}
