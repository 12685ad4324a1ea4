//! CGI/1.1 (RFC 3875): the connection's child runs a program for the request, the way
//! Unix servers always ran applications: it forks, the new process executes the script
//! with the request in its environment and the body on its stdin, and what the script
//! writes on its stdout becomes the response. A WSGI application runs that way through
//! Python's `wsgiref.handlers.CGIHandler`; php-cgi and Perl scripts run as they do under
//! Apache.
//!
//! [`serve`] does it all, for forkhttpd's child (a script it found beneath its root)
//! and for webserver3h (one program for every request):
//! - `env`: the argument list and environment, in a fixed region (no allocator);
//! - `spool`: a chunked request body, decoded into an anonymous file before the script
//!   starts;
//! - `process`: the pipes, the fork, the exec, and at the end the kill and the reap of
//!   the script and of whatever it left;
//! - `relay`: the `poll(2)` loop between the client and the script;
//! - [`crate::http::header_block`]: the script's header block, parsed, and the response head.
//!
//! Responses: the script's status and fields, with `Date` and `Connection: close`, then
//! its body as it writes it (`Content-Length` when it gave one, else the close ends the
//! body; HEAD gets the head only). The request's errors: a body over `--max-body` 413,
//! a malformed chunked body 400, a transfer coding other than `chunked` 501, a chunked
//! body not complete within the deadline 408. The script's, each also a one-line event
//! on stderr naming the script: an environment that does not fit 431, no pipe or process
//! 503, output that ends before a complete header block or a malformed block 502, no
//! header block within the deadline 504 (408 if the client is still sending the body
//! then); a client that goes away ends the script. In every case, when `serve` returns,
//! the script's process group has been SIGKILLed, the script reaped, and every process
//! it left elsewhere killed and reaped: no process started for the request outlives it.
//!
//! What the caller must have done: SIGPIPE ignored (the body is written to a pipe the
//! script may have closed); `SO_SNDTIMEO` on `conn` (forkhttpd and webserver3h set it on
//! the listening socket), or a client that stops reading holds the child and its script
//! until it reads again. The script gets descriptors 0, 1 and 2 only, whatever the
//! caller has open. `serve` resets SIGCHLD to its default action in the calling
//! process: an inherited reaper (`wait4(-1)`, forkhttpd's and 3g's) would take the
//! script's exit status from it. Syscalls of its own: `rt_sigaction(SIGCHLD)`;
//! `getsockname` only for a request without `Host`; the rest are `spool`'s, `process`'s
//! and `relay`'s.

pub mod env;
pub mod process;
mod relay;
mod spool;

use crate::argv::Strings;
use crate::buf::Buf;
use crate::http::Status;
use crate::http::request::{Message, decimal, is};
use crate::log::Cut;
use crate::addr;
use core::net::SocketAddr;
use core::time::Duration;
use env::{Block, Vars};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use core::ffi::CStr;
use rustix::fs::{AtFlags, FileType, statat};
use rustix::io::Errno;
use rustix::process::Signal;

/// What to run: the entry `name` of the directory `dir`, checked by [`check`], executed
/// as `./NAME` from `dir` (its working directory), so that the program finds itself and
/// what lies beside it, and the directory that was checked is the one whose entry runs.
pub struct Script<'a> {
    /// The program's directory (`O_PATH | O_DIRECTORY`), opened by the caller.
    pub dir: BorrowedFd<'a>,
    /// The program as the event lines name it: its entry in `dir` (forkhttpd), or the
    /// path whose last segment that entry is (webserver3h: the path as given).
    pub name: &'a [u8],
    /// What [`check`] found there (`st_dev`, `st_ino`): the exec must find the same.
    pub checked: (u64, u64),
    /// Whether a symlink entry is followed: webserver3h's operator names the program;
    /// forkhttpd checks the entry itself, so a symlink there is refused (`AT_SYMLINK_NOFOLLOW`).
    pub follow: bool,
    /// `SCRIPT_FILENAME`, the program's absolute path, in pieces.
    pub filename: &'a [&'a [u8]],
    /// More arguments (webserver3h's `ARGS`); forkhttpd passes none.
    pub args: Option<Strings>,
}

