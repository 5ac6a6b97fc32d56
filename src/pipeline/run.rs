//! The state of the run being read: its matches, hints and events, and the reports of
//! the runs before it.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::engine;
use crate::mask::mask_cut;
use crate::record::envelope::{Envelope, Level};
use crate::record::{Framer, Record, Stage};
use crate::report::diagnosis::{Hint, RunInfo, Severity, SkippedRun, SourceReport};
use crate::rule::RuleSet;
use crate::signal::Events;
use crate::signal::{Attached, Deferred, ERROR_WORDS, SignalSet, join_suggestion};

use super::held::HeldContext;
use super::steps::LateBlock;
use super::{Observer, RunSeen, RunSink, Runs};

/// How many look-alike error lines a report shows when no rule fired.
pub(super) const HINTS: usize = 5;
/// The most bytes of a hint line shown.
pub(super) const HINT_CHARS: usize = 300;

/// A context signal's latest match, with what its event needs.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) signal: usize,
    pub(super) pattern: usize,
    pub(super) line: u64,
    pub(super) text: String,
    pub(super) message: String,
    pub(super) level: Option<Level>,
    pub(super) code: Option<u32>,
    pub(super) stage: Option<Stage>,
    pub(super) exception: Option<std::rc::Rc<str>>,
    /// ece-tools suggestion lines attached to it, joined by spaces.
    pub(super) suggestion: String,
}

impl Pending {
    /// Makes this the match of `pattern` of `signal` on `record` (line text `text`),
    /// reusing the buffers.
    pub(super) fn set(&mut self, signal: usize, pattern: usize, record: &Record<'_>, text: &str) {
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

    pub(super) fn attach(&mut self, message: &str) {
        join_suggestion(&mut self.suggestion, message);
    }

    /// Keeps the match for good, in `deferred`.
    pub(super) fn commit(&self, signals: &SignalSet, deferred: &mut Deferred) {
        let envelope = Envelope::bare(self.level, self.code, &self.message);
        let record = Record {
            exception: self.exception.clone(),
            ..Record::bare(self.line, envelope, self.stage)
        };
        deferred.push(signals, (self.signal, self.pattern), &record, &self.text);
        if !self.suggestion.is_empty() {
            deferred.attach_suggestion(self.signal, &self.suggestion);
        }
    }
}

/// The state of one source's read: the run being read, and the context lines held
/// back for it.
pub(super) struct RunState<'r> {
    pub(super) run: Run<'r>,
    pub(super) held: HeldContext<'r>,
}

impl<'r> RunState<'r> {
    pub(super) fn new(rules: &'r RuleSet, name: String) -> Self {
        RunState {
            run: Run::new(rules, name),
            held: HeldContext::new(&rules.signals),
        }
    }

    /// A state that shows `observer` each line taken and each run reported.
    pub(super) fn observed(
        rules: &'r RuleSet,
        name: String,
        observer: &'r mut dyn Observer,
    ) -> Self {
        let mut state = RunState::new(rules, name);
        state.run.observer = Some(observer);
        state
    }

    /// A state that hands each finished run's report to `sink` instead of keeping it.
    pub(super) fn streaming(rules: &'r RuleSet, name: String, sink: &'r mut dyn RunSink) -> Self {
        let mut state = RunState::new(rules, name);
        state.run.sink = Some(sink);
        state
    }

