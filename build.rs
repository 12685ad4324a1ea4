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
    fs::write(&script, "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) *(.comment) } } INSERT AFTER .text;\n")
        .expect("write the linker script into OUT_DIR");
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
