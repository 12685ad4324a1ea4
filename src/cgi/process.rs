//! The script's process: started with its stdin and stdout on pipes (or stdin on the
//! spooled body), descriptors 0, 1 and 2 and no other, in its own process group; at the
//! end killed with that group and reaped, and so is whatever it left running elsewhere:
//! no process started for a request outlives it.
//!
//! The connection's child is a child subreaper (`PR_SET_CHILD_SUBREAPER`): a process the
//! script starts and leaves behind, even one that left its process group and session
//! (`setsid`, the daemon's double fork), is re-parented to it when its parent dies, and
//! [`end_adopted`] SIGKILLs and reaps every such child before the connection's child
//! exits. (If the connection's child is itself SIGKILLed, by the grace period, the
//! script dies with it (`PR_SET_PDEATHSIG`) and the server's parent, a subreaper too with
//! `--cgi`, adopts and ends the rest.)
//!
//! Syscalls: in the connection's child, `prctl(PR_SET_CHILD_SUBREAPER)`, `pipe2` (twice,
//! once with a spooled body), `clone` (fork) and `close` of the script's pipe ends; in
//! the script's process, before it becomes the script, `setpgid`,
//! `prctl(PR_SET_PDEATHSIG)`, `dup2` twice, `fchdir`, `newfstatat` (the entry is still
//! the inode checked), `close_range` (every descriptor from 3 up), `rt_sigaction(SIGPIPE)`
//! and `execveat`; at the end, in the connection's child, `kill` of the group, `wait4`
//! of the script, and `wait4(-1, WNOHANG)`, which finds no other child unless the script
//! left one (then `openat`, `read` and `close` of `/proc/thread-self/children`, a
//! `kill` each, and a `wait4` each).
#![allow(unsafe_code)] // unsafe: fork, exec, and raw descriptors closed before the exec.

use super::Script;
use super::env::{Block, Pointers};
use crate::buf::Buf;
use crate::errno::{self, Error};
use crate::log;
use crate::sys;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, statat};
use rustix::io::Errno;
use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::{Pid, Signal, WaitOptions, WaitStatus, fchdir, kill_process, kill_process_group, setpgid, wait, waitpid};
use rustix::process::{set_child_subreaper, set_parent_process_death_signal};
use rustix::runtime::{Fork, KernelSigaction, execveat, kernel_fork, kernel_sigaction};
use rustix::stdio::{dup2_stdin, dup2_stdout};

/// A running script: its pid (until it is reaped), and the connection child's ends of
/// its pipes.
pub struct Process {
    pid: Option<Pid>,
    /// Its stdin; dropped (closed) when the body is all written, so the script sees EOF.
    /// None when the body was spooled (its stdin is the spool) or has been written.
    pub stdin: Option<OwnedFd>,
/// Its stdout: the response, as the script writes it.
    pub stdout: OwnedFd,
}

/// Starts `script` with the arguments and environment in `block`; its stdin is `spool`
/// (a spooled body) or a pipe.
///
/// The pipes are close-on-exec, and the script's process closes every descriptor from 3
/// up before the exec: the script keeps only the copies `dup2` puts on 0 and 1 (and the
/// server's stderr), and the connection's child closes the script's ends after the fork,
/// so each side sees EOF when the other is done.
pub fn spawn(script: &Script<'_>, block: &Block, spool: Option<BorrowedFd<'_>>) -> Result<Process, Error> {
    // What the script leaves behind comes back here (see the module's doc). Pid 1 stands
    // for "on": rustix passes the pid as prctl's flag.
    set_child_subreaper(Some(Pid::INIT)).map_err(Error::of("prctl"))?;
    let pipe = match spool {
        Some(_) => None,
        None => Some(pipe_with(PipeFlags::CLOEXEC).map_err(Error::of("pipe2"))?),
    };
    let (stdout_read, stdout_write) = pipe_with(PipeFlags::CLOEXEC).map_err(Error::of("pipe2"))?;
    // SAFETY: the connection's child is single-threaded; the new process only makes
    // syscalls on memory it owns (its copy of `block`) until it executes the script.
    match unsafe { kernel_fork() } {
        Ok(Fork::Child(_)) => {
            let stdin = spool.or_else(|| pipe.as_ref().map(|(read, _)| read.as_fd()));
            become_script(script, block, stdin, &stdout_write)
        }
        Ok(Fork::ParentOf(pid)) => Ok(Process { pid: Some(pid), stdin: pipe.map(|(_, write)| write), stdout: stdout_read }),
        Err(e) => Err(Error { call: "fork", errno: e }),
    }
}

