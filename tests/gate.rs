//! The quiet-line skip changes nothing: a source diagnosed with the gate (lines that no
//! read signal, hint or the framer could use only counted) gives the same reports as the
//! same source read line by line, on one thread and on two.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::LazyLock;

use magediag::testing::input::source::Source;
use magediag::testing::pipeline::{Runs, diagnose_every_line, diagnose_gated};
use magediag::testing::rule::RuleSet;
use proptest::prelude::*;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::embedded().unwrap());

/// The shipped rules and the rule file `text`, read as if from `path`.
fn with_rule_file(path: &str, text: &str) -> RuleSet {
    let file = magediag::testing::rule::RuleFile {
        path: path.into(),
        text: text.into(),
    };
    RuleSet::with_extra(&[file]).unwrap()
}

/// The shipped rules and one that looks at the exception box a refusal sits in (no shipped
/// rule does, but users' rules may).
static WITH_BOX_RULE: LazyLock<RuleSet> = LazyLock::new(|| {
    let text = r#"
[[signal]]
id = "test.refused"
patterns = ['URL could not be accessed']

[[rule]]
id = "test-refused-in-box"
category = "auth-keys-rejected"
severity = "error"
title = "A download refused inside a TransportException box"
when = "any(test.refused, exception == 'Composer\\Downloader\\TransportException')"
summary = "refused in a box"
causes = ["A test."]
remediation = ["None."]

[[rule.example]]
log = """
  [Composer\\Downloader\\TransportException]
  The 'https://x.test/archives/a/b/a-b-1.zip' URL could not be accessed
"""
fires = true
"#;
    with_rule_file("box.toml", text)
});

/// The shipped rules and one whose summary shows the suggestion ece-tools printed under
/// its error: the lines of a suggestion are read only for such a rule.
static WITH_SUGGESTION_RULE: LazyLock<RuleSet> = LazyLock::new(|| {
    let text = r#"
[[rule]]
id = "test-ece-error-advice"
category = "deploy-command-failed"
severity = "error"
title = "ece-tools said what to do"
when = "any(ece.error, code != '')"
summary = "ece-tools error {code}, advice: {suggestion}"
causes = ["A test."]
remediation = ["None."]

[[rule.example]]
log = """
[2024-03-12T10:21:00.000000+00:00] ERROR: [12] Unable to write to the app/etc/env.php file
  Check the permissions of app/etc.
"""
fires = true
"#;
    with_rule_file("advice.toml", text)
});

/// The reports of both paths, as JSON, for every way runs are reported.
fn both(input: &[u8]) -> Vec<(String, String)> {
    both_with(&RULES, input)
}

fn both_with(rules: &RuleSet, input: &[u8]) -> Vec<(String, String)> {
    [Runs::Latest, Runs::All]
        .into_iter()
        .map(|runs| {
            let source = || {
                Source::from_reader("input.log".into(), std::io::Cursor::new(input.to_vec()))
                    .unwrap()
            };
            // Without a size, a source is read on two threads; a small file on one.
            let gated = diagnose_gated(rules, source(), runs);
            let small = Source {
                size: Some(input.len() as u64),
                ..source()
            };
            let gated_small = diagnose_gated(rules, small, runs);
            let every = diagnose_every_line(rules, source(), runs);
            let json = |o: &magediag::testing::pipeline::Outcome| {
                serde_json::to_string_pretty(&o.reports).unwrap()
            };
            assert_eq!(
                json(&gated),
                json(&gated_small),
                "one thread and two differ"
            );
            (json(&gated), json(&every))
        })
        .collect()
}

fn assert_same(input: &[u8], what: &str) {
    for (gated, every) in both(input) {
        assert_eq!(gated, every, "the gate changed the reports of {what}");
    }
}

/// [`assert_same`] with `rules`, and the gated reports show `shown`.
fn assert_same_showing(rules: &RuleSet, input: &[u8], shown: &str) {
    for (gated, every) in both_with(rules, input) {
        assert_eq!(gated, every, "the gate changed the reports");
        assert!(gated.contains(shown), "{gated}");
    }
}

