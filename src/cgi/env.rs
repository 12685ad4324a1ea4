//! The script's command line and environment (RFC 3875 §4.1), built without an
//! allocator in a fixed region: [`Block`], bytes and offsets on the connection child's
//! stack. A request whose environment does not fit earns 431. No syscalls.
//!
//! The variables, in this order:
//! - the meta-variables: `GATEWAY_INTERFACE=CGI/1.1`, `SERVER_SOFTWARE=forkhttpd/VERSION`,
//!   `SERVER_NAME` (the `Host` without its port, else the local address), `SERVER_PORT`,
//!   `SERVER_PROTOCOL`, `REQUEST_METHOD`, `SCRIPT_NAME`, `SCRIPT_FILENAME` (the program's
//!   absolute path, as Apache, lighttpd and nginx give it: php-cgi needs it),
//!   `DOCUMENT_ROOT` (absolute, when there is one), `PATH_INFO`, `PATH_TRANSLATED`
//!   (absolute; only when `PATH_INFO` is not empty and there is a document root),
//!   `QUERY_STRING` (as received, empty if none), `REMOTE_ADDR`, `REMOTE_PORT`,
//!   `CONTENT_LENGTH` (when the request has a body, also a chunked one, which the
//!   program gets decoded), `REDIRECT_STATUS=200` (as Apache and lighttpd pass it:
//!   php-cgi's default `cgi.force_redirect` refuses a request without it);
//! - in the order of the request's headers, `CONTENT_TYPE` from the first
//!   `Content-Type`, and `HTTP_NAME` for each header `Name` (upper case, `-` as `_`),
//!   repeated headers joined with `, ` (`Cookie`s with `; `, RFC 9113 §8.2.3). Not: `Content-Type`
//!   and `Content-Length` (they have their own), `Transfer-Encoding` (the program gets
//!   the body decoded, with its length), `Proxy` (httpoxy: `HTTP_PROXY` is the
//!   proxy setting of many HTTP libraries, and a client must not choose it), and names
//!   with bytes other than letters, digits and `-` (`X_Forwarded_For` would pass for
//!   `X-Forwarded-For`; Apache drops them too). `Authorization` is passed when the
//!   server authenticates no one itself (the script is then the only one who can check
//!   it); with `--auth` it is not, and the script gets `AUTH_TYPE=Basic` and
//!   `REMOTE_USER`, after `REMOTE_PORT`;
//! - the server's own environment (containers configure applications that way), except
//!   the names above and any `HTTP_*`, which only the request may set.
#![allow(unsafe_code)] // unsafe: the NULL-terminated pointer arrays `execve` takes.

use crate::buf::{Buf, split};
use core::ffi::CStr;
use crate::http::request::{Message, is};

/// Bytes for all the strings, NULs included: room for a full request head (8 KiB) and a
/// generous server environment. Linux takes up to 32 pages per string and far more in all.
pub const BYTES: usize = 32 * 1024;

/// Strings in all, arguments and variables.
pub const ENTRIES: usize = 512;

/// Names the server sets (RFC 3875 §4.1, and `REMOTE_PORT`), or that it must not let the
/// server's own environment set (`AUTH_TYPE`, `REMOTE_USER`: only `--auth` says who is
/// in); and `FORKHTTPD_AUTH`, `--auth`'s credentials, which are no script's business.
const CGI_NAMES: &str = "AUTH_TYPE CONTENT_LENGTH CONTENT_TYPE DOCUMENT_ROOT GATEWAY_INTERFACE PATH_INFO \
    PATH_TRANSLATED QUERY_STRING REDIRECT_STATUS REMOTE_ADDR REMOTE_HOST REMOTE_IDENT REMOTE_PORT REMOTE_USER \
    REQUEST_METHOD SCRIPT_FILENAME SCRIPT_NAME SERVER_NAME SERVER_PORT SERVER_PROTOCOL SERVER_SOFTWARE FORKHTTPD_AUTH";

/// The region is full: the request earns 431.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

/// NUL-terminated strings in a fixed array: first `argv`, then `envp`.
pub struct Block {
    bytes: [u8; BYTES],
    len: usize,
    /// Where each string starts in `bytes`.
    starts: [u32; ENTRIES],
    count: usize,
    /// How many of the strings are arguments.
    argc: usize,
}

