//! forkhttpd: the whole program on one screen; the rooms are in the library.
#![no_std]
#![no_main]

use forkhttpd::argv::Strings;
use forkhttpd::config::{self, Command};
use forkhttpd::buf::Buf;
use forkhttpd::log;
use forkhttpd::{listener, server, signals};

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
    signals::install();
    let (listener, port) = match listener::open(&config.addr, config.backlog) {
        Ok(opened) => opened,
        Err(e) => {
            let mut line = Buf::new();
            e.write(&mut line, "forkhttpd", &config.addr);
            log::stderr(line.as_bytes());
            return 1;
        }
    };
    log::serving(port);
    server::run(listener, &config)
}

fn print(text: &[u8]) -> i32 {
    log::stdout(text);
    0
}
