//! `tracesvg [-o OUT.svg] [--title TITLE] TRACE...`: the picture of an strace trace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tracesvg::svg::plural;
use tracesvg::{Options, Source};

const USAGE: &str = "usage: tracesvg [-o OUT.svg] [--title TITLE] TRACE...
  TRACE: a file of `strace -f -ttt -o FILE` (a pid column; tools/trace's traces/STAGE.txt),
  or the files of `strace -ff -ttt -o PREFIX`: PREFIX itself, the PREFIX.PID files, or
  their directory. Timestamps from -ttt, -tt, -t or -r; without them, marks are drawn in
  the order of the lines. Writes the SVG to OUT.svg, or to stdout.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracesvg: {e}");
            ExitCode::from(if e.starts_with("usage") { 2 } else { 1 })
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut out, mut opts, mut inputs) = (None, Options::default(), Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--output" => out = Some(args.next().ok_or(USAGE)?),
            "--title" => opts.title = Some(args.next().ok_or(USAGE)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            a if a.starts_with('-') && a.len() > 1 => return Err(USAGE.into()),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    if inputs.is_empty() {
        return Err(USAGE.into());
    }
    let mut sources = Vec::new();
    for input in &inputs {
        for path in files(input)? {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            sources.push(Source { pid: pid_of(&path), text: String::from_utf8_lossy(&bytes).into_owned() });
        }
    }
    let trace = tracesvg::read(&sources);
    if trace.procs.is_empty() {
        return Err(format!("no strace lines in {}", inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")));
    }
    let picture = tracesvg::render(&trace, &opts);
    match &out {
        Some(path) => std::fs::write(path, &picture.svg).map_err(|e| format!("{path}: {e}"))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(picture.svg.as_bytes()).map_err(|e| format!("stdout: {e}"))?
        }
    }
    let s = &picture.summary;
    let said = format!(
        "{} ({}, {}, {} SIGCHLD, {} reaped, {} never reaped, {} interrupted), {}x{} px",
        plural(s.processes, "process", "processes"),
        plural(s.clones, "clone", "clones"),
        plural(s.exits, "exit", "exits"),
        s.sigchld,
        s.reaped,
        s.unreaped,
        plural(s.interrupted, "call", "calls"),
        picture.width,
        picture.height
    );
    // On stdout beside a file; on stderr when the SVG itself goes to stdout.
    match &out {
        Some(path) => println!("wrote {path}: {said}"),
        None => eprintln!("tracesvg: {said}"),
    }
    for w in &trace.warnings {
        eprintln!("tracesvg: {w}");
    }
    Ok(())
}

/// `PREFIX.12345` is one file of `strace -ff`: the pid is its name's.
fn pid_of(path: &Path) -> Option<u32> {
    let ext = path.extension()?.to_str()?;
    ext.bytes().all(|b| b.is_ascii_digit()).then(|| ext.parse().ok())?
}

/// A file; a directory of `strace -ff` files; or their prefix.
fn files(input: &Path) -> Result<Vec<PathBuf>, String> {
    if input.is_file() {
        return Ok(vec![input.to_path_buf()]);
    }
    let (dir, prefix) = if input.is_dir() {
        (input.to_path_buf(), None)
    } else {
        let dir = input.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (dir.to_path_buf(), Some(input.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string()))
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && pid_of(p).is_some())
        .filter(|p| prefix.as_deref().is_none_or(|pre| p.file_stem().and_then(|s| s.to_str()) == Some(pre)))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("{}: no such file, and no strace -ff files PREFIX.PID", input.display()));
    }
    Ok(found)
}
