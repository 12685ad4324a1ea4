//! The command line: the options as one table ([`OPTIONS`]: names, value, range, default,
//! help, and what each sets), from which parsing, `--help` and the one-line errors are
//! all made, so that adding an option is adding an entry. The engine ([`Opt`], [`parse`],
//! [`help`]) serves the article's stages too, with a table of their own.
//!
//! Values are the kernel's `argv` strings, which live as long as the process: a
//! configuration borrows them (`'static`), copies nothing, allocates nothing.

use crate::buf::{Buf, split};
use crate::log::Format;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The most processes the parent keeps at once: the size of its pid table, and so the
/// most `--max-children` and `--workers` can be.
pub const PROCESSES_MAX: usize = 2048;

/// `--max-children` unless given.
pub const DEFAULT_MAX_CHILDREN: usize = 1024;

/// How the server runs.
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    /// The directory to serve; none: the Hello server.
    pub dir: Option<&'static [u8]>,
    /// HTML listings for directories without `index.html`.
    pub list: bool,
    /// `--cgi PREFIX`: the scripts' directory beneath `dir`, without leading or trailing `/`.
    pub cgi: Option<&'static [u8]>,
    /// The ids to run as once the socket is bound.
    pub user: Option<Ids>,
    /// The address and port to listen on.
    pub addr: SocketAddr,
    /// `listen(2)`'s backlog.
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
    /// `--health PATH`: the target probes get `200 ok` for.
    pub health: Option<&'static [u8]>,
    /// `--probe URL`: be a health check's client instead of a server.
    pub probe: Option<&'static [u8]>,
    /// `--log-format`.
    pub log_format: Format,
    /// `-H 'NAME: VALUE'`: fields every response the server writes carries.
    pub headers: Values<HEADERS_MAX>,
    /// `--cors ORIGIN`: the origins whose pages may read the responses (`*`: any).
    pub cors: Values<ORIGINS_MAX>,
    /// `--fallback PATH`: the file beneath `dir` a GET or HEAD that would be 404 gets.
    pub fallback: Option<&'static [u8]>,
    /// `--error-page CODE=PATH`, as given (checked): the body of the server's own
    /// responses with that status.
    pub error_pages: Values<ERROR_PAGES_MAX>,
    /// `--auth USER:PASSWORD` (or `$FORKHTTPD_AUTH`): HTTP Basic for every request.
    pub auth: Option<&'static [u8]>,
    /// `--status PATH`: the target of the scoreboard's page.
    pub status: Option<&'static [u8]>,
    /// `--max-per-client N`: connections at once from one address; 0: no limit.
    pub max_per_client: usize,
    /// The processes fill their slots on the scoreboard: prefork, or `--status`.
    pub scoreboard: bool,
    /// `--no-sandbox`: neither seccomp nor Landlock.
    pub no_sandbox: bool,
    /// `$FORKHTTPD_SANDBOX_TEST` set (tests only): `/.sandbox-test/CALL` makes the
    /// serving process try a call the sandbox refuses (`handler::trial`).
    pub trial: bool,
}

/// The most `-H` fields.
pub const HEADERS_MAX: usize = 16;
/// The most `--cors` origins.
pub const ORIGINS_MAX: usize = 8;
/// The most `--error-page`s.
pub const ERROR_PAGES_MAX: usize = 16;

/// A repeatable option's values, in the order given: at most `N`, in a fixed array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Values<const N: usize> {
    items: [&'static [u8]; N],
    len: usize,
}

impl<const N: usize> Values<N> {
    /// None yet.
    pub const fn new() -> Self {
        Self { items: [&[]; N], len: 0 }
    }

    /// Adds `v`; `Err` if there are `N` already.
    fn add(&mut self, v: &'static [u8]) -> Result<(), ()> {
        *self.items.get_mut(self.len).ok_or(())? = v;
        self.len += 1;
        Ok(())
    }

