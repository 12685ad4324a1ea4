//! x86_64 Linux: the `syscall` instruction. The number goes in rax, the arguments in rdi,
//! rsi, rdx, r10, r8, r9; the kernel returns in rax (a negative errno on failure) and
//! clobbers rcx (the return address) and r11 (the flags).

use core::arch::asm;

/// A syscall with up to three arguments; the kernel's raw return value.
///
/// # Safety
///
/// `nr` and its arguments must be a call whose pointers, if any, are valid for what the
/// kernel reads and writes through them, and which breaks no invariant Rust relies on
/// (no `exit`, no change of memory mappings the program uses).
#[inline]
pub unsafe fn syscall3(nr: u32, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's contract; the asm touches no memory of its own and no stack.
    unsafe {
        asm!(
            "syscall",                          // enter the kernel: call number rax
            inlateout("rax") nr as isize => ret, // in: the number; out: the result
            in("rdi") a0,                       // first argument
            in("rsi") a1,                       // second
            in("rdx") a2,                       // third
            lateout("rcx") _,                   // the kernel keeps the return address here
            lateout("r11") _,                   // and the flags here
            options(nostack),
        );
    }
    ret
}
