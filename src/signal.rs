//! Signals: compiled line matchers that turn a record into typed events whose fields
//! are the patterns' named captures, plus what the envelope knew (level, code, stage,
//! exception).
//!
//! All patterns of all signals form one `RegexSet`, so a line that matches nothing costs
//! one pass of the set; captures run only for the patterns that matched.

use std::collections::HashMap;

use regex::{Regex, RegexSet};

use crate::envelope::Level;
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

/// Every signal of a rule set, matched together.
#[derive(Debug, Clone)]
pub struct SignalSet {
    signals: Vec<Signal>,
    set: RegexSet,
    /// For each pattern of `set`: (signal index, pattern index within the signal).
    owners: Vec<(usize, usize)>,
    by_id: HashMap<String, usize>,
}

impl SignalSet {
    /// Builds the set; patterns are already compiled, so only the set can fail (size limits).
    pub fn new(signals: Vec<Signal>) -> Result<SignalSet, regex::Error> {
        let mut owners = Vec::new();
        let mut sources = Vec::new();
        for (s, signal) in signals.iter().enumerate() {
            for (p, pattern) in signal.patterns.iter().enumerate() {
                owners.push((s, p));
                sources.push(pattern.as_str().to_owned());
            }
        }
        let set = RegexSet::new(&sources)?;
        let by_id = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(SignalSet {
            signals,
            set,
            owners,
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

    /// Matches one record; pushes at most one event per signal.
    pub fn scan(&self, record: &Record<'_>, line_text: &str, out: &mut Vec<Event>) {
        let message = record.envelope.message;
        if message.is_empty() {
            return;
        }
        let matches = self.set.matches(message);
        if !matches.matched_any() {
            return;
        }
        let mut last_signal = usize::MAX;
        for pattern in matches.iter() {
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
            let Some(caps) = signal.patterns[p].captures(message) else {
                continue;
            };
            last_signal = s;
            out.push(make_event(s, record, line_text, &signal.patterns[p], &caps));
        }
    }
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
        set.scan(&record, line, &mut events);
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
        set.scan(&record, "", &mut events);
        assert!(events.is_empty());
    }
}
