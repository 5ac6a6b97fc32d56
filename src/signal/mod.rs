//! Signals: compiled line matchers that turn a record into typed events whose fields
//! are the patterns' named captures, plus what the envelope knew (level, code, stage,
//! exception).
//!
//! A line first goes through the prefilter (the patterns' required literals in one
//! automaton): a line that matches nothing costs one pass of it, and only the patterns
//! whose literals it holds run, with captures only for those that match.

mod deferred;
mod event;

pub use deferred::{Attached, Deferred, join_suggestion};
pub use event::{Event, Events};
use event::{make_event, make_event_without_captures};

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexSet};
use regex_syntax::hir::Hir;

use crate::gate::context::ContextSearch;
use crate::gate::prefilter::{self, Prefilter};
use crate::gate::{GateItem, GateScratch, LineGate};
use crate::record::Record;
use crate::record::envelope::Level;
use crate::rule::table::Table;

/// What the rules read of each signal, known once they are compiled; the signal set is
/// built from it. A signal read by no rule is still matched on the lines read, but makes
/// no line hot; one read only in `also` is *context* (see [`SignalSet::is_context`]).
#[derive(Debug, Clone, Default)]
pub struct ReadPlan {
    /// Signals some rule reads in `when`.
    pub in_when: Vec<bool>,
    /// Signals some rule reads in `also`.
    pub in_also: Vec<bool>,
    /// Whether context lines may be found late (see [`SignalSet::finds_context_late`]):
    /// when no rule reads an ece-tools suggestion, which is all that reading a context
    /// line in its place (rather than later) could change.
    pub context_late: bool,
}

impl ReadPlan {
    /// Every signal read in `when`, context found as it comes: for a set used alone.
    pub fn all(signals: usize) -> ReadPlan {
        ReadPlan {
            in_when: vec![true; signals],
            in_also: vec![false; signals],
            context_late: false,
        }
    }
}

/// Why the signals together could not be compiled.
#[derive(Debug, Clone)]
pub struct SetError {
    pub message: String,
    /// The patterns that were being compiled together, as (signal, pattern) indexes.
    pub patterns: Vec<(usize, usize)>,
}

/// One compiled signal.
#[derive(Debug, Clone)]
pub struct Signal {
    pub id: String,
    pub description: String,
    pub patterns: Vec<Pattern>,
    /// Only records at one of these levels match (empty: any record).
    pub levels: Vec<Level>,
    /// Data tables whose row, found by the event's field named like the table's key
    /// column, adds its other columns to the event (fields already set are kept).
    pub lookups: Vec<Arc<Table>>,
    /// Where the signal was defined, for messages.
    pub origin: String,
    /// Whether the signal comes from the shipped catalogue, unchanged.
    pub shipped: bool,
}

impl Signal {
    /// Names of every field this signal's events can carry.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.patterns
            .iter()
            .flat_map(|p| p.names.iter().map(String::as_str))
            .chain(BUILTIN_FIELDS.iter().copied())
            .chain(
                self.lookups
                    .iter()
                    .flat_map(|t| t.columns.iter().map(String::as_str)),
            )
    }

    /// Adds the columns of each lookup table's matching row to the event.
    fn add_lookups(&self, event: &mut Event) {
        for table in &self.lookups {
            let key = event.field(table.key_column()).to_owned();
            let Some(row) = table.lookup(&key) else {
                continue;
            };
            for (column, value) in row {
                if event.field(column).is_empty() && !value.is_empty() {
                    event.set_field(column, value.to_owned());
                }
            }
        }
    }
}

/// The most bytes a signal pattern's compiled program may take.
const PATTERN_SIZE_LIMIT: usize = 1 << 22;

