//! `magediag trace`: what the pipeline made of some lines (after repair and envelope),
//! which run each belongs to, which signals fired there with which fields, and for each
//! rule, over the run the diagnosis covers, why it fired, was hidden or stayed quiet,
//! test by test. The question every rule author asks when a rule stays silent.
//!
//! Trace observes the pipeline's own per-line path ([`pipeline::Observer`]): a line is
//! framed, and a `cloud.error.log` entry read, exactly as in a diagnosis. It streams its
//! input: memory holds the traced lines (at most [`TRACED_LINES`]) and the verdicts of at
//! most [`TRACED_RUNS`] runs, whatever the size of the input.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::RangeInclusive;

use colored::Colorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::engine;
use crate::input::source::Source;
use crate::mask::{mask, mask_cut};
use crate::pipeline::{self, Observer, Outcome, RunSeen, Runs};
use crate::record::Record;
use crate::rule::cond::Test;
use crate::rule::{RuleSet, one_line};
use crate::signal::Events;

/// The most lines one trace shows; the rest of a longer range is counted.
pub const TRACED_LINES: usize = 2_000;
/// The most runs whose rule verdicts one trace shows (with `--all-runs`, the runs of
/// the traced lines); the rest are counted.
pub const TRACED_RUNS: usize = 20;
/// The most characters of a traced line's message shown, masked before the cut.
const MESSAGE_CHARS: usize = 2_048;

/// What `trace` found (`--format json`): the traced lines, the runs, and every rule's
/// verdict over the runs the diagnosis covers (`TraceOutput` in
/// docs/magediag-1.schema.json).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "TraceOutput")]
pub struct TraceReport {
    /// The number of lines of the input.
    pub input_lines: u64,
    /// The number of deployment runs in the input.
    pub runs: usize,
    /// Whether every run is diagnosed (`--all-runs`), else only the latest.
    pub all_runs: bool,
    /// The traced lines, in order.
    pub lines: Vec<TracedLine>,
    /// The rule verdicts, per run the diagnosis covers: the latest, or with
    /// `--all-runs` each run a traced line belongs to.
    pub verdicts: Vec<RunVerdicts>,
    /// What was left out to keep memory bounded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One logical line as the signals saw it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TracedLine {
    /// The line's number in the input, from 1.
    pub line: u64,
    /// The deployment run the line belongs to, from 1.
    pub run: usize,
    /// The message after repair and envelope, masked.
    pub message: String,
    /// What the envelope made of the line (`level=error`, `stage=build`, ...).
    pub envelope: Vec<String>,
    /// The signals that matched the line.
    pub signals: Vec<SignalHit>,
    /// Signals whose pattern matched the message but whose `levels` refused the line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_by_level: Vec<LevelRefusal>,
}

/// A signal whose pattern matched a traced line that its `levels` do not take.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LevelRefusal {
    /// The signal's id.
    pub signal: String,
    /// The levels it takes.
    pub levels: Vec<String>,
    /// The line's level, absent when the line has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// A signal that matched a traced line, with its fields (masked).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignalHit {
    /// The signal's id.
    pub signal: String,
    /// The fields its event carries, by name.
    pub fields: BTreeMap<String, String>,
}

/// Every rule's verdict over one run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunVerdicts {
    /// The run, from 1.
    pub run: usize,
    /// The run's first timestamp, or `line N`.
    pub started: String,
    /// Every rule (or those asked for with `--rule`), in the order the rule set holds them.
    pub rules: Vec<RuleVerdict>,
}

/// A rule over one run: `fired` when it is diagnosed; when its condition holds but a
/// rule hides it, `hidden_by` names that rule; test by test when it looks at a signal
/// seen on the traced lines.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleVerdict {
    /// The rule's id.
    pub id: String,
    #[schemars(schema_with = "crate::report::diagnosis::category_schema")]
    pub category: String,
    /// Whether the rule is diagnosed over the run.
    pub fired: bool,
    /// The rule that hides this one, when its condition holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_by: Option<String>,
    /// The rule's condition as written, when it looks at a signal seen on the traced
    /// lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Each test of the condition and what it gave, for those rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
}

