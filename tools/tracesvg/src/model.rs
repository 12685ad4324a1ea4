//! From strace's lines to what the picture shows: processes and who cloned them, calls
//! (an `<unfinished ...>` joined to its `<... resumed>`), signals, exits, and who reaped
//! each child with `wait4`.

use crate::parse::{self, Body, Ret, Stamp};
use std::collections::HashMap;

/// One input: the text of a `strace -f` file (a pid column), or one file of `strace -ff -o
/// PREFIX` (no pid column: the pid is its name's `.PID`).
pub struct Source {
    pub pid: Option<u32>,
    pub text: String,
}

/// How the lines were placed in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// `-ttt`: seconds since the epoch.
    Epoch,
    /// `-tt` or `-t`: the time of day.
    Clock,
    /// `-r`: each line's time since the line before, summed.
    Relative,
    /// No timestamps: in the order of the lines.
    Order,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub pid: u32,
    pub name: String,
    /// Nanoseconds since the trace's first line: the call's line, or its `<unfinished ...>`.
    pub start: i64,
    /// Its `<... resumed>` line, or start plus `-T`'s duration.
    pub end: Option<i64>,
    /// None while unfinished (never resumed: the trace ended first).
    pub ret: Option<Ret>,
    /// The whole line; both lines for a call split in two.
    pub text: String,
    /// The order of its (first) line in the trace.
    pub seq: usize,
    /// The order of its `<... resumed>` line.
    pub end_seq: Option<usize>,
    /// For clone, clone3, fork and vfork: the child's pid, which it returned.
    pub child: Option<u32>,
}

impl Call {
    pub fn interrupted(&self) -> bool {
        self.ret.as_ref().is_some_and(Ret::interrupted)
    }

    /// When it returned, or when it was called if the trace does not say.
    pub fn done(&self) -> i64 {
        self.end.unwrap_or(self.start)
    }
}

#[derive(Clone, Debug)]
pub struct Signal {
    pub pid: u32,
    pub name: String,
    /// `si_pid`: for SIGCHLD the child that changed state, otherwise the sender.
    pub from: Option<u32>,
    pub t: i64,
    pub text: String,
    pub seq: usize,
}

#[derive(Clone, Debug)]
pub struct Exit {
    pub t: i64,
    /// `exited with 0`, `killed by SIGTERM`, or `exit_group(0)` when strace was run with
    /// `-qq` and wrote no `+++` line.
    pub how: String,
    pub killed: bool,
    pub text: String,
    pub seq: usize,
}

#[derive(Clone, Debug)]
pub struct Proc {
    pub pid: u32,
    pub parent: Option<u32>,
    /// 0 for a process whose birth the trace does not show, 1 for its children...
    pub depth: usize,
    /// What the lane is called: the program it runs (its execve's argv[0]) or `child N`.
    pub name: String,
    /// The program it exec'd, if it did.
    pub program: Option<String>,
    /// The clone that made it (an index into `Trace::calls`).
    pub born: Option<usize>,
    /// Its first line, or its clone.
    pub start: i64,
    pub start_seq: usize,
    pub exit: Option<Exit>,
    /// The wait4 (an index into `Trace::calls`) that returned its pid.
    pub reaped: Option<usize>,
    pub thread: bool,
}

pub struct Trace {
    /// The `#` lines at the top (tools/trace writes the experiment there), without `# `.
    pub header: Vec<String>,
    pub timing: Timing,
    /// In the picture's order: a process, then its children in the order of their birth,
    /// each followed by its own (a CGI program under the child that ran it).
    pub procs: Vec<Proc>,
    pub calls: Vec<Call>,
    pub signals: Vec<Signal>,
    /// The last time in the trace.
    pub end: i64,
    /// Lines read, `#` lines not counted; and how many of them were not understood.
    pub lines: usize,
    pub unknown: usize,
    /// What the reader could not do exactly (e.g. `-r` with `-ff`).
    pub warnings: Vec<String>,
}

impl Trace {
    pub fn proc(&self, pid: u32) -> Option<&Proc> {
        self.procs.iter().find(|p| p.pid == pid)
    }