/// The pointer arrays `execve` takes, filled by [`Block::pointers`]: the arguments, a
/// NULL, the variables, a NULL.
pub struct Pointers([*const u8; ENTRIES + 2]);

impl Default for Pointers {
    fn default() -> Self {
        Pointers([core::ptr::null(); ENTRIES + 2])
    }
}

impl Default for Block {
    fn default() -> Self {
        Self::new()
    }
}

impl Block {
/// Nothing in it yet.
    pub const fn new() -> Self {
        Block { bytes: [0; BYTES], len: 0, starts: [0; ENTRIES], count: 0, argc: 0 }
    }

    /// Appends one string, `name` and `value` (`NAME=` and its value; an argument and
    /// nothing), then a NUL.
    #[inline(never)]
    pub fn add(&mut self, name: &[u8], value: &[u8]) -> Result<(), Full> {
        self.begin()?;
        self.put(name)?;
        self.put(value)?;
        self.end()
    }

    /// `name` and the decimal `n`.
    #[inline(never)]
    fn add_number(&mut self, name: &[u8], n: u64) -> Result<(), Full> {
        let mut digits = Buf::new();
        self.add(name, digits.num(n).as_bytes())
    }

    fn begin(&mut self) -> Result<(), Full> {
        *self.starts.get_mut(self.count).ok_or(Full)? = self.len as u32;
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len + bytes.len();
        self.bytes.get_mut(self.len..end).ok_or(Full)?.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn end(&mut self) -> Result<(), Full> {
        self.put(b"\0")?;
        self.count += 1;
        Ok(())
    }

    /// The strings added so far are the arguments; the rest will be the environment.
    pub fn end_arguments(&mut self) {
        self.argc = self.count;
    }

    /// The first string, NUL included: the program's path, `argv[0]`.
    pub fn program(&self) -> &CStr {
        match self.bytes.iter().position(|&b| b == 0).and_then(|nul| self.bytes.get(..=nul)) {
            // SAFETY: the slice ends with its first NUL, so it has no other.
            Some(first) if self.count > 0 => unsafe { CStr::from_bytes_with_nul_unchecked(first) },
            _ => c"",
        }
    }

    /// Every string, without its NUL: the arguments, then the variables.
    pub fn strings(&self) -> impl Iterator<Item = &[u8]> {
        let bytes = self.bytes.get(..self.len).unwrap_or(&[]);
        split(bytes, 0).take(self.count)
    }

    /// Fills `out` and returns `(argv, envp)` for `execve`. The pointers point into
    /// `self`, which must stay where it is until the exec.
    pub fn pointers(&self, out: &mut Pointers) -> (*const *const u8, *const *const u8) {
        let base = self.bytes.as_ptr();
        for (i, start) in self.starts.iter().take(self.count).enumerate() {
            let slot = if i < self.argc { i } else { i + 1 };
            if let Some(p) = out.0.get_mut(slot) {
                *p = base.wrapping_add(*start as usize);
            }
        }
        for end in [self.argc, self.count + 1] {
            if let Some(p) = out.0.get_mut(end) {
                *p = core::ptr::null();
            }
        }
        let envp = out.0.get(self.argc + 1).map_or(core::ptr::null(), |p| p as *const *const u8);
        (out.0.as_ptr(), envp)
    }
}

/// What the environment is made of besides the request head.
pub struct Vars<'a> {
/// `SERVER_NAME`.
    pub server_name: &'a [u8],
/// `SERVER_PORT`.
    pub server_port: u16,
/// `SCRIPT_NAME`.
    pub script_name: &'a [u8],
    /// `SCRIPT_FILENAME`, in pieces (the absolute directory, the name).
    pub script_filename: &'a [&'a [u8]],
/// `PATH_INFO`, decoded.
    pub path_info: &'a [u8],
