//! forkhttpd: the whole program on one screen: the configuration, then the model's loop.
//! The rooms are in the library (`src/lib.rs` lists them, top-down).
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::buf::Buf;
use forkhttpd::config::{self, Command, Config};
use forkhttpd::errno;
use forkhttpd::fs::{self, PATH_MAX};
use forkhttpd::handler::{Site, cgi::Programs};
use forkhttpd::process::sandbox::{self, need};
use forkhttpd::process::{fork, prefork, signals, stacks::Stacks, table, user};
use forkhttpd::{log, net, probe, scoreboard, shared};
use rustix::fd::AsFd;
use rustix::io::Errno;
use rustix::net::sockopt::Timeout;
use rustix::process::{Pid, set_child_subreaper};

forkhttpd::no_libc_binary!();

/// Called by origin's `_start`, with no libc and nothing run before it.
#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv and envp, which live as long as the process.
    let (mut args, env) = unsafe { (Strings::new(argv), Strings::new(envp)) };
    args.next(); // the program's name
    let mut config = match config::parse(args, env.var(b"PORT"), env.var(b"FORKHTTPD_AUTH")) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            config::help(&mut |piece| log::stdout(piece));
            return 0;
        }
        Ok(Command::Version) => return print(concat!("forkhttpd ", env!("CARGO_PKG_VERSION"), "\n").as_bytes()),
        Err(e) => return usage(&e),
    };
    if let Some(url) = config.probe.and_then(|raw| probe::parse(raw).map(|url| (raw, url))) {
        return probe::run(url.0, &url.1, config.timeout);
    }
    // Tests only: the sandbox's trial (see `handler::trial`).
    config.trial = env.var(b"FORKHTTPD_SANDBOX_TEST").is_some();
    log::set_format(config.log_format);
    // DIR, opened first: a kernel without openat2 is found out before anything else.
    let mut absolute = [0; PATH_MAX];
    let mut site = match config.dir.map(|dir| open_site(&config, dir, env, &mut absolute)) {
        Some(Ok(site)) => Some(site),
        Some(Err(status)) => return status,
        None => None,
    };
    // Fork mode's own stack for the parent (see `stacks`); prefork forks too rarely to need it.
    let stacks = match config.workers {
        0 => match Stacks::map() {
            Ok(stacks) => Some(stacks),
            Err(e) => {
                let mut what = Buf::new();
                what.push(b"cannot map the parent's stack (").num(Stacks::SIZE as u64 / 1024).push(b" KiB)");
                return fail(1, what.as_bytes(), None, e.errno);
            }
        },
        _ => None,
    };
    // Prefork's scoreboard, or `--status`'s: before the first fork, shared by all.
    if config.scoreboard {
        if let Err(e) = scoreboard::map() {
            return fail(1, b"cannot map the scoreboard", None, e);
        }
    }
    table::install_reaper();
    signals::install();
    // With --cgi, what a script leaves behind when its connection's child is killed comes
    // to the parent, which ends it at the stop (see `cgi::process`). Pid 1 stands for
    // "on": rustix passes the pid as prctl's flag.
    if site.as_ref().is_some_and(|site| site.cgi.is_some()) {
        if let Err(e) = set_child_subreaper(Some(Pid::INIT)) {
            return fail(1, b"--cgi: cannot become a child subreaper (prctl)", None, e);
        }
    }
    // With DIR, the slow-reader bound. (Not SO_RCVTIMEO: it would make `accept4` itself
    // a timed call, which SA_RESTART does not restart and which fails every --timeout.)
    let send = [(Timeout::Send, config.timeout)];
    let (listener, port) = match net::listen(&config.addr, config.backlog, if site.is_some() { &send } else { &[] }) {
        Ok(opened) => opened,
        Err(e) => {
            let mut line = Buf::new();
            net::write_error(&e, &mut line, "forkhttpd", &config.addr);
            log::stderr(line.as_bytes());
            return 1;
        }
    };
    if let Some(Err(e)) = config.user.map(user::become_user) {
        let mut line = Buf::new();
        line.push(b"forkhttpd: --user: cannot ");
        e.write(&mut line);
        if e.errno == Errno::PERM {
            line.push(b": dropping privileges needs root (start as root, or leave --user out)");
        }
        log::stderr(line.byte(b'\n').as_bytes());
        return 1;
    }
    if let (Some(site), Some(dir)) = (&site, config.dir) {
        if let Err(e) = fs::check_root(&site.root) {
            return fail(2, b"cannot read ", Some(dir), e);
        }
    }
    // The sandbox: the socket bound, the ids taken, nothing more to open.
    if let Some(status) = enter_sandbox(&config, site.as_ref()) {
        return status;
    }
    // Scripts learn the port the kernel chose for --port 0 (SERVER_PORT).
    if let Some(programs) = site.as_mut().and_then(|site| site.cgi.as_mut()) {
        programs.port = port;
    }
    log::serving(port, Some((&config.addr.ip(), config.dir.unwrap_or(b"Hello"))));
    match stacks {
        Some(stacks) => stacks.run(|| fork::serve(listener, &config, site.as_ref(), &stacks)),
        None => prefork::run(listener, &config, site.as_ref()),
    }
}

