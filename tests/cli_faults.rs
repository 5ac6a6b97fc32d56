//! Small faults of the command line: each test is named after what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env("NO_COLOR", "1").timeout(Duration::from_secs(60));
    cmd
}

/// Regression: `magediag --help > /dev/full` exited 0, the help lost.
#[cfg(target_os = "linux")]
#[test]
fn help_that_cannot_be_written_is_an_error() {
    for args in [vec!["--help"], vec!["scan", "--help"], vec!["--version"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("magediag"))
            .args(&args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains("no space left"), "{args:?}: {err}");
    }
    let output = magediag().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
}

/// Regression: `scan a a` read every log twice (and `scan a a/b` those under `a/b`).
#[test]
fn a_folder_given_twice_or_inside_another_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    std::fs::create_dir_all(a.join("b")).unwrap();
    std::fs::write(a.join("one.log"), "W: Installing dependencies\n").unwrap();
    std::fs::write(a.join("b").join("two.log"), "W: Installing dependencies\n").unwrap();
    for roots in [vec![a.clone(), a.clone()], vec![a.join("b"), a.clone()]] {
        let output = magediag()
            .arg("scan")
            .args(&roots)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let sources = report["sources"].as_array().unwrap().len();
        assert_eq!(sources, 2, "{roots:?}: {report}");
    }
}

/// Regression: xz, bzip2, zstd and zip logs printed "ok" and exited 0 (their bytes read
/// as text holding nothing wrong); `scan` counted them as skipped binary files. Cut short
/// after their magic bytes, each is an error (exit 2) that names its format, never "ok".
#[test]
fn broken_or_unknown_compression_is_never_ok() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let formats: [(&str, &[u8]); 5] = [
        ("xz", &[0xfd, b'7', b'z', b'X', b'Z', 0x00, 0x00, 0x04]),
        ("bzip2", b"BZh91AY&SY\x01\x02"),
        ("zstd", &[0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00]),
        ("zip", b"PK\x03\x04\x14\x00\x00\x00"),
        ("7z", &[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04]),
    ];
    for (name, bytes) in formats {
        let path = logs.join(format!("deploy.log.{name}"));
        std::fs::write(&path, bytes).unwrap();
        let output = magediag().arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(name), "{name}: {err}");
        let piped = magediag().write_stdin(bytes.to_vec()).output().unwrap();
        assert_eq!(piped.status.code(), Some(2), "{name} on stdin");
    }
    let output = magediag()
        .arg("scan")
        .arg(&logs)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed = report["summary"]["scan"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 5, "{report}");
    // Text that merely starts like a magic number is still text.
    let text = dir.path().join("plain.log");
    std::fs::write(&text, "BZhello, this is a log\n").unwrap();
    assert_eq!(
        magediag().arg(&text).output().unwrap().status.code(),
        Some(0)
    );
}

/// Regression: a log with CR line ends and no LF kept only its last CR-separated
/// segment, printed "ok" and exited 0.
#[test]
fn a_log_with_cr_line_ends_is_read_line_by_line() {
    let log = std::fs::read_to_string("samples/auth-keys-rejected.log").unwrap();
    let as_json = |bytes: Vec<u8>| -> (Value, Option<i32>) {
        let output = magediag()
            .args(["--format", "json"])
            .write_stdin(bytes)
            .output()
            .unwrap();
        (
            serde_json::from_slice(&output.stdout).unwrap(),
            output.status.code(),
        )
    };
    let (lf, lf_code) = as_json(log.clone().into_bytes());
    let (cr, cr_code) = as_json(log.replace('\n', "\r").into_bytes());
    assert_eq!(lf_code, Some(1));
    assert_eq!(cr_code, lf_code);
    let rules = |r: &Value| -> Vec<(String, Vec<u64>)> {
        r["sources"][0]["diagnoses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let lines = d["evidence"].as_array().unwrap();
                let lines = lines.iter().map(|e| e["line"].as_u64().unwrap()).collect();
                (d["rule"].as_str().unwrap().to_owned(), lines)
            })
            .collect()
    };
    assert_eq!(rules(&cr), rules(&lf));
}

/// Regression: `auth --online --repo-url http://u:PW@host?access_token=…` echoed the URL
/// with its credentials, and a query parameter the log masker does not know by name
/// (`?key=`, `?auth=`) or a fragment was echoed after that.
#[test]
fn the_repo_url_is_masked_in_the_auth_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("auth.json"),
        r#"{"http-basic":{"repo.magento.com":{"username":"0123456789abcdef0123456789abcdef","password":"fedcba9876543210fedcba9876543210"}}}"#,
    )
    .unwrap();
    let urls = [
        "http://deploy:Zq8tUvX3Lp@127.0.0.1:9/packages.json?access_token=Tk7mQ2zXc9Lp4VbN",
        "http://deploy:Zq8tUvX3Lp@127.0.0.1:9?key=Tk7mQ2zXc9Lp4VbN&auth=Wr5sHj2Kd8",
        "http://127.0.0.1:9/packages.json#sig=Tk7mQ2zXc9Lp4VbN",
    ];
    for (url, format) in urls.iter().flat_map(|u| [(u, "text"), (u, "json")]) {
        let output = magediag()
            .arg("auth")
            .arg(dir.path())
            .args(["--online", "--format", format, "--repo-url", url])
            .env("COMPOSER_HOME", dir.path())
            .env_remove("COMPOSER_AUTH")
            .output()
            .unwrap();
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(out.contains("127.0.0.1:9"), "{out}");
        for secret in ["Zq8tUvX3Lp", "Tk7mQ2zXc9Lp4VbN", "Wr5sHj2Kd8"] {
            assert!(!out.contains(secret), "{format}: {out}");
        }
    }
}
