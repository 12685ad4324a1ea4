//! One line of strace's output, as strace writes it: an optional pid column (`strace -f`
//! to a file: `12345 `; to a terminal: `[pid 12345] `), an optional timestamp (`-ttt`
//! `1733410000.123456`, `-tt` `18:41:05.123456`, `-t` `18:41:05`, `-r` `0.000123`), then
//! a call, the end of a call (`<... accept resumed>`), a signal (`--- SIGCHLD {...} ---`)
//! or an exit (`+++ exited with 0 +++`, `+++ killed by SIGTERM +++`).

/// A timestamp as written. Nanoseconds, whatever the precision strace printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// No timestamp on the line.
    None,
    /// `-ttt`: seconds since the epoch. Also `-r` (relative to the previous line): the two
    /// look alike, and the reader tells them apart by the first line's value.
    Seconds(i64),
    /// `-tt` or `-t`: the time of day.
    Clock(i64),
}

/// What a call returned: `= 4`, `= -1 EINTR (Interrupted system call)`, `= ? ERESTARTSYS
/// (To be restarted if SA_RESTART is set)`, `= 0x7f00...`, `= ?` (exit_group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ret {
    /// None for `?`.
    pub value: Option<i64>,
    /// The errno name after the value, if any (`EINTR`, `ERESTARTSYS`, `ECHILD`...).
    pub errno: Option<String>,
    /// `-T`: the time spent in the call, `<0.000123>` at the end of the line.
    pub duration: Option<i64>,
}

impl Ret {
    /// A call cut short by a signal: EINTR, or one of the kernel's restart codes that
    /// strace shows for a call a signal handler interrupted (`ERESTARTSYS`,
    /// `ERESTARTNOINTR`, `ERESTARTNOHAND`, `ERESTART_RESTARTBLOCK`).
    pub fn interrupted(&self) -> bool {
        self.errno.as_deref().is_some_and(|e| e == "EINTR" || e.starts_with("ERESTART"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `name(args) = ret`, or `name(args <unfinished ...>` (ret None, unfinished true).
    Call { name: String, args: String, ret: Option<Ret>, unfinished: bool },
    /// `<... name resumed>rest) = ret`.
    Resumed { name: String, args: String, ret: Option<Ret> },
    /// `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12346, ...} ---`.
    Signal { name: String, si_pid: Option<u32> },
    /// `+++ exited with 0 +++`.
    Exited(i32),
    /// `+++ killed by SIGKILL +++` (the signal's name; `(core dumped)` dropped).
    Killed(String),
    /// Anything else (`strace: Process 1 attached`, a line cut short...): kept, not drawn.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub pid: Option<u32>,
    pub stamp: Stamp,
    pub body: Body,
}

/// Parses one line of strace output (without its newline).
pub fn line(text: &str) -> Line {
    let mut rest = text.trim_start();
    let mut pid = None;
    // `[pid 12345] ` (strace to a terminal) or `12345 ` (strace -f -o FILE).
    if let Some(after) = rest.strip_prefix("[pid") {
        if let Some((n, tail)) = after.split_once(']') {
            if let Ok(n) = n.trim().parse() {
                pid = Some(n);
                rest = tail.trim_start();
            }
        }
    } else if let Some((tok, tail)) = rest.split_once(' ') {
        if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
            pid = tok.parse().ok();
            rest = tail.trim_start();
        }
    }
    let mut stamp = Stamp::None;
    if let Some((tok, tail)) = rest.split_once(' ') {
        if let Some(s) = timestamp(tok) {
            stamp = s;
            rest = tail.trim_start();
        }
    }
    Line { pid, stamp, body: body(rest) }
}

/// `1733410000.123456`, `0.000123`, `18:41:05.123456`, `18:41:05`.
fn timestamp(tok: &str) -> Option<Stamp> {
    if tok.contains(':') {
        let (hms, frac) = tok.split_once('.').unwrap_or((tok, ""));
        let parts: Vec<&str> = hms.split(':').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        let secs = parts.iter().try_fold(0i64, |acc, p| p.parse::<i64>().ok().map(|v| acc * 60 + v))?;
        return Some(Stamp::Clock(secs * 1_000_000_000 + fraction(frac)?));
    }
    let (int, frac) = tok.split_once('.')?;
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Stamp::Seconds(int.parse::<i64>().ok()?.checked_mul(1_000_000_000)? + fraction(frac)?))
}

/// The digits after the point, as nanoseconds.
fn fraction(frac: &str) -> Option<i64> {
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.is_empty() {
        return Some(0);
    }
    Some(frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32))
}

