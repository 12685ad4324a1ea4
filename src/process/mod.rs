//! The process model: who accepts and forks. The parent is started by `main`, in one of
//! two models, and supervises its children until a stop:
//!
//! - [`fork`]: the article's fork per connection, on a stack of the parent's own
//!   ([`stacks`]), each child serving one connection (`conn::serve`);
//! - [`prefork`]: Apache's prefork, `--workers N` workers kept ready, each serving one
//!   connection after another (`conn::connection`), with the scoreboard.
//!
//! Both share: [`accept`] (`accept4` and its episodes), [`table`] (the pid table, the
//! SIGCHLD reaper, the waits at the cap and at the stop), [`signals`] (the stop, SIGPIPE,
//! SIGUSR1's installation), [`user`] (`--user`, once the port is bound), and
//! [`sandbox`] (seccomp and Landlock, after that).

pub mod accept;
pub mod fork;
pub mod prefork;
pub mod sandbox;
pub mod signals;
pub mod stacks;
pub mod table;
pub mod user;

use core::time::Duration;

/// At the cap, in both models, how long the parent gives an asked child or worker to make
/// room before it asks the next oldest (one in the middle of a response makes room only
/// when it is done).
const ROUND: Duration = Duration::from_millis(20);
