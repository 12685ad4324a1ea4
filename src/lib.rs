//! forkhttpd: a tiny, static, libc-free HTTP server that forks a process per connection.
//!
//! The binaries (`src/main.rs`, the article's stages in `src/bin/`) are `no_std`/`no_main`
//! programs started by `origin`; every syscall goes through `rustix` (or, for the few it
//! lacks, [`sys`]). All logic lives here, in layers, each using only those below it:
//!
//! 1. [`process`]: the parent and its model: fork per connection, or prefork workers;
//!    the pid table and the reaper, signals, the two stacks, `--user`.
//! 2. [`conn`]: one connection's life: deadlines, heads, keep-alive, the dispatcher that
//!    chooses a handler, the access log line, the clean close.
//! 3. [`handler`]: hello, file, listing, cgi: each answers a request through one response
//!    API ([`handler::Exchange`]).
//! 4. What the handlers use: [`http`] (bytes only, no syscalls: the request lexer and
//!    judge, responses, dates, targets, ranges, entity tags, MIME types, chunked bodies,
//!    a CGI program's header block), [`fs`] (`openat2` beneath the root, `sendfile`,
//!    directory entries), [`cgi`] (a program's process, environment, body and relay),
//!    [`net`] (the listening socket).
//! 5. Underneath all: [`log`] (one line per event or request), [`errno`] (the one error
//!    type, errno and signal names), [`shared`] (the page the processes share),
//!    [`scoreboard`] (a slot per serving process, shared: what each does), [`clock`]
//!    (the vDSO's clocks), [`buf`] (the fixed buffer lines are built in), [`addr`]
//!    (addresses as text), [`argv`], [`sys`] and [`arch`] (syscalls rustix lacks, and the
//!    assembly).
//!
//! Beside them: [`config`] (the command line, as a table of options), [`probe`] (`--probe`,
//! the health check's client) and [`stage`] (what the article's stages share).
//!
//! Nothing in this crate allocates, and nothing on the server's paths may panic: in a
//! no-libc binary a panic is an illegal instruction. Slices are reached with `get`, never
//! by indexing. `unsafe` is denied here and allowed in the modules that need it, each of
//! which says why.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod process;

pub mod conn;

pub mod handler;

pub mod cgi;
pub mod fs;
pub mod http;
pub mod net;

pub mod addr;
pub mod argv;
pub mod buf;
pub mod clock;
pub mod errno;
pub mod log;
pub mod scoreboard;
pub mod shared;
pub mod arch;
pub mod sys;

pub mod config;
pub mod probe;
pub mod stage;

/// Defines what every no-libc binary of this package needs besides `origin_main`.
///
/// - The panic handler: a trap. Nothing here is meant to panic; if something does, the
///   process dies with SIGILL, which its parent logs, instead of running on in a bad state.
/// - `rust_eh_personality`: the precompiled `core` is built for unwinding and its objects
///   refer to it. The release build's LTO drops those references; the debug build that
///   `cargo test` makes of every binary keeps them. Nothing unwinds (the panic handler
///   traps), so it is never called: it only satisfies the linker.
#[macro_export]
macro_rules! no_libc_binary {
    () => {
        #[panic_handler]
        fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
            origin::program::trap()
        }

        #[unsafe(no_mangle)]
        extern "C" fn rust_eh_personality() {}
    };
}
