//! `rules`: list the rules, run their examples, print the catalogue, check rule files.

use std::io::Write;

use colored::Colorize;
use serde::Serialize;

use crate::Outcome;
use crate::commands::cli::{GlobalOptions, RulesAction, TextOrJson};
use crate::report::diagnosis::Severity;
use crate::rule::RuleSet;
use crate::rule::examples;

use super::load_rules;

pub(super) fn rules_command(
    action: &RulesAction,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match action {
        RulesAction::List { format, .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            list_rules(&rules, format.format == TextOrJson::Json, out)?;
            Ok(Outcome::Clean)
        }
        RulesAction::Doc { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            out.write_all(crate::rule::catalogue::markdown(&rules).as_bytes())?;
            Ok(Outcome::Clean)
        }
        RulesAction::Test { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            test_rules(&rules, out)
        }
        RulesAction::Check { paths } => {
            let mut global = global.clone();
            global.rules.rules = paths.clone();
            let Some(rules) = load_rules(&global) else {
                return Ok(Outcome::Trouble);
            };
            writeln!(
                out,
                "ok: {} rules, {} signals",
                rules.rules.len(),
                rules.signals.signals().len()
            )?;
            Ok(Outcome::Clean)
        }
    }
}

#[derive(Serialize)]
struct RuleListing<'a> {
    id: &'a str,
    category: &'a str,
    severity: Severity,
    title: &'a str,
    examples: ExampleCounts,
}

#[derive(Serialize)]
struct ExampleCounts {
    fires: usize,
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
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "rules": listing }))?;
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

fn test_rules(rules: &RuleSet, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let results = examples::run_all(rules);
    for failure in &results.failures {
        writeln!(out, "{failure}\n")?;
    }
    let failed = results.failures.len();
    let line = format!("{} passed, {failed} failed", results.passed);
    if failed == 0 {
        writeln!(out, "{}", line.green())?;
        Ok(Outcome::Clean)
    } else {
        writeln!(out, "{}", line.red())?;
        Ok(Outcome::Diagnosed)
    }
}