    /// The header line that starts with `key: `, e.g. `experiment`.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header.iter().find_map(|h| h.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
    }

    /// The stage, from tools/trace's first header line `make trace STAGE=3f: ...`.
    pub fn stage(&self) -> Option<&str> {
        self.header.iter().find_map(|h| h.strip_prefix("make trace STAGE=")).and_then(|r| r.split([':', ' ']).next())
    }
}

struct Read {
    pid: u32,
    t: i64,
    body: Body,
    text: String,
}

/// Reads the sources into one trace.
pub fn read(sources: &[Source]) -> Trace {
    let mut header = Vec::new();
    let mut warnings = Vec::new();
    let (mut lines, mut unknown) = (0, 0);
    let mut all: Vec<Read> = Vec::new();
    let mut timings = Vec::new();
    for source in sources {
        let (mut mode, mut acc, mut last_clock, mut day, mut last_t) = (None, 0i64, None::<i64>, 0i64, 0i64);
        let mut stamped = false;
        let start = all.len();
        for (i, text) in source.text.lines().enumerate() {
            if let Some(h) = text.strip_prefix('#') {
                header.push(h.strip_prefix(' ').unwrap_or(h).to_string());
                continue;
            }
            if text.trim().is_empty() {
                continue;
            }
            lines += 1;
            let l = parse::line(text);
            let t = match l.stamp {
                Stamp::Seconds(v) => {
                    // -r starts at 0.000000; -ttt is seconds since 1970.
                    let relative = *mode.get_or_insert(if v < 100_000 * 1_000_000_000 { Timing::Relative } else { Timing::Epoch }) == Timing::Relative;
                    if relative {
                        acc += v;
                        acc
                    } else {
                        v
                    }
                }
                Stamp::Clock(v) => {
                    mode.get_or_insert(Timing::Clock);
                    // Past midnight: the clock starts again at 00:00:00.
                    if last_clock.is_some_and(|last| v + 12 * 3600 * 1_000_000_000 < last) {
                        day += 24 * 3600 * 1_000_000_000;
                    }
                    last_clock = Some(v);
                    v + day
                }
                Stamp::None if stamped => last_t,
                Stamp::None => i as i64 * 1000, // no timestamps: a microsecond a line
            };
            stamped |= l.stamp != Stamp::None;
            last_t = t;
            if l.body == Body::Other {
                unknown += 1;
                continue;
            }
            let pid = l.pid.or(source.pid).unwrap_or(0);
            all.push(Read { pid, t, body: l.body, text: text.to_string() });
        }
        if !stamped {
            // Lines before the first timestamp, then none at all: order only.
            mode = Some(Timing::Order);
            for (n, r) in all[start..].iter_mut().enumerate() {
                r.t = n as i64 * 1000;
            }
        }
        timings.push(mode.unwrap_or(Timing::Order));
    }
    let timing = timings.first().copied().unwrap_or(Timing::Order);
    if timings.iter().any(|t| *t != timing) {
        warnings.push("the files were written with different timestamp options: their times do not line up".into());
    }
    if sources.len() > 1 {
        if timing == Timing::Relative {
            warnings.push("-r with -ff: each file's times are summed on their own, and do not line up exactly".into());
        }
        if timing == Timing::Order {
            warnings.push("several files without timestamps: each process's lines in their order, from the clone that made it; between processes the order is a guess".into());
        }
        // One file per process: their lines are interleaved by time (a stable sort keeps
        // each file's own order).
        all.sort_by_key(|r| r.t);
    }
    let t0 = all.iter().map(|r| r.t).min().unwrap_or(0);

    let mut b = Builder { procs: Vec::new(), index: HashMap::new(), calls: Vec::new(), signals: Vec::new(), pending: HashMap::new() };
    for (seq, r) in all.into_iter().enumerate() {
        let t = r.t - t0;
        b.proc(r.pid, t, seq);
        match r.body {
            Body::Call { name, args, ret, unfinished } => {
                let end = ret.as_ref().and_then(|r| r.duration).map(|d| t + d);
                let child = clone_child(&name, ret.as_ref());
                let exec = exec_name(&name, &args, ret.as_ref());
                b.calls.push(Call { pid: r.pid, name, start: t, end, ret, text: r.text, seq, end_seq: end.map(|_| seq), child });
                if unfinished {
                    b.pending.entry(r.pid).or_default().push(b.calls.len() - 1);
                }
                if let Some(program) = exec {
                    b.exec(r.pid, program);
                }
            }
            Body::Resumed { name, args, ret } => {
                let pending = b.pending.entry(r.pid).or_default();
                let found = pending.iter().rposition(|&c| b.calls[c].name == name).map(|i| pending.remove(i));
                match found {
                    Some(c) => {
                        let call = &mut b.calls[c];
                        call.end = Some(t);
                        call.end_seq = Some(seq);
                        call.child = clone_child(&name, ret.as_ref());
                        call.ret = ret;
                        call.text.push('\n');
                        call.text.push_str(&r.text);
                        let exec = exec_name(&name, &format!("{}{args}", args_of(&call.text)), call.ret.as_ref());
                        if let Some(program) = exec {
                            b.exec(r.pid, program);
                        }
                    }
                    // A resumed line whose start the trace lacks: the call starts here.
                    None => {
                        let child = clone_child(&name, ret.as_ref());
                        b.calls.push(Call { pid: r.pid, name, start: t, end: None, ret, text: r.text, seq, end_seq: None, child });
                    }
                }
            }
            Body::Signal { name, si_pid } => b.signals.push(Signal { pid: r.pid, name, from: si_pid, t, text: r.text, seq }),
            Body::Exited(code) => b.exit(r.pid, Exit { t, how: format!("exited with {code}"), killed: false, text: r.text, seq }),
            Body::Killed(sig) => b.exit(r.pid, Exit { t, how: format!("killed by {sig}"), killed: true, text: r.text, seq }),
            Body::Other => {}
        }
    }
    let untimed_files = sources.len() > 1 && timing == Timing::Order;
    b.finish(header, timing, lines, unknown, warnings, untimed_files)
}

