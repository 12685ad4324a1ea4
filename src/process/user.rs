//! `--user UID[:GID]`: giving up root once the port is bound. `setgroups` (to none),
//! `setgid`, `setuid`, in that order (after `setuid` the others would be refused), each
//! checked: a server that believes it dropped root and did not is worse than one that
//! does not start. The syscalls change the calling thread's ids only; forkhttpd has one.

use crate::config::Ids;
use crate::errno::Error;
use rustix::process::{Gid, Uid};
use rustix::thread::{set_thread_gid, set_thread_groups, set_thread_uid};

/// Becomes `ids`; on failure, the step that failed and why.
pub fn become_user(ids: Ids) -> Result<(), Error> {
    set_thread_groups(&[]).map_err(Error::of("setgroups"))?;
    // The command line refuses -1 (4294967295), which the kernel reads as "unchanged".
    set_thread_gid(Gid::from_raw(ids.gid)).map_err(Error::of("setgid"))?;
    set_thread_uid(Uid::from_raw(ids.uid)).map_err(Error::of("setuid"))
}
