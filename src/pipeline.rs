//! The pipeline for one source: lines -> records -> signals -> events, split into
//! deployment runs, then the engine's diagnoses per run. Holds one run's events at a
//! time (bounded), never the input.

use std::borrow::Cow;
use std::io;
use std::sync::atomic::Ordering;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use std::sync::LazyLock;

use crate::engine;
use crate::gate::{GateScratch, Heat, LineGate};
use crate::input::line::{Block, LINE_CAP, LineReader};
use crate::input::source::Source;
use crate::mask::mask_cut;
use crate::record::envelope::{Envelope, Level};
use crate::record::{Framer, Record, Stage};
use crate::repair::{RepairedLine, Repairer};
use crate::report::diagnosis::{Hint, RunInfo, SourceReport};
use crate::rule::RuleSet;
use crate::signal::Events;
use crate::signal::{Deferred, ERROR_WORDS, SignalSet};

/// How runs of a multi-deployment log are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runs {
    /// Only the latest run, saying how many earlier ones were skipped.
    #[default]
    Latest,
    /// Every run, each as its own report.
    All,
}

/// The outcome of reading one source.
#[derive(Debug)]
pub struct Outcome {
    pub reports: Vec<SourceReport>,
    /// Set when the source could not be read in full (the reports cover what was read).
    pub error: Option<io::Error>,
}

/// How many look-alike error lines a report shows when no rule fired.
const HINTS: usize = 5;
/// The most bytes of a hint line shown.
const HINT_CHARS: usize = 300;

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
/// [`crate::gate`]); the reports are those of reading every line
/// ([`diagnose_every_line`], held to it by `tests/gate.rs`).
pub fn diagnose_source(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    let gate = if rules.signals.gate_is_open() {
        Gate::Off
    } else {
        Gate::From(GATE_FROM_LINE)
    };
    diagnose(rules, source, runs, gate)
}

/// Diagnoses one source with the gate from its first line.
#[doc(hidden)]
pub fn diagnose_gated(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    diagnose(rules, source, runs, Gate::From(1))
}

/// Diagnoses one source looking at every line: what the gated pipeline must equal.
#[doc(hidden)]
pub fn diagnose_every_line(rules: &RuleSet, source: Source, runs: Runs) -> Outcome {
    diagnose(rules, source, runs, Gate::Off)
}

fn diagnose(rules: &RuleSet, source: Source, runs: Runs, gate: Gate) -> Outcome {
    let mut state = RunState::new(rules, source.name.clone());
    // A small file is read faster than a second thread starts (a folder of thousands);
    // beside other files, the cores are busy already.
    let one_thread = source.among_others || source.size.is_some_and(|size| size < TWO_THREADS_FROM);
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
            "holds binary data: {} line(s) with NUL bytes were read as text",
            stats.binary_lines
        ));
    }
    if stats.truncated > 0 {
        notes.push(format!(
            "{} line(s) longer than {} MiB: only their first {} MiB were matched",
            stats.truncated,
            LINE_CAP >> 20,
            LINE_CAP >> 20
        ));
    }
    if let Some(e) = &error {
        notes.push(format!("read stopped early: {e}"));
    }
    Outcome {
        reports: state.finish(stats.lines, notes),
        error,
    }
}

