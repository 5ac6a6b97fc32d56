//! The engine: a pure function from a rule set and the events of one source (or one run)
//! to ranked diagnoses, one per rule that fired.

use std::collections::BTreeSet;

use crate::mask::mask;
use crate::report::diagnosis::{Diagnosis, Evidence, Package, Severity};
use crate::rule::cond::{Node, Predicate, Quantifier, Test};
use crate::rule::template::{Filter, Template, bytes_to_limit, bytes_to_mb, limit_above};
use crate::rule::{Rule, RuleSet};
use crate::signal::{Event, Events};

/// The most evidence lines a diagnosis carries.
pub const EVIDENCE_MAX: usize = 50;
/// A suppressing rule hides another when their evidence lies within this many lines.
pub const SUPPRESS_WINDOW: u64 = 200;

/// An event picked as evidence: (signal, index within the signal's events).
type Pick = (usize, usize);

/// A rule's condition checked test by test: whether the rule fires and why, for `trace`
/// and the page's near misses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionCheck {
    pub fired: bool,
    /// One line per test of the condition: the test and what it found.
    pub tests: Vec<String>,
}

/// The rules that fire over `events`, each with its evidence (picks) and their lines.
fn fire<'r>(rules: &'r RuleSet, events: &Events) -> Vec<(&'r Rule, Vec<Pick>, Vec<u64>)> {
    rules
        .rules
        .iter()
        // A rule whose signals saw nothing holds as it does on no event at all.
        .filter(|rule| {
            rule.fires_on_nothing || rule.reads.iter().any(|&s| !events.of(s).is_empty())
        })
        .filter_map(|rule| {
            let picks = evaluate(rule, rules, events)?;
            let lines = picks.iter().map(|&(s, i)| events.of(s)[i].line).collect();
            Some((rule, picks, lines))
        })
        .collect()
}

/// Runs every rule over one source's events and returns ranked diagnoses.
pub fn diagnose(rules: &RuleSet, events: &Events, path: &str) -> Vec<Diagnosis> {
    let fired = fire(rules, events);
    let fired_lines: Vec<(&Rule, &[u64])> = fired.iter().map(|(r, _, l)| (*r, &l[..])).collect();
    let hidden: BTreeSet<usize> = (0..fired.len())
        .filter(|&i| hider(&fired_lines, i).is_some())
        .collect();
    let mut kept: Vec<(&Rule, Diagnosis, Vec<u64>)> = fired
        .iter()
        .enumerate()
        .filter(|(i, _)| !hidden.contains(i))
        .map(|(_, (rule, picks, lines))| (*rule, build(rule, events, picks, path), lines.clone()))
        .collect();
    kept.sort_by(|(ra, a, la), (rb, b, lb)| {
        b.severity
            .cmp(&a.severity)
            .then(rb.priority.cmp(&ra.priority))
            .then(la.first().cmp(&lb.first()))
            .then(a.rule.cmp(&b.rule))
    });
    kept.into_iter().map(|(_, d, _)| d).collect()
}

/// The first of `fired` (rules that fired, with their evidence lines) that hides the
/// `i`th: one that suppresses it by name, or a specific rule as severe near a generic one.
fn hider(fired: &[(&Rule, &[u64])], i: usize) -> Option<usize> {
    let (rule, lines) = fired[i];
    fired.iter().position(|&(by, by_lines)| {
        let hides = by.suppresses.contains(&rule.id)
            || (rule.generic && !by.generic && by.severity >= rule.severity);
        hides && near(by_lines, lines)
    })
}

/// How many diagnoses of severity error [`diagnose`] gives for `events`, without making
/// them: for the runs of a log that are not reported.
pub fn errors(rules: &RuleSet, events: &Events) -> usize {
    let fired = fire(rules, events);
    let fired_lines: Vec<(&Rule, &[u64])> = fired.iter().map(|(r, _, l)| (*r, &l[..])).collect();
    (0..fired.len())
        .filter(|&i| fired[i].0.severity == Severity::Error && hider(&fired_lines, i).is_none())
        .count()
}

/// The rules that fire over `events` but that [`diagnose`] hides, each with the id of
/// the rule that hides it.
pub fn hidden(rules: &RuleSet, events: &Events) -> Vec<(String, String)> {
    let fired = fire(rules, events);
    let fired_lines: Vec<(&Rule, &[u64])> = fired.iter().map(|(r, _, l)| (*r, &l[..])).collect();
    (0..fired_lines.len())
        .filter_map(|i| {
            let by = hider(&fired_lines, i)?;
            Some((fired_lines[i].0.id.clone(), fired_lines[by].0.id.clone()))
        })
        .collect()
}

