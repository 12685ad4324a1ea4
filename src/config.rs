//! The command line: options, their defaults, and the one-line errors for bad ones.

use crate::buf::split;
use crate::children::LIMIT;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

/// How the server runs.
#[derive(Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// The directory to serve; none: the Hello server.
    pub dir: Option<&'a [u8]>,
    /// HTML listings for directories without `index.html`.
    pub list: bool,
    /// `--cgi PREFIX`: the scripts' directory beneath `dir`, without leading or trailing `/`.
    pub cgi: Option<&'a [u8]>,
    /// The ids to run as once the socket is bound.
    pub user: Option<Ids>,
    pub addr: SocketAddr,
    pub backlog: i32,
    /// No access log.
    pub quiet: bool,
    /// Seconds a connection may take from accept to the last byte.
    pub timeout: u32,
    /// Children at once; more connections wait in the backlog.
    pub max_children: usize,
    /// Seconds in-flight requests get after SIGTERM/SIGINT before they are killed.
    pub grace: u32,
    /// Seconds a persistent connection may wait for its next request; 0: one request
    /// per connection.
    pub keep_alive: u32,
    /// Requests one connection may make.
    pub max_requests: u32,
    /// Prefork: processes forked at start-up that accept in turn; 0: a fork per connection.
    pub workers: usize,
    /// The largest request body a CGI program is given, in bytes; a larger one is 413.
    pub max_body: u64,
}

/// `--user UID[:GID]`; without `:GID` the group is the same number as the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

pub const DEFAULT_PORT: u16 = 8888;
pub const DEFAULT_BACKLOG: i32 = 1024;
pub const DEFAULT_TIMEOUT: u32 = 10;
pub const DEFAULT_MAX_CHILDREN: usize = 1024;
pub const DEFAULT_GRACE: u32 = 10;
pub const DEFAULT_KEEP_ALIVE: u32 = 5;
pub const DEFAULT_MAX_REQUESTS: u32 = 1000;
pub const DEFAULT_MAX_BODY: u64 = 16 << 20;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Serve(Config<'a>),
    Help,
    Version,
}

/// A bad command line: `forkhttpd: <problem> '<arg>'<hint>`.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError<'a> {
    pub problem: &'static Problem,
    pub arg: &'a [u8],
}

/// What is wrong with an argument, and what would be right.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub text: &'static str,
    pub hint: &'static str,
}

/// A numeric option's values, and the problem any other value is.
pub struct Range {
    pub min: u64,
    pub max: u64,
    pub problem: Problem,
}

pub const UNKNOWN_OPTION: Problem = Problem { text: "unknown option", hint: "" };
pub const NEEDS_VALUE: Problem = Problem { text: "option needs a value:", hint: "" };
const TAKES_NO_VALUE: Problem = Problem { text: "option takes no value:", hint: "" };
const UNEXPECTED: Problem = Problem { text: "unexpected argument", hint: "" };
const BIND: Problem = Problem {
    text: "invalid bind address",
    hint: ": expected an IPv4 or IPv6 literal such as 0.0.0.0, 127.0.0.1 or ::",
};
const PORT_HINT: &str = ": expected a number from 0 to 65535";
const ENV_PORT: Problem = Problem { text: "invalid $PORT", hint: PORT_HINT };
pub const PORT: Range = Range { min: 0, max: 65535, problem: Problem { text: "invalid port", hint: PORT_HINT } };
const BACKLOG: Range =
    Range { min: 1, max: 65535, problem: Problem { text: "invalid backlog", hint: ": expected a number from 1 to 65535" } };