/// `QUERY_STRING`, as received.
    pub query: &'a [u8],
    /// Absolute: `DOCUMENT_ROOT`, and what `PATH_TRANSLATED` is under.
    pub document_root: Option<&'a [u8]>,
    /// `REMOTE_ADDR` as text, and `REMOTE_PORT`.
    pub remote: Option<(&'a [u8], u16)>,
    /// `REMOTE_USER` (with `AUTH_TYPE=Basic`): the user the server let in.
    pub user: Option<&'a [u8]>,
    /// The request body's length.
    pub length: u64,
}

/// Adds the environment of the request `message` to `block`, then `server_env`.
pub fn build<'e>(
    block: &mut Block,
    message: &Message<'_>,
    vars: &Vars<'_>,
    server_env: impl Iterator<Item = &'e [u8]>,
) -> Result<(), Full> {
    block.add(b"GATEWAY_INTERFACE=CGI/1.1", b"")?;
    block.add(concat!("SERVER_SOFTWARE=forkhttpd/", env!("CARGO_PKG_VERSION")).as_bytes(), b"")?;
    block.add(b"SERVER_NAME=", vars.server_name)?;
    block.add_number(b"SERVER_PORT=", vars.server_port.into())?;
    block.add(b"SERVER_PROTOCOL=HTTP/1.", if message.minor == 0 { b"0" } else { b"1" })?;
    block.add(b"REQUEST_METHOD=", message.method)?;
    block.add(b"SCRIPT_NAME=", vars.script_name)?;
    block.begin()?;
    block.put(b"SCRIPT_FILENAME=")?;
    for piece in vars.script_filename {
        block.put(piece)?;
    }
    block.end()?;
    if let Some(root) = vars.document_root {
        block.add(b"DOCUMENT_ROOT=", root)?;
    }
    block.add(b"PATH_INFO=", vars.path_info)?;
    if let (Some(root), false) = (vars.document_root, vars.path_info.is_empty()) {
        block.begin()?;
        block.put(b"PATH_TRANSLATED=")?;
        block.put(root.strip_suffix(b"/").unwrap_or(root))?;
        block.put(vars.path_info)?;
        block.end()?;
    }
    block.add(b"QUERY_STRING=", vars.query)?;
    if let Some((addr, port)) = vars.remote {
        block.add(b"REMOTE_ADDR=", addr)?;
        block.add_number(b"REMOTE_PORT=", port.into())?;
    }
    if let Some(user) = vars.user {
        block.add(b"AUTH_TYPE=Basic", b"")?;
        block.add(b"REMOTE_USER=", user)?;
    }
    if vars.length > 0 {
        block.add_number(b"CONTENT_LENGTH=", vars.length)?;
    }
    block.add(b"REDIRECT_STATUS=200", b"")?;
    let mut content_type = false;
    for (i, (name, value)) in message.fields().enumerate() {
        if is(name, b"content-type") && !content_type {
            block.add(b"CONTENT_TYPE=", value)?;
            content_type = true;
        }
        let own = is(name, b"content-type") || is(name, b"content-length") || is(name, b"transfer-encoding") || is(name, b"proxy");
        // The server checked the password: the script gets the user, not the password.
        let own = own || (vars.user.is_some() && is(name, b"authorization"));
        if own || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-') {
            continue;
        }
        let mark = block.len;
        block.begin()?;
        block.put(b"HTTP_")?;
        for &b in name {
            block.put(&[if b == b'-' { b'_' } else { b.to_ascii_uppercase() }])?;
        }
        // The first field of this name gathers the values of all of them.
        let separator: &[u8] = if is(name, b"cookie") { b"; " } else { b", " };
        let mut first = true;
        for (j, (other, more)) in message.fields().enumerate() {
            if !same(other, name) {
                continue;
            }
            if j < i {
                break; // gathered already
            }
            block.put(if first { b"=" } else { separator })?;
            block.put(more)?;
            first = false;
        }
        if first {
            block.len = mark; // nothing of it stays
        } else {
            block.end()?;
        }
    }
    for entry in server_env {
        let name = split(entry, b'=').next().unwrap_or(entry);
        let cgi = name.starts_with(b"HTTP_") || split(CGI_NAMES.as_bytes(), b' ').any(|n| n == name);
        if !cgi && name.len() < entry.len() {
            block.add(entry, b"")?;
        }
    }
    Ok(())
}

