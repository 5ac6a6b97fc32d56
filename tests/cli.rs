//! The command line as a user meets it: exit codes, help, errors, user rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use predicates::prelude::*;

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS");
    cmd
}

#[test]
fn help_teaches_with_examples_and_exit_codes() {
    magediag()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "magento-cloud log deploy | magediag",
        ))
        .stdout(predicate::str::contains("Exit status"));
}

#[test]
fn version_names_the_embedded_rules() {
    magediag()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"magediag \S+ \(\d+ rules embedded").unwrap());
}

#[test]
fn nothing_diagnosed_exits_0_and_says_so() {
    magediag()
        .write_stdin(
            "Loading composer repositories with package information\nGenerating autoload files\n",
        )
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no known failure found"));
}

#[test]
fn no_match_shows_the_lines_that_look_most_like_an_error() {
    magediag()
        .write_stdin("all good\nsomething odd: could not frobnicate the widget\nmore\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "2 | something odd: could not frobnicate",
        ));
}

#[test]
fn a_missing_file_is_named_and_the_rest_still_diagnosed() {
    magediag()
        .args(["no/such/file.log", "samples/auth-keys-missing.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "magediag: no/such/file.log: no such file or directory",
        ))
        .stdout(predicate::str::contains("auth-keys-missing"));
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    magediag().arg("--frobnicate").assert().code(2);
}

