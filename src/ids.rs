//! `--user UID[:GID]`: giving up root once the port is bound. `setgroups` (to none),
//! `setgid`, `setuid`, in that order (after `setuid` the others would be refused), each
//! checked: a server that believes it dropped root and did not is worse than one that
//! does not start. The syscalls change the calling thread's ids only; forkhttpd has one.

use crate::config::Ids;
use rustix::io::Errno;
use rustix::process::{Gid, Uid};
use rustix::thread::{set_thread_gid, set_thread_groups, set_thread_uid};

/// Becomes `ids`; on failure, the step that failed and why.
pub fn become_user(ids: Ids) -> Result<(), (&'static str, Errno)> {
    set_thread_groups(&[]).map_err(|e| ("setgroups", e))?;
    // The command line refuses -1 (4294967295), which the kernel reads as "unchanged".
    set_thread_gid(Gid::from_raw(ids.gid)).map_err(|e| ("setgid", e))?;
    set_thread_uid(Uid::from_raw(ids.uid)).map_err(|e| ("setuid", e))
}
