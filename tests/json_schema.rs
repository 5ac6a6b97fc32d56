//! The JSON contract: docs/magediag-1.schema.json is made from the types that are
//! serialized, and the JSON of every command validates against it: the `magediag/1`
//! report and the ndjson record on every sample, and what `explain`, `rules list`, `rules
//! signals`, `trace` and `auth` print with `--format json`, each against its definition.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const SCHEMA_FILE: &str = "docs/magediag-1.schema.json";

fn generated() -> String {
    let schema = magediag::testing::commands::json_schema();
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

fn committed_schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).unwrap()).unwrap()
}

/// A validator for one definition of the schema, `$defs/NAME`.
fn validator_of(name: &str) -> jsonschema::Validator {
    let schema = committed_schema();
    assert!(schema["$defs"][name].is_object(), "no $defs/{name}");
    let mut def = schema.clone();
    def["$ref"] = Value::from(format!("#/$defs/{name}"));
    for key in ["properties", "required", "type", "additionalProperties"] {
        def.as_object_mut().unwrap().remove(key);
    }
    jsonschema::validator_for(&def).unwrap()
}

/// A validator for the report, and one for an ndjson record (`$defs/NdjsonRecord`).
fn validators() -> (jsonschema::Validator, jsonschema::Validator) {
    let report = jsonschema::validator_for(&committed_schema()).unwrap();
    (report, validator_of("NdjsonRecord"))
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

/// Runs magediag and reads its stdout as JSON, which it must be.
fn json_of(args: &[&str], stdin: Option<Vec<u8>>) -> Value {
    let out = run(args, stdin);
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// `rules list` and `rules signals`, all and one, validate; a listing is not an `explain`.
#[test]
fn rules_list_and_rules_signals_json_validates() {
    let list = json_of(&["rules", "list", "--format", "json"], None);
    assert!(list["rules"].as_array().unwrap().len() > 10, "{list}");
    assert_valid(&validator_of("RulesListOutput"), "rules list", &list);
    assert!(!validator_of("ExplainOutput").is_valid(&list));
    let signals = validator_of("RulesSignalsOutput");
    let all = json_of(&["rules", "signals", "--format", "json"], None);
    assert_valid(&signals, "rules signals", &all);
    let first = all["signals"][0]["id"].as_str().unwrap().to_owned();
    let one = json_of(&["rules", "signals", &first, "--format", "json"], None);
    assert_eq!(one["signals"].as_array().unwrap().len(), 1);
    assert_valid(&signals, &format!("rules signals {first}"), &one);
    let mut bad = one.clone();
    bad["signals"][0]["captures"] = Value::from("not a list");
    assert!(!signals.is_valid(&bad));
}

/// `explain` of every rule id and every category validates.
#[test]
fn explain_json_of_every_rule_and_category_validates() {
    let explain = validator_of("ExplainOutput");
    let list = json_of(&["rules", "list", "--format", "json"], None);
    let mut asked: Vec<String> = Vec::new();
    for rule in list["rules"].as_array().unwrap() {
        for key in ["id", "category"] {
            let name = rule[key].as_str().unwrap().to_owned();
            if !asked.contains(&name) {
                asked.push(name);
            }
        }
    }
    assert!(asked.len() > 20, "{asked:?}");
    for name in &asked {
        let json = json_of(&["explain", name, "--format", "json"], None);
        assert!(!json["rules"].as_array().unwrap().is_empty(), "{name}");
        assert_valid(&explain, &format!("explain {name}"), &json);
    }
    let json = json_of(&["explain", &asked[0], "--format", "json"], None);
    let mut bad = json.clone();
    bad["rules"][0]["category"] = Value::from("not-a-category");
    assert!(!explain.is_valid(&bad));
    let mut bad = json;
    bad["rules"][0].as_object_mut().unwrap().remove("when");
    assert!(!explain.is_valid(&bad));
}

/// `trace` of every line of every sample, of the latest run and of all, validates; so
/// does a trace of stdin.
#[test]
fn trace_json_of_every_sample_validates() {
    let trace = validator_of("TraceOutput");
    let mut several_runs = false;
    for sample in samples() {
        for all_runs in [false, true] {
            let mut args = vec!["trace", sample.as_str(), "--line", "1-2000"];
            if all_runs {
                args.push("--all-runs");
            }
            args.extend(["--format", "json"]);
            let json = json_of(&args, None);
            assert!(!json["lines"].as_array().unwrap().is_empty(), "{args:?}");
            several_runs |= json["runs"].as_u64().unwrap() > 1;
            assert_valid(&trace, &format!("{args:?}"), &json);
        }
    }
    assert!(several_runs, "no sample holds several runs");
    let text = std::fs::read("samples/disk-full.log").unwrap();
    let json = json_of(
        &["trace", "-", "--line", "1", "--format", "json"],
        Some(text),
    );
    assert_valid(&trace, "trace of stdin", &json);
    let mut bad = json;
    bad["lines"][0]["line"] = Value::from(-1);
    assert!(!trace.is_valid(&bad));
}

// Keys made up for these tests: 32 lowercase hex characters, as Marketplace keys are.
const PUBLIC_A: &str = "5e1f0c2a9b8d7e6f5a4b3c2d1e0f9a8b";
const PRIVATE_A: &str = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
const PUBLIC_B: &str = "c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8";
const PRIVATE_B: &str = "f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3";

fn auth_json(public: &str, private: &str) -> String {
    format!(
        r#"{{"http-basic": {{"repo.magento.com": {{"username": "{public}", "password": "{private}"}}}}}}"#
    )
}

/// A repository on 127.0.0.1 that answers every request with 401; its URL.
fn refusing_repository() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
            );
        }
    });
    format!("http://127.0.0.1:{port}/packages.json")
}