#[test]
fn plain_output_when_piped() {
    magediag()
        .arg("samples/auth-keys-missing.log")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn color_always_colours_even_when_piped() {
    magediag()
        .args(["--color", "always", "samples/auth-keys-missing.log"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}["));
}

/// The text a rule's pattern matched is highlighted in its evidence line, as rustc and
/// rg do, when colour is on; never when it is off.
#[test]
fn evidence_highlights_what_matched_only_in_colour() {
    let hit = "\u{1b}[1;31mCompilation was started\u{1b}[0m.";
    magediag()
        .args(["--color", "always", "samples/memory-di-compile.log"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("10 |\u{1b}[0m {hit}")));
    magediag()
        .env("CLICOLOR_FORCE", "1")
        .arg("samples/memory-di-compile.log")
        .assert()
        .stdout(predicate::str::contains(hit));
    for off in [&["--color", "never"][..], &["--color", "auto"][..]] {
        magediag()
            .args(off)
            .arg("samples/memory-di-compile.log")
            .assert()
            .code(1)
            .stdout(predicate::str::contains("10 | Compilation was started."))
            .stdout(predicate::str::contains("\u{1b}").not());
    }
}

#[test]
fn markdown_output_is_ticket_ready() {
    magediag()
        .args([
            "--format",
            "markdown",
            "samples/auth-not-entitled-commerce.log",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "Your deployment failed because the keys' account is not entitled",
        ))
        .stdout(predicate::str::contains(
            "`magento/module-customer-segment` 102.0.5-p2",
        ))
        .stdout(predicate::str::contains("<details>"));
}

#[test]
fn all_runs_diagnoses_each_run_labelled_by_its_start() {
    let output = magediag()
        .args([
            "--all-runs",
            "--format",
            "json",
            "samples/deploy-log-three-runs.log",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let starts: Vec<&str> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["run"]["started"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2023-11-02 08:12:40",
            "2024-01-15T14:02:11.120448+00:00",
            "2024-03-12T10:21:04.129888+00:00"
        ]
    );
}

#[test]
fn the_latest_run_is_diagnosed_and_skipped_runs_are_counted() {
    magediag()
        .arg("samples/deploy-log-three-runs.log")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "skipped 2 earlier runs (none had errors; --all-runs shows each)",
        ));
}

/// A deploy log of two runs: the first failed twice (the disk, and the keys), the
/// second succeeded.
const FAILED_THEN_FIXED: &str = "\
[2024-05-02T09:00:00.000000+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml (magento/ece-tools version: 2002.1.16, magento/magento2-base version: 2.4.6-p4)
[2024-05-02T09:00:02.000000+00:00] NOTICE: Running setup upgrade.
[2024-05-02T09:00:05.000000+00:00] CRITICAL: [126] The command \"php ./bin/magento setup:upgrade\" failed. SQLSTATE[HY000]: General error: 3 Error writing file '/tmp/MYtmp1' (Errcode: 28 - No space left on device)
[2024-05-02T09:00:06.000000+00:00] WARNING: Warning from repo.magento.com: Your Magento authentication keys are invalid. Please double-check your keys in your Marketplace account.
[2024-05-02T09:00:07.000000+00:00] ERROR: [126] Deployment failed.
[2024-05-03T11:30:00.000000+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml (magento/ece-tools version: 2002.1.16, magento/magento2-base version: 2.4.6-p4)
[2024-05-03T11:30:02.000000+00:00] NOTICE: Running setup upgrade.
[2024-05-03T11:30:40.000000+00:00] NOTICE: End of running setup upgrade.
[2024-05-03T11:30:41.000000+00:00] NOTICE: Deployment completed.
";

fn json_of(args: &[&str], stdin: &str) -> serde_json::Value {
    let output = magediag()
        .args(["--format", "json"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Regression: "skipped 1 earlier run" did not say that the run skipped had failed. The
/// text and the JSON say how many errors each skipped run had: as many as `--all-runs`
/// shows for it.
#[test]
fn a_skipped_run_that_had_errors_is_named() {
    magediag()
        .write_stdin(FAILED_THEN_FIXED)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "skipped 1 earlier run (it had 2 errors; --all-runs shows it)",
        ));
    let all = json_of(&["--all-runs"], FAILED_THEN_FIXED);
    let first_errors = all["sources"][0]["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(first_errors, 2);
    let latest = json_of(&[], FAILED_THEN_FIXED);
    assert_eq!(
        latest["sources"][0]["run"]["skipped_with_errors"],
        serde_json::json!([{"index": 1, "started": "2024-05-02T09:00:00.000000+00:00", "errors": first_errors}])
    );
    // `--all-runs` shows every run: none is skipped.
    assert!(
        all["sources"][0]["run"]
            .get("skipped_with_errors")
            .is_none()
    );
}

/// Regression: with `--all-runs` every run's `lines` was the whole log's. A run counts its
/// own lines, from its `first_line` to the line before the next run's, so the runs add up
/// to the log; without `--all-runs` (and in `trace`) `lines` counts the whole input.
#[test]
fn with_all_runs_each_run_counts_its_own_lines() {
    let all = json_of(&["--all-runs"], FAILED_THEN_FIXED);
    let runs: Vec<(u64, u64)> = all["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["run"]["first_line"].as_u64().unwrap(),
                s["lines"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(runs, [(1, 5), (6, 4)]);
    let total = FAILED_THEN_FIXED.lines().count() as u64;
    assert_eq!(
        json_of(&[], FAILED_THEN_FIXED)["sources"][0]["lines"],
        total
    );
    magediag()
        .args(["--all-runs"])
        .write_stdin(FAILED_THEN_FIXED)
        .assert()
        .stdout(predicate::str::contains(
            "no known failure found in <stdin> (4 lines read)",
        ));
    let output = magediag()
        .args([
            "trace",
            "-",
            "--line",
            "2",
            "--all-runs",
            "--format",
            "json",
        ])
        .write_stdin(FAILED_THEN_FIXED)
        .output()
        .unwrap();
    let trace: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(trace["input_lines"], total, "{trace}");
}

/// `--run N` diagnoses run N (1 the first, -1 the latest); one out of range is a usage
/// mistake, exit 2, that says how many runs there are.
#[test]
fn run_n_picks_a_deployment_run() {
    let picked = |run: &str| {
        let json = json_of(&["--run", run], FAILED_THEN_FIXED);
        let source = &json["sources"][0];
        (
            source["run"]["index"].as_u64().unwrap(),
            source["diagnoses"].as_array().unwrap().len(),
            source["run"]["skipped"].as_u64().unwrap(),
        )
    };
    assert_eq!(picked("1"), (1, 2, 0));
    assert_eq!(picked("-2"), (1, 2, 0));
    assert_eq!(picked("2"), (2, 0, 1));
    assert_eq!(picked("-1"), (2, 0, 1));
    // The first run failed: its diagnosis sets the exit status; the later run it skipped
    // had no error.
    magediag()
        .args(["--run", "1"])
        .write_stdin(FAILED_THEN_FIXED)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "diagnosed deployment run 1 of 2 (started 2024-05-02T09:00:00.000000+00:00), skipped 1 later run (it had no errors; --all-runs shows it)",
        ));
    for out_of_range in ["3", "-3"] {
        magediag()
            .args(["--run", out_of_range])
            .write_stdin(FAILED_THEN_FIXED)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "no deployment run {out_of_range}: it holds 2 runs"
            )))
            .stdout(predicate::str::contains(
                "error: <stdin>: no deployment run",
            ));
    }
    let json = json_of(&["--run", "3"], FAILED_THEN_FIXED);
    assert!(
        json["sources"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("no deployment run 3")
    );
    // A log of one run has run 1 (and -1), and no other.
    magediag()
        .args(["--run", "1", "samples/disk-full.log"])
        .assert()
        .code(1);
    magediag()
        .args(["--run", "2", "samples/disk-full.log"])
        .assert()
        .code(2);
    for bad in [
        &["--run", "0"][..],
        &["--run", "x"],
        &["--run", "1", "--all-runs"],
    ] {
        magediag()
            .args(bad)
            .arg("samples/disk-full.log")
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty());
    }
    magediag()
        .arg("--help")
        .assert()
        .stdout(predicate::str::contains("--run -2 deploy.log"))
        .stdout(predicate::str::contains("-1 is the latest"));
}

#[test]
fn a_user_rule_folder_adds_a_rule_that_fires() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        r#"
[[signal]]
id = "acme.sync-failed"
patterns = ['Acme sync failed for store (?P<store>\w+)']

[[rule]]
id = "acme-sync-failed"
category = "deploy-command-failed"
severity = "error"
title = "The Acme catalogue sync failed"
when = "any(acme.sync-failed)"
summary = "sync failed for store {store}"
causes = ["The Acme API was down."]
remediation = ["Rerun the deploy."]
references = ["https://example.com/acme"]

[[rule.example]]
log = "Acme sync failed for store default"
fires = true
fields = { store = "default" }

[[rule.example]]
log = "Acme sync finished for store default"
fires = false
"#,
    )
    .unwrap();
    magediag()
        .arg("--rules")
        .arg(dir.path())
        .write_stdin("[2024-03-12T10:21:04+00:00] INFO: Acme sync failed for store b2b\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("sync failed for store b2b"));
    magediag()
        .args(["rules", "test"])
        .arg("--rules")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"\d+ passed, 0 failed").unwrap());
}

