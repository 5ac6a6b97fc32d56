//! Log text and file names are data in every output: no live HTML or broken code spans
//! and tables in Markdown (`--format markdown`, `paste`), no control codes on a terminal
//! (text output, stderr).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use assert_cmd::Command;

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(60));
    cmd
}

/// A user rule quoting a package, its version and the whole line.
const PACKAGE_RULE: &str = r#"
[[signal]]
id = "install.failed"
description = "An install failed."
patterns = ['''install failed: (?P<package>\S+) (?P<version>\S+) (?P<rest>.*)''']

[[rule]]
id = "install-failed"
category = "dependency-conflict"
severity = "error"
priority = 1
title = "An install failed"
when = "any(install.failed)"
summary = "`{package}` {version} failed: {rest}"
causes = []
remediation = ["Reinstall `{package}` ({rest})."]
references = []
"#;

/// The Markdown of `text` outside fenced blocks and code spans: what a viewer renders.
fn rendered_markdown(text: &str) -> String {
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let mut out = String::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let ticks = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let fence = &rest[at..at + ticks];
        match rest[at + ticks..].find(fence) {
            Some(end) => rest = &rest[at + ticks + end + ticks..],
            None => {
                out.push_str(fence);
                rest = &rest[at + ticks..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Asserts that the rendered Markdown holds no tag but the reply's own.
fn no_live_html(markdown: &str) {
    let prose = rendered_markdown(markdown);
    for tag in ["<img", "<b>", "<script", "onerror"] {
        assert!(
            !prose.contains(tag) || tag == "onerror" && !prose.contains("<img"),
            "live `{tag}` in:\n{markdown}"
        );
    }
}

/// Regression: log text was written into Markdown as it was: HTML decoded by paste
/// repair became live, a backtick in a package name left its code span, and `|` broke
/// the package table.
#[test]
fn markdown_from_a_log_has_no_live_html_and_keeps_its_spans_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, PACKAGE_RULE).unwrap();
    let log = "install failed: acme/x`<b>`y 1.0|<b>2</b> because &lt;img src=y onerror=alert(2)&gt; <script>x</script>\n";
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("build.log"), log).unwrap();
    let markdown = magediag()
        .arg("scan")
        .arg("--rules")
        .arg(&rules)
        .args(["--format", "markdown"])
        .arg(&logs)
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(markdown.contains("acme/x'"), "{markdown}");
    no_live_html(&markdown);
    let row = markdown
        .lines()
        .find(|l| l.starts_with("| `acme"))
        .unwrap_or_else(|| panic!("a package row in:\n{markdown}"));
    let cells = row.replace("\\|", "").matches('|').count();
    assert_eq!(cells, 4, "three cells in `{row}`");
    let file = logs.join("build.log");
    let rules = rules.to_str().unwrap();
    for args in [
        vec!["paste", "--rules", rules],
        vec![
            "--rules",
            rules,
            "--format",
            "markdown",
            file.to_str().unwrap(),
        ],
    ] {
        let paste = magediag().args(&args).write_stdin(log).output().unwrap();
        let paste = String::from_utf8(paste.stdout).unwrap();
        assert!(paste.contains("acme/x"), "{paste}");
        no_live_html(&paste);
    }
}

/// The control codes a terminal acts on, in the forms tests put in text.
const CONTROLS: [char; 6] = ['\u{1b}', '\u{7}', '\u{8}', '\u{5}', '\u{9d}', '\u{9b}'];

fn assert_no_controls(output: &[u8], what: &str) {
    let text = String::from_utf8_lossy(output);
    for c in CONTROLS {
        assert!(
            !text.contains(c),
            "{what}: raw U+{:04X} in:\n{text:?}",
            c as u32
        );
    }
}

/// Regression: file names holding ESC, OSC or newlines were printed raw by `scan` and in
/// stderr messages, and BS, ENQ and C1 codes in log text reached text and Markdown.
#[cfg(unix)]
#[test]
fn control_codes_in_file_names_and_log_text_are_written_out() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, PACKAGE_RULE).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let name = "a\u{1b}]0;owned\u{7}\u{1b}[2J\nmagediag: fake line.log";
    std::fs::write(
        logs.join(name),
        "install failed: acme/x 1.0 back\u{8}\u{8}space \u{5} and \u{9d}osc\u{9b}31m\n",
    )
    .unwrap();
    for format in ["text", "markdown", "github"] {
        let output = magediag()
            .arg("scan")
            .arg("--rules")
            .arg(&rules)
            .args(["--format", format])
            .arg(&logs)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(out.contains("acme/x"), "{out}");
        assert_no_controls(&output.stdout, format);
        if format == "text" {
            assert!(!out.contains("\nmagediag: fake line"), "{out}");
        }
        let file = magediag()
            .arg("--rules")
            .arg(&rules)
            .args(["--format", format])
            .arg(logs.join(name))
            .output()
            .unwrap();
        assert_no_controls(&file.stdout, format);
    }
    let missing = magediag().arg(dir.path().join(name)).output().unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("owned"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert_no_controls(&missing.stderr, "stderr");
}

/// Runs `cmd` and asserts it ends within the timeout with exit 2 and one message naming
/// `named` and saying `why`.
#[cfg(unix)]
fn refused(cmd: &mut Command, named: &str, why: &str) {
    let output = cmd.timeout(Duration::from_secs(20)).output().unwrap();
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        err.contains(named) && err.contains(why),
        "`{named}`, `{why}` in: {err}"
    );
}

/// Regression: `--rules /dev/zero` and a project's `auth.json` or `.magento.app.yaml`
/// linked to `/dev/zero` grew past 3 GB in seconds; a FIFO named `auth.json` or `*.toml`
/// hung `auth`, `--project` and `rules check`. Each is now refused unopened, and a
/// large file is refused with its size.
#[cfg(unix)]
#[test]
fn devices_fifos_and_huge_files_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let fifo = rules.join("x.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/zero", rules.join("zero.toml")).unwrap();
    refused(
        magediag().args(["--rules", "/dev/zero", "rules", "list"]),
        "/dev/zero",
        "a device",
    );
    refused(
        magediag().arg("rules").arg("check").arg(&fifo),
        "x.toml",
        "a FIFO",
    );
    refused(
        magediag()
            .arg("--rules")
            .arg(&rules)
            .args(["rules", "list"]),
        "zero.toml",
        "a device",
    );
    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; (16 << 20) + 1]).unwrap();
    refused(
        magediag().arg("rules").arg("check").arg(&big),
        "big.toml",
        "larger than 16 MiB",
    );

    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::os::unix::fs::symlink("/dev/zero", project.join(".magento.app.yaml")).unwrap();
    std::fs::write(project.join("composer.json"), "{}").unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(project.join("auth.json"))
        .status()
        .unwrap();
    assert!(status.success());
    refused(
        magediag()
            .arg("auth")
            .arg(&project)
            .env("COMPOSER_HOME", dir.path()),
        "auth.json",
        "a FIFO",
    );
    let log = dir.path().join("build.log");
    std::fs::write(&log, "W: Installing dependencies\n").unwrap();
    let output = magediag()
        .arg("--project")
        .arg(&project)
        .arg(&log)
        .env("COMPOSER_HOME", dir.path())
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(output.status.code().is_some(), "ended");
}
