//! The picture: one lane per process, time from left to right.
//!
//! The time axis. A burst of a hundred children happens in a few milliseconds, between
//! idle stretches of seconds; a linear axis would draw the burst as one smudge. So the
//! axis keeps the order of the lines and their times only where they matter: the marks
//! are placed left to right in the order of their timestamps; the space between two
//! marks grows with the log of the time between them (1 µs: 1.5 px, 1 ms: 15 px); a gap
//! of more than 20 ms is cut out, drawn as a grey band that says how long it was; and a
//! mark moves right as far as it must for its lane's labels not to overlap (each lane has
//! two rows of labels, above and below its line). Everything after a mark moves with it,
//! so the axis never runs backwards: an arrow between two lanes keeps its direction, and
//! marks at the same time in different lanes stay one above the other. The ticks name the
//! exact time of the mark they stand at.

use crate::model::{Call, Timing, Trace};
use std::collections::HashMap;
use std::fmt::Write;

/// Pixels per character of a 9 px monospace label (DejaVu Sans Mono: 0.602 em).
const CW: f64 = 5.5;
/// A lane: its line, a row of labels above it and one below.
const LANE_H: f64 = 22.0;
/// Each row's baseline, from the lane's line.
const ROW_Y: [f64; 2] = [-4.0, 9.0];
/// Space between a label's end and the next label in the same row.
const LABEL_PAD: f64 = 5.0;
/// The least space between two marks of a lane.
const MARK_GAP: f64 = 3.0;
/// A gap longer than this is cut out of the axis...
const BREAK_NS: i64 = 20_000_000;
/// ...and drawn this wide.
const BREAK_W: f64 = 60.0;
/// Space between two ticks of the axis.
const TICK_GAP: f64 = 120.0;
const MARGIN: f64 = 10.0;
const LEGEND_COL: f64 = 330.0;

#[derive(Default)]
pub struct Options {
    /// The picture's title; by default the stage and program, from the trace's header.
    pub title: Option<String>,
}

/// What the picture counts, also printed by the command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub processes: usize,
    pub clones: usize,
    pub exits: usize,
    pub sigchld: usize,
    pub reaped: usize,
    pub unreaped: usize,
    pub interrupted: usize,
}

pub struct Picture {
    pub svg: String,
    pub width: f64,
    pub height: f64,
    pub summary: Summary,
}

#[derive(Clone, Copy)]
enum Kind {
    Start(usize),
    End(usize),
    Signal(usize),
    Birth(usize),
    Exit(usize),
}

struct Point {
    t: i64,
    order: (usize, u8),
    lane: usize,
    kind: Kind,
    label: Option<String>,
}

/// Where the sweep put each thing, in the drawing's own x (0 at the first mark).
#[derive(Default)]
struct Place {
    start: Vec<f64>,
    end: Vec<Option<f64>>,
    signal: Vec<f64>,
    birth: Vec<Option<f64>>,
    exit: Vec<Option<f64>>,
    /// Per labelled point: (x, lane, row, label, what it is).
    labels: Vec<(f64, usize, usize, String, Kind)>,
    /// (x, t) of each point, in order.
    xs: Vec<(f64, i64)>,
    /// (x where it starts, its length in ns).
    breaks: Vec<(f64, i64)>,
    /// The last point's x, and the right end of the last label.
    last: f64,
    right: f64,
}

