//! `explain`: a rule's full text, a category's rules, or the nearest ids on a typo.

use std::io::{self, Write};

use colored::Colorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::cli::GlobalOptions;
use crate::report::diagnosis::Severity;
use crate::{Exit, warn};

use crate::rule::{Rule, RuleSet};

use super::load_rules;
use super::rules::Listed;

/// What `explain --format json` prints (`ExplainOutput` in docs/magediag-1.schema.json).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ExplainOutput")]
pub(super) struct ExplainOutput<'a> {
    /// The rule asked about, or every rule of the category asked about.
    rules: Vec<Explained<'a>>,
}

/// One rule, whole, as `explain --format json` shows it.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ExplainedRule")]
struct Explained<'a> {
    /// The rule's id.
    id: &'a str,
    /// `embedded`, or the rule file it came from.
    origin: &'a str,
    title: &'a str,
    #[schemars(schema_with = "crate::report::diagnosis::category_schema")]
    category: &'a str,
    severity: Severity,
    /// Higher ranks first among diagnoses of the same severity.
    priority: i32,
    /// The condition, as written in the rule file.
    when: &'a str,
    /// Signals read only as context, shown as evidence.
    also: Vec<&'a str>,
    /// Rules this one hides when their evidence is near.
    suppresses: &'a [String],
    /// A generic rule ranks below the specific ones.
    generic: bool,
    /// The signals the rule reads, as `rules signals --format json` shows them.
    signals: Vec<Listed<'a>>,
    causes: &'a [String],
    remediation: &'a [String],
    references: &'a [String],
    examples: Vec<ExplainedExample>,
}

/// One of a rule's examples.
#[derive(Serialize, JsonSchema)]
struct ExplainedExample {
    /// Whether the rule must fire on it (else it must stay quiet).
    fires: bool,
    /// The example's log, secrets masked.
    log: String,
}

/// The signals a rule reads: in `when`, then in `also`, each once.
fn signals_of(rules: &RuleSet, rule: &Rule) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    rule.when.atoms(&mut |t: &crate::rule::cond::Test| {
        if let Some(i) = rules.signals.index(t.signal())
            && !out.contains(&i)
        {
            out.push(i);
        }
    });
    for &i in &rule.also {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn explained<'a>(rules: &'a RuleSet, rule: &'a Rule) -> Explained<'a> {
    let signals = rules.signals.signals();
    Explained {
        id: &rule.id,
        origin: &rule.origin,
        title: &rule.title,
        category: &rule.category,
        severity: rule.severity,
        priority: rule.priority,
        when: &rule.when_text,
        also: rule.also.iter().map(|&i| signals[i].id.as_str()).collect(),
        suppresses: &rule.suppresses,
        generic: rule.generic,
        signals: signals_of(rules, rule)
            .into_iter()
            .map(|i| super::rules::listed(rules, i))
            .collect(),
        causes: &rule.causes,
        remediation: &rule.remediation,
        references: &rule.references,
        examples: rule
            .examples
            .iter()
            .map(|e| ExplainedExample {
                fires: e.fires,
                log: crate::mask::mask(&e.log).into_owned(),
            })
            .collect(),
    }
}

pub(super) fn explain(
    id: &str,
    global: &GlobalOptions,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    let matching: Vec<&Rule> = match rules.rule(id) {
        Some(rule) => vec![rule],
        None => rules.rules.iter().filter(|r| r.category == id).collect(),
    };
    if matching.is_empty() {
        let mut names: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
        names.extend(rules.rules.iter().map(|r| r.category.as_str()));
        let close = crate::messages::nearest(id, &names);
        let hint = if close.is_empty() {
            "see `magediag rules list`".to_owned()
        } else {
            let close: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
            format!("did you mean {}?", close.join(" or "))
        };
        warn(&format!("no rule or category `{id}`: {hint}"));
        return Ok(Exit::Trouble);
    }
    if json {
        let rules = matching.iter().map(|r| explained(&rules, r)).collect();
        serde_json::to_writer_pretty(&mut *out, &ExplainOutput { rules })?;
        writeln!(out)?;
        return Ok(Exit::Clean);
    }
    if let [rule] = matching.as_slice()
        && rule.id == id
    {
        explain_rule(&rules, rule, out)?;
        return Ok(Exit::Clean);
    }
    writeln!(
        out,
        "{} {}: {}",
        "category".bold(),
        id.bold(),
        crate::rule::template::count(matching.len() as u64, "rule", "rules")
    )?;
    let width = matching.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in &matching {
        writeln!(
            out,
            "  {:width$}  {:7}  {}",
            rule.id,
            rule.severity.as_str(),
            rule.title
        )?;
    }
    writeln!(out, "\nEach in full: magediag explain RULE")?;
    Ok(Exit::Clean)
}

fn explain_rule(rules: &RuleSet, rule: &Rule, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{} ({})", rule.id.bold(), rule.origin)?;
    writeln!(out, "{}\n", rule.title)?;
    writeln!(
        out,
        "category: {}\nseverity: {}\npriority: {}",
        rule.category, rule.severity, rule.priority
    )?;
    writeln!(out, "when:     {}", rule.when_text)?;
    let signals = rules.signals.signals();
    if !rule.also.is_empty() {
        let also: Vec<&str> = rule.also.iter().map(|&i| signals[i].id.as_str()).collect();
        writeln!(
            out,
            "also:     {} (context, shown as evidence)",
            also.join(", ")
        )?;
    }
    if !rule.suppresses.is_empty() {
        writeln!(
            out,
            "hides:    {} (when their evidence is near)",
            rule.suppresses.join(", ")
        )?;
    }
    if rule.generic {
        writeln!(out, "generic:  yes (ranks below every specific rule)")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", "Signals".bold())?;
    for i in signals_of(rules, rule) {
        let s = super::rules::listed(rules, i);
        writeln!(out, "  {}", s.id)?;
        for pattern in &s.patterns {
            writeln!(out, "    pattern:  {pattern}")?;
        }
        if !s.captures.is_empty() {
            writeln!(out, "    captures: {}", s.captures.join(", "))?;
        }
        if !s.levels.is_empty() {
            writeln!(
                out,
                "    levels:   {} (lines without a level never match)",
                s.levels.join(", ")
            )?;
        }
        if !s.lookups.is_empty() {
            writeln!(out, "    lookups:  {}", s.lookups.join(", "))?;
        }
    }
    writeln!(out)?;
    let section =
        |out: &mut dyn Write, title: &str, items: &[String], numbered: bool| -> io::Result<()> {
            writeln!(out, "{}", title.bold())?;
            for (i, item) in items.iter().enumerate() {
                if numbered {
                    writeln!(out, "  {}. {item}", i + 1)?;
                } else {
                    writeln!(out, "  - {item}")?;
                }
            }
            writeln!(out)
        };
    section(out, "Likely causes", &rule.causes, false)?;
    section(out, "Fix", &rule.remediation, true)?;
    section(out, "References", &rule.references, false)?;
    writeln!(out, "{}", "Examples".bold())?;
    for example in &rule.examples {
        let verdict = if example.fires {
            "fires on"
        } else {
            "stays quiet on"
        };
        writeln!(out, "  {verdict}:")?;
        let context = crate::mask::context_values(&example.log);
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        for line in example.log.lines() {
            let masked = crate::mask::mask(line);
            writeln!(out, "    | {}", crate::mask::redact(&masked, &context))?;
        }
    }
    Ok(())
}
