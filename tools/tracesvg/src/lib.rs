//! tracesvg: draws a trace of `strace -f` (or the files of `strace -ff`) as an SVG, one
//! lane per process: each syscall a mark named on its lane, `clone` an arrow to the
//! child's new lane, `SIGCHLD` an arrow from the exiting child to its parent, the exit
//! the lane's end, a zombie a hatched stretch from the exit to the `wait4` that reaps
//! it, calls interrupted by a signal in red. `make trace STAGE=3f` runs it on the trace
//! it writes (docs/stages.md).
//!
//! A tool, not the server: it uses std, and nothing else.

pub mod model;
pub mod parse;
pub mod svg;

pub use model::{Source, Trace, read};
pub use svg::{Options, Picture, Summary, render};