fn layout(trace: &Trace, lane_of: &HashMap<u32, usize>) -> Place {
    let n = trace.procs.len();
    let mut points = Vec::new();
    for (i, c) in trace.calls.iter().enumerate() {
        let lane = lane_of[&c.pid];
        points.push(Point { t: c.start, order: (c.seq, 0), lane, kind: Kind::Start(i), label: Some(c.name.clone()) });
        if let Some(end) = c.end {
            points.push(Point { t: end, order: (c.end_seq.unwrap_or(c.seq), 1), lane, kind: Kind::End(i), label: None });
        }
    }
    for (i, s) in trace.signals.iter().enumerate() {
        points.push(Point { t: s.t, order: (s.seq, 0), lane: lane_of[&s.pid], kind: Kind::Signal(i), label: Some(s.name.clone()) });
    }
    for (lane, p) in trace.procs.iter().enumerate() {
        if let Some(c) = p.born {
            let call = &trace.calls[c];
            points.push(Point { t: call.start, order: (call.seq, 2), lane, kind: Kind::Birth(lane), label: Some(format!("{}=0", call.name)) });
        }
        if let Some(e) = &p.exit {
            points.push(Point { t: e.t, order: (e.seq, 3), lane, kind: Kind::Exit(lane), label: None });
        }
    }
    points.sort_by_key(|p| (p.t, p.order));

    let mut place = Place {
        start: vec![0.0; trace.calls.len()],
        end: vec![None; trace.calls.len()],
        signal: vec![0.0; trace.signals.len()],
        birth: vec![None; n],
        exit: vec![None; n],
        ..Place::default()
    };
    let mut lane_last = vec![f64::NEG_INFINITY; n];
    let mut rows = vec![[f64::NEG_INFINITY; 2]; n];
    let (mut x, mut last_t) = (0.0f64, None::<i64>);
    for p in &points {
        let mut at = match last_t {
            None => 0.0,
            Some(lt) if p.t - lt > BREAK_NS => {
                place.breaks.push((x, p.t - lt));
                x + BREAK_W
            }
            Some(lt) => x + 1.5 * (1.0 + (p.t - lt).max(0) as f64 / 1000.0).log2(),
        };
        at = at.max(lane_last[p.lane] + if p.label.is_some() { MARK_GAP } else { 1.0 });
        if let Some(label) = &p.label {
            let r = &mut rows[p.lane];
            // The row free first; above when both are.
            let row = if at.max(r[0]) <= at.max(r[1]) { 0 } else { 1 };
            at = at.max(r[row]);
            r[row] = at + label.len() as f64 * CW + LABEL_PAD;
            place.right = place.right.max(r[row]);
            place.labels.push((at, p.lane, row, label.clone(), p.kind));
        }
        lane_last[p.lane] = at;
        (x, last_t) = (at, Some(p.t));
        place.xs.push((at, p.t));
        match p.kind {
            Kind::Start(c) => place.start[c] = at,
            Kind::End(c) => place.end[c] = Some(at),
            Kind::Signal(s) => place.signal[s] = at,
            Kind::Birth(l) => place.birth[l] = Some(at),
            Kind::Exit(l) => place.exit[l] = Some(at),
        }
    }
    place.last = x;
    place
}

