//! Iterative server - webserver3b: as 3a, but the server sleeps 60 seconds after each
//! response; a second client waits, connected, in the listen backlog.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::net::accept;

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Iterative server that sleeps after each response: a second client waits in the\n\
                     listen backlog (the article's webserver3b.py).";
const REQUEST_QUEUE_SIZE: i32 = 5;

fn handle_request(client_connection: &OwnedFd, sleep: u32) {
    let mut buf = [0; 1024];
    let request = stage::recv_request(client_connection, &mut buf);
    stage::print(request);
    stage::sendall(client_connection, stage::RESPONSE);
    stage::sleep(sleep); // sleep and block the process for 60 seconds
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3b", unsafe { Strings::new(argv) }, stage::SLEEPS_60, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);

    loop {
        let client_connection = stage::check("accept", accept(&listen_socket));
        handle_request(&client_connection, stage.sleep);
        drop(client_connection); // client_connection.close()
    }
}