    /// Matches a framed line; `candidates` are the prefilter's for `text` when they were
    /// found already. The context lines held back are read first when the line needs
    /// them, and taken before it.
    pub(super) fn take(
        &mut self,
        record: &Record<'_>,
        text: &str,
        candidates: Option<&[usize]>,
        late: LateBlock<'_>,
    ) {
        let (run, held) = (&mut self.run, &mut self.held);
        if run.run_label.is_none() || record.continues_ece {
            // The held lines may give the run its label, or change what a suggestion
            // is attached to; so may the context lines owed by skipped lines.
            held.flush_late(late, run);
            held.read_held(run);
        }
        run.label(record);
        let looks_like_error = run.match_line(record, text, candidates);
        if held.owes() {
            let needs_context = run.needs_context();
            if needs_context || (looks_like_error && run.matched.is_empty()) {
                // A match some rule reads: the context before it must be known first.
                // (And a hint: the context lines before it are taken before it, as they
                // come.)
                let matched = std::mem::take(&mut run.matched);
                held.flush_late(late, run);
                if needs_context {
                    held.read_held(run);
                }
                run.matched = matched;
            }
        }
        run.keep_matches(record, text, looks_like_error);
        // Only `trace` observes: one test per line taken, none per line skipped.
        if let Some(observer) = &mut run.observer {
            observer.line(run.runs_seen + 1, record, text, &run.matched);
        }
    }

    /// Starts a new run at line `line`, labelled `label`: the run before it is reported
    /// (with `Runs::All`) or dropped.
    pub(super) fn start_run(&mut self, label: String, line: u64, runs: Runs) {
        // The held lines belong to the run that ends here, and no rule can read them; nor
        // can the context lines its skipped lines owe.
        self.held.forget();
        self.run.start(label, line, runs);
    }

    /// The run's events, built from the matches held so far.
    pub(super) fn build_events(&mut self) {
        self.held.drop_held();
        self.run.build_events();
    }

    /// The reports of the source: the last run's, and those of the runs before it.
    pub(super) fn finish(
        mut self,
        lines: u64,
        notes: Vec<String>,
        runs: Runs,
    ) -> Vec<SourceReport> {
        self.held.drop_held();
        self.run.finish(lines, notes, runs)
    }
}

/// The events and hints of the run being read, and the reports of finished runs.
pub(super) struct Run<'r> {
    pub(super) rules: &'r RuleSet,
    name: String,
    pub(super) events: Events,
    hints: Vec<(u32, Hint)>,
    /// Signals that matched the last ece-tools line, to attach its suggestion to.
    ece_signals: Vec<usize>,
    /// Signals that matched the header of the exception box being read, to attach the
    /// box's message to.
    box_signals: Vec<usize>,
    /// The matches of the line being read: (signal, pattern).
    matched: Vec<(usize, usize)>,
    /// The run's matches, made into events only when the run is reported.
    deferred: Deferred,
    /// Each context signal's latest match, not kept yet (see [`Run::hold_context`]).
    pub(super) pending: Vec<Pending>,
    /// The line of the latest event of a signal read in `when` (0: none yet).
    last_primary: u64,
    /// The prefilter's candidate patterns for the line being matched (reused).
    candidates: Vec<usize>,
    run_label: Option<String>,
    run_first_line: u64,
    runs_seen: usize,
    /// The reports of the runs before this one (with `Runs::All`), unless `sink` takes them.
    finished: Vec<SourceReport>,
    /// Where each finished run's report goes instead ([`RunState::streaming`]).
    sink: Option<&'r mut dyn RunSink>,
    /// With `Runs::One(-n)`, the reports of the last `n - 1` runs that ended, oldest
    /// first: one of them is the run asked for if the source has no more runs.
    recent: std::collections::VecDeque<SourceReport>,
    /// The runs read but not reported that had errors, in order.
    skipped_with_errors: Vec<SkippedRun>,
    /// What is shown each line and run, if anything ([`RunState::observed`]).
    observer: Option<&'r mut dyn Observer>,
}

impl<'r> Run<'r> {
    fn new(rules: &'r RuleSet, name: String) -> Self {
        Run {
            rules,
            // A file name can hold a secret (`password=hunter2.log`); it is printed.
            name: crate::mask::mask(&name).into_owned(),
            events: Events::new(rules.signals.signals().len()),
            hints: Vec::new(),
            ece_signals: Vec::new(),
            box_signals: Vec::new(),
            matched: Vec::new(),
            deferred: Deferred::new(rules.signals.signals().len()),
            pending: Vec::new(),
            last_primary: 0,
            candidates: Vec::new(),
            run_label: None,
            run_first_line: 1,
            runs_seen: 0,
            finished: Vec::new(),
            sink: None,
            recent: std::collections::VecDeque::new(),
            skipped_with_errors: Vec::new(),
            observer: None,
        }
    }