/// Installs the sandbox (see `process::sandbox`) unless told not to or `--cgi`, either said
/// on stderr; the exit status if it cannot be installed.
fn enter_sandbox(config: &Config, site: Option<&Site<'_>>) -> Option<i32> {
    if config.no_sandbox {
        return None;
    }
    if config.cgi.is_some() {
        log::event(&mut |line| {
            line.push(b"--cgi: no sandbox: a CGI program may need any syscall and any file (see README: Sandbox)");
        });
        return None;
    }
    let needs = if site.is_some() { need::DIR } else { 0 } | if config.list { need::LIST } else { 0 } | if config.workers > 0 { need::PREFORK } else { 0 };
    match sandbox::install(needs, site.map(|site| site.root.as_fd())) {
        Ok(installed) => {
            if let Err(e) = installed.landlock {
                log::event(&mut |line| {
                    line.push(b"no Landlock: ");
                    errno::write(line, e);
                    line.push(b": the files are contained by openat2 alone (Landlock needs Linux 5.13 or later)");
                });
            }
            None
        }
        Err(e) => {
            let mut line = Buf::new();
            line.push(b"forkhttpd: cannot install the sandbox: ");
            e.write(&mut line);
            line.push(b" (--no-sandbox runs without it)\n");
            log::stderr(line.as_bytes());
            Some(1)
        }
    }
}

/// `DIR` opened (`openat2`), its shared page mapped, and with `--cgi` its absolute path
/// (in `absolute`); else the exit status, the line written.
fn open_site<'a>(config: &'a Config, dir: &'static [u8], env: Strings, absolute: &'a mut [u8; PATH_MAX]) -> Result<Site<'a>, i32> {
    let root = fs::Path::new().join(&[dir]).ok_or(Errno::NAMETOOLONG).and_then(fs::open_root);
    let root = root.map_err(|e| {
        // The path as the kernel resolved it, for a relative one: where it was looked for.
        let mut what = Buf::new();
        what.push(b"cannot serve '").push(dir).byte(b'\'');
        if let (false, Ok(resolved)) = (dir.starts_with(b"/"), fs::absolute(dir, absolute)) {
            what.push(b" (").push(resolved).byte(b')');
        }
        fail(2, what.as_bytes(), None, e)
    })?;
    let shared = shared::map().map_err(|e| fail(1, b"cannot map a shared page for ", Some(dir), e))?;
    let cgi = match config.cgi {
        Some(prefix) => {
            let root = fs::absolute(dir, absolute).map_err(|e| fail(2, b"cannot find the absolute path of ", Some(dir), e))?;
            Some(Programs { prefix, root, env, port: 0, max_body: config.max_body })
        }
        None => None,
    };
    // Without the file at start, `--fallback` and `--error-page` are no use until it is
    // there: a warning, not an error (a deployment may bring it later).
    let pages = config.error_pages.as_slice().iter().filter_map(|page| Some(("--error-page", page.get(4..)?, "the plain body")));
    for (option, page, until) in config.fallback.map(|page| ("--fallback", page, "404s")).into_iter().chain(pages) {
        let found = fs::Path::new().join(&[page.get(1..).unwrap_or(page)]).ok_or(Errno::NAMETOOLONG).and_then(|p| fs::open(&root, p));
        if let Err(e) = found.and_then(|f| if f.kind() == rustix::fs::FileType::RegularFile { Ok(()) } else { Err(Errno::ISDIR) }) {
            log::event(&mut |line| {
                line.push(b"warning: ").push(option.as_bytes()).push(b" '").push(page).push(b"' beneath '").push(dir).push(b"': ");
                errno::write(line, e);
                line.push(b": ").push(until.as_bytes()).push(b" until it can be served");
            });
        }
    }
    let fallback = config.fallback.map(|page| page.get(1..).unwrap_or(page));
    Ok(Site { root, list: config.list, cgi, shared, fallback, error_pages: config.error_pages.as_slice() })
}

/// `forkhttpd: WHAT 'CULPRIT': why (ERRNO)`, then the exit status.
fn fail(status: i32, what: &[u8], culprit: Option<&[u8]>, e: Errno) -> i32 {
    let mut line = Buf::new();
    line.push(b"forkhttpd: ").push(what);
    if let Some(culprit) = culprit {
        line.byte(b'\'').push(culprit).byte(b'\'');
    }
    line.push(b": ");
    errno::write(&mut line, e);
    if e == Errno::NOSYS {
        line.push(b": openat2 needs Linux 5.6 or later");
    }
    log::stderr(line.byte(b'\n').as_bytes());
    status
}

fn usage(e: &config::UsageError) -> i32 {
    let mut line = Buf::new();
    e.write(&mut line, "forkhttpd");
    log::stderr(line.as_bytes());
    2
}

fn print(text: &[u8]) -> i32 {
    log::stdout(text);
    0
}