/// One pattern of a signal: parsed (so valid) when the rules load, compiled on first use.
///
/// Compiling the ~110 patterns of the catalogue is most of the startup time, and most of
/// them never see a candidate line in a given log. A pattern from a file that is not the
/// shipped catalogue is compiled at once, so that a pattern too large to compile is a
/// load error located in its file; the shipped ones are all compiled by the test suite.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    /// The names of its captures, in order.
    names: Vec<String>,
    /// The literals every match holds one of (see
    /// [`crate::gate::prefilter::required_literals_of`]).
    literals: Option<Vec<Vec<u8>>>,
    /// The pattern parsed, kept for the gate's check (see [`crate::gate::GateItem`]):
    /// parsing it again cost as much as building the gate's search.
    hir: Hir,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// Parses `source`; with `compile_now`, also compiles it.
    pub fn new(source: &str, compile_now: bool) -> Result<Pattern, RegexProblem> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(source)
            .map_err(|e| RegexProblem::of_syntax(&e))?;
        let mut names = Vec::new();
        capture_names(&hir, &mut names);
        let pattern = Pattern {
            source: source.to_owned(),
            names,
            literals: prefilter::required_literals_of(&hir),
            hir,
            compiled: OnceLock::new(),
        };
        if compile_now {
            let regex = build_regex(source).map_err(|e| RegexProblem {
                message: crate::rule::one_line(&e.to_string()),
                span: None,
            })?;
            let _ = pattern.compiled.set(Some(regex));
        }
        Ok(pattern)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The names of its captures, in order: the fields its events carry.
    pub fn captures(&self) -> &[String] {
        &self.names
    }

    /// The compiled regex; `None` only if a shipped pattern failed to compile, which the
    /// test suite rules out (such a pattern then never matches).
    pub fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| build_regex(&self.source).ok())
            .as_ref()
    }

    /// The literals every match of the pattern holds one of, ASCII-lowercased.
    pub fn literals(&self) -> Option<&[Vec<u8>]> {
        self.literals.as_deref()
    }

    /// The pattern parsed.
    pub fn hir(&self) -> &Hir {
        &self.hir
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|regex| regex.is_match(text))
    }
}

/// Why a regex is refused, and where in its source when the syntax is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexProblem {
    /// What is wrong, on one line ("unclosed group").
    pub message: String,
    /// The bytes of the source at fault.
    pub span: Option<std::ops::Range<usize>>,
}

impl RegexProblem {
    /// The regex-syntax error's kind and span, which its own message draws as a caret
    /// under a copy of the pattern.
    pub fn of_syntax(e: &regex_syntax::Error) -> RegexProblem {
        let (message, span) = match e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(*e.span())),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(*e.span())),
            other => (crate::rule::one_line(&other.to_string()), None),
        };
        RegexProblem {
            message,
            span: span.map(|s| s.start.offset..s.end.offset),
        }
    }
}

impl fmt::Display for RegexProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn build_regex(source: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(source)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
}

