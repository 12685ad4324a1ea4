//! The sandbox, Linux's pledge and unveil: installed once at start-up in the parent, after
//! the socket is bound and `--user` has dropped privileges, inherited by every child and
//! worker, never changed after.
//!
//! - `prctl(PR_SET_NO_NEW_PRIVS)`: no exec could ever gain privileges (and both what
//!   follows need it).
//! - **Landlock** (Linux ≥ 5.13): the filesystem view is `DIR`, read-only (files and
//!   directories), and nothing else: no exec, no write, nowhere; without `DIR`, nothing at
//!   all. From ABI 4 no TCP `bind` or `connect` either, from ABI 6 no signal to a process
//!   outside the server. A kernel without Landlock is said in one start-up line, and the
//!   view is `openat2`'s alone.
//! - **seccomp**: a classic-BPF allow-list of exactly the syscalls the mode makes after
//!   start-up (see [`CALLS`]), built at compile time ([`FILTERS`]), with argument checks
//!   where they are cheap: `clone` without `CLONE_VM` (a fork, not a thread), `prctl` for
//!   `PR_SET_PDEATHSIG` only. The architecture is checked first (x86_64, and not the x32
//!   ABI's numbers). Anything else kills the process (`SECCOMP_RET_KILL_PROCESS`), and the
//!   parent logs `child N killed by signal 31 (SIGSYS)`.
//!
//! With `--cgi` there is none of it: a CGI program is a program of its own, started by
//! `execveat`, that may need any syscall and any file its interpreter does; a filter that
//! let it run would let anyone who took a child run `/bin/sh` just as well. Its sandbox is
//! the operator's (a container, `--user`). Said in one start-up line. `--no-sandbox` turns
//! it all off.
//!
//! Syscalls, at start-up only: `prctl`, `landlock_create_ruleset` (twice: the ABI, then
//! the ruleset), `landlock_add_rule`, `landlock_restrict_self`, `close`, `seccomp`.
#![allow(unsafe_code)] // unsafe: raw syscalls, and the structures they read.

use crate::arch::syscall4;
use crate::errno::Error;
use linux_raw_sys::general::*;
use linux_raw_sys::prctl::PR_SET_PDEATHSIG;
use linux_raw_sys::landlock::{
    LANDLOCK_ACCESS_FS_EXECUTE, LANDLOCK_ACCESS_FS_IOCTL_DEV, LANDLOCK_ACCESS_FS_MAKE_SYM, LANDLOCK_ACCESS_FS_READ_DIR, LANDLOCK_ACCESS_FS_READ_FILE,
    LANDLOCK_ACCESS_FS_REFER, LANDLOCK_ACCESS_FS_TRUNCATE, LANDLOCK_ACCESS_NET_BIND_TCP, LANDLOCK_ACCESS_NET_CONNECT_TCP,
    LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, LANDLOCK_SCOPE_SIGNAL, landlock_path_beneath_attr,
    landlock_rule_type, landlock_ruleset_attr,
};
use linux_raw_sys::ptrace::{
    AUDIT_ARCH_X86_64, BPF_ABS, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W, SECCOMP_RET_ALLOW,
    SECCOMP_RET_KILL_PROCESS, SECCOMP_SET_MODE_FILTER, seccomp_data, sock_filter, sock_fprog,
};
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd};
use rustix::io::Errno;

/// What the processes of a mode need beyond what all need.
pub mod need {
    /// Every mode.
    pub const ALL: u8 = 0;
    /// `DIR`: files beneath it.
    pub const DIR: u8 = 1;
    /// `--list`: directory entries.
    pub const LIST: u8 = 2;
    /// Prefork: the workers' start.
    pub const PREFORK: u8 = 4;
}

