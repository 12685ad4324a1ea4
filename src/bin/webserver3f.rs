//! Concurrent server - webserver3f: accept is called again when a signal interrupted it.
//! But the handler waits for one child per SIGCHLD, and the kernel does not queue a
//! SIGCHLD that is already pending: after a burst of exits, some children stay zombies.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::process::signals::{self, Flags, Signal};
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::accept;
use rustix::process::{WaitOptions, wait};
use rustix::runtime::{Fork, kernel_fork};

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Concurrent server that restarts an interrupted accept but reaps one child per\n\
                     SIGCHLD: a burst of exits leaves zombies (the article's webserver3f.py).";
const REQUEST_QUEUE_SIZE: i32 = 1024;

extern "C" fn grim_reaper(_signum: i32) {
    let _ = wait(WaitOptions::empty()); // pid, status = os.wait()
}

fn handle_request(client_connection: &OwnedFd) {
    let mut buf = [0; 1024];
    let request = stage::recv_request(client_connection, &mut buf);
    stage::print(request);
    stage::sendall(client_connection, stage::RESPONSE);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3f", unsafe { Strings::new(argv) }, stage::SERVER, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);

    // Python's signal.signal(): no SA_RESTART.
    signals::set(Signal::CHILD, Some(grim_reaper), Flags::empty());

    loop {
        let client_connection = match accept(&listen_socket) {
            Ok(connection) => connection,
            Err(Errno::INTR) => continue, // restart 'accept' if it was interrupted
            Err(e) => stage::die("accept", e),
        };
        // SAFETY: single-threaded, so the child starts with consistent memory.
        match stage::check("fork", unsafe { kernel_fork() }) {
            Fork::Child(_) => {
                drop(listen_socket); // close child copy
                handle_request(&client_connection);
                drop(client_connection);
                stage::exit(0)
            }
            Fork::ParentOf(_) => drop(client_connection), // close parent copy and loop over
        }
    }
}
