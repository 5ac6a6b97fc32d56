//! Context lines held back or found late, read only when a line needs what they say.

use crate::gate::{GateScratch, Heat};
use crate::record::{Record, Stage};
use crate::signal::SignalSet;

use super::run::Run;
use super::steps::LateBlock;

/// A context line held back: its number, where its raw bytes are in
/// [`HeldContext::bytes`], the stage it was in, and the context groups whose literals
/// the gate found in it.
pub(super) struct HeldLine {
    pub(super) line: u64,
    raw: std::ops::Range<usize>,
    stage: Option<Stage>,
    groups: u64,
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
pub(super) const HELD_LINES: usize = 64;
pub(super) const HELD_BYTES: usize = 64 << 10;

/// The context lines of the run being read that are not read yet: clean lines skipped
/// but held back ([`HeldContext::hold`]), and runs of skipped lines that owe a search
/// for them ([`HeldContext::skipped_late`]). Only the newest context line before a line
/// that needs it can matter, so they are read only then, newest first, and handed back
/// to the [`Run`] to be taken as if they had been read in their place.
pub(super) struct HeldContext<'r> {
    signals: &'r SignalSet,
    /// Clean context lines not read yet, oldest first (see [`HeldContext::hold`]), their
    /// raw bytes one after the other in `bytes`, and the Vagrant machine the repairer
    /// knew when they were held (their text depends on it).
    pub(super) lines: Vec<HeldLine>,
    pub(super) bytes: Vec<u8>,
    machine: Option<String>,
    /// The caches of the context checks run on held lines ([`SignalSet::context_may_match`])
    /// and on those found late ([`HeldContext::read_late_context`]).
    checks: GateScratch,
    /// The context patterns a held line's check runs (reused).
    candidates: Vec<usize>,
    /// What the backward search for context lines reuses: its gates' scratch, the lines
    /// it found in a chunk, and the signals matched.
    late_scratch: GateScratch,
    late_found: Vec<(usize, Heat)>,
    late_taken: Vec<usize>,
    /// Whether the skipped lines' search waits until a line needs what it finds (see
    /// [`HeldContext::skipped_late`]), and the skipped lines that wait.
    pub(super) defer_late: bool,
    late_owed: Vec<LateStretch>,
    /// How many skipped lines' bytes were searched for context lines (for the tests).
    pub(super) late_searched: u64,
}

impl<'r> HeldContext<'r> {
    pub(super) fn new(signals: &'r SignalSet) -> Self {
        HeldContext {
            signals,
            lines: Vec::new(),
            bytes: Vec::new(),
            machine: None,
            checks: GateScratch::default(),
            candidates: Vec::new(),
            late_scratch: GateScratch::default(),
            late_found: Vec::new(),
            late_taken: Vec::new(),
            defer_late: false,
            late_owed: Vec::new(),
            late_searched: 0,
        }
    }

    /// Whether some context line is held, or owed by skipped lines.
    pub(super) fn owes(&self) -> bool {
        !self.lines.is_empty() || !self.late_owed.is_empty()
    }

    /// Holds back a clean context line that was skipped (`raw`, its bytes, to be read as
    /// the repairer would give it with Vagrant machine `machine`, in `stage`): only the
    /// last one that matches before a line that changes what the context is needed for
    /// can matter.
    ///
    /// Held lines are read ([`HeldContext::read_held`]) just before a line that matches a
    /// signal some rule reads, a suggestion line, a line before the run has its label,
    /// a new run, the end, when [`HELD_LINES`] or [`HELD_BYTES`] are held, or when the
    /// Vagrant machine changes: newest first, each only for the context signals (of its
    /// `groups`, see [`SignalSet::context_group`]) that no newer one matched. The older
    /// matches would only have been replaced as their signal's latest (see
    /// [`Run::hold_context`]): the lines read in between changed neither the latest
    /// event read in `when` nor the run.
    pub(super) fn hold(
        &mut self,
        line: u64,
        raw: &[u8],
        stage: Option<Stage>,
        groups: u64,
        machine: Option<&str>,
        run: &mut Run<'_>,
    ) {
        if !self.holds_for(machine) {
            self.read_held(run);
            self.machine = machine.map(str::to_owned);
        } else if !self.may_hold(raw) {
            self.read_held(run);
        }
        self.hold_as_is(line, raw, stage, groups);
    }