/// The syscalls forkhttpd's processes make once serving, and which mode needs each. (The
/// start-up's, made before the filter, are not here: `socket`, `bind`, `listen`, `mmap`,
/// `rt_sigaction`, `openat2` of `DIR` … are refused from then on.)
pub const CALLS: &[(u32, u8, &str)] = &[
    // A connection's, most frequent first (the filter tests in this order): heads,
    // responses, the log, deadlines; files beneath DIR.
    (__NR_recvfrom, need::ALL, "recvfrom"),
    (__NR_sendto, need::ALL, "sendto"),
    (__NR_write, need::ALL, "write"),
    (__NR_openat2, need::DIR, "openat2"),
    (__NR_fstat, need::DIR, "fstat"),
    (__NR_pread64, need::DIR, "pread64"),
    (__NR_close, need::ALL, "close"),
    (__NR_setsockopt, need::ALL, "setsockopt"),
    (__NR_sendfile, need::DIR, "sendfile"),
    (__NR_accept4, need::ALL, "accept4"),
    (__NR_exit_group, need::ALL, "exit_group"),
    (__NR_rt_sigreturn, need::ALL, "rt_sigreturn"),
    (__NR_getdents64, need::LIST, "getdents64"),
    (__NR_newfstatat, need::LIST, "newfstatat"),
    // The parent's: fork, reap, wait at the cap, the stop.
    (__NR_clone, need::ALL, "clone"),
    (__NR_wait4, need::ALL, "wait4"),
    (__NR_kill, need::ALL, "kill"),
    (__NR_getpid, need::ALL, "getpid"),
    (__NR_rt_sigprocmask, need::ALL, "rt_sigprocmask"),
    (__NR_rt_sigsuspend, need::ALL, "rt_sigsuspend"),
    (__NR_rt_sigtimedwait, need::ALL, "rt_sigtimedwait"),
    (__NR_restart_syscall, need::ALL, "restart_syscall"),
    (__NR_ppoll, need::ALL, "ppoll"),
    (__NR_nanosleep, need::ALL, "nanosleep"),
    (__NR_clock_gettime, need::ALL, "clock_gettime"),
    (__NR_shutdown, need::ALL, "shutdown"),
    // A prefork worker's start.
    (__NR_prctl, need::PREFORK, "prctl"),
    (__NR_getppid, need::PREFORK, "getppid"),
];

/// The most instructions a filter has: prefork's with `--list`, every call, and the two
/// argument checks.
const MAX: usize = 39;

/// A seccomp filter: `len` instructions.
#[derive(Clone, Copy)]
pub struct Filter {
    code: [sock_filter; MAX],
    len: usize,
}

const fn op(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code: code as u16, jt, jf, k }
}

/// `seccomp_data`'s offsets: `nr`, `arch`, the first argument's low half (little-endian).
const NR: u32 = core::mem::offset_of!(seccomp_data, nr) as u32;
const ARCH: u32 = core::mem::offset_of!(seccomp_data, arch) as u32;
const ARG0: u32 = core::mem::offset_of!(seccomp_data, args) as u32;
/// The x32 ABI's syscall numbers have this bit: refused outright.
const X32: u32 = __X32_SYSCALL_BIT;

impl Filter {
    /// The filter for the syscalls of [`CALLS`] that `needs` (a set of [`need`] bits)
    /// asks for. Laid out as (classic BPF jumps only forward):
    ///
    /// ```text
    /// ld arch; jeq x86_64 ? next : kill
    /// ld nr;   jge x32 ? kill : next
    /// jeq clone ? clone-check : next
    /// jeq prctl ? prctl-check : next          (prefork)
    /// jeq NR ? allow : next                   one per other syscall
    /// ja kill
    /// clone-check:  ld arg0; jset CLONE_VM ? kill : allow
    /// prctl-check:  ld arg0; jeq PR_SET_PDEATHSIG ? allow : kill
    /// kill:         ret KILL_PROCESS
    /// allow:        ret ALLOW
    /// ```
    pub const fn build(needs: u8) -> Filter {
        // The plain syscalls, in order.
        let mut plain = [0u32; MAX];
        let mut n = 0;
        let mut prctl = false;
        let mut i = 0;
        while i < CALLS.len() {
            let (nr, need, _) = CALLS[i];
            if need == need::ALL || needs & need != 0 {
                if nr == __NR_prctl {
                    prctl = true;
                } else if nr != __NR_clone {
                    plain[n] = nr;
                    n += 1;
                }
            }
            i += 1;
        }
        // Where each part begins.
        let first_plain = 5 + prctl as usize;
        let to_kill = first_plain + n;
        let clone_check = to_kill + 1;
        let prctl_check = clone_check + 2;
        let kill = prctl_check + if prctl { 2 } else { 0 };
        let allow = kill + 1;
        // A jump from `from` to `to`: the instructions skipped.
        const fn skip(from: usize, to: usize) -> u8 {
            (to - from - 1) as u8
        }
        let mut f = Filter { code: [op(0, 0, 0, 0); MAX], len: allow + 1 };
        f.code[0] = op(BPF_LD | BPF_W | BPF_ABS, ARCH, 0, 0);
        f.code[1] = op(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, skip(1, kill));
        f.code[2] = op(BPF_LD | BPF_W | BPF_ABS, NR, 0, 0);
        f.code[3] = op(BPF_JMP | BPF_JGE | BPF_K, X32, skip(3, kill), 0);
        f.code[4] = op(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, skip(4, clone_check), 0);
        if prctl {
            f.code[5] = op(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, skip(5, prctl_check), 0);
        }
        let mut j = 0;
        while j < n {
            let at = first_plain + j;
            f.code[at] = op(BPF_JMP | BPF_JEQ | BPF_K, plain[j], skip(at, allow), 0);
            j += 1;
        }
        f.code[to_kill] = op(BPF_JMP | BPF_JA, (kill - to_kill - 1) as u32, 0, 0);
        f.code[clone_check] = op(BPF_LD | BPF_W | BPF_ABS, ARG0, 0, 0);
        f.code[clone_check + 1] = op(BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, skip(clone_check + 1, kill), skip(clone_check + 1, allow));
        if prctl {
            f.code[prctl_check] = op(BPF_LD | BPF_W | BPF_ABS, ARG0, 0, 0);
            f.code[prctl_check + 1] = op(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_PDEATHSIG, skip(prctl_check + 1, allow), skip(prctl_check + 1, kill));
        }
        f.code[kill] = op(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
        f.code[allow] = op(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
        f
    }

    /// The instructions.
    pub fn code(&self) -> &[sock_filter] {
        self.code.get(..self.len).unwrap_or(&[])
    }
}

/// Every filter a mode can need, built at compile time (`--list` comes with `DIR`).
pub const FILTERS: [(u8, Filter); 6] = [
    (need::ALL, Filter::build(need::ALL)),
    (need::DIR, Filter::build(need::DIR)),
    (need::DIR | need::LIST, Filter::build(need::DIR | need::LIST)),
    (need::PREFORK, Filter::build(need::PREFORK)),
    (need::PREFORK | need::DIR, Filter::build(need::PREFORK | need::DIR)),
    (need::PREFORK | need::DIR | need::LIST, Filter::build(need::PREFORK | need::DIR | need::LIST)),
];

/// The filter for `needs`.
fn filter(needs: u8) -> Option<&'static Filter> {
    FILTERS.iter().find(|(n, _)| *n == needs).map(|(_, f)| f)
}

/// What was installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The Landlock ABI, if the kernel has Landlock.
    pub landlock: Result<u32, Errno>,
}