/// The capture names of a pattern, in the order the regex crate numbers them.
fn capture_names(hir: &Hir, out: &mut Vec<String>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(capture) => {
            if let Some(name) = &capture.name {
                out.push(name.to_string());
            }
            capture_names(&capture.sub, out);
        }
        HirKind::Repetition(rep) => capture_names(&rep.sub, out),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            for sub in subs {
                capture_names(sub, out);
            }
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// Fields every event may carry besides its captures.
pub const BUILTIN_FIELDS: &[&str] = &[
    "level",
    "code",
    "stage",
    "exception",
    "line",
    "text",
    "package",
    "version",
    "suggestion",
];

/// Words that make a line look like an error (ASCII case-insensitive), for the hints a
/// report shows when no rule fired. They share the signals' prefilter, so a line that holds
/// none of them and no signal literal is ruled out in one pass.
pub const ERROR_WORDS: &[&str] = &[
    "error",
    "fail",
    "exception",
    "fatal",
    "could not",
    "cannot",
    "can't",
    "denied",
    "refused",
    "unable",
    "critical",
    "forbidden",
    "not found",
    "invalid",
    "killed",
];

/// The context group (see [`SignalSet::context_group`]) of every context signal past the
/// 63rd: matching one of them says nothing of the others.
pub const SHARED_CONTEXT_GROUP: u64 = 1 << (u64::BITS - 1);

/// Every signal of a rule set, matched together.
///
/// Each pattern's required literals (see [`crate::gate::prefilter`]) go into one automaton,
/// with [`ERROR_WORDS`]; a line runs only the patterns whose literals it holds, plus the
/// few patterns without a usable literal (one `RegexSet`, usually empty).
#[derive(Debug, Clone)]
pub struct SignalSet {
    signals: Vec<Signal>,
    prefilter: Prefilter,
    /// The patterns the prefilter cannot rule out, matched together on every line.
    unfiltered: Option<(RegexSet, Vec<usize>)>,
    /// For each pattern (prefilter item): (signal index, pattern index within the signal).
    owners: Vec<(usize, usize)>,
    /// The prefilter item that stands for [`ERROR_WORDS`].
    error_words: usize,
    /// Finds the lines that may match a read signal, be a hint or change the framer's
    /// state (see [`LineGate`]). Built on first use.
    gate: OnceLock<LineGate>,
    /// The gate without the context signals' items, when context lines may be found
    /// late (see [`SignalSet::finds_context_late`]). Built on first use.
    late_gate: OnceLock<LineGate>,
    /// For each pattern (prefilter item): its item in [`SignalSet::gate_items`]
    /// (`u32::MAX`: none, its signal is not read).
    gate_item_of: OnceLock<Vec<u32>>,
    /// Each prefilter item's literal set, for the gate.
    items: Vec<Option<Vec<Vec<u8>>>>,
    /// Whether some rule reads each signal (see [`ReadPlan`]): a line
    /// only an unread signal could match is not hot.
    read: Vec<bool>,
    /// Whether each signal is read only in `also` (see [`ReadPlan`]).
    context: Vec<bool>,
    /// Each signal's context group (see [`SignalSet::context_group`]); 0 for others.
    context_groups: Vec<u64>,
    /// The patterns (prefilter items) of the context signals, in order.
    context_patterns: Vec<usize>,
    /// Whether context lines are found late (see [`SignalSet::finds_context_late`]).
    context_late: bool,
    /// The backward search for context lines, built on first use.
    context_search: OnceLock<ContextSearch>,
    by_id: HashMap<String, usize>,
}

impl SignalSet {
    /// Builds the set for what the rules read of it; patterns are already compiled, so
    /// only the set can fail (size limits).
    pub fn new(signals: Vec<Signal>, plan: &ReadPlan) -> Result<SignalSet, SetError> {
        let mut owners = Vec::new();
        let mut items = Vec::new();
        for (s, signal) in signals.iter().enumerate() {
            for (p, pattern) in signal.patterns.iter().enumerate() {
                owners.push((s, p));
                items.push(pattern.literals().map(<[_]>::to_vec).or_else(|| {
                    // A signal for some levels only matches lines that name one of them.
                    (!signal.levels.is_empty()).then(|| level_words(&signal.levels))
                }));
            }
        }
        let error_words = items.len();
        items.push(Some(
            ERROR_WORDS.iter().map(|w| w.as_bytes().to_vec()).collect(),
        ));
        let prefilter = Prefilter::new(&items).map_err(|message| SetError {
            message,
            patterns: Vec::new(),
        })?;
        let unfiltered = match prefilter.unfiltered() {
            [] => None,
            ids => {
                let sources = ids.iter().map(|&i| {
                    let (s, p) = owners[i];
                    signals[s].patterns[p].as_str()
                });
                let set = RegexSet::new(sources).map_err(|e| SetError {
                    message: e.to_string().trim_end_matches('.').to_lowercase(),
                    patterns: ids.iter().map(|&i| owners[i]).collect(),
                })?;
                Some((set, ids.to_vec()))
            }
        };
        let by_id = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let n = signals.len();
        let flag = |flags: &[bool], i: usize| flags.get(i).copied().unwrap_or(false);
        let read: Vec<bool> = (0..n)
            .map(|i| flag(&plan.in_when, i) || flag(&plan.in_also, i))
            .collect();
        let context: Vec<bool> = (0..n)
            .map(|i| flag(&plan.in_also, i) && !flag(&plan.in_when, i))
            .collect();
        let mut groups = 0;
        let context_groups = context
            .iter()
            .map(|&context| {
                if !context {
                    return 0;
                }
                groups += 1;
                1 << (groups - 1).min(u64::BITS - 1)
            })
            .collect();
        let context_patterns = (0..owners.len())
            .filter(|&item| context[owners[item].0])
            .collect();
        Ok(SignalSet {
            read,
            context,
            context_groups,
            context_patterns,
            context_late: plan.context_late,
            context_search: OnceLock::new(),
            signals,
            prefilter,
            unfiltered,
            owners,
            error_words,
            gate: OnceLock::new(),
            late_gate: OnceLock::new(),
            gate_item_of: OnceLock::new(),
            items,
            by_id,
        })
    }

    /// The same set built again with context lines found late or not: for tests that
    /// compare the two ways of finding them.
    pub fn with_context_late(&self, context_late: bool) -> Result<SignalSet, SetError> {
        let plan = ReadPlan {
            in_when: (0..self.signals.len())
                .map(|i| self.read[i] && !self.context[i])
                .collect(),
            in_also: self.context.clone(),
            context_late,
        };
        SignalSet::new(self.signals.clone(), &plan)
    }

    /// Whether the gate may leave the context signals' lines quiet, to be searched for
    /// backwards among the lines skipped ([`crate::gate::context`]), instead of finding each
    /// one as it goes ([`SignalSet::gate_for`]). A source read on one thread does
    /// (a folder's files); one read on two does not: there the gate runs on the reading
    /// thread, and the search would add to the other, which is the busier.
    ///
    /// A context line read late is read as a line held back would be; why that changes
    /// no report is point 4 of the skip contract (`pipeline/steps.rs`). Only a line with
    /// an ece-tools level would have changed which signals its suggestion lines attach
    /// to, which no rule reads then.
    pub fn finds_context_late(&self) -> bool {
        self.context_late && !self.context_patterns.is_empty()
    }

    /// The backward search for context lines (see [`SignalSet::finds_context_late`]).
    pub fn context_search(&self) -> &ContextSearch {
        self.context_search.get_or_init(|| {
            let items = self
                .context_patterns
                .iter()
                .map(|&pattern| self.gate_item(pattern))
                .collect();
            ContextSearch::new(items, self.context_patterns.clone())
        })
    }

    /// Whether a signal is *context*: rules read it only in `also`, as the nearest event
    /// before a failure. Of its matches a run keeps only those that some later event of
    /// a signal read in `when` may need: the last before each (see `RunState::take`).
    pub fn is_context(&self, signal: usize) -> bool {
        self.context.get(signal).copied().unwrap_or(false)
    }

    /// A context signal's group: one bit, its own among the first 63 context signals,
    /// [`SHARED_CONTEXT_GROUP`] for the rest; 0 for a signal that is not context. The gate
    /// tells which groups may match a context line (see [`crate::gate::Heat::Context`]).
    pub fn context_group(&self, signal: usize) -> u64 {
        self.context_groups.get(signal).copied().unwrap_or(0)
    }

    /// The patterns of the context signals, as prefilter candidates: all a line the gate
    /// found to be context can match of what some rule reads.
    pub fn context_patterns(&self) -> &[usize] {
        &self.context_patterns
    }

    /// Pushes to `out` the context patterns (see [`SignalSet::context_patterns`]) of the
    /// signals in `groups` that are not in `taken`.
    pub fn context_patterns_of(&self, groups: u64, taken: &[usize], out: &mut Vec<usize>) {
        out.extend(self.context_patterns.iter().copied().filter(|&pattern| {
            let signal = self.owners[pattern].0;
            self.context_group(signal) & groups != 0 && !taken.contains(&signal)
        }));
    }

    /// Whether some rule reads a signal in `when` (see [`ReadPlan`]).
    pub fn is_read_in_when(&self, signal: usize) -> bool {
        self.read.get(signal).copied().unwrap_or(false) && !self.is_context(signal)
    }

    /// Whether the gate would let every line through: a read signal has a pattern
    /// without any literal (cheap: the gate itself is not built).
    pub fn gate_is_open(&self) -> bool {
        self.items[..self.error_words]
            .iter()
            .zip(&self.owners)
            .any(|(literals, &(s, _))| self.read[s] && literals.as_ref().is_none_or(Vec::is_empty))
    }

    /// Whether [`SignalSet::gate_for`] `late` was built already.
    pub fn gate_is_built(&self, late: bool) -> bool {
        self.gate_lock(late).get().is_some()
    }

    /// The gate that tells the lines worth looking at (see [`LineGate`]), context lines
    /// among them.
    pub fn gate(&self) -> &LineGate {
        self.gate_for(false)
    }

    /// The gate that tells the lines worth looking at; with `late`, when context lines
    /// may be found late ([`SignalSet::finds_context_late`]), not the context lines.
    pub fn gate_for(&self, late: bool) -> &LineGate {
        let late = late && self.finds_context_late();
        self.gate_lock(late)
            .get_or_init(|| LineGate::new(self.gate_items_for(late)))
    }

    fn gate_lock(&self, late: bool) -> &OnceLock<LineGate> {
        if late && self.finds_context_late() {
            &self.late_gate
        } else {
            &self.gate
        }
    }

    /// [`SignalSet::gate`], built (when it is not yet) on a second thread while this one
    /// builds the prefilter's DFA: a large source needs both at its 2,000th line
    /// ([`prefilter::WARM_LINES`]), and each takes several milliseconds. Built here alone
    /// when no thread can be started.
    pub fn gate_and_prefilter(&self, late: bool) -> &LineGate {
        if !self.gate_is_built(late) {
            std::thread::scope(|scope| {
                let building = std::thread::Builder::new()
                    .name("gate".into())
                    .spawn_scoped(scope, || {
                        self.gate_for(late);
                    });
                self.prefilter.warm();
                if building.is_err() {
                    self.gate_for(late);
                }
            });
        }
        self.gate_for(late)
    }

    /// Whether context pattern `pattern` (a prefilter item) may match the clean raw line
    /// `raw`: its gate check (the pattern relaxed, see [`crate::gate`]), which the gate
    /// leaves to the reader of held context lines. `scratch` is the caller's own.
    pub fn context_may_match(&self, pattern: usize, raw: &[u8], scratch: &mut GateScratch) -> bool {
        let item_of = self.gate_item_of.get_or_init(|| {
            let mut item_of = vec![u32::MAX; self.error_words];
            for (item, pattern) in self.gated_patterns(false).enumerate() {
                item_of[pattern] = u32::try_from(item).unwrap_or(u32::MAX);
            }
            item_of
        });
        match item_of.get(pattern) {
            Some(&item) if item != u32::MAX => self.gate().passes(item as usize, raw, scratch),
            _ => true,
        }
    }

    /// The patterns (prefilter items) the gate has an item for, in the items' order: those
    /// of the signals some rule reads.
    /// With `late`, not those of the context signals.
    fn gated_patterns(&self, late: bool) -> impl Iterator<Item = usize> + '_ {
        (0..self.error_words).filter(move |&pattern| {
            let signal = self.owners[pattern].0;
            self.read[signal] && !(late && self.context[signal])
        })
    }

    /// The gate item of pattern `pattern` (a prefilter item), checked by the pattern
    /// itself.
    fn gate_item(&self, pattern: usize) -> GateItem {
        let (s, p) = self.owners[pattern];
        // A pattern whose literals are its levels' words is not checked: what it
        // matches need not hold them.
        let source = &self.signals[s].patterns[p];
        let check = source.literals().map(|_| source.hir().clone());
        GateItem {
            literals: self.items[pattern].clone().unwrap_or_default(),
            check,
            context: self.context_group(s),
        }
    }

    /// One gate item for each pattern of a read signal, checked by the pattern itself;
    /// the error and context words make a line hot on their own.
    pub fn gate_items(&self) -> Vec<GateItem> {
        self.gate_items_for(false)
    }

    /// [`SignalSet::gate_items`]; with `late`, none for the context signals' patterns.
    pub fn gate_items_for(&self, late: bool) -> Vec<GateItem> {
        let mut items: Vec<GateItem> = self
            .gated_patterns(late)
            .map(|pattern| self.gate_item(pattern))
            .collect();
        let words = |words: &[&str]| GateItem {
            literals: words.iter().map(|w| w.as_bytes().to_vec()).collect(),
            check: None,
            context: 0,
        };
        items.push(words(ERROR_WORDS));
        items.push(words(crate::record::CONTEXT_WORDS));
        items
    }

    /// The signals, in definition order.
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }

    /// The index of a signal by id.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// How many patterns have no usable literal and run on every line.
    pub fn unfiltered_patterns(&self) -> usize {
        self.unfiltered.as_ref().map_or(0, |(_, ids)| ids.len())
    }

    /// Matches one record; pushes at most one event per signal. Returns whether the line
    /// holds one of [`ERROR_WORDS`] (when it does not, it cannot be a hint).
    ///
    /// `keep(signal)` says whether the signal's events are still kept: for one that is
    /// full, a match pushes a bare event (no captures, no text) to be counted.
    /// `scratch` is reused between calls.
    pub fn scan(
        &self,
        record: &Record<'_>,
        line_text: &str,
        keep: impl Fn(usize) -> bool,
        scratch: &mut Vec<usize>,
        out: &mut Vec<Event>,
    ) -> bool {
        let mut found = Vec::new();
        let error_words = self.matches(record, line_text, scratch, &mut found);
        for (s, p) in found {
            out.push(if keep(s) {
                self.event(s, p, record, line_text)
            } else {
                Event {
                    signal: s,
                    line: record.line,
                    text: String::new(),
                    fields: Vec::new(),
                    matched: None,
                }
            });
        }
        error_words
    }

    /// Which signals match one record, as (signal, pattern) pairs, at most one per signal;
    /// matches are verified (`is_match`) but not captured. Returns whether the line holds
    /// one of [`ERROR_WORDS`] (when it does not, it cannot be a hint).
    pub fn matches(
        &self,
        record: &Record<'_>,
        line_text: &str,
        scratch: &mut Vec<usize>,
        out: &mut Vec<(usize, usize)>,
    ) -> bool {
        scratch.clear();
        self.line_candidates(record.line, line_text, scratch);
        self.matches_candidates(record, line_text, scratch, out)
    }

    /// The prefilter's candidates for line `line` of a source, whose text is `line_text`:
    /// the first half of [`SignalSet::matches`], which another thread may run (appended
    /// to `out`, sorted, each once).
    pub fn line_candidates(&self, line: u64, line_text: &str, out: &mut Vec<usize>) {
        self.prefilter.candidates(line, line_text.as_bytes(), out);
    }

    /// [`SignalSet::line_candidates`] of many lines at once (see
    /// [`Prefilter::candidates_of_lines`]).
    pub fn candidates_of_lines(
        &self,
        first_line: u64,
        text: &str,
        ends: &[usize],
        out: &mut Vec<usize>,
        out_ends: &mut Vec<usize>,
    ) {
        self.prefilter
            .candidates_of_lines(first_line, text.as_bytes(), ends, out, out_ends);
    }

    /// The second half of [`SignalSet::matches`]: `scratch` holds the line's candidates
    /// from [`SignalSet::line_candidates`] (and is used up).
    pub fn matches_candidates(
        &self,
        record: &Record<'_>,
        line_text: &str,
        scratch: &mut Vec<usize>,
        out: &mut Vec<(usize, usize)>,
    ) -> bool {
        let message = record.envelope.message;
        let line = record.line;
        let mut found = !scratch.is_empty();
        if !within(message, line_text) {
            // A message that is not part of the line (a decoded JSON title) is searched too.
            found |= self.prefilter.candidates(line, message.as_bytes(), scratch);
            scratch.sort_unstable();
            scratch.dedup();
        }
        let error_words = found && scratch.last() == Some(&self.error_words);
        if error_words {
            scratch.pop();
        }
        if message.is_empty() {
            return error_words;
        }
        if let Some((set, ids)) = &self.unfiltered {
            let before = scratch.len();
            scratch.extend(set.matches(message).iter().map(|i| ids[i]));
            if scratch.len() > before {
                scratch.sort_unstable();
            }
        }
        let mut last_signal = usize::MAX;
        for &pattern in scratch.iter() {
            let (s, p) = self.owners[pattern];
            if s == last_signal {
                continue;
            }
            let signal = &self.signals[s];
            if !signal.levels.is_empty()
                && !record
                    .envelope
                    .level
                    .is_some_and(|l| signal.levels.contains(&l))
            {
                continue;
            }
            if signal.patterns[p].is_match(message) {
                last_signal = s;
                out.push((s, p));
            }
        }
        error_words
    }

    /// The event of a match found by [`SignalSet::matches`]: captures and envelope fields.
    pub fn event(&self, signal: usize, pattern: usize, record: &Record<'_>, text: &str) -> Event {
        let owner = &self.signals[signal];
        let pattern = &owner.patterns[pattern];
        let caps = pattern
            .regex()
            .and_then(|regex| Some((regex, regex.captures(record.envelope.message)?)));
        let mut event = match caps {
            Some((regex, caps)) => make_event(signal, record, text, regex, &caps),
            None => make_event_without_captures(signal, record, text),
        };
        owner.add_lookups(&mut event);
        event
    }
}