#[test]
fn a_broken_rule_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "[[signal]]\nid = \"x\"\npatterns = ['x']\n\n[[rule]]\nid = \"r\"\ncategory = \"network\"\nseverity = \"error\"\ntitle = \"t\"\nwhen = 'any(x) && count(x) >'\nsummary = \"s\"\ncauses = []\nremediation = []\n",
    )
    .unwrap();
    let expected = format!("magediag: {}:10:", path.display());
    magediag()
        .arg("--rules")
        .arg(&path)
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(expected))
        .stderr(predicate::str::contains("expected a number"));
}

#[test]
fn rules_check_validates_and_reports_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[signal]]\nid = \"BAD ID\"\npatterns = ['(unclosed']\n",
    )
    .unwrap();
    magediag()
        .args(["rules", "check"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:2:6: invalid signal id"))
        .stderr(predicate::str::contains(
            "bad.toml:3:14: invalid regex in signal `BAD ID`: unclosed group\n  |\n3 | patterns = ['(unclosed']\n  |              ^\n",
        ));
}

#[test]
fn rules_list_json_counts_examples() {
    let output = magediag()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rule = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "repo-keys-rejected")
        .unwrap();
    assert_eq!(rule["category"], "auth-keys-rejected");
    assert!(rule["examples"]["fires"].as_u64().unwrap() >= 1);
    assert!(rule["examples"]["quiet"].as_u64().unwrap() >= 1);
}