/// Whether any line of `a` is within [`SUPPRESS_WINDOW`] of a line of `b`.
fn near(a: &[u64], b: &[u64]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.abs_diff(*y) <= SUPPRESS_WINDOW))
}

/// Whether a rule fires; when it does, the events that made it fire (plus `also`).
pub fn evaluate(rule: &Rule, rules: &RuleSet, events: &Events) -> Option<Vec<Pick>> {
    let mut picks = Vec::new();
    if !eval_node(&rule.when, rules, events, &mut picks) {
        return None;
    }
    let first_line = picks.iter().map(|&(s, i)| events.of(s)[i].line).min();
    for &s in &rule.also {
        // The context a failure happened in: the nearest event at or before it.
        let nearest = events
            .of(s)
            .iter()
            .rposition(|e| first_line.is_some_and(|first| e.line <= first));
        picks.extend(nearest.map(|i| (s, i)));
    }
    picks.sort_by_key(|&(s, i)| (events.of(s)[i].line, s, i));
    picks.dedup();
    Some(picks)
}

/// Checks a rule's condition test by test.
pub fn explain(rule: &Rule, rules: &RuleSet, events: &Events) -> ConditionCheck {
    let mut tests = Vec::new();
    rule.when.atoms(&mut |test: &Test| {
        let holds = eval_test(test, rules, events, &mut Vec::new());
        let all = rules
            .signals
            .index(test.signal())
            .map_or(&[][..], |s| events.of(s));
        let predicate = match test {
            Test::Quantified { predicate, .. } | Test::Count { predicate, .. } => predicate,
        };
        let passing = all
            .iter()
            .filter(|e| predicate.as_ref().is_none_or(|p| passes(p, e)))
            .count();
        tests.push(format!(
            "{} {}: {passing} of {} {} the predicate",
            if holds { "true " } else { "false" },
            describe(test),
            crate::rule::template::count(all.len() as u64, "event", "events"),
            if passing == 1 { "passes" } else { "pass" }
        ));
    });
    ConditionCheck {
        fired: evaluate(rule, rules, events).is_some(),
        tests,
    }
}

fn describe(test: &Test) -> String {
    match test {
        Test::Quantified {
            quantifier, signal, ..
        } => format!("{quantifier:?}({signal}, ...)").to_lowercase(),
        Test::Count {
            signal,
            distinct_field: Some(field),
            ..
        } => format!("distinct({signal}, {field}, ...)"),
        Test::Count { signal, .. } => format!("count({signal}, ...)"),
    }
}

fn eval_node(node: &Node<Test>, rules: &RuleSet, events: &Events, picks: &mut Vec<Pick>) -> bool {
    match node {
        Node::Const(value) => *value,
        Node::Atom(test) => eval_test(test, rules, events, picks),
        Node::Not(inner) => !eval_node(inner, rules, events, &mut Vec::new()),
        Node::And(nodes) => {
            let start = picks.len();
            let all = nodes.iter().all(|n| eval_node(n, rules, events, picks));
            if !all {
                picks.truncate(start);
            }
            all
        }
        Node::Or(nodes) => {
            // Every branch is evaluated (no short circuit) so that each true one adds evidence.
            let verdicts: Vec<bool> = nodes
                .iter()
                .map(|n| eval_node(n, rules, events, picks))
                .collect();
            verdicts.contains(&true)
        }
    }
}

fn eval_test(test: &Test, rules: &RuleSet, events: &Events, picks: &mut Vec<Pick>) -> bool {
    let Some(signal) = rules.signals.index(test.signal()) else {
        return false;
    };
    let all = events.of(signal);
    let passing = |predicate: &Option<Predicate>| -> Vec<usize> {
        (0..all.len())
            .filter(|&i| predicate.as_ref().is_none_or(|p| passes(p, &all[i])))
            .collect()
    };
    let (holds, chosen) = match test {
        Test::Quantified {
            quantifier,
            predicate,
            ..
        } => {
            let chosen = passing(predicate);
            let holds = match quantifier {
                Quantifier::Any => !chosen.is_empty(),
                Quantifier::All => !all.is_empty() && chosen.len() == all.len(),
                Quantifier::None => chosen.is_empty(),
            };
            (holds, chosen)
        }
        Test::Count {
            distinct_field,
            predicate,
            op,
            value,
            ..
        } => {
            let chosen = passing(predicate);
            let n = match distinct_field {
                Some(field) => chosen
                    .iter()
                    .map(|&i| all[i].field(field))
                    .filter(|v| !v.is_empty())
                    .collect::<BTreeSet<_>>()
                    .len(),
                None => chosen.len(),
            };
            let holds = op.holds(
                (n as f64)
                    .partial_cmp(value)
                    .unwrap_or(std::cmp::Ordering::Less),
            );
            (holds, chosen)
        }
    };
    if holds {
        picks.extend(chosen.into_iter().map(|i| (signal, i)));
    }
    holds
}