/// The events of a whole source, every run together (for rule examples and `trace`).
pub fn collect_events(rules: &RuleSet, source: Source) -> Events {
    let mut state = RunState::new(rules, source.name.clone());
    let mut lines = LineReader::new(source.reader);
    // A read error here can only come from an in-memory example: nothing to report.
    let _ = read_into(&mut lines, &mut state, None, Gate::Off);
    state.build_events();
    state.events
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
    let mut steps = Steps::new(runs, state.rules.signals.finds_context_late());
    // With every run reported, a new run reads what its skipped lines owe (its report
    // needs it): they are searched as they come.
    state.defer_late = steps.late && runs != Some(Runs::All);
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
/// turned off for the rest of the input when it loses ([`Steps::judge_gate`]).
///
/// Gated, the lines come a reader's buffer at a time: the gate finds the few worth
/// reading, and the quiet ones between them are only counted ([`Steps::block`]).
fn read_lines<R: io::BufRead>(
    lines: &mut LineReader<R>,
    steps: &mut Steps,
    state: &mut RunState<'_>,
    gate: &mut Gate,
    until_judged: bool,
) -> Option<Option<io::Error>> {
    let signals = &state.rules.signals;
    let mut hot = Vec::new();
    SCRATCH.with_borrow_mut(|scratch| {
        loop {
            let read = match gate_at(*gate, steps.line_no + 1, signals, steps.late) {
                None => lines.next_line().map(|line| {
                    line.map(|bytes| steps.line(bytes, Heat::Hot, false, state, Late::default()))
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
                            steps.line(bytes, heat, true, state, Late::default());
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
    let mut steps = Steps::new(Some(runs), false);
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
            state.read_held();
            read_in_two_from(lines, steps, state, runs, Balance::Adaptive)
        }
    }
}

/// The per-line work after reading: repair, framing and matching, in order.
///
/// Most lines of a deployment log hold nothing any signal, hint or the framer looks for:
/// the gate finds those a buffer at a time, and such a line is only counted when neither
/// the repairer nor the framer could be changed by it ([`RunState::may_skip`]).
struct Steps {
    framer: Framer,
    repairer: Repairer,
    repaired: Vec<RepairedLine>,
    line_no: u64,
    runs: Option<Runs>,
    /// Lines read with the gate on, and how many of them were skipped.
    gated: u64,
    skipped: u64,
    /// Whether the gate was judged ([`Steps::judge_gate`]).
    judged: bool,
    /// Whether context lines are found late: the gate does not find them, and the lines
    /// skipped are searched for them (see [`SignalSet::finds_context_late`]).
    late: bool,
}

/// A context line held back: its number, where its raw bytes are in
/// [`RunState::held_bytes`], the stage it was in, and the context groups whose literals
/// the gate found in it.
struct HeldLine {
    line: u64,
    raw: std::ops::Range<usize>,
    stage: Option<Stage>,
    groups: u64,
}

/// The block of lines being read ([`Steps::block`]) while its skipped lines owe a search
/// for context lines (see [`RunState::skipped_late`]): its bytes and, when the gate made
/// it, its lowercase copy. Empty outside a block: nothing is owed then.
#[derive(Debug, Clone, Copy, Default)]
struct Late<'b> {
    bytes: &'b [u8],
    lower: Option<&'b [u8]>,
}

/// Skipped lines of the block being read whose context lines are not searched for yet:
/// where they are in the block, the number of the last, and the stage and Vagrant machine
/// they were skipped in.
#[derive(Debug)]
struct LateStretch {
    lines: std::ops::Range<usize>,
    last: u64,
    stage: Option<Stage>,
    machine: Option<String>,
}

/// The most context lines held back at once, and the most bytes they may hold (a
/// longer line is held alone): when full, they are read.
const HELD_LINES: usize = 64;
const HELD_BYTES: usize = 64 << 10;

/// Gated lines after which [`Steps::judge_gate`] judges the gate.
const GATE_TRIAL_LINES: u64 = 10_000;

impl Steps {
    /// `late`: find context lines late, when the rules allow it.
    fn new(runs: Option<Runs>, late: bool) -> Steps {
        Steps {
            framer: Framer::new(),
            repairer: Repairer::new(),
            repaired: Vec::new(),
            line_no: 0,
            runs,
            gated: 0,
            skipped: 0,
            judged: false,
            late,
        }
    }

    /// Takes the next physical line, of the [`Heat`] the gate found (hot when the gate did
    /// not look); `gated` whether it looked.
    ///
    /// A quiet line is only counted when it is clean and nothing around it could use it.
    /// So is a context line, but it is also held back ([`Steps::hold`]): only the last
    /// one before a line that is read can matter. When context lines are found late, a
    /// line skipped is searched for them at once ([`RunState::read_late_context`]).
    fn line(
        &mut self,
        bytes: &[u8],
        heat: Heat,
        gated: bool,
        state: &mut RunState<'_>,
        late: Late<'_>,
    ) {
        if !self.skip(bytes, heat, false, gated, state, late) {
            self.read(bytes, state, late);
        } else if self.late {
            state.flush_late(late);
            let context = (self.framer.stage(), self.repairer.vagrant_machine());
            state.read_late_now(bytes, None, self.line_no, context);
        }
    }

    /// Counts the next physical line and skips it when it may (`true`, see
    /// [`Steps::line`]); on `false` it must be read ([`Steps::read`]) before any other
    /// line. `plain`: the line is known to hold no byte the repairer looks at (see
    /// [`crate::repair::is_plain_lines`]).
    fn skip(
        &mut self,
        bytes: &[u8],
        heat: Heat,
        plain: bool,
        gated: bool,
        state: &mut RunState<'_>,
        late: Late<'_>,
    ) -> bool {
        self.line_no += 1;
        self.gated += u64::from(gated);
        if heat != Heat::Hot
            && self
                .repairer
                .flush_before_quiet(bytes, plain, &mut self.repaired)
        {
            if !self.repaired.is_empty() {
                self.feed(state, late);
            }
            if state.may_skip(&self.framer, bytes)
                && match heat {
                    Heat::Context(groups) => self.hold(bytes, groups, state),
                    _ => true,
                }
            {
                self.repairer.skipped(bytes.len());
                self.framer.skipped(1);
                self.skipped += 1;
                return true;
            }
        }
        false
    }

    /// Reads the line [`Steps::skip`] just counted and did not skip.
    fn read(&mut self, bytes: &[u8], state: &mut RunState<'_>, late: Late<'_>) {
        self.repairer
            .push(self.line_no, &line_text(bytes), &mut self.repaired);
        self.feed(state, late);
    }

    /// Takes a block of whole lines, each ended by `\n` (see [`Block::Lines`]), with where
    /// those that are not quiet start and their [`Heat`], in order (the gate's
    /// [`LineGate::hot_lines`]); every other line of it is quiet. `lower`: the block
    /// lowercased, as the gate left it ([`GateScratch::lowered`]), if it did.
    ///
    /// Context lines do not end a run of quiet lines: most of them are held back in it
    /// ([`Steps::quiet_lines`]).
    fn block(
        &mut self,
        bytes: &[u8],
        lower: Option<&[u8]>,
        hot: &[(usize, Heat)],
        gated: bool,
        state: &mut RunState<'_>,
    ) {
        let late = Late { bytes, lower };
        let mut at = 0;
        let mut context_from = 0;
        for (i, &(start, heat)) in hot.iter().enumerate() {
            if heat != Heat::Hot || start < at {
                continue;
            }
            self.quiet_lines(at..start, late, &hot[context_from..i], gated, state);
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            self.line(without_cr(&bytes[start..end]), heat, gated, state, late);
            at = end + 1;
            context_from = i + 1;
        }
        if at < bytes.len() {
            self.quiet_lines(at..bytes.len(), late, &hot[context_from..], gated, state);
        }
        // The block's bytes go: what is still owed to them is searched now.
        state.flush_late(late);
    }

    /// Takes whole lines, each ended by `\n`, that are quiet but for the context lines
    /// of `context` (where they start, counted from `base` bytes before `bytes`, in order,
    /// as in [`Steps::block`]), with `bytes` lowercased when the gate gave them. Whether
    /// they hold a byte the repairer looks at is asked of all of them at once.
    ///
    /// Most of these lines come in runs that the repairer and the framer only count:
    /// the context lines among them that [`Steps::hold`] would hold as they are (no byte
    /// that asks for a check, see [`needs_a_check`]) are held in the run, without a call
    /// per line, as long as holding them reads no held line ([`RunState::may_hold`]);
    /// those that ask for a check and fail it are only counted, as `hold` would.
    fn quiet_lines(
        &mut self,
        lines: std::ops::Range<usize>,
        late: Late<'_>,
        context: &[(usize, Heat)],
        gated: bool,
        state: &mut RunState<'_>,
    ) {
        let base = lines.start;
        let bytes = &late.bytes[lines];
        if bytes.is_empty() {
            return;
        }
        let plain = crate::repair::is_plain_lines(bytes);
        let finds_late = self.late;
        // Where the lines skipped since the last one read start, and the last's number.
        let mut skipped: Option<(usize, u64)> = None;
        let mut next = 0;
        let mut start = 0;
        while start < bytes.len() {
            if plain && state.may_skip_run(&self.framer) {
                let first = self.line_no;
                let stage = self.framer.stage();
                let same_machine = state.holds_for(self.repairer.vagrant_machine());
                let mut cursor = next;
                let (used, count) =
                    self.repairer
                        .skip_quiet_run(&bytes[start..], |at, skipped, line| {
                            if state.may_label_run(line) {
                                return true;
                            }
                            let Some(groups) = context_at(context, &mut cursor, base + start + at)
                            else {
                                return false;
                            };
                            if needs_a_check(line) {
                                // Quiet when no check passes, as `Steps::hold` finds.
                                if state.context_may_match(line, groups) {
                                    return true;
                                }
                            } else if !same_machine || !state.may_hold(line) {
                                return true;
                            } else {
                                state.hold_as_is(first + skipped + 1, line, stage, groups);
                            }
                            cursor += 1;
                            false
                        });
                next = cursor;
                if count > 0 {
                    self.line_no += count;
                    if finds_late {
                        skipped = Some((skipped.map_or(start, |(from, _)| from), self.line_no));
                    }
                    self.gated += if gated { count } else { 0 };
                    self.skipped += count;
                    self.framer.skipped(count);
                    start += used;
                    continue;
                }
            }
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let heat = match context_at(context, &mut next, base + start) {
                Some(groups) => {
                    next += 1;
                    Heat::Context(groups)
                }
                None => Heat::Quiet,
            };
            let line = without_cr(&bytes[start..end]);
            if self.skip(line, heat, plain, gated, state, late) {
                if finds_late {
                    skipped = Some((skipped.map_or(start, |(from, _)| from), self.line_no));
                }
            } else {
                if let Some((from, last)) = skipped.take() {
                    let lines = base + from..base + start;
                    state.skipped_late(late, lines, last, &self.framer, &self.repairer);
                }
                self.read(line, state, late);
            }
            start = end + 1;
        }
        if let Some((from, last)) = skipped {
            let lines = base + from..base + bytes.len();
            state.skipped_late(late, lines, last, &self.framer, &self.repairer);
        }
    }

    /// Holds back a clean context line that may be skipped, as the repairer would give
    /// it (see [`RunState::hold`]); `false` when it cannot be held (reading it may change
    /// some state: it holds a `[`, which may open a timestamp or level, or the repairer
    /// would drop or learn from it), and must be read now.
    ///
    /// Most context lines hold none of `[`, `~` and `{`, and do not start as Vagrant's
    /// `==> `: those are held as they are, unchecked. They can be, whatever their
    /// checks would say: the repairer drops only fences (of backticks, which a clean
    /// line does not hold, or of `~`) and learns only from Vagrant's lines, and a Cloud
    /// error entry starts with `{`. The others are judged in full, after their context
    /// checks (a line on which none passes is quiet, as the gate found before it left
    /// the checks to the reader).
    fn hold(&mut self, bytes: &[u8], groups: u64, state: &mut RunState<'_>) -> bool {
        if needs_a_check(bytes) {
            if !state.context_may_match(bytes, groups) {
                return true;
            }
            if memchr::memchr(b'[', bytes).is_some() {
                return false;
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                return false;
            };
            let Some(text) = self.repairer.lone_text(text) else {
                return false;
            };
            if CloudErrorEntry::parse(text).is_some() {
                return false;
            }
        }
        state.hold(
            self.line_no,
            bytes,
            self.framer.stage(),
            groups,
            self.repairer.vagrant_machine(),
        );
        true
    }

    /// Judges the gate once [`GATE_TRIAL_LINES`] lines were read with it: whether it
    /// costs more than it saves here (fewer than a quarter of them were skipped: the
    /// gate's search and checks cost about a fifth of reading a line, and a log whose
    /// quiet lines sit in exception boxes or look wrapped skips few). `None` before the
    /// trial ends, and after the gate was judged.
    fn judge_gate(&mut self) -> Option<bool> {
        if self.judged || self.gated < GATE_TRIAL_LINES {
            return None;
        }
        self.judged = true;
        Some(self.skipped * 4 < self.gated)
    }

    fn feed(&mut self, state: &mut RunState<'_>, late: Late<'_>) {
        feed(
            &mut self.framer,
            state,
            &mut self.repairer,
            &mut self.repaired,
            (self.runs, late),
        );
    }

    fn finish(&mut self, state: &mut RunState<'_>) {
        state.read_held();
        self.repairer.finish(&mut self.repaired);
        self.feed(state, Late::default());
    }
}

/// Whether a clean context line must be checked before it is held (see [`Steps::hold`]):
/// it holds a `[`, `~` or `{`, or starts as Vagrant's `==> `.
fn needs_a_check(line: &[u8]) -> bool {
    memchr::memchr3(b'[', b'~', b'{', line).is_some() || line.starts_with(b"==> ")
}

/// The groups of the context line that starts at `at`, when `context[*cursor..]` (where
/// context lines start, in order) has one there; `cursor` first passes those before it.
fn context_at(context: &[(usize, Heat)], cursor: &mut usize, at: usize) -> Option<u64> {
    while context.get(*cursor).is_some_and(|&(start, _)| start < at) {
        *cursor += 1;
    }
    match context.get(*cursor) {
        Some(&(start, Heat::Context(groups))) if start == at => Some(groups),
        _ => None,
    }
}

/// Raw lines passed from the reading thread to the working one, in one buffer, with
/// where the gate found the lines that are not quiet, or not yet.
#[derive(Default)]
struct RawBatch {
    /// Whole lines, each ended by `\n` (a `\r` before it is not part of the line).
    bytes: Vec<u8>,
    /// Where the lines that are not quiet start, in order, and their [`Heat`].
    hot: Vec<(usize, Heat)>,
    /// Where the lines the gate looks at start: those before were read before the gate
    /// was on, and are in `hot` as hot.
    gated_from: usize,
    /// Whether the gate ran over `bytes[gated_from..]` (else the working thread runs it).
    gated: bool,
}

impl RawBatch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.bytes.shrink_to(2 * BATCH_BYTES);
        self.hot.clear();
        self.gated_from = 0;
        self.gated = false;
    }

    /// Adds a line read before the gate was on: it is hot.
    fn push_ungated(&mut self, line: &[u8]) {
        self.hot.push((self.bytes.len(), Heat::Hot));
        self.bytes.extend_from_slice(line);
        self.bytes.push(b'\n');
        self.gated_from = self.bytes.len();
    }

    /// Adds what the gate is to look at: a block of lines, or one line.
    fn push(&mut self, block: Block<'_>) {
        match block {
            Block::Lines(lines) => self.bytes.extend_from_slice(lines),
            Block::Line(line) => {
                self.bytes.extend_from_slice(line);
                self.bytes.push(b'\n');
            }
        }
    }

    /// Runs the gate over the lines read with it on, on whichever thread calls it.
    fn gate(&mut self, gate: &LineGate, scratch: &mut GateScratch, found: &mut Vec<(usize, Heat)>) {
        if self.gated {
            return;
        }
        self.gated = true;
        let from = self.gated_from;
        if from == self.bytes.len() {
            return;
        }
        found.clear();
        gate.hot_lines(&self.bytes[from..], scratch, found);
        self.hot
            .extend(found.iter().map(|&(start, heat)| (from + start, heat)));
    }
}

/// Reads a gated source on two threads: one reads, decodes and (while the other is
/// behind) runs the gate over each buffer of lines; the other does the rest, in order, as
/// [`read_into`] would (held to it by the unit tests below). Memory stays bounded by
/// the batches in flight.
#[cfg(test)]
fn read_gated_in_two<R: io::BufRead + Send>(
    reader: R,
    state: &mut RunState<'_>,
    runs: Runs,
    from: u64,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let lines = LineReader::new(reader);
    read_gated_in_two_from(lines, Steps::new(Some(runs), false), state, from, balance)
}

/// [`read_gated_in_two`] from where `lines` and `steps` are (after a trial on one thread).
///
/// Lines are handed over a reader's buffer at a time (no work per line on the reading
/// thread). Which thread runs the gate over a batch is decided as it is sent: the
/// reading one while the working one has batches waiting, else the working one (the
/// gate is most of the work on a log it pays on). The heats are the same either way.
fn read_gated_in_two_from<R: io::BufRead + Send>(
    mut lines: LineReader<R>,
    mut steps: Steps,
    state: &mut RunState<'_>,
    from: u64,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let signals = &state.rules.signals;
    let waiting = std::sync::atomic::AtomicUsize::new(0);
    let waiting = &waiting;
    let read = move |hand: &Handoff<RawBatch>| {
        let mut batch = RawBatch::default();
        let (mut scratch, mut found) = (GateScratch::default(), Vec::new());
        let mut send = |batch: &mut RawBatch| -> bool {
            // Behind as soon as one batch waits: waiting for a full queue (two) left
            // the working thread gating a third of the batches while this one idled
            // (perf: the threads' shares 54/45 -> 53/46, stdin wall -2-3%).
            let behind = waiting.load(Ordering::Relaxed) >= 1;
            if balance.on_reader(behind) {
                batch.gate(signals.gate(), &mut scratch, &mut found);
            }
            let mut next = hand.spare();
            next.clear();
            waiting.fetch_add(1, Ordering::Relaxed);
            hand.pass(std::mem::replace(batch, next))
        };
        let error = loop {
            // Every line read so far went to `steps` (the trial) or into a batch.
            let line_no = lines.stats().lines + 1;
            let read = if gate_at(Gate::From(from), line_no, signals, false).is_some() {
                lines
                    .next_block()
                    .map(|block| block.map(|block| batch.push(block)))
            } else {
                lines
                    .next_line()
                    .map(|line| line.map(|line| batch.push_ungated(line)))
            };
            match read {
                Ok(Some(())) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
            if batch.bytes.len() >= BATCH_BYTES && !send(&mut batch) {
                break None;
            }
        };
        send(&mut batch);
        (lines.stats(), error)
    };
    let mut found = Vec::new();
    let done = in_two(read, |batch: &mut RawBatch| {
        waiting.fetch_sub(1, Ordering::Relaxed);
        SCRATCH.with_borrow_mut(|scratch| batch.gate(signals.gate(), scratch, &mut found));
        // Not counted as gated: this loop does not turn the gate off, since the work
        // it would save runs on the other thread.
        steps.block(&batch.bytes, None, &batch.hot, false, state);
    });
    steps.finish(state);
    done
}

/// The two ends of the hand-over between [`in_two`]'s threads, as the reading one sees
/// them: full batches go, emptied ones come back for reuse.
struct Handoff<B> {
    full: std::sync::mpsc::SyncSender<B>,
    empty: std::sync::mpsc::Receiver<B>,
}

impl<B: Default> Handoff<B> {
    /// A batch given back by the working thread, or a new one.
    fn spare(&self) -> B {
        self.empty.try_recv().unwrap_or_default()
    }

    /// Hands a full batch over; `false` when the working thread is gone.
    fn pass(&self, batch: B) -> bool {
        self.full.send(batch).is_ok()
    }
}

/// Runs `read` on a second thread and `work` on each batch it hands over, here, in order,
/// with at most [`BATCHES_IN_FLIGHT`] batches between them (memory stays bounded).
fn in_two<B: Default + Send>(
    read: impl FnOnce(&Handoff<B>) -> (crate::input::line::LineStats, Option<io::Error>) + Send,
    mut work: impl FnMut(&mut B),
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let (full, full_rx) = std::sync::mpsc::sync_channel::<B>(BATCHES_IN_FLIGHT);
    let (empty_tx, empty) = std::sync::mpsc::channel::<B>();
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || read(&Handoff { full, empty }));
        for mut batch in full_rx {
            work(&mut batch);
            // The reading thread may be gone already; the batch is then dropped.
            let _ = empty_tx.send(batch);
        }
        match reading.join() {
            Ok(done) => done,
            Err(_) => (
                crate::input::line::LineStats::default(),
                Some(io::Error::other("the reading thread stopped unexpectedly")),
            ),
        }
    })
}

