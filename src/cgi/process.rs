//! The script's process: started with its stdin and stdout on pipes, in its own process
//! group, and at the end killed with that group and reaped, so that no script process
//! outlives the connection's child.
//!
//! Syscalls: in the connection's child, `pipe2` twice, `clone` (fork) and `close` of the
//! script's pipe ends; in the script's process, before it becomes the script, `setpgid`,
//! `prctl(PR_SET_PDEATHSIG)`, `dup2` twice, `fcntl(F_SETFD)` twice, `fchdir`,
//! `rt_sigaction(SIGPIPE)` and `execveat`; at the end, in the connection's child, `kill`
//! of the group and `wait4`.

use super::Script;
use super::env::{Block, Pointers};
use crate::errno;
use crate::log;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::AtFlags;
use rustix::io::{Errno, FdFlags, fcntl_setfd};
use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::{Pid, Signal, WaitOptions, WaitStatus, fchdir, kill_process, kill_process_group, setpgid, waitpid};
use rustix::process::set_parent_process_death_signal;
use rustix::runtime::{Fork, KernelSigaction, execveat, kernel_fork, kernel_sigaction};
use rustix::stdio::{dup2_stdin, dup2_stdout};

/// A running script: its pid (until it is reaped), and the connection child's ends of
/// its pipes.
pub struct Process {
    pid: Option<Pid>,
    /// Its stdin; dropped (closed) when the body is all written, so the script sees EOF.
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
}

/// A step that failed, and why: for the event line.
pub type Failure = (&'static str, Errno);

/// Starts `script` with the arguments and environment in `block`. `conn`, the client's
/// connection, is not passed on.
///
/// The pipes are close-on-exec: the script's process keeps only the copies `dup2` puts
/// on 0 and 1, and the connection's child closes the script's ends after the fork, so
/// each side sees EOF when the other is done.
pub fn spawn(script: &Script<'_>, block: &Block, conn: BorrowedFd<'_>) -> Result<Process, Failure> {
    let (stdin_read, stdin_write) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| ("pipe2", e))?;
    let (stdout_read, stdout_write) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| ("pipe2", e))?;
    // SAFETY: the connection's child is single-threaded; the new process only makes
    // syscalls on memory it owns (its copy of `block`) until it executes the script.
    match unsafe { kernel_fork() } {
        Ok(Fork::Child(_)) => become_script(script, block, conn, &stdin_read, &stdout_write),
        Ok(Fork::ParentOf(pid)) => Ok(Process { pid: Some(pid), stdin: Some(stdin_write), stdout: stdout_read }),
        Err(e) => Err(("fork", e)),
    }
}

/// In the new process: arrange descriptors, directory and signals, then `execveat`. On
/// failure: one event line and exit status 127 (the shells' "cannot execute"); the
/// connection's child sees the output end before a header block and answers 502.
fn become_script(script: &Script<'_>, block: &Block, conn: BorrowedFd<'_>, stdin: &OwnedFd, stdout: &OwnedFd) -> ! {
    let mut pointers = Pointers::default();
    let (argv, envp) = block.pointers(&mut pointers);
    let step = |name: &'static str| move |e: Errno| (name, e);
    let failed: Failure = (|| {
        // Its own group, so that killing the group at the end ends whatever it started.
        setpgid(None, None).map_err(step("setpgid"))?;
        // If the connection's child is SIGKILLed (forkhttpd's grace period is over), the
        // script must not run on as an orphan.
        set_parent_process_death_signal(Some(Signal::KILL)).map_err(step("prctl"))?;
        dup2_stdin(stdin).map_err(step("dup2"))?;
        dup2_stdout(stdout).map_err(step("dup2"))?;
        // The client's connection is the server's: the script talks to stdin and stdout.
        fcntl_setfd(conn, FdFlags::CLOEXEC).map_err(step("fcntl"))?;
        // The close-on-exec trap: the kernel starts a `#!` script's interpreter with
        // `/dev/fd/N` as the script's path, so N must stay open across the exec (and
        // /proc must be mounted, which /dev/fd points into). The script inherits it.
        fcntl_setfd(script.file, FdFlags::empty()).map_err(step("fcntl"))?;
        fchdir(script.dir).map_err(step("fchdir"))?;
        // forkhttpd ignores SIGPIPE, and an ignored signal stays ignored across exec: a
        // script writing to a closed pipe should die of it, as everywhere else.
        default_action(Signal::PIPE).map_err(step("rt_sigaction"))?;
        // SAFETY: `argv` and `envp` are NULL-terminated arrays of pointers to the
        // NUL-terminated strings of `block`, which this process does not change.
        Err(("execveat", unsafe { execveat(script.file, c"", argv, envp, AtFlags::EMPTY_PATH) }))
    })()
    .unwrap_or_else(|failed| failed);
    event(script.name, &mut |line| {
        line.push(b"cannot run it: ").push(failed.0.as_bytes()).push(b": ");
        errno::write(line, failed.1);
    });
    rustix::runtime::exit_group(127)
}

/// Resets `sig` to its default action: one `rt_sigaction`. (A default action needs no
/// `SA_RESTORER` trampoline: no handler returns.)
pub fn default_action(sig: Signal) -> Result<(), Errno> {
    // SAFETY: installs no handler, only the kernel's default.
    unsafe { kernel_sigaction(sig, Some(KernelSigaction::default())) }.map(drop)
}

impl Process {
    /// Kills the script's process group and reaps the script; its status, the first
    /// time. Killed even after a normal exit: what it left running in its group goes too.
    pub fn end(&mut self) -> Option<WaitStatus> {
        let pid = self.pid.take()?;
        // ESRCH: the group does not exist yet because the script's `setpgid` has not
        // run, so the script has started nothing yet: killing it alone is enough.
        if let Err(Errno::SRCH) = kill_process_group(pid, Signal::KILL) {
            let _ = kill_process(pid, Signal::KILL);
        }
        loop {
            match waitpid(Some(pid), WaitOptions::empty()) {
                Err(Errno::INTR) => continue,
                Ok(Some((_, status))) => return Some(status),
                _ => return None,
            }
        }
    }

    pub fn stdout(&self) -> BorrowedFd<'_> {
        self.stdout.as_fd()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.end();
    }
}

/// `forkhttpd: NAME: ` and what `build` appends: the events of a script name it.
pub fn event(name: &[u8], build: &mut dyn FnMut(&mut crate::buf::Buf)) {
    log::event(&mut |line| {
        line.push(name).push(b": ");
        build(line);
    });
}

/// Appends how the script ended: `exited with status 1`, `killed by SIGSEGV`.
pub fn write_status(line: &mut crate::buf::Buf, status: Option<WaitStatus>) {
    match status.map(|s| (s.terminating_signal(), s.exit_status())) {
        Some((Some(sig), _)) => {
            line.push(b"killed by ");
            errno::write_signal(line, sig);
        }
        Some((None, Some(code))) => {
            line.push(b"exited with status ").num(code.unsigned_abs().into());
        }
        _ => {
            line.push(b"ended");
        }
    }
}