/// Wraps every line at `width` characters, as a terminal or mail client would.
fn wrapped(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            out.push('\n');
        }
        for piece in chars.chunks(width) {
            out.extend(piece);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_sample_gives_the_same_reports_plain_and_wrapped() {
    let mut checked = 0;
    for entry in std::fs::read_dir("samples").unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        assert_same(text.as_bytes(), &name);
        for width in [80, 100, 132] {
            assert_same(
                wrapped(&text, width).as_bytes(),
                &format!("{name} at {width}"),
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} samples found");
}

#[test]
fn a_long_exception_box_is_followed_past_the_repair_window() {
    // The box's body runs longer than the repairer looks back, so only the framer knows
    // that the quiet lines are inside it; the failure at its end still gets its context.
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Running step: build\n");
    text.push_str("    W:   [Composer\\Downloader\\TransportException]\n");
    for i in 0..36 {
        text.push_str(&format!("    W:   detail {i} of the box\n"));
    }
    // A failure cut at 80 columns whose last piece holds nothing the gate looks for: that
    // piece is read all the same, and joined to the rest.
    let failure = "    W:   The 'https://repo.magento.com/archives/magento/module-staging/magento-module-staging-101.1.4.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden while downloading the dist archive";
    text.push_str(&wrapped(failure, 80));
    text.push_str("Nothing to import.\n");
    for (gated, every) in both_with(&WITH_BOX_RULE, text.as_bytes()) {
        assert!(gated.contains("test-refused-in-box"), "{gated}");
        assert_eq!(gated, every, "the gate changed the reports of a long box");
    }
}

#[test]
fn a_line_as_wide_as_a_terminal_is_decided_alike_before_a_log_line_and_before_its_rest() {
    // Each 80-column line may be a wrapped one. Before a log line nothing continues it and
    // the quiet lines after are skipped at once; before its rest, they wait for it.
    let wide = format!(
        "    W: Package acme/module-{} is abandoned, you should avoid using it.",
        "x".repeat(12)
    );
    assert_eq!(wide.len(), 80);
    let mut text = String::new();
    for round in 0..3 {
        text.push_str(&wide);
        text.push('\n');
        if round == 1 {
            text.push_str("    W: Use acme/module-y instead.\n");
        }
        text.push_str("    W:   - Downloading acme/module-a (1.0.0)\n");
        text.push_str("Module 'Magento_Catalog':\n");
        text.push_str("Nothing to import.\n");
    }
    // A failure cut at 80 columns whose last piece holds nothing the gate looks for: that
    // piece is read all the same, and joined to the rest.
    let failure = "    W:   The 'https://repo.magento.com/archives/magento/module-staging/magento-module-staging-101.1.4.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden while downloading the dist archive";
    text.push_str(&wrapped(failure, 80));
    text.push_str("Nothing to import.\n");
    assert_same(
        text.as_bytes(),
        "wide lines before log lines and before their rest",
    );
    for (gated, _) in both(text.as_bytes()) {
        assert!(
            gated.contains("while downloading the dist archive"),
            "{gated}"
        );
    }
}

/// Two lines as long, a quiet one skipped between them, and a line that may continue the
/// second: the skipped line does not make the repairer forget the first, which is the
/// evidence of a wrap width (found by the property test below, ~1 case in 30,000).
#[test]
fn a_skipped_line_leaves_the_lines_before_it_in_the_repairer_s_lookbehind() {
    let log = [
        "[2024-06-02T03:25:58.000000+00:00] ERROR: [13] The command \"composer install\" failed.",
        "Updating modules:",
        "Warning from repo.magento.com: You haven't provided your Magento authentication keys.",
        "~~~ Downloading acme/module-fenced (2.0.0)",
    ];
    assert_eq!(log[0].len(), log[2].len());
    assert_same(
        format!("{}\n", log.join("\n")).as_bytes(),
        "a width shown before a skip",
    );
}

#[test]
fn the_lines_of_a_suggestion_are_read_when_a_rule_shows_them() {
    assert!(!RULES.reads_suggestions);
    assert!(WITH_SUGGESTION_RULE.reads_suggestions);
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("Module 'Magento_Module{i}':\n"));
    }
    text.push_str("[2024-03-12 10:21:00] ERROR: [12] Cannot write env.php\n");
    text.push_str("  Check the permissions of app/etc.\n  Then redeploy.\n");
    for i in 0..40 {
        text.push_str(&format!("Module 'Magento_Other{i}':\n"));
    }
    for (gated, every) in both_with(&RULES, text.as_bytes()) {
        assert_eq!(gated, every, "the gate changed the reports");
    }
    assert_same_showing(
        &WITH_SUGGESTION_RULE,
        text.as_bytes(),
        "advice: Check the permissions of app/etc. Then redeploy.",
    );
}