impl Script<'_> {
    /// The program's entry in `dir`: the last segment of `name`.
    pub fn entry(&self) -> &[u8] {
        self.name.rsplit(|&b| b == b'/').next().unwrap_or(self.name)
    }
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
    /// The user the server let in (`--auth`): `REMOTE_USER`, with `AUTH_TYPE=Basic`.
    pub user: Option<&'a [u8]>,
}

/// What the server brings.
pub struct Server<'a> {
    /// The server's own environment, passed on to the script (see `env`).
    pub env: Strings,
    /// `SERVER_PORT`: the port the server listens on.
    pub port: u16,
    /// The directory `PATH_INFO` is translated under (`PATH_TRANSLATED`), absolute, if
    /// any.
    pub document_root: Option<&'a [u8]>,
    /// The most a request body may be (`--max-body`): a longer one is 413.
    pub max_body: u64,
    /// Monotonic time (`clock::monotonic`) by which the script's header block must be
    /// complete: the connection's deadline.
    pub deadline: Duration,
    /// After the header block, the longest the script may write nothing (a client that
    /// reads nothing is `conn`'s `SO_SNDTIMEO`'s), and the number the events give.
    pub timeout: Duration,
    /// How an error of the server's own goes instead of the script's response.
    pub reply: Reply<'a>,
}

/// Sends the server's own response for an error (413, 502, 504 …) instead of the
/// script's: forkhttpd's handler adds the operator's fields and error pages; none: the
/// plain `text/plain` response. Returns the body bytes sent, and why not all, if not.
pub type Reply<'a> = Option<&'a dyn Fn(Status) -> (u64, Option<Cut>)>;

/// What happened, for the access log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Why a program is not run: for the one-line event, and the status (404 or 403).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRunnable {
    /// Its directory could not be opened.
    Directory(Errno),
    /// Its entry could not be looked up (`newfstatat`).
    Lookup(Errno),
    /// A symlink, where the entry itself is checked (forkhttpd).
    Symlink,
    /// Not a regular file.
    NotRegular,
    /// No execute bit.
    NotExecutable,
}

impl NotRunnable {
    /// Nothing is there by that name (ENOENT, ENOTDIR, ENAMETOOLONG): a 404, not a 403.
    pub fn is_missing(&self) -> bool {
        matches!(self, NotRunnable::Directory(e) | NotRunnable::Lookup(e) if matches!(*e, Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG))
    }

    /// Appends why: `not executable (chmod +x it)`, `cannot open: no such file …`.
    pub fn write(&self, out: &mut Buf) {
        let (why, errno): (&[u8], _) = match *self {
            NotRunnable::Directory(e) => (b"its directory: ", Some(e)),
            NotRunnable::Lookup(e) => (b"cannot open: ", Some(e)),
            NotRunnable::Symlink => (b"a symlink: only a program itself runs", None),
            NotRunnable::NotRegular => (b"not a regular file", None),
            NotRunnable::NotExecutable => (b"not executable (chmod +x it)", None),
        };
        out.push(why);
        if let Some(e) = errno {
            crate::errno::write(out, e);
        }
    }
}

/// Whether the entry `name` of `dir` may run as a script (`newfstatat`): a regular file
/// with an execute bit (a symlink is no regular file unless `follow`). Returns what the
/// exec must find there again (see [`Script::checked`]). (Whether this user may execute
/// it, `execveat` alone knows: EACCES there is a 502.)
pub fn check(dir: BorrowedFd<'_>, name: &CStr, follow: bool) -> Result<(u64, u64), NotRunnable> {
    let flags = if follow { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
    let stat = statat(dir, name, flags).map_err(NotRunnable::Lookup)?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile if stat.st_mode & 0o111 != 0 => Ok((stat.st_dev, stat.st_ino)),
        FileType::RegularFile => Err(NotRunnable::NotExecutable),
        FileType::Symlink => Err(NotRunnable::Symlink),
        _ => Err(NotRunnable::NotRegular),
    }
}