    /// [`HeldContext::hold`] when [`HeldContext::holds_for`] the repairer's machine and
    /// [`HeldContext::may_hold`] `raw`: nothing is read.
    pub(super) fn hold_as_is(&mut self, line: u64, raw: &[u8], stage: Option<Stage>, groups: u64) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(raw);
        self.lines.push(HeldLine {
            line,
            raw: start..self.bytes.len(),
            stage,
            groups,
        });
    }

    /// Whether lines are held for the Vagrant machine `machine` (the repairer's when
    /// they were held): a line of another must not be held with them.
    pub(super) fn holds_for(&self, machine: Option<&str>) -> bool {
        self.machine.as_deref() == machine
    }

    /// Whether `raw` may be held with the lines held now without reading them (see
    /// [`HELD_LINES`] and [`HELD_BYTES`]).
    pub(super) fn may_hold(&self, raw: &[u8]) -> bool {
        self.lines.is_empty()
            || (self.lines.len() < HELD_LINES && self.bytes.len() + raw.len() <= HELD_BYTES)
    }

    /// Whether some context pattern of `groups` may match the clean raw line `raw` (see
    /// [`SignalSet::context_may_match`]).
    pub(super) fn context_may_match(&mut self, raw: &[u8], groups: u64) -> bool {
        let signals = self.signals;
        self.candidates.clear();
        signals.context_patterns_of(groups, &[], &mut self.candidates);
        let checks = &mut self.checks;
        self.candidates
            .iter()
            .any(|&pattern| signals.context_may_match(pattern, raw, checks))
    }

    /// Forgets the held context lines, at the end of a run: no rule can read them. They
    /// all came after the run's last event of a signal read in `when` (such an event
    /// reads them first, see [`RunState::take`](super::run::RunState::take)), and a rule reads a context signal
    /// only as the nearest event at or before its failure. Reading them could not
    /// change the run otherwise: a held line holds no `[`, so no timestamp or level.
    pub(super) fn drop_held(&mut self) {
        self.lines.clear();
        self.bytes.clear();
        self.bytes.shrink_to(HELD_BYTES);
    }

    /// Forgets everything held or owed, as a new run starts: no rule of the new run reads
    /// them (see [`HeldContext::drop_held`] and [`HeldContext::skipped_late`]).
    pub(super) fn forget(&mut self) {
        self.drop_held();
        self.late_owed.clear();
    }

    /// Reads the held context lines, newest first: each for the signals of its groups
    /// that no newer one matched, until every group that was held is matched (a group
    /// shared by several signals, never). A line is only framed and matched when the
    /// check of one of those signals' patterns passes on it.
    pub(super) fn read_held(&mut self, run: &mut Run<'_>) {
        if self.lines.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.lines);
        let bytes = std::mem::take(&mut self.bytes);
        let machine = self.machine.take();
        let mut wanted = held.iter().fold(0, |all, entry| all | entry.groups);
        let mut taken = Vec::new();
        let mut candidates = Vec::new();
        let signals = self.signals;
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
                run,
            );
        }
        self.machine = machine;
        // Keep the buffers, but not what one long line grew them to.
        self.lines = held;
        self.lines.clear();
        self.bytes = bytes;
        self.bytes.clear();
        self.bytes.shrink_to(HELD_BYTES);
    }

    /// Owes a search for the context lines among `lines` of the block `late`, whole clean
    /// lines skipped just now, the last of them line `last` (see
    /// [`SignalSet::finds_context_late`]).
    ///
    /// Unless the search is deferred, it runs now ([`HeldContext::read_late_context`]).
    /// Deferred, it waits for what would read a context line held back (see
    /// [`HeldContext::read_held`]): a line that matches a signal some rule reads (or a
    /// context signal, or looks like an error), a suggestion line, a line before the run
    /// has its label; or for the end of the block, whose bytes then go
    /// ([`HeldContext::flush_late`]). A new run first drops what is owed, as it drops the
    /// held lines: no rule of the new run reads them. The lines found are the same, and
    /// read in the same order among the lines that can tell; in a log of many runs, most
    /// runs' skipped lines are never searched.
    pub(super) fn skipped_late(
        &mut self,
        late: LateBlock<'_>,
        lines: std::ops::Range<usize>,
        last: u64,
        (stage, machine): (Option<Stage>, Option<&str>),
        run: &mut Run<'_>,
    ) {
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
            self.read_late_now(&late.bytes[lines], lower, last, (stage, machine), run);
        }
    }

    /// Reads the context lines among `lines`, skipped just now, at once: one search of its
    /// own, for every group (see [`HeldContext::read_late_context`]).
    pub(super) fn read_late_now(
        &mut self,
        lines: &[u8],
        lower: Option<&[u8]>,
        last: u64,
        context: (Option<Stage>, Option<&str>),
        run: &mut Run<'_>,
    ) {
        self.late_taken.clear();
        self.read_late_context(lines, lower, last, context, !0, run);
    }

    /// Searches the skipped lines of block `late` that owe a search for context lines
    /// ([`HeldContext::skipped_late`]), newest first: each for the groups no newer one
    /// matched, as one run of skipped lines would be.
    pub(super) fn flush_late(&mut self, late: LateBlock<'_>, run: &mut Run<'_>) {
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
            wanted &= !self.read_late_context(bytes, lower, stretch.last, context, wanted, run);
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
    /// are searched backwards ([`crate::gate::context`]) and read as [`HeldContext::read_held`]
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
        run: &mut Run<'_>,
    ) -> u64 {
        let signals = self.signals;
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
                run,
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
    ///
    /// The line is handed back to `run` to be taken as it would have been then: in its
    /// stage, outside any box, and matched against those patterns only (the gate found
    /// that no other pattern of a signal some rule reads can match the clean line).
    fn read_context_line(
        &mut self,
        (entry, raw, groups, machine): (&HeldLine, &[u8], u64, Option<&str>),
        taken: &mut Vec<usize>,
        candidates: &mut Vec<usize>,
        mut may_match: impl FnMut(usize, &[u8], &mut GateScratch) -> bool,
        run: &mut Run<'_>,
    ) -> u64 {
        let signals = self.signals;
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
        let record = Record::bare(
            entry.line,
            crate::record::envelope::parse(text),
            entry.stage,
        );
        let mut matched = 0;
        for &(signal, _) in run.take_context(&record, text, candidates) {
            taken.push(signal);
            let group = signals.context_group(signal);
            if group != crate::signal::SHARED_CONTEXT_GROUP {
                matched |= group;
            }
        }
        matched
    }
}