    /// Whether a line that holds no gate literal (and that the repairer let pass) may be
    /// skipped: no box is open, it is no suggestion a rule reads
    /// ([`RuleSet::reads_suggestions`]), and it cannot give the run its label. Point 3
    /// of the skip contract ([`super::steps`]).
    pub(super) fn may_skip(&self, framer: &Framer, line: &[u8]) -> bool {
        self.may_skip_run(framer) && !self.may_label_run(line)
    }

    /// Whether `line` may carry the run's first timestamp: the run has no label yet and
    /// the line holds a `[`.
    pub(super) fn may_label_run(&self, line: &[u8]) -> bool {
        self.run_label.is_none() && memchr::memchr(b'[', line).is_some()
    }

    /// [`Run::may_skip`] but for the line's `[`: what holds for every line of a run
    /// of quiet lines, since skipping one changes none of it.
    pub(super) fn may_skip_run(&self, framer: &Framer) -> bool {
        !framer.in_box()
            && (!framer.reads_suggestion()
                || self.ece_signals.is_empty()
                || !self.rules.reads_suggestions)
    }

    /// Gives the run the first timestamp it sees as its label.
    fn label(&mut self, record: &Record<'_>) {
        if self.run_label.is_none() {
            self.run_label = record.envelope.timestamp.map(str::to_owned);
        }
    }

    /// Finds the matches of a framed line (into `self.matched`); `candidates` are the
    /// prefilter's for `text` when they were found already. Gives whether the line looks
    /// like an error.
    fn match_line(
        &mut self,
        record: &Record<'_>,
        text: &str,
        candidates: Option<&[usize]>,
    ) -> bool {
        self.matched.clear();
        let signals = &self.rules.signals;
        self.candidates.clear();
        match candidates {
            Some(found) => self.candidates.extend_from_slice(found),
            None => signals.line_candidates(record.line, text, &mut self.candidates),
        }
        signals.matches_candidates(record, text, &mut self.candidates, &mut self.matched)
    }

    /// Whether the line just matched needs the context lines before it known first: it
    /// matched a signal some rule reads, or a context signal.
    fn needs_context(&self) -> bool {
        let signals = &self.rules.signals;
        self.matched
            .iter()
            .any(|&(s, _)| signals.is_read_in_when(s) || signals.is_context(s))
    }

