//! `rules`: list the rules, run their examples, print the catalogue, check rule files.

use std::io::Write;

use colored::Colorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::cli::{GlobalOptions, RulesAction, TextOrJson};
use crate::report::diagnosis::Severity;
use crate::rule::Rule;
use crate::rule::RuleSet;
use crate::rule::examples;
use crate::rule::template::plurals;
use crate::{Exit, warn};

use super::load_rules;

mod signals;

pub(super) use signals::{Listed, SignalsOutput, listed};

pub(super) fn rules_command(
    action: &RulesAction,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    match action {
        RulesAction::List { format, .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Exit::Trouble);
            };
            list_rules(&rules, format.format == TextOrJson::Json, out)?;
            Ok(Exit::Clean)
        }
        RulesAction::Doc { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Exit::Trouble);
            };
            out.write_all(crate::rule::catalogue::markdown(&rules).as_bytes())?;
            Ok(Exit::Clean)
        }
        RulesAction::Test { paths, only, .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Exit::Trouble);
            };
            if !super::rules_known(&rules, only) {
                return Ok(Exit::Trouble);
            }
            // Files given: only their rules; ids given: only those.
            let chosen = |rule: &Rule| {
                (paths.is_empty() || !rule.shipped) && (only.is_empty() || only.contains(&rule.id))
            };
            test_rules(&rules, &chosen, out)
        }
        RulesAction::Check { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Exit::Trouble);
            };
            check_rules(&rules, out)
        }
        RulesAction::Signals { id, format, .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Exit::Trouble);
            };
            signals::list(
                &rules,
                id.as_deref(),
                format.format == TextOrJson::Json,
                out,
            )
        }
    }
}

/// `rules check`: the files loaded, and each of their rules has an example of each kind.
fn check_rules(rules: &RuleSet, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let mine: Vec<&Rule> = rules.rules.iter().filter(|r| !r.shipped).collect();
    let my_signals = rules
        .signals
        .signals()
        .iter()
        .filter(|s| !s.shipped)
        .count();
    let mut missing = 0;
    for rule in &mine {
        for (fires, kind) in [(true, "fires = true"), (false, "fires = false")] {
            if !rule.examples.iter().any(|e| e.fires == fires) {
                warn(&format!(
                    "{}: rule `{}` has no example with `{kind}`: add a `[[rule.example]]` \
                     whose log it must {}",
                    rule.origin,
                    rule.id,
                    if fires { "fire on" } else { "stay quiet on" }
                ));
                missing += 1;
            }
        }
    }
    if missing > 0 {
        return Ok(Exit::Trouble);
    }
    let shipped = rules.rules.len() - mine.len();
    writeln!(
        out,
        "{}",
        plurals(&format!(
            "ok: {} rule(s) and {my_signals} signal(s) of yours, checked with {shipped} shipped {}",
            mine.len(),
            if shipped == 1 { "rule" } else { "rules" }
        ))
    )?;
    Ok(Exit::Clean)
}

/// What `rules list --format json` prints (`RulesListOutput` in
/// docs/magediag-1.schema.json).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RulesListOutput")]
pub(super) struct RulesListOutput<'a> {
    /// Every rule loaded (shipped, and from `--rules`).
    rules: Vec<RuleListing<'a>>,
}

/// One rule of `rules list`.
#[derive(Serialize, JsonSchema)]
struct RuleListing<'a> {
    id: &'a str,
    #[schemars(schema_with = "crate::report::diagnosis::category_schema")]
    category: &'a str,
    severity: Severity,
    title: &'a str,
    examples: ExampleCounts,
}

/// How many examples a rule has of each kind.
#[derive(Serialize, JsonSchema)]
struct ExampleCounts {
    /// Examples the rule must fire on.
    fires: usize,
    /// Examples it must stay quiet on.
    quiet: usize,
}

fn list_rules(rules: &RuleSet, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let listing: Vec<RuleListing<'_>> = rules
        .rules
        .iter()
        .map(|r| RuleListing {
            id: &r.id,
            category: &r.category,
            severity: r.severity,
            title: &r.title,
            examples: ExampleCounts {
                fires: r.examples.iter().filter(|e| e.fires).count(),
                quiet: r.examples.iter().filter(|e| !e.fires).count(),
            },
        })
        .collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &RulesListOutput { rules: listing })?;
        writeln!(out)?;
        return Ok(());
    }
    let id_width = listing.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let cat_width = listing.iter().map(|r| r.category.len()).max().unwrap_or(8);
    for r in &listing {
        writeln!(
            out,
            "{:id_width$}  {:cat_width$}  {:7}  {}  ({} fire, {} quiet)",
            r.id,
            r.category,
            r.severity.as_str(),
            r.title,
            r.examples.fires,
            r.examples.quiet
        )?;
    }
    writeln!(out, "{} rules", listing.len())?;
    Ok(())
}

fn test_rules(
    rules: &RuleSet,
    chosen: &dyn Fn(&Rule) -> bool,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let results = examples::run_some(rules, chosen);
    for failure in &results.failures {
        writeln!(out, "{failure}\n")?;
    }
    let failed = results.failures.len();
    let line = format!(
        "{} passed, {failed} failed ({})",
        results.passed,
        plurals(&format!("{} rule(s)", results.rules))
    );
    if failed == 0 {
        writeln!(out, "{}", line.green())?;
        Ok(Exit::Clean)
    } else {
        writeln!(out, "{}", line.red())?;
        Ok(Exit::Diagnosed)
    }
}
