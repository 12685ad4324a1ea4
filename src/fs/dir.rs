//! A directory's entries, for listings (`--list`): `getdents64` for the names,
//! `newfstatat` without following symlinks for each one's size and date (a symlink shows
//! its own, never its target's, so a link out of the directory tells nothing of what it
//! points to). Dotfiles are left out; names are sorted bytewise. No allocator: at most
//! [`MAX_ENTRIES`] entries, in fixed arrays.

use core::mem::MaybeUninit;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, FileType, RawDir, statat};
use rustix::io::Errno;

/// The most entries a listing shows; it says so when a directory has more.
pub const MAX_ENTRIES: usize = 1024;
/// Room for their names: 64 bytes each on average (a name may take 255).
const NAMES: usize = 64 * 1024;

/// What an entry is: listings serve regular files, directories and symlinks only
/// (FIFOs, sockets and devices are never served, so never listed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    #[default]
    File,
    /// A directory.
    Dir,
    /// A symlink (where it leads is not looked at).
    Link,
}

/// One entry: where its name is in the names, and what `newfstatat` said.
#[derive(Clone, Copy, Default)]
struct Slot {
    at: u32,
    len: u8,
    kind: Kind,
    size: u64,
    mtime: i64,
}

/// One entry, as a listing shows it.
pub struct Entry<'d> {
    /// Its name, as the directory holds it.
    pub name: &'d [u8],
    /// What it is.
    pub kind: Kind,
    /// Its size (of a regular file; of the symlink or directory itself otherwise).
    pub size: u64,
    /// When it was last modified, in seconds since 1970.
    pub mtime: i64,
}

/// The entries of one directory, without an allocator.
pub struct Dir {
    names: [u8; NAMES],
    slots: [Slot; MAX_ENTRIES],
    count: usize,
    /// Entries left out for want of room.
    cut: bool,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    /// No entries yet.
    pub fn new() -> Self {
        Dir { names: [0; NAMES], slots: [Slot::default(); MAX_ENTRIES], count: 0, cut: false }
    }

    /// Reads `dir`: the regular files, directories and symlinks in it that are not
    /// dotfiles, sorted by name.
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
                (self.slots.get_mut(self.count), self.names.get_mut(used..used + name.len()), u8::try_from(name.len()))
            else {
                self.cut = true;
                continue;
            };
            room.copy_from_slice(name);
            *slot = Slot { at: used as u32, len, kind, size: stat.st_size.max(0) as u64, mtime: stat.st_mtime };
            used += name.len();
            self.count += 1;
        }
        self.sort();
        Ok(())
    }

    fn name(&self, e: &Slot) -> &[u8] {
        let at = e.at as usize;
        self.names.get(at..at + usize::from(e.len)).unwrap_or(&[])
    }

    /// Insertion sort by name: a few hundred bytes of code where core's sort takes
    /// kilobytes, and a listing is at most `MAX_ENTRIES` long.
    fn sort(&mut self) {
        for i in 1..self.count {
            let mut j = i;
            while j > 0 {
                let (Some(a), Some(b)) = (self.slots.get(j - 1).copied(), self.slots.get(j).copied()) else { break };
                if self.name(&a) <= self.name(&b) {
                    break;
                }
                self.slots.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    /// The entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.slots.iter().take(self.count).map(|s| Entry { name: self.name(s), kind: s.kind, size: s.size, mtime: s.mtime })
    }

    /// Some entries were left out: the directory has more than fit.
    pub fn is_cut(&self) -> bool {
        self.cut
    }
}
