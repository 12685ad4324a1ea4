//! forkhttpd: the whole program on one screen; the rooms are in the library.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::buf::Buf;
use forkhttpd::config::{self, Command};
use forkhttpd::files::{self, Cgi, Site};
use forkhttpd::log;
use forkhttpd::stacks::Stacks;
use forkhttpd::{errno, ids, listener, server, shared, signals, workers};
use rustix::io::Errno;
use rustix::net::sockopt::Timeout;

forkhttpd::no_libc_binary!();

/// Called by origin's `_start`, with no libc and nothing run before it.
#[unsafe(no_mangle)]
unsafe fn origin_main(_argc: usize, argv: *mut *mut u8, envp: *mut *mut u8) -> i32 {
    // SAFETY: origin passes the kernel's argv and envp, which live as long as the process.
    let (args, env) = unsafe { (Strings::new(argv), Strings::new(envp)) };
    let mut args = args;
    args.next(); // the program's name
    let config = match config::parse(args, env.var(b"PORT")) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => return print(config::HELP.as_bytes()),
        Ok(Command::Version) => return print(concat!("forkhttpd ", env!("CARGO_PKG_VERSION"), "\n").as_bytes()),
        Err(e) => {
            let mut line = Buf::new();
            e.write(&mut line, "forkhttpd");
            log::stderr(line.as_bytes());
            return 2;
        }
    };
    // With --cgi, DIR's absolute path: the programs' SCRIPT_FILENAME is under it.
    let mut absolute = [0; files::PATH_MAX];
    let mut site = match config.dir {
        Some(dir) => match files::Path::new().join(&[dir]).ok_or(Errno::NAMETOOLONG).and_then(files::open_root) {
            Ok(root) => {
                let cgi = match config.cgi {
                    Some(prefix) => match files::absolute(dir, &mut absolute) {
                        Ok(root) => Some(Cgi { prefix, root, env, port: 0, max_body: config.max_body }),
                        Err(e) => return fail(2, b"cannot find the absolute path of ", dir, e),
                    },
                    None => None,
                };
                let shared = match shared::map() {
                    Ok(shared) => shared,
                    Err(e) => return fail(1, b"cannot map a shared page for ", dir, e),
                };
                Some(Site { root, list: config.list, cgi, shared })
            }
            Err(e) => return fail(2, b"cannot serve ", dir, e),
        },
        None => None,
    };
    // Fork mode's own stack for the parent (see `stacks`); prefork forks too rarely to need it.
    let stacks = match config.workers {
        0 => match Stacks::map() {
            Ok(stacks) => Some(stacks),
            Err(e) => {
                let mut line = Buf::new();
                line.push(b"forkhttpd: cannot map the parent's stack (260 KiB): ");
                errno::write(&mut line, e);
                log::stderr(line.byte(b'\n').as_bytes());
                return 1;
            }
        },
        _ => None,
    };
    signals::install(config.keep_alive > 0);
    // With --cgi, what a script leaves behind when its connection's child is killed comes
    // to the parent, which ends it at the stop (see `cgi::process`).
    if site.as_ref().is_some_and(|site| site.cgi.is_some()) {
        // Pid 1 stands for "on": rustix passes the pid as prctl's flag.
        if let Err(e) = rustix::process::set_child_subreaper(Some(rustix::process::Pid::INIT)) {
            let mut line = Buf::new();
            line.push(b"forkhttpd: --cgi: cannot become a child subreaper (prctl): ");
            errno::write(&mut line, e);
            log::stderr(line.byte(b'\n').as_bytes());
            return 1;
        }
    }
    // With DIR, the slow-reader bound. (Not SO_RCVTIMEO: it would make `accept4` itself
    // a timed call, which SA_RESTART does not restart and which fails every --timeout.)
    let send = [(Timeout::Send, config.timeout)];
    let (listener, port) = match listener::open(&config.addr, config.backlog, if site.is_some() { &send } else { &[] }) {
        Ok(opened) => opened,
        Err(e) => {
            let mut line = Buf::new();
            e.write(&mut line, "forkhttpd", &config.addr);
            log::stderr(line.as_bytes());
            return 1;
        }
    };
    if let Some(user) = config.user {
        if let Err((step, e)) = ids::become_user(user) {
            return fail(1, b"--user: cannot ", step.as_bytes(), e);
        }
    }
    if let (Some(site), Some(dir)) = (&site, config.dir) {
        if let Err(e) = files::check_root(site) {
            return fail(2, b"cannot read ", dir, e);
        }
    }
    // Scripts learn the port the kernel chose for --port 0 (SERVER_PORT).
    if let Some(cgi) = site.as_mut().and_then(|site| site.cgi.as_mut()) {
        cgi.port = port;
    }
    log::serving(port);
    match stacks {
        Some(stacks) => server::run(listener, &config, site.as_ref(), &stacks),
        None => workers::run(listener, &config, site.as_ref()),
    }
}

/// `forkhttpd: WHAT 'CULPRIT': why (ERRNO)`, then the exit status.
fn fail(status: i32, what: &[u8], culprit: &[u8], e: Errno) -> i32 {
    let mut line = Buf::new();
    line.push(b"forkhttpd: ").push(what).byte(b'\'').push(culprit).push(b"': ");
    errno::write(&mut line, e);
    if e == Errno::NOSYS {
        line.push(b": openat2 needs Linux 5.6 or later");
    }
    log::stderr(line.byte(b'\n').as_bytes());
    status
}

fn print(text: &[u8]) -> i32 {
    log::stdout(text);
    0
}