/// Traces the lines of `source` in `range` (1-based, inclusive) and explains every rule
/// over the runs the diagnosis covers (`runs`); with ids in `only`, those rules alone,
/// each test by test. Gives the trace, or the number of lines
/// of an input that has no line in `range`; and the diagnosis' outcome (its read error).
pub fn trace_source(
    rules: &RuleSet,
    source: Source,
    range: RangeInclusive<u64>,
    runs: Runs,
    only: &[String],
) -> (Result<TraceReport, u64>, Option<io::Error>) {
    let mut tracer = Tracer {
        rules,
        only,
        range,
        all_runs: runs == Runs::All,
        lines: Vec::new(),
        before: None,
        cut_lines: 0,
        hit: Vec::new(),
        verdicts: Vec::new(),
        cut_runs: 0,
    };
    let Outcome {
        reports,
        error,
        lines: input_lines,
    } = pipeline::observe_source(rules, source, runs, &mut tracer);
    let run_count = reports
        .last()
        .and_then(|r| r.run.as_ref())
        .map_or(1, |run| {
            if runs == Runs::All {
                run.runs
            } else {
                run.skipped + 1
            }
        });
    tracer.close(input_lines);
    if tracer.lines.is_empty() {
        return (Err(input_lines), error);
    }
    let mut notes = Vec::new();
    if tracer.cut_lines > 0 {
        notes.push(format!(
            "{} in the range not shown: a trace shows at most {TRACED_LINES}",
            crate::rule::template::count(tracer.cut_lines, "more line", "more lines")
        ));
    }
    if tracer.cut_runs > 0 {
        notes.push(format!(
            "the verdicts of {} not shown: a trace shows at most {TRACED_RUNS}",
            crate::rule::template::count(tracer.cut_runs as u64, "more run", "more runs")
        ));
    }
    let lines = shown_lines(rules, tracer.lines);
    let report = TraceReport {
        input_lines,
        runs: run_count,
        all_runs: tracer.all_runs,
        lines,
        verdicts: tracer.verdicts,
        notes,
    };
    (Ok(report), error)
}

/// A traced line before masking.
struct Traced {
    line: u64,
    run: usize,
    message: String,
    envelope: Vec<String>,
    signals: Vec<(usize, Vec<(String, String)>)>,
    refused_by_level: Vec<LevelRefusal>,
}

/// The observer `trace` puts on the pipeline.
struct Tracer<'a> {
    rules: &'a RuleSet,
    /// The rules asked about (`--rule`); empty: every rule.
    only: &'a [String],
    range: RangeInclusive<u64>,
    all_runs: bool,
    lines: Vec<Traced>,
    /// The latest line that starts before the range: it is traced when the line after
    /// it starts inside the range (it was joined from lines that reach into it).
    before: Option<Traced>,
    cut_lines: u64,
    /// The signals seen on the traced lines.
    hit: Vec<usize>,
    verdicts: Vec<RunVerdicts>,
    cut_runs: usize,
}

impl Tracer<'_> {
    fn keep(&mut self, traced: Traced) {
        if self.lines.len() >= TRACED_LINES {
            self.cut_lines += 1;
            return;
        }
        self.hit.extend(traced.signals.iter().map(|(s, _)| *s));
        self.hit.sort_unstable();
        self.hit.dedup();
        self.lines.push(traced);
    }

    /// At the end of `input_lines` lines: traces the last line when it started before
    /// the range and reaches into it (joined from the lines up to the end).
    fn close(&mut self, input_lines: u64) {
        if let Some(before) = self.before.take()
            && input_lines >= *self.range.start()
        {
            self.keep(before);
        }
    }
}

impl Observer for Tracer<'_> {
    fn line(&mut self, run: usize, record: &Record<'_>, text: &str, matched: &[(usize, usize)]) {
        let line = record.line;
        if line > *self.range.end() && self.before.is_none() {
            return;
        }
        let traced = || Traced {
            line,
            run,
            message: record.envelope.message.to_owned(),
            envelope: envelope_of(record),
            signals: matched
                .iter()
                .map(|&(signal, pattern)| {
                    let event = self.rules.signals.event(signal, pattern, record, text);
                    (signal, event.fields)
                })
                .collect(),
            refused_by_level: refused_by_level(self.rules, record, matched),
        };
        if line < *self.range.start() {
            self.before = Some(traced());
            return;
        }
        let joined_into_range = line > *self.range.start();
        if let Some(before) = self.before.take()
            && joined_into_range
        {
            // It covers the lines up to this one, some of them in the range.
            self.keep(before);
        }
        if line <= *self.range.end() {
            let traced = traced();
            self.keep(traced);
        }
    }

    fn run(&mut self, run: RunSeen<'_>, events: &Events) {
        // Without --all-runs only the latest run is reported, and seen here.
        let traced_here = self.lines.iter().any(|l| l.run == run.index)
            || self.before.as_ref().is_some_and(|l| l.run == run.index);
        if self.all_runs && !traced_here {
            return;
        }
        if self.verdicts.len() >= TRACED_RUNS {
            self.cut_runs += 1;
            return;
        }
        let started = run
            .label
            .map_or_else(|| format!("line {}", run.first_line), str::to_owned);
        self.verdicts.push(RunVerdicts {
            run: run.index,
            started: mask(&started).into_owned(),
            rules: rule_verdicts(self.rules, events, &self.hit, self.only),
        });
    }
}