fn body(rest: &str) -> Body {
    if let Some(sig) = rest.strip_prefix("--- ") {
        let name = sig.split([' ', '{']).next().unwrap_or("");
        // `--- stopped by SIGSTOP ---`
        let name = if name == "stopped" { sig.split_whitespace().nth(2).unwrap_or(name) } else { name };
        let si_pid = sig.split_once("si_pid=").and_then(|(_, p)| digits(p).parse().ok());
        return Body::Signal { name: name.to_string(), si_pid };
    }
    if let Some(exit) = rest.strip_prefix("+++ ") {
        if let Some(code) = exit.strip_prefix("exited with ") {
            if let Ok(code) = code.trim_end_matches(" +++").trim().parse() {
                return Body::Exited(code);
            }
        }
        if let Some(sig) = exit.strip_prefix("killed by ") {
            return Body::Killed(sig.split_whitespace().next().unwrap_or("?").to_string());
        }
        return Body::Other;
    }
    if let Some(resumed) = rest.strip_prefix("<... ") {
        let Some((name, args)) = resumed.split_once(" resumed>") else { return Body::Other };
        let (args, ret) = args_and_ret(args);
        return Body::Resumed { name: name.to_string(), args: args.to_string(), ret };
    }
    let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if name_len == 0 || rest.as_bytes().get(name_len) != Some(&b'(') {
        return Body::Other;
    }
    let name = &rest[..name_len];
    let after = &rest[name_len + 1..];
    if let Some(args) = after.trim_end().strip_suffix("<unfinished ...>") {
        return Body::Call { name: name.to_string(), args: args.trim_end().to_string(), ret: None, unfinished: true };
    }
    let (args, ret) = args_and_ret(after);
    if ret.is_none() {
        return Body::Other; // a line cut short: no `)` closes the call
    }
    Body::Call { name: name.to_string(), args: args.to_string(), ret, unfinished: false }
}

/// Splits `args) = ret` at the `)` that closes the call: one outside any string (strace
/// writes strings in double quotes, `\"` inside) and any bracket the arguments open.
fn args_and_ret(s: &str) -> (&str, Option<Ret>) {
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for (i, b) in s.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' | b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            b')' if depth == 0 => return (&s[..i], ret(&s[i + 1..])),
            b')' => depth -= 1,
            _ => {}
        }
    }
    (s, None)
}

