//! Errno names for one-line error messages: `address already in use (EADDRINUSE)`.

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

/// Appends the description of `e`, or `errno N` for one outside the table.
pub fn write(out: &mut crate::buf::Buf, e: Errno) {
    match TABLE.iter().find(|(n, _)| *n == e) {
        Some((_, text)) => out.push(text.as_bytes()),
        None => out.push(b"errno ").num(e.raw_os_error().unsigned_abs().into()),
    };
}
