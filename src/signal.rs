//! Signals: compiled line matchers that turn a record into typed events whose fields
//! are the patterns' named captures, plus what the envelope knew (level, code, stage,
//! exception).
//!
//! A line first goes through the prefilter (the patterns' required literals in one
//! automaton): a line that matches nothing costs one pass of it, and only the patterns
//! whose literals it holds run, with captures only for those that match.

use std::collections::HashMap;

use regex::{Regex, RegexSet};

use crate::envelope::Level;
use crate::prefilter::{self, Prefilter};
use crate::record::Record;

/// The most characters of a field or evidence line kept in an event.
const FIELD_CAP: usize = 2048;

/// One compiled signal.
#[derive(Debug, Clone)]
pub struct Signal {
    pub id: String,
    pub description: String,
    pub patterns: Vec<Regex>,
    /// Only records at one of these levels match (empty: any record).
    pub levels: Vec<Level>,
    /// Where the signal was defined, for messages.
    pub origin: String,
}

impl Signal {
    /// Names of every field this signal's events can carry.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.patterns
            .iter()
            .flat_map(|p| p.capture_names().flatten())
            .chain(BUILTIN_FIELDS.iter().copied())
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
    by_id: HashMap<String, usize>,
}

impl SignalSet {
    /// Builds the set; patterns are already compiled, so only the set can fail (size limits).
    pub fn new(signals: Vec<Signal>) -> Result<SignalSet, regex::Error> {
        let mut owners = Vec::new();
        let mut items = Vec::new();
        for (s, signal) in signals.iter().enumerate() {
            for (p, pattern) in signal.patterns.iter().enumerate() {
                owners.push((s, p));
                items.push(prefilter::required_literals(pattern.as_str()));
            }
        }
        let error_words = items.len();
        items.push(Some(
            ERROR_WORDS.iter().map(|w| w.as_bytes().to_vec()).collect(),
        ));
        let prefilter = Prefilter::new(&items);
        let unfiltered = match prefilter.unfiltered() {
            [] => None,
            ids => {
                let sources = ids.iter().map(|&i| {
                    let (s, p) = owners[i];
                    signals[s].patterns[p].as_str()
                });
                Some((RegexSet::new(sources)?, ids.to_vec()))
            }
        };
        let by_id = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(SignalSet {
            signals,
            prefilter,
            unfiltered,
            owners,
            error_words,
            by_id,
        })
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
        let message = record.envelope.message;
        scratch.clear();
        let mut found = self.prefilter.candidates(line_text.as_bytes(), scratch);
        if !within(message, line_text) {
            // A message that is not part of the line (a decoded JSON title) is searched too.
            found |= self.prefilter.candidates(message.as_bytes(), scratch);
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
            let regex = &signal.patterns[p];
            if !keep(s) {
                if regex.is_match(message) {
                    last_signal = s;
                    out.push(Event {
                        signal: s,
                        line: record.line,
                        text: String::new(),
                        fields: Vec::new(),
                    });
                }
                continue;
            }
            let Some(caps) = regex.captures(message) else {
                continue;
            };
            last_signal = s;
            out.push(make_event(s, record, line_text, regex, &caps));
        }
        error_words
    }
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
        text: cap(line_text.trim()).to_owned(),
        fields: Vec::new(),
    };
    for name in pattern.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            event.set_field(name, cap(m.as_str()).to_owned());
        }
    }
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
    derive_package(&mut event);
    event
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

/// Cuts a string to [`FIELD_CAP`] bytes at a character boundary.
fn cap(s: &str) -> &str {
    if s.len() <= FIELD_CAP {
        return s;
    }
    let mut end = FIELD_CAP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Framer;

    fn archive_signal() -> SignalSet {
        let pattern = Regex::new(
            r"https?://(?P<host>[^/\s'\x22]+)/archives/(?P<vendor>[^/]+)/(?P<name>[^/]+)/(?P<archive>[^/\s'\x22]+\.zip).*?HTTP/[\d.]+ (?P<status>\d{3})",
        )
        .unwrap();
        SignalSet::new(vec![Signal {
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
    fn a_line_without_a_match_makes_no_event() {
        let set = archive_signal();
        let mut framer = Framer::new();
        let record = framer.frame(1, "Loading composer repositories with package information");
        let mut events = Vec::new();
        set.scan(&record, "", |_| true, &mut Vec::new(), &mut events);
        assert!(events.is_empty());
    }
}