/// ` = -1 EINTR (Interrupted system call) <0.000012>`.
fn ret(s: &str) -> Option<Ret> {
    let mut s = s.trim();
    let mut duration = None;
    if s.ends_with('>') {
        if let Some(open) = s.rfind(" <") {
            if let Some(Stamp::Seconds(ns)) = timestamp(&s[open + 2..s.len() - 1]) {
                duration = Some(ns);
                s = s[..open].trim_end();
            }
        }
    }
    let s = s.strip_prefix('=')?.trim_start();
    let (value, tail) = s.split_once(' ').unwrap_or((s, ""));
    let value = match value {
        "?" => None,
        v => Some(if let Some(hex) = v.strip_prefix("0x") { i64::from_str_radix(hex, 16).ok()? } else { v.parse().ok()? }),
    };
    let word = tail.split_whitespace().next().unwrap_or("");
    let errno = (word.len() > 1 && word.starts_with('E') && word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        .then(|| word.to_string());
    Some(Ret { value, errno, duration })
}

fn digits(s: &str) -> &str {
    &s[..s.bytes().take_while(|b| b.is_ascii_digit()).count()]
}

/// The first string of a list argument, `["target/release/webserver3f", "--port", "0"]`:
/// argv[0] of an `execve`. Escapes are left as written; true if strace cut it short
/// (`"..."...`, past `-s`).
pub fn first_list_string(args: &str) -> Option<(&str, bool)> {
    string_at(&args[args.find("[\"")? + 1..])
}

/// The string that starts `args` (`execve`'s path), and whether strace cut it short.
pub fn first_string(args: &str) -> Option<(&str, bool)> {
    string_at(args.trim_start())
}

fn string_at(s: &str) -> Option<(&str, bool)> {
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some((&body[..i], body[i + 1..].starts_with("..."))),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &str, value: Option<i64>, errno: Option<&str>) -> Body {
        let ret = Some(Ret { value, errno: errno.map(str::to_string), duration: None });
        Body::Call { name: name.into(), args: args.into(), ret, unfinished: false }
    }

    #[test]
    fn a_call_with_pid_and_epoch_timestamp() {
        let l = line("19195 1796496152.912322 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3");
        assert_eq!(l.pid, Some(19195));
        assert_eq!(l.stamp, Stamp::Seconds(1_796_496_152_912_322_000));
        assert_eq!(l.body, call("socket", "AF_INET, SOCK_STREAM, IPPROTO_IP", Some(3), None));
    }

    #[test]
    fn unfinished_and_resumed() {
        let l = line("19195 1796496153.217364 accept(3, NULL, NULL <unfinished ...>");
        assert_eq!(l.body, Body::Call { name: "accept".into(), args: "3, NULL, NULL".into(), ret: None, unfinished: true });
        let l = line("19195 1796496153.217399 <... accept resumed>) = 4");
        assert_eq!(l.pid, Some(19195));
        assert_eq!(l.body, Body::Resumed { name: "accept".into(), args: "".into(), ret: Some(Ret { value: Some(4), errno: None, duration: None }) });
        // A resumed line carrying the rest of the arguments, a string with `)` in it.
        let l = line(r#"19210 1796496153.217496 <... recvfrom resumed>"GET /a) HTTP/1.1\n\"(\n", 1024, 0, NULL, NULL) = 42"#);
        let Body::Resumed { name, ret, .. } = l.body else { panic!("{l:?}") };
        assert_eq!((name.as_str(), ret.unwrap().value), ("recvfrom", Some(42)));
        let l = line("19195 1796496153.217610 <... clone resumed>, child_tidptr=0x7ffec0d9dc50) = 19212");
        let Body::Resumed { ret, .. } = l.body else { panic!() };
        assert_eq!(ret.unwrap().value, Some(19212));
    }

    #[test]
    fn exits() {
        assert_eq!(line("19383 1796496212.698849 +++ exited with 0 +++").body, Body::Exited(0));
        assert_eq!(line("19442 18:43:35.877812 +++ exited with 1 +++").body, Body::Exited(1));
        assert_eq!(line("19195 1796496154.231696 +++ killed by SIGTERM +++").body, Body::Killed("SIGTERM".into()));
        assert_eq!(line("+++ killed by SIGSEGV (core dumped) +++").body, Body::Killed("SIGSEGV".into()));
        // exit_group's own line: `= ?`, no value.
        assert_eq!(line("19447 18:43:35.877190 exit_group(0)     = ?").body, call("exit_group", "0", None, None));
    }

    #[test]
    fn signals() {
        let l = line("19195 1796496153.218171 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=19210, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---");
        assert_eq!(l.body, Body::Signal { name: "SIGCHLD".into(), si_pid: Some(19210) });
        let l = line("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=22825, ...} ---");
        assert_eq!(l.body, Body::Signal { name: "SIGCHLD".into(), si_pid: Some(22825) });
        assert_eq!(line("123 --- stopped by SIGSTOP ---").body, Body::Signal { name: "SIGSTOP".into(), si_pid: None });
    }

    #[test]
    fn interrupted_calls() {
        let l = line("19195 1796496153.221330 accept(3, NULL, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
        let Body::Call { ret: Some(r), .. } = &l.body else { panic!() };
        assert_eq!((r.value, r.errno.as_deref(), r.interrupted()), (None, Some("ERESTARTSYS"), true));
        let l = line("19195 1796496153.221026 <... accept resumed>) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
        let Body::Resumed { ret: Some(r), .. } = &l.body else { panic!() };
        assert!(r.interrupted());
        let l = line("rt_sigreturn({mask=[]})                 = -1 EINTR (Interrupted system call)");
        let Body::Call { ret: Some(r), .. } = &l.body else { panic!() };
        assert_eq!((r.value, r.errno.as_deref(), r.interrupted()), (Some(-1), Some("EINTR"), true));
        let l = line("19195 1796496153.218095 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ffec0d9dc50) = ? ERESTARTNOINTR (To be restarted)");
        let Body::Call { ret: Some(r), .. } = &l.body else { panic!() };
        assert!(r.interrupted());
        // Errors that are not interruptions.
        let l = line("wait4(-1, 0x7ffcba7c8ad4, WNOHANG, NULL) = -1 ECHILD (No child processes)");
        let Body::Call { ret: Some(r), .. } = &l.body else { panic!() };
        assert_eq!((r.errno.as_deref(), r.interrupted()), (Some("ECHILD"), false));
    }

    #[test]
    fn ff_files_have_no_pid_column() {
        let l = line("1796496217.389865 execve(\"target/release/webserver3g\", [\"target/release/webserver3g\", \"--port\", \"0\"], 0x7ffeff357278 /* 35 vars */) = 0");
        assert_eq!((l.pid, l.stamp), (None, Stamp::Seconds(1_796_496_217_389_865_000)));
        let Body::Call { name, args, .. } = l.body else { panic!() };
        assert_eq!(name, "execve");
        assert_eq!(first_list_string(&args), Some(("target/release/webserver3g", false)));
        assert_eq!(first_string(&args), Some(("target/release/webserver3g", false)));
        // Cut short by -s (32 bytes by default).
        let args = r#""/work/trace-picture/target/release/webserver3g", ["/work/trace-picture/target/relea"...], 0x7ffd /* 35 vars */"#;
        assert_eq!(first_list_string(args), Some(("/work/trace-picture/target/relea", true)));
        assert_eq!(first_string(args), Some(("/work/trace-picture/target/release/webserver3g", false)));
        // Neither pid nor timestamp: the plain `strace -ff` line.
        let l = line("close(3)                                = 0");
        assert_eq!((l.pid, l.stamp, l.body), (None, Stamp::None, call("close", "3", Some(0), None)));
    }

    #[test]
    fn other_timestamps_and_pid_forms() {
        assert_eq!(line("19442 18:43:34.782470 listen(3, 5) = 0").stamp, Stamp::Clock(((18 * 60 + 43) * 60 + 34) * 1_000_000_000 + 782_470_000));
        assert_eq!(line("19442 18:43:34 listen(3, 5) = 0").stamp, Stamp::Clock(((18 * 60 + 43) * 60 + 34) * 1_000_000_000));
        // -r: right-aligned relative seconds.
        let l = line("19404      0.000202 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3");
        assert_eq!((l.pid, l.stamp), (Some(19404), Stamp::Seconds(202_000)));
        // A pid shorter than the column is padded.
        let l = line("4045  1796496741.763316 close(8) = 0");
        assert_eq!((l.pid, l.stamp), (Some(4045), Stamp::Seconds(1_796_496_741_763_316_000)));
        // strace to a terminal: `[pid N]`; nanosecond precision.
        let l = line("[pid 22430] 1733410000.123456789 close(3) = 0");
        assert_eq!((l.pid, l.stamp), (Some(22430), Stamp::Seconds(1_733_410_000_123_456_789)));
        // -T: the time spent, at the end.
        let l = line("19447 18:43:34.875737 nanosleep({tv_sec=1, tv_nsec=0}, 0x7fff33508e98) = 0 <1.000171>");
        let Body::Call { ret: Some(r), .. } = l.body else { panic!() };
        assert_eq!((r.value, r.duration), (Some(0), Some(1_000_171_000)));
    }

    #[test]
    fn hex_values_and_lines_that_are_not_calls() {
        let l = line("brk(NULL)                               = 0x55a36204e000");
        let Body::Call { ret: Some(r), .. } = l.body else { panic!() };
        assert_eq!(r.value, Some(0x55a3_6204_e000));
        assert_eq!(line("strace: Process 123 attached").body, Body::Other);
        assert_eq!(line("123 accept(3, NULL, NULL").body, Body::Other); // cut short
        assert_eq!(line("").body, Body::Other);
    }
}
