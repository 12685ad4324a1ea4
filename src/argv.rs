//! The program's arguments and environment, as the kernel put them on the initial stack
//! and origin hands them to `origin_main`.
#![allow(unsafe_code)] // unsafe: reading the kernel's argv and envp arrays, raw pointers.

use core::ffi::CStr;

/// The NUL-terminated strings of a NULL-terminated pointer array (`argv` or `envp`).
#[derive(Clone, Copy)]
pub struct Strings {
    next: *const *const u8,
}

impl Strings {
    /// # Safety
    ///
    /// `list` must point to a NULL-terminated array of pointers to NUL-terminated strings
    /// that stay valid and unchanged for the rest of the program, as `argv` and `envp` do.
    pub unsafe fn new(list: *mut *mut u8) -> Self {
        Self { next: list.cast_const().cast() }
    }

    /// The value of environment variable `name`, when `self` is `envp`.
    pub fn var(self, name: &[u8]) -> Option<&'static [u8]> {
        self.into_iter().find_map(|entry| {
            entry.strip_prefix(name).and_then(|rest| rest.strip_prefix(b"="))
        })
    }
}

impl Iterator for Strings {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        // SAFETY: `new`'s contract: `next` points into a NULL-terminated array, and we
        // never step past the NULL.
        let s = unsafe { *self.next };
        if s.is_null() {
            return None;
        }
        // SAFETY: as above; `s` is a NUL-terminated string that lives as long as the process.
        unsafe {
            self.next = self.next.add(1);
            Some(CStr::from_ptr(s.cast()).to_bytes())
        }
    }
}
