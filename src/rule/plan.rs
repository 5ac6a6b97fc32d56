//! The read plan: what the rules read of each signal, so the signal set is built once
//! for it.

use super::Rule;
use super::cond::Test;
use super::validate::Known;
use crate::signal::ReadPlan;

/// What the rules read of each signal, from their parsed conditions and templates.
pub(super) fn read_plan(rules: &[Rule], known: &Known<'_>) -> ReadPlan {
    let mut plan = ReadPlan {
        in_when: vec![false; known.signals().len()],
        in_also: vec![false; known.signals().len()],
        context_late: true,
    };
    for rule in rules {
        rule.when.atoms(&mut |t: &Test| {
            if let Some(i) = known.index(t.signal()) {
                plan.in_when[i] = true;
            }
            if t.fields().iter().any(|&(_, field)| field == "suggestion") {
                plan.context_late = false;
            }
        });
        for &i in &rule.also {
            plan.in_also[i] = true;
        }
        if rule
            .summary
            .field_names()
            .iter()
            .any(|&(_, name)| name == "suggestion")
        {
            plan.context_late = false;
        }
    }
    plan
}
