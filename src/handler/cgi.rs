//! The CGI answer (`--cgi PREFIX`): a path `PREFIX/NAME[/PATH_INFO]` runs the program
//! `DIR/PREFIX/NAME` for the request ([`crate::cgi`]), with any method.
//!
//! The prefix's directory is opened beneath the root like any file (`openat2`,
//! `RESOLVE_BENEATH`), and the script's entry in it checked (`newfstatat`, without
//! following a symlink: a regular file with an execute bit). The script's process runs it
//! as `./NAME` from that very directory, and first checks that the entry is still the
//! inode that was checked, so what runs is what was checked. Nothing under the prefix is
//! ever sent as a file: a name that is no script gets 404 or 403, never its bytes. Each
//! such refusal is an event line naming the script. The response ends the connection.

use super::{Answer, Exchange, Request, Site};
use crate::argv::Strings;
use crate::cgi::{self, NotRunnable, Script, Server, process};
use crate::fs::{self, Path};
use crate::http::{Status, response};
use rustix::fd::AsFd;
use rustix::io::Errno;

/// `--cgi PREFIX`: where the programs are, and what they run with.
pub struct Programs<'a> {
    /// The programs' directory beneath the root, without leading or trailing `/`
    /// (`cgi-bin`).
    pub prefix: &'a [u8],
    /// `DIR`'s absolute path, without a trailing `/`: `SCRIPT_FILENAME`,
    /// `DOCUMENT_ROOT` and `PATH_TRANSLATED` are under it.
    pub root: &'a [u8],
    /// The server's environment, passed on to the programs.
    pub env: Strings,
    /// The port the server listens on: `SERVER_PORT`.
    pub port: u16,
    /// `--max-body`.
    pub max_body: u64,
}

/// The rest of `path` after `prefix`'s segments, or `None` if `path` is not beneath it.
/// Segments, not bytes: `/cgi-bin//x` is beneath `cgi-bin` as the kernel sees it, and
/// `/cgi-binx` is not.
pub fn beneath<'p>(path: &'p [u8], prefix: &[u8]) -> Option<&'p [u8]> {
    let mut rest = path;
    for want in prefix.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
        rest = rest.get(rest.iter().take_while(|&&b| b == b'/').count()..)?;
        let len = rest.iter().take_while(|&&b| b != b'/').count();
        if rest.get(..len)? != want {
            return None;
        }
        rest = rest.get(len..)?;
    }
    rest.get(rest.iter().take_while(|&&b| b == b'/').count()..)
}

/// Runs the script `rest` names (`NAME[/PATH_INFO]`, after the prefix) for `request`.
/// Never inlined: the CGI code's buffers (the 32 KiB environment, the relay's) stay out
/// of the file answer's frame, whose stack probes every file request pays, a page fault
/// a page.
#[inline(never)]
pub fn answer(x: &Exchange<'_>, request: &Request<'_>, site: &Site<'_>, programs: &Programs<'_>, rest: &[u8]) -> Answer {
    let name_len = rest.iter().take_while(|&&b| b != b'/').count();
    let (name, path_info) = rest.split_at(name_len);
    let mut path = Path::new();
    let dir = match path.join(&[programs.prefix]).ok_or(Errno::NAMETOOLONG).and_then(|p| fs::open_dir(&site.root, p)) {
        Ok(dir) => dir,
        Err(e) => return refuse(x, name, NotRunnable::Directory(e)),
    };
    let entry = path.join(&[name]).filter(|_| !name.is_empty()).ok_or(NotRunnable::Lookup(Errno::NOENT));
    let checked = match entry.and_then(|entry| cgi::check(dir.as_fd(), entry, false)) {
        Ok(checked) => checked,
        Err(why) => return refuse(x, name, why),
    };
    // SCRIPT_NAME: `/PREFIX/NAME`, decoded.
    let mut script_name = Path::new();
    let script_name = script_name.join(&[b"/", programs.prefix, b"/", name]).map_or(name, |c| c.to_bytes());
    let filename: [&[u8]; 5] = [programs.root, b"/", programs.prefix, b"/", name];
    let script = Script { dir: dir.as_fd(), name, checked, follow: false, filename: &filename, args: None };
    let request = cgi::Request {
        message: request.message,
        received: request.received,
        script_name,
        path_info,
        query: request.query.unwrap_or(b""),
        peer: x.peer,
        user: request.user,
    };
    let server = Server {
        env: programs.env,
        port: programs.port,
        document_root: Some(programs.root),
        max_body: programs.max_body,
        deadline: x.deadline,
        timeout: x.timeout,
        reply: Some(&|status| {
            // A CGI response ends the connection: its errors say so.
            let answer = Exchange { connection: response::CLOSE, ..*x }.reply(status);
            (answer.bytes, answer.cut)
        }),
    };
    let outcome = cgi::serve(x.conn, &script, &request, &server);
    Answer { code: outcome.status, bytes: outcome.bytes, cut: outcome.cut, last: true, log: true, user: None }
}

/// 404 (nothing there) or 403 for a name under the prefix that is no program to run, and
/// the event line that names it: `forkhttpd: app.py: not executable (chmod +x it): 403`.
fn refuse(x: &Exchange<'_>, name: &[u8], why: NotRunnable) -> Answer {
    let status = if why.is_missing() { Status::NotFound } else { Status::Forbidden };
    process::event(name, &mut |line| {
        why.write(line);
        line.push(b": ").num(status.code().into());
    });
    x.reply(status)
}

#[cfg(test)]
mod tests {
    use super::beneath;

    #[test]
    fn beneath_the_prefix_by_segments() {
        assert_eq!(beneath(b"/cgi-bin/app.py/x/y", b"cgi-bin"), Some(&b"app.py/x/y"[..]));
        assert_eq!(beneath(b"//cgi-bin//app.py", b"cgi-bin"), Some(&b"app.py"[..]));
        assert_eq!(beneath(b"/cgi-bin", b"cgi-bin"), Some(&b""[..]));
        assert_eq!(beneath(b"/cgi-bin/", b"cgi-bin"), Some(&b""[..]));
        assert_eq!(beneath(b"/apps//cgi/x", b"apps/cgi"), Some(&b"x"[..]));
        assert_eq!(beneath(b"/cgi-binx/app.py", b"cgi-bin"), None);
        assert_eq!(beneath(b"/static/cgi-bin/app.py", b"cgi-bin"), None);
        assert_eq!(beneath(b"/", b"cgi-bin"), None);
    }
}