/// `auth` validates: with no keys, with two pairs in conflict (a Cloud variable and a
/// project file) and findings, and with `--online` answers.
#[test]
fn auth_json_validates() {
    let auth = validator_of("AuthOutput");
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("project");
    let home = root.path().join("home");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let variable = root.path().join("composer-auth.json");
    std::fs::write(&variable, auth_json(PUBLIC_B, PRIVATE_B)).unwrap();
    let url = refusing_repository();
    let run_auth = |extra: &[&str]| {
        let mut cmd = Command::cargo_bin("magediag").unwrap();
        cmd.arg("auth")
            .arg(&project)
            .args(extra)
            .args(["--format", "json"])
            .env("HOME", &home)
            .env("COMPOSER_HOME", &home)
            .env_remove("COMPOSER_AUTH")
            .env_remove("XDG_CONFIG_HOME");
        for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains(PRIVATE_A) && !text.contains(PRIVATE_B));
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        json
    };
    let none = run_auth(&[]);
    assert!(none["key_sources"].as_array().unwrap().is_empty());
    assert_valid(&auth, "auth with no keys", &none);
    std::fs::write(project.join("auth.json"), auth_json(PUBLIC_A, PRIVATE_A)).unwrap();
    std::fs::write(project.join("composer.json"), "{\"name\": \"a/b\"}").unwrap();
    let variable = variable.display().to_string();
    let conflict = run_auth(&["--composer-auth", &variable, "--composer-version", "2.2.0"]);
    assert!(!conflict["findings"].as_array().unwrap().is_empty());
    assert!(!conflict["views"].as_array().unwrap().is_empty());
    assert_valid(&auth, "auth with two pairs", &conflict);
    let online = run_auth(&["--composer-auth", &variable, "--online", "--repo-url", &url]);
    let results = online["online"].as_array().unwrap();
    assert!(results.iter().any(|r| r["status"] == 401), "{online}");
    assert_valid(&auth, "auth --online", &online);
    let mut bad = online.clone();
    bad["online"][0]["outcome"] = Value::from("maybe");
    assert!(!auth.is_valid(&bad));
}
