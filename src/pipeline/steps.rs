//! The per-line steps of one source, in order: repair, framing and matching, with the
//! line gate's skipping of quiet lines.
//!
//! # The skip contract
//!
//! Skipping a quiet line (only counting it) gives the reports that reading it gives.
//! This is why, stated here once; the gate, the repairer, the framer, the signal set and
//! [`Run::may_skip`](super::run::Run) refer to it.
//!
//! 1. **The line is clean.** It is ASCII, holds no byte the repairer acts on and does
//!    not end in whitespace, and no line in the repairer's window can wrap into it
//!    (`Repairer::flush_before_quiet`). The message a signal sees is then a suffix of
//!    the raw line, so the gate's relaxed check of a pattern on the raw line
//!    (`crate::gate`) passes whenever the pattern could match.
//! 2. **It holds no gate literal.** No signal some rule reads can match it, it is no
//!    hint (no error word) and no Cloud error entry (no `"errorCode"`), and it opens no
//!    exception box, starts no stage or run and names no Vagrant machine (every such
//!    line holds one of `crate::record::CONTEXT_WORDS`).
//! 3. **Nothing around it could use it.** No exception box is open (its body lines are
//!    framed one by one); it is no suggestion line that a rule reads (the ece-tools
//!    line before it matched a signal and some rule reads `suggestion`); and it cannot
//!    give the run its label (the run has one, or the line holds no `[`). The framer
//!    only counts it (`Framer::skipped`), the repairer only counts its bytes. A
//!    suggestion line skipped when no rule reads suggestions leaves the framer counting
//!    it as one still to come: only the `suggestion` field, which no rule reads then,
//!    can tell.
//! 4. **A context line is read late, as it would have been.** A line that only a context
//!    signal (read in `also`) may match is held back, or searched for among the lines
//!    skipped, and read just before a line that needs it (see
//!    [`HeldContext`](super::held::HeldContext)): outside any box, in the stage it was in,
//!    with the Vagrant machine then known. By 1 to 3 reading it in its place could change
//!    no more than that. Rules read a context signal only as the nearest event at or
//!    before a failure, so only the newest such line before a line that needs it can
//!    matter, and older ones are only replaced as their signal's latest.

use std::borrow::Cow;

use crate::gate::Heat;
use crate::record::Framer;
use crate::repair::{RepairedLine, Repairer};

use super::Runs;
use super::run::RunState;
use crate::record::cloud_error::CloudErrorEntry;

/// The per-line work after reading: repair, framing and matching, in order.
///
/// Most lines of a deployment log hold nothing any signal, hint or the framer looks for:
/// the gate finds those a buffer at a time, and such a line is only counted when neither
/// the repairer nor the framer could be changed by it (the skip contract, in the module
/// docs).
pub(super) struct LineSteps {
    pub(super) framer: Framer,
    pub(super) repairer: Repairer,
    pub(super) repaired: Vec<RepairedLine>,
    pub(super) line_no: u64,
    pub(super) runs: Option<Runs>,
    /// Lines read with the gate on, and how many of them were skipped.
    pub(super) gated: u64,
    pub(super) skipped: u64,
    /// Whether the gate was judged ([`LineSteps::judge_gate`]).
    pub(super) judged: bool,
    /// Whether context lines are found late: the gate does not find them, and the lines
    /// skipped are searched for them (see [`crate::signal::SignalSet::finds_context_late`]).
    pub(super) late: bool,
}

/// The block of lines being read ([`LineSteps::block`]) while its skipped lines owe a search
/// for context lines (see [`super::held::HeldContext::skipped_late`]): its bytes and, when the gate made
/// it, its lowercase copy. Empty outside a block: nothing is owed then.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LateBlock<'b> {
    pub(super) bytes: &'b [u8],
    pub(super) lower: Option<&'b [u8]>,
}

/// Gated lines after which [`LineSteps::judge_gate`] judges the gate.
pub(super) const GATE_TRIAL_LINES: u64 = 10_000;