    /// The values.
    pub fn as_slice(&self) -> &[&'static [u8]] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

/// `--user UID[:GID]`; without `:GID` the group is the same number as the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
}

/// The port without `--port` or `$PORT`: the article's.
pub const DEFAULT_PORT: u16 = 8888;

/// The largest request body a CGI program gets without `--max-body` (webserver3h's).
pub const DEFAULT_MAX_BODY: u64 = 16 << 20;

/// The server's options, in `--help`'s order.
pub const OPTIONS: &[Opt<Config>] = &[
    Opt { long: "port", short: b'p', kind: Kind::Number { name: "PORT", unit: Unit::Plain, min: 0, max: 65535, default: DEFAULT_PORT as u64, set: |c, n| c.addr.set_port(n as u16) }, help: "TCP port, 0 for any free one; $PORT if set", needs_dir: false },
    Opt { long: "bind", short: b'b', kind: Kind::Text { name: "ADDR", set: bind }, help: "IPv4 or IPv6 address; :: serves both (default: 0.0.0.0)", needs_dir: false },
    Opt { long: "backlog", short: 0, kind: Kind::Number { name: "N", unit: Unit::Plain, min: 1, max: 65535, default: 1024, set: |c, n| c.backlog = n as i32 }, help: "listen(2) backlog", needs_dir: false },
    Opt { long: "timeout", short: b't', kind: Kind::Number { name: "SECS", unit: Unit::Seconds, min: 1, max: 86400, default: 10, set: |c, n| c.timeout = n as u32 }, help: "time a connection may take in all", needs_dir: false },
    Opt { long: "max-children", short: b'c', kind: Kind::Number { name: "N", unit: Unit::Plain, min: 1, max: PROCESSES_MAX as u64, default: DEFAULT_MAX_CHILDREN as u64, set: |c, n| c.max_children = n as usize }, help: "processes serving at once (children, or workers);\nmore connections wait in the backlog", needs_dir: false },
    Opt { long: "grace", short: 0, kind: Kind::Number { name: "SECS", unit: Unit::Seconds, min: 0, max: 86400, default: 8, set: |c, n| c.grace = n as u32 }, help: "time requests in flight get after SIGTERM/SIGINT\nbefore they are killed (below docker stop's 10)", needs_dir: false },
    Opt { long: "keep-alive", short: 0, kind: Kind::Number { name: "SECS", unit: Unit::Seconds, min: 0, max: 3600, default: 5, set: |c, n| c.keep_alive = n as u32 }, help: "how long a connection may wait for its next request;\n0: one request per connection", needs_dir: false },
    Opt { long: "max-requests", short: 0, kind: Kind::Number { name: "N", unit: Unit::Plain, min: 1, max: 1_000_000, default: 1000, set: |c, n| c.max_requests = n as u32 }, help: "requests per connection", needs_dir: false },
    Opt { long: "workers", short: b'w', kind: Kind::Number { name: "N", unit: Unit::Plain, min: 0, max: PROCESSES_MAX as u64, default: 0, set: |c, n| c.workers = n as usize }, help: "prefork: keep N workers idle and ready, forking more\nas connections take them; 0: a fork per connection", needs_dir: false },
    Opt { long: "max-per-client", short: 0, kind: Kind::Number { name: "N", unit: Unit::Plain, min: 0, max: PROCESSES_MAX as u64, default: 0, set: |c, n| c.max_per_client = n as usize }, help: "connections at once from one address (more: 503);\n0: no limit", needs_dir: false },
    Opt { long: "quiet", short: b'q', kind: Kind::Flag(|c| c.quiet = true), help: "no access log", needs_dir: false },
    Opt { long: "list", short: 0, kind: Kind::Flag(|c| c.list = true), help: "HTML listings of directories without index.html", needs_dir: true },
    Opt { long: "cgi", short: 0, kind: Kind::Text { name: "PREFIX", set: cgi }, help: "run DIR/PREFIX/NAME as a CGI program for the paths\nPREFIX/NAME[/PATH_INFO], e.g. /cgi-bin/ (needs DIR)", needs_dir: true },
    Opt { long: "max-body", short: 0, kind: Kind::Number { name: "BYTES", unit: Unit::Bytes, min: 0, max: u32::MAX as u64, default: DEFAULT_MAX_BODY, set: |c, n| c.max_body = n }, help: "largest request body a CGI program gets; more is 413", needs_dir: true },
    Opt { long: "user", short: b'u', kind: Kind::Text { name: "UID[:GID]", set: user }, help: "run as these numeric ids once the port is bound\n(GID defaults to UID)", needs_dir: false },
    Opt { long: "health", short: 0, kind: Kind::Text { name: "PATH", set: health }, help: "answer GET and HEAD of exactly PATH with 200 ok, for\nprobes, even without DIR; not logged", needs_dir: false },
    Opt { long: "probe", short: 0, kind: Kind::Text { name: "URL", set: probe }, help: "be a health check instead: GET http://HOST[:PORT]/PATH,\nexit 0 on 2xx or 3xx, else 1 (--timeout: default 2 here)", needs_dir: false },
    Opt { long: "log-format", short: 0, kind: Kind::Text { name: "FORMAT", set: log_format }, help: "short (the default), combined (NCSA Combined, as\nApache and nginx write it) or json", needs_dir: false },
    Opt { long: "header", short: b'H', kind: Kind::Text { name: "FIELD", set: header }, help: "add FIELD ('Name: value') to the server's responses\n(not to a CGI program's); up to 16", needs_dir: false },
    Opt { long: "cors", short: 0, kind: Kind::Text { name: "ORIGIN", set: cors }, help: "let pages from ORIGIN (* for any) read the responses;\nanswer their preflights; up to 8", needs_dir: false },
    Opt { long: "fallback", short: 0, kind: Kind::Text { name: "PATH", set: fallback }, help: "a GET or HEAD that would be 404 gets this file beneath\nDIR, with 200 (single-page apps)", needs_dir: true },
    Opt { long: "error-page", short: 0, kind: Kind::Text { name: "CODE=PATH", set: error_page }, help: "its own CODE errors (400-599) get this file\nbeneath DIR as their body", needs_dir: true },
    Opt { long: "auth", short: 0, kind: Kind::Text { name: "USER:PASS", set: auth }, help: "HTTP Basic for every request (not --health's);\n$FORKHTTPD_AUTH if not given (ps does not show it)", needs_dir: false },
    Opt { long: "status", short: 0, kind: Kind::Text { name: "PATH", set: status }, help: "the scoreboard (what each process does) at PATH,\nas text, for loopback clients only", needs_dir: false },
    Opt { long: "no-sandbox", short: 0, kind: Kind::Flag(|c| c.no_sandbox = true), help: "neither the seccomp allow-list nor Landlock's view\nof DIR (on by default, off with --cgi)", needs_dir: false },
    Opt { long: "help", short: b'h', kind: Kind::Help, help: "print this help and exit", needs_dir: false },
    Opt { long: "version", short: b'V', kind: Kind::Version, help: "print the version and exit", needs_dir: false },
];

const ABOUT: &str = "\
Usage: forkhttpd [OPTIONS] [DIR]

A tiny static HTTP server that forks a process per connection. With DIR, it
serves the files under DIR; without, it answers GET and HEAD on any path with
'Hello, World!'.

Options:
";

const NOTES: &str = "
Prints 'Serving HTTP on port PORT ...', then an access-log line per request on
stdout; its own events go to stderr. SIGTERM or SIGINT stops accepting and lets
requests in flight finish (up to --grace); a second SIGINT kills them at once.

Files are opened with openat2(RESOLVE_BENEATH): the kernel refuses every path,
symlink included, that leads out of DIR, so DIR needs no chroot. Dotfiles are
not served (but /.well-known/ is).

Exit status: 0 after SIGTERM/SIGINT, 130 after a second SIGINT, 1 if the socket
cannot be set up or the ids not taken, 2 for a bad command line or DIR.
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve, so.
    Serve(Config),
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

/// Parses the arguments after the program name. `env_port` is `$PORT`, used when no
/// `--port` is given; `env_auth` is `$FORKHTTPD_AUTH`, used when no `--auth` is.
pub fn parse(mut args: impl Iterator<Item = &'static [u8]>, env_port: Option<&'static [u8]>, env_auth: Option<&'static [u8]>) -> Result<Command, UsageError> {
    let mut c = Config {
        dir: None,
        list: false,
        cgi: None,
        user: None,
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        backlog: 0,
        quiet: false,
        timeout: 0,
        max_children: 0,
        grace: 0,
        keep_alive: 0,
        max_requests: 0,
        workers: 0,
        max_body: 0,
        health: None,
        probe: None,
        log_format: Format::Short,
        headers: Values::new(),
        cors: Values::new(),
        fallback: None,
        error_pages: Values::new(),
        auth: None,
        status: None,
        max_per_client: 0,
        scoreboard: false,
        no_sandbox: false,
        trial: false,
    };
    // The one operand: DIR.
    let parsed = run(OPTIONS, &mut c, &mut args, &mut |c, arg| match c.dir.replace(arg) {
        None => Ok(()),
        Some(_) => Err(UNEXPECTED),
    })?;
    match parsed.stop {
        Some(Stop::Help) => return Ok(Command::Help),
        Some(Stop::Version) => return Ok(Command::Version),
        Some(Stop::Rest) => return Err(UsageError { problem: UNEXPECTED, arg: b"--" }),
        None => {}
    }
    if let (Some(port), false) = (env_port, parsed.given(OPTIONS, "port")) {
        let n = number(port, 0, u16::MAX.into()).ok_or(UsageError { problem: Problem { text: "$PORT", hint: PORT.hint() }, arg: port })?;
        c.addr.set_port(n as u16);
    }
    if let (Some(credentials), false) = (env_auth, parsed.given(OPTIONS, "auth")) {
        // Never the value itself: it holds a password.
        auth(&mut c, credentials).map_err(|problem| UsageError { problem: Problem { text: "invalid credentials in", hint: problem.hint }, arg: b"$FORKHTTPD_AUTH" })?;
    }
    if c.workers > c.max_children {
        return Err(UsageError { problem: Problem { text: "more --workers than --max-children:", hint: Hint::None }, arg: b"--workers" });
    }
    c.scoreboard = c.workers > 0 || c.status.is_some();
    if let (None, Some(name)) = (c.dir, parsed.needs_dir) {
        return Err(UsageError { problem: NEEDS_DIR, arg: name });
    }
    // A probe waits 2 s unless told: a health check must answer fast.
    if c.probe.is_some() && !parsed.given(OPTIONS, "timeout") {
        c.timeout = 2;
    }
    Ok(Command::Serve(c))
}

/// `--port`'s entry.
const PORT: &Opt<Config> = &OPTIONS[0];

/// Writes `--help`, in pieces, to `emit`.
pub fn help(emit: &mut dyn FnMut(&[u8])) {
    emit(ABOUT.as_bytes());
    write_options(OPTIONS, emit);
    emit(NOTES.as_bytes());
}

fn bind(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    // `ADDR`, or `[ADDR]` for IPv6.
    let bare = s.strip_prefix(b"[").and_then(|s| s.strip_suffix(b"]")).unwrap_or(s);
    let ip = crate::addr::parse(bare).ok_or(Problem {
        text: "invalid bind address",
        hint: Hint::Text(": expected an IPv4 or IPv6 literal such as 0.0.0.0, 127.0.0.1 or ::"),
    })?;
    c.addr.set_ip(ip);
    Ok(())
}

/// `/cgi-bin/`, `cgi-bin` or `/apps/cgi` as `cgi-bin`, `apps/cgi`: a path beneath DIR,
/// without `.` or `..` (no decoded target has them, so it would never match).
fn cgi(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    let start = s.iter().take_while(|&&b| b == b'/').count();
    let end = s.len() - s.iter().rev().take_while(|&&b| b == b'/').count();
    let prefix = s.get(start..end.max(start)).unwrap_or(&[]);
    let dots = split(prefix, b'/').any(|seg| seg == b"." || seg == b"..");
    if prefix.is_empty() || dots {
        return Err(Problem { text: "invalid cgi prefix", hint: Hint::Text(": expected a directory beneath DIR, such as /cgi-bin/") });
    }
    c.cgi = Some(prefix);
    Ok(())
}

/// An origin-form target: `/health`, `/server-status`.
fn target(s: &'static [u8], text: &'static str) -> Result<&'static [u8], Problem> {
    if !s.starts_with(b"/") || !s.iter().all(|&b| b > b' ' && b < 0x7f) {
        return Err(Problem { text, hint: Hint::Text(": expected a path such as /health") });
    }
    Ok(s)
}