/// Installs the sandbox for a mode that `needs` (see [`need`]), with `root` (`DIR`, if
/// served) the one place the filesystem view keeps.
pub fn install(needs: u8, root: Option<BorrowedFd<'_>>) -> Result<Installed, Error> {
    rustix::thread::set_no_new_privs(true).map_err(Error::of("prctl"))?;
    let landlock = match landlock_abi() {
        Ok(abi) => {
            restrict_files(abi, root)?;
            Ok(abi)
        }
        Err(e) => Err(e),
    };
    let code = filter(needs).ok_or(Error { call: "seccomp", errno: Errno::INVAL })?.code();
    let program = sock_fprog { len: code.len() as u16, filter: code.as_ptr().cast_mut() };
    // SAFETY: the kernel reads `program` and the `code` it points to, both alive for the
    // call, and copies them; a filter changes no memory the program uses.
    let r = unsafe { syscall4(__NR_seccomp, SECCOMP_SET_MODE_FILTER as usize, 0, (&raw const program) as usize, 0) };
    result(r).map_err(Error::of("seccomp"))?;
    Ok(Installed { landlock })
}

/// The kernel's Landlock ABI version, or why there is none (ENOSYS: too old; EOPNOTSUPP:
/// built without it or not enabled).
fn landlock_abi() -> Result<u32, Errno> {
    // SAFETY: with a null attribute and the VERSION flag, the kernel reads nothing.
    let r = unsafe { syscall4(__NR_landlock_create_ruleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION as usize, 0) };
    result(r).map(|v| v as u32)
}

