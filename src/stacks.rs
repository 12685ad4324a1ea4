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
//! `madvise`; per connection `clone`.

#[cfg(not(target_arch = "x86_64"))]
compile_error!("src/stacks.rs is written for x86_64: the switch to the parent's stack and the clone onto the child's need their assembly for this architecture");

use core::arch::asm;
use core::cell::Cell;
use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr::{self, null_mut};
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

/// What the parent hands a child, copied onto the child's stack: at most 128 bytes.
const HANDOFF: usize = 128;

/// What a child returns: nothing, it exits (`!` in a bound is not stable Rust yet).
pub enum Never {}

/// The parent's stack (a mapping: `[guard | stack]`), and where children start on the
/// main stack, once the parent has left it.
pub struct Stacks {
    base: *mut u8,
    child_top: Cell<usize>,
}

impl Stacks {
    /// Maps the parent's stack. Fails only when the kernel is out of memory (or address
    /// space).
    pub fn map() -> Result<Stacks, Errno> {
        let len = GUARD + PARENT;
        // MAP_STACK: no transparent huge page, whose first touch would zero 2 MiB.
        let flags = MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK;
        // SAFETY: a new anonymous mapping, at an address the kernel picks, aliases nothing.
        let base = unsafe { mmap_anonymous(null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, flags) }?;
        // SAFETY: the ranges lie in the mapping just made, which nothing uses yet.
        unsafe {
            mprotect(base, GUARD, MprotectFlags::empty())?;
            madvise(base, len, Advice::LinuxDontFork)?;
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
        let mut call: &mut dyn FnMut() = &mut call;
        // SAFETY: the new stack is mapped, writable, 16-byte aligned at its top, and used
        // by nothing else. r12 is callee-saved, so it still holds the main stack's
        // pointer when `on_stack` returns; `clobber_abi("C")` covers what a call may
        // change. Nothing below that pointer is in use until `on_stack` returns: the
        // children may start there.
        unsafe {
            asm!(
                "mov r12, rsp",
                "mov [{left}], rsp",
                "mov rsp, {top}",
                "call {on_stack}",
                "mov rsp, r12",
                top = in(reg) self.base.wrapping_add(GUARD + PARENT),
                left = in(reg) self.child_top.as_ptr(),
                on_stack = sym on_stack,
                in("rdi") &mut call,
                out("r12") _,
                clobber_abi("C"),
            );
        }
        self.child_top.set(0);
        status
    }

    /// Forks a child that starts on the main stack, where `run` left it, in `child`, with
    /// its pid, and never returns; returns the child's pid. `child` is copied to the child's stack
    /// byte for byte (so it must be `Copy`, at most 128 bytes), and must not point into
    /// the parent's stack, which the child does not have: what `run`'s caller borrowed
    /// from before the loop is fine, a local of the loop is not.
    ///
    /// The copy travels in registers, xmm0 to xmm7, which `clone` leaves as they were in
    /// both processes: nothing the parent writes for it lands on a page it shares.
    pub fn fork<F: FnOnce(u32) -> Never + Copy>(&self, child: F) -> Result<Pid, Errno> {
        const { assert!(size_of::<F>() <= HANDOFF && align_of::<F>() <= 16) };
        let mut handoff = MaybeUninit::<[u128; HANDOFF / 16]>::uninit();
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
        let ret: isize;
        // SAFETY: `clone` without CLONE_VM: the child has its own copy of the address
        // space, in which it starts with rsp = `top`, in the main stack, below every frame
        // in use (`run`), 16-byte aligned. There it stores the handoff (xmm0-7) below the pid and calls
        // `child_entry`, which never returns. The parent only gets rax; the kernel
        // clobbers rcx and r11. The handoff is read in full only when `F` is 128 bytes:
        // the bytes past it are uninitialised, never read as `F`.
        unsafe {
            asm!(
                "movdqu xmm0, [{h}]",
                "movdqu xmm1, [{h} + 16]",
                "movdqu xmm2, [{h} + 32]",
                "movdqu xmm3, [{h} + 48]",
                "movdqu xmm4, [{h} + 64]",
                "movdqu xmm5, [{h} + 80]",
                "movdqu xmm6, [{h} + 96]",
                "movdqu xmm7, [{h} + 112]",
                "syscall",
                "test rax, rax",
                "jnz 2f",
                // The child.
                "sub rsp, 144",
                "movdqu [rsp], xmm0",
                "movdqu [rsp + 16], xmm1",
                "movdqu [rsp + 32], xmm2",
                "movdqu [rsp + 48], xmm3",
                "movdqu [rsp + 64], xmm4",
                "movdqu [rsp + 80], xmm5",
                "movdqu [rsp + 96], xmm6",
                "movdqu [rsp + 112], xmm7",
                "mov rdi, rsp",
                "xor ebp, ebp",
                "call {entry}",
                "ud2",
                // The parent.
                "2:",
                h = in(reg) handoff.as_ptr(),
                entry = sym child_entry::<F>,
                inlateout("rax") SYS_CLONE => ret,
                in("rdi") CLONE_CHILD_SETTID | SIGCHLD,
                in("rsi") top,
                in("rdx") 0usize,
                in("r10") tid,
                in("r8") 0usize,
                lateout("rcx") _,
                lateout("r11") _,
                out("xmm0") _,
                out("xmm1") _,
                out("xmm2") _,
                out("xmm3") _,
                out("xmm4") _,
                out("xmm5") _,
                out("xmm6") _,
                out("xmm7") _,
                options(nostack),
            );
        }
        if ret < 0 {
            return Err(Errno::from_raw_os_error(-ret as i32));
        }
        Pid::from_raw(ret as i32).ok_or(Errno::INVAL)
    }
}

const SYS_CLONE: usize = 56;
const CLONE_CHILD_SETTID: usize = 0x0100_0000;
const SIGCHLD: usize = 17;

extern "C" fn on_stack(call: &mut &mut dyn FnMut()) {
    call()
}

/// The child's first frame: the handoff at `child`, its pid 128 bytes above.
extern "C" fn child_entry<F: FnOnce(u32) -> Never + Copy>(child: *const F) -> ! {
    // SAFETY: `fork`'s asm stored a copy of an `F` at `child`, and the kernel the pid
    // right above the handoff (CLONE_CHILD_SETTID).
    let (child, pid) = unsafe { (ptr::read(child), ptr::read(child.cast::<u8>().add(HANDOFF).cast::<i32>())) };
    match child(pid as u32) {}
}