/// Runs `script` for `request` on `conn` and relays its response; returns once the
/// script's process group is killed, the script reaped, and whatever it left ended.
pub fn serve(conn: &OwnedFd, script: &Script<'_>, request: &Request<'_>, server: &Server<'_>) -> Outcome {
    let message = request.message;
    let head_only = message.method == b"HEAD";
    let after_head = request.received.get(message.len..).unwrap_or(&[]);
    // A chunked body is read whole first, into an anonymous file: the script is
    // promised a CONTENT_LENGTH.
    let (length, mut spooled) = match body(message) {
        Ok(Body::Length(n)) if n > server.max_body => return relay::respond(conn, Status::ContentTooLarge, head_only, true, server.reply),
        Ok(Body::Length(n)) => (n, None),
        Ok(Body::Chunked) => match spool::read(conn, after_head, server) {
            Ok((file, n)) => (n, Some(file)),
            Err(Some(status)) => return relay::respond(conn, status, head_only, true, server.reply),
            Err(None) => return Outcome { status: 0, bytes: 0, cut: None, unread: false },
        },
        Err(status) => return relay::respond(conn, status, head_only, true, server.reply),
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
        script_filename: script.filename,
        path_info: request.path_info,
        query: request.query,
        document_root: server.document_root,
        remote: request.peer.map(|peer| (remote.as_bytes(), peer.port())),
        user: request.user,
        length,
    };
    let mut block = Block::new();
    let built = (|| {
        // argv[0], and the path the program runs by: `./NAME` (see `Script`).
        block.add(b"./", script.entry())?;
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
        return relay::respond(conn, Status::HeaderFieldsTooLarge, head_only, true, server.reply);
    }
    // The script's exit is this process's to collect, not an inherited reaper's.
    let spawned = process::default_action(Signal::CHILD).and_then(|()| process::spawn(script, &block, spooled.as_ref().map(AsFd::as_fd)));
    let mut running = match spawned {
        Ok(running) => running,
        Err(e) => {
            process::event(script.name, &mut |line| {
                e.write(line);
                line.push(b": 503");
            });
            return relay::respond(conn, Status::ServiceUnavailable, head_only, true, server.reply);
        }
    };
    // With a spooled body the script has it all (its stdin is the file: ours closes);
    // else the part that came with the head goes first, then the rest as it comes.
    let whole = spooled.take().is_some();
    let early = match whole {
        true => &[][..],
        false => after_head.get(..usize::try_from(length).unwrap_or(usize::MAX)).unwrap_or(after_head),
    };
    let mut relay = relay::Relay {
        conn,
        name: script.name,
        head_only,
        body_left: if whole { 0 } else { length - early.len() as u64 },
        deadline: server.deadline,
        timeout: server.timeout,
        reply: server.reply,
    };
    let mut outcome = relay.run(&mut running, early);
    running.end();
    outcome.unread |= !whole && after_head.len() > early.len();
    outcome
}

/// How the request's body is framed.
#[derive(Debug, PartialEq, Eq)]
enum Body {
    /// `Content-Length` (0 without one).
    Length(u64),
    /// `Transfer-Encoding: chunked`, the one transfer coding forkhttpd decodes.
    Chunked,
}

/// The request body's framing. An invalid length, or two that differ, is 400; another
/// transfer coding than `chunked` 501 (RFC 9112 §6.1). (Both codings and a coding in
/// HTTP/1.0 were refused with the head.)
fn body(message: &Message<'_>) -> Result<Body, Status> {
    let (mut length, mut chunked) = (None, None);
    for (name, value) in message.fields() {
        if is(name, b"transfer-encoding") {
            chunked = Some(chunked.is_none() && is(value, b"chunked"));
        } else if is(name, b"content-length") {
            match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Err(Status::BadRequest),
            }
        }
    }
    match chunked {
        Some(true) => Ok(Body::Chunked),
        Some(false) => Err(Status::NotImplemented),
        None => Ok(Body::Length(length.unwrap_or(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_framing() {
        let body = |head: &[u8]| body(&Message::lex(head).unwrap_or_else(|_| panic!()));
        assert_eq!(body(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Ok(Body::Length(0)));
        assert_eq!(body(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), Ok(Body::Length(12)));
        assert_eq!(body(b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n"), Ok(Body::Length(1)));
        assert_eq!(body(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(body(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(body(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Ok(Body::Chunked));
        assert_eq!(body(b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"), Ok(Body::Chunked));
        assert_eq!(body(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), Err(Status::NotImplemented));
        assert_eq!(body(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), Err(Status::NotImplemented));
    }
}