/// Landlock: every filesystem access the kernel knows of is handled (so refused), but
/// reading files and directories beneath `root`; from ABI 4 TCP `bind` and `connect`,
/// from ABI 6 signals to processes outside, are refused too.
fn restrict_files(abi: u32, root: Option<BorrowedFd<'_>>) -> Result<(), Error> {
    // Access rights by ABI: 1 has EXECUTE to MAKE_SYM (13 bits), 2 adds REFER, 3
    // TRUNCATE, 5 IOCTL_DEV.
    let since = |first: u32, right: u32| if abi >= first { right } else { 0 };
    let fs = ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - LANDLOCK_ACCESS_FS_EXECUTE)
        | since(2, LANDLOCK_ACCESS_FS_REFER)
        | since(3, LANDLOCK_ACCESS_FS_TRUNCATE)
        | since(5, LANDLOCK_ACCESS_FS_IOCTL_DEV);
    let attr = landlock_ruleset_attr {
        handled_access_fs: u64::from(fs),
        handled_access_net: if abi >= 4 { u64::from(LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP) } else { 0 },
        scoped: if abi >= 6 { u64::from(LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL) } else { 0 },
    };
    // The structure as large as this ABI knows it: up to its network field (8 bytes),
    // up to `scoped` from ABI 4 (16), whole from 6 (24).
    let size = match abi {
        0..=3 => core::mem::offset_of!(landlock_ruleset_attr, handled_access_net),
        4 | 5 => core::mem::offset_of!(landlock_ruleset_attr, scoped),
        _ => size_of::<landlock_ruleset_attr>(),
    };
    // SAFETY: the kernel reads `size` bytes of `attr`, at most the whole of it.
    let ruleset = result(unsafe { syscall4(__NR_landlock_create_ruleset, (&raw const attr) as usize, size, 0, 0) }).map_err(Error::of("landlock_create_ruleset"))?;
    // SAFETY: a new descriptor the kernel just returned, owned by nothing else.
    let ruleset = unsafe { rustix::fd::OwnedFd::from_raw_fd(ruleset as i32) };
    if let Some(root) = root {
        let rule = landlock_path_beneath_attr { allowed_access: u64::from(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR), parent_fd: root.as_raw_fd() };
        // SAFETY: the kernel reads the rule, alive for the call.
        let r = unsafe { syscall4(__NR_landlock_add_rule, ruleset.as_raw_fd() as usize, landlock_rule_type::LANDLOCK_RULE_PATH_BENEATH as usize, (&raw const rule) as usize, 0) };
        result(r).map_err(Error::of("landlock_add_rule"))?;
    }
    // SAFETY: restricting this process changes no memory.
    let r = unsafe { syscall4(__NR_landlock_restrict_self, ruleset.as_raw_fd() as usize, 0, 0, 0) };
    result(r).map_err(Error::of("landlock_restrict_self"))?;
    Ok(())
}


fn result(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) { Err(Errno::from_raw_os_error(-ret as i32)) } else { Ok(ret as usize) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `filter` as the kernel would on a syscall `nr` with first argument `arg0`
    /// (a small classic-BPF interpreter for the instructions the builder uses).
    fn run(filter: &Filter, arch: u32, nr: u32, arg0: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0;
        loop {
            let i = filter.code()[pc];
            let code = u32::from(i.code);
            match code {
                c if c == BPF_LD | BPF_W | BPF_ABS => acc = match i.k { NR => nr, ARCH => arch, ARG0 => arg0, k => panic!("load {k}") },
                c if c == BPF_RET | BPF_K => return i.k,
                c if c == BPF_JMP | BPF_JA => {
                    pc += 1 + i.k as usize;
                    continue;
                }
                c if c & 0x07 == BPF_JMP => {
                    let taken = match c & 0xf0 {
                        x if x == BPF_JEQ => acc == i.k,
                        x if x == BPF_JGE => acc >= i.k,
                        x if x == BPF_JSET => acc & i.k != 0,
                        x => panic!("jump {x}"),
                    };
                    pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                    continue;
                }
                c => panic!("op {c}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn the_filters_allow_their_calls_and_kill_the_rest() {
        for &(needs, ref f) in &FILTERS {
            for &(nr, need, name) in CALLS {
                let arg0 = if nr == __NR_prctl { PR_SET_PDEATHSIG } else { 0 };
                let expect = if need == need::ALL || needs & need != 0 { SECCOMP_RET_ALLOW } else { SECCOMP_RET_KILL_PROCESS };
                assert_eq!(run(f, AUDIT_ARCH_X86_64, nr, arg0), expect, "{name} with needs {needs}");
            }
            for nr in [__NR_execve, __NR_execveat, __NR_socket, __NR_connect, __NR_ptrace, __NR_openat, __NR_open, __NR_mmap, __NR_mprotect, __NR_bind] {
                assert_eq!(run(f, AUDIT_ARCH_X86_64, nr, 0), SECCOMP_RET_KILL_PROCESS, "{nr}");
            }
            assert_eq!(run(f, AUDIT_ARCH_X86_64, __NR_clone, CLONE_VM | SIGCHLD), SECCOMP_RET_KILL_PROCESS, "a thread");
            assert_eq!(run(f, AUDIT_ARCH_X86_64, __NR_clone, CLONE_CHILD_SETTID | SIGCHLD), SECCOMP_RET_ALLOW, "a fork");
            assert_eq!(run(f, 0x4000_0003, __NR_write, 0), SECCOMP_RET_KILL_PROCESS, "i386");
            assert_eq!(run(f, AUDIT_ARCH_X86_64, X32 | __NR_write, 0), SECCOMP_RET_KILL_PROCESS, "x32");
        }
        assert_eq!(run(filter(need::PREFORK).unwrap(), AUDIT_ARCH_X86_64, __NR_prctl, linux_raw_sys::prctl::PR_SET_DUMPABLE), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(FILTERS.iter().map(|(_, f)| f.len).max(), Some(MAX), "MAX is the longest");
    }
}
