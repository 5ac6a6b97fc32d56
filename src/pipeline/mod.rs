//! The pipeline for one source: lines -> records -> signals -> events, split into
//! deployment runs, then the engine's diagnoses per run. Holds one run's events at a
//! time (bounded), never the input.

mod held;
mod run;
mod steps;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod threads;

use std::io;

use crate::gate::{GateScratch, Heat, LineGate};
use crate::input::line::{Block, LINE_CAP, LineReader};
use crate::input::source::Source;
use crate::record::Record;
use crate::report::diagnosis::SourceReport;
use crate::rule::RuleSet;
use crate::signal::Events;
use crate::signal::SignalSet;

use run::RunState;
use steps::{LateBlock, LineSteps};
use threads::{Balance, TWO_THREADS_FROM, read_gated_in_two_from, read_in_two_from};

/// How runs of a multi-deployment log are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runs {
    /// Only the latest run, saying how many earlier ones were skipped.
    #[default]
    Latest,
    /// Every run, each as its own report.
    All,
    /// One run: counted from the first (1 is the first) or, when negative, from the
    /// latest (-1 is the latest, -2 the one before). Never 0. A source without that run
    /// gets a report that says so (`SourceReport::run_missing`).
    One(i64),
}

/// Takes each finished run's report as the run ends ([`stream_source`]), so that the
/// reports of a log of many runs need not be kept until its end.
pub trait RunSink {
    /// A run that ended, reported as far as it is known when it ends: `lines` is 0 (the
    /// source's lines are counted at its end) and `run.runs` is the runs seen so far.
    fn run(&mut self, report: SourceReport);
}

/// Keeps every report: what [`diagnose_source`] gives, as a sink.
impl RunSink for Vec<SourceReport> {
    fn run(&mut self, report: SourceReport) {
        self.push(report);
    }
}

/// The outcome of reading one source.
#[derive(Debug)]
pub struct Outcome {
    pub reports: Vec<SourceReport>,
    /// Set when the source could not be read in full (the reports cover what was read).
    pub error: Option<io::Error>,
    /// Physical lines read, across every run.
    pub lines: u64,
}

impl Outcome {
    /// Why the source was not read in full, with the line reading stopped after (the
    /// line of the source, whichever run it is in); `None` when it was read in full.
    pub fn error_reason(&self) -> Option<String> {
        let reason = crate::messages::describe_io(self.error.as_ref()?);
        Some(match self.lines {
            0 => reason,
            n => format!("reading stopped after line {n}: {reason}"),
        })
    }
}

/// When the line gate (see [`crate::gate`]) starts to skip quiet lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Never: every line is read (for tests, and when every line is hot anyway).
    Off,
    /// From this line on. Building the gate takes a few milliseconds, more than a short
    /// log takes to read, so the default waits for [`GATE_FROM_LINE`].
    From(u64),
}

/// The line from which the default pipeline gates, while the gate is not built yet.
const GATE_FROM_LINE: u64 = 2000;

/// Diagnoses one source. From its 2,000th line (from its first once the gate is built),
/// lines that no read signal, hint or the framer could use are only counted (see
/// `crate::gate`); the reports are those of reading every line
/// ([`diagnose_every_line`], held to it by `tests/gate.rs`).
pub fn diagnose_source(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    diagnose(
        RunState::new(rules, source.name.clone()),
        source,
        runs,
        default_gate(rules),
    )
}

/// Diagnoses every run of one source as [`diagnose_source`] does with [`Runs::All`], but
/// hands each run but the last to `sink` as it ends, keeping none: memory does not grow
/// with the number of runs. The outcome holds the last run's report, complete.
pub fn stream_source(rules: &RuleSet, source: Source, sink: &mut dyn RunSink) -> Outcome {
    let state = RunState::streaming(rules, source.name.clone(), sink);
    diagnose(state, source, Runs::All, default_gate(rules))
}

/// The gate [`diagnose_source`] uses.
fn default_gate(rules: &RuleSet) -> Gate {
    if rules.signals.gate_is_open() {
        Gate::Off
    } else {
        Gate::From(GATE_FROM_LINE)
    }
}

/// Diagnoses one source with the gate from its first line.
#[doc(hidden)]
pub fn diagnose_gated(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    diagnose(
        RunState::new(rules, source.name.clone()),
        source,
        runs,
        Gate::From(1),
    )
}

