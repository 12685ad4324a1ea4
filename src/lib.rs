//! forkhttpd: a tiny, static, libc-free HTTP server that forks a process per connection.
//!
//! The binaries (`src/main.rs`) are `no_std`/`no_main` programs started by `origin`; every
//! syscall goes through `rustix`. All logic lives here, one module per concern, so that it
//! can be unit-tested with std (`cargo test` builds this crate with `cfg(test)`).
//!
//! Nothing in this crate allocates, and nothing on the server's paths may panic: in a
//! no-libc binary a panic is an illegal instruction. Slices are reached with `get`, never
//! by indexing.
#![cfg_attr(not(test), no_std)]

pub mod addr;
pub mod arch;
pub mod argv;
pub mod buf;
pub mod cgi;
pub mod child;
pub mod children;
pub mod clock;
pub mod config;
pub mod errno;
pub mod files;
pub mod http;
pub mod ids;
pub mod listener;
pub mod log;
pub mod server;
pub mod shared;
pub mod signals;
pub mod stacks;
pub mod stage;
pub mod sys;
pub mod workers;

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
