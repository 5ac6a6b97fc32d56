//! `rules signals`: the signals rules read, with what each matches, captures and feeds.

use std::io::Write;

use colored::Colorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::messages::did_you_mean;
use crate::rule::RuleSet;
use crate::rule::cond::Test;

/// What `rules signals --format json` prints (`RulesSignalsOutput` in
/// docs/magediag-1.schema.json).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RulesSignalsOutput")]
pub(in crate::commands) struct SignalsOutput<'a> {
    /// Every signal, or the one asked for.
    signals: Vec<Listed<'a>>,
}

/// One signal as `rules signals` shows it (and its JSON).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "SignalListing")]
pub(in crate::commands) struct Listed<'a> {
    /// The signal's id, as rules name it in `when` and `also`.
    pub(in crate::commands) id: &'a str,
    /// What it matches, in words (empty when its file says nothing).
    pub(in crate::commands) description: &'a str,
    /// The rule file that defines it.
    pub(in crate::commands) file: &'a str,
    /// Its regular expressions, as written.
    pub(in crate::commands) patterns: Vec<&'a str>,
    /// The fields its events carry from captures, in pattern order, each once.
    pub(in crate::commands) captures: Vec<&'a str>,
    /// Only records at these levels match (empty: any record).
    pub(in crate::commands) levels: Vec<&'static str>,
    /// Data tables whose matching row adds columns to its events.
    pub(in crate::commands) lookups: Vec<&'a str>,
    /// Rules that read it in `when`.
    pub(in crate::commands) when: Vec<&'a str>,
    /// Rules that read it only as context (`also`).
    pub(in crate::commands) also: Vec<&'a str>,
}

pub(in crate::commands) fn listed(rules: &RuleSet, index: usize) -> Listed<'_> {
    let signal = &rules.signals.signals()[index];
    let mut captures: Vec<&str> = Vec::new();
    for name in signal.patterns.iter().flat_map(|p| p.captures()) {
        if !captures.contains(&name.as_str()) {
            captures.push(name);
        }
    }
    let mut when = Vec::new();
    let mut also = Vec::new();
    for rule in &rules.rules {
        let mut reads = false;
        rule.when
            .atoms(&mut |t: &Test| reads |= t.signal() == signal.id);
        if reads {
            when.push(rule.id.as_str());
        } else if rule.also.contains(&index) {
            also.push(rule.id.as_str());
        }
    }
    Listed {
        id: &signal.id,
        description: &signal.description,
        file: &signal.origin,
        patterns: signal.patterns.iter().map(|p| p.as_str()).collect(),
        captures,
        levels: signal.levels.iter().map(|l| l.as_str()).collect(),
        lookups: signal.lookups.iter().map(|t| t.name.as_str()).collect(),
        when,
        also,
    }
}

/// Lists every signal, or shows one in full; JSON lists them all the same way.
pub(super) fn list(
    rules: &RuleSet,
    id: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<crate::Exit> {
    let signals = rules.signals.signals();
    let chosen: Vec<Listed<'_>> = match id {
        None => signals
            .iter()
            .enumerate()
            .map(|(i, _)| listed(rules, i))
            .collect(),
        Some(id) => match rules.signals.index(id) {
            Some(i) => vec![listed(rules, i)],
            None => {
                let ids: Vec<&str> = signals.iter().map(|s| s.id.as_str()).collect();
                crate::warn(&format!(
                    "no signal with id `{id}`{}: `magediag rules signals` lists them",
                    did_you_mean(id, &ids)
                ));
                return Ok(crate::Exit::Trouble);
            }
        },
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &SignalsOutput { signals: chosen })?;
        writeln!(out)?;
        return Ok(crate::Exit::Clean);
    }
    if id.is_some() {
        for signal in &chosen {
            full(signal, out)?;
        }
        return Ok(crate::Exit::Clean);
    }
    let width = chosen.iter().map(|s| s.id.len()).max().unwrap_or(2);
    for s in &chosen {
        let readers = if s.when.is_empty() && s.also.is_empty() {
            "read by no rule".to_owned()
        } else {
            let mut all: Vec<String> = s.when.iter().map(|r| (*r).to_owned()).collect();
            all.extend(s.also.iter().map(|r| format!("{r} (also)")));
            format!("read by {}", all.join(", "))
        };
        writeln!(out, "{:width$}  {}", s.id, readers)?;
    }
    writeln!(
        out,
        "{}",
        crate::rule::template::plurals(&format!(
            "{} signal(s); `magediag rules signals ID` shows one in full",
            chosen.len()
        ))
    )?;
    Ok(crate::Exit::Clean)
}

fn full(s: &Listed<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} ({})", s.id.bold(), s.file)?;
    if !s.description.is_empty() {
        writeln!(out, "{}", s.description)?;
    }
    writeln!(out, "\n{}", "Patterns".bold())?;
    for p in &s.patterns {
        writeln!(out, "  {p}")?;
    }
    let list = |items: &[&str]| {
        if items.is_empty() {
            "(none)".to_owned()
        } else {
            items.join(", ")
        }
    };
    writeln!(out, "\ncaptures: {}", list(&s.captures))?;
    writeln!(
        out,
        "levels:   {}",
        if s.levels.is_empty() {
            "any (lines without a level too)".to_owned()
        } else {
            format!(
                "{} (a line without a level never matches)",
                s.levels.join(", ")
            )
        }
    )?;
    writeln!(out, "lookups:  {}", list(&s.lookups))?;
    writeln!(out, "when:     {}", list(&s.when))?;
    writeln!(out, "also:     {}", list(&s.also))?;
    Ok(())
}