/// The signals whose `levels` refused a line their pattern matches (the pipeline does not
/// try their patterns there, so this is only for `trace` to say why they did not match).
fn refused_by_level(
    rules: &RuleSet,
    record: &Record<'_>,
    matched: &[(usize, usize)],
) -> Vec<LevelRefusal> {
    let level = record.envelope.level;
    rules
        .signals
        .signals()
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            !s.levels.is_empty()
                && !level.is_some_and(|l| s.levels.contains(&l))
                && !matched.iter().any(|(m, _)| m == i)
                && s.patterns
                    .iter()
                    .any(|p| p.is_match(record.envelope.message))
        })
        .map(|(_, s)| LevelRefusal {
            signal: s.id.clone(),
            levels: s.levels.iter().map(|l| l.as_str().to_owned()).collect(),
            level: level.map(|l| l.as_str().to_owned()),
        })
        .collect()
}

/// A level refusal in words: `ece.error's pattern matches, but it takes only ERROR,
/// CRITICAL lines and this one is at NOTICE`.
fn refusal_words(refusal: &LevelRefusal) -> String {
    let this = match &refusal.level {
        Some(level) => format!("this one is at {level}"),
        None => "this one has no level".to_owned(),
    };
    format!(
        "{}'s pattern matches, but it takes only {} lines and {this}",
        refusal.signal,
        refusal.levels.join(", ")
    )
}

/// The traced lines as shown: masked, also for a secret only the lines around it show (a
/// PEM body, a wrapped key), and cut.
fn shown_lines(rules: &RuleSet, traced: Vec<Traced>) -> Vec<TracedLine> {
    let messages: Vec<&str> = traced.iter().map(|t| t.message.as_str()).collect();
    let context = crate::mask::context_values(&messages.join("\n"));
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let shown = |text: &str| {
        let masked = crate::mask::redact(&mask(text), &context);
        mask_cut(&masked, MESSAGE_CHARS).into_owned()
    };
    traced
        .into_iter()
        .map(|t| TracedLine {
            line: t.line,
            run: t.run,
            message: shown(&t.message),
            envelope: t.envelope,
            refused_by_level: t.refused_by_level,
            signals: t
                .signals
                .into_iter()
                .map(|(signal, fields)| SignalHit {
                    signal: rules.signals.signals()[signal].id.clone(),
                    fields: fields.iter().map(|(k, v)| (k.clone(), shown(v))).collect(),
                })
                .collect(),
        })
        .collect()
}

/// Writes a trace as text.
pub fn write_text(report: &TraceReport, out: &mut dyn Write) -> io::Result<()> {
    let several = report.runs > 1;
    for t in &report.lines {
        let head = if several {
            format!("line {} (run {} of {}):", t.line, t.run, report.runs)
        } else {
            format!("line {}:", t.line)
        };
        writeln!(out, "{} {}", head.bold(), t.message)?;
        if !t.envelope.is_empty() {
            writeln!(out, "  envelope: {}", t.envelope.join(", "))?;
        }
        let refused: Vec<String> = t.refused_by_level.iter().map(refusal_words).collect();
        if t.signals.is_empty() {
            if refused.is_empty() {
                writeln!(out, "  no signal matched")?;
            } else {
                writeln!(out, "  no signal matched ({})", refused.join("; "))?;
            }
        }
        for hit in &t.signals {
            let fields: Vec<String> = hit
                .fields
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            writeln!(out, "  signal {}: {}", hit.signal.green(), fields.join(" "))?;
        }
        if !t.signals.is_empty() && !refused.is_empty() {
            writeln!(out, "  not matched: {}", refused.join("; "))?;
        }
    }
    if several && !report.all_runs && report.lines.iter().any(|t| t.run != report.runs) {
        writeln!(
            out,
            "\n{} some traced lines are in an earlier run: the diagnosis covers the latest run \
             only (run {}); trace with --all-runs to judge every run",
            "note:".bold(),
            report.runs
        )?;
    }
    for run in &report.verdicts {
        writeln!(out)?;
        let title = if several {
            format!(
                "rules over run {} of {} (started {}):",
                run.run, report.runs, run.started
            )
        } else {
            "rules over the whole input:".to_owned()
        };
        writeln!(out, "{}", title.bold())?;
        for rule in &run.rules {
            let label = match (rule.fired, &rule.hidden_by) {
                (true, _) => "fired".green(),
                (false, Some(_)) => "hidden".yellow(),
                (false, None) => "quiet".normal(),
            };
            write!(out, "  {label} {} [{}]", rule.id, rule.category)?;
            match &rule.hidden_by {
                Some(by) => writeln!(out, " hidden by {by}")?,
                None => writeln!(out)?,
            }
            if let Some(when) = &rule.when {
                writeln!(out, "        when: {when}")?;
                for test in &rule.tests {
                    writeln!(out, "        {test}")?;
                }
            }
        }
    }
    for note in &report.notes {
        writeln!(out, "{} {note}", "note:".bold())?;
    }
    Ok(())
}

