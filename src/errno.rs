//! Names for one-line messages: errnos (`address already in use (EADDRINUSE)`) and
//! signals (`SIGKILL`).

use rustix::io::Errno;

const TABLE: &[(Errno, &str)] = &[
    (Errno::ACCESS, "permission denied (EACCES)"),
    (Errno::ADDRINUSE, "address already in use (EADDRINUSE)"),
    (Errno::ADDRNOTAVAIL, "address not available on this machine (EADDRNOTAVAIL)"),
    (Errno::AFNOSUPPORT, "address family not supported (EAFNOSUPPORT)"),
    (Errno::AGAIN, "resource temporarily unavailable (EAGAIN)"),
    (Errno::BADF, "bad file descriptor (EBADF)"),
    (Errno::CHILD, "no child processes (ECHILD)"),
    (Errno::CONNABORTED, "connection aborted (ECONNABORTED)"),
    (Errno::CONNRESET, "connection reset by peer (ECONNRESET)"),
    (Errno::INTR, "interrupted system call (EINTR)"),
    (Errno::INVAL, "invalid argument (EINVAL)"),
    (Errno::MFILE, "too many open files (EMFILE)"),
    (Errno::NFILE, "too many open files in system (ENFILE)"),
    (Errno::NOBUFS, "no buffer space available (ENOBUFS)"),
    (Errno::NOMEM, "out of memory (ENOMEM)"),
    (Errno::PERM, "operation not permitted (EPERM)"),
    (Errno::PIPE, "broken pipe (EPIPE)"),
];

const SIGNALS: &[&str] = &[
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
    "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
];

/// Appends the name of signal `sig` (`SIGKILL`), or `signal N` past SIGTERM.
pub fn write_signal(out: &mut crate::buf::Buf, sig: i32) {
    match SIGNALS.get((sig as usize).wrapping_sub(1)) {
        Some(name) => out.push(name.as_bytes()),
        None => out.push(b"signal ").num(sig.unsigned_abs().into()),
    };
}

/// Appends the description of `e`, or `errno N` for one outside the table.
pub fn write(out: &mut crate::buf::Buf, e: Errno) {
    match TABLE.iter().find(|(n, _)| *n == e) {
        Some((_, text)) => out.push(text.as_bytes()),
        None => out.push(b"errno ").num(e.raw_os_error().unsigned_abs().into()),
    };
}