/// The pid a successful clone, clone3, fork or vfork returned to the parent.
fn clone_child(name: &str, ret: Option<&Ret>) -> Option<u32> {
    let ret = ret?;
    let is_fork = matches!(name, "clone" | "clone3" | "fork" | "vfork");
    (is_fork && ret.errno.is_none()).then_some(ret.value?).filter(|v| *v > 0).map(|v| v as u32)
}

/// The program's name (argv[0]'s last component) after a successful execve or execveat.
fn exec_name(name: &str, args: &str, ret: Option<&Ret>) -> Option<String> {
    if !matches!(name, "execve" | "execveat") || ret?.value != Some(0) {
        return None;
    }
    // execve's path, unless strace cut it short; or argv[0] (execveat's path is often "",
    // the file being its descriptor). A name cut short ends in `...`.
    let path = if name == "execve" { parse::first_string(args).filter(|(p, _)| !p.is_empty()) } else { None };
    let argv0 = parse::first_list_string(args);
    let (program, cut) = match (path, argv0) {
        (Some((p, false)), _) => (p, false),
        (_, Some((a, false))) => (a, false),
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => return None,
    };
    let base = program.rsplit('/').next().unwrap_or(program);
    Some(if cut { format!("{base}...") } else { base.to_string() })
}

/// The arguments written on the first line of a call split in two.
fn args_of(text: &str) -> &str {
    let first = text.lines().next().unwrap_or("");
    first.split_once('(').map_or("", |(_, a)| a.trim_end_matches("<unfinished ...>"))
}

struct Builder {
    procs: Vec<Proc>,
    index: HashMap<u32, usize>,
    calls: Vec<Call>,
    signals: Vec<Signal>,
    pending: HashMap<u32, Vec<usize>>,
}

impl Builder {
    fn proc(&mut self, pid: u32, t: i64, seq: usize) -> &mut Proc {
        let i = *self.index.entry(pid).or_insert_with(|| {
            self.procs.push(Proc {
                pid,
                parent: None,
                depth: 0,
                name: String::new(),
                program: None,
                born: None,
                start: t,
                start_seq: seq,
                exit: None,
                reaped: None,
                thread: false,
            });
            self.procs.len() - 1
        });
        &mut self.procs[i]
    }

    fn exec(&mut self, pid: u32, program: String) {
        let i = self.index[&pid];
        self.procs[i].program = Some(program);
    }

    fn exit(&mut self, pid: u32, exit: Exit) {
        let i = self.index[&pid];
        self.procs[i].exit = Some(exit);
    }