/// In the new process: arrange descriptors, directory and signals, then `execveat`. On
/// failure: one event line and exit status 127 (the shells' "cannot execute"); the
/// connection's child sees the output end before a header block and answers 502.
fn become_script(script: &Script<'_>, block: &Block, stdin: Option<BorrowedFd<'_>>, stdout: &OwnedFd) -> ! {
    let mut pointers = Pointers::default();
    let (argv, envp) = block.pointers(&mut pointers);
    let path = block.program();
    let flags = if script.follow { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
    let failed = (|| {
        // Its own group, so that killing the group at the end ends whatever it started.
        setpgid(None, None).map_err(Error::of("setpgid"))?;
        // If the connection's child is SIGKILLed (forkhttpd's grace period is over), the
        // script must not run on as an orphan.
        set_parent_process_death_signal(Some(Signal::KILL)).map_err(Error::of("prctl"))?;
        if let Some(stdin) = stdin {
            dup2_stdin(stdin).map_err(Error::of("dup2"))?;
        }
        dup2_stdout(stdout).map_err(Error::of("dup2"))?;
        // The script runs by a path that names it, `./NAME` in its own directory, so that
        // it finds itself (`$0`, `__file__`) and the files beside it. Looked up in the
        // directory that was checked, its entry must still be the inode that was.
        fchdir(script.dir).map_err(Error::of("fchdir"))?;
        let found = statat(CWD, path, flags).map_err(Error::of("newfstatat"))?;
        if (found.st_dev, found.st_ino) != script.checked {
            return Err(Error { call: "newfstatat", errno: Errno::STALE });
        }
        // Descriptors 0, 1 and 2, and no other: not the connection, not the listening
        // socket, not what the server's launcher left open.
        if let Err(e) = sys::close_from(3) {
            close_each_from(3, e).map_err(Error::of("close_range"))?;
        }
        // forkhttpd ignores SIGPIPE, and an ignored signal stays ignored across exec: a
        // script writing to a closed pipe should die of it, as everywhere else.
        default_action(Signal::PIPE)?;
        // SAFETY: `argv` and `envp` are NULL-terminated arrays of pointers to the
        // NUL-terminated strings of `block`, which this process does not change.
        Err(Error { call: "execveat", errno: unsafe { execveat(CWD, path, argv, envp, flags) } })
    })()
    .unwrap_or_else(|failed| failed);
    event(script.name, &mut |line| {
        line.push(b"cannot run it: ");
        failed.write(line);
        if failed.errno == Errno::STALE {
            line.push(b": the program was replaced since it was checked");
        }
    });
    rustix::runtime::exit_group(127)
}

/// Without `close_range` (Linux < 5.9: ENOSYS), `close` of every descriptor below the
/// limit on descriptors; other errors are `first_error`.
fn close_each_from(first: u32, first_error: Errno) -> Result<(), Errno> {
    if first_error != Errno::NOSYS {
        return Err(first_error);
    }
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(1 << 20);
    for fd in u64::from(first)..limit.min(1 << 20) {
        // SAFETY: this process is about to become another program; nothing here uses
        // these descriptors any more.
        unsafe { rustix::io::close(fd as i32) };
    }
    Ok(())
}

/// Resets `sig` to its default action: one `rt_sigaction`. (A default action needs no
/// `SA_RESTORER` trampoline: no handler returns.)
pub fn default_action(sig: Signal) -> Result<(), Error> {
    // SAFETY: installs no handler, only the kernel's default.
    unsafe { kernel_sigaction(sig, Some(KernelSigaction::default())) }.map(drop).map_err(Error::of("rt_sigaction"))
}

impl Process {
    /// Kills the script's process group and reaps the script, then ends what it left
    /// elsewhere ([`end_adopted`]); the script's status, the first time. Killed even
    /// after a normal exit: what it left running in its group goes too.
    pub fn end(&mut self) -> Option<WaitStatus> {
        let pid = self.pid.take()?;
        // ESRCH: the group does not exist yet because the script's `setpgid` has not
        // run, so the script has started nothing yet: killing it alone is enough.
        if let Err(Errno::SRCH) = kill_process_group(pid, Signal::KILL) {
            let _ = kill_process(pid, Signal::KILL);
        }
        let status = loop {
            match waitpid(Some(pid), WaitOptions::empty()) {
                Err(Errno::INTR) => continue,
                Ok(Some((_, status))) => break Some(status),
                _ => break None,
            }
        };
        end_adopted();
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.end();
    }
}

/// SIGKILLs and reaps every child this process has, until none is left: in a subreaper,
/// the processes a script left running outside its group. The kernel lists a process's
/// children in `/proc/thread-self/children`; without `/proc` they cannot be found, and the
/// one event line says so. Reaps first what has exited already: with nothing left, this
/// is one `wait4`, which fails with ECHILD.
pub fn end_adopted() {
    loop {
        match wait(WaitOptions::NOHANG) {
            Ok(Some(_)) | Err(Errno::INTR) => continue,
            // Children left, none exited: kill them, wait for one, look again.
            Ok(None) => {
                if !kill_children() {
                    return;
                }
                let _ = wait(WaitOptions::empty());
            }
            // ECHILD: none left.
            Err(_) => return,
        }
    }
}

/// SIGKILLs every child listed in `/proc/thread-self/children`; false if none could be.
fn kill_children() -> bool {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let list = match rustix::fs::openat(CWD, c"/proc/thread-self/children", flags, Mode::empty()) {
        Ok(list) => list,
        Err(e) => {
            log::event(&mut |line| {
                line.push(b"cannot list the children a script left (/proc/thread-self/children: ");
                errno::write(line, e);
                line.push(b"): they may outlive the request");
            });
            return false;
        }
    };
    // Space-separated decimal pids; a pid cut by the end of a read is finished by the next.
    let (mut buf, mut killed, mut pid) = ([0u8; 512], false, 0i32);
    while let Ok(n @ 1..) = rustix::io::read(&list, &mut buf) {
        for &b in buf.get(..n).unwrap_or(&[]) {
            if b.is_ascii_digit() {
                pid = pid.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            } else if let Some(child) = Pid::from_raw(core::mem::take(&mut pid)) {
                killed |= kill_process(child, Signal::KILL).is_ok();
            }
        }
    }
    if let Some(child) = Pid::from_raw(pid) {
        killed |= kill_process(child, Signal::KILL).is_ok();
    }
    killed
}

/// `forkhttpd: NAME: ` and what `build` appends: the events of a script name it. The name
/// came from the request: escaped, as every request byte the server writes.
pub fn event(name: &[u8], build: &mut dyn FnMut(&mut Buf)) {
    log::event(&mut |line| {
        log::escape(line, name);
        line.push(b": ");
        build(line);
    });
}

/// Appends how the script ended: `exited with status 1`, `killed by SIGSEGV`.
pub fn write_status(line: &mut Buf, status: Option<WaitStatus>) {
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