/// Escapes text for XML: `&<>"'`, and control characters (which XML does not allow)
/// as U+FFFD. strace writes the bytes of requests, so anything may be in a line.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A time since the trace's first line, for a tick.
fn secs(ns: i64) -> String {
    format!("{}.{:06} s", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

/// ` at 0.062345 s` for a title; nothing when the trace has no time.
fn at(trace: &Trace, ns: i64) -> String {
    if trace.timing == Timing::Order { String::new() } else { format!(" at {}", secs(ns)) }
}

/// The length of a cut-out gap.
fn span(ns: i64) -> String {
    if ns >= 1_000_000_000 { format!("{:.2} s", ns as f64 / 1e9) } else { format!("{} ms", ns / 1_000_000) }
}

pub fn render(trace: &Trace, opts: &Options) -> Picture {
    let lane_of: HashMap<u32, usize> = trace.procs.iter().enumerate().map(|(i, p)| (p.pid, i)).collect();
    let place = layout(trace, &lane_of);
    let summary = summary(trace);

    // Geometry.
    let label = |i: usize| format!("{} {}", trace.procs[i].pid, trace.procs[i].name);
    let left_w = (0..trace.procs.len()).map(|i| label(i).len() as f64 * CW + trace.procs[i].depth as f64 * 10.0).fold(80.0, f64::max) + 16.0;
    let x0 = MARGIN + left_w;
    let x_end = place.last + 12.0;
    let drawing_w = x0 + x_end.max(place.right) + MARGIN;
    let cols = ((drawing_w - 2.0 * MARGIN) / LEGEND_COL).floor().clamp(2.0, 4.0) as usize;
    let legend_rows = LEGEND.len().div_ceil(cols);
    // The title (15 px) and the two lines under it (11 px) are never cut.
    let root = trace.procs.first().map_or("", |p| p.name.as_str());
    let title = opts.title.clone().unwrap_or_else(|| match trace.stage() {
        Some(stage) => format!("stage {stage}: {root} under strace"),
        None => format!("{root} under strace"),
    });
    let experiment = trace.header_value("experiment").map(|e| format!("experiment: {e}"));
    let Summary { processes, clones, exits, sigchld, reaped, unreaped, interrupted } = summary.clone();
    let counts = format!(
        "{}, {}, {}, {sigchld} SIGCHLD delivered, {reaped} reaped by wait4, {unreaped} never reaped, {} interrupted ({} lines)",
        plural(processes, "process", "processes"),
        plural(clones, "clone", "clones"),
        plural(exits, "exit", "exits"),
        plural(interrupted, "call", "calls"),
        trace.lines
    );
    let text_w = (title.chars().count() as f64 * 9.1).max(experiment.as_ref().map_or(0, |e| e.chars().count()).max(counts.chars().count()) as f64 * 6.63);
    let width = drawing_w.max(2.0 * MARGIN + cols as f64 * LEGEND_COL).max(2.0 * MARGIN + text_w).ceil();
    let legend_y = 62.0;
    let axis_y = legend_y + legend_rows as f64 * 16.0 + 32.0;
    let lanes_y = axis_y + 6.0;
    let notes: Vec<String> = std::iter::once(axis_note(trace)).chain(trace.warnings.iter().cloned()).flat_map(|n| wrap(&n, ((width - 2.0 * MARGIN) / CW) as usize)).collect();
    let bottom = lanes_y + trace.procs.len() as f64 * LANE_H;
    let height = (bottom + 8.0 + notes.len() as f64 * 12.0 + MARGIN).ceil();
    let cy = |lane: usize| lanes_y + lane as f64 * LANE_H + LANE_H / 2.0;
    let ax = |x: f64| x0 + x;

    let mut s = String::with_capacity(4096 + trace.calls.len() * 400);
    let _ = write!(
        s,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="9">
<style>
text {{ fill: #222; white-space: pre; }}
.band {{ fill: #f3f4f6; }} .band.odd {{ fill: #ffffff; }}
.lane text {{ font-size: 10px; }}
.life {{ stroke: #777; stroke-width: 1; }}
.blocked {{ stroke: #9fb7d3; stroke-width: 5; }} .blocked.intr {{ stroke: #f2a0a0; }}
.call rect {{ fill: #1d3f6e; }} .call text {{ fill: #1d3f6e; }}
.call.fork rect, .birth rect {{ fill: #1a8a2e; }} .call.fork text, .birth text {{ fill: #1a8a2e; font-weight: bold; }}
.call.wait rect {{ fill: #7a3db8; }} .call.wait text {{ fill: #7a3db8; font-weight: bold; }}
.call.intr rect {{ fill: #d00000; }} .call.intr text {{ fill: #d00000; font-weight: bold; }}
.signal rect {{ fill: #e07000; }} .signal text {{ fill: #c05800; font-style: italic; font-weight: bold; }}
.arrow {{ stroke-width: 1.2; fill: none; }}
.arrow.clone {{ stroke: #1a8a2e; marker-end: url(#head-clone); }}
.arrow.sigchld, .arrow.signal {{ stroke: #e07000; stroke-dasharray: 4 2; marker-end: url(#head-signal); }}
.exit {{ fill: #000; }} .exit.killed {{ fill: #d00000; }}
.zombie {{ fill: url(#hatch); stroke: #666; stroke-width: 0.6; }}
.zombie.unreaped {{ fill: url(#hatch-unreaped); stroke: #b00000; }}
.break {{ fill: #e4e4e4; opacity: 0.8; }}
.grid {{ stroke: #e2e2e2; stroke-width: 1; }}
.axis {{ stroke: #444; stroke-width: 1; }}
.title {{ font-size: 15px; font-weight: bold; }}
.subtitle {{ font-size: 11px; }}
.note {{ font-size: 9px; fill: #555; }}
.again {{ fill: #8a8a8a; font-style: italic; }}
</style>
<defs>
<pattern id="hatch" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)"><rect width="5" height="5" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="5" stroke="#555" stroke-width="1.6"/></pattern>
<pattern id="hatch-unreaped" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)"><rect width="5" height="5" fill="#fde0e0"/><line x1="0" y1="0" x2="0" y2="5" stroke="#b00000" stroke-width="1.6"/></pattern>
<marker id="head-clone" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#1a8a2e"/></marker>
<marker id="head-signal" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#e07000"/></marker>
</defs>
"##
    );

    // Title, experiment, counts.
    let _ = writeln!(s, r#"<g id="title"><text class="title" x="{MARGIN}" y="22">{}</text>"#, esc(&title));
    if let Some(exp) = &experiment {
        let _ = writeln!(s, r#"<text class="subtitle" x="{MARGIN}" y="38">{}</text>"#, esc(exp));
    }
    let _ = writeln!(s, r#"<text class="subtitle" x="{MARGIN}" y="53">{}</text></g>"#, esc(&counts));

    legend(&mut s, legend_y, cols);

    // Lanes: bands and names.
    let _ = writeln!(s, r#"<g id="trace">"#);
    let _ = writeln!(s, r#"<g id="lanes">"#);
    for (i, p) in trace.procs.iter().enumerate() {
        let top = lanes_y + i as f64 * LANE_H;
        let odd = if i % 2 == 1 { " odd" } else { "" };
        let parent = p.parent.map_or(String::new(), |pp| format!(r#" data-parent="{pp}""#));
        let _ = write!(s, r#"<g class="lane" id="lane-{}" data-pid="{}"{parent}><title>{}</title>"#, p.pid, p.pid, esc(&lane_title(trace, i)));
        let _ = write!(s, r#"<rect class="band{odd}" x="0" y="{top}" width="{width}" height="{LANE_H}"/>"#);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}">{}</text></g>"#, MARGIN + p.depth as f64 * 10.0, cy(i) + 3.5, esc(&label(i)));
    }
    let _ = writeln!(s, "</g>");

    // The axis: the cut-out gaps, ticks at marks.
    let _ = writeln!(s, r#"<g id="axis"><line class="axis" x1="{x0}" y1="{axis_y}" x2="{:.1}" y2="{axis_y}"/>"#, ax(x_end));
    // A gap's length in the row above the ticks', unless it would overwrite the last one.
    let mut last_gap_label = f64::NEG_INFINITY;
    for &(x, ns) in &place.breaks {
        let (band, text) = (ax(x) + 6.0, span(ns));
        let centre = band + (BREAK_W - 6.0) / 2.0;
        let half = text.len() as f64 * CW / 2.0;
        let label = if centre - half > last_gap_label + 4.0 {
            last_gap_label = centre + half;
            format!(r#"<text x="{centre:.1}" y="{:.1}" text-anchor="middle">{text}</text>"#, axis_y - 16.0)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            r#"<g class="gap"><title>{text} without a line in the trace: cut out</title><rect class="break" x="{band:.1}" y="{axis_y}" width="{:.1}" height="{:.1}"/>{label}</g>"#,
            BREAK_W - 6.0,
            bottom - axis_y,
        );
    }
    // Without timestamps there is no time to name: no ticks.
    let mut last_tick = f64::NEG_INFINITY;
    for &(x, t) in place.xs.iter().filter(|_| trace.timing != Timing::Order) {
        if x - last_tick >= TICK_GAP {
            last_tick = x;
            let _ = writeln!(
                s,
                r#"<line class="grid" x1="{:.1}" y1="{axis_y}" x2="{:.1}" y2="{bottom}"/><line class="axis" x1="{:.1}" y1="{}" x2="{:.1}" y2="{axis_y}"/><text x="{:.1}" y="{}">{}</text>"#,
                ax(x),
                ax(x),
                ax(x),
                axis_y - 4.0,
                ax(x),
                ax(x) + 2.0,
                axis_y - 5.0,
                secs(t)
            );
        }
    }
    let _ = writeln!(s, "</g>");

    // Lifelines, from birth (or first line) to exit (or the end of the trace).
    let mut first = vec![f64::INFINITY; trace.procs.len()];
    for (c, call) in trace.calls.iter().enumerate() {
        let l = lane_of[&call.pid];
        first[l] = first[l].min(place.start[c]);
    }
    for (sg, sig) in trace.signals.iter().enumerate() {
        let l = lane_of[&sig.pid];
        first[l] = first[l].min(place.signal[sg]);
    }
    let _ = writeln!(s, r#"<g id="lives">"#);
    let life_end: Vec<f64> = (0..trace.procs.len()).map(|l| place.exit[l].unwrap_or(x_end)).collect();
    for (l, p) in trace.procs.iter().enumerate() {
        let from = place.birth[l].unwrap_or(first[l]).min(first[l]);
        let from = if from.is_finite() { from } else { place.exit[l].unwrap_or(0.0) };
        let _ = writeln!(s, r#"<line class="life" data-pid="{}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#, p.pid, ax(from), cy(l), ax(life_end[l]), cy(l));
        // Far to the right of the names, a lane's name again where it starts: nothing is
        // drawn on a lane before its process is born.
        let name = label(l);
        if place.birth[l].is_some() && from - name.len() as f64 * CW > 200.0 {
            let _ = writeln!(s, r#"<text class="again" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, ax(from) - 6.0, cy(l) + 3.0, esc(&name));
        }
    }
    let _ = writeln!(s, "</g>");

    // Zombies: from the exit to the wait4 that reaped it; unreaped, to its parent's end
    // (then init reaps it) or the trace's.
    let _ = writeln!(s, r#"<g id="zombies">"#);
    for (l, p) in trace.procs.iter().enumerate() {
        let (Some(exit), Some(parent)) = (place.exit[l], p.parent) else { continue };
        let exited = p.exit.as_ref().unwrap();
        let (to, class, what) = match p.reaped {
            Some(c) => {
                let call = &trace.calls[c];
                let to = place.end[c].unwrap_or(place.start[c]);
                (to, "zombie", format!("reaped by {} in {}{}", call.name, call.pid, at(trace, call.done())))
            }
            None => match lane_of.get(&parent) {
                Some(&pl) if place.exit[pl].is_some() => (life_end[pl], "zombie unreaped", format!("never reaped: a zombie until its parent {parent} ended")),
                _ => (x_end, "zombie unreaped", "never reaped while the trace lasts".into()),
            },
        };
        let reaper = p.reaped.map_or(String::new(), |c| format!(r#" data-reaper="{}""#, trace.calls[c].pid));
        let _ = writeln!(
            s,
            r#"<rect class="{class}" data-pid="{}"{reaper} x="{:.1}" y="{:.1}" width="{:.1}" height="8"><title>{} {}: a zombie from its exit{} ({}); {what}</title></rect>"#,
            p.pid,
            ax(exit),
            cy(l) - 4.0,
            (to - exit).max(2.0),
            p.pid,
            esc(&p.name),
            at(trace, exited.t),
            esc(&exited.how)
        );
    }
    let _ = writeln!(s, "</g>");

    // Calls blocked between `<unfinished ...>` and `<... resumed>`, or never resumed.
    let _ = writeln!(s, r#"<g id="blocked">"#);
    for (c, call) in trace.calls.iter().enumerate() {
        let l = lane_of[&call.pid];
        let to = match (place.end[c], &call.ret) {
            (Some(end), _) => end,
            (None, None) => life_end[l], // unfinished when the trace ended
            (None, Some(_)) => continue,
        };
        if to - place.start[c] < 1.0 {
            continue;
        }
        let intr = if call.interrupted() { " intr" } else { "" };
        let _ = writeln!(s, r#"<line class="blocked{intr}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#, ax(place.start[c]), cy(l), ax(to), cy(l));
    }
    let _ = writeln!(s, "</g>");

    // Arrows: clone, parent to child; SIGCHLD, the child's exit to the parent.
    let _ = writeln!(s, r#"<g id="arrows">"#);
    for (l, p) in trace.procs.iter().enumerate() {
        let (Some(c), Some(parent)) = (p.born, p.parent) else { continue };
        let pl = lane_of[&parent];
        let call = &trace.calls[c];
        let (x1, x2) = (ax(place.start[c]), ax(place.birth[l].unwrap_or(place.start[c])));
        let _ = writeln!(
            s,
            r#"<line class="arrow clone" data-from="{parent}" data-to="{}" x1="{x1:.1}" y1="{:.1}" x2="{x2:.1}" y2="{:.1}"><title>{} returned {} in the parent and 0 in the child{}</title></line>"#,
            p.pid,
            cy(pl) + 3.0,
            cy(l) - 3.0,
            call.name,
            p.pid,
            at(trace, call.start)
        );
    }
    for (sg, sig) in trace.signals.iter().enumerate() {
        let Some(&from) = sig.from.as_ref().and_then(|f| lane_of.get(f)) else { continue };
        if from == lane_of[&sig.pid] {
            continue;
        }
        let to = lane_of[&sig.pid];
        let sigchld = sig.name == "SIGCHLD";
        let x1 = if sigchld { place.exit[from].unwrap_or(place.signal[sg]) } else { place.signal[sg] };
        let class = if sigchld { "arrow sigchld" } else { "arrow signal" };
        let (y1, y2) = if from > to { (cy(from) - 3.0, cy(to) + 3.0) } else { (cy(from) + 3.0, cy(to) - 3.0) };
        let _ = writeln!(
            s,
            r#"<line class="{class}" data-from="{}" data-to="{}" x1="{:.1}" y1="{y1:.1}" x2="{:.1}" y2="{y2:.1}"><title>{}</title></line>"#,
            trace.procs[from].pid,
            sig.pid,
            ax(x1),
            ax(place.signal[sg]),
            esc(&sig.text)
        );
    }
    let _ = writeln!(s, "</g>");

    // Exits.
    let _ = writeln!(s, r#"<g id="exits">"#);
    for (l, p) in trace.procs.iter().enumerate() {
        let (Some(x), Some(e)) = (place.exit[l], &p.exit) else { continue };
        let killed = if e.killed { " killed" } else { "" };
        let _ = writeln!(
            s,
            r#"<rect class="exit{killed}" data-pid="{}" x="{:.1}" y="{:.1}" width="2.5" height="14"><title>{}</title></rect>"#,
            p.pid,
            ax(x) - 1.0,
            cy(l) - 7.0,
            esc(&e.text)
        );
    }
    let _ = writeln!(s, "</g>");

    // The marks, each labelled in one of its lane's two rows.
    let _ = writeln!(s, r#"<g id="marks">"#);
    for (x, l, row, text, kind) in &place.labels {
        let ty = cy(*l) + ROW_Y[*row];
        let (class, data, title) = match *kind {
            Kind::Start(c) => {
                let call = &trace.calls[c];
                (call_class(call), format!(r#" data-pid="{}" data-name="{}""#, call.pid, esc(&call.name)), call.text.clone())
            }
            Kind::Signal(sg) => {
                let sig = &trace.signals[sg];
                let from = sig.from.map_or(String::new(), |f| format!(r#" data-from="{f}""#));
                let class = if sig.name == "SIGCHLD" { "signal sigchld" } else { "signal" };
                (class.to_string(), format!(r#" data-pid="{}" data-name="{}"{from}"#, sig.pid, esc(&sig.name)), sig.text.clone())
            }
            Kind::Birth(lane) => {
                let p = &trace.procs[lane];
                let call = &trace.calls[p.born.unwrap()];
                ("birth".to_string(), format!(r#" data-pid="{}""#, p.pid), format!("{} returns 0 in the child, {} (its pid) in the parent {}", call.name, p.pid, call.pid))
            }
            Kind::End(_) | Kind::Exit(_) => continue,
        };
        let _ = writeln!(
            s,
            r#"<g class="{class}"{data}><title>{}</title><rect x="{:.1}" y="{:.1}" width="1.6" height="7"/><text x="{:.1}" y="{ty:.1}">{}</text></g>"#,
            esc(&title),
            ax(*x) - 0.8,
            cy(*l) - 3.5,
            ax(*x) + 0.5,
            esc(text)
        );
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(s, "</g>");

    // What the axis is, and what the reader could not do exactly.
    let _ = writeln!(s, r#"<g id="notes">"#);
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(s, r#"<text class="note" x="{MARGIN}" y="{:.1}">{}</text>"#, bottom + 16.0 + i as f64 * 12.0, esc(note));
    }
    let _ = writeln!(s, "</g>\n</svg>");
    Picture { svg: s, width, height, summary }
}

fn axis_note(trace: &Trace) -> String {
    match trace.timing {
        Timing::Order => "no timestamps in the trace: marks in the order of the lines".to_string(),
        _ => format!(
            "time since the first line ({}): each tick is exact at its mark; between marks, gaps are shrunk (log scale), gaps over {} ms cut out (grey), and marks moved right as their lane's labels need",
            match trace.timing {
                Timing::Epoch => "strace -ttt",
                Timing::Clock => "strace -tt",
                _ => "strace -r",
            },
            BREAK_NS / 1_000_000
        ),
    }
}

/// `1 process`, `2 processes`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Splits `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().unwrap();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width.max(20) {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

fn call_class(call: &Call) -> String {
    let mut class = String::from("call");
    if call.child.is_some() || matches!(call.name.as_str(), "clone" | "clone3" | "fork" | "vfork") {
        class.push_str(" fork");
    }
    if matches!(call.name.as_str(), "wait4" | "waitpid" | "waitid") {
        class.push_str(" wait");
    }
    if call.interrupted() {
        class.push_str(" intr");
    }
    class
}

fn lane_title(trace: &Trace, lane: usize) -> String {
    let p = &trace.procs[lane];
    let mut t = format!("pid {} ({})", p.pid, p.name);
    if let (Some(parent), Some(c)) = (p.parent, p.born) {
        let _ = write!(t, ", cloned by {parent}{}", at(trace, trace.calls[c].start));
    }
    if let Some(e) = &p.exit {
        let _ = write!(t, ", {}{}", e.how, at(trace, e.t));
    }
    if let Some(c) = p.reaped {
        let call = &trace.calls[c];
        let _ = write!(t, ", reaped by {} in {}{}", call.name, call.pid, at(trace, call.done()));
    } else if p.exit.is_some() && p.parent.is_some() {
        t.push_str(", never reaped in the trace");
    }
    t
}

pub fn summary(trace: &Trace) -> Summary {
    let children = trace.procs.iter().filter(|p| p.born.is_some());
    Summary {
        processes: trace.procs.len(),
        clones: trace.procs.iter().filter(|p| p.born.is_some()).count(),
        exits: trace.procs.iter().filter(|p| p.exit.is_some()).count(),
        sigchld: trace.signals.iter().filter(|s| s.name == "SIGCHLD").count(),
        reaped: trace.procs.iter().filter(|p| p.reaped.is_some()).count(),
        unreaped: children.filter(|p| p.exit.is_some() && p.reaped.is_none()).count(),
        interrupted: trace.calls.iter().filter(|c| c.interrupted()).count(),
    }
}

/// The legend's entries: a sample drawing (in a 40 x 14 box) and what it means.
const LEGEND: [(&str, &str); 12] = [
    (r#"<line class="life" x1="0" y1="7" x2="40" y2="7"/>"#, "a process: pid and program; clone to exit"),
    (r#"<g class="call"><rect x="4" y="3" width="1.6" height="8"/><text x="5" y="2">read</text></g><line class="life" x1="0" y1="7" x2="40" y2="7"/>"#, "a syscall, named (hover: strace's line)"),
    (r#"<line class="blocked" x1="4" y1="7" x2="36" y2="7"/>"#, "blocked in it: <unfinished> to <resumed>"),
    (r#"<line class="arrow clone" x1="20" y1="0" x2="20" y2="14"/>"#, "clone: child's pid to the parent, 0 to it"),
    (r#"<line class="arrow sigchld" x1="10" y1="14" x2="30" y2="0"/>"#, "SIGCHLD: a child's exit, to its parent"),
    (r#"<g class="signal"><rect x="4" y="3" width="1.6" height="8"/><text x="7" y="10">SIG</text></g>"#, "a signal delivered (handler or default)"),
    (r#"<rect class="exit" x="19" y="0" width="2.5" height="14"/><line class="life" x1="0" y1="7" x2="20" y2="7"/>"#, "exit: +++ exited / killed +++ (exit_group)"),
    (r#"<rect class="zombie" x="4" y="3" width="32" height="8"/>"#, "zombie: exited, not yet reaped by wait4"),
    (r#"<rect class="zombie unreaped" x="4" y="3" width="32" height="8"/>"#, "zombie that no wait4 reaped in the trace"),
    (r#"<g class="call intr"><rect x="4" y="3" width="1.6" height="8"/><text x="7" y="10">EINTR</text></g>"#, "interrupted by a signal: EINTR, ERESTART*"),
    (r#"<g class="call wait"><rect x="4" y="3" width="1.6" height="8"/><text x="7" y="10">wait4</text></g>"#, "wait4 (purple), clone (green)"),
    (r#"<rect class="break" x="8" y="0" width="24" height="14"/>"#, "idle time cut out; its length on the axis"),
];

fn legend(s: &mut String, y0: f64, cols: usize) {
    let _ = writeln!(s, r#"<g id="legend">"#);
    for (i, (sample, text)) in LEGEND.iter().enumerate() {
        let (col, row) = (i % cols, i / cols);
        let (x, y) = (MARGIN + col as f64 * LEGEND_COL, y0 + row as f64 * 16.0);
        let _ = writeln!(s, r#"<g transform="translate({x},{y})">{sample}<text x="48" y="10">{}</text></g>"#, esc(text));
    }
    let _ = writeln!(s, "</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_needs() {
        assert_eq!(esc(r#"GET /<a href="x">&'"#), "GET /&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(esc("a\u{1}b\u{7f}"), "a\u{fffd}b\u{fffd}");
    }

    #[test]
    fn times() {
        let t = crate::model::read(&[crate::model::Source { pid: None, text: "1 1.5 getpid() = 1\n".into() }]);
        assert_eq!(secs(1_234_567_891), "1.234567 s");
        assert_eq!(at(&t, 1_234_567_891), " at 1.234567 s");
        assert_eq!(span(1_500_000_000), "1.50 s");
        assert_eq!(span(25_000_000), "25 ms");
        assert_eq!(wrap("aaaa bbbb cccc dddd eeee ffff", 20), ["aaaa bbbb cccc dddd", "eeee ffff"]);
    }
}