    /// Files of `strace -ff` without timestamps each count their own lines from 0: move
    /// each process's lines to start just after the clone that made it (its parent moved
    /// first), the one order they are known to have.
    fn start_at_clones(&mut self) {
        let depth = |procs: &[Proc], index: &HashMap<u32, usize>, mut i: usize| {
            let mut d = 0;
            while let Some(parent) = procs[i].parent.and_then(|p| index.get(&p)) {
                (i, d) = (*parent, d + 1);
                if d > procs.len() {
                    break; // a loop of parents: pids reused
                }
            }
            d
        };
        let mut order: Vec<usize> = (0..self.procs.len()).collect();
        order.sort_by_key(|&i| depth(&self.procs, &self.index, i));
        let mut offset: HashMap<u32, i64> = HashMap::new();
        for i in order {
            let p = &self.procs[i];
            let by = match (p.parent, p.born) {
                (Some(parent), Some(c)) => offset.get(&parent).copied().unwrap_or(0) + self.calls[c].start + 500,
                _ => 0,
            };
            offset.insert(p.pid, by);
        }
        for c in &mut self.calls {
            c.start += offset[&c.pid];
            c.end = c.end.map(|e| e + offset[&c.pid]);
        }
        for s in &mut self.signals {
            s.t += offset[&s.pid];
        }
        for p in &mut self.procs {
            p.start = p.born.map_or(offset[&p.pid], |c| self.calls[c].start);
            if let Some(e) = &mut p.exit {
                e.t += offset[&p.pid];
            }
        }
    }

    fn finish(mut self, header: Vec<String>, timing: Timing, lines: usize, unknown: usize, warnings: Vec<String>, untimed_files: bool) -> Trace {
        // Births: the clone that returned the child's pid. A child that wrote no line
        // still gets its lane.
        for c in 0..self.calls.len() {
            let Some(child) = self.calls[c].child else { continue };
            let (parent, start, seq) = (self.calls[c].pid, self.calls[c].start, self.calls[c].seq);
            let thread = self.calls[c].text.contains("CLONE_THREAD");
            let p = self.proc(child, start, seq);
            if p.born.is_none() {
                (p.parent, p.born, p.thread) = (Some(parent), Some(c), thread);
                p.start = p.start.min(start);
                p.start_seq = p.start_seq.min(seq);
            }
        }
        if untimed_files {
            self.start_at_clones();
        }
        let end = self.calls.iter().map(Call::done).chain(self.signals.iter().map(|s| s.t)).chain(self.procs.iter().filter_map(|p| p.exit.as_ref().map(|e| e.t))).max().unwrap_or(0);
        // Exits that strace -qq did not write: the process's exit_group.
        for p in &mut self.procs {
            if p.exit.is_none() {
                if let Some(c) = self.calls.iter().rev().find(|c| c.pid == p.pid && matches!(c.name.as_str(), "exit_group" | "exit")) {
                    let how = c.text.lines().next().unwrap_or("").split_once('(').map_or("exit", |(_, a)| a).split(')').next().unwrap_or("");
                    let how = format!("{}({how})", c.name);
                    p.exit = Some(Exit { t: c.done(), how, killed: false, text: c.text.clone(), seq: c.end_seq.unwrap_or(c.seq) });
                }
            }
        }
        // Reaps: a wait4 (waitpid, waitid) that returned a child's pid.
        for (c, call) in self.calls.iter().enumerate() {
            let reaped = match call.name.as_str() {
                "wait4" | "waitpid" => call.ret.as_ref().and_then(|r| r.value).filter(|v| *v > 0).map(|v| v as u32),
                "waitid" if call.ret.as_ref().is_some_and(|r| r.value == Some(0)) && !call.text.contains("WNOWAIT") => {
                    call.text.split_once("si_pid=").and_then(|(_, p)| p.split(|ch: char| !ch.is_ascii_digit()).next()?.parse().ok())
                }
                _ => None,
            };
            if let Some(&i) = reaped.and_then(|pid| self.index.get(&pid)) {
                if self.procs[i].reaped.is_none() {
                    self.procs[i].reaped = Some(c);
                }
            }
        }
        // The lanes' order: each root by its first line, then depth first, children by birth.
        let mut kids: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (i, p) in self.procs.iter().enumerate() {
            match p.parent {
                Some(parent) => kids.entry(parent).or_default().push(i),
                None => roots.push(i),
            }
        }
        let key = |p: &Proc| (p.start, p.start_seq, p.pid);
        roots.sort_by_key(|&i| key(&self.procs[i]));
        for list in kids.values_mut() {
            list.sort_by_key(|&i| key(&self.procs[i]));
        }
        let mut order = Vec::new();
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            order.push((i, depth));
            if let Some(list) = kids.get(&self.procs[i].pid) {
                stack.extend(list.iter().rev().map(|&c| (c, depth + 1)));
            }
        }
        let mut procs: Vec<Proc> = order
            .iter()
            .map(|&(i, depth)| {
                let mut p = self.procs[i].clone();
                p.depth = depth;
                p
            })
            .collect();
        // Names: the program, or `child N` among its parent's children.
        let mut nth: HashMap<u32, usize> = HashMap::new();
        for p in &mut procs {
            let n = p.parent.map(|parent| {
                let n = nth.entry(parent).or_default();
                *n += 1;
                *n
            });
            p.name = match (&p.program, n) {
                (Some(program), _) => program.clone(),
                (None, Some(_)) if p.thread => "thread".into(),
                (None, Some(n)) => format!("child {n}"),
                (None, None) => "process".into(),
            };
        }
        Trace { header, timing, procs, calls: self.calls, signals: self.signals, end, lines, unknown, warnings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Trace {
        read(&[Source { pid: None, text: text.into() }])
    }

    const FORK: &str = "\
# make trace STAGE=3e: strace -f -q -ttt -s 80 target/release/webserver3e --port 0
# experiment: one client
100 1796496152.000000 execve(\"target/release/webserver3e\", [\"target/release/webserver3e\", \"--port\", \"0\"], 0x7ffd /* 35 vars */) = 0
100 1796496152.000100 accept(3, NULL, NULL) = 4
100 1796496152.000200 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 1796496152.000250 close(3 <unfinished ...>
100 1796496152.000300 <... clone resumed>, child_tidptr=0x7ffd) = 101
101 1796496152.000310 <... close resumed>) = 0
100 1796496152.000400 accept(3, NULL, NULL <unfinished ...>
101 1796496152.000500 exit_group(0) = ?
101 1796496152.000600 +++ exited with 0 +++
100 1796496152.000700 <... accept resumed>) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
100 1796496152.000710 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
100 1796496152.000720 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101
100 1796496152.000730 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)
100 1796496152.000800 exit_group(1) = ?
100 1796496152.000900 +++ exited with 1 +++
";

