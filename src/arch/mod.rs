//! The instructions Rust cannot say: the `syscall` instruction for the calls rustix
//! 1.1.4 has no wrapper for (see [`crate::sys`]). One file per architecture; forkhttpd is
//! written for x86_64 only (the fork path's stacks need their assembly too).
#![allow(unsafe_code)] // unsafe: assembly.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("forkhttpd is written for x86_64: src/arch/ needs a file for this architecture");