/// The words a line at one of `levels` holds: ece-tools prints the level (`ERROR:`,
/// `main.CRITICAL:`), and a `cloud.error.log` entry (read as ERROR unless its type is
/// `warning`) holds `errorCode` and its type.
fn level_words(levels: &[Level]) -> Vec<Vec<u8>> {
    levels
        .iter()
        .map(|level| level.as_str().to_ascii_lowercase().into_bytes())
        .collect()
}

/// Whether `part` lies inside `whole` in memory (a subslice of it).
pub(crate) fn within(part: &str, whole: &str) -> bool {
    let (start, end) = (
        whole.as_ptr() as usize,
        whole.as_ptr() as usize + whole.len(),
    );
    let at = part.as_ptr() as usize;
    part.is_empty() || (at >= start && at + part.len() <= end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Framer;

    fn archive_signal() -> SignalSet {
        let pattern = Pattern::new(
            r"https?://(?P<host>[^/\s'\x22]+)/archives/(?P<vendor>[^/]+)/(?P<name>[^/]+)/(?P<archive>[^/\s'\x22]+\.zip).*?HTTP/[\d.]+ (?P<status>\d{3})",
            false,
        )
        .unwrap();
        SignalSet::new(
            vec![Signal {
                lookups: Vec::new(),
                id: "archive-refused".into(),
                description: String::new(),
                patterns: vec![pattern],
                levels: vec![],
                origin: "test".into(),
                shipped: false,
            }],
            &ReadPlan::all(1),
        )
        .unwrap()
    }

    #[test]
    fn derives_package_and_version_from_the_archive_url() {
        let set = archive_signal();
        let line = "The 'https://repo.magento.com/archives/magento/module-customer-segment/magento-module-customer-segment-102.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden";
        let mut framer = Framer::new();
        let record = framer.frame(1, line);
        let mut events = Vec::new();
        set.scan(&record, line, |_| true, &mut Vec::new(), &mut events);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.field("package"), "magento/module-customer-segment");
        assert_eq!(e.field("version"), "102.0.5.0-patch2");
        assert_eq!(e.field("status"), "403");
        assert_eq!(e.field("host"), "repo.magento.com");
    }

    /// The event knows where its pattern matched in its text (for highlighting), past
    /// the envelope and the indent the text loses.
    #[test]
    fn an_event_holds_where_its_match_is_in_its_text() {
        let set = archive_signal();
        let line = "   [2024-03-12T10:21:10.552040+00:00] ERROR: The 'https://repo.magento.com/archives/acme/x/acme-x-1.0.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden";
        let mut framer = Framer::new();
        let record = framer.frame(1, line);
        let mut events = Vec::new();
        set.scan(&record, line, |_| true, &mut Vec::new(), &mut events);
        let e = &events[0];
        let (start, end) = e.matched.unwrap();
        assert_eq!(
            &e.text[start as usize..end as usize],
            "https://repo.magento.com/archives/acme/x/acme-x-1.0.0.zip' URL could not be accessed: HTTP/1.1 403"
        );
    }

    #[test]
    fn every_shipped_pattern_compiles_and_its_names_are_the_regex_crates() {
        let rules = crate::rule::RuleSet::embedded().unwrap();
        for signal in rules.signals.signals() {
            for pattern in &signal.patterns {
                let regex = pattern.regex().unwrap_or_else(|| {
                    panic!("{}: {} does not compile", signal.id, pattern.as_str())
                });
                let names: Vec<&str> = regex.capture_names().flatten().collect();
                assert_eq!(pattern.names, names, "{}", pattern.as_str());
            }
        }
    }

    #[test]
    fn a_pattern_from_another_file_is_compiled_at_once() {
        let huge = format!("(?:{}){{1000}}", r"\w{100}");
        assert!(
            Pattern::new(&huge, false).is_ok(),
            "parsing alone accepts it"
        );
        let error = Pattern::new(&huge, true).unwrap_err();
        assert!(error.message.contains("size limit"), "{error}");
        assert_eq!(error.span, None);
        let error = Pattern::new("a(b", false).unwrap_err();
        assert_eq!(error.message, "unclosed group");
        assert_eq!(
            error.span,
            Some(1..2),
            "the caret goes under the open parenthesis"
        );
        let error = Pattern::new(r"ab\p{Nope}", false).unwrap_err();
        assert_eq!(
            error.span,
            Some(2..10),
            "a translation error keeps its span"
        );
    }

    #[test]
    fn a_line_without_a_match_makes_no_event() {
        let set = archive_signal();
        let mut framer = Framer::new();
        let record = framer.frame(1, "Loading composer repositories with package information");
        let mut events = Vec::new();
        set.scan(&record, "", |_| true, &mut Vec::new(), &mut events);
        assert!(events.is_empty());
    }
}