const TIMEOUT: Range = Range {
    min: 1,
    max: 86400,
    problem: Problem { text: "invalid timeout", hint: ": expected whole seconds from 1 to 86400" },
};
const MAX_CHILDREN: Range = Range {
    min: 1,
    max: LIMIT as u64,
    problem: Problem { text: "invalid max-children", hint: ": expected a number from 1 to 1024" },
};
const GRACE: Range = Range {
    min: 0,
    max: 86400,
    problem: Problem { text: "invalid grace", hint: ": expected whole seconds from 0 to 86400" },
};
const KEEP_ALIVE: Range = Range {
    min: 0,
    max: 3600,
    problem: Problem { text: "invalid keep-alive", hint: ": expected whole seconds from 0 to 3600" },
};
const MAX_REQUESTS: Range = Range {
    min: 1,
    max: 1_000_000,
    problem: Problem { text: "invalid max-requests", hint: ": expected a number from 1 to 1000000" },
};
const CGI: Problem = Problem { text: "invalid cgi prefix", hint: ": expected a directory beneath DIR, such as /cgi-bin/" };
const CGI_NEEDS_DIR: Problem = Problem { text: "--cgi needs a DIR to find", hint: " in" };
const WORKERS: Range = Range {
    min: 0,
    max: LIMIT as u64,
    problem: Problem { text: "invalid workers", hint: ": expected a number from 0 to 1024" },
};
const MAX_BODY: Range = Range {
    min: 0,
    max: u32::MAX as u64,
    problem: Problem { text: "invalid max-body", hint: ": expected a number of bytes from 0 to 4294967295" },
};
const ID: Range = Range {
    min: 0,
    max: u32::MAX as u64 - 1,
    problem: Problem { text: "invalid user", hint: ": expected UID or UID:GID, numbers (a scratch image has no /etc/passwd)" },
};

/// The options, `|` between them, each by its names: the order `parse` matches their
/// index in. A table, not a `match` on the names, which compiles to a comparison each.
const OPTIONS: &[u8] = b"-h --help|-V --version|-q --quiet|--list|--cgi|-u --user|-b --bind|\
    -p --port|--backlog|-t --timeout|-c --max-children|--grace|--keep-alive|--max-requests|-w --workers|--max-body";

/// How many of the first `OPTIONS` take no value.
const FLAGS: usize = 4;

/// How many `OPTIONS` there are.
const OPTION_COUNT: usize = 16;

/// The last `OPTIONS`, the numeric ones: their ranges, in order.
const NUMBERS: [&Range; 9] = [&PORT, &BACKLOG, &TIMEOUT, &MAX_CHILDREN, &GRACE, &KEEP_ALIVE, &MAX_REQUESTS, &WORKERS, &MAX_BODY];

pub const HELP: &str = "\
Usage: forkhttpd [OPTIONS] [DIR]

A tiny static HTTP server that forks a process per connection. With DIR, it
serves the files under DIR; without, it answers GET and HEAD on any path with
'Hello, World!'.

Options:
  -p, --port PORT       TCP port, 0 for any free one (default: $PORT, else 8888)
  -b, --bind ADDR       IPv4 or IPv6 address (default: 0.0.0.0; :: serves both)
      --backlog N       listen(2) backlog, 1-65535 (default: 1024)
  -t, --timeout SECS    time a connection may take in all, 1-86400 (default: 10)
  -c, --max-children N  children at once, 1-1024 (default: 1024); more
                        connections wait in the backlog
      --grace SECS      time requests in flight get after SIGTERM/SIGINT before
                        they are killed, 0-86400 (default: 10)
      --keep-alive SECS how long a connection may wait for its next request,
                        0-3600; 0: one request per connection (default: 5)
      --max-requests N  requests per connection, 1-1000000 (default: 1000)
  -w, --workers N       prefork N workers, 0-1024 (default: 0: fork per connection)
  -q, --quiet           no access log
      --list            HTML listings of directories without index.html
      --cgi PREFIX      run DIR/PREFIX/NAME as a CGI program for the paths
                        PREFIX/NAME[/PATH_INFO], e.g. /cgi-bin/ (needs DIR)
      --max-body BYTES  largest request body a CGI program gets (default:
                        16777216); a larger one is 413
  -u, --user UID[:GID]  run as these numeric ids once the port is bound
                        (GID defaults to UID)
  -h, --help            print this help and exit
  -V, --version         print the version and exit

Prints 'Serving HTTP on port PORT ...', then an access-log line per request on
stdout; its own events go to stderr. SIGTERM or SIGINT stops accepting and lets
requests in flight finish (up to --grace); a second SIGINT kills them at once.

Files are opened with openat2(RESOLVE_BENEATH): the kernel refuses every path,
symlink included, that leads out of DIR, so DIR needs no chroot. Dotfiles are
not served (but /.well-known/ is).

Exit status: 0 after SIGTERM/SIGINT, 130 after a second SIGINT, 1 if the socket
cannot be set up or the ids not taken, 2 for a bad command line or DIR.
";

