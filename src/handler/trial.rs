//! The sandbox's trial, for tests only: with `$FORKHTTPD_SANDBOX_TEST` in the server's
//! environment at start-up (never otherwise), `GET /.sandbox-test/CALL` makes the serving
//! process try what the sandbox refuses, as a request that took control of it would:
//!
//! - `execve`: run a program (`/nonexistent`: without a sandbox it fails, harmlessly);
//! - `socket`: make a socket (to connect out);
//! - `ptrace`: `PTRACE_TRACEME`;
//! - `open-passwd`: `openat2("/etc/passwd")` without `RESOLVE_BENEATH`: an allowed
//!   syscall, which Landlock refuses;
//! - `escape/PATH`: `openat2(DIR, PATH)` without `RESOLVE_BENEATH`, following symlinks
//!   (one that leads out of `DIR`: Landlock refuses it).
//!
//! Under the seccomp filter the first three kill the process (SIGSYS) before anything is
//! sent. A process that survives answers `200` and what the call returned.

#![allow(unsafe_code)] // unsafe: raw syscalls rustix has no safe wrapper for.

use super::{Answer, Exchange, Site, send_all};
use crate::arch::syscall4;
use crate::buf::Buf;
use crate::http::{Status, response};
use linux_raw_sys::general::{__NR_execve, __NR_ptrace};
use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
use rustix::io::Errno;
use rustix::net::SendFlags;

/// What `/.sandbox-test/CALL` asks for.
pub const PREFIX: &[u8] = b"/.sandbox-test/";

/// Tries `call`; answers with its result if the process is still alive.
#[inline(never)]
pub fn answer(x: &Exchange<'_>, call: &[u8], site: Option<&Site<'_>>) -> Answer {
    let result: Result<(), Errno> = match call {
        b"execve" => {
            let argv = [core::ptr::null::<u8>()];
            // SAFETY: a NUL-terminated path and empty argument and environment arrays;
            // the program does not exist (without a sandbox: ENOENT, nothing runs).
            raw(unsafe { syscall4(__NR_execve, c"/nonexistent-forkhttpd-trial".as_ptr() as usize, argv.as_ptr() as usize, argv.as_ptr() as usize, 0) })
        }
        b"socket" => rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::STREAM, None).map(drop),
        // SAFETY: PTRACE_TRACEME (0) reads and writes no memory.
        b"ptrace" => raw(unsafe { syscall4(__NR_ptrace, 0, 0, 0, 0) }),
        b"open-passwd" => openat2(rustix::fs::CWD, c"/etc/passwd", OFlags::RDONLY, Mode::empty(), ResolveFlags::empty()).map(drop),
        _ => match (call.strip_prefix(b"escape/"), site) {
            (Some(path), Some(site)) => {
                let mut name = crate::fs::Path::new();
                match name.join(&[path]) {
                    Some(name) => openat2(&site.root, name, OFlags::RDONLY, Mode::empty(), ResolveFlags::empty()).map(drop),
                    None => Err(Errno::NAMETOOLONG),
                }
            }
            _ => return x.reply(Status::NotFound),
        },
    };
    let mut body = Buf::new();
    body.push(call).push(b": ");
    match result {
        Ok(()) => body.push(b"done"),
        Err(e) => {
            crate::errno::write(&mut body, e);
            &mut body
        }
    };
    body.byte(b'\n');
    let mut out = Buf::new();
    response::start(&mut out, Status::Ok, x.unix);
    response::content(&mut out, response::TEXT, body.as_bytes().len() as u64);
    if let Some(answer) = x.send_head(&mut out, Status::Ok, body.as_bytes().len() as u64) {
        return answer;
    }
    Answer::sent(Status::Ok, body.as_bytes().len() as u64, send_all(x.conn, body.as_bytes(), SendFlags::empty()).err())
}

fn raw(ret: isize) -> Result<(), Errno> {
    if (-4095..0).contains(&ret) { Err(Errno::from_raw_os_error(-ret as i32)) } else { Ok(()) }
}