/// Context lines are held back unchecked and read (checked, then matched) only before a
/// line that needs them: many at once, one longer than all the others held together,
/// the newest failing its check, and across a change of Vagrant machine.
#[test]
fn held_context_lines_are_read_as_every_line_reads_them() {
    let refused = "    W:   The 'https://repo.magento.com/archives/acme/module-a/acme-module-a-1.0.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n";
    let mut many = String::new();
    for i in 0..300 {
        many.push_str(&format!(
            "    W:   - Downloading acme/module-{i} (1.0.{i})\n"
        ));
    }
    many.push_str("    W:   - Installing acme/module-299 (1.0.299): Extracting archive\n");
    many.push_str(refused);
    assert_same(many.as_bytes(), "300 held lines");

    // A held line longer than all the held bytes allowed (after a longer one, so that
    // it cannot be a wrapped line and is skipped).
    let long = format!(
        "{}\n    W:   - Downloading acme/{} (2.0.0)\n    W:   - Downloading acme/module-b (1.0.0)\n{refused}",
        "x".repeat(200_000),
        "y".repeat(100_000),
    );
    assert_same(long.as_bytes(), "a long held line");
    let long_last = format!(
        "{}\n    W:   - Downloading acme/module-b (1.0.0)\n    W:   - Downloading acme/{} (2.0.0)\n{refused}",
        "x".repeat(200_000),
        "y".repeat(100_000),
    );
    assert_same(long_last.as_bytes(), "a long held line, newest");

    // The line that names the package is held under one machine and read after a line
    // held under the next (the newer one fails its check).
    let machines = "==> default: Running provisioner: shell...\n    default:   - Downloading acme/module-c (1.0.0)\n==> web: Machine booted and ready!\n    web:   - Installing acme/module-c (1.0.0): Extracting archive\n    web: The 'https://repo.magento.com/archives/acme/module-c/acme-module-c-1.0.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n";
    assert_same(machines.as_bytes(), "two Vagrant machines");
    let (gated, _) = &both(machines.as_bytes())[0];
    assert!(gated.contains("acme/module-c"), "{gated}");
    // The newer one passes, in a run of quiet lines: it is read with its own machine's
    // prefix stripped, not the older one's.
    let newer = "==> default: Running provisioner: shell...\n    default:   - Downloading acme/module-c (1.0.0)\n==> web: Machine booted and ready!\n    web: Nothing to install.\n    web:   - Downloading acme/module-d (1.0.0)\n    web: Could not resolve host: repo.magento.com\n";
    assert_same(
        newer.as_bytes(),
        "two Vagrant machines, the newer line passing",
    );
    let (gated, _) = &both(newer.as_bytes())[0];
    assert!(
        gated.contains(r#""text": "Downloading acme/module-d (1.0.0)""#),
        "{gated}"
    );
}

/// A context line skipped on its own (right after a line read, which the repairer still
/// holds) and the run of quiet lines skipped after it are searched as one: the failure
/// shows it.
#[test]
fn a_context_line_skipped_before_a_run_of_quiet_lines_is_found() {
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
    text.push_str("  - Downloading acme/module-a (1.0.0)\n");
    for _ in 0..20 {
        text.push_str("Nothing to import.\n");
    }
    text.push_str("Could not resolve host: repo.magento.com\n");
    assert_same_showing(&RULES, text.as_bytes(), "Downloading acme/module-a (1.0.0)");
}

/// The shipped rules and one that shows the suggestion under the nearest package install
/// (a context signal) before a memory failure.
static WITH_CONTEXT_SUGGESTION_RULE: LazyLock<RuleSet> = LazyLock::new(|| {
    let text = r#"
[[rule]]
id = "test-install-advice"
category = "memory-exhausted"
severity = "error"
title = "Out of memory after advice on an install"
when = "any(php.memory-exhausted)"
also = ["composer.installing"]
summary = "advice: {suggestion}"
causes = ["A test."]
remediation = ["None."]

[[rule.example]]
log = """
[2024-06-02 03:25:50] INFO: Installing acme/module-x (1.0.0)
  Give the build container more memory.
PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes)
"""
fires = true
"#;
    with_rule_file("install-advice.toml", text)
});

/// A context line with an ece-tools level is read in its place, not held back: its
/// suggestion lines attach to it, which only reading it in order can tell.
#[test]
fn a_context_line_with_an_ece_tools_level_is_read_in_order() {
    let mut text = String::from(
        "[2024-06-02 03:25:49] INFO: Starting scenario(s): scenario/build/transfer.xml\n",
    );
    for i in 0..40 {
        text.push_str(&format!("Module 'Magento_Module{i}':\n"));
    }
    text.push_str("[2024-06-02 03:25:50] INFO: Installing acme/module-x (1.0.0)\n");
    text.push_str("  Give the build container more memory.\n");
    text.push_str("PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes)\n");
    assert_same_showing(
        &WITH_CONTEXT_SUGGESTION_RULE,
        text.as_bytes(),
        "advice: Give the build container more memory.",
    );
}

/// Each form of phase marker starts a run with the gate on, as it does reading every line:
/// the gate looks for each form, not for every `Starting` (so `Starting pre-deploy.` is
/// skipped).
#[test]
fn every_phase_marker_starts_its_run_with_the_gate() {
    let failure = "  The 'https://repo.magento.com/archives/acme/module-a/acme-module-a-1.0.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden";
    for marker in [
        "Starting scenario(s): scenario/deploy.xml",
        "Starting scenario(s): scenario/post-deploy.xml",
        "Starting scenario(s): scenario/build/generate.xml",
        "Starting build.",
        "Starting deploy.",
        "Starting post-deploy.",
        "Building application 'mymagento' (runtime: php:8.3)",
        "Executing deploy hook for application mymagento",
        "Executing post_deploy hook for application mymagento",
    ] {
        let mut log = String::new();
        for hour in 1..=3 {
            log.push_str(&format!(
                "[2024-06-02T0{hour}:00:00+00:00] NOTICE: {marker}\n"
            ));
            log.push_str("[2024-06-02T01:00:01+00:00] INFO: Starting pre-deploy.\n");
            log.push_str(failure);
            log.push('\n');
        }
        assert_same(log.as_bytes(), marker);
        let (_, every) = &both(log.as_bytes())[1];
        assert!(
            every.contains("T03:00:00"),
            "{marker}: the third run is its own\n{every}"
        );
    }
}

/// Lines a deployment log is made of: most hold nothing the rules look for, some open a
/// box, start a run, carry an ece-tools level or a failure.
const LINES: &[&str] = &[
    "Repositories code generation... 8/9 [========================>---]  88% 2 secs 714.0 MiB",
    "frontend/Magento/luma/en_US        1724/1724           ============================ 100%   %  4 sec",
    "    W: Verifying lock file contents can be installed on current platform.",
    "    W:   - Installing magento/module-catalog (102.2.3-p2): Extracting archive",
    "    W:   - Downloading magento/module-customer-segment (102.0.5.0-patch2)",
    "Module 'Magento_Catalog':",
    "Nothing to import.",
    "Generated code and dependency injection configuration successfully.",
    "",
    "  ",
    "[2024-06-02 03:25:55] DEBUG: Starting build.",
    "[2024-06-02T03:25:56.658898+00:00] INFO: Running step: deploy-static-content",
    "[2024-06-02T03:25:57.000000+00:00] NOTICE: Starting deploy.",
    "[2024-06-02T03:25:57.100000+00:00] INFO: Starting pre-deploy.",
    "[2024-06-02T03:25:57.200000+00:00] NOTICE: Starting scenario(s): scenario/post-deploy.xml",
    "[2024-06-02T03:25:57.300000+00:00] DEBUG: Starting post-deploy.",
    "[2024-06-02T03:25:58.000000+00:00] ERROR: [13] The command \"composer install\" failed.",
    "Check that your access keys are valid and that the account owns the package.",
    "    W:   [Composer\\Downloader\\TransportException]",
    "    W:   The 'https://repo.magento.com/archives/magento/module-customer-segment/magento-module-customer-segment-102.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden",
    "In RemoteFilesystem.php line 325:",
    "PHP Fatal error:  Allowed memory size of 2097152 bytes exhausted (tried to allocate 32768 bytes)",
    "Executing deploy hook for application",
    "[2024-06-02 03:25:50] INFO: Cache warmed up.",
    "{\"errorCode\":1004,\"stage\":\"deploy\",\"step\":\"x\",\"suggestion\":\"Check the disk\",\"title\":\"No space left on device\",\"type\":\"critical\"}",
    "==> default: Running provisioner: shell...",
    "    default: Could not resolve host: repo.magento.com",
    "> quoted line from an e-mail",
    "a long line that is not wrapped but holds nothing any rule wants to see at all, only words",
    "Filesystem      Size  Used Avail Use% Mounted on",
    "/dev/nvme1n1     20G   20G     0 100% /app/var",
    "=== frontend -> Magento/luma -> en_US ===",
    "  - Updating magento/module-rma (101.0.6 => 101.0.7): Downloading (100%)",
    "Updating modules:",
    "composer require acme/module-extra:1.2.0",
    "Warning from repo.magento.com: You haven't provided your Magento authentication keys.",
    "  - Installing acme/module-cached (1.0.0) [from cache]",
    "~~~ Downloading acme/module-fenced (2.0.0)",
    "[2024-06-02 03:25:51] INFO: Downloading acme/module-level (1.0.0)",
    "  Give the build container more memory.",
    // Passes the context pattern's check (searched anywhere), not the pattern.
    "see - Downloading acme/module-inline (1.0.0)",
    "Applying patch MDVA-12345 (MDVA-12345_2.4.6.patch) 1.1.14",
    "  - Downloading acme/module-b (2.0.0)",
    "==> web: Machine booted and ready!",
    "==> web: Downloading acme/module-w (1.0.0)",
    "    web:   - Downloading magento/module-sales (103.0.6)",
    "    default:   - Downloading magento/module-rma (101.0.6)",
    // Padded to a width, as the lines of Symfony's boxes are.
    "  Generating optimized autoload files                                            ",
    "  The 'https://repo.magento.com/archives/acme/module-boxed/acme-module-boxed-1.0 ",
    "  .0.zip' URL could not be accessed: HTTP/1.1 404 Not Found                      ",
    "{\"errorCode\":1001,\"stage\":\"build\",\"suggestion\":\"Run composer require acme/module-x again\",\"title\":\"composer require acme/module-x failed\",\"type\":\"critical\"}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_mix_of_lines_gives_the_same_reports(
        picks in prop::collection::vec(prop::sample::select(LINES), 0..120),
        width in prop::sample::select(&[0usize, 72, 80][..]),
    ) {
        let mut text = picks.join("\n");
        text.push('\n');
        if width > 0 {
            text = wrapped(&text, width);
        }
        // Context lines found late (the shipped rules), and as they come (a rule reads
        // suggestions).
        for rules in [&*RULES, &*WITH_CONTEXT_SUGGESTION_RULE] {
            for (gated, every) in both_with(rules, text.as_bytes()) {
                prop_assert_eq!(gated, every);
            }
        }
    }
}
