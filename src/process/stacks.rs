//! What `fork` copies, in fork mode: two stacks that no page is ever shared on.
//!
//! After `fork` a page either process writes is copied first (copy-on-write), a page fault
//! each time, and a fork server's parent and child both write their stack at once: each
//! connection cost one fault in the parent and two in the child for the stack alone. So
//! the parent leaves the main stack before its accept loop, for a stack of its own that
//! no child receives (`madvise(MADV_DONTFORK)`), and each child starts on the main stack
//! where the parent left it (`clone` given that stack pointer: strace prints
//! `child_stack=0x7ff…` where a plain fork prints `NULL`). Above that point the child
//! finds, read-only, what start-up left there (the configuration, the arguments and the
//! environment); below it, pages the parent no longer writes. So the parent's writes per
//! connection fall on pages no child has, and a child's on pages the parent left.
//!
//! It stays a fork: `clone(CLONE_CHILD_SETTID|SIGCHLD)`, no `CLONE_VM`, a process with its
//! own copy of the address space, which only lacks the parent's stack.
//!
//! Syscalls: at start-up `mmap` (the parent's stack), `mprotect` (its guard page) and
//! `madvise`; per connection `clone`. The assembly is in [`crate::arch`].
#![allow(unsafe_code)] // unsafe: mappings, and a clone onto a stack of our choosing.

use crate::arch::{self, HANDOFF};
use crate::errno::Error;
use core::cell::Cell;
use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr::{self, null_mut};
use linux_raw_sys::general::{CLONE_CHILD_SETTID, SIGCHLD};
use rustix::io::Errno;
use rustix::mm::{Advice, MapFlags, MprotectFlags, ProtFlags, madvise, mmap_anonymous, mprotect};
use rustix::process::Pid;

/// Below the parent's stack: its overflow faults here instead of writing anything.
const GUARD: usize = PAGE;
/// The parent's stack: its loop, the pid table, the reaper, a log line; reserved, and
/// a few KiB are ever touched.
const PARENT: usize = 256 * 1024;
/// Left untouched below the main stack's last frame before a child's starts.
const GAP: usize = 256;
const PAGE: usize = 4096;

/// What a child returns: nothing, it exits (`!` in a bound is not stable Rust yet).
pub enum Never {}

/// The parent's stack (a mapping: `[guard | stack]`), and where children start on the
/// main stack, once the parent has left it.
pub struct Stacks {
    base: *mut u8,
    child_top: Cell<usize>,
}

impl Stacks {
    /// What is mapped for the parent's stack: its guard page and the stack.
    pub const SIZE: usize = GUARD + PARENT;

    /// Maps the parent's stack (`mmap`, `mprotect` of the guard, `madvise`). Fails only
    /// when the kernel is out of memory (or address space).
    pub fn map() -> Result<Stacks, Error> {
        let len = GUARD + PARENT;
        // MAP_STACK: no transparent huge page, whose first touch would zero 2 MiB.
        let flags = MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK;
        // SAFETY: a new anonymous mapping, at an address the kernel picks, aliases nothing.
        let base = unsafe { mmap_anonymous(null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, flags) }.map_err(Error::of("mmap"))?;
        // SAFETY: the ranges lie in the mapping just made, which nothing uses yet.
        unsafe {
            mprotect(base, GUARD, MprotectFlags::empty()).map_err(Error::of("mprotect"))?;
            madvise(base, len, Advice::LinuxDontFork).map_err(Error::of("madvise"))?;
        }
        Ok(Stacks { base: base.cast(), child_top: Cell::new(0) })
    }

    /// Runs `parent` on the parent's stack and returns its result; [`Stacks::fork`]
    /// works inside it only. Everything `parent` keeps on its stack is out of a child's
    /// reach: a child must receive what it needs through `fork`, by value.
    pub fn run(&self, parent: impl FnOnce() -> i32) -> i32 {
        let (mut parent, mut status) = (Some(parent), 0);
        let mut call = || {
            if let Some(parent) = parent.take() {
                status = parent();
            }
        };
        // SAFETY: the new stack is mapped, writable, 16-byte aligned at its top, and used
        // by nothing else. Nothing below the main stack's pointer is in use until the
        // switch returns: the children may start there.
        unsafe { arch::switch_stack(self.base.wrapping_add(GUARD + PARENT), self.child_top.as_ptr(), &mut call) };
        self.child_top.set(0);
        status
    }

    /// Forks a child that starts on the main stack, where `run` left it, in `child`, with
    /// its pid, and never returns; returns the child's pid. `child` is copied to the child's
    /// stack byte for byte (so it must be `Copy`, at most 128 bytes), and must not point into
    /// the parent's stack, which the child does not have: what `run`'s caller borrowed
    /// from before the loop is fine, a local of the loop is not.
    ///
    /// The copy travels in registers (see [`arch::clone_onto`]): nothing the parent writes
    /// for it lands on a page it shares.
    pub fn fork<F: FnOnce(u32) -> Never + Copy>(&self, child: F) -> Result<Pid, Errno> {
        const { assert!(size_of::<F>() <= HANDOFF && align_of::<F>() <= 16) };
        let mut handoff = MaybeUninit::<[u128; HANDOFF / 16]>::zeroed();
        // SAFETY: `F` fits, in size and alignment (asserted above).
        unsafe { ptr::write(handoff.as_mut_ptr().cast::<F>(), child) };
        // The first page boundary below the main stack's last frame: Hello's child then
        // writes one page of stack, not two. None outside `run`.
        let left = self.child_top.get();
        if left == 0 {
            return Err(Errno::INVAL);
        }
        let top = ((left - GAP) & !(PAGE - 1)) as *mut u8;
        // The kernel writes the child's pid here, in the child's memory, before it runs
        // (CLONE_CHILD_SETTID); the handoff lies just below.
        let tid = top.wrapping_sub(16);
        // SAFETY: a fork (no CLONE_VM): the child has its own copy of the address space,
        // in which `top` lies in the main stack below every frame in use (`run`), 16-byte
        // aligned; `child_entry::<F>` reads an `F` from the handoff's copy. The handoff was
        // zeroed, then an `F` written over its start.
        let ret = unsafe { arch::clone_onto(CLONE_CHILD_SETTID | SIGCHLD, top, tid, handoff.assume_init_ref(), child_entry::<F>) };
        if ret < 0 {
            return Err(Errno::from_raw_os_error(-ret as i32));
        }
        Pid::from_raw(ret as i32).ok_or(Errno::INVAL)
    }
}

/// The child's first frame: the handoff at `child`, its pid 128 bytes above.
///
/// # Safety
///
/// `child` points to a copy of an `F`, and 128 bytes above it the kernel has written the
/// child's pid (`CLONE_CHILD_SETTID`): what [`Stacks::fork`] arranges.
unsafe extern "C" fn child_entry<F: FnOnce(u32) -> Never + Copy>(child: *const u8) -> ! {
    // SAFETY: the function's contract.
    let (child, pid) = unsafe { (ptr::read(child.cast::<F>()), ptr::read(child.add(HANDOFF).cast::<i32>())) };
    match child(pid as u32) {}
}