impl LineSteps {
    /// `late`: find context lines late, when the rules allow it.
    pub(super) fn new(runs: Option<Runs>, late: bool) -> LineSteps {
        LineSteps {
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
    /// So is a context line, but it is also held back ([`LineSteps::hold`]): only the last
    /// one before a line that is read can matter. When context lines are found late, a
    /// line skipped is searched for them at once ([`super::held::HeldContext::read_late_now`]).
    pub(super) fn line(
        &mut self,
        bytes: &[u8],
        heat: Heat,
        gated: bool,
        state: &mut RunState<'_>,
        late: LateBlock<'_>,
    ) {
        if !self.skip(bytes, heat, false, gated, state, late) {
            self.read(bytes, state, late);
        } else if self.late {
            let (run, held) = (&mut state.run, &mut state.held);
            held.flush_late(late, run);
            let context = (self.framer.stage(), self.repairer.vagrant_machine());
            held.read_late_now(bytes, None, self.line_no, context, run);
        }
    }

    /// Counts the next physical line and skips it when it may (`true`, see
    /// [`LineSteps::line`]); on `false` it must be read ([`LineSteps::read`]) before any other
    /// line. `plain`: the line is known to hold no byte the repairer looks at (see
    /// [`crate::repair::is_plain_lines`]).
    pub(super) fn skip(
        &mut self,
        bytes: &[u8],
        heat: Heat,
        plain: bool,
        gated: bool,
        state: &mut RunState<'_>,
        late: LateBlock<'_>,
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
            if state.run.may_skip(&self.framer, bytes)
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

    /// Reads the line [`LineSteps::skip`] just counted and did not skip.
    pub(super) fn read(&mut self, bytes: &[u8], state: &mut RunState<'_>, late: LateBlock<'_>) {
        self.repairer
            .push(self.line_no, &line_text(bytes), &mut self.repaired);
        self.feed(state, late);
    }

    /// Takes a block of whole lines, each ended by `\n` (see [`crate::input::line::Block::Lines`]), with where
    /// those that are not quiet start and their [`Heat`], in order (the gate's
    /// [`crate::gate::LineGate::hot_lines`]); every other line of it is quiet. `lower`: the block
    /// lowercased, as the gate left it ([`crate::gate::GateScratch::lowered`]), if it did.
    ///
    /// Context lines do not end a run of quiet lines: most of them are held back in it
    /// ([`LineSteps::quiet_lines`]).
    pub(super) fn block(
        &mut self,
        bytes: &[u8],
        lower: Option<&[u8]>,
        hot: &[(usize, Heat)],
        gated: bool,
        state: &mut RunState<'_>,
    ) {
        let late = LateBlock { bytes, lower };
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
        state.held.flush_late(late, &mut state.run);
    }

    /// Takes whole lines, each ended by `\n`, that are quiet but for the context lines
    /// of `context` (where they start, counted from `base` bytes before `bytes`, in order,
    /// as in [`LineSteps::block`]), with `bytes` lowercased when the gate gave them. Whether
    /// they hold a byte the repairer looks at is asked of all of them at once.
    ///
    /// Most of these lines come in runs that the repairer and the framer only count:
    /// the context lines among them that [`LineSteps::hold`] would hold as they are (no byte
    /// that asks for a check, see [`needs_a_check`]) are held in the run, without a call
    /// per line, as long as holding them reads no held line ([`super::held::HeldContext::may_hold`]);
    /// those that ask for a check and fail it are only counted, as `hold` would.
    pub(super) fn quiet_lines(
        &mut self,
        lines: std::ops::Range<usize>,
        late: LateBlock<'_>,
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
            if plain && state.run.may_skip_run(&self.framer) {
                let first = self.line_no;
                let stage = self.framer.stage();
                let same_machine = state.held.holds_for(self.repairer.vagrant_machine());
                let mut cursor = next;
                let (used, count) =
                    self.repairer
                        .skip_quiet_run(&bytes[start..], |at, skipped, line| {
                            if state.run.may_label_run(line) {
                                return true;
                            }
                            let Some(groups) = context_at(context, &mut cursor, base + start + at)
                            else {
                                return false;
                            };
                            if needs_a_check(line) {
                                // Quiet when no check passes, as `LineSteps::hold` finds.
                                if state.held.context_may_match(line, groups) {
                                    return true;
                                }
                            } else if !same_machine || !state.held.may_hold(line) {
                                return true;
                            } else {
                                state
                                    .held
                                    .hold_as_is(first + skipped + 1, line, stage, groups);
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
                    self.skipped_late(late, lines, last, state);
                }
                self.read(line, state, late);
            }
            start = end + 1;
        }
        if let Some((from, last)) = skipped {
            let lines = base + from..base + bytes.len();
            self.skipped_late(late, lines, last, state);
        }
    }

    /// Holds back a clean context line that may be skipped, as the repairer would give
    /// it (see [`super::held::HeldContext::hold`]); `false` when it cannot be held (reading it may change
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
    pub(super) fn hold(&mut self, bytes: &[u8], groups: u64, state: &mut RunState<'_>) -> bool {
        if needs_a_check(bytes) {
            if !state.held.context_may_match(bytes, groups) {
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
        state.held.hold(
            self.line_no,
            bytes,
            self.framer.stage(),
            groups,
            self.repairer.vagrant_machine(),
            &mut state.run,
        );
        true
    }

    /// Owes a search for the context lines among `lines` of block `late`, skipped just
    /// now, the last of them line `last` (see [`super::held::HeldContext::skipped_late`]).
    fn skipped_late(
        &self,
        late: LateBlock<'_>,
        lines: std::ops::Range<usize>,
        last: u64,
        state: &mut RunState<'_>,
    ) {
        let context = (self.framer.stage(), self.repairer.vagrant_machine());
        let (run, held) = (&mut state.run, &mut state.held);
        held.skipped_late(late, lines, last, context, run);
    }

    /// Judges the gate once [`GATE_TRIAL_LINES`] lines were read with it: whether it
    /// costs more than it saves here (fewer than a quarter of them were skipped: the
    /// gate's search and checks cost about a fifth of reading a line, and a log whose
    /// quiet lines sit in exception boxes or look wrapped skips few). `None` before the
    /// trial ends, and after the gate was judged.
    pub(super) fn judge_gate(&mut self) -> Option<bool> {
        if self.judged || self.gated < GATE_TRIAL_LINES {
            return None;
        }
        self.judged = true;
        Some(self.skipped * 4 < self.gated)
    }

    pub(super) fn feed(&mut self, state: &mut RunState<'_>, late: LateBlock<'_>) {
        feed(
            &mut self.framer,
            state,
            &mut self.repairer,
            &mut self.repaired,
            (self.runs, late),
        );
    }

    pub(super) fn finish(&mut self, state: &mut RunState<'_>) {
        state.held.read_held(&mut state.run);
        self.repairer.finish(&mut self.repaired);
        self.feed(state, LateBlock::default());
    }
}

/// Whether a clean context line must be checked before it is held (see [`LineSteps::hold`]):
/// it holds a `[`, `~` or `{`, or starts as Vagrant's `==> `.
pub(super) fn needs_a_check(line: &[u8]) -> bool {
    memchr::memchr3(b'[', b'~', b'{', line).is_some() || line.starts_with(b"==> ")
}

/// The groups of the context line that starts at `at`, when `context[*cursor..]` (where
/// context lines start, in order) has one there; `cursor` first passes those before it.
pub(super) fn context_at(context: &[(usize, Heat)], cursor: &mut usize, at: usize) -> Option<u64> {
    while context.get(*cursor).is_some_and(|&(start, _)| start < at) {
        *cursor += 1;
    }
    match context.get(*cursor) {
        Some(&(start, Heat::Context(groups))) if start == at => Some(groups),
        _ => None,
    }
}

/// A line's text: valid UTF-8 (nearly every line) is borrowed; only invalid lines are
/// copied, lossily.
pub(super) fn line_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A line of a block without the `\r` of its `\r\n`.
pub(super) fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Frames repaired lines and hands them to the state, splitting runs when asked.
pub(super) fn feed(
    framer: &mut Framer,
    state: &mut RunState<'_>,
    repairer: &mut Repairer,
    repaired: &mut Vec<RepairedLine>,
    (runs, late): (Option<Runs>, LateBlock<'_>),
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
pub(super) fn take_line(
    framer: &mut Framer,
    state: &mut RunState<'_>,
    (line, text): (u64, &str),
    (runs, late): (Option<Runs>, LateBlock<'_>),
    candidates: Option<&[usize]>,
) {
    if let Some(entry) = CloudErrorEntry::parse(text) {
        state.take(&entry.record(line), text, candidates, late);
        if let Some(suggestion) = entry.suggestion() {
            state.run.attach_suggestion(suggestion);
        }
    } else {
        let record = framer.frame(line, text);
        if let (Some(label), Some(runs)) = (record.new_run.clone(), runs) {
            state.start_run(label, record.line, runs);
        }
        state.take(&record, text, candidates, late);
    }
}
