//! Drives the binary on every shipped sample: the diagnosis a support engineer would
//! give (top category), the exit code, and the packages named.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// (sample, top error category or "none", exit code, packages that must be named)
const EXPECTED: &[(&str, &str, i32, &[&str])] = &[
    (
        "auth-keys-rejected.log",
        "auth-keys-rejected",
        1,
        &[
            "magento/magento-cloud-configuration",
            "magento/module-catalog",
            "magento/module-customer",
            "magento/module-sales",
        ],
    ),
    (
        "auth-invalid-credentials.log",
        "auth-keys-rejected",
        1,
        &["magento/project-enterprise-edition"],
    ),
    (
        "auth-not-entitled-commerce.log",
        "auth-not-entitled",
        1,
        &["magento/module-customer-segment"],
    ),
    (
        "auth-third-party-vendor.log",
        "auth-not-entitled",
        1,
        &["mageworx/module-seobase", "mageworx/module-seoredirects"],
    ),
    ("auth-keys-missing.log", "auth-keys-missing", 1, &[]),
    ("deploy-log-three-runs.log", "auth-keys-rejected", 1, &[]),
    ("healthy-build.log", "none", 0, &[]),
    ("healthy-deploy.log", "none", 0, &[]),
    ("healthy-deploy-ece-warnings.log", "none", 0, &[]),
    (
        "auth-not-entitled-b2b.log",
        "auth-not-entitled",
        1,
        &["magento/extension-b2b"],
    ),
    ("database-unavailable.log", "database-unavailable", 1, &[]),
    (
        "dependency-conflict.log",
        "dependency-conflict",
        1,
        &["magento/inventory-metapackage", "acme/module-pdf-invoice"],
    ),
    ("deploy-command-failed.log", "deploy-command-failed", 1, &[]),
    ("disk-full.log", "disk-full", 1, &[]),
    ("memory-di-compile.log", "memory-exhausted", 1, &[]),
    ("network-dns.log", "network", 1, &[]),
    ("patch-failed.log", "patch-failed", 1, &[]),
    (
        "php-version-mismatch.log",
        "php-version-mismatch",
        1,
        &["laminas/laminas-code"],
    ),
    (
        "search-no-alive-nodes.log",
        "search-engine-unavailable",
        1,
        &[],
    ),
    ("static-content-less.log", "static-content-failed", 1, &[]),
];

fn json_for(sample: &Path) -> (Value, i32) {
    let output = Command::cargo_bin("magediag")
        .unwrap()
        .args(["--format", "json"])
        .arg(sample)
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not JSON ({e}); stderr: {}",
            sample.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (json, code)
}

fn top_error_category(json: &Value) -> String {
    json["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["diagnoses"].as_array().into_iter().flatten())
        .find(|d| d["severity"] == "error")
        .and_then(|d| d["category"].as_str())
        .unwrap_or("none")
        .to_owned()
}

#[test]
fn every_sample_gets_the_expected_diagnosis() {
    let mut failures = Vec::new();
    for (name, category, exit, packages) in EXPECTED {
        let path = Path::new("samples").join(name);
        let (json, code) = json_for(&path);
        let top = top_error_category(&json);
        if top != *category || code != *exit {
            failures.push(format!(
                "{name}: want {category} exit {exit}, got {top} exit {code}"
            ));
        }
        let text = json.to_string();
        for package in *packages {
            if !text.contains(&format!("\"name\":\"{package}\"")) {
                failures.push(format!("{name}: package {package} not named"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_sample_has_an_expectation() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir("samples").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !EXPECTED.iter().any(|(n, ..)| *n == name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "samples without an expectation: {missing:?}"
    );
}

#[test]
fn stdin_and_a_file_argument_give_the_same_diagnoses() {
    let sample = "samples/auth-keys-rejected.log";
    let (from_file, _) = json_for(Path::new(sample));
    let output = Command::cargo_bin("magediag")
        .unwrap()
        .args(["--format", "json"])
        .pipe_stdin(sample)
        .unwrap()
        .output()
        .unwrap();
    let from_stdin: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(from_stdin["sources"][0]["path"], "<stdin>");
    let strip_paths = |v: &Value| {
        let mut v = v["sources"][0]["diagnoses"].clone();
        for d in v.as_array_mut().unwrap() {
            for e in d["evidence"].as_array_mut().unwrap() {
                e["path"] = Value::Null;
            }
        }
        v
    };
    assert_eq!(strip_paths(&from_file), strip_paths(&from_stdin));
}
