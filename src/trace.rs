//! `magediag trace`: what the pipeline made of some lines (after repair and envelope),
//! which signals fired there with which fields, and for each rule why it fired or did
//! not, test by test. The question every rule author asks when a rule stays silent.

use std::io::{self, Cursor, Write};
use std::ops::RangeInclusive;

use colored::Colorize;

use crate::cond::Test;
use crate::engine;
use crate::line::LineReader;
use crate::mask::mask;
use crate::record::Framer;
use crate::repair::Repairer;
use crate::rule::RuleSet;
use crate::ruletest;
use crate::signal::Event;

/// One logical line in the traced range, as the signals saw it.
struct Traced {
    line: u64,
    message: String,
    context: Vec<String>,
    events: Vec<Event>,
}

/// Traces the lines of `text` in `range` (1-based, inclusive) and explains every rule.
pub fn trace(
    rules: &RuleSet,
    text: &[u8],
    range: RangeInclusive<u64>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let traced = trace_lines(rules, text, &range);
    if traced.is_empty() {
        writeln!(
            out,
            "no line in {}-{}: the input has fewer lines",
            range.start(),
            range.end()
        )?;
    }
    // A secret that only the lines around it show (a PEM body, a wrapped key).
    let lines: Vec<&str> = traced.iter().map(|t| t.message.as_str()).collect();
    let context = crate::mask::context_values(&lines.join("\n"));
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let shown = |text: &str| crate::mask::redact(&mask(text), &context);
    let mut hit_signals: Vec<usize> = Vec::new();
    for t in &traced {
        writeln!(
            out,
            "{} {}",
            format!("line {}:", t.line).bold(),
            shown(&t.message)
        )?;
        if !t.context.is_empty() {
            writeln!(out, "  envelope: {}", t.context.join(", "))?;
        }
        if t.events.is_empty() {
            writeln!(out, "  no signal matched")?;
        }
        for event in &t.events {
            let signal = &rules.signals.signals()[event.signal];
            hit_signals.push(event.signal);
            let fields: Vec<String> = event
                .fields
                .iter()
                .map(|(k, v)| format!("{k}={:?}", shown(v)))
                .collect();
            writeln!(out, "  signal {}: {}", signal.id.green(), fields.join(" "))?;
        }
    }
    writeln!(out)?;
    explain_rules(rules, text, &hit_signals, out)
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
fn explain_rules(
    rules: &RuleSet,
    text: &[u8],
    hit: &[usize],
    out: &mut dyn Write,
) -> io::Result<()> {
    let events = ruletest::events_of(rules, &String::from_utf8_lossy(text));
    writeln!(out, "{}", "rules over the whole input:".bold())?;
    for rule in &rules.rules {
        let verdict = engine::explain(rule, rules, &events);
        let mut uses_hit = false;
        rule.when.atoms(&mut |t: &Test| {
            uses_hit |= rules
                .signals
                .index(t.signal())
                .is_some_and(|s| hit.contains(&s));
        });
        let label = if verdict.fired {
            "fired".green()
        } else {
            "quiet".normal()
        };
        writeln!(out, "  {label} {} [{}]", rule.id, rule.category)?;
        if uses_hit {
            writeln!(out, "        when: {}", one_line(&rule.when_text))?;
            for test in &verdict.tests {
                writeln!(out, "        {test}")?;
            }
        }
    }
    Ok(())
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
