//! The CI-facing formats and exit gating: GitHub annotations (escaping as a property),
//! NDJSON records, --fail-on, the step summary, completions and the man page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;

use magediag::testing::report::render::{escape_data, escape_property};

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// What GitHub's runner does to a workflow command's value (the inverse of escaping).
fn unescape(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

proptest! {
    #[test]
    fn any_message_round_trips_through_escaping(message in any::<String>()) {
        let escaped = escape_data(&message);
        prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
        prop_assert_eq!(unescape(&escaped), message);
    }

    #[test]
    fn any_property_round_trips_and_cannot_break_out(value in any::<String>()) {
        let escaped = escape_property(&value);
        prop_assert!(!escaped.contains(',') && !escaped.contains(':') && !escaped.contains('\n'));
        prop_assert_eq!(unescape(&escaped), value);
    }
}

#[test]
fn github_annotations_name_file_line_and_title() {
    let output = magediag()
        .args(["--format", "github", "samples/auth-third-party-vendor.log"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    insta::assert_snapshot!(text);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn github_format_writes_the_full_report_to_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    magediag()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--format", "github", "samples/auth-keys-rejected.log"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "::error file=samples/auth-keys-rejected.log,line=",
        ));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.contains("#### ERROR: repo.magento.com rejected the access keys"),
        "{written}"
    );
}

#[test]
fn ndjson_has_one_record_per_diagnosis_then_a_summary() {
    let output = magediag()
        .args([
            "--format",
            "ndjson",
            "samples/auth-keys-rejected.log",
            "samples/disk-full.log",
        ])
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 3);
    for record in &lines {
        assert_eq!(record["schema"], "magediag/1");
    }
    let (last, diagnoses) = lines.split_last().unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(
        last["diagnoses"].as_u64().unwrap() as usize,
        diagnoses.len()
    );
    assert!(
        diagnoses
            .iter()
            .all(|d| d["type"] == "diagnosis" && d["path"].is_string())
    );
}

/// With `--all-runs`, NDJSON records are written as each run ends (memory stays flat
/// however many runs a log holds): a record's `run` has no `runs`, and the summary record
/// lists the runs of each input. Otherwise they are the JSON report's diagnoses.
#[test]
fn ndjson_of_every_run_is_the_json_report_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let three = std::fs::read_to_string("samples/deploy-log-three-runs.log").unwrap();
    let six = dir.path().join("six-runs.log");
    std::fs::write(&six, three.repeat(2)).unwrap();
    let files = [six.to_str().unwrap(), "samples/disk-full.log"];
    let run = |format: &str| {
        let output = magediag()
            .args(["--all-runs", "--format", format])
            .args(files)
            .output()
            .unwrap();
        (
            String::from_utf8(output.stdout).unwrap(),
            output.status.code(),
        )
    };
    let (json, json_code) = run("json");
    let (ndjson, ndjson_code) = run("ndjson");
    assert_eq!(ndjson_code, json_code);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut expected = Vec::new();
    for source in json["sources"].as_array().unwrap() {
        for d in source["diagnoses"].as_array().unwrap() {
            let mut record = serde_json::json!({
                "schema": "magediag/1", "type": "diagnosis", "path": source["path"],
            });
            if let Some(run) = source.get("run") {
                let mut run = run.clone();
                run.as_object_mut().unwrap().shift_remove("runs");
                record["run"] = run;
            }
            record
                .as_object_mut()
                .unwrap()
                .extend(d.as_object().unwrap().clone());
            expected.push(record);
        }
    }
    let records: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, diagnoses) = records.split_last().unwrap();
    assert!(diagnoses.len() >= 2, "{ndjson}");
    assert_eq!(diagnoses, &expected[..]);
    assert_eq!(
        summary["runs"],
        serde_json::json!([{"path": files[0], "runs": 6}, {"path": files[1], "runs": 1}])
    );
    let mut totals = summary.clone();
    let totals = totals.as_object_mut().unwrap();
    for key in ["schema", "type", "runs"] {
        totals.shift_remove(key);
    }
    assert_eq!(serde_json::Value::Object(totals.clone()), json["summary"]);
}

#[test]
fn fail_on_chooses_the_severity_that_fails() {
    // A warning-level diagnosis only: metadata taken from Composer's cache.
    let warning = "Warning: https://repo.magento.com/packages.json could not be fully loaded (HTTP/2 502 ), package information was loaded from the local cache and may be out of date\n";
    let run = |fail_on: &str, stdin: &str| {
        magediag()
            .args(["--fail-on", fail_on])
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("error", warning), Some(0));
    assert_eq!(run("warning", warning), Some(1));
    let error = std::fs::read_to_string("samples/disk-full.log").unwrap();
    assert_eq!(run("never", &error), Some(0));
    assert_eq!(run("warning", &error), Some(1));
    assert_eq!(run("error", &error), Some(1));
}

#[test]
fn the_man_page_renders() {
    let page = magediag().arg("man").output().unwrap().stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("magediag.1");
    std::fs::write(&path, page).unwrap();
    let Ok(rendered) = std::process::Command::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .output()
    else {
        return; // no man(1) on this machine: the roff itself is checked below
    };
    assert!(String::from_utf8_lossy(&rendered.stdout).contains("NAME"));
}

#[test]
fn completions_load_in_bash() {
    let script = magediag()
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("magediag.bash");
    std::fs::write(&path, script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p magediag", path.display()))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("magediag"));
}

/// What bash's completion offers for the words `line` (the last one being completed).
fn bash_completes(line: &[&str]) -> Vec<String> {
    let script = magediag()
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("magediag.bash");
    std::fs::write(&path, script).unwrap();
    let words = line.join(" ");
    let current = line.last().unwrap();
    let previous = line[line.len() - 2];
    let run = format!(
        "source {} && COMP_WORDS=({words}) && COMP_CWORD={} && \
         _magediag magediag {current} {previous} && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        line.len() - 1
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `magediag explain <TAB>` offers the shipped rule ids and categories (baked into the
/// script when it is generated), `rules test --rule` the ids, `rules signals` the signals.
#[test]
fn completion_offers_rule_ids_categories_and_signals() {
    let listed = magediag()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let ids: Vec<&str> = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() > 40);
    let bash = magediag()
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let bash = String::from_utf8(bash).unwrap();
    for id in &ids {
        assert!(bash.contains(id), "{id} is not in the bash script");
    }
    assert_eq!(
        bash_completes(&["magediag", "explain", "repo-keys-rej"]),
        ["repo-keys-rejected"]
    );
    let category = bash_completes(&["magediag", "explain", "search-engine-u"]);
    assert_eq!(category, ["search-engine-unavailable"]);
    assert_eq!(
        bash_completes(&["magediag", "rules", "test", "--rule", "memory-di"]),
        ["memory-di-compile"]
    );
    assert_eq!(
        bash_completes(&["magediag", "rules", "signals", "composer.archive-r"]),
        ["composer.archive-refused"]
    );
    for shell in ["zsh", "fish"] {
        magediag()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("repo-keys-rejected"))
            .stdout(predicate::str::contains("composer.archive-refused"));
    }
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        magediag()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("magediag"));
    }
}

#[test]
fn the_man_page_is_roff_with_the_commands() {
    magediag()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH magediag 1"))
        .stdout(predicate::str::contains("scan"));
}
