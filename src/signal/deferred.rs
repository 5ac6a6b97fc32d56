//! Matches held until their run is reported, so that events are built only for runs
//! that are shown.

use super::event::{EVENTS_PER_SIGNAL, Event, Events, FIELD_CAP, cap};
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
        /// The body of the exception box whose header this is, joined by spaces.
        box_message: String,
    },
}

/// Text that later lines add to an event: what the lines after it say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// An ece-tools suggestion: the unprefixed lines under its message (`suggestion`).
    Suggestion,
    /// The message of an exception box, under the box header the event matched
    /// (`message`, unless the pattern captured one).
    BoxMessage,
}

impl Attached {
    fn field(self) -> &'static str {
        match self {
            Attached::Suggestion => "suggestion",
            Attached::BoxMessage => "message",
        }
    }
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
            // Lines after a match that is not kept attach to nothing.
            self.last[signal] = None;
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
            box_message: String::new(),
        });
    }

    /// Appends an ece-tools suggestion line to the last match of `signal`, if any.
    pub fn attach_suggestion(&mut self, signal: usize, message: &str) {
        self.attach(signal, Attached::Suggestion, message);
    }

    /// Appends a line of what follows the last match of `signal` (if any) to the text
    /// `what` gathers; past [`FIELD_CAP`] bytes the rest is not kept.
    pub fn attach(&mut self, signal: usize, what: Attached, line: &str) {
        let Some(i) = self.last.get(signal).copied().flatten() else {
            return;
        };
        match (&mut self.matches[i], what) {
            (DeferredMatch::Built(event), _) => {
                let mut joined = event.field(what.field()).to_owned();
                join_capped(&mut joined, line);
                event.set_field(what.field(), joined);
            }
            (DeferredMatch::Held { suggestion, .. }, Attached::Suggestion) => {
                join_capped(suggestion, line)
            }
            (DeferredMatch::Held { box_message, .. }, Attached::BoxMessage) => {
                join_capped(box_message, line)
            }
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
                    box_message,
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
                    if !box_message.is_empty() && event.field("message").is_empty() {
                        event.set_field("message", cap(&box_message));
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

/// [`join_suggestion`], while the text is under [`FIELD_CAP`] bytes: lines attached
/// after that would be cut off the field anyway.
fn join_capped(text: &mut String, line: &str) {
    if text.len() <= FIELD_CAP {
        join_suggestion(text, line);
    }
}