/// Diagnoses one source looking at every line: what the gated pipeline must equal.
#[doc(hidden)]
pub fn diagnose_every_line(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    diagnose(
        RunState::new(rules, source.name.clone()),
        source,
        runs,
        Gate::Off,
    )
}

/// What an [`Observer`] is shown of a run when it is reported.
#[derive(Debug, Clone, Copy)]
pub struct RunSeen<'a> {
    /// The run's number in the source, from 1.
    pub index: usize,
    /// Its first timestamp, when it has one.
    pub label: Option<&'a str>,
    pub first_line: u64,
}

/// Watches the per-line path of one source ([`observe_source`]): each line as it is
/// taken, after repair and framing, and each run's events as the run is reported. This
/// is how `trace` sees what the diagnosis sees, with no copy of the path.
pub trait Observer {
    /// A line taken in run `run` (from 1): its record (a `cloud.error.log` entry's as
    /// the pipeline reads it), its text, and the signals it matched, as (signal,
    /// pattern).
    fn line(&mut self, run: usize, record: &Record<'_>, text: &str, matched: &[(usize, usize)]);

    /// A run reported, with its events (those the engine diagnoses).
    fn run(&mut self, run: RunSeen<'_>, events: &Events);
}

/// Diagnoses one source as [`diagnose_every_line`] does, showing `observer` every line
/// and every run reported. It reads on one thread: what it shows comes in order.
pub fn observe_source(
    rules: &RuleSet,
    source: Source,
    runs: Runs,
    observer: &mut dyn Observer,
) -> Outcome {
    diagnose_with(
        RunState::observed(rules, source.name.clone(), observer),
        source,
        runs,
        Gate::Off,
        true,
    )
}

fn diagnose(state: RunState<'_>, source: Source, runs: Runs, gate: Gate) -> Outcome {
    // A small file is read faster than a second thread starts (a folder of thousands);
    // beside other files, the cores are busy already.
    let one_thread = source.among_others || source.size.is_some_and(|size| size < TWO_THREADS_FROM);
    diagnose_with(state, source, runs, gate, one_thread)
}

fn diagnose_with(
    mut state: RunState<'_>,
    source: Source,
    runs: Runs,
    gate: Gate,
    one_thread: bool,
) -> Outcome {
    let (stats, error) = if one_thread {
        let mut lines = LineReader::new(source.reader);
        let error = read_into(&mut lines, &mut state, Some(runs), gate);
        (lines.stats(), error)
    } else {
        read_large(source.reader, &mut state, runs, gate)
    };
    let mut notes = Vec::new();
    if stats.binary_lines > 0 {
        notes.push(format!(
            "holds binary data: {} with NUL bytes were read as text",
            crate::rule::template::count(stats.binary_lines, "line", "lines")
        ));
    }
    if stats.truncated > 0 {
        notes.push(format!(
            "{} longer than {} MiB: only their first {} MiB were matched",
            crate::rule::template::count(stats.truncated, "line", "lines"),
            LINE_CAP >> 20,
            LINE_CAP >> 20
        ));
    }
    if let Some(e) = &error {
        notes.push(format!("read stopped early: {e}"));
    }
    Outcome {
        reports: state.finish(stats.lines, notes, runs),
        error,
        lines: stats.lines,
    }
}

/// The events of a whole source, every run together (for rule examples and `trace`).
pub fn collect_events(rules: &RuleSet, source: Source) -> Events {
    let mut state = RunState::new(rules, source.name.clone());
    let mut lines = LineReader::new(source.reader);
    // A read error here can only come from an in-memory example: nothing to report.
    let _ = read_into(&mut lines, &mut state, None, Gate::Off);
    state.build_events();
    state.run.events
}

/// The gate a reader uses for line `line_no`, built on first use; once built (for an
/// earlier or a concurrent source), it costs nothing to use from the first line.
fn gate_at(gate: Gate, line_no: u64, signals: &SignalSet, late: bool) -> Option<&LineGate> {
    match gate {
        Gate::From(from) if line_no >= from || signals.gate_is_built(late) => {
            Some(signals.gate_and_prefilter(late))
        }
        _ => None,
    }
}

/// Feeds every line to the state; `runs` is `None` to keep all runs together.
fn read_into<R: io::BufRead>(
    lines: &mut LineReader<R>,
    state: &mut RunState<'_>,
    runs: Option<Runs>,
    gate: Gate,
) -> Option<io::Error> {
    read_into_gating(lines, state, runs, gate).0
}

/// [`read_into`], also saying how it ended: gating, or with the gate turned off.
fn read_into_gating<R: io::BufRead>(
    lines: &mut LineReader<R>,
    state: &mut RunState<'_>,
    runs: Option<Runs>,
    gate: Gate,
) -> (Option<io::Error>, Gate) {
    // On one thread, context lines are found late (see `SignalSet::finds_context_late`).
    let mut steps = LineSteps::new(runs, state.run.rules.signals.finds_context_late());
    // With every run reported (or one that may not be the latest), a new run reads what
    // its skipped lines owe (its report needs it): they are searched as they come.
    state.held.defer_late = steps.late && !matches!(runs, Some(Runs::All | Runs::One(_)));
    let mut gate = gate;
    // Every line read is one step: the steps' count is the reader's.
    lines.leave_blocks_uncounted();
    let error = read_lines(lines, &mut steps, state, &mut gate, false).flatten();
    steps.finish(state);
    lines.set_lines(steps.line_no);
    (error, gate)
}

/// Takes lines into `steps` to the end of the input (`Some`, with the read error if one
/// stopped it) or, with `until_judged`, until the gate is judged (`None`). The gate is
/// turned off for the rest of the input when it loses ([`LineSteps::judge_gate`]).
///
/// Gated, the lines come a reader's buffer at a time: the gate finds the few worth
/// reading, and the quiet ones between them are only counted ([`LineSteps::block`]).
fn read_lines<R: io::BufRead>(
    lines: &mut LineReader<R>,
    steps: &mut LineSteps,
    state: &mut RunState<'_>,
    gate: &mut Gate,
    until_judged: bool,
) -> Option<Option<io::Error>> {
    let signals = &state.run.rules.signals;
    let mut hot = Vec::new();
    SCRATCH.with_borrow_mut(|scratch| {
        loop {
            let read = match gate_at(*gate, steps.line_no + 1, signals, steps.late) {
                None => lines.next_line().map(|line| {
                    line.map(|bytes| {
                        steps.line(bytes, Heat::Hot, false, state, LateBlock::default())
                    })
                }),
                Some(gate) => lines.next_block().map(|block| {
                    block.map(|block| match block {
                        Block::Lines(bytes) => {
                            hot.clear();
                            gate.hot_lines(bytes, scratch, &mut hot);
                            let lower = Some(scratch.lowered()).filter(|l| l.len() == bytes.len());
                            steps.block(bytes, lower, &hot, true, state);
                        }
                        Block::Line(bytes) => {
                            let heat = gate.heat(bytes, scratch);
                            steps.line(bytes, heat, true, state, LateBlock::default());
                        }
                    })
                }),
            };
            match read {
                Ok(Some(())) => {}
                Ok(None) => return Some(None),
                Err(e) => return Some(Some(e)),
            }
            match steps.judge_gate() {
                // Reading every line from here on gives the same reports, faster.
                Some(true) => *gate = Gate::Off,
                Some(false) => {}
                None => continue,
            }
            if until_judged {
                return None;
            }
        }
    })
}

thread_local! {
    /// Each thread's gate scratch, kept across sources (a folder's files are read by a
    /// few threads, one after the other).
    static SCRATCH: std::cell::RefCell<GateScratch> = std::cell::RefCell::default();
}

/// Reads a large source on two threads. With the gate, its first lines are read on this
/// thread until the gate is judged; then the gated two-thread loop goes on if the gate
/// pays, else the one that reads every line (which splits the work more evenly).
fn read_large<R: io::BufRead + Send>(
    reader: R,
    state: &mut RunState<'_>,
    runs: Runs,
    gate: Gate,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let mut lines = LineReader::new(reader);
    let mut steps = LineSteps::new(Some(runs), false);
    let mut gate = gate;
    if matches!(gate, Gate::From(_))
        && let Some(error) = read_lines(&mut lines, &mut steps, state, &mut gate, true)
    {
        steps.finish(state);
        return (lines.stats(), error);
    }
    match gate {
        Gate::From(from) => read_gated_in_two_from(lines, steps, state, from, Balance::Adaptive),
        Gate::Off => {
            // The every-line loop holds no lines: read those the trial held first.
            state.held.read_held(&mut state.run);
            read_in_two_from(lines, steps, state, runs, Balance::Adaptive)
        }
    }
}