fn health(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    c.health = Some(target(s, "invalid health path")?);
    Ok(())
}

fn status(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    c.status = Some(target(s, "invalid status path")?);
    Ok(())
}

/// `http://HOST[:PORT][/PATH]` (see `probe`).
fn probe(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    crate::probe::parse(s).ok_or(Problem {
        text: "invalid probe URL",
        hint: Hint::Text(": expected http://HOST[:PORT]/PATH, HOST an IP literal or localhost"),
    })?;
    c.probe = Some(s);
    Ok(())
}

/// `short`, `combined` or `json`.
fn log_format(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    c.log_format = match s {
        b"short" => Format::Short,
        b"combined" => Format::Combined,
        b"json" => Format::Json,
        _ => return Err(Problem { text: "invalid log format", hint: Hint::Text(": expected short, combined or json") }),
    };
    Ok(())
}

/// `NAME: VALUE`: a field line (a token, a value without control bytes) that is not one
/// the server writes itself.
fn header(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    let (name, _) = crate::http::header_block::field(s).ok_or(Problem {
        text: "invalid header",
        hint: Hint::Text(": expected 'NAME: VALUE', NAME a token, VALUE without CR, LF or other control bytes"),
    })?;
    if split(SERVERS, b' ').any(|own| crate::http::request::is(name, own)) {
        return Err(Problem {
            text: "invalid header",
            hint: Hint::Text(": the server writes that field itself (Content-Length, Content-Type, Content-Range, Content-Encoding, Transfer-Encoding, Date, Connection, ETag, Last-Modified)"),
        });
    }
    c.headers.add(s).map_err(|()| Problem { text: "one header too many (at most 16):", hint: Hint::None })
}