/// Parses the arguments after the program name. `env_port` is `$PORT`, used when no
/// `--port` is given.
pub fn parse<'a>(
    mut args: impl Iterator<Item = &'a [u8]>,
    env_port: Option<&'a [u8]>,
) -> Result<Command<'a>, UsageError<'a>> {
    let mut dir = None;
    let mut list = false;
    let mut cgi = None;
    let mut user = None;
    let mut ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mut quiet = false;
    // The numeric options' values, in the order of `NUMBERS`.
    let mut numbers = [None; NUMBERS.len()];

    while let Some(arg) = args.next() {
        // `--name=value` as well as `--name value`.
        let (name, inline) = split_option(arg);
        let mut value = || inline.or_else(|| args.next()).ok_or(UsageError { problem: &NEEDS_VALUE, arg: name });
        let option = split(OPTIONS, b'|').position(|names| split(names, b' ').any(|n| n == name));
        if inline.is_some() && option.is_some_and(|i| i < FLAGS) {
            return Err(UsageError { problem: &TAKES_NO_VALUE, arg });
        }
        match option {
            Some(0) => return Ok(Command::Help),
            Some(1) => return Ok(Command::Version),
            Some(2) => quiet = true,
            Some(3) => list = true,
            Some(4) => cgi = Some(parse_prefix(value()?)?),
            Some(5) => user = Some(parse_ids(value()?)?),
            Some(6) => ip = parse_ip(value()?)?,
            Some(i) => {
                let n = i - (OPTION_COUNT - NUMBERS.len());
                if let (Some(slot), Some(range)) = (numbers.get_mut(n), NUMBERS.get(n)) {
                    *slot = Some(number(value()?, range)?);
                }
            }
            None if name.starts_with(b"-") => return Err(UsageError { problem: &UNKNOWN_OPTION, arg: name }),
            None if dir.is_none() => dir = Some(arg),
            None => return Err(UsageError { problem: &UNEXPECTED, arg }),
        }
    }

    let [port, backlog, timeout, max_children, grace, keep_alive, max_requests, workers, max_body] = numbers;
    let backlog = backlog.map_or(DEFAULT_BACKLOG, |n| n as i32);
    let timeout = timeout.map_or(DEFAULT_TIMEOUT, |n| n as u32);
    let max_children = max_children.map_or(DEFAULT_MAX_CHILDREN, |n| n as usize);
    let grace = grace.map_or(DEFAULT_GRACE, |n| n as u32);
    let keep_alive = keep_alive.map_or(DEFAULT_KEEP_ALIVE, |n| n as u32);
    let max_requests = max_requests.map_or(DEFAULT_MAX_REQUESTS, |n| n as u32);
    let workers = workers.map_or(0, |n| n as usize);
    let max_body = max_body.unwrap_or(DEFAULT_MAX_BODY);
    let port = match (port, env_port) {
        (Some(p), _) => p as u16,
        (None, Some(p)) => number(p, &PORT).map_err(|e| UsageError { problem: &ENV_PORT, ..e })? as u16,
        (None, None) => DEFAULT_PORT,
    };
    if let (Some(prefix), None) = (cgi, dir) {
        return Err(UsageError { problem: &CGI_NEEDS_DIR, arg: prefix });
    }
    let addr = SocketAddr::new(ip, port);
    Ok(Command::Serve(Config { dir, list, cgi, user, addr, backlog, quiet, timeout, max_children, grace, keep_alive, max_requests, workers, max_body }))
}

/// `/cgi-bin/`, `cgi-bin` or `/apps/cgi` as `cgi-bin`, `apps/cgi`: a path beneath DIR,
/// without `.` or `..` (no decoded target has them, so it would never match).
fn parse_prefix(s: &[u8]) -> Result<&[u8], UsageError<'_>> {
    let start = s.iter().take_while(|&&b| b == b'/').count();
    let end = s.len() - s.iter().rev().take_while(|&&b| b == b'/').count();
    let prefix = s.get(start..end.max(start)).unwrap_or(&[]);
    let dots = split(prefix, b'/').any(|seg| seg == b"." || seg == b"..");
    if prefix.is_empty() || dots { Err(UsageError { problem: &CGI, arg: s }) } else { Ok(prefix) }
}