/// Two field names are the same in any case. (Not `eq_ignore_ascii_case`: see
/// `request::is`.)
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_ascii_lowercase() == y.to_ascii_lowercase())
}

/// `SERVER_NAME` from the `Host` header: without its port; an IPv6 literal keeps its
/// brackets (RFC 3875 §4.1.14). `None` without a `Host` (HTTP/1.0).
pub fn host_name<'a>(message: &Message<'a>) -> Option<&'a [u8]> {
    let (_, host) = message.fields().find(|(name, _)| is(name, b"host"))?;
    let end = match host.first() {
        Some(b'[') => host.iter().position(|&b| b == b']').map_or(host.len(), |i| i + 1),
        _ => host.iter().position(|&b| b == b':').unwrap_or(host.len()),
    };
    host.get(..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(head: &[u8]) -> Message<'_> {
        Message::lex(head).unwrap_or_else(|_| panic!("a valid head"))
    }

    fn vars() -> Vars<'static> {
        Vars {
            server_name: b"localhost",
            server_port: 8888,
            script_name: b"/cgi-bin/app",
            script_filename: &[b"/srv/www/cgi-bin/", b"app"],
            path_info: b"/a b",
            query: b"x=1&y=%20",
            document_root: Some(b"/srv/www/"),
            remote: Some((b"127.0.0.1", 40000)),
            user: None,
            length: 5,
        }
    }

    fn env(head: &[u8], vars: &Vars<'_>, server: &[&str]) -> Vec<String> {
        let mut block = Box::new(Block::new());
        block.add(b"/srv/www/cgi-bin/app", b"").unwrap();
        block.end_arguments();
        build(&mut block, &message(head), vars, server.iter().map(|s| s.as_bytes())).unwrap();
        let all: Vec<String> = block.strings().map(|s| String::from_utf8(s.to_vec()).unwrap()).collect();
        assert_eq!(all[0], "/srv/www/cgi-bin/app");
        all[1..].to_vec()
    }

    #[test]
    fn the_meta_variables() {
        let head = b"POST /cgi-bin/app/a%20b?x=1&y=%20 HTTP/1.1\r\nHost: localhost:8888\r\n\
                     Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(
            env(head, &vars(), &[]),
            [
                "GATEWAY_INTERFACE=CGI/1.1",
                &format!("SERVER_SOFTWARE=forkhttpd/{}", env!("CARGO_PKG_VERSION")),
                "SERVER_NAME=localhost",
                "SERVER_PORT=8888",
                "SERVER_PROTOCOL=HTTP/1.1",
                "REQUEST_METHOD=POST",
                "SCRIPT_NAME=/cgi-bin/app",
                "SCRIPT_FILENAME=/srv/www/cgi-bin/app",
                "DOCUMENT_ROOT=/srv/www/",
                "PATH_INFO=/a b",
                "PATH_TRANSLATED=/srv/www/a b",
                "QUERY_STRING=x=1&y=%20",
                "REMOTE_ADDR=127.0.0.1",
                "REMOTE_PORT=40000",
                "CONTENT_LENGTH=5",
                "REDIRECT_STATUS=200",
                "HTTP_HOST=localhost:8888",
                "CONTENT_TYPE=text/plain",
            ]
        );
        let get = env(b"GET / HTTP/1.0\r\n\r\n", &Vars { path_info: b"", length: 0, remote: None, ..vars() }, &[]);
        assert!(get.contains(&"SERVER_PROTOCOL=HTTP/1.0".into()) && get.contains(&"PATH_INFO=".into()));
        assert!(!get.iter().any(|v| v.starts_with("PATH_TRANSLATED=") || v.starts_with("CONTENT_")), "{get:?}");
        assert!(!get.iter().any(|v| v.starts_with("REMOTE_")), "{get:?}");
        let no_root = env(b"GET / HTTP/1.0\r\n\r\n", &Vars { document_root: None, ..vars() }, &[]);
        assert!(!no_root.iter().any(|v| v.starts_with("PATH_TRANSLATED=")), "{no_root:?}");
    }

    #[test]
    fn headers_become_http_variables() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Custom-Thing: yes\r\nAccept: text/html\r\nProxy: http://evil:1/\r\n\
                     accept: text/plain\r\nCookie: a=1\r\nCookie: b=2\r\nX_Under: no\r\nX.Dot: no\r\n\
                     Authorization: Bearer t\r\nContent-Length: 0\r\n\r\n";
        let vars = env(head, &Vars { length: 0, ..vars() }, &[]);
        let http: Vec<&str> = vars.iter().filter(|v| v.starts_with("HTTP_")).map(String::as_str).collect();
        assert_eq!(
            http,
            [
                "HTTP_HOST=a",
                "HTTP_X_CUSTOM_THING=yes",
                "HTTP_ACCEPT=text/html, text/plain",
                "HTTP_COOKIE=a=1; b=2",
                "HTTP_AUTHORIZATION=Bearer t",
            ]
        );
        assert!(!vars.iter().any(|v| v.starts_with("CONTENT_LENGTH")), "no body: {vars:?}");
    }

    #[test]
    fn the_servers_environment_passes_except_cgi_names() {
        let server = ["PATH=/usr/bin:/bin", "HTTP_PROXY=http://proxy:3128", "REMOTE_USER=root", "SERVER_NAME=x", "LANG=C.UTF-8", "NOEQUALS", "EMPTY="];
        let vars = env(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", &vars(), &server);
        let passed: Vec<&str> = vars.iter().skip_while(|v| !v.starts_with("HTTP_HOST=")).skip(1).map(String::as_str).collect();
        assert_eq!(passed, ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY="]);
        assert_eq!(vars.iter().filter(|v| v.starts_with("SERVER_NAME=")).count(), 1);
    }

    #[test]
    fn server_name_from_host() {
        let name = |head: &'static [u8]| host_name(&message(head)).map(|n| String::from_utf8(n.to_vec()).unwrap());
        assert_eq!(name(b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n").as_deref(), Some("example.com"));
        assert_eq!(name(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").as_deref(), Some("example.com"));
        assert_eq!(name(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").as_deref(), Some("[::1]"));
        assert_eq!(name(b"GET / HTTP/1.0\r\n\r\n"), None);
    }

    #[test]
    fn a_full_region_is_an_error_not_a_panic() {
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "v".repeat(7000));
        let server: Vec<String> = (0..100).map(|i| format!("VAR{i}={}", "x".repeat(300))).collect();
        let mut block = Box::new(Block::new());
        let result = build(&mut block, &message(big.as_bytes()), &vars(), server.iter().map(|s| s.as_bytes()));
        assert_eq!(result, Err(Full));
        let many: Vec<String> = (0..ENTRIES).map(|i| format!("V{i}=1")).collect();
        let mut block = Box::new(Block::new());
        let result = build(&mut block, &message(b"GET / HTTP/1.0\r\n\r\n"), &vars(), many.iter().map(|s| s.as_bytes()));
        assert_eq!(result, Err(Full));
    }

    #[test]
    fn pointer_arrays() {
        let mut block = Box::new(Block::new());
        block.add(b"prog", b"").unwrap();
        block.add(b"arg", b"1").unwrap();
        block.end_arguments();
        block.add(b"A=", b"1").unwrap();
        let mut ptrs = Box::new(Pointers::default());
        let (argv, envp) = block.pointers(&mut ptrs);
        let read = |list: *const *const u8| {
            let mut out = Vec::new();
            // SAFETY: the test's own NULL-terminated arrays of NUL-terminated strings.
            unsafe {
                let mut p = list;
                while !(*p).is_null() {
                    out.push(std::ffi::CStr::from_ptr((*p).cast()).to_str().unwrap().to_string());
                    p = p.add(1);
                }
            }
            out
        };
        assert_eq!(read(argv), ["prog", "arg1"]);
        assert_eq!(read(envp), ["A=1"]);
        let mut empty = Box::new(Block::new());
        empty.add(b"prog", b"").unwrap();
        empty.end_arguments();
        let (argv, envp) = empty.pointers(&mut ptrs);
        assert_eq!((read(argv), read(envp)), (vec!["prog".to_string()], vec![]));
    }
}