/// The fields `-H` may not set: the server writes them from what it sends.
const SERVERS: &[u8] = b"content-length content-type content-range content-encoding transfer-encoding date connection etag last-modified";

/// `*` or an origin.
fn cors(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    if !crate::http::cors::is_origin(s) || s.len() > 200 {
        return Err(Problem { text: "invalid CORS origin", hint: Hint::Text(": expected * or an origin such as https://app.example (no path)") });
    }
    c.cors.add(s).map_err(|()| Problem { text: "one CORS origin too many (at most 8):", hint: Hint::None })
}

/// A path beneath DIR, not a dotfile: what `--fallback` and `--error-page` serve.
fn page(s: &'static [u8], text: &'static str) -> Result<&'static [u8], Problem> {
    let printable = s.iter().all(|&b| b > b' ' && b != 0x7f);
    if !s.starts_with(b"/") || s.len() < 2 || !printable || crate::http::target::is_hidden(s) || split(s, b'/').any(|seg| seg == b"..") {
        return Err(Problem { text, hint: Hint::Text(": expected a file's path beneath DIR, such as /index.html (no dotfile, no ..)") });
    }
    Ok(s)
}

fn fallback(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    c.fallback = Some(page(s, "invalid fallback")?);
    Ok(())
}

/// `CODE=PATH`, CODE from 400 to 599.
fn error_page(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    let bad = Problem { text: "invalid error page", hint: Hint::Text(": expected CODE=PATH, CODE from 400 to 599, PATH beneath DIR such as /404.html") };
    let code = s.get(..3).and_then(|code| number(code, 400, 599));
    match (code, s.get(3), s.get(4..)) {
        (Some(_), Some(b'='), Some(path)) => page(path, "invalid error page")?,
        _ => return Err(bad),
    };
    c.error_pages.add(s).map_err(|()| Problem { text: "one error page too many (at most 16):", hint: Hint::None })
}

/// `USER:PASSWORD` (RFC 7617): a user without `:`, no control bytes.
fn auth(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    let user = split(s, b':').next().unwrap_or(s);
    if user.is_empty() || user.len() == s.len() || s.iter().any(|&b| b < b' ' || b == 0x7f) {
        return Err(Problem { text: "invalid credentials", hint: Hint::Text(": expected USER:PASSWORD, USER not empty, no control bytes") });
    }
    c.auth = Some(s);
    Ok(())
}

