//! What users see, snapshotted: every sample rendered as text, JSON and Markdown.
//! Review changes to `tests/snapshots/*.snap` like code (`INSTA_UPDATE=always cargo test`
//! rewrites them; `git diff` shows what changed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use magediag::testing::input::source::Source;
use magediag::testing::pipeline::{self, Runs};
use magediag::testing::report::diagnosis::Report;
use magediag::testing::report::render::{self, Format};
use magediag::testing::rule::RuleSet;

fn render_sample(path: &Path, format: Format) -> String {
    colored::control::set_override(false);
    let rules = RuleSet::embedded().unwrap();
    let relative = Path::new("samples").join(path.file_name().unwrap());
    let source = Source::open(&relative).unwrap();
    let outcome = pipeline::diagnose_source(&rules, source, Runs::Latest);
    assert!(outcome.error.is_none());
    let report = Report::new(outcome.reports);
    let mut out = Vec::new();
    if format == Format::Markdown {
        // `--format markdown` on a log prints the support reply.
        magediag::testing::report::reply::write(&report, &rules, None, &mut out).unwrap();
    } else {
        render::render(&report, format, &mut out).unwrap();
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn samples_as_text() {
    insta::glob!("../samples", "*.log", |path| {
        insta::assert_snapshot!(render_sample(path, Format::Text));
    });
}

#[test]
fn samples_as_markdown() {
    insta::glob!("../samples", "*.log", |path| {
        insta::assert_snapshot!(render_sample(path, Format::Markdown));
    });
}

#[test]
fn samples_as_json() {
    insta::glob!("../samples", "*.log", |path| {
        insta::assert_snapshot!(render_sample(path, Format::Json));
    });
}

/// `--verbose`: every package, cause and reference, evidence lines whole.
#[test]
fn headline_sample_verbose() {
    colored::control::set_override(false);
    let rules = RuleSet::embedded().unwrap();
    let source = Source::open(Path::new("samples/auth-keys-rejected.log")).unwrap();
    let report = Report::new(pipeline::diagnose_source(&rules, source, Runs::Latest).reports);
    let options = render::TextOptions {
        verbose: true,
        width: 100,
    };
    let mut out = Vec::new();
    render::render_with(&report, Format::Text, &options, &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

/// `--format concise`: one line per diagnosis, every sample.
#[test]
fn samples_as_concise() {
    insta::glob!("../samples", "*.log", |path| {
        insta::assert_snapshot!(render_sample(path, Format::Concise));
    });
}