#[test]
fn explain_prints_the_rule_and_suggests_close_ids() {
    magediag()
        .args(["explain", "repo-keys-rejected"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Likely causes"))
        .stdout(predicate::str::contains("My Profile > Access Keys"));
    magediag()
        .args(["explain", "keys-rejected"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`repo-keys-rejected`?"));
    // A typo is answered with the nearest id, not a substring of it.
    magediag()
        .args(["explain", "repo-keys-rejectd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `repo-keys-rejected`",
        ));
}

#[test]
fn explain_takes_the_category_the_output_shows() {
    // The header of a diagnosis reads `error[auth-keys-rejected]`: that name explains.
    magediag()
        .args(["explain", "auth-keys-rejected"])
        .assert()
        .success()
        .stdout(predicate::str::contains("category auth-keys-rejected"))
        .stdout(predicate::str::contains("repo-keys-rejected"));
    let output = magediag()
        .args(["explain", "auth-keys-rejected", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules = json["rules"].as_array().unwrap();
    assert!(rules.len() > 1, "{json}");
    assert!(rules.iter().all(|r| r["category"] == "auth-keys-rejected"));
    assert!(
        rules
            .iter()
            .all(|r| r["remediation"].as_array().is_some_and(|s| !s.is_empty()))
    );
}

#[test]
fn explain_json_is_one_rule_whole() {
    let output = magediag()
        .args(["explain", "repo-keys-rejected", "-f", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules = json["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], "repo-keys-rejected");
    assert!(rules[0]["when"].as_str().is_some_and(|w| !w.is_empty()));
    assert!(
        rules[0]["examples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["fires"] == false)
    );
}

#[test]
fn secrets_in_the_log_never_reach_any_output() {
    let public = "0123456789abcdef0123456789abcdef";
    let private = "fedcba9876543210fedcba9876543210";
    let log = format!(
        "COMPOSER_AUTH={{\"http-basic\":{{\"repo.magento.com\":{{\"username\":\"{public}\",\"password\":\"{private}\"}}}}}}\n\
         The 'https://{public}:{private}@repo.magento.com/archives/magento/module-catalog/magento-module-catalog-104.0.6.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n"
    );
    for format in ["text", "json", "markdown"] {
        let output = magediag()
            .args(["--format", format])
            .write_stdin(log.clone())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: the 403 is still diagnosed"
        );
        assert!(all.contains("magento/module-catalog"), "{format}: {all}");
        assert!(
            !all.contains(public) && !all.contains(private),
            "{format} leaked:\n{all}"
        );
    }
}

#[test]
fn paste_reads_a_pipe_without_prompting_and_answers_in_markdown() {
    let pasted = "> The &quot;https://repo.magento.com/archives/magento/module-customer-segment/magento-module-customer-segment-102.0.5.0-patch2.zip&quot; file could not be downloaded (HTTP/1.1 404 Not Found)\n";
    magediag()
        .arg("paste")
        .write_stdin(pasted)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Paste the output").not())
        .stdout(predicate::str::starts_with(
            "Your deployment failed because",
        ))
        .stdout(predicate::str::contains("## magediag").not())
        .stdout(predicate::str::contains(
            "`magento/module-customer-segment` 102.0.5-p2",
        ));
}

#[test]
fn cloud_error_log_entries_become_signals_with_their_error_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("codes.toml"),
        r#"
[[signal]]
id = "test.ece-error"
patterns = ['(?P<title>.+)']
levels = ["ERROR"]

[[rule]]
id = "test-scd-compress"
category = "static-content-failed"
severity = "error"
title = "t"
when = "any(test.ece-error, code == 3004 && stage == 'build')"
summary = "[{code}] {title}: {suggestion}"
causes = ["c"]
remediation = ["r"]
references = ["https://example.com"]
"#,
    )
    .unwrap();
    let entry = r#"{"errorCode":3004,"stage":"build","step":"compress-static-content","suggestion":"Check the cloud.log","title":"Unable to compress static content","type":"error"}"#;
    magediag()
        .arg("--rules")
        .arg(dir.path())
        .write_stdin(format!("{entry}\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "[3004] Unable to compress static content: Check the cloud.log",
        ));
}

/// clap's own consistency check of every subcommand's definition: a duplicated or
/// mistyped argument panics at run time otherwise (it once broke `auth`).
#[test]
fn the_command_line_definition_is_consistent() {
    use clap::CommandFactory;
    magediag::testing::commands::cli::Cli::command().debug_assert();
}

#[test]
fn auth_honours_its_json_format() {
    let dir = tempfile::tempdir().unwrap();
    let output = magediag()
        .env("HOME", dir.path())
        .env("COMPOSER_HOME", dir.path())
        .env_remove("COMPOSER_AUTH")
        .args(["auth", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["findings"].is_array(), "{json}");
}

#[test]
fn trace_shows_signals_fields_and_rule_verdicts() {
    magediag()
        .args([
            "trace",
            "samples/auth-third-party-vendor.log",
            "--line",
            "17",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("signal composer.archive-refused:"))
        .stdout(predicate::str::contains(
            "package=\"mageworx/module-seobase\"",
        ))
        .stdout(predicate::str::contains(
            "fired marketplace-extension-not-entitled",
        ))
        .stdout(predicate::str::contains(
            "false none(composer.archive-refused, ...): 2 of 2 events pass",
        ));
}

/// Regression: trace judged rules over every run together and called a rule "fired"
/// on a line of an earlier run while the diagnosis (the latest run) was clean; and it
/// called suppressed rules fired.
#[test]
fn trace_says_which_run_a_line_is_in_and_agrees_with_the_diagnosis() {
    let log = "samples/deploy-log-three-runs.log";
    let text = |args: &[&str]| {
        let output = magediag().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let latest = text(&["trace", log, "--line", "6"]);
    assert!(latest.contains("line 6 (run 1 of 3):"), "{latest}");
    assert!(
        latest.contains("the diagnosis covers the latest run only"),
        "{latest}"
    );
    assert!(latest.contains("rules over run 3 of 3"), "{latest}");
    assert!(
        latest.contains("fired repo-credentials-invalid"),
        "{latest}"
    );
    assert!(
        latest.contains("hidden deploy-command-failed [deploy-command-failed] hidden by "),
        "{latest}"
    );
    assert!(!latest.contains("fired deploy-command-failed"), "{latest}");
    let all = text(&["trace", log, "--line", "6", "--all-runs"]);
    assert!(all.contains("rules over run 1 of 3"), "{all}");
    assert!(!all.contains("rules over run 3 of 3"), "{all}");
    assert!(!all.contains("fired"), "the first run is clean: {all}");
}

/// Regression: trace said "no signal matched" on a line that a signal's pattern matches
/// but its `levels` refuse, leaving a rule author to guess why. It names the signal, the
/// levels it takes and the line's.
#[test]
fn trace_says_which_signal_a_line_s_level_refused() {
    let log = "[2024-05-02T09:00:05.000000+00:00] NOTICE: Cannot reach the cache\n\
               [2024-05-02T09:00:06.000000+00:00] ERROR: Cannot reach the cache\n";
    let output = magediag()
        .args(["trace", "-", "--line", "1-2"])
        .write_stdin(log)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("no signal matched (ece.error's pattern matches, but it takes only ERROR, CRITICAL lines and this one is at NOTICE)"),
        "{text}"
    );
    let output = magediag()
        .args(["trace", "-", "--line", "1-2", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["lines"][0]["refused_by_level"],
        serde_json::json!([{"signal": "ece.error", "levels": ["ERROR", "CRITICAL"], "level": "NOTICE"}])
    );
    // The ERROR line is taken: nothing refused it.
    assert!(json["lines"][1].get("refused_by_level").is_none(), "{json}");
    assert_eq!(json["lines"][1]["signals"][0]["signal"], "ece.error");
}

/// `trace --rule ID` judges only the rules asked about, each test by test even when its
/// signals saw no traced line (a quiet rule then says why: no event); a typo is a usage
/// error that names the nearest id.
#[test]
fn trace_rule_judges_only_the_rules_asked_about() {
    let output = magediag()
        .args(["trace", "samples/disk-full.log", "--line", "1"])
        .args(["--rule", "repo-keys-rejected", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules = json["verdicts"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{json}");
    assert_eq!(rules[0]["id"], "repo-keys-rejected");
    assert_eq!(rules[0]["fired"], false);
    assert!(rules[0]["when"].is_string(), "{json}");
    let tests = rules[0]["tests"].as_array().unwrap();
    assert!(
        tests
            .iter()
            .all(|t| t.as_str().unwrap().contains("0 of 0 event")),
        "{json}"
    );
    magediag()
        .args(["trace", "samples/disk-full.log", "--line", "1"])
        .args(["--rule", "disk-ful"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `disk-full`?"));
}

/// Regression: trace framed a `cloud.error.log` entry as a plain line (its JSON as the
/// message), where the diagnosis reads it as an ece-tools message with its code.
#[test]
fn trace_reads_a_cloud_error_log_entry_as_the_diagnosis_does() {
    let entry = r#"{"errorCode":2,"stage":"build","step":"validate-config","suggestion":"Check the file","title":"Acme config could not be read","type":"error"}"#;
    let output = magediag()
        .args(["trace", "-", "--line", "1", "--format", "json"])
        .write_stdin(format!("{entry}\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let line = &json["lines"][0];
    assert_eq!(line["message"], "Acme config could not be read", "{json}");
    let envelope: Vec<&str> = line["envelope"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(envelope, ["level=ERROR", "code=2", "stage=build"], "{json}");
}

#[test]
fn trace_rejects_a_bad_range() {
    magediag()
        .args(["trace", "samples/auth-keys-missing.log", "--line", "9-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the first line is after the last"));
}

#[test]
fn project_findings_sharpen_an_auth_diagnosis_without_leaking_keys() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let (user_a, pass_a) = (
        "0123456789abcdef0123456789abcdef",
        "fedcba9876543210fedcba9876543210",
    );
    let (user_b, pass_b) = (
        "00112233445566778899aabbccddeeff",
        "ffeeddccbbaa99887766554433221100",
    );
    std::fs::write(
        dir.path().join("auth.json"),
        format!(r#"{{"http-basic": {{"repo.magento.com": {{"username": "{user_a}", "password": "{pass_a}"}}}}}}"#),
    )
    .unwrap();
    let env = format!(
        r#"{{"http-basic": {{"repo.magento.com": {{"username": "{user_b}", "password": "{pass_b}"}}}}}}"#
    );
    let output = magediag()
        .env("HOME", home.path())
        .env("COMPOSER_HOME", home.path())
        .env("COMPOSER_AUTH", env)
        .arg("--project")
        .arg(dir.path())
        .arg("--verbose")
        .arg("samples/auth-keys-rejected.log")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout.contains("2 different key pairs are configured"),
        "{stdout}"
    );
    for secret in [user_a, pass_a, user_b, pass_b] {
        assert!(!stdout.contains(secret), "leaked {secret}");
    }
    // Said once, as `auth` says it; the fix points at `auth` instead of copying its steps.
    assert_eq!(stdout.matches("different key pairs").count(), 1, "{stdout}");
    assert!(stdout.contains("(keys-conflict)"), "{stdout}");
    assert!(!stdout.contains("****"), "{stdout}");
    // A missing folder is what `auth` says it is: exit 2.
    magediag()
        .args([
            "--project",
            "no-such-folder",
            "samples/auth-keys-rejected.log",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no-such-folder is not a directory",
        ));
}

/// A catch-all rule (`generic = true`) is hidden by a specific one firing nearby, and
/// shows when it is alone.
#[test]
fn a_generic_failure_gives_way_to_the_specific_one_nearby() {
    let specific = "[2024-03-12T11:02:10.000000+00:00] ERROR: [11] Unable to write file: No space left on device\n";
    let output = magediag()
        .args(["--format", "json"])
        .write_stdin(specific)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let categories: Vec<&str> = json["sources"][0]["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["disk-full"]);

    let alone = "[2024-03-12T11:02:10.000000+00:00] ERROR: [11] Something unforeseen happened\n";
    let output = magediag()
        .args(["--format", "json"])
        .write_stdin(alone)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["sources"][0]["diagnoses"][0]["category"],
        "deploy-command-failed"
    );
}

#[test]
fn an_empty_pipe_is_no_input_and_never_passes() {
    let assert = magediag().write_stdin("").assert().code(2);
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(out.contains("no input"), "{out}");
    assert!(!out.contains("ok"), "{out}");
    // Whatever --fail-on says: it is about diagnoses, and there was nothing to diagnose.
    magediag()
        .args(["--fail-on", "never"])
        .write_stdin("")
        .assert()
        .code(2);
    // A log that holds lines but no failure is clean.
    magediag()
        .write_stdin("Deployment completed.\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ok: no known failure found in <stdin> (1 line read)",
        ));
}

#[test]
fn an_input_that_failed_is_in_the_json_with_its_error() {
    let output = magediag()
        .args([
            "--format",
            "json",
            "no-such.log",
            "samples/auth-keys-rejected.log",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sources = json["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2, "{json}");
    let failed = sources.iter().find(|s| s["path"] == "no-such.log").unwrap();
    assert_eq!(failed["lines"], 0);
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("no such file")),
        "{json}"
    );
    let read = sources.iter().find(|s| s["path"] != "no-such.log").unwrap();
    assert!(read.get("error").is_none(), "{json}");
    assert_eq!(read["diagnoses"].as_array().unwrap().len(), 1);
}

#[test]
fn a_scan_that_reads_no_log_is_not_ok() {
    let dir = tempfile::tempdir().unwrap();
    let assert = magediag().arg("scan").arg(dir.path()).assert().code(2);
    let out = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(out.contains("no log was read"), "{out}");
    assert!(!out.contains("ok:"), "{out}");
}

#[test]
fn each_command_refuses_the_options_it_would_ignore() {
    for args in [
        &["auth", "--fail-on", "never"][..],
        &["man", "--all-runs"],
        &["completions", "bash", "--format", "json"],
        &["--format", "json", "auth"],
        &["--fail-on", "never", "explain", "repo-keys-rejected"],
        &["explain", "repo-keys-rejected", "--format", "markdown"],
        &["rules", "check", "--format", "json", "rules"],
        &["serve", "--format", "json"],
    ] {
        magediag()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::is_empty().not());
    }
    // Options of the diagnosis before a command name it as a file: say it is a command.
    magediag()
        .args(["--format", "json", "auth"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`auth` is a command"));
}

#[test]
fn trace_writes_json_and_refuses_a_line_past_the_end() {
    let output = magediag()
        .args([
            "trace",
            "samples/auth-keys-rejected.log",
            "--line",
            "15",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["lines"][0]["line"], 15);
    assert!(
        !json["lines"][0]["signals"].as_array().unwrap().is_empty(),
        "{json}"
    );
    assert_eq!(json["input_lines"], 30);
    assert!(
        json["verdicts"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["fired"] == true)
    );
    magediag()
        .args(["trace", "samples/auth-keys-rejected.log", "--line", "999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no line 999: the input has 30 lines",
        ));
    // `-` is standard input.
    magediag()
        .args(["trace", "-", "--line", "1"])
        .write_stdin("Deployment completed.\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("line 1:"));
}

#[test]
fn concise_is_one_line_per_diagnosis() {
    let output = magediag()
        .args(["--format", "concise", "samples/auth-keys-rejected.log"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let out = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("samples/auth-keys-rejected.log:15: error[auth-keys-rejected]: "),
        "{out}"
    );
    assert_eq!(lines[1], "1 error, 0 warnings in 1 source");
}

#[test]
fn text_puts_the_fix_on_the_first_screen_and_the_rest_behind_verbose() {
    let output = magediag()
        .env("COLUMNS", "100")
        .arg("samples/auth-keys-rejected.log")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let fix = out.lines().position(|l| l.trim() == "fix:").unwrap();
    assert!(fix < 8, "fix: on line {}\n{out}", fix + 1);
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert!(!out.contains("likely causes:"), "{out}");
    // Versions in Composer's form; the evidence keeps the log's own text.
    assert!(out.contains("magento/module-catalog 103.0.5-p2"), "{out}");
    assert!(
        !out.contains("magento/module-catalog 103.0.5.0-patch2"),
        "{out}"
    );
    let verbose = magediag()
        .args(["--verbose", "samples/auth-keys-rejected.log"])
        .output()
        .unwrap();
    let verbose = String::from_utf8_lossy(&verbose.stdout);
    assert!(verbose.contains("likely causes:"), "{verbose}");
    assert!(verbose.contains("packages (4):"), "{verbose}");
    assert!(
        verbose.contains("magento/module-sales 102.0.5-p2  [403]"),
        "{verbose}"
    );
}

#[test]
fn the_man_page_has_exit_status_and_environment() {
    let output = magediag().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains("EXIT STATUS"), "{page}");
    assert!(page.contains(".SH ENVIRONMENT"), "{page}");
    assert!(!page.contains("magediag-scan("), "{page}");
}

/// A rule author's file: one signal, one rule, with or without its quiet example.
fn authors_rules(dir: &std::path::Path, quiet_example: bool) -> std::path::PathBuf {
    let mut text = String::from(
        "[[signal]]\nid = \"my.queue-stuck\"\npatterns = ['consumer (?P<consumer>\\S+) is stuck']\n\n\
         [[rule]]\nid = \"my-queue-stuck\"\ncategory = \"deploy-command-failed\"\nseverity = \"warning\"\n\
         title = \"A queue consumer is stuck\"\nwhen = \"any(my.queue-stuck)\"\n\
         summary = \"Consumer {consumer} is stuck\"\ncauses = [\"c\"]\nremediation = [\"r\"]\n\n\
         [[rule.example]]\nlog = \"consumer async.operations.all is stuck\"\nfires = true\n",
    );
    if quiet_example {
        text.push_str(
            "\n[[rule.example]]\nlog = \"consumer async.operations.all started\"\nfires = false\n",
        );
    }
    let path = dir.join("mine.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `rules check` counts the author's own rules, and rejects a rule without an example
/// of each kind (which only `rules test` used to catch); `--rules` is accepted too.
#[test]
fn rules_check_counts_your_rules_and_wants_both_kinds_of_example() {
    let dir = tempfile::tempdir().unwrap();
    let path = authors_rules(dir.path(), false);
    magediag()
        .args(["rules", "check"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "mine.toml:6: rule `my-queue-stuck` has no example with `fires = false`",
        ));
    let path = authors_rules(dir.path(), true);
    magediag()
        .args(["rules", "check", "--rules"])
        .arg(&path)
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^ok: 1 rule and 1 signal of yours, checked with \d+ shipped rules\n$",
            )
            .unwrap(),
        );
}

/// `rules test PATH` runs only that file's rules, `--rule ID` only that rule.
#[test]
fn rules_test_runs_only_the_rules_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = authors_rules(dir.path(), true);
    magediag()
        .args(["rules", "test", "--color", "never"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 passed, 0 failed (1 rule)"));
    let output = magediag()
        .args([
            "rules",
            "test",
            "--color",
            "never",
            "--rule",
            "repo-keys-rejected",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("failed (1 rule)"), "{stdout}");
    magediag()
        .args(["rules", "test", "--rule", "repo-keys-rejectd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `repo-keys-rejected`?",
        ));
}

/// The signals are visible: what each matches and captures, and who reads it; `explain`
/// shows the signals of its rule.
#[test]
fn rules_signals_and_explain_show_patterns_and_captures() {
    let output = magediag()
        .args([
            "rules",
            "signals",
            "composer.archive-refused",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let signal = &json["signals"][0];
    assert_eq!(signal["id"], "composer.archive-refused");
    let captures: Vec<&str> = signal["captures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        captures.contains(&"status") && captures.contains(&"vendor"),
        "{captures:?}"
    );
    assert!(
        signal["when"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "repo-keys-rejected")
    );
    magediag()
        .args(["rules", "signals", "composer.archive-refusd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `composer.archive-refused`?",
        ));
    magediag()
        .args(["explain", "repo-keys-rejected", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Signals\n  composer.archive-refused\n    pattern:",
        ))
        .stdout(predicate::str::contains("captures: fallback, url, host"));
}
