//! Events: what a signal saw on one line, built from the line's record and the
//! pattern's captures, and the bounded store of one source's events.

use regex::Regex;

use crate::record::Record;

/// The most characters of a field or evidence line kept in an event.
pub(super) const FIELD_CAP: usize = 2048;

/// One thing a signal saw on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Index of the signal in its [`SignalSet`](super::SignalSet).
    pub signal: usize,
    pub line: u64,
    /// The line as it appeared (trimmed, capped), for evidence.
    pub text: String,
    /// Named captures and envelope fields, sorted by name.
    pub fields: Vec<(String, String)>,
    /// Where the pattern matched in `text` (byte offsets), when the match lies in it: a
    /// message that is not part of the line (a decoded `cloud.error.log` title) has none.
    pub matched: Option<(u32, u32)>,
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

pub(super) fn make_event_without_captures(
    signal: usize,
    record: &Record<'_>,
    line_text: &str,
) -> Event {
    let mut event = Event {
        signal,
        line: record.line,
        text: cap(line_text.trim()),
        fields: Vec::new(),
        matched: None,
    };
    add_envelope_fields(&mut event, record);
    event
}

pub(super) fn make_event(
    signal: usize,
    record: &Record<'_>,
    line_text: &str,
    pattern: &Regex,
    caps: &regex::Captures<'_>,
) -> Event {
    let text = cap(line_text.trim());
    let matched = caps
        .get(0)
        .and_then(|m| span_in_text(record.envelope.message, m.range(), line_text, &text));
    let mut event = Event {
        signal,
        line: record.line,
        text,
        fields: Vec::new(),
        matched,
    };
    for name in pattern.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            event.set_field(name, cap(m.as_str()));
        }
    }
    add_envelope_fields(&mut event, record);
    event
}

/// Where `range` of `message` lies in `text`, the event text made of `line` (trimmed,
/// perhaps cut): `None` when the message is not part of the line, or the match is not
/// in the text as it was matched.
fn span_in_text(
    message: &str,
    range: std::ops::Range<usize>,
    line: &str,
    text: &str,
) -> Option<(u32, u32)> {
    if !super::within(message, line) || range.is_empty() {
        return None;
    }
    let trimmed = line.len() - line.trim_start().len();
    let offset = (message.as_ptr() as usize - line.as_ptr() as usize).checked_sub(trimmed)?;
    let (start, end) = (offset + range.start, offset + range.end);
    let matched = message.get(range)?;
    (text.get(start..end)? == matched)
        .then_some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
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
pub(super) fn cap(s: &str) -> String {
    if s.len() <= FIELD_CAP {
        return s.to_owned();
    }
    crate::mask::mask_cut(s, FIELD_CAP).into_owned()
}

/// The most events kept per signal and source; more are counted, not kept.
pub const EVENTS_PER_SIGNAL: usize = 1000;

/// The events of one source, grouped by signal, in bounded memory.
#[derive(Debug, Clone, Default)]
pub struct Events {
    by_signal: Vec<Vec<Event>>,
    /// Events seen but not kept, per signal.
    dropped: Vec<u64>,
    /// The signals that have an event, kept or dropped (each once): what
    /// [`Events::clear`] clears.
    touched: Vec<usize>,
}

impl Events {
    /// An empty store for `signals` signals.
    pub fn new(signals: usize) -> Events {
        Events {
            by_signal: vec![Vec::new(); signals],
            dropped: vec![0; signals],
            touched: Vec::new(),
        }
    }

    /// Forgets every event, keeping the room: a log split into many runs starts one per
    /// run, and most signals have none.
    pub fn clear(&mut self) {
        for s in self.touched.drain(..) {
            self.by_signal[s].clear();
            self.dropped[s] = 0;
        }
    }

    fn touch(&mut self, signal: usize) {
        if self.by_signal[signal].is_empty() && self.dropped[signal] == 0 {
            self.touched.push(signal);
        }
    }

    /// Keeps an event (up to the per-signal cap).
    pub fn push(&mut self, event: Event) {
        let s = event.signal;
        self.touch(s);
        if self.by_signal[s].len() < EVENTS_PER_SIGNAL {
            self.by_signal[s].push(event);
        } else {
            self.dropped[s] += 1;
        }
    }

    /// Counts events of a signal that were seen but not kept.
    pub fn count_dropped(&mut self, signal: usize, count: u64) {
        if signal < self.dropped.len() && count > 0 {
            self.touch(signal);
            self.dropped[signal] += count;
        }
    }

    #[cfg(test)]
    /// Whether a signal already holds as many events as are kept: more are only counted.
    pub fn is_full(&self, signal: usize) -> bool {
        self.by_signal
            .get(signal)
            .is_some_and(|kept| kept.len() >= EVENTS_PER_SIGNAL)
    }

    /// The kept events of a signal.
    pub fn of(&self, signal: usize) -> &[Event] {
        self.by_signal.get(signal).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn event(signal: usize, line: u64) -> Event {
        Event {
            signal,
            line,
            text: format!("line {line}"),
            fields: Vec::new(),
            matched: None,
        }
    }

    /// A cleared store is as a new one: no event of any signal, full ones included, and
    /// the cap counts again from zero.
    #[test]
    fn a_cleared_store_holds_nothing_and_keeps_counting() {
        let mut events = Events::new(3);
        events.push(event(0, 1));
        events.push(event(2, 2));
        for line in 0..EVENTS_PER_SIGNAL as u64 + 5 {
            events.push(event(1, line));
        }
        events.count_dropped(0, 4);
        assert!(events.is_full(1));
        events.clear();
        for signal in 0..3 {
            assert!(events.of(signal).is_empty(), "signal {signal}");
            assert!(!events.is_full(signal));
            assert_eq!(events.dropped[signal], 0);
        }
        events.push(event(1, 7));
        events.push(event(1, 8));
        assert_eq!(
            events.of(1).iter().map(|e| e.line).collect::<Vec<_>>(),
            [7, 8]
        );
        events.clear();
        assert!(events.of(1).is_empty());
        assert!(events.touched.is_empty());
    }
}
