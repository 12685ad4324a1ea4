//! CGI/1.1 (RFC 3875): the connection's child runs a program for the request, the way
//! Unix servers always ran applications: it forks, the new process executes the script
//! with the request in its environment and the body on its stdin, and what the script
//! writes on its stdout becomes the response. A WSGI application runs that way through
//! Python's `wsgiref.handlers.CGIHandler`.
//!
//! [`serve`] does it all, for forkhttpd's child (a script it opened beneath its root)
//! and for webserver3h (one program for every request):
//! - `env`: the argument list and environment, in a fixed region (no allocator);
//! - `process`: the pipes, the fork, the exec, and at the end the kill and the reap;
//! - `relay`: the `poll(2)` loop between the client and the script;
//! - [`crate::http::cgi`]: the script's header block, parsed, and the response head.
//!
//! Responses: the script's status and fields, with `Date` and `Connection: close`, then
//! its body as it writes it (`Content-Length` when it gave one, else the close ends the
//! body; HEAD gets the head only). Errors, each also a one-line event on stderr naming
//! the script: a chunked request body 411 (only `Content-Length` bodies are passed on),
//! an environment that does not fit 431, no pipe or process 503, output that ends before
//! a complete header block or a malformed block 502, no header block within the deadline
//! 504 (408 if the client is still sending the body then); a client that goes away ends
//! the script. In every case, when `serve` returns, the script's process group has been
//! SIGKILLed and the script reaped: no script process is left running or unreaped.
//!
//! What the caller must have done: SIGPIPE ignored (the body is written to a pipe the
//! script may have closed); every descriptor other than `conn` close-on-exec (the
//! script inherits no other; `conn` is made close-on-exec in the script's process);
//! `SO_SNDTIMEO` on `conn` (forkhttpd and webserver3h set it on the listening socket),
//! or a client that stops reading holds the child and its script until it reads again.
//! `serve` resets SIGCHLD to its default action in the calling process: an inherited
//! reaper (`wait4(-1)`, forkhttpd's and 3g's) would take the script's exit status from
//! it. Syscalls of its own: `rt_sigaction(SIGCHLD)`; `getsockname` only for a request
//! without `Host`; the rest are `process`'s and `relay`'s.

pub mod env;
pub mod process;
mod relay;

use crate::addr;
use crate::argv::Strings;
use crate::buf::Buf;
use crate::clock;
use crate::log::Cut;
use crate::http::request::{Message, decimal, is};
use crate::http::{Status, response};
use core::net::SocketAddr;
use core::time::Duration;
use env::{Block, Vars};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, fstat};
use rustix::io::Errno;
use rustix::process::Signal;

/// What to run.
pub struct Script<'a> {
    /// The program, opened by the caller (`O_PATH` is enough, and `O_CLOEXEC` is right:
    /// only the script's process clears it). It is executed with `execveat(file, "",
    /// AT_EMPTY_PATH)`, so what runs is what was opened and checked, whatever happens
    /// to the path meanwhile. A `#!` script's interpreter reads it as `/dev/fd/N`: it
    /// must be readable, and /proc mounted.
    pub file: BorrowedFd<'a>,
    /// Its directory, the script's working directory (`O_PATH | O_DIRECTORY`).
    pub dir: BorrowedFd<'a>,
    /// `argv[0]`, and the name the event lines give.
    pub name: &'a [u8],
    /// More arguments (webserver3h's `ARGS`); forkhttpd passes none.
    pub args: Option<Strings>,
}

/// What the client asked.
pub struct Request<'a> {
    /// The request head, lexed from the start of `received`.
    pub message: &'a Message<'a>,
    /// Every byte received so far: the head, then the part of the body that came with it.
    pub received: &'a [u8],
    /// `SCRIPT_NAME`: the decoded path that names the script (`/cgi-bin/app.py`), or
    /// empty when one program answers every path.
    pub script_name: &'a [u8],
    /// `PATH_INFO`: the decoded rest of the path after the script's name, or empty.
    pub path_info: &'a [u8],
    /// `QUERY_STRING`: after the `?`, as received (still percent-encoded); empty if none.
    pub query: &'a [u8],
    /// The client's address: `REMOTE_ADDR`, `REMOTE_PORT`.
    pub peer: Option<&'a SocketAddr>,
}

/// What the server brings.
pub struct Server<'a> {
    /// The server's own environment, passed on to the script (see `env`).
    pub env: Strings,
    /// `SERVER_PORT`: the port the server listens on.
    pub port: u16,
    /// The directory `PATH_INFO` is translated under (`PATH_TRANSLATED`), if any.
    pub document_root: Option<&'a [u8]>,
    /// Monotonic time (`clock::monotonic`) by which the script's header block must be
    /// complete: the connection's deadline.
    pub deadline: Duration,
    /// After the header block, the longest the script may write nothing (a client that
    /// reads nothing is `conn`'s `SO_SNDTIMEO`'s), and the number the events give.
    pub timeout: Duration,
}

