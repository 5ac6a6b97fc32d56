//! Context lines held back or found late, read only when a line needs what they say.

use crate::gate::GateScratch;
use crate::record::{Framer, Record, Stage};
use crate::repair::Repairer;

use super::run::RunState;
use super::steps::Late;

/// A context line held back: its number, where its raw bytes are in
/// [`RunState::held_bytes`], the stage it was in, and the context groups whose literals
/// the gate found in it.
pub(super) struct HeldLine {
    pub(super) line: u64,
    pub(super) raw: std::ops::Range<usize>,
    pub(super) stage: Option<Stage>,
    pub(super) groups: u64,
}

/// Skipped lines of the block being read whose context lines are not searched for yet:
/// where they are in the block, the number of the last, and the stage and Vagrant machine
/// they were skipped in.
#[derive(Debug)]
pub(super) struct LateStretch {
    pub(super) lines: std::ops::Range<usize>,
    pub(super) last: u64,
    pub(super) stage: Option<Stage>,
    pub(super) machine: Option<String>,
}

/// The most context lines held back at once, and the most bytes they may hold (a
/// longer line is held alone): when full, they are read.
pub(super) const HELD_LINES: usize = 64;
pub(super) const HELD_BYTES: usize = 64 << 10;

impl RunState<'_> {
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
    pub(super) fn hold(
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
    pub(super) fn hold_as_is(&mut self, line: u64, raw: &[u8], stage: Option<Stage>, groups: u64) {
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
    pub(super) fn holds_for(&self, machine: Option<&str>) -> bool {
        self.held_machine.as_deref() == machine
    }

    /// Whether `raw` may be held with the lines held now without reading them (see
    /// [`HELD_LINES`] and [`HELD_BYTES`]).
    pub(super) fn may_hold(&self, raw: &[u8]) -> bool {
        self.held.is_empty()
            || (self.held.len() < HELD_LINES && self.held_bytes.len() + raw.len() <= HELD_BYTES)
    }

    /// Whether some context pattern of `groups` may match the clean raw line `raw` (see
    /// [`SignalSet::context_may_match`]).
    pub(super) fn context_may_match(&mut self, raw: &[u8], groups: u64) -> bool {
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
    pub(super) fn drop_held(&mut self) {
        self.held.clear();
        self.held_bytes.clear();
        self.held_bytes.shrink_to(HELD_BYTES);
    }

    /// Reads the held context lines, newest first: each for the signals of its groups
    /// that no newer one matched, until every group that was held is matched (a group
    /// shared by several signals, never). A line is only framed and matched when the
    /// check of one of those signals' patterns passes on it.
    pub(super) fn read_held(&mut self) {
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
    pub(super) fn skipped_late(
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
    pub(super) fn read_late_now(
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
    pub(super) fn flush_late(&mut self, late: Late<'_>) {
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
    /// are searched backwards ([`crate::context`]) and read as [`RunState::read_held`]
    /// reads held lines: newest first, each for the context signals no newer one matched,
    /// in the stage and with the Vagrant machine of `context` (the framer's and the
    /// repairer's when the lines were skipped: neither changes while lines are skipped).
    /// `lower`: `lines` lowercased, when the gate lowercased them already (the search
    /// need not do it again).
    pub(super) fn read_late_context(
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
    pub(super) fn read_context_line(
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
    pub(super) fn take_held(&mut self, entry: &HeldLine, text: &str, candidates: &[usize]) {
        let record = Record {
            line: entry.line,
            envelope: crate::envelope::parse(text),
            stage: entry.stage,
            exception: None,
            continues_ece: false,
            new_run: None,
        };
        self.take(&record, text, Some(candidates), Late::default());
    }
}
