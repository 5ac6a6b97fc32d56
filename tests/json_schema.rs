//! The JSON contract: docs/magediag-1.schema.json is made from the report types, and the
//! JSON of every command that writes a `magediag/1` report validates against it, on every
//! sample.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const SCHEMA_FILE: &str = "docs/magediag-1.schema.json";

fn generated() -> String {
    let schema = magediag::testing::report::json_schema();
    format!("{}\n", serde_json::to_string_pretty(&schema).unwrap())
}

/// The committed schema is the one the types make. Regenerate it with
/// `MAGEDIAG_WRITE_SCHEMA=1 cargo test --test integration json_schema::`.
#[test]
fn the_committed_schema_is_made_from_the_types() {
    let generated = generated();
    if std::env::var_os("MAGEDIAG_WRITE_SCHEMA").is_some() {
        std::fs::write(SCHEMA_FILE, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SCHEMA_FILE).unwrap_or_default();
    assert!(
        committed == generated,
        "{SCHEMA_FILE} is stale: run `MAGEDIAG_WRITE_SCHEMA=1 cargo test --test integration json_schema::`"
    );
}

/// A validator for the report, and one for an ndjson record (`$defs/NdjsonRecord`).
fn validators() -> (jsonschema::Validator, jsonschema::Validator) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).unwrap()).unwrap();
    assert!(schema["$defs"]["NdjsonRecord"].is_object(), "{schema}");
    let report = jsonschema::validator_for(&schema).unwrap();
    let mut record = schema.clone();
    record["$ref"] = Value::from("#/$defs/NdjsonRecord");
    for key in ["properties", "required", "type", "additionalProperties"] {
        record.as_object_mut().unwrap().remove(key);
    }
    let record = jsonschema::validator_for(&record).unwrap();
    (report, record)
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, json: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Vec<u8> {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.args(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin);
    }
    cmd.output().unwrap().stdout
}

fn samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("samples")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    names.sort();
    assert!(names.len() > 10);
    names
}

#[test]
fn every_json_output_on_every_sample_validates() {
    let (report, record) = validators();
    let mut checked = 0;
    for sample in samples() {
        let text = std::fs::read(&sample).unwrap();
        let reports: Vec<(String, Vec<u8>)> = vec![
            (
                format!("{sample} --format json"),
                run(&[&sample, "--format", "json"], None),
            ),
            (
                format!("{sample} --all-runs"),
                run(&[&sample, "--all-runs", "--format", "json"], None),
            ),
            (
                format!("{sample} --run 1"),
                run(&[&sample, "--run", "1", "--format", "json"], None),
            ),
            (
                format!("{sample} --run 2 (out of range for most)"),
                run(&[&sample, "--run", "2", "--format", "json"], None),
            ),
            (
                format!("paste {sample}"),
                run(&["paste", "--format", "json"], Some(text.clone())),
            ),
            (
                format!("{sample} with a missing file"),
                run(&[&sample, "missing.log", "--format", "json"], None),
            ),
        ];
        for (what, out) in reports {
            let json: Value =
                serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_valid(&report, &what, &json);
            checked += 1;
        }
        let ndjson = run(&[&sample, "--all-runs", "--format", "ndjson"], None);
        let lines = String::from_utf8(ndjson).unwrap();
        for line in lines.lines() {
            let json: Value = serde_json::from_str(line).unwrap();
            assert_valid(&record, &format!("{sample} ndjson record"), &json);
            // A record is not a report.
            assert!(!report.is_valid(&json), "{sample}: {line}");
            checked += 1;
        }
    }
    let scan = run(&["scan", "samples", "--format", "json"], None);
    let json: Value = serde_json::from_slice(&scan).unwrap();
    assert!(json["summary"]["scan"].is_object());
    assert_valid(&report, "scan samples", &json);
    let empty = run(&["--format", "json"], Some(Vec::new()));
    assert_valid(
        &report,
        "empty stdin",
        &serde_json::from_slice(&empty).unwrap(),
    );
    assert!(checked > 100, "{checked}");
}

/// The schema is strict enough to catch what the docs promise: the closed list of
/// categories, the schema version, the severities, a record's type.
#[test]
fn the_schema_rejects_what_the_docs_rule_out() {
    let (report, record) = validators();
    let out = run(&["samples/disk-full.log", "--format", "json"], None);
    let good: Value = serde_json::from_slice(&out).unwrap();
    assert!(report.is_valid(&good));
    let mut bad = good.clone();
    bad["sources"][0]["diagnoses"][0]["category"] = Value::from("not-a-category");
    assert!(!report.is_valid(&bad));
    let mut bad = good.clone();
    bad["schema"] = Value::from("magediag/2");
    assert!(!report.is_valid(&bad));
    let mut bad = good.clone();
    bad["sources"][0]["diagnoses"][0]["severity"] = Value::from("fatal");
    assert!(!report.is_valid(&bad));
    let lines = run(&["samples/disk-full.log", "--format", "ndjson"], None);
    let first: Value =
        serde_json::from_str(String::from_utf8(lines).unwrap().lines().next().unwrap()).unwrap();
    assert!(record.is_valid(&first));
    let mut bad = first.clone();
    bad["type"] = Value::from("other");
    assert!(!record.is_valid(&bad));
    assert!(Path::new(SCHEMA_FILE).exists());
}
