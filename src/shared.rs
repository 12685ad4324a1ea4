//! What the server's processes share: one page mapped `MAP_SHARED | MAP_ANONYMOUS` at
//! start-up, before the first fork, so that every child writes to the same memory. A
//! trouble that each child meets on its own, one request at a time, is logged once for
//! all of them, when it begins: a [`Trouble`] here.
//!
//! Syscalls: `mmap` once at start-up (with `DIR`). A child touches the page only when its
//! trouble happens: no page fault otherwise.
#![allow(unsafe_code)] // unsafe: the shared mapping, made into a reference.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};
use core::time::Duration;
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};

/// The shared page.
#[repr(C)]
pub struct Shared {
    /// `openat2` beneath `DIR` still failing with EAGAIN after its tries.
    pub lookups: Trouble,
}

/// A run of one trouble, shared by every process: it begins when it happens after a
/// quiet second; what happens within a second of the last time belongs to the same run.
#[repr(C)]
pub struct Trouble {
    /// When it last happened (`clock::monotonic`, in ms; 0: never).
    last: AtomicU64,
    /// How many times in the current run.
    times: AtomicU64,
}

impl Trouble {
    /// It happened (again) at `now`: true if that begins a run, which the caller logs.
    pub fn happened(&self, now: Duration) -> bool {
        let now = (now.as_millis() as u64).max(1);
        let last = self.last.swap(now, SeqCst);
        if last == 0 || now.saturating_sub(last) > 1000 {
            self.times.store(1, SeqCst);
            true
        } else {
            self.times.fetch_add(1, SeqCst);
            false
        }
    }
}

/// Maps the shared page. Fails only when the kernel is out of memory.
pub fn map() -> Result<&'static Shared, Errno> {
    const { assert!(size_of::<Shared>() <= 4096) };
    // SAFETY: a new anonymous mapping aliases nothing; the kernel fills it with zeros,
    // which is a valid `Shared` (atomics of 0). It is never unmapped: `'static`.
    unsafe {
        let page = mmap_anonymous(null_mut(), 4096, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED)?;
        Ok(&*page.cast::<Shared>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trouble_begins_after_a_quiet_second() {
        let e = Trouble { last: AtomicU64::new(0), times: AtomicU64::new(0) };
        let ms = Duration::from_millis;
        assert!(e.happened(ms(5000)));
        assert!(!e.happened(ms(5100)));
        assert!(!e.happened(ms(6000)), "within a second of the last time");
        assert_eq!(e.times.load(SeqCst), 3);
        assert!(e.happened(ms(7001)), "after a quiet second");
        assert_eq!(e.times.load(SeqCst), 1);
        let shared = map().unwrap();
        assert!(shared.lookups.happened(ms(1)));
    }
}
