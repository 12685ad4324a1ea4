//! x86_64 Linux: the instructions Rust cannot say, each one commented.
//!
//! - [`syscall4`]: the `syscall` instruction. The number goes in rax, the
//!   arguments in rdi, rsi, rdx, r10, r8, r9; the kernel returns in rax (a negative errno
//!   on failure) and clobbers rcx (the return address) and r11 (the flags).
//! - [`switch_stack`]: a call made on another stack (the fork-mode parent's own).
//! - [`clone_onto`]: `clone` without `CLONE_VM` (a fork) whose child starts on a given
//!   stack, in a given function, with 128 bytes handed over in registers.

use core::arch::asm;
use linux_raw_sys::general::__NR_clone;

/// A syscall with up to four arguments (the fourth in r10: rcx is the `syscall`
/// instruction's; a call that takes fewer ignores the rest, given as 0); the kernel's raw
/// return value.
///
/// # Safety
///
/// `nr` and its arguments must be a call whose pointers, if any, are valid for what the
/// kernel reads and writes through them, and which breaks no invariant Rust relies on
/// (no `exit`, no change of memory mappings the program uses).
#[inline]
pub unsafe fn syscall4(nr: u32, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's contract; the asm touches no memory of its own and no stack.
    unsafe {
        asm!(
            "syscall",                           // enter the kernel: call number rax
            inlateout("rax") nr as isize => ret, // in: the number; out: the result
            in("rdi") a0,                        // first argument
            in("rsi") a1,                        // second
            in("rdx") a2,                        // third
            in("r10") a3,                        // fourth
            lateout("rcx") _,                    // the kernel keeps the return address here
            lateout("r11") _,                    // and the flags here
            options(nostack),
        );
    }
    ret
}

/// Calls `call` with the stack pointer at `top`, and returns on the stack it was called
/// on; before the switch, stores in `left` where that stack was left (its pointer).
///
/// # Safety
///
/// `top` must be the 16-byte aligned top of a writable mapping used by nothing else, large
/// enough for what `call` does; nothing may use the memory below `*left` while `call`
/// runs but what the caller arranges (forked children).
pub unsafe fn switch_stack(top: *mut u8, left: *mut usize, call: &mut dyn FnMut()) {
    let mut call = call;
    // SAFETY: the caller's contract. r12 is callee-saved, so it still holds the old stack
    // pointer when `on_stack` returns; `clobber_abi("C")` covers what a call may change.
    unsafe {
        asm!(
            "mov r12, rsp",        // keep the old stack pointer in a callee-saved register
            "mov [{left}], rsp",   // and tell the caller where the old stack was left
            "mov rsp, {top}",      // switch to the new stack
            "call {on_stack}",     // run `call` there (rdi: the closure)
            "mov rsp, r12",        // back to the old stack
            top = in(reg) top,
            left = in(reg) left,
            on_stack = sym on_stack,
            in("rdi") &mut call,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

extern "C" fn on_stack(call: &mut &mut dyn FnMut()) {
    call()
}

/// How many bytes [`clone_onto`] hands to the child: eight xmm registers.
pub const HANDOFF: usize = 128;

/// `clone(flags, top, NULL, tid, 0)`: a new process that starts with its stack pointer at
/// `top`, stores the handoff (`handoff`'s 128 bytes, which travel in xmm0 to xmm7, so
/// that the parent writes nothing for them on a page it shares) on that stack, and calls
/// `entry` with a pointer to its copy; `entry` never returns. Returns `clone`'s raw
/// result in the parent: the child's pid, or a negative errno.
///
/// # Safety
///
/// `flags` must not hold `CLONE_VM` or `CLONE_THREAD`: the child needs an address space
/// of its own, in which `top` is the 16-byte aligned top of a free stack region (with
/// `CLONE_CHILD_SETTID`, `tid` must be writable there). `entry` must be sound to call
/// with the copy of the handoff, on that stack, in the new process.
pub unsafe fn clone_onto(flags: u32, top: *mut u8, tid: *mut u8, handoff: &[u128; 8], entry: unsafe extern "C" fn(*const u8) -> !) -> isize {
    let ret: isize;
    // SAFETY: the caller's contract. The parent only gets rax; the kernel clobbers rcx
    // and r11; r12 carries `entry` into the child (clone leaves registers as they are).
    unsafe {
        asm!(
            "movdqu xmm0, [{h}]",          // the handoff, into registers: both processes
            "movdqu xmm1, [{h} + 16]",     // have them after clone, and no page is
            "movdqu xmm2, [{h} + 32]",     // written for them
            "movdqu xmm3, [{h} + 48]",
            "movdqu xmm4, [{h} + 64]",
            "movdqu xmm5, [{h} + 80]",
            "movdqu xmm6, [{h} + 96]",
            "movdqu xmm7, [{h} + 112]",
            "syscall",                     // clone: returns twice
            "test rax, rax",               // 0 in the child, the child's pid in the parent
            "jnz 2f",
            // The child, on its new stack at `top`.
            "sub rsp, 144",                // room for the handoff, 16-byte aligned for the call
            "movdqu [rsp], xmm0",          // the handoff, from the registers onto the stack
            "movdqu [rsp + 16], xmm1",
            "movdqu [rsp + 32], xmm2",
            "movdqu [rsp + 48], xmm3",
            "movdqu [rsp + 64], xmm4",
            "movdqu [rsp + 80], xmm5",
            "movdqu [rsp + 96], xmm6",
            "movdqu [rsp + 112], xmm7",
            "mov rdi, rsp",                // entry's argument: the handoff's copy
            "xor ebp, ebp",                // no frame above this one
            "call r12",                    // entry: never returns
            "ud2",
            // The parent.
            "2:",
            h = in(reg) handoff.as_ptr(),
            in("r12") entry,
            inlateout("rax") __NR_clone as isize => ret,
            in("rdi") flags as usize,      // clone's flags
            in("rsi") top,                 // the child's stack pointer
            in("rdx") 0usize,              // parent_tid: unused
            in("r10") tid,                 // child_tid: CLONE_CHILD_SETTID writes it
            in("r8") 0usize,               // tls: unused
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
    ret
}
