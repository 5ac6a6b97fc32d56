//! The secrets corpus (`tests/secrets/corpus.toml`) against every output of magediag:
//! each report format, `paste`, `trace`, `explain`, `auth`, `scan` and stderr messages,
//! with a rule of the user's that shows every line (the worst case), each shape alone,
//! and each one-line shape cut at the field cap (2,048 bytes) and the hint cap (300).
//!
//! `leak` entries hold secrets: no 8-character piece of one may reach an output.
//! `keep` entries hold nothing secret: what they name must be shown as it is, so the
//! corpus cannot pass by hiding everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Corpus {
    leak: Vec<Leak>,
    keep: Vec<Keep>,
}

#[derive(Deserialize)]
struct Leak {
    name: String,
    text: String,
    secrets: Vec<String>,
}

#[derive(Deserialize)]
struct Keep {
    name: String,
    text: String,
    kept: String,
}

/// A user rule that fires on every non-empty line and quotes it in its summary.
const EVERY_LINE: &str = r#"
[[signal]]
id = "every.line"
description = "Every line."
patterns = ['''(?P<all>\S.*)''']

[[rule]]
id = "every-line"
category = "network"
severity = "error"
priority = 1
title = "Every line"
when = "any(every.line)"
summary = "lines: {all|list}"
causes = ["first line: {all}"]
remediation = ["look at {all}"]
references = []
"#;

/// The field cap of events (`FIELD_CAP` in `src/signal/event.rs`).
const FIELD_CAP: usize = 2048;
/// The cap of a hint line (`HINT_CHARS` in `src/pipeline/run.rs`).
const HINT_CAP: usize = 300;
/// Lines per corpus file: below the 50 evidence lines a diagnosis shows.
const CHUNK_LINES: usize = 40;

fn corpus() -> Corpus {
    let text = std::fs::read_to_string("tests/secrets/corpus.toml").unwrap();
    let corpus: Corpus = toml::from_str(&text).unwrap();
    assert!(corpus.leak.len() >= 60, "at least 60 secret shapes");
    for leak in &corpus.leak {
        for secret in &leak.secrets {
            assert!(leak.text.contains(secret.as_str()), "{}", leak.name);
        }
    }
    corpus
}

/// The binary under test: `MAGEDIAG_TEST_BIN` when set (to run the corpus against
/// another build), else this crate's.
fn magediag() -> Command {
    let bin = std::env::var_os("MAGEDIAG_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("magediag"));
    let mut cmd = Command::new(bin);
    cmd.env("NO_COLOR", "1")
        .env_remove("COMPOSER_AUTH")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(120));
    cmd
}

/// Everything a run printed, stdout then stderr.
fn printed(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that no 8-character piece of any secret of the corpus is in `output`.
fn assert_masked(corpus: &Corpus, output: &str, what: &str) {
    for leak in &corpus.leak {
        for secret in &leak.secrets {
            let chars: Vec<char> = secret.chars().collect();
            for piece in chars.windows(8.min(chars.len())) {
                let piece: String = piece.iter().collect();
                assert!(
                    !output.contains(&piece),
                    "{what}: `{piece}` of the secret in `{}` leaked:\n{output}",
                    leak.name
                );
            }
        }
    }
}

/// The corpus's texts, leaks then keeps, in files of at most [`CHUNK_LINES`] lines,
/// each text followed by a blank line.
fn chunks(corpus: &Corpus) -> Vec<String> {
    let texts = corpus
        .leak
        .iter()
        .map(|l| &l.text)
        .chain(corpus.keep.iter().map(|k| &k.text));
    let mut chunks = vec![String::new()];
    for text in texts {
        let lines = text.lines().count() + 1;
        let current = chunks.last_mut().unwrap();
        if current.lines().count() + lines > CHUNK_LINES {
            chunks.push(String::new());
        }
        let current = chunks.last_mut().unwrap();
        current.push_str(text);
        current.push_str("\n\n");
    }
    chunks
}

/// Each one-line leak, padded in front so that its first secret straddles byte `at` of
/// the line as the signals see it (trimmed).
fn straddling(corpus: &Corpus, at: usize) -> Vec<String> {
    corpus
        .leak
        .iter()
        .filter(|l| !l.text.contains('\n'))
        .map(|l| {
            let text = l.text.trim();
            let secret = &l.secrets[0];
            let offset = text.find(secret.as_str()).unwrap() + secret.len() / 2;
            let head = "ERROR: step failed ";
            let pad = at.saturating_sub(head.len() + 1 + offset).max(1);
            format!("{head}{} {text}\n", "x".repeat(pad))
        })
        .collect()
}

/// Writes `texts` as `NAME-N.log` files under `dir`, returning their paths.
fn write_logs(dir: &Path, name: &str, texts: &[String]) -> Vec<PathBuf> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.join(format!("{name}-{i:03}.log"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn every_line_rules(dir: &Path, examples: &[String]) -> PathBuf {
    let mut text = EVERY_LINE.to_owned();
    for (i, log) in examples.iter().enumerate() {
        text.push_str(&format!(
            "\n[[rule.example]]\nname = \"chunk {i}\"\nlog = {}\nfires = true\n",
            toml::Value::String(log.clone())
        ));
    }
    text.push_str("\n[[rule.example]]\nname = \"empty\"\nlog = \"\"\nfires = false\n");
    let path = dir.join("every-line.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const FORMATS: [&str; 5] = ["text", "json", "markdown", "github", "ndjson"];

/// Every evidence line, summary, cause and step of a JSON report, as one text.
fn json_texts(report: &Value) -> String {
    let mut out = String::new();
    for source in report["sources"].as_array().unwrap() {
        for d in source["diagnoses"].as_array().unwrap() {
            for e in d["evidence"].as_array().unwrap() {
                out.push_str(e["text"].as_str().unwrap());
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn every_format_masks_every_shape_and_keeps_the_rest() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &[]);
    let mut logs = write_logs(dir.path(), "chunk", &chunks(&corpus));
    logs.extend(write_logs(
        dir.path(),
        "field-cap",
        &straddling(&corpus, FIELD_CAP),
    ));
    for format in FORMATS {
        let output = magediag()
            .arg("--rules")
            .arg(&rules)
            .args(["--format", format])
            .args(&logs)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
        assert_masked(&corpus, &printed(&output), format);
        if format == "json" {
            let report: Value = serde_json::from_slice(&output.stdout).unwrap();
            let shown = json_texts(&report);
            for keep in &corpus.keep {
                assert!(
                    shown.contains(&keep.kept),
                    "`{}` must be shown: `{}` missing from\n{shown}",
                    keep.name,
                    keep.kept
                );
            }
        }
    }
}

#[test]
fn every_run_of_a_log_is_masked_too() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &[]);
    let logs = write_logs(dir.path(), "chunk", &chunks(&corpus));
    for format in ["json", "ndjson"] {
        let output = magediag()
            .arg("--rules")
            .arg(&rules)
            .args(["--all-runs", "--format", format])
            .args(&logs)
            .output()
            .unwrap();
        assert_masked(&corpus, &printed(&output), format);
    }
}

/// Regression: a line was cut to 300 bytes for a hint before it was masked, and a key
/// cut in two was no longer recognised.
#[test]
fn hints_are_masked_before_they_are_cut() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), "hint", &straddling(&corpus, HINT_CAP));
    for format in ["json", "text", "markdown"] {
        let output = magediag()
            .args(["--format", format])
            .args(&logs)
            .output()
            .unwrap();
        let out = printed(&output);
        assert!(out.contains("step failed"), "hints are shown:\n{out}");
        assert_masked(&corpus, &out, format);
    }
}

#[test]
fn paste_masks_every_shape() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &[]);
    let mut texts = chunks(&corpus);
    texts.extend(
        straddling(&corpus, FIELD_CAP)
            .chunks(20)
            .map(|c| c.concat()),
    );
    for text in &texts {
        for with_rules in [true, false] {
            let mut cmd = magediag();
            if with_rules {
                cmd.arg("--rules").arg(&rules);
            }
            let output = cmd.arg("paste").write_stdin(text.clone()).output().unwrap();
            assert_masked(&corpus, &printed(&output), "paste");
        }
    }
}

