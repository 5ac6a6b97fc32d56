//! Inputs held in memory (a request body, files dropped on a page), diagnosed the way
//! `paste`, `magediag FILE` and `scan` diagnose theirs, and what magediag read of them:
//! the decoded lines and the repaired lines, masked, for a page to show.

use std::io::{BufRead, Cursor, Read};

use serde::Serialize;

use crate::commands::scan::Scan;
use crate::engine;
use crate::input::line::LineReader;
use crate::input::source::Source;
use crate::mask::LineMasker;
use crate::messages::describe_io;
use crate::pipeline::{self, Runs};
use crate::repair::{RepairedLine, Repairer};
use crate::report::diagnosis::{Failed, Report, Rollup, SourceReport};
use crate::report::truncate;
use crate::rule::RuleSet;
use crate::rule::examples;

/// How many leading bytes decide whether a file is binary (as `scan` decides).
const BINARY_PROBE: usize = 8192;

/// One named input: a file's name, or `<paste>`.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Diagnoses one input as `magediag paste` (named `<paste>`) or `magediag FILE` does:
/// gzip is detected by its magic bytes and read under the same decompression cap.
/// The error says why the input could not be read in full (what was read is diagnosed).
pub fn diagnose_one(rules: &RuleSet, input: Named, runs: Runs) -> (Report, Option<String>) {
    let outcome = match Source::from_reader(input.name, Cursor::new(input.bytes)) {
        Ok(source) => pipeline::diagnose_source(rules, source, runs),
        Err(e) => return (Report::new(Vec::new()), Some(describe_io(&e))),
    };
    let error = outcome.error_reason();
    (Report::new(outcome.reports), error)
}

/// Diagnoses several inputs as `magediag scan FILE...` does for files of these names, in
/// name order: one report each, binary ones skipped and counted, then the roll-up.
pub fn diagnose_many(rules: &RuleSet, mut inputs: Vec<Named>, runs: Runs) -> Scan {
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    let among_others = inputs.len() > 1;
    let mut rollup = Rollup::default();
    let mut messages = Vec::new();
    let mut sources: Vec<SourceReport> = Vec::new();
    for input in inputs {
        let name = input.name.clone();
        let fail = |reason: String, messages: &mut Vec<String>, rollup: &mut Rollup| {
            messages.push(format!("{name}: {reason}"));
            rollup.failed.push(Failed {
                path: name.clone(),
                reason,
            });
        };
        let mut source = match Source::from_reader(input.name, Cursor::new(input.bytes)) {
            Ok(source) => source,
            Err(e) => {
                fail(describe_io(&e), &mut messages, &mut rollup);
                continue;
            }
        };
        source.among_others = among_others;
        match source.reader.fill_buf() {
            Ok(head) if memchr::memchr(0, &head[..head.len().min(BINARY_PROBE)]).is_some() => {
                *rollup.skipped.entry("binary".into()).or_default() += 1;
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                fail(describe_io(&e), &mut messages, &mut rollup);
                continue;
            }
        }
        rollup.read += 1;
        rollup.compressed += usize::from(source.compressed);
        let outcome = pipeline::diagnose_source(rules, source, runs);
        if let Some(reason) = outcome.error_reason() {
            messages.push(format!(
                "{name}: {reason}; what was read before is diagnosed"
            ));
            rollup.failed.push(Failed {
                path: name.clone(),
                reason,
            });
        }
        sources.extend(outcome.reports);
    }
    rollup.rank_causes(&sources);
    let mut report = Report::new(sources);
    report.summary.scan = Some(rollup);
    Scan { report, messages }
}

/// What magediag read of one input, masked line by line: the decoded lines as numbered
/// in evidence, and the logical lines the repair made of them.
#[derive(Debug, Clone, Serialize)]
pub struct ReadView {
    /// The decoded lines (gzip and byte order marks undone), line `n` at index `n - 1`.
    pub lines: Vec<String>,
    /// The repaired logical lines, each with the first physical line it came from.
    pub repaired: Vec<ViewLine>,
    /// Whether every line of the input is here (see [`read_view`]'s limits).
    pub complete: bool,
    /// Why the input could not be read in full, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One repaired line of a [`ReadView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewLine {
    pub line: u64,
    pub text: String,
}

