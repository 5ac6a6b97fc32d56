//! Pasting damages text; the answer must not change because of it. Every sample is
//! damaged in each way a web UI, mail client, chat or terminal damages text (and in
//! several ways at once), then diagnosed through `paste` and through stdin: the
//! categories and package names must equal those of the clean text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{each_line, entities, smart_quotes};

use std::collections::BTreeSet;

use assert_cmd::Command;
use magediag::testing::input::source::Source;
use magediag::testing::pipeline::{self, Runs};
use magediag::testing::report::diagnosis::Report;
use magediag::testing::rule::RuleSet;
use serde_json::Value;

type Damage = fn(&str) -> String;

fn ansi(text: &str) -> String {
    each_line(text, |l| format!("\u{1b}[33m{l}\u{1b}[0m"))
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn quoted(text: &str) -> String {
    each_line(text, |l| format!("> {l}"))
}

fn fenced(text: &str) -> String {
    format!("```text\n{text}```\n")
}

fn backticked(text: &str) -> String {
    each_line(text, |l| {
        if l.trim().is_empty() {
            String::new()
        } else {
            format!("`{l}`")
        }
    })
}

fn bullets(text: &str) -> String {
    each_line(text, |l| format!("- {l}"))
}

fn indented(text: &str) -> String {
    each_line(text, |l| format!("    {l}"))
}

fn cloud_prefix(text: &str) -> String {
    each_line(text, |l| format!("    W: {l}"))
}

/// Hard-wraps every line at `width` characters, the way a terminal or mail client does.
fn wrap(text: &str, width: usize) -> String {
    each_line(text, |l| {
        let chars: Vec<char> = l.chars().collect();
        if chars.is_empty() {
            return String::new();
        }
        chars
            .chunks(width)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn wrap80(text: &str) -> String {
    wrap(text, 80)
}

fn wrap120(text: &str) -> String {
    wrap(text, 120)
}

fn wrap80_quoted(text: &str) -> String {
    quoted(&wrap80(text))
}

fn entities_fenced_wrapped(text: &str) -> String {
    fenced(&entities(&wrap(text, 100)))
}

fn ansi_bullets_crlf(text: &str) -> String {
    crlf(&bullets(&ansi(text)))
}

const DAMAGES: &[(&str, Damage)] = &[
    ("entities", entities),
    ("ansi", ansi),
    ("crlf", crlf),
    ("smart quotes", smart_quotes),
    ("markdown quote", quoted),
    ("code fence", fenced),
    ("backticks", backticked),
    ("bullets", bullets),
    ("leading spaces", indented),
    ("W: prefix", cloud_prefix),
    ("wrapped at 80", wrap80),
    ("wrapped at 120", wrap120),
    ("wrapped at 80 and quoted", wrap80_quoted),
    ("entities, fence, wrapped at 100", entities_fenced_wrapped),
    ("ANSI, bullets, CRLF", ansi_bullets_crlf),
];

type Answer = (BTreeSet<String>, BTreeSet<String>);

/// The categories and package names of a diagnosis, through the binary (`paste` or stdin).
fn answer_from_binary(text: &str, paste: bool) -> Answer {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    if paste {
        cmd.arg("paste");
    }
    let output = cmd
        .args(["--format", "json"])
        .write_stdin(text.to_owned())
        .output()
        .unwrap();
    answer_of(&serde_json::from_slice(&output.stdout).unwrap())
}

/// The same, in process: the stream pipeline that stdin, files and `paste` share.
fn answer_in_process(rules: &RuleSet, text: &str) -> Answer {
    let source = Source::from_reader(
        "<stdin>".into(),
        std::io::Cursor::new(text.as_bytes().to_vec()),
    )
    .unwrap();
    let report = Report::new(pipeline::diagnose_source(rules, source, Runs::Latest).reports);
    answer_of(&serde_json::to_value(&report).unwrap())
}

fn answer_of(json: &Value) -> Answer {
    let mut categories = BTreeSet::new();
    let mut packages = BTreeSet::new();
    for source in json["sources"].as_array().unwrap() {
        for d in source["diagnoses"].as_array().unwrap() {
            categories.insert(format!(
                "{}:{}",
                d["category"].as_str().unwrap(),
                d["severity"]
            ));
            for p in d["packages"].as_array().unwrap() {
                packages.insert(p["name"].as_str().unwrap().to_owned());
            }
        }
    }
    (categories, packages)
}

fn samples() -> Vec<(std::path::PathBuf, String)> {
    let mut paths: Vec<_> = std::fs::read_dir("samples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn damaged_samples_get_the_clean_answer() {
    let rules = RuleSet::embedded().unwrap();
    let mut failures = Vec::new();
    for (path, clean) in samples() {
        let expected = answer_in_process(&rules, &clean);
        for (name, damage) in DAMAGES {
            let got = answer_in_process(&rules, &damage(&clean));
            if got != expected {
                failures.push(format!(
                    "{} damaged by {name}: want {expected:?}, got {got:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The binary's `paste` and stdin paths, on the damages applied several at once.
#[test]
fn damaged_samples_through_paste_and_stdin() {
    let combined = &DAMAGES[DAMAGES.len() - 3..];
    let mut failures = Vec::new();
    for (path, clean) in samples() {
        let expected = answer_from_binary(&clean, false);
        for (name, damage) in combined {
            let damaged = damage(&clean);
            for paste in [true, false] {
                let got = answer_from_binary(&damaged, paste);
                if got != expected {
                    let via = if paste { "paste" } else { "stdin" };
                    failures.push(format!(
                        "{} damaged by {name} via {via}: want {expected:?}, got {got:?}",
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
