//! `magediag trace`: what the pipeline made of some lines (after repair and envelope),
//! which signals fired there with which fields, and for each rule why it fired or did
//! not, test by test. The question every rule author asks when a rule stays silent.

use std::io::{self, Cursor, Write};
use std::ops::RangeInclusive;

use colored::Colorize;
use serde::Serialize;

use crate::engine;
use crate::input::line::LineReader;
use crate::mask::mask;
use crate::record::Framer;
use crate::repair::Repairer;
use crate::rule::RuleSet;
use crate::rule::cond::Test;
use crate::rule::examples;
use crate::signal::Event;

/// One logical line in the traced range, as the signals saw it.
struct Traced {
    line: u64,
    message: String,
    context: Vec<String>,
    events: Vec<Event>,
}

/// What `trace` found: the traced lines, and every rule's verdict (`--format json`).
#[derive(Debug, Serialize)]
pub struct TraceReport {
    pub lines: Vec<TracedLine>,
    pub rules: Vec<RuleVerdict>,
}

/// One logical line as the signals saw it.
#[derive(Debug, Serialize)]
pub struct TracedLine {
    pub line: u64,
    /// The message after repair and envelope, masked.
    pub message: String,
    /// What the envelope made of the line (`level=error`, `stage=build`, ...).
    pub envelope: Vec<String>,
    pub signals: Vec<SignalHit>,
}