/// `UID` or `UID:GID`.
fn parse_ids(s: &[u8]) -> Result<Ids, UsageError<'_>> {
    let bad = |_| UsageError { problem: &ID.problem, arg: s };
    let (uid, gid) = match s.iter().position(|&b| b == b':') {
        Some(colon) => (s.get(..colon).unwrap_or(s), s.get(colon + 1..)),
        None => (s, None),
    };
    let uid = number(uid, &ID).map_err(bad)? as u32;
    let gid = match gid {
        Some(g) => number(g, &ID).map_err(bad)? as u32,
        None => uid,
    };
    Ok(Ids { uid, gid })
}

/// `--name=value` as `(--name, Some(value))`; any other argument as `(arg, None)`.
pub(crate) fn split_option(arg: &[u8]) -> (&[u8], Option<&[u8]>) {
    match arg.iter().position(|&b| b == b'=') {
        Some(i) if arg.starts_with(b"--") => (arg.get(..i).unwrap_or(arg), arg.get(i + 1..)),
        _ => (arg, None),
    }
}

/// `ADDR`, or `[ADDR]` for IPv6.
fn parse_ip(s: &[u8]) -> Result<IpAddr, UsageError<'_>> {
    let bare = s.strip_prefix(b"[").and_then(|s| s.strip_suffix(b"]")).unwrap_or(s);
    crate::addr::parse(bare).ok_or(UsageError { problem: &BIND, arg: s })
}

/// A decimal number in `range`, digits only.
pub(crate) fn number<'a>(s: &'a [u8], range: &'static Range) -> Result<u64, UsageError<'a>> {
    let bad = UsageError { problem: &range.problem, arg: s };
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let v = s.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
    if (range.min..=range.max).contains(&v) { Ok(v) } else { Err(bad) }
}

