//! Concurrent server - webserver3d: as 3c without the sleep, and the parent never closes
//! its copy of the client's connection. The client never sees the connection end, the
//! parent runs out of descriptors (EMFILE), and the children it never waits for stay
//! zombies until fork fails (EAGAIN).
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::buf::Buf;
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::net::accept;
use rustix::runtime::{Fork, kernel_fork};

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Concurrent server that leaks: the parent keeps every connection open and never\n\
                     waits for its children (the article's webserver3d.py).";
const REQUEST_QUEUE_SIZE: i32 = 5;

fn handle_request(client_connection: &OwnedFd) {
    let mut buf = [0; 1024];
    stage::recv_request(client_connection, &mut buf);
    stage::sendall(client_connection, stage::RESPONSE);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3d", unsafe { Strings::new(argv) }, stage::SERVER, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);

    let mut clients = 0;
    loop {
        let client_connection = stage::check("accept", accept(&listen_socket));
        clients += 1;
        // SAFETY: single-threaded, so the child starts with consistent memory.
        match stage::check("fork", unsafe { kernel_fork() }) {
            Fork::Child(_) => {
                drop(listen_socket); // close child copy
                handle_request(&client_connection);
                drop(client_connection);
                stage::exit(0) // child exits here
            }
            Fork::ParentOf(_) => {
                // client_connection.close() is missing: the article keeps each one in a
                // list; forgetting it keeps the descriptor open the same way.
                core::mem::forget(client_connection);
                let mut line = Buf::new();
                stage::push_num(&mut line, "", clients);
                stage::print(line.as_bytes());
            }
        }
    }
}
