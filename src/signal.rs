//! Signals: compiled line matchers that turn a record into typed events whose fields
//! are the patterns' named captures, plus what the envelope knew (level, code, stage,
//! exception).
//!
//! A line first goes through the prefilter (the patterns' required literals in one
//! automaton): a line that matches nothing costs one pass of it, and only the patterns
//! whose literals it holds run, with captures only for those that match.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexSet};
use regex_syntax::hir::Hir;

use crate::context::ContextSearch;
use crate::envelope::{Envelope, Level};
use crate::gate::{GateItem, GateScratch, LineGate};
use crate::prefilter::{self, Prefilter};
use crate::record::Record;
use crate::table::Table;

/// The most characters of a field or evidence line kept in an event.
const FIELD_CAP: usize = 2048;

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
    /// The literals every match holds one of (see [`prefilter::required_literals`]).
    literals: Option<Vec<Vec<u8>>>,
    /// The pattern parsed, kept for the gate's check (see [`crate::gate::GateItem`]):
    /// parsing it again cost as much as building the gate's search.
    hir: Hir,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// Parses `source`; with `compile_now`, also compiles it. The error is the regex
    /// crate's message.
    pub fn new(source: &str, compile_now: bool) -> Result<Pattern, String> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(source)
            .map_err(|e| e.to_string())?;
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
            let regex = build_regex(source).map_err(|e| e.to_string())?;
            let _ = pattern.compiled.set(Some(regex));
        }
        Ok(pattern)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
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

/// One thing a signal saw on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Index of the signal in its [`SignalSet`].
    pub signal: usize,
    pub line: u64,
    /// The line as it appeared (trimmed, capped), for evidence.
    pub text: String,
    /// Named captures and envelope fields, sorted by name.
    pub fields: Vec<(String, String)>,
}

impl Event {
    /// A field's value; `""` when absent.
    pub fn field(&self, name: &str) -> &str {
        match name {
            "text" => &self.text,
            _ => self
                .fields
                .binary_search_by(|(k, _)| k.as_str().cmp(name))
                .map_or("", |i| &self.fields[i].1),
        }
    }

