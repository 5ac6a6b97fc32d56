//! `magediag scan` on a folder of mixed logs, as a user would run it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use predicates::prelude::*;
use serde_json::Value;

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// A folder like one downloaded from several environments, with the usual junk.
fn mixed_logs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let sample = |name: &str| std::fs::read(Path::new("samples").join(name)).unwrap();
    for sub in ["prod", "staging", "junk"] {
        std::fs::create_dir(root.join(sub)).unwrap();
    }
    std::fs::write(
        root.join("prod/build.log"),
        sample("auth-keys-rejected.log"),
    )
    .unwrap();
    let crlf = String::from_utf8(sample("auth-keys-missing.log"))
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(root.join("prod/deploy.log"), crlf).unwrap();
    // Two gzip members, as `cat a.gz b.gz` or some rotators make.
    let mut multi = gzip(&sample("healthy-deploy.log"));
    multi.extend(gzip(&sample("auth-not-entitled-commerce.log")));
    std::fs::write(root.join("staging/deploy.log.1.gz"), multi).unwrap();
    std::fs::write(
        root.join("junk/core"),
        b"\x7fELF\x02\x01\x01\0\0\0binary junk",
    )
    .unwrap();
    std::fs::write(root.join("junk/empty.log"), b"").unwrap();
    std::os::unix::fs::symlink("..", root.join("junk/loop")).unwrap();
    let fifo = root.join("junk/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    dir
}

fn scan_json(args: &[&str], root: &Path) -> (Value, i32, String) {
    let output = Command::cargo_bin("magediag")
        .unwrap()
        .arg("scan")
        .arg(root)
        .args(args)
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap();
    (
        json,
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_mixed_folder_is_scanned_with_a_roll_up() {
    let dir = mixed_logs();
    let (json, code, stderr) = scan_json(&[], dir.path());
    assert_eq!(code, 1, "an error was diagnosed, nothing failed: {stderr}");
    let paths: Vec<String> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["path"]
                .as_str()
                .unwrap()
                .trim_start_matches(&*dir.path().to_string_lossy())
                .to_owned()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/junk/empty.log",
            "/prod/build.log",
            "/prod/deploy.log",
            "/staging/deploy.log.1.gz"
        ]
    );
    let scan = &json["summary"]["scan"];
    assert_eq!(scan["read"], 4);
    assert_eq!(scan["compressed"], 1);
    assert_eq!(scan["skipped"]["binary"], 1);
    assert_eq!(scan["skipped"]["special"], 1);
    assert_eq!(scan["skipped"]["symlink"], 1);
    let categories: Vec<&str> = scan["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        [
            "auth-keys-missing",
            "auth-keys-rejected",
            "auth-not-entitled"
        ]
    );
}

#[test]
fn following_links_reports_the_loop_instead_of_walking_it() {
    let dir = mixed_logs();
    let (json, code, stderr) = scan_json(&["-L"], dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("symlink loop back to"), "{stderr}");
    assert_eq!(json["summary"]["scan"]["skipped"]["loop"], 1);
}

#[test]
fn globs_and_depth_narrow_the_walk() {
    let dir = mixed_logs();
    let (json, _, _) = scan_json(&["--glob", "*.gz"], dir.path());
    assert_eq!(json["sources"].as_array().unwrap().len(), 1);
    let (json, _, _) = scan_json(&["--max-depth", "1"], dir.path());
    assert_eq!(json["sources"].as_array().unwrap().len(), 0);
}

#[test]
fn a_truncated_gzip_is_named_exits_2_and_what_it_held_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read("samples/auth-keys-rejected.log").unwrap();
    text.extend(
        std::iter::repeat_n(b"filler line that compresses well\n".as_slice(), 20_000).flatten(),
    );
    let data = gzip(&text);
    std::fs::write(dir.path().join("build.log.gz"), &data[..data.len() / 2]).unwrap();
    std::fs::write(
        dir.path().join("other.log"),
        std::fs::read("samples/auth-keys-missing.log").unwrap(),
    )
    .unwrap();
    let (json, code, stderr) = scan_json(&[], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("build.log.gz: "), "{stderr}");
    let categories: Vec<&str> = json["summary"]["scan"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["auth-keys-missing", "auth-keys-rejected"]);
}

#[test]
fn text_output_lists_causes_across_logs() {
    let dir = mixed_logs();
    Command::cargo_bin("magediag")
        .unwrap()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "auth-keys-rejected in 1 of 4 logs",
        ))
        .stdout(predicate::str::contains(
            "skipped 3 (binary 1, special 1, symlink 1)",
        ));
}

#[test]
fn a_missing_folder_is_named() {
    Command::cargo_bin("magediag")
        .unwrap()
        .args(["scan", "no/such/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "magediag: no/such/dir: no such file or directory",
        ));
}