fn passes(predicate: &Predicate, event: &Event) -> bool {
    match predicate {
        Node::Const(value) => *value,
        Node::Atom(test) => test.passes(event.field(test.field())),
        Node::Not(inner) => !passes(inner, event),
        Node::And(nodes) => nodes.iter().all(|n| passes(n, event)),
        Node::Or(nodes) => nodes.iter().any(|n| passes(n, event)),
    }
}

fn build(rule: &Rule, events: &Events, picks: &[Pick], path: &str) -> Diagnosis {
    let picked: Vec<&Event> = picks.iter().map(|&(s, i)| &events.of(s)[i]).collect();
    let packages = packages(&picked);
    let mut lines: Vec<u64> = picked.iter().map(|e| e.line).collect();
    lines.dedup();
    let count = lines.len() as u64;
    let summary = rule
        .summary
        .render(&|name, filter| placeholder(name, filter, &picked, &packages, count));
    let context = context_secrets(&picked);
    let shown = |text: &str| -> String {
        let masked = mask(text);
        if context.is_empty() {
            return masked.into_owned();
        }
        let values: Vec<&str> = context.iter().map(String::as_str).collect();
        crate::mask::redact(&masked, &values)
    };
    let mut evidence: Vec<Evidence> = Vec::new();
    for event in &picked {
        if evidence.len() >= EVIDENCE_MAX {
            break;
        }
        if evidence.last().is_some_and(|e| e.line == event.line) {
            continue;
        }
        let text = shown(&event.text);
        evidence.push(Evidence {
            path: path.to_owned(),
            line: event.line,
            matched: matched_in_shown(event, &text, &shown),
            text,
        });
    }
    let remediation = rule
        .remediation
        .iter()
        .map(|step| {
            let filled = fill_step(step, &|name, filter| {
                placeholder(name, filter, &picked, &packages, count)
            });
            // A step as the rule wrote it holds nothing from the log.
            if filled == *step {
                filled
            } else {
                shown(&filled)
            }
        })
        .collect();
    Diagnosis {
        rule: rule.id.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        summary: shown(&summary),
        count,
        packages,
        evidence,
        causes: rule.causes.clone(),
        remediation,
        references: rule.references.clone(),
    }
}

/// Where the event's match lies in `text`, its text as `shown` (masked) makes it: the
/// parts before, in and after the match, each shown, when they make the same text (no
/// secret runs across the ends of the match); `None` when not.
fn matched_in_shown(
    event: &Event,
    text: &str,
    shown: &dyn Fn(&str) -> String,
) -> Option<(usize, usize)> {
    let (start, end) = event.matched?;
    let (start, end) = (start as usize, end as usize);
    let parts = (
        event.text.get(..start)?,
        event.text.get(start..end)?,
        event.text.get(end..)?,
    );
    if text == event.text {
        return Some((start, end));
    }
    let (before, hit, after) = (shown(parts.0), shown(parts.1), shown(parts.2));
    let whole = text.strip_prefix(before.as_str())?;
    let rest = whole.strip_prefix(hit.as_str())?;
    (rest == after && !hit.is_empty()).then_some((before.len(), before.len() + hit.len()))
}

/// The secrets that only the lines around them show ([`crate::mask::context_values`]),
/// when some of `events` are on neighbouring lines: a key wrapped over two lines, a PEM
/// body, a YAML value on the line after its key. Lines that are not neighbours are kept
/// apart by an empty line.
fn context_secrets(events: &[&Event]) -> Vec<String> {
    let mut lines: Vec<(u64, &str)> = events.iter().map(|e| (e.line, e.text.as_str())).collect();
    lines.sort_by_key(|&(line, _)| line);
    lines.dedup_by_key(|&mut (line, _)| line);
    if !lines.windows(2).any(|w| w[1].0 == w[0].0 + 1) {
        return Vec::new();
    }
    let mut text = String::new();
    let mut last: Option<u64> = None;
    for (line, line_text) in lines {
        if last.is_some_and(|l| l + 1 != line) {
            text.push('\n');
        }
        text.push_str(line_text);
        text.push('\n');
        last = Some(line);
    }
    crate::mask::context_values(&text)
}

