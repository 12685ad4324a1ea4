//! Concurrent server - webserver3c: a child process per client. The child sleeps 60
//! seconds after its response; other clients are served meanwhile. Parent and child
//! close the descriptors they do not use.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::buf::Buf;
use forkhttpd::stage::{self, Stage};
use rustix::fd::OwnedFd;
use rustix::net::accept;
use rustix::process::{getpid, getppid};
use rustix::runtime::{Fork, kernel_fork};

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Concurrent server: forks a child per client, which sleeps after its response\n\
                     while other clients are served (the article's webserver3c.py).";
const REQUEST_QUEUE_SIZE: i32 = 5;

fn handle_request(client_connection: &OwnedFd, sleep: u32) {
    let mut buf = [0; 1024];
    let request = stage::recv_request(client_connection, &mut buf);
    let mut line = Buf::new();
    stage::push_num(&mut line, "Child PID: ", getpid().as_raw_nonzero().get().into());
    stage::push_num(&mut line, ". Parent PID ", getppid().map_or(0, |p| p.as_raw_nonzero().get()).into());
    stage::print(line.as_bytes());
    stage::print(request);
    stage::sendall(client_connection, stage::RESPONSE);
    stage::sleep(sleep);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv, which lives as long as the process.
    let stage = Stage::start("webserver3c", unsafe { Strings::new(argv) }, stage::SLEEPS_60, ABOUT);
    let listen_socket = stage.listen(REQUEST_QUEUE_SIZE);
    let mut line = Buf::new();
    stage::push_num(&mut line, "Parent PID (PPID): ", getpid().as_raw_nonzero().get().into());
    stage::print(line.byte(b'\n').as_bytes());

    loop {
        let client_connection = stage::check("accept", accept(&listen_socket));
        // SAFETY: single-threaded, so the child starts with consistent memory.
        match stage::check("fork", unsafe { kernel_fork() }) {
            Fork::Child(_) => {
                drop(listen_socket); // close child copy
                handle_request(&client_connection, stage.sleep);
                drop(client_connection);
                stage::exit(0) // child exits here
            }
            Fork::ParentOf(_) => drop(client_connection), // close parent copy and loop over
        }
    }
}