    /// Keeps what the line just matched: its events (or, for a context signal, as the
    /// signal's latest), its suggestion, or a hint when it only looks like an error.
    fn keep_matches(&mut self, record: &Record<'_>, text: &str, looks_like_error: bool) {
        let signals = &self.rules.signals;
        if record.continues_ece {
            self.attach_suggestion(record.envelope.message);
        } else if record.envelope.level.is_some() {
            self.ece_signals.clear();
            self.ece_signals
                .extend(self.matched.iter().map(|&(s, _)| s));
        }
        if record.envelope.header.is_some() {
            self.box_signals.clear();
            self.box_signals.extend(
                self.matched
                    .iter()
                    .map(|&(s, _)| s)
                    .filter(|&s| !signals.is_context(s)),
            );
        } else if record.exception.is_none() {
            self.box_signals.clear();
        } else if !record.envelope.message.is_empty() {
            for &signal in &self.box_signals {
                self.deferred
                    .attach(signal, Attached::BoxMessage, record.envelope.message);
            }
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

    /// Takes a context line a [`HeldContext`] hands back, matched against `candidates`
    /// only; gives what it matched. Nothing is held while it is taken, so nothing is read
    /// before it.
    pub(super) fn take_context(
        &mut self,
        record: &Record<'_>,
        text: &str,
        candidates: &[usize],
    ) -> &[(usize, usize)] {
        self.label(record);
        let looks_like_error = self.match_line(record, text, Some(candidates));
        self.keep_matches(record, text, looks_like_error);
        &self.matched
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

    pub(super) fn attach_suggestion(&mut self, message: &str) {
        for &signal in &self.ece_signals {
            match self.pending.iter_mut().find(|p| p.signal == signal) {
                Some(pending) => pending.attach(message),
                None => self.deferred.attach_suggestion(signal, message),
            }
        }
    }

    /// The run's events, built from the matches held so far.
    fn build_events(&mut self) {
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

    fn start(&mut self, label: String, line: u64, runs: Runs) {
        let index = self.runs_seen + 1;
        match runs {
            Runs::All => {
                // The run ends on the line before the one that starts the next.
                let report = self.report(line.saturating_sub(self.run_first_line), Vec::new());
                match &mut self.sink {
                    Some(sink) => sink.run(report),
                    None => self.finished.push(report),
                }
            }
            Runs::Latest => self.tally(),
            Runs::One(n) if usize::try_from(n).is_ok_and(|n| n == index) => {
                let report = self.report(0, Vec::new());
                self.finished.push(report);
            }
            Runs::One(n) if n < -1 => {
                let report = self.report(0, Vec::new());
                self.recent.push_back(report);
                let keep = usize::try_from(n.unsigned_abs() - 1).unwrap_or(usize::MAX);
                if self.recent.len() > keep
                    && let Some(old) = self.recent.pop_front()
                {
                    self.count_skipped(&old);
                }
            }
            Runs::One(_) => self.tally(),
        }
        self.runs_seen += 1;
        self.events.clear();
        self.deferred.clear();
        self.pending.clear();
        self.last_primary = 0;
        self.hints.clear();
        self.ece_signals.clear();
        self.box_signals.clear();
        self.run_label = Some(label);
        self.run_first_line = line;
    }

    /// The label of the run being read, or its first line's number.
    fn started(&self) -> String {
        self.run_label
            .clone()
            .unwrap_or_else(|| format!("line {}", self.run_first_line))
    }

    /// Diagnoses the run being read, which is not reported, to remember whether it had
    /// errors (its report is what `--all-runs` would show; no observer sees it).
    fn tally(&mut self) {
        // A run with no event of a signal some `when` reads has no diagnosis, unless a
        // rule fires on no event at all (a user's `none(...)`).
        if self.last_primary == 0 && !self.rules.fires_on_nothing() {
            return;
        }
        // Only what a `when` reads decides whether rules fire: context and other events
        // are not made.
        let signals = &self.rules.signals;
        self.pending.clear();
        self.last_primary = 0;
        self.deferred
            .build_where(signals, &mut self.events, |s| signals.is_read_in_when(s));
        let errors = engine::errors(self.rules, &self.events);
        if errors > 0 {
            self.skipped_with_errors.push(SkippedRun {
                index: self.runs_seen + 1,
                started: self.started(),
                errors,
            });
        }
    }

    /// Remembers whether a report not shown had errors.
    fn count_skipped(&mut self, report: &SourceReport) {
        let errors = report
            .diagnoses
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if let (Some(run), true) = (&report.run, errors > 0) {
            self.skipped_with_errors.push(SkippedRun {
                index: run.index,
                started: run.started.clone(),
                errors,
            });
        }
    }

    fn report(&mut self, lines: u64, notes: Vec<String>) -> SourceReport {
        self.build_events();
        if let Some(observer) = &mut self.observer {
            let seen = RunSeen {
                index: self.runs_seen + 1,
                label: self.run_label.as_deref(),
                first_line: self.run_first_line,
            };
            observer.run(seen, &self.events);
        }
        let diagnoses = engine::diagnose(self.rules, &self.events, &self.name);
        let mut hints: Vec<Hint> = if diagnoses.is_empty() {
            self.hints.drain(..).map(|(_, h)| h).collect()
        } else {
            Vec::new()
        };
        hints.sort_by_key(|h| h.line);
        let started = self.started();
        SourceReport {
            path: self.name.clone(),
            lines,
            run: Some(RunInfo {
                index: self.runs_seen + 1,
                runs: self.runs_seen + 1,
                started,
                first_line: self.run_first_line,
                skipped: 0,
                skipped_with_errors: None,
            }),
            diagnoses,
            hints,
            notes,
            error: None,
            run_missing: false,
        }
    }

    fn finish(mut self, lines: u64, notes: Vec<String>, runs: Runs) -> Vec<SourceReport> {
        if let Runs::One(pick) = runs {
            return vec![self.finish_one(pick, lines, notes)];
        }
        let mut last = self.report(lines, notes);
        if self.finished.is_empty() {
            match &mut last.run {
                // The runs before went to the sink: none was skipped.
                Some(run) if self.sink.is_some() && self.runs_seen > 0 => {
                    last.lines = run_lines(lines, run.first_line);
                }
                Some(run) if self.runs_seen > 0 => {
                    run.skipped = self.runs_seen;
                    run.skipped_with_errors = Some(std::mem::take(&mut self.skipped_with_errors));
                }
                _ => last.run = None,
            }
            return vec![last];
        }
        if let Some(run) = &last.run {
            last.lines = run_lines(lines, run.first_line);
        }
        let total = self.finished.len() + 1;
        let mut reports = std::mem::take(&mut self.finished);
        reports.push(last);
        for (i, report) in reports.iter_mut().enumerate() {
            if let Some(run) = &mut report.run {
                run.index = i + 1;
                run.runs = total;
                run.skipped = 0;
            }
        }
        reports
    }

    /// The report of run `pick` (see [`Runs::One`]) once the source has been read, or
    /// one that says the source has no such run.
    fn finish_one(mut self, pick: i64, lines: u64, notes: Vec<String>) -> SourceReport {
        let runs = self.runs_seen + 1;
        let index = if pick > 0 {
            usize::try_from(pick).ok().filter(|&i| i <= runs)
        } else {
            usize::try_from(pick.unsigned_abs())
                .ok()
                .and_then(|back| (runs + 1).checked_sub(back))
                .filter(|&i| i >= 1)
        };
        let mut picked = match index {
            Some(i) if i == runs => Some(self.report(0, Vec::new())),
            _ => {
                self.tally();
                self.finished.pop()
            }
        };
        for report in std::mem::take(&mut self.recent) {
            if picked.is_none() && index.is_some() && report.run.as_ref().map(|r| r.index) == index
            {
                picked = Some(report);
            } else {
                self.count_skipped(&report);
            }
        }
        let Some(mut report) = picked else {
            let mut report = SourceReport::unreadable(
                self.name.clone(),
                format!(
                    "no deployment run {pick}: it holds {} (--run 1 to {runs}, or -1 to -{runs} from the latest)",
                    crate::rule::template::count(runs as u64, "run", "runs")
                ),
            );
            report.lines = lines;
            report.notes = notes;
            report.run_missing = true;
            return report;
        };
        report.lines = lines;
        report.notes = notes;
        let mut skipped = std::mem::take(&mut self.skipped_with_errors);
        skipped.sort_by_key(|r| r.index);
        match &mut report.run {
            Some(run) if runs > 1 => {
                run.runs = runs;
                run.skipped = run.index - 1;
                run.skipped_with_errors = Some(skipped);
            }
            _ => report.run = None,
        }
        report
    }
}

/// The lines of the last run of a source of `lines` lines: from `first_line` to the end.
fn run_lines(lines: u64, first_line: u64) -> u64 {
    (lines + 1).saturating_sub(first_line)
}

// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
pub(super) static ERROR_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(ERROR_WORDS)
        .expect("constant patterns build")
});

/// How much a line looks like an error: the number of error words in it.
pub(super) fn error_likeness(text: &str) -> u32 {
    ERROR_AUTOMATON.find_iter(text).count().min(10) as u32
}
