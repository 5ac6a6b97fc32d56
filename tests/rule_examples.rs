//! Every shipped rule proves itself: its examples run here through the same code as
//! `magediag rules test`, reported per rule file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use magediag::rule::RuleSet;
use magediag::ruletest;

#[test]
fn every_rule_example_passes_and_every_rule_has_both_kinds() {
    let rules = RuleSet::embedded().unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    let results = ruletest::run_all(&rules);
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for failure in &results.failures {
        let file = failure.origin.split(':').next().unwrap_or("").to_owned();
        by_file.entry(file).or_default().push(failure.to_string());
    }
    let report: Vec<String> = by_file
        .iter()
        .map(|(file, failures)| format!("== {file}\n{}", failures.join("\n\n")))
        .collect();
    assert!(results.failures.is_empty(), "{}", report.join("\n\n"));
    assert!(results.passed >= rules.rules.len() * 2);
}

#[test]
fn every_rule_has_causes_remediation_and_references() {
    let rules = RuleSet::embedded().unwrap();
    for rule in &rules.rules {
        assert!(!rule.causes.is_empty(), "{} has no causes", rule.id);
        assert!(
            !rule.remediation.is_empty(),
            "{} has no remediation",
            rule.id
        );
        assert!(!rule.references.is_empty(), "{} has no references", rule.id);
    }
}

/// docs/rules.md is generated from the rule files; regenerate it when they change:
/// `cargo run -- rules doc > docs/rules.md`.
#[test]
fn the_rule_catalogue_doc_is_current() {
    let rules = RuleSet::embedded().unwrap();
    let generated = magediag::catalogue::markdown(&rules);
    let committed = std::fs::read_to_string("docs/rules.md").unwrap_or_default();
    assert!(
        generated == committed,
        "docs/rules.md is stale: run `cargo run -- rules doc > docs/rules.md`"
    );
}