/// The longest line a [`ReadView`] keeps, in characters, after masking.
pub const VIEW_LINE_CHARS: usize = 2000;

/// Reads an input as the pipeline reads it (same decoding, same repair) for a view: at
/// most `max_lines` lines, each masked (multi-line secrets included) and then cut to
/// [`VIEW_LINE_CHARS`].
pub fn read_view(bytes: &[u8], max_lines: usize) -> ReadView {
    let mut view = ReadView {
        lines: Vec::new(),
        repaired: Vec::new(),
        complete: true,
        error: None,
    };
    let source = match Source::from_reader(String::new(), Cursor::new(bytes.to_vec())) {
        Ok(source) => source,
        Err(e) => {
            view.error = Some(describe_io(&e));
            return view;
        }
    };
    let mut lines = LineReader::new(source.reader);
    let mut repairer = Repairer::new();
    let mut repaired: Vec<RepairedLine> = Vec::new();
    let mut line_masker = LineMasker::new();
    let mut repaired_masker = LineMasker::new();
    let mut number: u64 = 0;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                view.error = Some(describe_io(&e));
                view.complete = false;
                break;
            }
        };
        if view.lines.len() >= max_lines {
            view.complete = false;
            break;
        }
        number += 1;
        let text = String::from_utf8_lossy(line);
        view.lines
            .push(truncate(&line_masker.mask_line(&text), VIEW_LINE_CHARS));
        repairer.push(number, &text, &mut repaired);
        take_repaired(&mut repaired, &mut repaired_masker, &mut view.repaired);
    }
    repairer.finish(&mut repaired);
    take_repaired(&mut repaired, &mut repaired_masker, &mut view.repaired);
    view
}

fn take_repaired(from: &mut Vec<RepairedLine>, masker: &mut LineMasker, to: &mut Vec<ViewLine>) {
    to.extend(from.drain(..).map(|l| ViewLine {
        line: l.line,
        text: truncate(&masker.mask_line(&l.text), VIEW_LINE_CHARS),
    }));
}

/// The most text [`near_misses`] is given by the page: its rules look at all of it.
pub const NEAR_MISS_TEXT: u64 = 20 << 20;

