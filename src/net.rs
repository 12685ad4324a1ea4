//! The network: the listening socket.
//!
//! Syscalls: `socket` (`SOCK_CLOEXEC`), `setsockopt` (`SO_REUSEADDR`, and `SO_SNDTIMEO`
//! when asked), `bind`, `listen`, and `getsockname` only when the port was 0 and the
//! kernel chose it.

use crate::addr;
use crate::buf::Buf;
use crate::errno::{self, Error};
use core::net::SocketAddr;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{self, AddressFamily, SocketFlags, SocketType};

/// Opens a listening TCP socket on `addr`; returns it with the port it listens on.
/// `timeouts` (`SO_SNDTIMEO`, in seconds) are set on it once, and every accepted
/// connection inherits them: a send that moves no byte for that long fails, so a client
/// that stops reading cannot hold a child forever.
///
/// `SOCK_CLOEXEC`, as Python's sockets are (PEP 446): fork-mode children close it before
/// anything else, but a prefork worker keeps it, and a program it executes (CGI) must
/// not inherit it: with it, a script could accept the next client's connection.
pub fn listen(addr: &SocketAddr, backlog: i32, timeouts: &[(net::sockopt::Timeout, u32)]) -> Result<(OwnedFd, u16), Error> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None).map_err(Error::of("socket"))?;
    // A restarted server must not wait out the old connections' TIME_WAIT.
    net::sockopt::set_socket_reuseaddr(&fd, true).map_err(Error::of("setsockopt"))?;
    for &(which, secs) in timeouts {
        let timeout = core::time::Duration::from_secs(secs.into());
        net::sockopt::set_socket_timeout(&fd, which, Some(timeout)).map_err(Error::of("setsockopt"))?;
    }
    net::bind(&fd, addr).map_err(Error::of("bind"))?;
    net::listen(&fd, backlog).map_err(Error::of("listen"))?;
    let port = match addr.port() {
        // An INET or INET6 socket always has an INET or INET6 name.
        0 => SocketAddr::try_from(net::getsockname(&fd).map_err(Error::of("getsockname"))?).map_or(0, |a| a.port()),
        port => port,
    };
    Ok((fd, port))
}

/// `PROGRAM: cannot bind 0.0.0.0:80: permission denied (EACCES); ports below 1024 ...`:
/// the line for a socket that could not be set up, and what to do.
pub fn write_error(e: &Error, out: &mut Buf, program: &str, addr: &SocketAddr) {
    out.push(program.as_bytes()).push(b": cannot ").push(e.call.as_bytes()).byte(b' ');
    addr::write(out, addr);
    out.push(b": ");
    errno::write(out, e.errno);
    out.push(match e.errno {
        Errno::ADDRINUSE => b"; another process listens there: stop it or choose another --port".as_slice(),
        Errno::ACCESS => b"; ports below 1024 need root or CAP_NET_BIND_SERVICE: use a higher --port",
        Errno::ADDRNOTAVAIL => b"; no interface has that address: use 0.0.0.0, :: or one of this host's addresses",
        Errno::AFNOSUPPORT => b"; this kernel has no IPv6: bind an IPv4 address",
        _ => b"",
    });
    out.byte(b'\n');
}
