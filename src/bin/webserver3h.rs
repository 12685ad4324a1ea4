//! Concurrent gateway - webserver3h: the article's exercise, Part 2's WSGI server made
//! concurrent. 3g's loop, unchanged; the child runs PROGRAM as a CGI/1.1 program for the
//! request (a WSGI application runs that way through wsgiref.handlers.CGIHandler), so
//! every request has a process of its own and ten slow requests take the time of one.
#![no_std]
#![no_main]

use core::net::SocketAddr;
use core::time::Duration;
use forkhttpd::argv::Strings;
use forkhttpd::cgi::{self, Request, Script, Server};
use forkhttpd::clock;
use forkhttpd::config::DEFAULT_MAX_BODY;
use forkhttpd::http::request::Message;
use forkhttpd::http::{HEAD_MAX, Status, response, target};
use forkhttpd::process::signals::{self, Flags, Signal};
use forkhttpd::stage::{self, Program, Stage};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::acceptfrom;
use rustix::process::{WaitOptions, wait};
use rustix::runtime::{Fork, kernel_fork, kernel_sig_ign};

forkhttpd::no_libc_binary!();

const ABOUT: &str = "Concurrent gateway: 3g's loop, and each child runs PROGRAM as a CGI/1.1\n\
                     program for its request, e.g. a WSGI app through wsgiref's CGIHandler\n\
                     (the article's exercise, webserver3h.py).";
const REQUEST_QUEUE_SIZE: i32 = 1024;

extern "C" fn grim_reaper(_signum: i32) {
    loop {
        // Wait for any child process (-1); do not block (WNOHANG).
        match wait(WaitOptions::NOHANG) {
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return, // no more zombies
        }
    }
}

/// What every request shares: the application, and the server's side of the gateway.
struct Gateway {
    program: Program,
    args: Strings,
    env: Strings,
    port: u16,
    timeout: u32,
}

fn handle_request(client_connection: &OwnedFd, client_address: Option<&SocketAddr>, gateway: &Gateway) {
    let deadline = clock::monotonic() + Duration::from_secs(gateway.timeout.into());
    let mut buf = [0; HEAD_MAX];
    let Some(received) = stage::recv_head(client_connection, &mut buf, gateway.timeout) else { return };
    let request = buf.get(..received).unwrap_or(&[]);
    let Ok(message) = Message::lex(request) else { return };
    stage::print(request.get(..message.len).unwrap_or(request));

    // One program answers every path: SCRIPT_NAME is empty, PATH_INFO the whole path.
    let mut path = [0; HEAD_MAX];
    let Some(target) = target::decode(message.target, &mut path) else {
        let mut out = forkhttpd::buf::Buf::new();
        response::write(&mut out, Status::BadRequest, false, response::CLOSE, clock::unix_seconds());
        return stage::sendall(client_connection, out.as_bytes());
    };
    let program = &gateway.program;
    let script = Script { dir: program.dir.as_fd(), name: program.path, checked: program.checked, follow: true, filename: &[program.absolute()], args: Some(gateway.args) };
    let query = target.query.unwrap_or(b"");
    let request = Request { message: &message, received: request, script_name: b"", path_info: target.path, query, peer: client_address, user: None };
    let timeout = Duration::from_secs(gateway.timeout.into());
    let server = Server { env: gateway.env, port: gateway.port, document_root: None, max_body: DEFAULT_MAX_BODY, deadline, timeout, reply: None };
    cgi::serve(client_connection, &script, &request, &server);
}

#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv and envp, which live as long as the process.
    let (args, env) = unsafe { (Strings::new(argv), Strings::new(envp)) };
    let stage = Stage::start_gateway("webserver3h", args, ABOUT);
    // The application is loaded once, as Part 2's server imports it: PROGRAM is opened.
    let mut args = stage.program.unwrap_or(args);
    let program = Program::open(stage.name, args.next().unwrap_or(b""));
    let (listen_socket, port) = stage.listen_port(REQUEST_QUEUE_SIZE);
    let gateway = Gateway { program, args, env, port, timeout: stage.timeout };

    // Python's signal.signal(): no SA_RESTART. And Python ignores SIGPIPE from the start.
    signals::set(Signal::CHILD, Some(grim_reaper), Flags::empty());
    signals::set(Signal::PIPE, kernel_sig_ign(), Flags::empty());

    loop {
        let (client_connection, client_address) = match acceptfrom(&listen_socket) {
            Ok(accepted) => accepted,
            Err(Errno::INTR) => continue, // restart 'accept' if it was interrupted
            Err(e) => stage::die("accept", e),
        };
        // SAFETY: single-threaded, so the child starts with consistent memory.
        match stage::check("fork", unsafe { kernel_fork() }) {
            Fork::Child(_) => {
                drop(listen_socket); // close child copy
                let client_address = client_address.and_then(|a| SocketAddr::try_from(a).ok());
                handle_request(&client_connection, client_address.as_ref(), &gateway);
                drop(client_connection);
                stage::exit(0)
            }
            Fork::ParentOf(_) => drop(client_connection), // close parent copy and loop over
        }
    }
}