fn envelope_of(record: &Record<'_>) -> Vec<String> {
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

/// For every rule: fired, hidden or quiet over a run's events; test by test for the rules
/// that look at a signal seen on the traced lines (`hit`).
/// Every rule's verdict, or with ids in `only` those rules', each test by test.
fn rule_verdicts(
    rules: &RuleSet,
    events: &Events,
    hit: &[usize],
    only: &[String],
) -> Vec<RuleVerdict> {
    let hidden = engine::hidden(rules, events);
    rules
        .rules
        .iter()
        .filter(|rule| only.is_empty() || only.contains(&rule.id))
        .map(|rule| {
            let verdict = engine::explain(rule, rules, events);
            let hidden_by = hidden
                .iter()
                .find(|(id, _)| *id == rule.id)
                .map(|(_, by)| by.clone());
            // A rule asked about is shown test by test.
            let mut uses_hit = !only.is_empty();
            rule.when.atoms(&mut |t: &Test| {
                uses_hit |= rules
                    .signals
                    .index(t.signal())
                    .is_some_and(|s| hit.contains(&s));
            });
            RuleVerdict {
                id: rule.id.clone(),
                category: rule.category.clone(),
                fired: verdict.fired && hidden_by.is_none(),
                hidden_by,
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A log of `runs` deployment runs of `lines_per_run` lines each, generated.
    fn many_runs(runs: usize, lines_per_run: usize) -> Source {
        let mut text = String::new();
        for run in 0..runs {
            text.push_str(&format!(
                "[2024-01-01 00:{:02}:{:02}] NOTICE: Starting scenario(s): scenario/deploy.xml (magento/ece-tools version: 2002.1.16)\n",
                run / 60 % 60,
                run % 60
            ));
            for i in 1..lines_per_run {
                text.push_str(&format!("Nothing to import for store {i}.\n"));
            }
        }
        Source::from_reader("big.log".into(), io::Cursor::new(text.into_bytes())).unwrap()
    }

    /// What a trace keeps is bounded by its caps, whatever the range and the number of
    /// runs: the rest is counted in a note.
    #[test]
    fn a_trace_of_a_large_input_keeps_at_most_its_caps() {
        let rules = RuleSet::embedded().unwrap();
        let trace = |runs: usize, per_run: usize| {
            let last = (runs * per_run) as u64;
            let source = many_runs(runs, per_run);
            let (report, error) = trace_source(&rules, source, 1..=last, Runs::All, &[]);
            assert!(error.is_none());
            let report = report.unwrap();
            assert_eq!((report.input_lines, report.runs), (last, runs));
            report
        };
        // Long runs: the lines are cut (and only their runs are judged).
        let report = trace(10, 1_000);
        assert_eq!(report.lines.len(), TRACED_LINES);
        assert_eq!(report.verdicts.len(), 2);
        let cut = 10_000 - TRACED_LINES;
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.starts_with(&format!("{cut} more lines"))),
            "{:?}",
            report.notes
        );
        // Many short runs: their verdicts are cut.
        let report = trace(100, 10);
        assert_eq!(report.lines.len(), 1_000);
        assert_eq!(report.verdicts.len(), TRACED_RUNS);
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains(&format!("{} more runs", 100 - TRACED_RUNS))),
            "{:?}",
            report.notes
        );
    }

    /// Without --all-runs, the verdicts are the latest run's only, as the diagnosis.
    #[test]
    fn a_trace_judges_the_latest_run_by_default() {
        let rules = RuleSet::embedded().unwrap();
        let (report, _) = trace_source(&rules, many_runs(5, 10), 3..=3, Runs::Latest, &[]);
        let report = report.unwrap();
        assert_eq!(report.lines[0].run, 1);
        let judged: Vec<usize> = report.verdicts.iter().map(|v| v.run).collect();
        assert_eq!(judged, [5]);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("7").unwrap(), 7..=7);
        assert_eq!(parse_range("3-9").unwrap(), 3..=9);
        assert!(parse_range("0").is_err());
        assert!(parse_range("9-3").is_err());
        assert!(parse_range("x").is_err());
    }
}
