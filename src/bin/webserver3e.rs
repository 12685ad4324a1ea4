//! Concurrent server - webserver3e: a SIGCHLD handler waits for each child, so no zombie
//! is left. But the handler is installed without SA_RESTART: the first child to exit
//! interrupts the parent's accept, which fails with EINTR, and the server dies.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::buf::Buf;
use forkhttpd::process::signals::{self, Flags, Signal};
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::net::accept;
use rustix::process::{WaitOptions, wait};
use rustix::runtime::{Fork, kernel_fork};

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Concurrent server with a SIGCHLD handler installed without SA_RESTART: the\n\
                     first child's exit makes accept fail with EINTR (the article's webserver3e.py).";
const REQUEST_QUEUE_SIZE: i32 = 5;

/// `pid, status = os.wait()` and a print, async-signal-safely: a buffer on the stack and
/// one `writev`.
extern "C" fn grim_reaper(_signum: i32) {
    if let Ok(Some((pid, status))) = wait(WaitOptions::empty()) {
        let mut line = Buf::new();
        stage::push_num(&mut line, "Child ", pid.as_raw_nonzero().get().into());
        stage::push_num(&mut line, " terminated with status ", status.as_raw().into());
        stage::print(line.byte(b'\n').as_bytes());
    }
}

fn handle_request(client_connection: &OwnedFd, sleep: u32) {
    let mut buf = [0; 1024];
    let request = stage::recv_request(client_connection, &mut buf);
    stage::print(request);
    stage::sendall(client_connection, stage::RESPONSE);
    // sleep to allow the parent to loop over to 'accept' and block there
    stage::sleep(sleep);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3e", unsafe { Strings::new(argv) }, stage::SLEEPS_3, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);

    // Python's signal.signal(): no SA_RESTART.
    signals::set(Signal::CHILD, Some(grim_reaper), Flags::empty());

    loop {
        let client_connection = stage::check("accept", accept(&listen_socket));
        // SAFETY: single-threaded, so the child starts with consistent memory.
        match stage::check("fork", unsafe { kernel_fork() }) {
            Fork::Child(_) => {
                drop(listen_socket); // close child copy
                handle_request(&client_connection, stage.sleep);
                drop(client_connection);
                stage::exit(0)
            }
            Fork::ParentOf(_) => drop(client_connection),
        }
    }
}