#[test]
fn trace_masks_every_shape_with_the_lines_around_it() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &[]);
    let mut all = chunks(&corpus).concat();
    all.push_str(&straddling(&corpus, FIELD_CAP).concat());
    let log = dir.path().join("all.log");
    std::fs::write(&log, &all).unwrap();
    let last = all.lines().count();
    let output = magediag()
        .arg("trace")
        .arg("--rules")
        .arg(&rules)
        .arg(&log)
        .args(["--line", &format!("1-{last}")])
        .output()
        .unwrap();
    let out = printed(&output);
    assert!(out.contains("every.line"), "{out}");
    assert_masked(&corpus, &out, "trace");
}

#[test]
fn explain_masks_every_shape_in_a_rules_examples() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &chunks(&corpus));
    let output = magediag()
        .arg("explain")
        .arg("--rules")
        .arg(&rules)
        .arg("every-line")
        .output()
        .unwrap();
    let out = printed(&output);
    assert!(out.contains("fires on"), "{out}");
    assert_masked(&corpus, &out, "explain");
}

#[test]
fn auth_masks_every_shape_it_reads() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let all = chunks(&corpus).concat();
    std::fs::write(dir.path().join("auth.json"), &all).unwrap();
    std::fs::write(dir.path().join(".magento.env.yaml"), &all).unwrap();
    let env = dir.path().join("composer-auth.txt");
    std::fs::write(&env, &all).unwrap();
    for format in ["text", "json"] {
        let output = magediag()
            .arg("auth")
            .arg(dir.path())
            .arg("--composer-auth")
            .arg(&env)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_masked(&corpus, &printed(&output), "auth");
    }
}

#[test]
fn stderr_masks_every_shape_in_a_path() {
    let corpus = corpus();
    let paths: Vec<String> = corpus
        .leak
        .iter()
        .map(|l| format!("/nonexistent/{}", l.text))
        .collect();
    let output = magediag()
        .args(["--format", "json"])
        .args(&paths)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("/nonexistent/"), "{err}");
    assert_masked(&corpus, &printed(&output), "stderr");
}

/// Regression: a file name with a secret shape (`password=hunter2.log`) was printed
/// unmasked in reports, while stderr messages masked it.
#[test]
fn scan_masks_file_names() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let rules = every_line_rules(dir.path(), &[]);
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut named = 0;
    for leak in &corpus.leak {
        let name = leak.text.trim();
        if name.len() > 200 || name.starts_with('.') || name.contains(['/', '\n']) {
            continue;
        }
        std::fs::write(logs.join(format!("{name}.log")), "ERROR: step failed\n").unwrap();
        named += 1;
    }
    assert!(named >= 30, "{named}");
    for format in FORMATS {
        let output = magediag()
            .arg("scan")
            .arg("--rules")
            .arg(&rules)
            .arg(&logs)
            .args(["--format", format])
            .output()
            .unwrap();
        let out = printed(&output);
        assert!(out.contains("step failed"), "{out}");
        assert_masked(&corpus, &out, format);
    }
}
