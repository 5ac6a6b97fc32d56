//! Micro-benchmarks of the per-line hot path (divan): the prefilter on a line that
//! matches nothing and on one it lets through, the prefilter over a batch of lines one at
//! a time and batched, the line gate over a buffer, and the whole pipeline over healthy
//! and failing sample logs, reading every line and gated.
//! `cargo bench --bench hot_path`; compare runs on the same machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use magediag::testing::input::source::Source;
use magediag::testing::pipeline::{self, Runs};
use magediag::testing::record::Framer;
use magediag::testing::rule::RuleSet;

fn main() {
    divan::main();
}

fn rules() -> RuleSet {
    RuleSet::embedded().expect("the embedded rules load")
}

/// A plain ece-tools line: no signal literal, no error word.
const QUIET: &str =
    "[2024-07-14T18:58:11.242923+00:00] DEBUG: Running step: compress-static-content";
/// A Composer line the `composer.installing` signal wants.
const WANTED: &str = "- Installing magento/module-catalog (104.4.5): Extracting archive";

#[divan::bench(args = [QUIET, WANTED])]
fn signals_on_one_line(bencher: divan::Bencher, line: &str) {
    let rules = rules();
    let mut framer = Framer::new();
    let record = framer.frame(1, line);
    let (mut scratch, mut out) = (Vec::new(), Vec::new());
    bencher.bench_local(|| {
        out.clear();
        rules
            .signals
            .matches(divan::black_box(&record), line, &mut scratch, &mut out)
    });
}

/// The prefilter's candidates for a batch of 512 lines (a healthy build log), line by
/// line and as one batch (two walks side by side), as the reading thread hands them over.
#[divan::bench(args = ["one line at a time", "batched"])]
fn candidates_of_512_lines(bencher: divan::Bencher, how: &str) {
    let rules = rules();
    let text = std::fs::read_to_string(format!(
        "{}/samples/healthy-build.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the sample exists");
    let lines: Vec<&str> = text.lines().cycle().take(512).collect();
    let (mut batch, mut ends) = (String::new(), Vec::new());
    for line in &lines {
        batch.push_str(line);
        ends.push(batch.len());
    }
    // Past the warm-up lines: the DFA, as on every large input.
    let first = magediag::testing::gate::prefilter::WARM_LINES + 1;
    let (mut out, mut out_ends) = (Vec::new(), Vec::new());
    bencher
        .counter(divan::counter::BytesCount::new(batch.len()))
        .bench_local(|| {
            out.clear();
            out_ends.clear();
            if how == "batched" {
                rules
                    .signals
                    .candidates_of_lines(first, &batch, &ends, &mut out, &mut out_ends);
            } else {
                for line in &lines {
                    rules.signals.line_candidates(first, line, &mut out);
                }
            }
            out.len()
        });
}

/// The line gate over a 256 KiB buffer of a healthy build log: the one pass every byte
/// of input costs before anything else looks at it (lowercasing, the SIMD search, and the
/// checks of the lines it hits).
#[divan::bench]
fn line_gate_per_buffer(bencher: divan::Bencher) {
    let rules = rules();
    let text = std::fs::read(format!(
        "{}/samples/healthy-build.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the sample exists");
    let buffer = text.repeat((256 << 10) / text.len().max(1) + 1);
    let gate = rules.signals.gate();
    let (mut scratch, mut hot) = (magediag::testing::gate::GateScratch::default(), Vec::new());
    bencher
        .counter(divan::counter::BytesCount::new(buffer.len()))
        .bench_local(|| {
            hot.clear();
            gate.hot_lines(divan::black_box(&buffer), &mut scratch, &mut hot);
            hot.len()
        });
}

/// The sample logs, repeated to about 1 MB, through the whole pipeline, reading every
/// line and with the line gate (what the gate costs or saves).
#[divan::bench(args = ["healthy-build.log", "auth-keys-rejected.log"])]
fn pipeline_per_mb(bencher: divan::Bencher, sample: &str) {
    pipeline_over(bencher, sample, pipeline::diagnose_every_line);
}

#[divan::bench(args = ["healthy-build.log", "auth-keys-rejected.log"])]
fn pipeline_per_mb_gated(bencher: divan::Bencher, sample: &str) {
    pipeline_over(bencher, sample, pipeline::diagnose_gated);
}

fn pipeline_over(
    bencher: divan::Bencher,
    sample: &str,
    diagnose: fn(&RuleSet, Source, Runs) -> pipeline::Outcome,
) {
    let rules = rules();
    let text = std::fs::read(format!("{}/samples/{sample}", env!("CARGO_MANIFEST_DIR")))
        .expect("the sample exists");
    let input = text.repeat((1 << 20) / text.len().max(1) + 1);
    bencher
        .counter(divan::counter::BytesCount::new(input.len()))
        .bench_local(|| {
            let source = Source::from_reader("bench".into(), Cursor::new(input.clone()))
                .expect("in-memory sources open");
            diagnose(&rules, source, Runs::Latest)
        });
}

#[divan::bench]
fn load_embedded_rules() -> RuleSet {
    rules()
}