    #[test]
    fn a_fork_its_exit_its_signal_and_its_reaping() {
        let t = one(FORK);
        assert_eq!(t.timing, Timing::Epoch);
        assert_eq!(t.stage(), Some("3e"));
        assert_eq!(t.header_value("experiment"), Some("one client"));
        let pids: Vec<_> = t.procs.iter().map(|p| (p.pid, p.parent, p.depth, p.name.as_str())).collect();
        assert_eq!(pids, [(100, None, 0, "webserver3e"), (101, Some(100), 1, "child 1")]);
        let child = t.proc(101).unwrap();
        let clone = &t.calls[child.born.unwrap()];
        assert_eq!((clone.name.as_str(), clone.start, clone.end, clone.child), ("clone", 200_000, Some(300_000), Some(101)));
        assert!(clone.text.contains("<unfinished ...>\n100 1796496152.000300 <... clone resumed>"));
        assert_eq!(child.start, 200_000, "a child's lane starts at the clone");
        let exit = child.exit.as_ref().unwrap();
        assert_eq!((exit.t, exit.how.as_str()), (600_000, "exited with 0"));
        let reaper = &t.calls[child.reaped.unwrap()];
        assert_eq!((reaper.pid, reaper.name.as_str(), reaper.start), (100, "wait4", 720_000));
        assert_eq!(t.signals.len(), 1);
        assert_eq!((t.signals[0].pid, t.signals[0].from, t.signals[0].t), (100, Some(101), 710_000));
        let interrupted: Vec<_> = t.calls.iter().filter(|c| c.interrupted()).map(|c| c.name.as_str()).collect();
        assert_eq!(interrupted, ["accept", "rt_sigreturn"]);
        let accept = t.calls.iter().find(|c| c.interrupted()).unwrap();
        assert_eq!((accept.start, accept.end), (400_000, Some(700_000)));
        assert_eq!(t.end, 900_000);
        assert_eq!(t.proc(100).unwrap().exit.as_ref().unwrap().how, "exited with 1");
    }