/// `UID` or `UID:GID`, numbers (the kernel reads -1, 4294967295, as "unchanged").
fn user(c: &mut Config, s: &'static [u8]) -> Result<(), Problem> {
    let bad = Problem { text: "invalid user", hint: Hint::Text(": expected UID or UID:GID, numbers (a scratch image has no /etc/passwd)") };
    let id = |s: &[u8]| number(s, 0, u32::MAX as u64 - 1).map(|n| n as u32).ok_or(bad);
    let (uid, gid) = match s.iter().position(|&b| b == b':') {
        Some(colon) => (id(s.get(..colon).unwrap_or(s))?, id(s.get(colon + 1..).unwrap_or(&[]))?),
        None => (id(s)?, id(s)?),
    };
    c.user = Some(Ids { uid, gid });
    Ok(())
}

// The engine.

/// An option: its names, its value, its help; what it sets in a configuration `C`.
pub struct Opt<C: 'static> {
    /// `--LONG`.
    pub long: &'static str,
    /// `-S`, or 0 for none.
    pub short: u8,
    /// Its value, and what it sets.
    pub kind: Kind<C>,
    /// Its line of `--help` (a `\n` continues it on the next, indented).
    pub help: &'static str,
    /// It means something only with `DIR`: without, it is a usage error.
    pub needs_dir: bool,
}

/// What an option takes, and what it does with it.
pub enum Kind<C: 'static> {
    /// No value.
    Flag(fn(&mut C)),
    /// A decimal number from `min` to `max` (`default` until given), `name` in `--help`.
    Number {
        /// The value's name in `--help`: `PORT`, `N`, `SECS`.
        name: &'static str,
        /// What the number counts, for the error's hint.
        unit: Unit,
        /// The least it may be.
        min: u64,
        /// The most it may be.
        max: u64,
        /// Its value until given.
        default: u64,
        /// Stores it.
        set: fn(&mut C, u64),
    },
    /// Any other value, `name` in `--help`; `set` checks and stores it.
    Text {
        /// The value's name in `--help`.
        name: &'static str,
        /// Checks and stores it, or says what is wrong.
        set: fn(&mut C, &'static [u8]) -> Result<(), Problem>,
    },
    /// `--help`: nothing else is parsed.
    Help,
    /// `--version`: nothing else is parsed.
    Version,
}

/// What a number counts, for the hint of a bad one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `expected a number from MIN to MAX`.
    Plain,
    /// `expected whole seconds from MIN to MAX`.
    Seconds,
    /// `expected a number of bytes from MIN to MAX`.
    Bytes,
}

/// How parsing ended.
pub struct Parsed {
    /// The options given, one bit each, by their index in the table.
    given: u64,
    /// The first option given that means something only with `DIR`, as written.
    pub needs_dir: Option<&'static [u8]>,
    /// `--help` or `--version` came, or `--` (the rest is the caller's).
    pub stop: Option<Stop>,
}

/// Why parsing stopped before the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `--help`.
    Help,
    /// `--version`.
    Version,
    /// `--`: the arguments after it are left in the iterator.
    Rest,
}

impl Parsed {
    /// Whether the option `long` of `table` was given.
    pub fn given<C>(&self, table: &[Opt<C>], long: &str) -> bool {
        table.iter().position(|o| o.long == long).is_some_and(|i| self.given & (1 << i) != 0)
    }
}

/// A bad command line: `PROGRAM: PROBLEM 'ARG'HINT (see PROGRAM --help)`; for a number
/// out of its range, `PROGRAM: invalid NAME 'ARG': expected …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong.
    pub problem: Problem,
    /// With what.
    pub arg: &'static [u8],
}

/// What is wrong with an argument, and what would be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `unknown option`, `invalid bind address`; with a [`Hint::Range`], the name of
    /// what is invalid (`port`, `$PORT`).
    pub text: &'static str,
    /// After the argument: what would be right.
    pub hint: Hint,
}

/// What would be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Nothing more to say.
    None,
    /// These words.
    Text(&'static str),
    /// `: expected a number from MIN to MAX` (in `Unit`s).
    Range(Unit, u64, u64),
}

/// `unknown option '--frob'`.
pub const UNKNOWN_OPTION: Problem = Problem { text: "unknown option", hint: Hint::None };
/// `option needs a value: '-p'`.
pub const NEEDS_VALUE: Problem = Problem { text: "option needs a value:", hint: Hint::None };
const TAKES_NO_VALUE: Problem = Problem { text: "option takes no value:", hint: Hint::None };
/// `unexpected argument 'b'`.
pub const UNEXPECTED: Problem = Problem { text: "unexpected argument", hint: Hint::None };
const NEEDS_DIR: Problem = Problem { text: "option needs a DIR to serve:", hint: Hint::None };

impl<C> Opt<C> {
    /// The hint for a bad value of this option.
    pub fn hint(&self) -> Hint {
        match self.kind {
            Kind::Number { unit, min, max, .. } => Hint::Range(unit, min, max),
            _ => Hint::None,
        }
    }

    /// `-p, --port PORT`, as `--help` and the man page show it.
    pub fn names(&self, out: &mut Buf) {
        match self.short {
            0 => out.push(b"      --"),
            s => out.push(b"  -").byte(s).push(b", --"),
        };
        out.push(self.long.as_bytes());
        if let Kind::Number { name, .. } | Kind::Text { name, .. } = self.kind {
            out.byte(b' ').push(name.as_bytes());
        }
    }
}