/// A line's text: valid UTF-8 (nearly every line) is borrowed; only invalid lines are
/// copied, lossily.
fn line_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A line of a block without the `\r` of its `\r\n`.
fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Frames repaired lines and hands them to the state, splitting runs when asked.
fn feed(
    framer: &mut Framer,
    state: &mut RunState<'_>,
    repairer: &mut Repairer,
    repaired: &mut Vec<RepairedLine>,
    (runs, late): (Option<Runs>, Late<'_>),
) {
    for line in repaired.drain(..) {
        take_line(framer, state, (line.line, &line.text), (runs, late), None);
        // The line's buffer goes back to the repairer: no allocation per line.
        repairer.recycle(line.text);
    }
}

/// Frames one repaired line and hands it to the state, splitting runs when asked.
///
/// `candidates` are the prefilter's for `text` when another thread found them already.
fn take_line(
    framer: &mut Framer,
    state: &mut RunState<'_>,
    (line, text): (u64, &str),
    (runs, late): (Option<Runs>, Late<'_>),
    candidates: Option<&[usize]>,
) {
    if let Some(entry) = CloudErrorEntry::parse(text) {
        entry.feed(line, text, state, (candidates, late));
    } else {
        let record = framer.frame(line, text);
        if let (Some(label), Some(runs)) = (record.new_run.clone(), runs) {
            state.start_run(label, record.line, runs);
        }
        state.take(&record, text, candidates, late);
    }
}

/// Repaired lines passed from the reading thread to the matching one, in one buffer,
/// with the prefilter's candidates for each.
#[derive(Default)]
struct Batch {
    text: String,
    /// Each line's number, and where its text ends in `text` (it starts where the line
    /// before's ends).
    numbers: Vec<u64>,
    ends: Vec<usize>,
    /// Whether the candidates were found yet (see [`read_in_two`]).
    found: bool,
    candidates: Vec<usize>,
    /// Where each line's candidates end in `candidates`.
    candidate_ends: Vec<usize>,
}

impl Batch {
    /// Moves repaired lines into the batch, their buffers back to the repairer.
    fn take(&mut self, repaired: &mut Vec<RepairedLine>, repairer: &mut Repairer) {
        for line in repaired.drain(..) {
            self.text.push_str(&line.text);
            self.numbers.push(line.line);
            self.ends.push(self.text.len());
            repairer.recycle(line.text);
        }
    }

    fn find_candidates(&mut self, signals: &SignalSet) {
        let first = self.numbers.first().copied().unwrap_or(1);
        signals.candidates_of_lines(
            first,
            &self.text,
            &self.ends,
            &mut self.candidates,
            &mut self.candidate_ends,
        );
        self.found = true;
    }

    fn clear(&mut self) {
        self.text.clear();
        // A batch that carried a long line does not keep its memory.
        self.text.shrink_to(BATCH_BYTES);
        self.numbers.clear();
        self.ends.clear();
        self.found = false;
        self.candidates.clear();
        self.candidate_ends.clear();
    }
}

/// Which thread of a two-thread loop does the part of the work either can do: the
/// prefilter's candidates ([`read_in_two`]) or the gate ([`read_gated_in_two`]).
#[derive(Debug, Clone, Copy)]
enum Balance {
    /// The reading thread while batches wait for the working one, else the working one.
    Adaptive,
    /// Always the reading thread (`true`) or always the matching one (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(bool),
}

impl Balance {
    /// Whether the reading thread does the shareable work on the batch it starts, given
    /// whether the working thread is `behind` (has batches waiting).
    fn on_reader(self, behind: bool) -> bool {
        match self {
            Balance::Adaptive => behind,
            Balance::Fixed(on_reader) => on_reader,
        }
    }
}

/// Files smaller than this are read on one thread: starting the second costs more than it
/// saves (a folder of 5,000 small logs took 3x as long on two threads per file).
const TWO_THREADS_FROM: u64 = 1 << 20;

/// Lines per batch: enough to make a hand-over cheap beside the work on them.
const BATCH_LINES: usize = 512;
/// Bytes of text per batch, so that long lines cannot make the batches in flight large:
/// a batch is sent once it holds this much (at most one line more, itself capped).
const BATCH_BYTES: usize = 256 * 1024;
/// Batches in flight between the threads: bounds the memory the hand-over takes.
const BATCHES_IN_FLIGHT: usize = 2;

/// Reads a source on two threads: one reads, decodes and repairs lines, the other frames
/// and matches them. Both halves are the single-threaded loop's, in order, so the result
/// is the same (held to it by the unit tests below); memory stays bounded by the batches
/// in flight.
///
/// Which thread finds a line's prefilter candidates (a quarter of the work) is decided
/// per batch: the reading thread does it while the matching thread has batches waiting,
/// so that neither waits for the other. The candidates are the same either way.
#[cfg(test)]
fn read_in_two<R: io::BufRead + Send>(
    reader: R,
    state: &mut RunState<'_>,
    runs: Runs,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let lines = LineReader::new(reader);
    read_in_two_from(lines, Steps::new(Some(runs), false), state, runs, balance)
}

/// [`read_in_two`] from where `lines` and `steps` are (after a trial on one thread): the
/// repairer goes to the reading thread, the framer stays.
fn read_in_two_from<R: io::BufRead + Send>(
    mut lines: LineReader<R>,
    steps: Steps,
    state: &mut RunState<'_>,
    runs: Runs,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let signals = &state.rules.signals;
    let waiting = std::sync::atomic::AtomicUsize::new(0);
    let waiting = &waiting;
    let Steps {
        mut framer,
        mut repairer,
        mut repaired,
        line_no,
        ..
    } = steps;
    let read = move |hand: &Handoff<Batch>| {
        let mut batch = Batch::default();
        let mut line_no = line_no;
        let send = |batch: &mut Batch| -> bool {
            let mut full = std::mem::replace(batch, hand.spare());
            batch.clear();
            let behind = waiting.fetch_add(1, Ordering::Relaxed) >= 1;
            if balance.on_reader(behind) {
                full.find_candidates(signals);
            }
            hand.pass(full)
        };
        let error = loop {
            match lines.next_line() {
                Ok(Some(bytes)) => {
                    line_no += 1;
                    repairer.push(line_no, &line_text(bytes), &mut repaired);
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
            batch.take(&mut repaired, &mut repairer);
            let full = batch.numbers.len() >= BATCH_LINES || batch.text.len() >= BATCH_BYTES;
            if full && !send(&mut batch) {
                break None;
            }
        };
        repairer.finish(&mut repaired);
        batch.take(&mut repaired, &mut repairer);
        send(&mut batch);
        (lines.stats(), error)
    };
    in_two(read, |batch: &mut Batch| {
        waiting.fetch_sub(1, Ordering::Relaxed);
        if !batch.found {
            batch.find_candidates(signals);
        }
        let (mut text_start, mut candidates_start) = (0, 0);
        for (i, &line) in batch.numbers.iter().enumerate() {
            let (text_end, candidates_end) = (batch.ends[i], batch.candidate_ends[i]);
            let text = &batch.text[text_start..text_end];
            let candidates = &batch.candidates[candidates_start..candidates_end];
            let runs = (Some(runs), Late::default());
            take_line(&mut framer, state, (line, text), runs, Some(candidates));
            (text_start, candidates_start) = (text_end, candidates_end);
        }
    })
}

/// One entry of ece-tools' `var/log/cloud.error.log` (JSON lines, latest deploy only).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudErrorEntry {
    error_code: u32,
    #[serde(default)]
    title: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    suggestion: String,
    #[serde(default, rename = "type")]
    kind: String,
}

impl CloudErrorEntry {
    /// Reads a line as an entry, cheaply rejecting every other line first.
    fn parse(text: &str) -> Option<CloudErrorEntry> {
        if !text.starts_with('{') || !text.contains("\"errorCode\"") {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// Turns the entry into a record, as if ece-tools had logged `LEVEL: [code] title`.
    fn feed(
        &self,
        line: u64,
        text: &str,
        state: &mut RunState<'_>,
        (candidates, late): (Option<&[usize]>, Late<'_>),
    ) {
        let level = match self.kind.as_str() {
            "warning" => Level::Warning,
            _ => Level::Error,
        };
        let stage = match self.stage.as_str() {
            "build" => Some(Stage::Build),
            "deploy" => Some(Stage::Deploy),
            "post-deploy" => Some(Stage::PostDeploy),
            _ => None,
        };
        let record = Record {
            line,
            envelope: Envelope {
                indent: 0,
                prefix: None,
                timestamp: None,
                level: Some(level),
                code: Some(self.error_code),
                header: None,
                message: &self.title,
            },
            stage,
            exception: None,
            continues_ece: false,
            new_run: None,
        };
        state.take(&record, text, candidates, late);
        if !self.suggestion.is_empty() {
            state.attach_suggestion(&self.suggestion);
        }
    }
}

/// A context signal's latest match, with what its event needs.
#[derive(Debug, Default)]
struct Pending {
    signal: usize,
    pattern: usize,
    line: u64,
    text: String,
    message: String,
    level: Option<Level>,
    code: Option<u32>,
    stage: Option<Stage>,
    exception: Option<std::rc::Rc<str>>,
    /// ece-tools suggestion lines attached to it, joined by spaces.
    suggestion: String,
}

impl Pending {
    /// Makes this the match of `pattern` of `signal` on `record` (line text `text`),
    /// reusing the buffers.
    fn set(&mut self, signal: usize, pattern: usize, record: &Record<'_>, text: &str) {
        self.signal = signal;
        self.pattern = pattern;
        self.line = record.line;
        self.text.clear();
        self.text.push_str(text);
        self.message.clear();
        self.message.push_str(record.envelope.message);
        self.level = record.envelope.level;
        self.code = record.envelope.code;
        self.stage = record.stage;
        self.exception.clone_from(&record.exception);
        self.suggestion.clear();
    }

    fn attach(&mut self, message: &str) {
        if !self.suggestion.is_empty() {
            self.suggestion.push(' ');
        }
        self.suggestion.push_str(message);
    }

    /// Keeps the match for good, in `deferred`.
    fn commit(&self, signals: &SignalSet, deferred: &mut Deferred) {
        let record = Record {
            line: self.line,
            envelope: Envelope {
                indent: 0,
                prefix: None,
                timestamp: None,
                level: self.level,
                code: self.code,
                header: None,
                message: &self.message,
            },
            stage: self.stage,
            exception: self.exception.clone(),
            continues_ece: false,
            new_run: None,
        };
        deferred.push(signals, (self.signal, self.pattern), &record, &self.text);
        if !self.suggestion.is_empty() {
            deferred.attach_suggestion(self.signal, &self.suggestion);
        }
    }
}

/// The events and hints of the run being read, and the reports of finished runs.
struct RunState<'r> {
    rules: &'r RuleSet,
    name: String,
    events: Events,
    hints: Vec<(u32, Hint)>,
    /// Signals that matched the last ece-tools line, to attach its suggestion to.
    ece_signals: Vec<usize>,
    /// The matches of the line being read: (signal, pattern).
    matched: Vec<(usize, usize)>,
    /// The run's matches, made into events only when the run is reported.
    deferred: Deferred,
    /// Each context signal's latest match, not kept yet (see [`RunState::hold_context`]).
    pending: Vec<Pending>,
    /// The line of the latest event of a signal read in `when` (0: none yet).
    last_primary: u64,
    /// Clean context lines not read yet, oldest first (see [`RunState::hold`]), their
    /// raw bytes one after the other in `held_bytes`, and the Vagrant machine the
    /// repairer knew when they were held (their text depends on it).
    held: Vec<HeldLine>,
    held_bytes: Vec<u8>,
    held_machine: Option<String>,
    /// The caches of the context checks run on held lines ([`SignalSet::context_may_match`])
    /// and on those found late ([`RunState::read_late_context`]).
    checks: GateScratch,
    /// What the backward search for context lines reuses: its gates' scratch, the lines
    /// it found in a chunk, and the signals matched.
    late_scratch: GateScratch,
    late_found: Vec<(usize, Heat)>,
    late_taken: Vec<usize>,
    /// Whether the skipped lines' search waits until a line needs what it finds (see
    /// [`RunState::skipped_late`]), and the skipped lines that wait.
    defer_late: bool,
    late_owed: Vec<LateStretch>,
    /// How many skipped lines' bytes were searched for context lines (for the tests).
    late_searched: u64,
    /// The prefilter's candidate patterns for the line being matched (reused).
    candidates: Vec<usize>,
    run_label: Option<String>,
    run_first_line: u64,
    runs_seen: usize,
    finished: Vec<SourceReport>,
}

impl<'r> RunState<'r> {
    fn new(rules: &'r RuleSet, name: String) -> Self {
        RunState {
            rules,
            // A file name can hold a secret (`password=hunter2.log`); it is printed.
            name: crate::mask::mask(&name).into_owned(),
            events: Events::new(rules.signals.signals().len()),
            hints: Vec::new(),
            ece_signals: Vec::new(),
            matched: Vec::new(),
            deferred: Deferred::new(rules.signals.signals().len()),
            pending: Vec::new(),
            last_primary: 0,
            held: Vec::new(),
            held_bytes: Vec::new(),
            held_machine: None,
            checks: GateScratch::default(),
            late_scratch: GateScratch::default(),
            late_found: Vec::new(),
            late_taken: Vec::new(),
            defer_late: false,
            late_owed: Vec::new(),
            late_searched: 0,
            candidates: Vec::new(),
            run_label: None,
            run_first_line: 1,
            runs_seen: 0,
            finished: Vec::new(),
        }
    }

    /// Whether a line that holds no gate literal (and that the repairer let pass) may be
    /// skipped: it cannot open a box, start a run or match, so it matters only while a box
    /// is open, while it would be a suggestion for signals that matched the ece-tools line
    /// before it (when some rule reads suggestions: [`RuleSet::reads_suggestions`]), or,
    /// before the run has a label, when it may carry the first timestamp.
    ///
    /// A suggestion line skipped leaves the framer counting it as one still to come: a
    /// later line may then be taken as part of the suggestion, which only the
    /// `suggestion` field shows, and earlier reading of held lines, which gives the
    /// same matches ([`RunState::read_held`] keeps the newest of each signal).
    fn may_skip(&self, framer: &Framer, line: &[u8]) -> bool {
        self.may_skip_run(framer) && !self.may_label_run(line)
    }

    /// Whether `line` may carry the run's first timestamp: the run has no label yet and
    /// the line holds a `[`.
    fn may_label_run(&self, line: &[u8]) -> bool {
        self.run_label.is_none() && memchr::memchr(b'[', line).is_some()
    }

    /// [`RunState::may_skip`] but for the line's `[`: what holds for every line of a run
    /// of quiet lines, since skipping one changes none of it.
    fn may_skip_run(&self, framer: &Framer) -> bool {
        !framer.in_box()
            && (!framer.reads_suggestion()
                || self.ece_signals.is_empty()
                || !self.rules.reads_suggestions)
    }

    /// Matches a framed line; `candidates` are the prefilter's for `text` when they were
    /// found already.
    fn take(
        &mut self,
        record: &Record<'_>,
        text: &str,
        candidates: Option<&[usize]>,
        late: Late<'_>,
    ) {
        if self.run_label.is_none() || record.continues_ece {
            // The held lines may give the run its label, or change what a suggestion
            // is attached to; so may the context lines owed by skipped lines.
            self.flush_late(late);
            self.read_held();
        }
        if self.run_label.is_none() {
            self.run_label = record.envelope.timestamp.map(str::to_owned);
        }
        self.matched.clear();
        let signals = &self.rules.signals;
        self.candidates.clear();
        match candidates {
            Some(found) => self.candidates.extend_from_slice(found),
            None => signals.line_candidates(record.line, text, &mut self.candidates),
        }
        let looks_like_error =
            signals.matches_candidates(record, text, &mut self.candidates, &mut self.matched);
        let owes = !self.held.is_empty() || !self.late_owed.is_empty();
        let needs_context = owes
            && self
                .matched
                .iter()
                .any(|&(s, _)| signals.is_read_in_when(s) || signals.is_context(s));
        if needs_context || (owes && looks_like_error && self.matched.is_empty()) {
            // A match some rule reads: the context before it must be known first. (And
            // a hint: the context lines before it are taken before it, as they come.)
            let matched = std::mem::take(&mut self.matched);
            self.flush_late(late);
            if needs_context {
                self.read_held();
            }
            self.matched = matched;
        }
        if record.continues_ece {
            self.attach_suggestion(record.envelope.message);
        } else if record.envelope.level.is_some() {
            self.ece_signals.clear();
            self.ece_signals
                .extend(self.matched.iter().map(|&(s, _)| s));
        }
        if self.matched.is_empty() && looks_like_error {
            self.consider_hint(record.line, text);
        }
        for i in 0..self.matched.len() {
            let found = self.matched[i];
            if signals.is_context(found.0) {
                self.hold_context(found, record, text);
            } else {
                self.deferred.push(signals, found, record, text);
                if signals.is_read_in_when(found.0) {
                    self.last_primary = self.last_primary.max(record.line);
                }
            }
        }
    }

    /// Holds back a clean context line that was skipped (`raw`, its bytes, to be read as
    /// the repairer would give it with Vagrant machine `machine`, in `stage`): only the
    /// last one that matches before a line that changes what the context is needed for
    /// can matter.
    ///
    /// Held lines are read ([`RunState::read_held`]) just before a line that matches a
    /// signal some rule reads, a suggestion line, a line before the run has its label,
    /// a new run, the end, when [`HELD_LINES`] or [`HELD_BYTES`] are held, or when the
    /// Vagrant machine changes: newest first, each only for the context signals (of its
    /// `groups`, see [`SignalSet::context_group`]) that no newer one matched. The older
    /// matches would only have been replaced as their signal's latest (see
    /// [`RunState::hold_context`]): the lines read in between changed neither the latest
    /// event read in `when` nor the run.
    fn hold(
        &mut self,
        line: u64,
        raw: &[u8],
        stage: Option<Stage>,
        groups: u64,
        machine: Option<&str>,
    ) {
        if !self.holds_for(machine) {
            self.read_held();
            self.held_machine = machine.map(str::to_owned);
        } else if !self.may_hold(raw) {
            self.read_held();
        }
        self.hold_as_is(line, raw, stage, groups);
    }

    /// [`RunState::hold`] when [`RunState::holds_for`] the repairer's machine and
    /// [`RunState::may_hold`] `raw`: nothing is read.
    fn hold_as_is(&mut self, line: u64, raw: &[u8], stage: Option<Stage>, groups: u64) {
        let start = self.held_bytes.len();
        self.held_bytes.extend_from_slice(raw);
        self.held.push(HeldLine {
            line,
            raw: start..self.held_bytes.len(),
            stage,
            groups,
        });
    }

    /// Whether lines are held for the Vagrant machine `machine` (the repairer's when
    /// they were held): a line of another must not be held with them.
    fn holds_for(&self, machine: Option<&str>) -> bool {
        self.held_machine.as_deref() == machine
    }

    /// Whether `raw` may be held with the lines held now without reading them (see
    /// [`HELD_LINES`] and [`HELD_BYTES`]).
    fn may_hold(&self, raw: &[u8]) -> bool {
        self.held.is_empty()
            || (self.held.len() < HELD_LINES && self.held_bytes.len() + raw.len() <= HELD_BYTES)
    }

    /// Whether some context pattern of `groups` may match the clean raw line `raw` (see
    /// [`SignalSet::context_may_match`]).
    fn context_may_match(&mut self, raw: &[u8], groups: u64) -> bool {
        let signals = &self.rules.signals;
        self.candidates.clear();
        signals.context_patterns_of(groups, &[], &mut self.candidates);
        let checks = &mut self.checks;
        self.candidates
            .iter()
            .any(|&pattern| signals.context_may_match(pattern, raw, checks))
    }

    /// Forgets the held context lines, at the end of a run: no rule can read them. They
    /// all came after the run's last event of a signal read in `when` (such an event
    /// reads them first, see [`RunState::take`]), and a rule reads a context signal
    /// only as the nearest event at or before its failure. Reading them could not
    /// change the run otherwise: a held line holds no `[`, so no timestamp or level.
    fn drop_held(&mut self) {
        self.held.clear();
        self.held_bytes.clear();
        self.held_bytes.shrink_to(HELD_BYTES);
    }

    /// Reads the held context lines, newest first: each for the signals of its groups
    /// that no newer one matched, until every group that was held is matched (a group
    /// shared by several signals, never). A line is only framed and matched when the
    /// check of one of those signals' patterns passes on it.
    fn read_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.held);
        let bytes = std::mem::take(&mut self.held_bytes);
        let machine = self.held_machine.take();
        let mut wanted = held.iter().fold(0, |all, entry| all | entry.groups);
        let mut taken = Vec::new();
        let mut candidates = Vec::new();
        let signals = &self.rules.signals;
        for entry in held.iter().rev() {
            if wanted == 0 {
                break;
            }
            let raw = &bytes[entry.raw.clone()];
            let groups = entry.groups & wanted;
            wanted &= !self.read_context_line(
                (entry, raw, groups, machine.as_deref()),
                &mut taken,
                &mut candidates,
                |pattern, raw, checks| signals.context_may_match(pattern, raw, checks),
            );
        }
        self.held_machine = machine;
        // Keep the buffers, but not what one long line grew them to.
        self.held = held;
        self.held.clear();
        self.held_bytes = bytes;
        self.held_bytes.clear();
        self.held_bytes.shrink_to(HELD_BYTES);
    }

    /// Owes a search for the context lines among `lines` of the block `late`, whole clean
    /// lines skipped just now, the last of them line `last` (see
    /// [`SignalSet::finds_context_late`]).
    ///
    /// Unless the search is deferred, it runs now ([`RunState::read_late_context`]).
    /// Deferred, it waits for what would read a context line held back (see
    /// [`RunState::read_held`]): a line that matches a signal some rule reads (or a
    /// context signal, or looks like an error), a suggestion line, a line before the run
    /// has its label; or for the end of the block, whose bytes then go
    /// ([`RunState::flush_late`]). A new run first drops what is owed, as it drops the
    /// held lines: no rule of the new run reads them. The lines found are the same, and
    /// read in the same order among the lines that can tell; in a log of many runs, most
    /// runs' skipped lines are never searched.
    fn skipped_late(
        &mut self,
        late: Late<'_>,
        lines: std::ops::Range<usize>,
        last: u64,
        framer: &Framer,
        repairer: &Repairer,
    ) {
        let (stage, machine) = (framer.stage(), repairer.vagrant_machine());
        if self.defer_late {
            let machine = machine.map(str::to_owned);
            self.late_owed.push(LateStretch {
                lines,
                last,
                stage,
                machine,
            });
        } else {
            let lower = late.lower.and_then(|lower| lower.get(lines.clone()));
            self.read_late_now(&late.bytes[lines], lower, last, (stage, machine));
        }
    }

    /// Reads the context lines among `lines`, skipped just now, at once: one search of its
    /// own, for every group (see [`RunState::read_late_context`]).
    fn read_late_now(
        &mut self,
        lines: &[u8],
        lower: Option<&[u8]>,
        last: u64,
        context: (Option<Stage>, Option<&str>),
    ) {
        self.late_taken.clear();
        self.read_late_context(lines, lower, last, context, !0);
    }

    /// Searches the skipped lines of block `late` that owe a search for context lines
    /// ([`RunState::skipped_late`]), newest first: each for the groups no newer one
    /// matched, as one run of skipped lines would be.
    fn flush_late(&mut self, late: Late<'_>) {
        if self.late_owed.is_empty() {
            return;
        }
        let owed = std::mem::take(&mut self.late_owed);
        // One search, over several runs of skipped lines: a signal taken in a newer one
        // is not taken again in an older one.
        self.late_taken.clear();
        let mut wanted = !0;
        for stretch in owed.iter().rev() {
            let (Some(bytes), lower) = (
                late.bytes.get(stretch.lines.clone()),
                late.lower
                    .and_then(|lower| lower.get(stretch.lines.clone())),
            ) else {
                // Owed by another block: never, as each block pays its own at its end.
                continue;
            };
            let context = (stretch.stage, stretch.machine.as_deref());
            wanted &= !self.read_late_context(bytes, lower, stretch.last, context, wanted);
            if wanted == 0 {
                break;
            }
        }
        self.late_owed = owed;
        self.late_owed.clear();
    }

    /// Reads the context lines among `lines`, whole clean lines skipped, the last of them
    /// line `last`, for the context groups of `wanted` and the signals not in
    /// `self.late_taken` (which it adds to); gives the groups it matched. They
    /// are searched backwards ([`crate::gate::context`]) and read as [`RunState::read_held`]
    /// reads held lines: newest first, each for the context signals no newer one matched,
    /// in the stage and with the Vagrant machine of `context` (the framer's and the
    /// repairer's when the lines were skipped: neither changes while lines are skipped).
    /// `lower`: `lines` lowercased, when the gate lowercased them already (the search
    /// need not do it again).
    fn read_late_context(
        &mut self,
        lines: &[u8],
        lower: Option<&[u8]>,
        last: u64,
        (stage, machine): (Option<Stage>, Option<&str>),
        wanted: u64,
    ) -> u64 {
        let signals = &self.rules.signals;
        let search = signals.context_search();
        let mut scratch = std::mem::take(&mut self.late_scratch);
        let mut found = std::mem::take(&mut self.late_found);
        let mut taken = std::mem::take(&mut self.late_taken);
        let mut candidates = Vec::new();
        let mut matched = 0;
        self.late_searched += lines.len() as u64;
        search.newest_first(lines, lower, wanted, &mut scratch, &mut found, |line| {
            let entry = HeldLine {
                line: last + 1 - line.lines_from,
                raw: line.start..line.end,
                stage,
                groups: line.groups,
            };
            let raw = &lines[entry.raw.clone()];
            let groups = self.read_context_line(
                (&entry, raw, line.groups, machine),
                &mut taken,
                &mut candidates,
                |pattern, raw, checks| search.may_match(pattern, raw, checks),
            );
            matched |= groups;
            !groups
        });
        self.late_scratch = scratch;
        self.late_found = found;
        self.late_taken = taken;
        matched
    }

    /// Reads one context line held back or found late, `raw` as the repairer would give
    /// it with Vagrant machine `machine`, for the signals of `groups` not in `taken`:
    /// only when one of their patterns passes its check there (`may_match`, given this
    /// state's check caches). Gives the groups it matched (never the shared one, see
    /// [`crate::signal::SHARED_CONTEXT_GROUP`]), and adds their signals to `taken`.
    fn read_context_line(
        &mut self,
        (entry, raw, groups, machine): (&HeldLine, &[u8], u64, Option<&str>),
        taken: &mut Vec<usize>,
        candidates: &mut Vec<usize>,
        mut may_match: impl FnMut(usize, &[u8], &mut GateScratch) -> bool,
    ) -> u64 {
        let signals = &self.rules.signals;
        candidates.clear();
        signals.context_patterns_of(groups, taken, candidates);
        candidates.retain(|&pattern| may_match(pattern, raw, &mut self.checks));
        // Such lines are ASCII, and their text was known to exist when skipped.
        let Some(text) = (!candidates.is_empty())
            .then(|| std::str::from_utf8(raw).ok())
            .flatten()
            .and_then(|text| crate::repair::lone_text(text, machine))
        else {
            return 0;
        };
        self.take_held(entry, text, candidates);
        let mut matched = 0;
        for &(signal, _) in &self.matched {
            taken.push(signal);
            let group = signals.context_group(signal);
            if group != crate::signal::SHARED_CONTEXT_GROUP {
                matched |= group;
            }
        }
        matched
    }

    /// Takes a line held back as context (see [`RunState::hold`]): it is framed as it would
    /// have been then, in its stage, outside any box, and matched against `candidates`
    /// only: context signals' patterns (the gate found that no other pattern of a signal
    /// some rule reads can match the clean line).
    fn take_held(&mut self, entry: &HeldLine, text: &str, candidates: &[usize]) {
        let record = Record {
            line: entry.line,
            envelope: crate::record::envelope::parse(text),
            stage: entry.stage,
            exception: None,
            continues_ece: false,
            new_run: None,
        };
        self.take(&record, text, Some(candidates), Late::default());
    }

    /// Keeps a context signal's match as the signal's latest; the one it replaces is
    /// kept for good only when an event of a signal read in `when` came at or after it
    /// (for that event, it is the nearest before). Rules read a context signal only as
    /// the nearest event before a failure, so no other one can be read. Events of
    /// signals no rule reads do not count: the gate skips their lines.
    fn hold_context(&mut self, (signal, pattern): (usize, usize), record: &Record<'_>, text: &str) {
        let at = match self.pending.iter().position(|p| p.signal == signal) {
            Some(at) => {
                if self.last_primary >= self.pending[at].line {
                    let done = std::mem::take(&mut self.pending[at]);
                    done.commit(&self.rules.signals, &mut self.deferred);
                    self.pending[at] = done;
                }
                at
            }
            None => {
                self.pending.push(Pending::default());
                self.pending.len() - 1
            }
        };
        self.pending[at].set(signal, pattern, record, text);
    }

    fn attach_suggestion(&mut self, message: &str) {
        for &signal in &self.ece_signals {
            match self.pending.iter_mut().find(|p| p.signal == signal) {
                Some(pending) => pending.attach(message),
                None => self.deferred.attach_suggestion(signal, message),
            }
        }
    }

    /// The run's events, built from the matches held so far.
    fn build_events(&mut self) {
        self.drop_held();
        for pending in self.pending.drain(..) {
            pending.commit(&self.rules.signals, &mut self.deferred);
        }
        self.last_primary = 0;
        self.deferred.build(&self.rules.signals, &mut self.events);
    }

    fn consider_hint(&mut self, line: u64, text: &str) {
        let score = error_likeness(text);
        if score == 0 {
            return;
        }
        let worst = self.hints.iter().map(|(s, _)| *s).min().unwrap_or(0);
        if self.hints.len() >= HINTS && score <= worst {
            return;
        }
        let hint = Hint {
            line,
            // Mask before cutting: a secret cut at the limit is no longer recognisable.
            text: mask_cut(text.trim(), HINT_CHARS).into_owned(),
        };
        self.hints.push((score, hint));
        if self.hints.len() > HINTS {
            // Drop the weakest, latest-seen hint so earlier lines win ties.
            if let Some(i) = (0..self.hints.len()).rev().min_by_key(|&i| self.hints[i].0) {
                self.hints.remove(i);
            }
        }
    }

    fn start_run(&mut self, label: String, line: u64, runs: Runs) {
        // The held lines belong to the run that ends here, and no rule can read them; nor
        // can the context lines its skipped lines owe.
        self.drop_held();
        self.late_owed.clear();
        if runs == Runs::All {
            let report = self.report(0, Vec::new());
            self.finished.push(report);
        }
        self.runs_seen += 1;
        self.events.clear();
        self.deferred.clear();
        self.pending.clear();
        self.last_primary = 0;
        self.hints.clear();
        self.ece_signals.clear();
        self.run_label = Some(label);
        self.run_first_line = line;
    }

    fn report(&mut self, lines: u64, notes: Vec<String>) -> SourceReport {
        self.build_events();
        let diagnoses = engine::diagnose(self.rules, &self.events, &self.name);
        let mut hints: Vec<Hint> = if diagnoses.is_empty() {
            self.hints.drain(..).map(|(_, h)| h).collect()
        } else {
            Vec::new()
        };
        hints.sort_by_key(|h| h.line);
        let started = self
            .run_label
            .clone()
            .unwrap_or_else(|| format!("line {}", self.run_first_line));
        SourceReport {
            path: self.name.clone(),
            lines,
            run: Some(RunInfo {
                index: self.runs_seen + 1,
                runs: self.runs_seen + 1,
                started,
                first_line: self.run_first_line,
                skipped: 0,
            }),
            diagnoses,
            hints,
            notes,
            error: None,
        }
    }

    fn finish(mut self, lines: u64, notes: Vec<String>) -> Vec<SourceReport> {
        let mut last = self.report(lines, notes);
        if self.finished.is_empty() {
            match &mut last.run {
                Some(run) if self.runs_seen > 0 => run.skipped = self.runs_seen,
                _ => last.run = None,
            }
            return vec![last];
        }
        let total = self.finished.len() + 1;
        let mut reports = std::mem::take(&mut self.finished);
        reports.push(last);
        for (i, report) in reports.iter_mut().enumerate() {
            report.lines = lines;
            if let Some(run) = &mut report.run {
                run.index = i + 1;
                run.runs = total;
                run.skipped = 0;
            }
        }
        reports
    }
}

// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static ERROR_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(ERROR_WORDS)
        .expect("constant patterns build")
});

/// How much a line looks like an error: the number of error words in it.
fn error_likeness(text: &str) -> u32 {
    ERROR_AUTOMATON.find_iter(text).count().min(10) as u32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The single-threaded loop, reading every line: what [`read_in_two`] must equal.
    fn one_thread(rules: &RuleSet, source: Source, runs: Runs) -> (Vec<SourceReport>, bool) {
        let mut state = RunState::new(rules, source.name.clone());
        let mut lines = LineReader::new(source.reader);
        let error = read_into(&mut lines, &mut state, Some(runs), Gate::Off);
        (
            state.finish(lines.stats().lines, Vec::new()),
            error.is_some(),
        )
    }

    const BALANCES: [Balance; 3] = [
        Balance::Adaptive,
        Balance::Fixed(true),
        Balance::Fixed(false),
    ];

    fn two_threads(
        rules: &RuleSet,
        source: Source,
        runs: Runs,
        balance: Balance,
    ) -> (Vec<SourceReport>, bool) {
        let mut state = RunState::new(rules, source.name.clone());
        let (stats, error) = read_in_two(source.reader, &mut state, runs, balance);
        (state.finish(stats.lines, Vec::new()), error.is_some())
    }

    fn gated_in_two(
        rules: &RuleSet,
        source: Source,
        runs: Runs,
        from: u64,
        balance: Balance,
    ) -> (Vec<SourceReport>, bool) {
        let mut state = RunState::new(rules, source.name.clone());
        let (stats, error) = read_gated_in_two(source.reader, &mut state, runs, from, balance);
        (state.finish(stats.lines, Vec::new()), error.is_some())
    }

    /// Reads `text` on one thread and on two with every balance, gated or not (from the
    /// first line and from a later one), asserts the same reports, and returns the
    /// one-thread result.
    fn same_in_two(rules: &RuleSet, text: &[u8], runs: Runs) -> (Vec<SourceReport>, bool) {
        let one = one_thread(rules, source(text.to_vec()), runs);
        for balance in BALANCES {
            let two = two_threads(rules, source(text.to_vec()), runs, balance);
            assert_eq!(format!("{one:?}"), format!("{two:?}"), "{balance:?}");
        }
        for from in [1, 700] {
            for balance in BALANCES {
                let gated = gated_in_two(rules, source(text.to_vec()), runs, from, balance);
                assert_eq!(
                    format!("{one:?}"),
                    format!("{gated:?}"),
                    "gated from line {from}, {balance:?}"
                );
            }
            let gated = gated_one_thread(rules, source(text.to_vec()), runs, from);
            assert_eq!(
                format!("{one:?}"),
                format!("{gated:?}"),
                "one thread gated from line {from}"
            );
            let mut state = RunState::new(rules, "t.log".into());
            let (stats, error) = read_large(
                source(text.to_vec()).reader,
                &mut state,
                runs,
                Gate::From(from),
            );
            let large = (state.finish(stats.lines, Vec::new()), error.is_some());
            assert_eq!(
                format!("{one:?}"),
                format!("{large:?}"),
                "large from line {from}"
            );
        }
        one
    }

    /// Reads `text` every way [`same_in_two`] does and gives the evidence texts of its
    /// `network-dns-failed` diagnosis (which must be there).
    fn dns_evidence(rules: &RuleSet, text: &str) -> Vec<String> {
        let (reports, _) = same_in_two(rules, text.as_bytes(), Runs::All);
        let dns = reports[0]
            .diagnoses
            .iter()
            .find(|d| d.rule == "network-dns-failed")
            .unwrap_or_else(|| panic!("{reports:?}"));
        dns.evidence.iter().map(|e| e.text.clone()).collect()
    }

    fn source(bytes: Vec<u8>) -> Source {
        Source::from_reader("t.log".into(), std::io::Cursor::new(bytes)).unwrap()
    }

    /// The shipped rules with context lines found as they come, held back one by one (as
    /// when a rule reads suggestions), not searched for late.
    fn forward_rules() -> RuleSet {
        let mut rules = RuleSet::embedded().unwrap();
        rules.signals = rules.signals.with_context_late(false).unwrap();
        assert!(!rules.signals.finds_context_late());
        rules
    }

    /// Every shipped sample, concatenated many times: thousands of lines, several runs,
    /// exception boxes and wrapped lines across batch boundaries.
    fn long_log() -> Vec<u8> {
        let mut names: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let mut text = Vec::new();
        for round in 0..20 {
            for name in &names {
                text.extend(std::fs::read(name).unwrap());
                text.extend(format!("filler line {round} between samples\n").as_bytes());
            }
        }
        text
    }

    /// The one-thread loop with the gate from line `from` (it may turn the gate off).
    fn gated_one_thread(
        rules: &RuleSet,
        source: Source,
        runs: Runs,
        from: u64,
    ) -> (Vec<SourceReport>, bool) {
        let mut state = RunState::new(rules, source.name.clone());
        let mut lines = LineReader::new(source.reader);
        let error = read_into(&mut lines, &mut state, Some(runs), Gate::From(from));
        (
            state.finish(lines.stats().lines, Vec::new()),
            error.is_some(),
        )
    }

    /// A long build log of mostly quiet lines, with a refusal near its end: the gate
    /// pays, so it stays on, and a large source goes on gated on two threads.
    #[test]
    fn a_gate_that_pays_is_kept_past_the_trial() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
        for i in 0..30_000 {
            text.push_str(match i % 3 {
                0 => "Module 'Magento_Catalog':\n",
                1 => "frontend/Magento/luma/en_US  1724/1724  ==== 100%\n",
                _ => "Nothing to import.\n",
            });
        }
        text.push_str("    W:   - Downloading magento/module-rma (101.0.6)\n");
        text.push_str("    W:   The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-101.0.6.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n");
        let mut state = RunState::new(&rules, "t.log".into());
        let mut lines = LineReader::new(source(text.clone().into_bytes()).reader);
        let (_, gate) = read_into_gating(&mut lines, &mut state, Some(Runs::All), Gate::From(1));
        assert_eq!(gate, Gate::From(1), "the gate was turned off");
        let one = same_in_two(&rules, text.as_bytes(), Runs::All);
        assert!(!one.0[0].diagnoses.is_empty(), "{one:?}");
    }

    /// Composer's `Downloading` lines are context (read only in `also`): a failure's
    /// evidence holds the last one before it, however many came before (more than a run
    /// keeps events of one signal), and not one that only looks like it. Context lines
    /// after a failure must not replace the one it needs.
    #[test]
    fn a_failure_shows_the_nearest_context_line_however_many_came_before() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
        for i in 0..3_000 {
            text.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
            text.push_str("Nothing to import.\n");
        }
        // Passes the gate's relaxed check, but the message does not start with the verb.
        text.push_str("note: Downloading acme/decoy (9.9.9)\n");
        text.push_str("Could not resolve host: repo.example.com\n");
        for i in 0..50 {
            text.push_str(&format!("  - Downloading acme/after-{i} (2.0.{i})\n"));
        }
        let evidence = dns_evidence(&rules, &text);
        assert!(
            evidence
                .iter()
                .any(|e| e == "- Downloading acme/module-2999 (1.0.2999)"
                    || e == "Downloading acme/module-2999 (1.0.2999)"),
            "{evidence:?}"
        );
        assert!(
            !evidence
                .iter()
                .any(|e| e.contains("decoy") || e.contains("after-"))
        );
    }

    /// Context lines held in a run of quiet lines are read when [`HELD_LINES`] are held,
    /// as those held one by one are: what is held stays bounded.
    #[test]
    fn context_lines_held_in_a_run_stay_bounded() {
        let rules = forward_rules();
        let mut state = RunState::new(&rules, "input.log".into());
        let mut steps = Steps::new(Some(Runs::Latest), false);
        steps.line(
            b"[2024-06-02 03:25:50] INFO: Starting build.",
            Heat::Hot,
            true,
            &mut state,
            Late::default(),
        );
        let mut block = String::new();
        for i in 0..300 {
            block.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
        }
        let mut hot = Vec::new();
        rules
            .signals
            .gate()
            .hot_lines(block.as_bytes(), &mut GateScratch::default(), &mut hot);
        assert_eq!(hot.len(), 300);
        steps.block(block.as_bytes(), None, &hot, true, &mut state);
        assert!(steps.skipped >= 290, "{}", steps.skipped);
        assert!(!state.held.is_empty() && state.held.len() <= HELD_LINES);
        assert!(state.held_bytes.len() <= HELD_BYTES);
        assert_eq!(
            state.held.last().map(|held| held.line),
            Some(301),
            "the newest is held with its own line number"
        );
    }

    /// With the shipped rules (none reads a suggestion) the gate leaves Composer's lines
    /// quiet: nothing is held, and the newest of a run of them is searched for and read
    /// when the run ends, with its own line number.
    #[test]
    fn context_lines_are_found_late_in_a_run_of_skipped_lines() {
        let rules = RuleSet::embedded().unwrap();
        assert!(rules.signals.finds_context_late());
        let mut state = RunState::new(&rules, "input.log".into());
        let mut steps = Steps::new(Some(Runs::Latest), true);
        steps.line(
            b"[2024-06-02 03:25:50] INFO: Starting build.",
            Heat::Hot,
            true,
            &mut state,
            Late::default(),
        );
        let mut block = String::new();
        for i in 0..300 {
            block.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
        }
        block.push_str("Nothing to import.\n");
        let mut hot = Vec::new();
        rules.signals.gate_for(true).hot_lines(
            block.as_bytes(),
            &mut GateScratch::default(),
            &mut hot,
        );
        assert_eq!(hot, []);
        steps.block(block.as_bytes(), None, &hot, true, &mut state);
        assert!(steps.skipped >= 290, "{}", steps.skipped);
        assert!(state.held.is_empty());
        let read: Vec<(u64, &str)> = state
            .pending
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(read, [(301, "Downloading acme/module-299 (1.0.299)")]);
    }

    /// Deferred, the skipped lines of a run that ends before any line needs its context
    /// are never searched; the context a failure needs is the same as searched at once.
    #[test]
    fn skipped_lines_are_searched_for_context_only_when_a_line_needs_it() {
        let rules = RuleSet::embedded().unwrap();
        let mut block = String::new();
        for run in 0..20 {
            block.push_str(&format!(
                "[2024-06-02 03:{run:02}:50] INFO: Starting build.\n"
            ));
            for i in 0..50 {
                block.push_str(&format!("  - Downloading acme/run{run}-{i} (1.0.{i})\n"));
            }
        }
        // An ece-tools line: no suggestion line, so only its match calls for the context.
        block.push_str("[2024-06-02 03:19:59] WARNING: Warning from repo.magento.com: You haven't provided your Magento authentication keys.\n");
        block.push_str("  - Downloading acme/after (1.0.0)\n");
        let read = |defer: bool| {
            let mut state = RunState::new(&rules, "input.log".into());
            state.defer_late = defer;
            let mut steps = Steps::new(Some(Runs::Latest), true);
            let mut hot = Vec::new();
            rules.signals.gate_for(true).hot_lines(
                block.as_bytes(),
                &mut GateScratch::default(),
                &mut hot,
            );
            steps.block(block.as_bytes(), None, &hot, true, &mut state);
            assert!(state.late_owed.is_empty(), "a block pays what it owes");
            let searched = state.late_searched;
            let reports = state.finish(steps.line_no, Vec::new());
            (searched, serde_json::to_string(&reports).unwrap())
        };
        let (all, at_once) = read(false);
        let (few, deferred) = read(true);
        assert_eq!(at_once, deferred);
        // Only the last run's lines, before the failure, are searched.
        assert!(few * 10 < all, "{few} of {all} bytes searched");
        assert!(deferred.contains("acme/run19-49"), "{deferred}");
    }

    /// A batch of blocks, gated at once, gives each line the heat the gate gives it on its
    /// own: the line gathered across reads (appended with a `\n`) and the `\r\n` lines
    /// included; lines read before the gate was on stay hot.
    #[test]
    fn a_gated_batch_gives_every_line_its_own_heat() {
        let rules = forward_rules();
        let gate = rules.signals.gate();
        let mut text = long_log();
        text.extend_from_slice(b"  - Downloading acme/crlf (1.0.0)\r\nNothing to import.\r\n");
        text.extend(std::iter::repeat_n(b'x', 5000));
        text.extend_from_slice(b" error\n  - Downloading acme/last (1.0.0)");
        let reader = io::BufReader::with_capacity(4096, &text[..]);
        let mut lines = LineReader::new(reader);
        let mut batch = RawBatch::default();
        let mut each = Vec::new();
        let mut scratch = GateScratch::default();
        for _ in 0..3 {
            let line = lines.next_line().unwrap().unwrap();
            each.push(Heat::Hot);
            batch.push_ungated(line);
        }
        while let Some(block) = lines.next_block().unwrap() {
            match block {
                Block::Lines(bytes) => each.extend(
                    bytes
                        .split(|&b| b == b'\n')
                        .take(memchr::memchr_iter(b'\n', bytes).count())
                        .map(|line| gate.heat(without_cr(line), &mut scratch)),
                ),
                Block::Line(line) => each.push(gate.heat(line, &mut scratch)),
            }
            batch.push(block);
        }
        batch.gate(gate, &mut GateScratch::default(), &mut Vec::new());
        let mut heats = vec![Heat::Quiet; each.len()];
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', &batch.bytes).map(|i| i + 1))
            .collect();
        for &(start, heat) in &batch.hot {
            heats[starts.binary_search(&start).unwrap()] = heat;
        }
        assert!(each.contains(&Heat::Quiet));
        assert!(each.iter().any(|heat| matches!(heat, Heat::Context(_))));
        assert_eq!(heats, each);
        assert_eq!(lines.stats().lines, each.len() as u64);
    }

    /// A line read between a context line and a failure that matches nothing a rule
    /// reads (a hint) does not make the context line read early, and a look-alike after
    /// it does not hide it: the failure still shows the real context line before it.
    #[test]
    fn a_context_line_read_late_is_still_the_nearest() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
        for i in 0..50 {
            text.push_str(&format!("  - Downloading acme/early-{i} (1.0.{i})\n"));
        }
        text.push_str("  - Downloading acme/real (1.0.0)\n");
        text.push_str("note: cannot reuse the cache\n");
        text.push_str("Nothing to import.\n");
        text.push_str("note: Downloading acme/decoy (9.9.9)\n");
        text.push_str("Could not resolve host: repo.example.com\n");
        let evidence = dns_evidence(&rules, &text);
        assert!(
            evidence.iter().any(|e| e.contains("acme/real ")),
            "{evidence:?}"
        );
        assert!(
            !evidence
                .iter()
                .any(|e| e.contains("decoy") || e.contains("early-"))
        );
    }

    /// Two context signals held at once: the newer line (`Downloading`, read first) does
    /// not hide the older one (`composer require`), which is its own signal's
    /// latest; an older line of the newer one's signal stays hidden.
    #[test]
    fn held_lines_of_two_context_signals_are_both_read() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
        // Quiet lines, which the gate skips.
        text.push_str(&"Cache cleared successfully\n".repeat(20));
        text.push_str("composer require acme/extra:1.2.0\n");
        text.push_str("  - Downloading acme/early (1.0.1)\n");
        text.push_str("  - Downloading acme/real (1.0.0)\n");
        text.push_str("Nothing to import.\n");
        text.push_str(
            "Warning from repo.magento.com: You haven't provided your Magento authentication keys.\n",
        );
        let (reports, _) = same_in_two(&rules, text.as_bytes(), Runs::All);
        let keys = reports[0]
            .diagnoses
            .iter()
            .find(|d| d.rule == "repo-keys-missing")
            .unwrap_or_else(|| panic!("{reports:?}"));
        let packages: Vec<&str> = keys.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(packages, ["acme/extra", "acme/real"], "{keys:?}");
    }

    /// Composer 2 lines alternate between `Downloading` (context) and `Installing ...:
    /// Extracting archive` (a signal no rule reads, whose lines the gate skips): the
    /// latter must not make the former kept, or reading every line would keep 1,000 of
    /// them and show a stale one where the gated read shows the nearest.
    #[test]
    fn events_no_rule_reads_do_not_keep_context_lines() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::new();
        for i in 0..1_500 {
            text.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
            text.push_str(&format!(
                "  - Installing acme/module-{i} (1.0.{i}): Extracting archive\n"
            ));
        }
        text.push_str("Could not resolve host: repo.example.com\n");
        let evidence = dns_evidence(&rules, &text);
        assert!(
            evidence.iter().any(|e| e.contains("acme/module-1499 ")),
            "{evidence:?}"
        );
    }

    /// The gate loses on a log of padded lines (never clean, so never skipped), and the
    /// trial ends on a held context line: the loop that reads every line from there on
    /// must still have it for the failure after it.
    #[test]
    fn a_context_line_held_when_the_gate_is_turned_off_is_not_lost() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = String::new();
        for _ in 1..GATE_TRIAL_LINES {
            text.push_str("Nothing to import. \n");
        }
        text.push_str("  - Downloading acme/module-last (1.0.1)\n");
        text.push_str("Could not resolve host: repo.example.com\n");
        let evidence = dns_evidence(&rules, &text);
        assert!(
            evidence.iter().any(|e| e.contains("acme/module-last")),
            "{evidence:?}"
        );
    }

    #[test]
    fn the_gate_is_turned_off_only_when_it_skips_too_few_lines() {
        let mut steps = Steps::new(None, false);
        steps.gated = GATE_TRIAL_LINES - 1;
        assert_eq!(steps.judge_gate(), None, "not judged before the trial ends");
        steps.gated = GATE_TRIAL_LINES + 100;
        steps.skipped = GATE_TRIAL_LINES / 4;
        assert_eq!(steps.judge_gate(), Some(true));
        assert_eq!(steps.judge_gate(), None, "judged once");
        let mut steps = Steps::new(None, false);
        steps.gated = GATE_TRIAL_LINES;
        steps.skipped = GATE_TRIAL_LINES / 4;
        assert_eq!(steps.judge_gate(), Some(false));
    }

    /// The shipped samples over and over: their quiet lines sit near exception boxes and
    /// wide lines, so few can be skipped and the gate is turned off, with the same reports.
    #[test]
    fn turning_the_gate_off_keeps_the_reports() {
        let rules = RuleSet::embedded().unwrap();
        let text = long_log().repeat(2);
        let one = one_thread(&rules, source(text.clone()), Runs::All);
        let mut state = RunState::new(&rules, "t.log".into());
        let mut lines = LineReader::new(source(text).reader);
        let (error, gate) =
            read_into_gating(&mut lines, &mut state, Some(Runs::All), Gate::From(1));
        assert_eq!(gate, Gate::Off, "the gate was kept");
        let gated = (
            state.finish(lines.stats().lines, Vec::new()),
            error.is_some(),
        );
        assert_eq!(format!("{one:?}"), format!("{gated:?}"));
        // A large source goes on two threads after the trial, reading every line.
        same_in_two(&rules, &long_log().repeat(2), Runs::All);
    }

    #[test]
    fn two_threads_give_the_single_threaded_reports() {
        let rules = RuleSet::embedded().unwrap();
        let text = long_log();
        assert!(text.iter().filter(|&&b| b == b'\n').count() > 4 * BATCH_LINES * BATCHES_IN_FLIGHT);
        for runs in [Runs::Latest, Runs::All] {
            let one = same_in_two(&rules, &text, runs);
            assert!(
                !one.0.iter().all(|r| r.diagnoses.is_empty()),
                "the log diagnoses something"
            );
        }
    }

    #[test]
    fn two_threads_report_a_read_error_after_what_was_read() {
        let rules = RuleSet::embedded().unwrap();
        let gzip = crate::input::decode::tests::gzip(&long_log());
        let cut = gzip[..gzip.len() * 2 / 3].to_vec();
        let one = same_in_two(&rules, &cut, Runs::All);
        assert!(one.1, "the truncated gzip is an error");
    }

    /// Long lines fill a batch by bytes before lines: the reports stay the same.
    #[test]
    fn two_threads_give_the_same_reports_on_long_lines() {
        let rules = RuleSet::embedded().unwrap();
        let mut text = Vec::new();
        for i in 0..40 {
            text.extend(
                format!("[2024-01-01 00:00:{i:02}] INFO: {}\n", "x".repeat(100_000)).as_bytes(),
            );
            if i % 7 == 0 {
                text.extend(b"The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-100.4.1.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n");
            }
        }
        assert!(text.len() > 8 * BATCH_BYTES);
        let one = same_in_two(&rules, &text, Runs::Latest);
        assert!(!one.0[0].diagnoses.is_empty(), "{one:?}");
    }

    #[test]
    fn two_threads_read_an_empty_source() {
        let rules = RuleSet::embedded().unwrap();
        same_in_two(&rules, &[], Runs::Latest);
    }
}