    #[test]
    fn without_exit_lines_exit_group_ends_the_lane() {
        // strace -qq writes no `+++ exited` line.
        let text: String = FORK.lines().filter(|l| !l.contains("+++")).map(|l| format!("{l}\n")).collect();
        let t = one(&text);
        let exit = t.proc(101).unwrap().exit.as_ref().unwrap();
        assert_eq!((exit.t, exit.how.as_str()), (500_000, "exit_group(0)"));
    }

    #[test]
    fn ff_files_one_per_pid() {
        // strace -ff -o trace: trace.100 and trace.101, no pid column, merged by time.
        let (mut parent, mut child) = (String::new(), String::new());
        for l in FORK.lines().filter(|l| !l.starts_with('#')) {
            let (pid, rest) = l.split_once(' ').unwrap();
            // -ff writes a call whole: no unfinished/resumed between processes.
            let rest = rest.replace(" <unfinished ...>", "");
            if pid == "100" { parent.push_str(&rest) } else { child.push_str(&rest) }
            if pid == "100" { parent.push('\n') } else { child.push('\n') }
        }
        let t = read(&[Source { pid: Some(101), text: child }, Source { pid: Some(100), text: parent }]);
        let pids: Vec<_> = t.procs.iter().map(|p| (p.pid, p.parent)).collect();
        assert_eq!(pids, [(100, None), (101, Some(100))]);
        assert!(t.proc(101).unwrap().reaped.is_some());
    }

    #[test]
    fn children_in_order_of_birth_and_a_cgi_program_under_its_child() {
        let t = one("\
1 0.000000 clone(child_stack=NULL, flags=SIGCHLD) = 3
1 0.000010 clone(child_stack=NULL, flags=SIGCHLD) = 2
3 0.000020 clone(child_stack=NULL, flags=SIGCHLD) = 4
4 0.000030 execveat(3, \"\", [\"examples/site/cgi-bin/hello.sh\"], 0x7ffc /* 49 vars */, AT_EMPTY_PATH) = 0
2 0.000040 exit_group(0) = ?
1 0.000050 clone(child_stack=NULL, flags=SIGCHLD) = ? ERESTARTNOINTR (To be restarted)
");
        assert_eq!(t.timing, Timing::Relative);
        let lanes: Vec<_> = t.procs.iter().map(|p| (p.pid, p.depth, p.name.as_str())).collect();
        assert_eq!(lanes, [(1, 0, "process"), (3, 1, "child 1"), (4, 2, "hello.sh"), (2, 1, "child 2")]);
        // -r: the times add up.
        assert_eq!(t.calls[3].start, 60_000);
    }

    #[test]
    fn ff_files_without_timestamps_start_at_their_clone() {
        let parent = "getpid() = 1\ngetpid() = 1\nclone(child_stack=NULL, flags=SIGCHLD) = 2\nclose(4) = 0\n";
        let child = "close(3) = 0\nexit_group(0) = ?\n+++ exited with 0 +++\n";
        let t = read(&[Source { pid: Some(1), text: parent.into() }, Source { pid: Some(2), text: child.into() }]);
        assert_eq!(t.timing, Timing::Order);
        let clone = t.calls.iter().find(|c| c.name == "clone").unwrap();
        let first = t.calls.iter().find(|c| c.pid == 2).unwrap();
        assert_eq!((clone.start, first.start), (2000, 2500), "the child's first line just after the clone");
        assert_eq!(t.proc(2).unwrap().start, 2000);
        assert_eq!(t.proc(2).unwrap().exit.as_ref().unwrap().t, 4500);
        assert_eq!(t.warnings.len(), 1);
    }

    #[test]
    fn time_of_day_and_no_time_at_all() {
        let t = one("1 23:59:59.999000 getpid() = 1\n1 00:00:00.001000 getpid() = 1\n");
        assert_eq!(t.timing, Timing::Clock);
        assert_eq!(t.calls[1].start, 2_000_000, "past midnight");
        let t = one("getpid() = 1\ngetppid() = 0\n");
        assert_eq!(t.timing, Timing::Order);
        assert_eq!((t.calls[0].start, t.calls[1].start), (0, 1000));
    }
}