/// Parses `args` against `table` into `c`: `--name value`, `--name=value`, `-n value`,
/// `-nvalue`; anything not an option goes to `operand`. Stops at `--help`, `--version`,
/// or `--` (leaving the rest in `args`).
pub fn run<C>(
    table: &'static [Opt<C>],
    c: &mut C,
    args: &mut impl Iterator<Item = &'static [u8]>,
    operand: &mut dyn FnMut(&mut C, &'static [u8]) -> Result<(), Problem>,
) -> Result<Parsed, UsageError> {
    for opt in table {
        if let Kind::Number { default, set, .. } = opt.kind {
            set(c, default);
        }
    }
    let mut parsed = Parsed { given: 0, needs_dir: None, stop: None };
    while let Some(arg) = args.next() {
        if arg == b"--" {
            parsed.stop = Some(Stop::Rest);
            return Ok(parsed);
        }
        let Some((i, opt, inline)) = find(table, arg) else {
            if arg.starts_with(b"-") && arg.len() > 1 || arg == b"-" {
                return Err(UsageError { problem: UNKNOWN_OPTION, arg: split(arg, b'=').next().unwrap_or(arg) });
            }
            operand(c, arg).map_err(|problem| UsageError { problem, arg })?;
            continue;
        };
        parsed.given |= 1 << i;
        let name = arg.get(..arg.len() - inline.map_or(0, |v| v.len() + usize::from(arg.starts_with(b"--")))).unwrap_or(arg);
        if opt.needs_dir && parsed.needs_dir.is_none() {
            parsed.needs_dir = Some(name);
        }
        let mut value = || inline.or_else(|| args.next()).ok_or(UsageError { problem: NEEDS_VALUE, arg: name });
        match opt.kind {
            Kind::Help | Kind::Version | Kind::Flag(_) if inline.is_some() => return Err(UsageError { problem: TAKES_NO_VALUE, arg }),
            Kind::Help => parsed.stop = Some(Stop::Help),
            Kind::Version => parsed.stop = Some(Stop::Version),
            Kind::Flag(set) => set(c),
            Kind::Number { min, max, set, .. } => {
                let v = value()?;
                set(c, number(v, min, max).ok_or(UsageError { problem: Problem { text: opt.long, hint: opt.hint() }, arg: v })?);
            }
            Kind::Text { set, .. } => {
                let v = value()?;
                set(c, v).map_err(|problem| UsageError { problem, arg: v })?;
            }
        }
        if parsed.stop.is_some() {
            return Ok(parsed);
        }
    }
    Ok(parsed)
}

/// The entry `arg` names, its index, and the value attached to it (`--name=value`,
/// `-nvalue`), if any.
fn find<C>(table: &'static [Opt<C>], arg: &'static [u8]) -> Option<(usize, &'static Opt<C>, Option<&'static [u8]>)> {
    if let Some(long) = arg.strip_prefix(b"--") {
        let name = split(long, b'=').next().unwrap_or(long);
        let inline = long.get(name.len() + 1..).filter(|_| name.len() < long.len());
        let i = table.iter().position(|o| o.long.as_bytes() == name)?;
        return Some((i, table.get(i)?, inline));
    }
    let short = *arg.strip_prefix(b"-")?.first()?;
    let i = table.iter().position(|o| o.short == short && short != 0)?;
    Some((i, table.get(i)?, arg.get(2..).filter(|rest| !rest.is_empty())))
}

/// A decimal number from `min` to `max`, digits only.
pub fn number(s: &[u8], min: u64, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
    (min..=max).contains(&v).then_some(v)
}

/// Writes the option lines of a program's `--help`: names, help, range and default.
pub fn write_options<C>(table: &[Opt<C>], emit: &mut dyn FnMut(&[u8])) {
    /// The column the help text starts in.
    const COLUMN: usize = 24;
    let mut line = Buf::new();
    for opt in table {
        line.clear();
        opt.names(&mut line);
        let pad = COLUMN.saturating_sub(line.as_bytes().len()).max(2);
        for (n, text) in split(opt.help.as_bytes(), b'\n').enumerate() {
            for _ in 0..if n == 0 { pad } else { COLUMN } {
                line.byte(b' ');
            }
            line.push(text).byte(b'\n');
        }
        line.truncate(line.as_bytes().len() - 1);
        if let Kind::Number { min, max, default, .. } = opt.kind {
            // On the last line if it fits in 80 columns, else on one of its own.
            let mut range = Buf::new();
            range.push(b"(").num(min).byte(b'-').num(max).push(b", default: ").num(default).byte(b')');
            let last = line.as_bytes().iter().rposition(|&b| b == b'\n').map_or(0, |nl| nl + 1);
            if line.as_bytes().len() - last + 1 + range.as_bytes().len() <= 80 {
                line.byte(b' ');
            } else {
                line.byte(b'\n');
                for _ in 0..COLUMN {
                    line.byte(b' ');
                }
            }
            line.push(range.as_bytes());
        }
        emit(line.byte(b'\n').as_bytes());
    }
}

impl UsageError {
    /// The one-line message of `program`, newline included.
    pub fn write(&self, out: &mut Buf, program: &str) {
        let program = program.as_bytes();
        out.push(program).push(b": ");
        // A number out of its range: `invalid port`, the problem's text the option's name.
        if let Hint::Range(..) = self.problem.hint {
            out.push(b"invalid ");
        }
        out.push(self.problem.text.as_bytes()).push(b" '").push(self.arg).byte(b'\'');
        match self.problem.hint {
            Hint::None => {}
            Hint::Text(text) => {
                out.push(text.as_bytes());
            }
            Hint::Range(unit, min, max) => {
                out.push(match unit {
                    Unit::Plain => b": expected a number from ".as_slice(),
                    Unit::Seconds => b": expected whole seconds from ",
                    Unit::Bytes => b": expected a number of bytes from ",
                });
                out.num(min).push(b" to ").num(max);
            }
        }
        out.push(b" (see ").push(program).push(b" --help)\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&'static str], env: Option<&'static str>) -> Result<Command, String> {
        parse(args.iter().map(|a| a.as_bytes()), env.map(str::as_bytes), None).map_err(|e| {
            let mut b = Buf::new();
            e.write(&mut b, "forkhttpd");
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        })
    }

    fn serve(args: &[&'static str], env: Option<&'static str>) -> Config {
        match run(args, env) {
            Ok(Command::Serve(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    fn help_text() -> String {
        let mut text = Vec::new();
        help(&mut |piece| text.extend_from_slice(piece));
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn defaults_are_the_articles() {
        let c = serve(&[], None);
        assert_eq!(c.addr, "0.0.0.0:8888".parse().unwrap());
        assert_eq!((c.backlog, c.quiet, c.timeout, c.max_children, c.grace), (1024, false, 10, 1024, 8));
        assert_eq!((c.dir, c.list, c.cgi, c.user), (None, false, None, None));
        assert_eq!((c.keep_alive, c.max_requests, c.workers, c.max_body), (5, 1000, 0, 16 << 20));
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
        assert_eq!(run(&["--cgi", "/cgi-bin/"], None).unwrap_err(), "forkhttpd: option needs a DIR to serve: '--cgi' (see forkhttpd --help)\n");
        for alone in ["--list", "--max-body=5"] {
            assert!(run(&[alone], None).unwrap_err().starts_with("forkhttpd: option needs a DIR to serve: '"), "{alone}");
        }
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
        // A short option's value attached, as getopt allows.
        assert_eq!(serve(&["-p8080", "-w2"], None).addr.port(), 8080);
        assert_eq!(serve(&["-w2"], None).workers, 2);
    }

    #[test]
    fn the_option_table() {
        let help = help_text();
        for opt in OPTIONS {
            assert!(help.contains(&format!("--{}", opt.long)), "{} in --help", opt.long);
        }
        assert!(help.contains("\n  -p, --port PORT       TCP port, 0 for any free one; $PORT if set\n                        (0-65535, default: 8888)\n"), "{help}");
        assert!(help.contains("\n      --grace SECS      time requests in flight get after SIGTERM/SIGINT\n                        before they are killed (below docker stop's 10)\n                        (0-86400, default: 8)\n"), "{help}");
        assert!(help.lines().all(|l| l.len() <= 80), "{help}");
        assert!(help.contains("  -c, --max-children N  processes serving at once"), "{help}");
        assert!(help.starts_with("Usage: forkhttpd [OPTIONS] [DIR]\n") && help.ends_with("2 for a bad command line or DIR.\n"));
        let longs: Vec<&str> = OPTIONS.iter().map(|o| o.long).collect();
        let shorts: Vec<u8> = OPTIONS.iter().map(|o| o.short).filter(|&s| s != 0).collect();
        for (i, l) in longs.iter().enumerate() {
            assert!(!longs[i + 1..].contains(l), "--{l} twice");
        }
        for (i, s) in shorts.iter().enumerate() {
            assert!(!shorts[i + 1..].contains(s), "-{} twice", *s as char);
        }
        assert!(OPTIONS.len() <= 64, "one bit each in Parsed::given");
        assert_eq!(run(&["--max"], None).unwrap_err(), "forkhttpd: unknown option '--max' (see forkhttpd --help)\n");
        assert_eq!(run(&["-"], None).unwrap_err(), "forkhttpd: unknown option '-' (see forkhttpd --help)\n");
        assert!(run(&["--quiet=1"], None).unwrap_err().contains("takes no value"));
        assert!(run(&["--help=1"], None).unwrap_err().contains("takes no value"));
        assert!(run(&["-h=1"], None).is_err());
        assert!(run(&["-qq"], None).is_err());
    }

    #[test]
    fn workers() {
        assert_eq!(serve(&[], None).workers, 0);
        assert_eq!((serve(&["-w", "2"], None).workers, serve(&["--workers=1024"], None).workers), (2, 1024));
        assert_eq!(serve(&["-w", "1100", "-c", "1100"], None).workers, 1100);
        assert_eq!(run(&["-w", "1025"], None).unwrap_err(), "forkhttpd: more --workers than --max-children: '--workers' (see forkhttpd --help)\n");
        assert_eq!(
            run(&["-w", "2049"], None).unwrap_err(),
            "forkhttpd: invalid workers '2049': expected a number from 0 to 2048 (see forkhttpd --help)\n"
        );
    }

    #[test]
    fn site_options() {
        let c = serve(&["-H", "Cache-Control: public, max-age=3600", "--header=X-Content-Type-Options:nosniff", "--cors", "*", "--cors", "https://app.example", "site"], None);
        assert_eq!(c.headers.as_slice(), [&b"Cache-Control: public, max-age=3600"[..], b"X-Content-Type-Options:nosniff"]);
        assert_eq!(c.cors.as_slice(), [&b"*"[..], b"https://app.example"]);
        let c = serve(&["--fallback", "/index.html", "--error-page", "404=/404.html", "--error-page=503=/errors/busy.html", "site"], None);
        assert_eq!((c.fallback, c.error_pages.as_slice()), (Some(&b"/index.html"[..]), &[&b"404=/404.html"[..], b"503=/errors/busy.html"][..]));
        let err = |args: &[&'static str]| run(args, None).unwrap_err();
        for bad in ["Content-Length: 5", "content-length: 5", "Date: x", "Connection: close", "Transfer-Encoding: chunked", "Content-Range: bytes 0-1/2"] {
            assert!(err(&["-H", bad]).starts_with(&format!("forkhttpd: invalid header '{bad}': the server writes that field itself")), "{bad}");
        }
        for bad in ["X-A", "X A: b", ": b", "X-A: b\r\nX-B: c", "X-A: b\nc", "X-A: \u{7f}"] {
            assert!(err(&["-H", bad]).starts_with("forkhttpd: invalid header '"), "{bad:?}");
        }
        let sixteen = ["-H", "A: 1"].repeat(16);
        assert_eq!(serve(&sixteen, None).headers.as_slice().len(), 16);
        let seventeen = ["-H", "A: 1"].repeat(17);
        assert_eq!(err(&seventeen), "forkhttpd: one header too many (at most 16): 'A: 1' (see forkhttpd --help)\n");
        for bad in ["example.com", "https://example.com/", "ftp://x"] {
            assert!(err(&["--cors", bad]).starts_with("forkhttpd: invalid CORS origin"), "{bad}");
        }
        for bad in ["index.html", "/.env", "/a/../b", "/"] {
            assert!(err(&["--fallback", bad, "site"]).starts_with("forkhttpd: invalid fallback"), "{bad}");
        }
        for bad in ["404", "404=", "399=/a.html", "600=/a.html", "404:/a.html", "4040=/a.html", "404=a.html", "404=/.hidden"] {
            assert!(err(&["--error-page", bad, "site"]).starts_with("forkhttpd: invalid error page"), "{bad}");
        }
        assert!(err(&["--fallback", "/index.html"]).starts_with("forkhttpd: option needs a DIR to serve: '--fallback'"));
    }

    #[test]
    fn credentials_from_the_command_line_or_the_environment() {
        let auth = |args: &[&'static str], env: Option<&'static str>| match parse(args.iter().map(|a| a.as_bytes()), None, env.map(str::as_bytes)) {
            Ok(Command::Serve(c)) => Ok(c.auth),
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                let mut b = Buf::new();
                e.write(&mut b, "forkhttpd");
                Err(String::from_utf8(b.as_bytes().to_vec()).unwrap())
            }
        };
        assert_eq!(auth(&["--auth", "alice:s3cret:with:colons"], None), Ok(Some(&b"alice:s3cret:with:colons"[..])));
        assert_eq!(auth(&[], Some("bob:pw")), Ok(Some(&b"bob:pw"[..])));
        assert_eq!(auth(&["--auth=alice:x"], Some("bob:pw")), Ok(Some(&b"alice:x"[..])), "the option first");
        assert_eq!(auth(&["--auth", "alice:"], None), Ok(Some(&b"alice:"[..])), "an empty password (RFC 7617)");
        for bad in ["alice", ":pw", "", "a\tb:c"] {
            assert!(auth(&["--auth", bad], None).unwrap_err().starts_with("forkhttpd: invalid credentials '"), "{bad:?}");
        }
        // The environment's value is never printed: it holds a password.
        assert_eq!(
            auth(&[], Some("nocolon-secret")).unwrap_err(),
            "forkhttpd: invalid credentials in '$FORKHTTPD_AUTH': expected USER:PASSWORD, USER not empty, no control bytes (see forkhttpd --help)\n"
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
        assert_eq!(err(&["--frob=1"], None), "forkhttpd: unknown option '--frob' (see forkhttpd --help)\n");
        assert_eq!(err(&["-p"], None), "forkhttpd: option needs a value: '-p' (see forkhttpd --help)\n");
        assert_eq!(
            err(&["-p", "65536"], None),
            "forkhttpd: invalid port '65536': expected a number from 0 to 65535 (see forkhttpd --help)\n"
        );
        assert_eq!(
            err(&["--timeout", "0"], None),
            "forkhttpd: invalid timeout '0': expected whole seconds from 1 to 86400 (see forkhttpd --help)\n"
        );
        assert_eq!(
            err(&[], Some("http")),
            "forkhttpd: invalid $PORT 'http': expected a number from 0 to 65535 (see forkhttpd --help)\n"
        );
        assert!(err(&["-b", "localhost"], None).starts_with("forkhttpd: invalid bind address 'localhost': expected"));
        for bad in [&["-p", "-1"][..], &["-p", ""], &["-p", "99999999999"], &["--backlog", "0"], &["-t", "0"], &["--quiet=1"], &["-c", "0"], &["-c", "2049"]] {
            assert!(run(bad, None).is_err(), "{bad:?}");
        }
    }
}