/// A remediation step with its `{field}` placeholders filled from the evidence, so that
/// a step can name a fact of the log (`raise memory_limit above {bytes|limit}`). A step
/// that is not a template (JSON braces), or names a field the evidence lacks, is kept as
/// written.
fn fill_step(step: &str, value: &dyn Fn(&str, Filter) -> String) -> String {
    let Ok(template) = Template::parse(step) else {
        return step.to_owned();
    };
    if template.field_names().is_empty() {
        return step.to_owned();
    }
    let complete = std::cell::Cell::new(true);
    let filled = template.render(&|name, filter| {
        let v = value(name, filter);
        if v.is_empty() {
            complete.set(false);
        }
        v
    });
    if complete.get() {
        mask(&filled).into_owned()
    } else {
        step.to_owned()
    }
}

/// Distinct packages named by the events, in first-seen order.
fn packages(events: &[&Event]) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    for event in events {
        let name = event.field("package");
        if name.is_empty() {
            continue;
        }
        let non_empty = |v: &str| (!v.is_empty()).then(|| mask(v).into_owned());
        let package = Package {
            name: mask(name).into_owned(),
            version: non_empty(event.field("version")),
            status: non_empty(event.field("status"))
                .or_else(|| non_empty(event.field("package_status"))),
        };
        if !out
            .iter()
            .any(|p| p.name == package.name && p.version == package.version)
        {
            out.push(package);
        }
    }
    out
}

/// How many packages `{packages}` lists before "and N more".
const PACKAGES_LISTED: usize = 5;

fn placeholder(
    name: &str,
    filter: Filter,
    events: &[&Event],
    packages: &[Package],
    count: u64,
) -> String {
    match name {
        "count" => return count.to_string(),
        "package_count" => return packages.len().to_string(),
        "first_line" => return events.first().map_or(String::new(), |e| e.line.to_string()),
        "packages" => return list_packages(packages),
        _ => {}
    }
    let values = events
        .iter()
        .map(|e| e.field(name))
        .filter(|v| !v.is_empty());
    match filter {
        Filter::First => values.into_iter().next().unwrap_or("").to_owned(),
        Filter::Mb => values.into_iter().next().map_or(String::new(), bytes_to_mb),
        Filter::Limit => values
            .into_iter()
            .next()
            .map_or(String::new(), bytes_to_limit),
        Filter::Above => values.into_iter().next().map_or(String::new(), limit_above),
        Filter::List | Filter::Count => {
            let mut seen: Vec<&str> = Vec::new();
            for v in values {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            match filter {
                Filter::Count => seen.len().to_string(),
                _ => seen.join(", "),
            }
        }
    }
}

fn list_packages(packages: &[Package]) -> String {
    let mut shown: Vec<String> = packages
        .iter()
        .take(PACKAGES_LISTED)
        .map(|p| match &p.version {
            Some(v) => format!("{} {}", p.name, crate::rule::template::composer_version(v)),
            None => p.name.clone(),
        })
        .collect();
    if packages.len() > PACKAGES_LISTED {
        shown.push(format!("and {} more", packages.len() - PACKAGES_LISTED));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &str, hit: &str) -> Event {
        let start = text.find(hit).unwrap_or(0);
        Event {
            signal: 0,
            line: 1,
            text: text.to_owned(),
            fields: Vec::new(),
            matched: Some((start as u32, (start + hit.len()) as u32)),
        }
    }

    #[test]
    fn the_match_is_found_in_the_masked_text() {
        let shown = |text: &str| mask(text).into_owned();
        let key = "0123456789abcdef0123456789abcdef";
        let line = format!("HTTP/1.1 403 Forbidden for password {key}");
        let e = event(&line, "403 Forbidden");
        let text = shown(&line);
        assert_ne!(text, line, "the key is masked");
        let (start, end) = matched_in_shown(&e, &text, &shown).unwrap();
        assert_eq!(&text[start..end], "403 Forbidden");
        let e = event(&line, key);
        let (start, end) = matched_in_shown(&e, &text, &shown).unwrap();
        assert!(!text[start..end].contains(key), "{}", &text[start..end]);
        assert_eq!(
            matched_in_shown(&event("plain", "la"), "plain", &shown),
            Some((1, 3))
        );
    }
}