    /// Sets a field, keeping fields sorted.
    pub fn set_field(&mut self, name: &str, value: String) {
        match self.fields.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) => self.fields[i].1 = value,
            Err(i) => self.fields.insert(i, (name.to_owned(), value)),
        }
    }
}

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
/// Each pattern's required literals (see [`crate::prefilter`]) go into one automaton,
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
    /// Whether some rule reads each signal (all, until [`SignalSet::set_read`]): a line
    /// only an unread signal could match is not hot.
    read: Vec<bool>,
    /// Whether each signal is read only in `also` (none, until [`SignalSet::set_read`]).
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
    /// Builds the set; patterns are already compiled, so only the set can fail (size limits).
    pub fn new(signals: Vec<Signal>) -> Result<SignalSet, String> {
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
        let prefilter = Prefilter::new(&items)?;
        let unfiltered = match prefilter.unfiltered() {
            [] => None,
            ids => {
                let sources = ids.iter().map(|&i| {
                    let (s, p) = owners[i];
                    signals[s].patterns[p].as_str()
                });
                let set = RegexSet::new(sources).map_err(|e| e.to_string())?;
                Some((set, ids.to_vec()))
            }
        };
        let by_id = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(SignalSet {
            read: vec![true; signals.len()],
            context: vec![false; signals.len()],
            context_groups: vec![0; signals.len()],
            context_patterns: Vec::new(),
            context_late: false,
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

    /// Says which signals some rule reads in `when` and which in `also`. A signal read by
    /// neither is still matched on the lines read, but makes no line hot; one read only in
    /// `also` is *context* (see [`SignalSet::is_context`]).
    pub fn set_read(&mut self, in_when: &[bool], in_also: &[bool]) {
        let n = self.signals.len();
        let flag = |flags: &[bool], i: usize| flags.get(i).copied().unwrap_or(false);
        self.read = (0..n)
            .map(|i| flag(in_when, i) || flag(in_also, i))
            .collect();
        self.context = (0..n)
            .map(|i| flag(in_also, i) && !flag(in_when, i))
            .collect();
        let mut groups = 0;
        self.context_groups = self
            .context
            .iter()
            .map(|&context| {
                if !context {
                    return 0;
                }
                groups += 1;
                1 << (groups - 1).min(u64::BITS - 1)
            })
            .collect();
        self.context_patterns = (0..self.owners.len())
            .filter(|&item| self.context[self.owners[item].0])
            .collect();
        self.gate = OnceLock::new();
        self.late_gate = OnceLock::new();
        self.gate_item_of = OnceLock::new();
        self.context_search = OnceLock::new();
    }

    /// Says whether context lines may be found late (see [`SignalSet::finds_context_late`]):
    /// when no rule reads an ece-tools suggestion, which is all that reading a context
    /// line in its place (rather than later) could change.
    pub fn set_context_late(&mut self, late: bool) {
        self.context_late = late;
        self.late_gate = OnceLock::new();
    }

    /// Whether the gate may leave the context signals' lines quiet, to be searched for
    /// backwards among the lines skipped ([`crate::context`]), instead of finding each
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

    /// Whether some rule reads a signal in `when` (all, until [`SignalSet::set_read`]).
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

/// Matches whose events are built only when a run is reported.
///
/// Building an event runs the pattern's captures and allocates its fields; in a log of
/// many short runs, most events belong to runs that are never reported. A match keeps
/// only what its event needs (its line, capped to the event text size, and the record's
/// context) in one buffer per run; [`Deferred::build`] makes the events.
#[derive(Debug, Default)]
pub struct Deferred {
    matches: Vec<DeferredMatch>,
    /// The texts (and messages that are not part of their text), one after the other.
    buffer: String,
    /// Matches held (or built) per signal, to apply the per-signal cap early.
    held: Vec<usize>,
    /// Matches not held because their signal was full, per signal.
    dropped: Vec<u64>,
    /// The last match held per signal, for ece-tools suggestions.
    last: Vec<Option<usize>>,
}

#[derive(Debug)]
enum DeferredMatch {
    /// An event built at once (a line too long to hold cheaply).
    Built(Event),
    Held {
        signal: usize,
        pattern: usize,
        line: u64,
        text: std::ops::Range<usize>,
        message: std::ops::Range<usize>,
        level: Option<Level>,
        code: Option<u32>,
        stage: Option<crate::record::Stage>,
        exception: Option<std::rc::Rc<str>>,
        /// ece-tools suggestion lines attached later, joined by spaces.
        suggestion: String,
    },
}

impl Deferred {
    /// An empty store for `signals` signals.
    pub fn new(signals: usize) -> Deferred {
        Deferred {
            held: vec![0; signals],
            dropped: vec![0; signals],
            last: vec![None; signals],
            ..Deferred::default()
        }
    }

    /// Forgets everything (a run that will not be reported), keeping the buffers.
    pub fn clear(&mut self) {
        self.matches.clear();
        self.buffer.clear();
        self.held.iter_mut().for_each(|n| *n = 0);
        self.dropped.iter_mut().for_each(|n| *n = 0);
        self.last.iter_mut().for_each(|n| *n = None);
    }

    /// Holds one match of `signal`'s pattern `pattern` on `record` (line text `text`).
    pub fn push(
        &mut self,
        set: &SignalSet,
        (signal, pattern): (usize, usize),
        record: &Record<'_>,
        text: &str,
    ) {
        if self.held[signal] >= crate::engine::EVENTS_PER_SIGNAL {
            self.dropped[signal] += 1;
            return;
        }
        self.held[signal] += 1;
        self.last[signal] = Some(self.matches.len());
        let message = record.envelope.message;
        if text.len() + message.len() > FIELD_CAP {
            let event = set.event(signal, pattern, record, text);
            self.matches.push(DeferredMatch::Built(event));
            return;
        }
        let start = self.buffer.len();
        self.buffer.push_str(text);
        let text_range = start..self.buffer.len();
        let message_range = if within(message, text) && !message.is_empty() {
            let offset = message.as_ptr() as usize - text.as_ptr() as usize;
            start + offset..start + offset + message.len()
        } else {
            let at = self.buffer.len();
            self.buffer.push_str(message);
            at..self.buffer.len()
        };
        self.matches.push(DeferredMatch::Held {
            signal,
            pattern,
            line: record.line,
            text: text_range,
            message: message_range,
            level: record.envelope.level,
            code: record.envelope.code,
            stage: record.stage,
            exception: record.exception.clone(),
            suggestion: String::new(),
        });
    }

    /// Appends an ece-tools suggestion line to the last match of `signal`, if any.
    pub fn attach_suggestion(&mut self, signal: usize, message: &str) {
        let Some(i) = self.last.get(signal).copied().flatten() else {
            return;
        };
        match &mut self.matches[i] {
            DeferredMatch::Built(event) => {
                let mut suggestion = event.field("suggestion").to_owned();
                join_suggestion(&mut suggestion, message);
                event.set_field("suggestion", suggestion);
            }
            DeferredMatch::Held { suggestion, .. } => join_suggestion(suggestion, message),
        }
    }

    /// Builds the held matches' events into `events`, in the order they were seen, and
    /// empties the store.
    pub fn build(&mut self, set: &SignalSet, events: &mut crate::engine::Events) {
        for found in self.matches.drain(..) {
            let event = match found {
                DeferredMatch::Built(event) => event,
                DeferredMatch::Held {
                    signal,
                    pattern,
                    line,
                    text,
                    message,
                    level,
                    code,
                    stage,
                    exception,
                    suggestion,
                } => {
                    let envelope = Envelope::bare(level, code, &self.buffer[message]);
                    let record = Record {
                        exception,
                        ..Record::bare(line, envelope, stage)
                    };
                    let mut event = set.event(signal, pattern, &record, &self.buffer[text]);
                    if !suggestion.is_empty() {
                        let mut joined = event.field("suggestion").to_owned();
                        join_suggestion(&mut joined, &suggestion);
                        event.set_field("suggestion", joined);
                    }
                    event
                }
            };
            events.push(event);
        }
        for (signal, &dropped) in self.dropped.iter().enumerate() {
            events.count_dropped(signal, dropped);
        }
        self.clear();
    }
}

/// Appends an ece-tools suggestion line to the suggestion text gathered so far: the lines
/// of one suggestion are joined by spaces.
pub fn join_suggestion(suggestion: &mut String, line: &str) {
    if !suggestion.is_empty() {
        suggestion.push(' ');
    }
    suggestion.push_str(line);
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
fn within(part: &str, whole: &str) -> bool {
    let (start, end) = (
        whole.as_ptr() as usize,
        whole.as_ptr() as usize + whole.len(),
    );
    let at = part.as_ptr() as usize;
    part.is_empty() || (at >= start && at + part.len() <= end)
}

fn make_event_without_captures(signal: usize, record: &Record<'_>, line_text: &str) -> Event {
    let mut event = Event {
        signal,
        line: record.line,
        text: cap(line_text.trim()),
        fields: Vec::new(),
    };
    add_envelope_fields(&mut event, record);
    event
}

fn make_event(
    signal: usize,
    record: &Record<'_>,
    line_text: &str,
    pattern: &Regex,
    caps: &regex::Captures<'_>,
) -> Event {
    let mut event = Event {
        signal,
        line: record.line,
        text: cap(line_text.trim()),
        fields: Vec::new(),
    };
    for name in pattern.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            event.set_field(name, cap(m.as_str()));
        }
    }
    add_envelope_fields(&mut event, record);
    event
}

/// The fields every event takes from its record, and those derived from captures.
fn add_envelope_fields(event: &mut Event, record: &Record<'_>) {
    if let Some(level) = record.envelope.level {
        event.set_field("level", level.as_str().to_owned());
    }
    if let Some(code) = record.envelope.code {
        event.set_field("code", code.to_string());
    }
    if let Some(stage) = record.stage {
        event.set_field("stage", stage.as_str().to_owned());
    }
    if let Some(exception) = &record.exception {
        event.set_field("exception", exception.to_string());
    }
    derive_package(event);
}

/// Fills `package` (vendor/name) and `version` from the captures that imply them.
///
/// An archive file name is `{vendor}-{name}-{version}.zip`; regexes cannot strip a
/// prefix they captured earlier (no backreferences), so the version is derived here.
fn derive_package(event: &mut Event) {
    let (vendor, name) = (event.field("vendor"), event.field("name"));
    if event.field("package").is_empty() && !vendor.is_empty() && !name.is_empty() {
        let package = format!("{vendor}/{name}");
        event.set_field("package", package);
    }
    let archive = event.field("archive");
    if event.field("version").is_empty() && !archive.is_empty() {
        let prefix = format!("{}-{}-", event.field("vendor"), event.field("name"));
        let stem = archive.strip_suffix(".zip").unwrap_or(archive);
        let version = stem.strip_prefix(&prefix).map(str::to_owned);
        if let Some(version) = version.filter(|v| !v.is_empty()) {
            event.set_field("version", version);
        }
    }
}

/// A string cut to [`FIELD_CAP`] bytes at a character boundary, masked first when it is
/// cut: a secret cut in two is no longer recognised by its shape (the engine masks what
/// it shows again, which changes nothing on masked text).
fn cap(s: &str) -> String {
    if s.len() <= FIELD_CAP {
        return s.to_owned();
    }
    crate::mask::mask_cut(s, FIELD_CAP).into_owned()
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
        SignalSet::new(vec![Signal {
            lookups: Vec::new(),
            id: "archive-refused".into(),
            description: String::new(),
            patterns: vec![pattern],
            levels: vec![],
            origin: "test".into(),
        }])
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
        assert!(error.contains("size limit"), "{error}");
        assert!(
            Pattern::new("a(b", false)
                .unwrap_err()
                .contains("unclosed group")
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
