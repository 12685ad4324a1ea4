//! Syscalls rustix 1.1.4 has no wrapper for without an allocator, each a thin typed
//! wrapper in rustix's manner: the doc names the syscall, the result is the errno.
//!
//! - `close_range`: a CGI program gets descriptors 0, 1 and 2 and nothing else;
//! - `getcwd`: rustix's needs `alloc`; the CGI variables that must be absolute
//!   (`SCRIPT_FILENAME`, `PATH_TRANSLATED`) need the working directory once, at start-up.
#![allow(unsafe_code)] // unsafe: raw syscalls.

use crate::arch::syscall4;
use linux_raw_sys::general::{__NR_close_range, __NR_getcwd};
use rustix::io::Errno;

/// A raw return value as a result: the kernel's -4095..-1 are errnos.
fn result(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) { Err(Errno::from_raw_os_error(-ret as i32)) } else { Ok(ret as usize) }
}

/// `close_range(first, ~0U, 0)`: closes every descriptor from `first` up (Linux 5.9).
pub fn close_from(first: u32) -> Result<(), Errno> {
    // SAFETY: closing descriptors touches no memory; the caller owns every descriptor
    // from `first` up (it is about to become another program).
    result(unsafe { syscall4(__NR_close_range, first as usize, u32::MAX as usize, 0, 0) }).map(drop)
}

/// `getcwd`: the working directory's path, in `buf`, without its NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let len = result(unsafe { syscall4(__NR_getcwd, buf.as_mut_ptr() as usize, buf.len(), 0, 0) })?;
    // The length counts the NUL.
    buf.get(..len.saturating_sub(1)).ok_or(Errno::RANGE)
}