/// An input's text as the pipeline decodes it (gzip, byte order marks), lossily, at
/// most `cap` bytes of it; what could be read when the input is damaged.
pub fn decoded_text(bytes: &[u8], cap: u64) -> String {
    let mut text = Vec::new();
    if let Ok(source) = Source::from_reader(String::new(), Cursor::new(bytes.to_vec())) {
        let _ = source.reader.take(cap).read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// A rule that did not fire on an input, with what its condition found: what `trace`
/// says of a rule, for the rules closest to firing.
#[derive(Debug, Clone, Serialize)]
pub struct NearMiss {
    pub rule: String,
    pub title: String,
    /// How many events the rule's signals matched in the input.
    pub events: usize,
    /// One line per test of the condition: whether it held and what it found.
    pub tests: Vec<String>,
}

/// The rules that did not fire on `text` but whose signals matched something in it,
/// most events first, at most `most` of them.
pub fn near_misses(rules: &RuleSet, text: &str, most: usize) -> Vec<NearMiss> {
    let events = examples::events_of(rules, text);
    let mut misses: Vec<NearMiss> = Vec::new();
    for rule in &rules.rules {
        let mut signals: Vec<usize> = Vec::new();
        rule.when.atoms(&mut |test: &crate::rule::cond::Test| {
            if let Some(index) = rules.signals.index(test.signal())
                && !signals.contains(&index)
            {
                signals.push(index);
            }
        });
        let matched: usize = signals.iter().map(|&s| events.of(s).len()).sum();
        if matched == 0 {
            continue;
        }
        let verdict = engine::explain(rule, rules, &events);
        if verdict.fired {
            continue;
        }
        misses.push(NearMiss {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            events: matched,
            tests: verdict
                .tests
                .iter()
                .map(|t| crate::mask::mask(t).into_owned())
                .collect(),
        });
    }
    misses.sort_by(|a, b| b.events.cmp(&a.events).then(a.rule.cmp(&b.rule)));
    misses.truncate(most);
    misses
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::input::decode::tests::gzip;

    fn rules() -> RuleSet {
        RuleSet::embedded().unwrap()
    }

    #[test]
    fn one_gzip_input_reads_as_its_text() {
        let text = b"line one\nERROR: something broke\n".to_vec();
        let plain = diagnose_one(
            &rules(),
            Named {
                name: "<paste>".into(),
                bytes: text.clone(),
            },
            Runs::Latest,
        );
        let zipped = diagnose_one(
            &rules(),
            Named {
                name: "<paste>".into(),
                bytes: gzip(&text),
            },
            Runs::Latest,
        );
        assert_eq!(plain.0, zipped.0);
        assert!(plain.1.is_none() && zipped.1.is_none());
    }

    #[test]
    fn several_inputs_are_sorted_counted_and_binary_ones_skipped() {
        let inputs = vec![
            Named {
                name: "b.log.gz".into(),
                bytes: gzip(b"hello\n"),
            },
            Named {
                name: "a.log".into(),
                bytes: b"hello\n".to_vec(),
            },
            Named {
                name: "c.bin".into(),
                bytes: b"\0\x01\x02".to_vec(),
            },
        ];
        let scan = diagnose_many(&rules(), inputs, Runs::Latest);
        let paths: Vec<&str> = scan
            .report
            .sources
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(paths, ["a.log", "b.log.gz"]);
        let rollup = scan.report.summary.scan.unwrap();
        assert_eq!(rollup.read, 2);
        assert_eq!(rollup.compressed, 1);
        assert_eq!(rollup.skipped.get("binary"), Some(&1));
    }

    #[test]
    fn a_truncated_gzip_is_a_failed_read_with_its_reason() {
        let data = gzip(&b"line of text\n".repeat(1000));
        let cut = data[..data.len() / 2].to_vec();
        let scan = diagnose_many(
            &rules(),
            vec![Named {
                name: "x.gz".into(),
                bytes: cut,
            }],
            Runs::Latest,
        );
        let rollup = scan.report.summary.scan.unwrap();
        assert_eq!(rollup.failed.len(), 1);
        assert_eq!(rollup.failed[0].path, "x.gz");
        assert!(!scan.messages.is_empty());
    }

    #[test]
    fn the_view_masks_secrets_and_shows_repairs() {
        let text = "W: composer config http-basic.repo.magento.com abcdefabcdefabcdefabcdefabcdef12 password=hunter2secret\nW: &quot;quoted&quot;\n";
        let view = read_view(text.as_bytes(), 100);
        assert!(view.complete);
        assert_eq!(view.lines.len(), 2);
        let all = format!("{:?}", view);
        assert!(!all.contains("hunter2secret"), "{all}");
        assert!(!all.contains("abcdefabcdefabcdefabcdefabcdef12"), "{all}");
        assert_eq!(view.repaired[1].text, "\"quoted\"");
        assert!(view.lines[1].contains("&quot;"));
    }

    #[test]
    fn the_view_stops_at_its_line_limit_and_cuts_long_lines() {
        let text = format!("{}\n", "x".repeat(VIEW_LINE_CHARS + 10)).repeat(5);
        let view = read_view(text.as_bytes(), 3);
        assert!(!view.complete);
        assert_eq!(view.lines.len(), 3);
        assert_eq!(view.lines[0].chars().count(), VIEW_LINE_CHARS + 1);
    }
}