/// A signal that matched a traced line, with its fields (masked).
#[derive(Debug, Serialize)]
pub struct SignalHit {
    pub signal: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

/// A rule over the whole input: fired or not; test by test when it looks at a signal
/// seen on the traced lines.
#[derive(Debug, Serialize)]
pub struct RuleVerdict {
    pub id: String,
    pub category: String,
    pub fired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
}

/// Traces the lines of `text` in `range` (1-based, inclusive) and explains every rule.
pub fn trace_report(rules: &RuleSet, text: &[u8], range: RangeInclusive<u64>) -> TraceReport {
    let traced = trace_lines(rules, text, &range);
    // A secret that only the lines around it show (a PEM body, a wrapped key).
    let messages: Vec<&str> = traced.iter().map(|t| t.message.as_str()).collect();
    let context = crate::mask::context_values(&messages.join("\n"));
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let shown = |text: &str| crate::mask::redact(&mask(text), &context);
    let mut hit_signals: Vec<usize> = Vec::new();
    let lines = traced
        .iter()
        .map(|t| TracedLine {
            line: t.line,
            message: shown(&t.message),
            envelope: t.context.clone(),
            signals: t
                .events
                .iter()
                .map(|event| {
                    hit_signals.push(event.signal);
                    SignalHit {
                        signal: rules.signals.signals()[event.signal].id.clone(),
                        fields: event
                            .fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), shown(v)))
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    TraceReport {
        lines,
        rules: rule_verdicts(rules, text, &hit_signals),
    }
}

/// Writes a trace as text.
pub fn write_text(report: &TraceReport, out: &mut dyn Write) -> io::Result<()> {
    for t in &report.lines {
        writeln!(out, "{} {}", format!("line {}:", t.line).bold(), t.message)?;
        if !t.envelope.is_empty() {
            writeln!(out, "  envelope: {}", t.envelope.join(", "))?;
        }
        if t.signals.is_empty() {
            writeln!(out, "  no signal matched")?;
        }
        for hit in &t.signals {
            let fields: Vec<String> = hit
                .fields
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            writeln!(out, "  signal {}: {}", hit.signal.green(), fields.join(" "))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", "rules over the whole input:".bold())?;
    for rule in &report.rules {
        let label = if rule.fired {
            "fired".green()
        } else {
            "quiet".normal()
        };
        writeln!(out, "  {label} {} [{}]", rule.id, rule.category)?;
        if let Some(when) = &rule.when {
            writeln!(out, "        when: {when}")?;
            for test in &rule.tests {
                writeln!(out, "        {test}")?;
            }
        }
    }
    Ok(())
}

fn trace_lines(rules: &RuleSet, text: &[u8], range: &RangeInclusive<u64>) -> Vec<Traced> {
    let logical = logical_lines(text, *range.end());
    let mut framer = Framer::new();
    let mut traced = Vec::new();
    for (i, (first, text)) in logical.iter().enumerate() {
        let record = framer.frame(*first, text);
        // A line joined from several physical ones covers them up to the next one.
        let last = logical
            .get(i + 1)
            .map_or(*first, |(next, _)| next.saturating_sub(1).max(*first));
        if *first > *range.end() || last < *range.start() {
            continue;
        }
        let mut events = Vec::new();
        rules
            .signals
            .scan(&record, text, |_| true, &mut Vec::new(), &mut events);
        traced.push(Traced {
            line: *first,
            message: record.envelope.message.to_owned(),
            context: context_of(&record),
            events,
        });
    }
    traced
}

/// The repaired lines of the input, up to a little past `until`.
fn logical_lines(text: &[u8], until: u64) -> Vec<(u64, String)> {
    let mut lines = LineReader::new(Cursor::new(text));
    let mut repairer = Repairer::new();
    let mut repaired = Vec::new();
    let mut number = 0;
    while let Ok(Some(bytes)) = lines.next_line() {
        number += 1;
        repairer.push(number, &String::from_utf8_lossy(bytes), &mut repaired);
        if number > until.saturating_add(64) {
            break;
        }
    }
    repairer.finish(&mut repaired);
    repaired.into_iter().map(|l| (l.line, l.text)).collect()
}

fn context_of(record: &crate::record::Record<'_>) -> Vec<String> {
    let e = &record.envelope;
    let mut context = Vec::new();
    if let Some(level) = e.level {
        context.push(format!("level={}", level.as_str()));
    }
    if let Some(code) = e.code {
        context.push(format!("code={code}"));
    }
    if let Some(stage) = record.stage {
        context.push(format!("stage={}", stage.as_str()));
    }
    if let Some(exception) = &record.exception {
        context.push(format!("exception={exception:?}"));
    }
    if record.continues_ece {
        context.push("continues the ece-tools line above (suggestion)".into());
    }
    if let Some(run) = &record.new_run {
        context.push(format!("starts a new deployment run ({run})"));
    }
    context
}

/// For every rule: fired or not over the whole input; test by test for the rules that
/// look at a signal seen on the traced lines.
fn rule_verdicts(rules: &RuleSet, text: &[u8], hit: &[usize]) -> Vec<RuleVerdict> {
    let events = examples::events_of(rules, &String::from_utf8_lossy(text));
    rules
        .rules
        .iter()
        .map(|rule| {
            let verdict = engine::explain(rule, rules, &events);
            let mut uses_hit = false;
            rule.when.atoms(&mut |t: &Test| {
                uses_hit |= rules
                    .signals
                    .index(t.signal())
                    .is_some_and(|s| hit.contains(&s));
            });
            RuleVerdict {
                id: rule.id.clone(),
                category: rule.category.clone(),
                fired: verdict.fired,
                when: uses_hit.then(|| one_line(&rule.when_text)),
                tests: if uses_hit {
                    verdict.tests.iter().map(ToString::to_string).collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `N` or `N-M` (1-based, inclusive).
pub fn parse_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                format!("invalid line `{s}`: expected a line number from 1, or a range like 10-20")
            })
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if a > b {
                return Err(format!(
                    "invalid range `{text}`: the first line is after the last"
                ));
            }
            Ok(a..=b)
        }
        None => parse(text).map(|n| n..=n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("7").unwrap(), 7..=7);
        assert_eq!(parse_range("3-9").unwrap(), 3..=9);
        assert!(parse_range("0").is_err());
        assert!(parse_range("9-3").is_err());
        assert!(parse_range("x").is_err());
    }
}
