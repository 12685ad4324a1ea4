//! Link arguments for the no-libc binaries, and only for them (tests and tools use std).

use std::{env, fs, path::PathBuf};

/// The server and the article's stages: started by origin's `_start`, no libc, no loader.
const NO_LIBC_BINS: &[&str] = &[
    "forkhttpd",
    "webserver3a",
    "webserver3b",
    "webserver3c",
    "webserver3d",
    "webserver3e",
    "webserver3f",
    "webserver3g",
    "webserver3h",
];

fn main() {
    // Nothing in these binaries unwinds (a panic is a trap), so their unwind tables are
    // dead weight: about 4 KiB of an otherwise 24 KiB file. `.comment` only names the
    // compilers.
    let script = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("discard.ld");
    //
    // And code a connection's child never runs goes last, after everything else
    // (`.text.cold`): the kernel maps a file's pages 64 KiB at a time around a fault
    // (fault-around), and a child pays a page fault for each 64 KiB window of code it
    // enters. Kept out of the first window: start-up (the command line, `--probe`, the
    // `main` of each binary, the sandbox), CGI, listings, prefork's parent and scoreboard,
    // the status page, health probes, preflights, Basic auth, the sandbox's trial. What
    // stays is the child's path: the connection, Hello, files, HTTP, the log.
    const COLD: &[&str] = &[
        "origin_main",
        "_ZN9forkhttpd6config*",
        "_ZN9forkhttpd5probe*",
        "_ZN9forkhttpd5stage*",
        "_ZN9forkhttpd3cgi*",
        "_ZN9forkhttpd7handler3cgi*",
        "_ZN9forkhttpd7handler7listing*",
        "_ZN9forkhttpd2fs3dir*",
        "_ZN9forkhttpd7process7prefork*",
        "_ZN9forkhttpd7process5table*",
        "_ZN9forkhttpd7process4user*",
        "_ZN9forkhttpd3net*",
        "_ZN9forkhttpd6shared*",
        "_ZN9forkhttpd4addr5parse*",
        "_ZN9forkhttpd2fs8absolute*",
        "_ZN9forkhttpd7process7sandbox*",
        "_ZN9forkhttpd10scoreboard*",
        "_ZN9forkhttpd7handler6status*",
        "_ZN9forkhttpd7handler5trial*",
        "_ZN9forkhttpd7handler6health*",
        "_ZN9forkhttpd7handler9preflight*",
        "_ZN9forkhttpd4http5basic*",
    ];
    let cold: String = COLD.iter().map(|name| format!(" *(.text.{name})")).collect();
    let text = format!(
        "SECTIONS {{ /DISCARD/ : {{ *(.eh_frame) *(.eh_frame_hdr) *(.comment) }} }} INSERT AFTER .text;\n\
         SECTIONS {{ .text.cold : {{{cold} }} }} INSERT AFTER .text;\n"
    );
    fs::write(&script, text).expect("write the linker script into OUT_DIR");
    let script = format!("-Wl,-T,{}", script.display());
    // --icf=all folds functions whose code is identical. -z norelro: nothing would apply
    // RELRO (origin mprotects it only when it relocates itself, and these binaries are
    // not PIE), so its segment would be padding and nothing else.
    let args = ["-nostartfiles", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,--icf=all", "-Wl,-z,norelro", "-Wl,--no-rosegment", &script];
    for bin in NO_LIBC_BINS {
        for arg in args {
            println!("cargo:rustc-link-arg-bin={bin}={arg}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
