//! Rule examples as tests: every rule must fire on its `fires = true` examples (with
//! the expected fields and packages) and stay quiet on its `fires = false` ones, and must
//! have at least one of each. `magediag rules test` and `cargo test` run this same code.

use std::fmt;
use std::io::Cursor;

use crate::engine;
use crate::input::source::Source;
use crate::pipeline;
use crate::rule::{Example, Rule, RuleSet};

/// What went wrong with one example (or with a rule's set of examples).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub rule: String,
    /// `path:line` of the example, or of the rule when an example kind is missing.
    pub origin: String,
    pub example: Option<String>,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "FAIL {} ({})", self.rule, self.origin)?;
        if let Some(example) = &self.example {
            writeln!(f, "  example:")?;
            for line in example.lines().take(12) {
                writeln!(f, "    | {line}")?;
            }
        }
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  got:      {}", self.got)
    }
}

/// The outcome of running every example.
#[derive(Debug, Default)]
pub struct Results {
    /// How many rules ran.
    pub rules: usize,
    pub passed: usize,
    pub failures: Vec<Failure>,
}

/// Runs every example of every rule in the set.
pub fn run_all(rules: &RuleSet) -> Results {
    run_some(rules, &|_| true)
}

/// Runs the examples of the rules `chosen` picks.
pub fn run_some(rules: &RuleSet, chosen: &dyn Fn(&Rule) -> bool) -> Results {
    let mut results = Results::default();
    for rule in rules.rules.iter().filter(|r| chosen(r)) {
        results.rules += 1;
        run_rule(rules, rule, &mut results);
    }
    results
}

fn run_rule(rules: &RuleSet, rule: &Rule, results: &mut Results) {
    for (fires, kind) in [(true, "fires = true"), (false, "fires = false")] {
        if !rule.examples.iter().any(|e| e.fires == fires) {
            results.failures.push(Failure {
                rule: rule.id.clone(),
                origin: rule.origin.clone(),
                example: None,
                expected: format!("at least one example with `{kind}`"),
                got: "none".into(),
            });
        }
    }
    for example in &rule.examples {
        match check(rules, rule, example) {
            Ok(()) => results.passed += 1,
            Err((expected, got)) => results.failures.push(Failure {
                rule: rule.id.clone(),
                origin: example.origin.clone(),
                example: Some(
                    example
                        .name
                        .clone()
                        .map_or(example.log.clone(), |n| format!("{n}\n{}", example.log)),
                ),
                expected,
                got,
            }),
        }
    }
}

fn check(rules: &RuleSet, rule: &Rule, example: &Example) -> Result<(), (String, String)> {
    let events = events_of(rules, &example.log);
    let picks = engine::evaluate(rule, rules, &events);
    let Some(picks) = picks else {
        return if example.fires {
            Err(("the rule fires".into(), "it stayed quiet".into()))
        } else {
            Ok(())
        };
    };
    if !example.fires {
        let lines: Vec<String> = picks
            .iter()
            .map(|&(s, i)| events.of(s)[i].line.to_string())
            .collect();
        return Err((
            "the rule stays quiet".into(),
            format!(
                "it fired on {} {}",
                if lines.len() == 1 { "line" } else { "lines" },
                lines.join(", ")
            ),
        ));
    }
    let picked: Vec<_> = picks.iter().map(|&(s, i)| &events.of(s)[i]).collect();
    if !example.fields.is_empty()
        && !picked
            .iter()
            .any(|e| example.fields.iter().all(|(k, v)| e.field(k) == v))
    {
        let got: Vec<String> = picked
            .iter()
            .map(|e| {
                let fields: Vec<String> = example
                    .fields
                    .keys()
                    .map(|k| format!("{k}={:?}", e.field(k)))
                    .collect();
                format!("line {}: {}", e.line, fields.join(" "))
            })
            .collect();
        return Err((
            format!("an event with {:?}", example.fields),
            got.join("; "),
        ));
    }
    if !example.packages.is_empty() {
        let diagnosis = engine::diagnose(rules, &events, "example")
            .into_iter()
            .find(|d| d.rule == rule.id);
        let named: Vec<String> = diagnosis
            .map(|d| d.packages.into_iter().map(|p| p.name).collect())
            .unwrap_or_default();
        let missing: Vec<&String> = example
            .packages
            .iter()
            .filter(|p| !named.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err((
                format!("packages {:?} named", example.packages),
                format!("{named:?}"),
            ));
        }
    }
    Ok(())
}

/// The events of a whole text, every run together (examples and `trace` use this).
pub fn events_of(rules: &RuleSet, text: &str) -> crate::signal::Events {
    let source = Source::from_reader("example".into(), Cursor::new(text.as_bytes().to_vec()));
    match source {
        Ok(source) => pipeline::collect_events(rules, source),
        Err(_) => crate::signal::Events::new(rules.signals.signals().len()),
    }
}