impl UsageError<'_> {
    /// The one-line message of `program`, newline included.
    pub fn write(&self, out: &mut crate::buf::Buf, program: &str) {
        let program = program.as_bytes();
        out.push(program).push(b": ").push(self.problem.text.as_bytes()).push(b" '").push(self.arg);
        out.push(b"'").push(self.problem.hint.as_bytes()).push(b" (see ").push(program).push(b" --help)\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&'static str], env: Option<&'static str>) -> Result<Command<'static>, String> {
        parse(args.iter().map(|a| a.as_bytes()), env.map(str::as_bytes)).map_err(|e| {
            let mut b = crate::buf::Buf::new();
            e.write(&mut b, "forkhttpd");
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        })
    }

    fn serve(args: &[&'static str], env: Option<&'static str>) -> Config<'static> {
        match run(args, env) {
            Ok(Command::Serve(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_articles() {
        let c = serve(&[], None);
        assert_eq!(c.addr, "0.0.0.0:8888".parse().unwrap());
        assert_eq!((c.backlog, c.quiet, c.timeout, c.max_children, c.grace), (1024, false, 10, 1024, 10));
        assert_eq!((c.dir, c.list, c.cgi, c.user), (None, false, None, None));
        assert_eq!((c.keep_alive, c.max_requests), (5, 1000));
    }

    #[test]
    fn a_directory_and_its_options() {
        let c = serve(&["--list", "./public", "-u", "65534"], None);
        assert_eq!((c.dir, c.list, c.user), (Some(&b"./public"[..]), true, Some(Ids { uid: 65534, gid: 65534 })));
        assert_eq!(serve(&["--user=1000:100", "/srv"], None).user, Some(Ids { uid: 1000, gid: 100 }));
        assert_eq!(run(&["a", "b"], None).unwrap_err(), "forkhttpd: unexpected argument 'b' (see forkhttpd --help)\n");
        for bad in ["nobody", "1:", ":1", "1:2:3", "-1", "4294967295", ""] {
            assert!(
                run(&["-u", bad], None).unwrap_err().starts_with(&format!("forkhttpd: invalid user '{bad}': expected UID")),
                "{bad}"
            );
        }
        assert!(run(&["--list=yes"], None).is_err());
        assert_eq!(serve(&["--cgi", "/cgi-bin/", "site"], None).cgi, Some(&b"cgi-bin"[..]));
        assert_eq!(serve(&["--cgi=apps/cgi", "site"], None).cgi, Some(&b"apps/cgi"[..]));
        assert_eq!(run(&["--cgi", "/cgi-bin/"], None).unwrap_err(), "forkhttpd: --cgi needs a DIR to find 'cgi-bin' in (see forkhttpd --help)\n");
        for bad in ["/", "", "/a/../b", "./x"] {
            assert!(run(&["--cgi", bad, "site"], None).unwrap_err().starts_with("forkhttpd: invalid cgi prefix"), "{bad}");
        }
        let c = serve(&["--keep-alive", "0", "--max-requests=1"], None);
        assert_eq!((c.keep_alive, c.max_requests), (0, 1));
        for bad in [&["--keep-alive", "3601"][..], &["--max-requests", "0"], &["--keep-alive", "-1"]] {
            assert!(run(bad, None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn options_and_forms() {
        let c = serve(&["-p", "0", "--bind", "::1", "--backlog=5", "-q", "--timeout", "3", "-c", "4", "--grace=0"], None);
        assert_eq!(c.addr, "[::1]:0".parse().unwrap());
        assert_eq!((c.backlog, c.quiet, c.timeout, c.max_children, c.grace), (5, true, 3, 4, 0));
        assert_eq!(serve(&["--port=80", "-b", "[::]"], None).addr, "[::]:80".parse().unwrap());
        assert_eq!(serve(&["-b", "127.0.0.1"], None).addr, "127.0.0.1:8888".parse().unwrap());
        assert_eq!(run(&["-q", "--help", "--nonsense"], None), Ok(Command::Help));
        assert_eq!(run(&["-V"], None), Ok(Command::Version));
    }

    #[test]
    fn the_option_table() {
        assert_eq!(OPTIONS.split(|&b| b == b'|').count(), OPTION_COUNT);
        for name in ["--max-requests", "-c", "--list", "--bind"] {
            assert!(HELP.contains(name), "{name}");
        }
        assert_eq!(run(&["--max"], None).unwrap_err(), "forkhttpd: unknown option '--max' (see forkhttpd --help)\n");
        assert_eq!(run(&["-"], None).unwrap_err(), "forkhttpd: unknown option '-' (see forkhttpd --help)\n");
        assert!(run(&["--quiet=1"], None).unwrap_err().contains("takes no value"));
        assert!(run(&["--help=1"], None).unwrap_err().contains("takes no value"));
        assert!(run(&["-h=1"], None).is_err());
    }

    #[test]
    fn workers() {
        assert_eq!(serve(&[], None).workers, 0);
        assert_eq!((serve(&["-w", "2"], None).workers, serve(&["--workers=1024"], None).workers), (2, 1024));
        assert_eq!(
            run(&["-w", "1025"], None).unwrap_err(),
            "forkhttpd: invalid workers '1025': expected a number from 0 to 1024 (see forkhttpd --help)\n"
        );
    }

    #[test]
    fn port_from_environment_unless_given() {
        assert_eq!(serve(&[], Some("9000")).addr.port(), 9000);
        assert_eq!(serve(&["-p", "9001"], Some("9000")).addr.port(), 9001);
        assert_eq!(serve(&["-p", "9001"], Some("junk")).addr.port(), 9001);
    }

    #[test]
    fn errors_name_the_culprit() {
        let err = |args: &[&'static str], env| run(args, env).unwrap_err();
        assert_eq!(err(&["--frob"], None), "forkhttpd: unknown option '--frob' (see forkhttpd --help)\n");
        assert_eq!(err(&["-p"], None), "forkhttpd: option needs a value: '-p' (see forkhttpd --help)\n");
        assert_eq!(
            err(&["-p", "65536"], None),
            "forkhttpd: invalid port '65536': expected a number from 0 to 65535 (see forkhttpd --help)\n"
        );
        assert_eq!(
            err(&[], Some("http")),
            "forkhttpd: invalid $PORT 'http': expected a number from 0 to 65535 (see forkhttpd --help)\n"
        );
        assert!(err(&["-b", "localhost"], None).starts_with("forkhttpd: invalid bind address 'localhost': expected"));
        for bad in [&["-p", "-1"][..], &["-p", ""], &["-p", "99999999999"], &["--backlog", "0"], &["-t", "0"], &["--quiet=1"], &["-c", "0"], &["-c", "1025"]] {
            assert!(run(bad, None).is_err(), "{bad:?}");
        }
    }
}
