//! Iterative server - webserver3a: one client at a time, each served to the end before
//! the next is accepted.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::net::accept;

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Iterative server: serves one client at a time (the article's webserver3a.py).";
const REQUEST_QUEUE_SIZE: i32 = 5;

fn handle_request(client_connection: &OwnedFd) {
    let mut buf = [0; 1024];
    let request = stage::recv_request(client_connection, &mut buf);
    stage::print(request);
    stage::sendall(client_connection, stage::RESPONSE);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3a", unsafe { Strings::new(argv) }, stage::SERVER, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);

    loop {
        let client_connection = stage::check("accept", accept(&listen_socket));
        handle_request(&client_connection);
        drop(client_connection); // client_connection.close()
    }
}
