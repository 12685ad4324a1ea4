//! A step that failed, [`Error`]: the syscall's name and its errno, the one shape every
//! layer's failures have. And names for one-line messages: errnos (`address already in
//! use (EADDRINUSE)`) and signals (`SIGKILL`). Each table is one string, not an array of
//! `&str`: 16 bytes of pointer and length per entry would cost more than the names.

use crate::buf::Buf;
use rustix::io::Errno;

/// A syscall that failed, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// The syscall's name, as strace prints it (`bind`, `execveat`).
    pub call: &'static str,
/// Why it failed.
    pub errno: Errno,
}

impl Error {
    /// Turns an errno of `call` into an `Error`: `.map_err(Error::of("bind"))`.
    pub fn of(call: &'static str) -> impl Fn(Errno) -> Error {
        move |errno| Error { call, errno }
    }

    /// Appends `CALL: description (ENAME)`.
    pub fn write(&self, out: &mut Buf) {
        out.push(self.call.as_bytes()).push(b": ");
        write(out, self.errno);
    }
}

/// The errnos forkhttpd and the stages can meet, in the order of [`TEXTS`].
const ERRNOS: [Errno; 32] = [
    Errno::ACCESS,
    Errno::ADDRINUSE,
    Errno::ADDRNOTAVAIL,
    Errno::AFNOSUPPORT,
    Errno::AGAIN,
    Errno::BADF,
    Errno::CHILD,
    Errno::CONNABORTED,
    Errno::CONNREFUSED,
    Errno::CONNRESET,
    Errno::HOSTUNREACH,
    Errno::INTR,
    Errno::INVAL,
    Errno::IO,
    Errno::ISDIR,
    Errno::LOOP,
    Errno::MFILE,
    Errno::NETUNREACH,
    Errno::NFILE,
    Errno::NOBUFS,
    Errno::NOENT,
    Errno::NOEXEC,
    Errno::NOMEM,
    Errno::NOSYS,
    Errno::NOTDIR,
    Errno::PERM,
    Errno::PIPE,
    Errno::RANGE,
    Errno::SRCH,
    Errno::STALE,
    Errno::TIMEDOUT,
    Errno::XDEV,
];

/// One line per entry of [`ERRNOS`].
const TEXTS: &str = "\
permission denied (EACCES)
address already in use (EADDRINUSE)
address not available on this machine (EADDRNOTAVAIL)
address family not supported (EAFNOSUPPORT)
resource temporarily unavailable (EAGAIN)
bad file descriptor (EBADF)
no child processes (ECHILD)
connection aborted (ECONNABORTED)
connection refused (ECONNREFUSED)
connection reset by peer (ECONNRESET)
no route to host (EHOSTUNREACH)
interrupted system call (EINTR)
invalid argument (EINVAL)
input/output error (EIO)
is a directory (EISDIR)
too many levels of symbolic links (ELOOP)
too many open files (EMFILE)
network unreachable (ENETUNREACH)
too many open files in system (ENFILE)
no buffer space available (ENOBUFS)
no such file or directory (ENOENT)
exec format error (ENOEXEC)
out of memory (ENOMEM)
function not implemented (ENOSYS)
not a directory (ENOTDIR)
operation not permitted (EPERM)
broken pipe (EPIPE)
result out of range (ERANGE)
no such process (ESRCH)
stale file handle (ESTALE)
connection timed out (ETIMEDOUT)
invalid cross-device link: it leads out of DIR (EXDEV)";

/// Signals 1 to 31, by number.
const SIGNALS: &str = "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM \
    SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS";

/// Appends the name of signal `sig` (`SIGKILL`), or `signal N` past SIGSYS (a real-time
/// one).
pub fn write_signal(out: &mut Buf, sig: i32) {
    let name = usize::try_from(sig).ok().and_then(|n| n.checked_sub(1)).and_then(|i| nth(SIGNALS, b' ', i));
    match name {
        Some(name) => out.push(name),
        None => out.push(b"signal ").num(sig.unsigned_abs().into()),
    };
}

/// Appends the description of `e`, or `errno N` for one outside the table.
pub fn write(out: &mut Buf, e: Errno) {
    match ERRNOS.iter().position(|&n| n == e).and_then(|i| nth(TEXTS, b'\n', i)) {
        Some(text) => out.push(text),
        None => out.push(b"errno ").num(e.raw_os_error().unsigned_abs().into()),
    };
}

/// Entry `i` of `table`, entries separated by `sep`.
pub(crate) fn nth(table: &'static str, sep: u8, i: usize) -> Option<&'static [u8]> {
    crate::buf::split(table.as_bytes(), sep).nth(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&mut Buf)) -> String {
        let mut b = Buf::new();
        f(&mut b);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn every_errno_has_its_line() {
        assert_eq!(TEXTS.lines().count(), ERRNOS.len());
        for (e, line) in ERRNOS.iter().zip(TEXTS.lines()) {
            assert_eq!(text(|b| write(b, *e)), line);
        }
        assert_eq!(text(|b| write(b, Errno::ADDRINUSE)), "address already in use (EADDRINUSE)");
        assert_eq!(text(|b| write(b, Errno::from_raw_os_error(200))), "errno 200");
    }

    #[test]
    fn signals_by_number() {
        assert_eq!(text(|b| write_signal(b, 1)), "SIGHUP");
        assert_eq!(text(|b| write_signal(b, 9)), "SIGKILL");
        assert_eq!(text(|b| write_signal(b, 15)), "SIGTERM");
        assert_eq!(text(|b| write_signal(b, 23)), "SIGURG");
        assert_eq!(text(|b| write_signal(b, 31)), "SIGSYS");
        assert_eq!(text(|b| write_signal(b, 34)), "signal 34");
        assert_eq!(text(|b| write_signal(b, 0)), "signal 0");
    }
}
