//! Matches held until their run is reported, so that events are built only for runs
//! that are shown.

use super::event::{EVENTS_PER_SIGNAL, Event, Events, FIELD_CAP};
use super::{SignalSet, within};
use crate::record::Record;
use crate::record::envelope::{Envelope, Level};

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
        if self.held[signal] >= EVENTS_PER_SIGNAL {
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
    pub fn build(&mut self, set: &SignalSet, events: &mut Events) {
        self.build_where(set, events, |_| true);
    }

    /// [`Deferred::build`], only for the signals `keep` takes; the others' matches go.
    pub fn build_where(
        &mut self,
        set: &SignalSet,
        events: &mut Events,
        keep: impl Fn(usize) -> bool,
    ) {
        for found in self.matches.drain(..) {
            let signal = match &found {
                DeferredMatch::Built(event) => event.signal,
                DeferredMatch::Held { signal, .. } => *signal,
            };
            if !keep(signal) {
                continue;
            }
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