/// What happened, for the access log.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The status sent; 0 if no response was (the client went away first).
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Why the response was not sent whole, if it was not.
    pub cut: Option<Cut>,
    /// Bytes of the request may be left unread on the connection: close it by draining
    /// (`shutdown(SHUT_WR)`, read until EOF), or the kernel answers them with RST.
    pub unread: bool,
}

/// Whether the opened `file` may run as a script: a regular file with an execute bit
/// (`fstat`). Else why not, for a one-line message: forkhttpd answers 403, webserver3h
/// does not start. (Whether this user may execute it, `execveat` alone knows: EACCES
/// there is a 502.)
pub fn check(file: BorrowedFd<'_>) -> Result<(), (&'static [u8], Option<Errno>)> {
    let stat = fstat(file).map_err(|e| (&b"fstat: "[..], Some(e)))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err((b"not a regular file", None));
    }
    if stat.st_mode & 0o111 == 0 {
        return Err((b"not executable (chmod +x it)", None));
    }
    Ok(())
}

/// Runs `script` for `request` on `conn` and relays its response; returns once the
/// script's process group is killed and the script reaped.
pub fn serve(conn: &OwnedFd, script: &Script<'_>, request: &Request<'_>, server: &Server<'_>) -> Outcome {
    let message = request.message;
    let head_only = message.method == b"HEAD";
    let length = match body_length(message) {
        Ok(length) => length,
        Err(status) => return respond(conn, status, head_only, true),
    };
    let mut local = Buf::new();
    let server_name = match env::host_name(message) {
        Some(host) => host,
        None => {
            // HTTP/1.0 without Host: the address the client reached (RFC 3875 §4.1.14).
            let name = rustix::net::getsockname(conn).ok().and_then(|a| SocketAddr::try_from(a).ok());
            if let Some(name) = name {
                addr::write_ip(&mut local, &name.ip());
            }
            local.as_bytes()
        }
    };
    let mut remote = Buf::new();
    if let Some(peer) = request.peer {
        addr::write_ip(&mut remote, &peer.ip());
    }
    let vars = Vars {
        server_name,
        server_port: server.port,
        script_name: request.script_name,
        path_info: request.path_info,
        query: request.query,
        document_root: server.document_root,
        remote: request.peer.map(|peer| (remote.as_bytes(), peer.port())),
        length,
    };
    let mut block = Block::new();
    let built = (|| {
        block.add(script.name, b"")?;
        for arg in script.args.into_iter().flatten() {
            block.add(arg, b"")?;
        }
        block.end_arguments();
        env::build(&mut block, message, &vars, server.env)
    })();
    if built.is_err() {
        process::event(script.name, &mut |line| {
            line.push(b"the request's environment does not fit in 32 KiB: 431");
        });
        return respond(conn, Status::HeaderFieldsTooLarge, head_only, true);
    }
    // The script's exit is this process's to collect, not an inherited reaper's.
    let _ = process::default_action(Signal::CHILD);
    let mut running = match process::spawn(script, &block, conn.as_fd()) {
        Ok(running) => running,
        Err((step, e)) => {
            process::event(script.name, &mut |line| {
                line.push(step.as_bytes()).push(b": ");
                crate::errno::write(line, e);
                line.push(b": 503");
            });
            return respond(conn, Status::ServiceUnavailable, head_only, true);
        }
    };
    let after_head = request.received.get(message.len..).unwrap_or(&[]);
    let early = after_head.get(..usize::try_from(length).unwrap_or(usize::MAX)).unwrap_or(after_head);
    let mut relay = relay::Relay {
        conn,
        name: script.name,
        head_only,
        body_left: length - early.len() as u64,
        deadline: server.deadline,
        timeout: server.timeout,
    };
    let mut outcome = relay.run(&mut running, early);
    running.end();
    outcome.unread |= after_head.len() > early.len();
    outcome
}

/// The request body's length: `Content-Length`, or 0. A chunked body earns 411: the
/// script is promised a `CONTENT_LENGTH`. An invalid length, or two that differ, 400.
fn body_length(message: &Message<'_>) -> Result<u64, Status> {
    let mut length = None;
    for (name, value) in message.fields() {
        if is(name, b"transfer-encoding") {
            return Err(Status::LengthRequired);
        }
        if is(name, b"content-length") {
            match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Err(Status::BadRequest),
            }
        }
    }
    Ok(length.unwrap_or(0))
}

/// Sends the plain response for `status` (an error, instead of the script's).
fn respond(conn: &OwnedFd, status: Status, head_only: bool, unread: bool) -> Outcome {
    let mut out = Buf::new();
    let body = response::write(&mut out, status, head_only, response::CLOSE, clock::unix_seconds());
    let cut = relay::send_pieces(conn, &mut [out.as_bytes()]).err().map(Cut::from);
    Outcome { status: status.code(), bytes: if cut.is_none() { body } else { 0 }, cut, unread }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lengths() {
        let length = |head: &[u8]| body_length(&Message::lex(head).unwrap_or_else(|_| panic!()));
        assert_eq!(length(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Ok(0));
        assert_eq!(length(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), Ok(12));
        assert_eq!(length(b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n"), Ok(1));
        assert_eq!(length(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(length(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(length(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Err(Status::LengthRequired));
    }
}
