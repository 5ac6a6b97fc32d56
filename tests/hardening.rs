//! Bad input, faults and secrets, driven through the binary the way ripgrep and gitleaks
//! test theirs: magediag never panics, hangs or silently drops input, and never prints a
//! secret. Every test says what it proves; docs/reliability.md maps them to promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use predicates::prelude::*;
use serde_json::Value;

const REJECTED: &str = "samples/auth-keys-rejected.log";

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env_remove("MAGEDIAG_MAX_DECOMPRESSED")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    cmd
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("magediag")
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(name).unwrap()
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The rule ids and evidence line numbers of a JSON report: what a diagnosis found,
/// without paths and notes, to compare an input with its re-encoded twin.
fn findings(report: &Value) -> Vec<(String, Vec<u64>)> {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["diagnoses"].as_array().unwrap().iter())
        .map(|d| {
            let lines = d["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["line"].as_u64().unwrap())
                .collect();
            (d["rule"].as_str().unwrap().to_owned(), lines)
        })
        .collect()
}

/// What `magediag --format json` prints for `input` on stdin, as text.
fn json_stdout(input: impl Into<Vec<u8>>) -> String {
    let output = magediag()
        .args(["--format", "json"])
        .write_stdin(input.into())
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn diagnose_bytes(bytes: Vec<u8>) -> (Value, i32, String) {
    let output = magediag()
        .args(["--format", "json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    (
        json(&output),
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn scan_json(root: &Path, args: &[&str]) -> (Value, i32, String) {
    let output = magediag()
        .arg("scan")
        .arg(root)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    (
        json(&output),
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether permission bits apply to this process (they do not for root).
#[cfg(unix)]
fn permissions_apply(locked: &Path) -> bool {
    std::fs::File::open(locked).is_err() && std::fs::read_dir(locked).is_err()
}

/// Asserts that `needle` occurs exactly once in `haystack`.
fn once(haystack: &str, needle: &str) {
    assert_eq!(
        haystack.matches(needle).count(),
        1,
        "expected `{needle}` once in:\n{haystack}"
    );
}

/// Asserts that no 8-character window of `secret` is in `output`.
fn no_fragment(output: &str, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(8) {
        let fragment: String = window.iter().collect();
        assert!(
            !output.contains(&fragment),
            "fragment `{fragment}` of a secret leaked:\n{output}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Paths: missing, unreadable, folders, symlinks, special files.

/// A missing path is named once as `magediag: PATH: reason`, exit 2, and the other
/// inputs are still diagnosed.
#[test]
fn a_missing_path_is_named_once_and_the_rest_is_diagnosed() {
    let output = magediag()
        .arg("/nonexistent/deploy.log")
        .arg(REJECTED)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    once(
        &stderr,
        "magediag: /nonexistent/deploy.log: no such file or directory\n",
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("auth-keys-rejected"));
}

/// A folder given as FILE is refused with a pointer to `scan`, never read as a file.
#[test]
fn a_folder_given_as_a_file_points_to_scan() {
    let dir = tempfile::tempdir().unwrap();
    magediag()
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "magediag: {}: is a directory; use `magediag scan",
            dir.path().display()
        )));
}

/// An unreadable file (FILE and scan) and an unreadable folder (scan) are reported by
/// name, exit 2, and the readable logs beside them are diagnosed. As root, permission
/// bits do not apply: the reads succeed and only "no panic" is asserted.
#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(REJECTED, root.join("ok.log")).unwrap();
    std::fs::write(root.join("locked.log"), "ERROR: x\n").unwrap();
    std::fs::create_dir(root.join("locked-dir")).unwrap();
    std::fs::write(root.join("locked-dir/inner.log"), "x\n").unwrap();
    for name in ["locked.log", "locked-dir"] {
        std::fs::set_permissions(root.join(name), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let enforced = permissions_apply(&root.join("locked-dir"));

    let file = magediag().arg(root.join("locked.log")).output().unwrap();
    let (report, code, stderr) = scan_json(root, &[]);
    for name in ["locked.log", "locked-dir"] {
        std::fs::set_permissions(root.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(!String::from_utf8_lossy(&file.stderr).contains("panicked"));
    assert!(!stderr.contains("panicked"));
    assert_eq!(report["summary"]["scan"]["causes"][0]["logs"], 1);
    if !enforced {
        // Running as root: permission bits are not enforced, nothing more to check.
        return;
    }
    assert_eq!(file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&file.stderr).contains("locked.log: permission denied"));
    assert_eq!(code, 2);
    once(&stderr, "locked.log: permission denied");
    once(&stderr, "locked-dir: permission denied");
    assert_eq!(
        report["summary"]["scan"]["failed"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Without -L symlinks are skipped and counted; with -L a loop is reported once and not
/// walked, a dangling link is skipped with a message (no target, nothing to read), and
/// the real log is read exactly once.
#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links_in_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::copy(REJECTED, root.join("sub/build.log")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/target.log", root.join("dangling.log")).unwrap();

    let (report, code, stderr) = scan_json(root, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr, "");
    let rollup = &report["summary"]["scan"];
    assert_eq!(rollup["read"], 1);
    assert_eq!(rollup["skipped"]["symlink"], 2);

    let (report, code, stderr) = scan_json(root, &["-L"]);
    assert_eq!(code, 1, "{stderr}");
    let rollup = &report["summary"]["scan"];
    assert_eq!(rollup["read"], 1);
    assert_eq!(rollup["skipped"]["loop"], 1);
    assert_eq!(rollup["skipped"]["dangling"], 1);
    once(&stderr, "loop: symlink loop back to");
    once(
        &stderr,
        "dangling.log: dangling symlink (its target does not exist), skipped",
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

/// A FIFO, a socket and a symlink to a device (/dev/zero, followed with -L) in a scanned
/// folder are skipped as special files without being opened: opening the FIFO would
/// block forever and reading /dev/zero never ends, so the run finishing proves it.
#[cfg(unix)]
#[test]
fn fifos_sockets_and_devices_are_skipped_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(REJECTED, root.join("build.log")).unwrap();
    let fifo = std::ffi::CString::new(root.join("pipe").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(root.join("socket")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.log")).unwrap();

    let (report, code, stderr) = scan_json(root, &["-L"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["summary"]["scan"]["read"], 1);
    assert_eq!(report["summary"]["scan"]["skipped"]["special"], 3);
    let (report, _, _) = scan_json(root, &[]);
    assert_eq!(report["summary"]["scan"]["skipped"]["special"], 2);
    assert_eq!(report["summary"]["scan"]["skipped"]["symlink"], 1);
}

/// A log that shrinks (truncated by another thread) while magediag reads it is read as
/// far as it goes: no panic, no hang. The walk-then-vanish case is a unit test in
/// `scan.rs` (`files_that_change_between_walk_and_read_are_reported`).
#[cfg(unix)]
#[test]
fn a_file_truncated_while_read_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.log");
    let mut text = sample(REJECTED);
    text.extend(b"INFO: filler line to make the file big enough to race\n".repeat(400_000));
    std::fs::write(&path, &text).unwrap();
    let child = StdCommand::new(bin())
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

// ---------------------------------------------------------------------------------------
// Content: NUL bytes, binary files, invalid UTF-8, UTF-16, CRLF, huge lines.

/// NUL bytes in the middle of a text log: the evidence before and after still counts
/// (the same four 403s), and the report says the file holds binary data, from stdin and
/// from a file.
#[test]
fn nul_bytes_mid_log_keep_hits_on_both_sides_and_are_noted() {
    let clean = sample(REJECTED);
    let text = String::from_utf8(clean.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[19] = "    W: \0\0\0 binary \0 garbage \x01\x02";
    let dirty = lines.join("\n").into_bytes();

    let (reference, _, _) = diagnose_bytes(clean);
    let (report, code, _) = diagnose_bytes(dirty.clone());
    assert_eq!(code, 1);
    assert_eq!(findings(&report), findings(&reference));
    assert_eq!(report["sources"][0]["diagnoses"][0]["count"], 4);
    let notes = report["sources"][0]["notes"].to_string();
    assert!(notes.contains("holds binary data"), "{notes}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deploy.log");
    std::fs::write(&path, &dirty).unwrap();
    magediag()
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("holds binary data"));
}

/// A real binary file: `scan` skips and counts it (first 8 KiB hold NUL); given
/// directly as FILE it is read, as asked, and the report notes binary data. No panic.
#[test]
fn a_binary_file_is_skipped_by_scan_and_noted_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let binary: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.path().join("core"), &binary).unwrap();
    let (report, code, stderr) = scan_json(dir.path(), &[]);
    // Skipped on purpose, yet no log was read: that is no clean bill of health.
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no log was read"), "{stderr}");
    assert_eq!(report["summary"]["scan"]["skipped"]["binary"], 1);
    assert_eq!(report["summary"]["scan"]["read"], 0);
    magediag()
        .arg(dir.path().join("core"))
        .assert()
        .code(0)
        .stderr("")
        .stdout(predicate::str::contains("holds binary data"));
}

/// Invalid UTF-8 in a line does not stop its match or the lines around it.
#[test]
fn invalid_utf8_in_content_is_read_lossily() {
    let text = String::from_utf8(sample(REJECTED)).unwrap();
    let mut bytes = text.into_bytes();
    // \xff\xfe\xc0 are never valid UTF-8; put them at the end of a matched line.
    let at = bytes.windows(9).position(|w| w == b"Forbidden").unwrap() + 9;
    bytes.splice(at..at, b"\xff\xfe\xc0 ".iter().copied());
    let (report, code, stderr) = diagnose_bytes(bytes);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["sources"][0]["diagnoses"][0]["count"], 4);
}

/// A file whose name is not UTF-8 (Linux allows any bytes) is scanned and its path
/// printed lossily, with U+FFFD, not a panic.
#[cfg(target_os = "linux")]
#[test]
fn a_non_utf8_file_name_is_printed_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"build-\xff\xfe.log");
    std::fs::copy(REJECTED, dir.path().join(name)).unwrap();
    let (report, code, stderr) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let path = report["sources"][0]["path"].as_str().unwrap();
    assert!(path.ends_with("build-\u{FFFD}\u{FFFD}.log"), "{path}");
    magediag()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("build-\u{FFFD}\u{FFFD}.log"));
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xfe, 0xff]
    } else {
        vec![0xff, 0xfe]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// A log exported from Windows as UTF-16 (LE or BE, with a BOM, CRLF) is diagnosed like
/// its UTF-8 twin, from stdin, as a file and in a scan (not skipped as binary, although
/// UTF-16 of ASCII is half NUL bytes), also gzipped.
#[test]
fn utf16_with_a_bom_is_diagnosed_like_utf8() {
    let text = String::from_utf8(sample(REJECTED)).unwrap();
    let (reference, _, _) = diagnose_bytes(text.clone().into_bytes());
    let dir = tempfile::tempdir().unwrap();
    for big_endian in [false, true] {
        let bytes = utf16(&text.replace('\n', "\r\n"), big_endian);
        let (report, code, _) = diagnose_bytes(bytes.clone());
        assert_eq!(code, 1);
        assert_eq!(findings(&report), findings(&reference));
        // No "holds binary data" note: nothing but text reached the line reader.
        assert!(report["sources"][0].get("notes").is_none(), "{report}");
        let (report, _, _) = diagnose_bytes(gzip(&bytes));
        assert_eq!(findings(&report), findings(&reference));
        let name = if big_endian { "be.log" } else { "le.log" };
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let (report, code, stderr) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["summary"]["scan"]["read"], 2);
    assert_eq!(report["summary"]["scan"]["causes"][0]["logs"], 2);
}

/// CRLF line ends and a missing final newline change nothing.
#[test]
fn crlf_and_no_final_newline_change_nothing() {
    let text = String::from_utf8(sample(REJECTED)).unwrap();
    let (reference, _, _) = diagnose_bytes(text.clone().into_bytes());
    let crlf = text.replace('\n', "\r\n");
    for variant in [
        crlf.clone(),
        crlf.trim_end().to_owned(),
        text.trim_end().to_owned(),
    ] {
        let (report, code, _) = diagnose_bytes(variant.into_bytes());
        assert_eq!(code, 1);
        assert_eq!(findings(&report), findings(&reference));
    }
}

/// Streams `chunks` of `filler` then `tail` to magediag's stdin from a thread, so that
/// hundreds of MB never sit in the test's memory.
fn stream_stdin(filler: &'static [u8], chunks: usize, tail: &'static [u8]) -> (Value, i32) {
    let mut child = StdCommand::new(bin())
        .args(["--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..chunks {
            stdin.write_all(filler).unwrap();
        }
        stdin.write_all(tail).unwrap();
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (json(&output), output.status.code().unwrap_or(-1))
}

static MIB_OF_X: [u8; 1 << 20] = [b'x'; 1 << 20];
const NEXT_LINE: &[u8] = b"\n    W:   The 'https://repo.magento.com/archives/magento/module-sales/magento-module-sales-102.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n";

/// A 100 MB line, then a real failure: the line is cut at the 1 MiB cap with a note,
/// the rest of it skipped in bounded memory, and the next line is still diagnosed.
#[test]
fn a_100_mb_line_is_capped_and_the_next_line_diagnosed() {
    let (report, code) = stream_stdin(&MIB_OF_X, 100, NEXT_LINE);
    assert_eq!(code, 1);
    let source = &report["sources"][0];
    assert_eq!(source["lines"], 2);
    assert_eq!(source["diagnoses"][0]["rule"], "repo-keys-rejected");
    assert_eq!(source["diagnoses"][0]["evidence"][0]["line"], 2);
    assert!(source["notes"].to_string().contains("longer than 1 MiB"));
}

/// 200 MB without any newline: one capped line, a note, a clean exit, bounded memory.
#[test]
fn two_hundred_mb_without_a_newline_is_one_capped_line() {
    let (report, code) = stream_stdin(&MIB_OF_X, 200, b"");
    assert_eq!(code, 0);
    assert_eq!(report["sources"][0]["lines"], 1);
    assert!(
        report["sources"][0]["notes"]
            .to_string()
            .contains("1 line longer than 1 MiB")
    );
}

// ---------------------------------------------------------------------------------------
// gzip.

/// Runs magediag on `bytes` written to a file called `name`; (stdout, stderr, code).
fn on_file(name: &str, bytes: &[u8], args: &[&str]) -> (String, String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let output = magediag().args(args).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).replace(&*path.to_string_lossy(), "F");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
        output.status.code().unwrap_or(-1),
    )
}

/// A gzip cut in the middle of its body: exit 2, named once, and the text before the
/// cut is diagnosed.
#[test]
fn gzip_cut_mid_body_is_reported_and_the_start_diagnosed() {
    let mut text = sample(REJECTED);
    text.extend(b"INFO: padding so that the cut lands after the failures\n".repeat(2000));
    let data = gzip(&text);
    let (stdout, stderr, code) = on_file("deploy.log.gz", &data[..data.len() / 2], &[]);
    assert_eq!(code, 2);
    let said = regex::Regex::new(
        r"^magediag: F: reading stopped after line (\d+): gzip data cut short in member 1; what was read before is diagnosed\n$",
    )
    .unwrap();
    assert!(said.is_match(&stderr), "{stderr}");
    assert!(stdout.contains("auth-keys-rejected"), "{stdout}");
}

/// Where reading stopped is a line of the file, whether the runs are shown one by one
/// (each counting its own lines) or the latest alone.
#[test]
fn a_cut_in_a_later_run_names_the_line_of_the_file() {
    let start = |hour| format!("[2024-03-12T{hour}:00:00.000000+00:00] NOTICE: Starting deploy.\n");
    let mut text = start(10).into_bytes();
    text.extend(sample(REJECTED));
    text.extend(start(11).bytes());
    for i in 0..20_000u64 {
        // Text that compresses little, so the cut lands inside the second run.
        let noise = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        text.extend(format!("[2024-03-12T11:00:01.000000+00:00] INFO: step {noise:x}\n").bytes());
    }
    let data = gzip(&text);
    let cut = &data[..data.len() / 2];
    let stopped = |args: &[&str]| -> (Value, u64) {
        let (stdout, _, code) = on_file("deploy.log.gz", cut, args);
        assert_eq!(code, 2);
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let last = report["sources"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        let error = last["error"].as_str().unwrap().to_owned();
        let line = regex::Regex::new(r"^reading stopped after line (\d+): ")
            .unwrap()
            .captures(&error)
            .unwrap_or_else(|| panic!("{error}"))[1]
            .parse()
            .unwrap();
        (last, line)
    };
    let (latest, line) = stopped(&["--format", "json"]);
    assert_eq!(latest["lines"].as_u64(), Some(line));
    let (run, line_of_run) = stopped(&["--format", "json", "--all-runs"]);
    assert_eq!(line_of_run, line);
    let first = run["run"]["first_line"].as_u64().unwrap();
    assert!(
        first > 1 && run["lines"].as_u64() == Some(line + 1 - first),
        "{run}"
    );
}

/// A corrupt CRC (or length) in the trailer is an error, not silently accepted.
#[test]
fn gzip_with_a_bad_trailer_is_an_error() {
    for from_end in [8, 4] {
        let mut data = gzip(&sample(REJECTED));
        let at = data.len() - from_end;
        data[at] ^= 0x55;
        let (stdout, stderr, code) = on_file("deploy.log.gz", &data, &[]);
        assert_eq!(code, 2);
        let lines = sample(REJECTED).iter().filter(|&&b| b == b'\n').count();
        once(
            &stderr,
            &format!(
                "magediag: F: reading stopped after line {lines}: corrupt gzip data in member 1:"
            ),
        );
        assert!(stdout.contains("auth-keys-rejected"));
    }
}

/// Every member of a multi-member gzip is read (`cat a.gz b.gz`), and zero padding
/// after the last member (tar, some rotators) is accepted quietly.
#[test]
fn gzip_members_are_all_read_and_zero_padding_is_fine() {
    let text = String::from_utf8(sample(REJECTED)).unwrap();
    let (first, second) = text.split_at(text.find("module-customer").unwrap());
    let mut data = gzip(first.as_bytes());
    data.extend(gzip(second.as_bytes()));
    data.extend([0u8; 1024]);
    let (stdout, stderr, code) = on_file("x", &data, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr, "");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["sources"][0]["diagnoses"][0]["count"], 4);
}

/// Bytes after the last member that are not gzip are reported, never dropped silently;
/// the members before are diagnosed.
#[test]
fn trailing_garbage_after_a_gzip_member_is_reported() {
    let mut data = gzip(&sample(REJECTED));
    data.extend(b"this is not gzip\n");
    let (stdout, stderr, code) = on_file("deploy.log.gz", &data, &[]);
    assert_eq!(code, 2);
    let lines = sample(REJECTED).iter().filter(|&&b| b == b'\n').count();
    assert_eq!(
        stderr,
        format!(
            "magediag: F: reading stopped after line {lines}: trailing garbage after gzip member 1 (not gzip; not read); what was read before is diagnosed\n"
        )
    );
    assert!(stdout.contains("auth-keys-rejected"));
}

/// The name does not decide: plain text called `.gz` is read as text, gzip without the
/// `.gz` name is detected by its magic bytes.
#[test]
fn gzip_is_detected_by_magic_not_by_name() {
    let (stdout, stderr, code) = on_file("deploy.log.gz", &sample(REJECTED), &[]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert!(stdout.contains("auth-keys-rejected"));
    let (stdout, stderr, code) = on_file("deploy.log", &gzip(&sample(REJECTED)), &[]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert!(stdout.contains("auth-keys-rejected"));
}

/// A gzip bomb stops at the decompression cap (here made small with the hidden option
/// and the environment variable): said on stderr, exit 2, and the text before the cap
/// is diagnosed.
#[test]
fn a_gzip_bomb_stops_at_the_cap_and_what_was_read_is_diagnosed() {
    let mut text = sample(REJECTED);
    text.extend(vec![b'\n'; 8 << 20]);
    let data = gzip(&text);
    assert!(data.len() < 100_000);
    let (stdout, stderr, code) = on_file("bomb.gz", &data, &["--max-decompressed", "1M"]);
    assert_eq!(code, 2);
    let said = regex::Regex::new(
        r"^magediag: F: reading stopped after line \d+: decompressed size exceeds the 1 MiB cap \(gzip bomb\?\); the rest was not read; what was read before is diagnosed\n$",
    )
    .unwrap();
    assert!(said.is_match(&stderr), "{stderr}");
    assert!(stdout.contains("auth-keys-rejected"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bomb.gz"), &data).unwrap();
    magediag()
        .env("MAGEDIAG_MAX_DECOMPRESSED", "64K")
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("exceeds the 64 KiB cap"));
    magediag()
        .env("MAGEDIAG_MAX_DECOMPRESSED", "lots")
        .arg(REJECTED)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "magediag: MAGEDIAG_MAX_DECOMPRESSED: invalid size 'lots'",
        ));
    // Under the default cap the same file is read in full.
    let (_, stderr, code) = on_file("bomb.gz", &data, &[]);
    assert_eq!((code, stderr.as_str()), (1, ""));
}

/// An empty gzip is an empty log, no input (exit 2); a header-only gzip is cut short
/// (exit 2).
#[test]
fn empty_and_header_only_gzip() {
    let empty = gzip(b"");
    let (_, stderr, code) = on_file("empty.gz", &empty, &[]);
    assert_eq!(code, 2);
    once(&stderr, "no input");
    let (_, stderr, code) = on_file("header.gz", &empty[..10], &[]);
    assert_eq!(code, 2);
    once(
        &stderr,
        "magediag: F: nothing could be read: gzip data cut short in member 1",
    );
}

// ---------------------------------------------------------------------------------------
// Output faults.

/// The reader of stdout goes away before magediag writes (`magediag | head`): exit 0,
/// no message. stdin is held open until the pipe is closed, so the order is certain.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_exits_0_quietly() {
    let mut child = StdCommand::new(bin())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&sample(REJECTED)).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");

    // The shell form too: `magediag FILE | head -c 10` leaves magediag with status 0 or 1
    // (1 if the report fit in the pipe before head left), never a panic or a message.
    let script = format!(
        "'{}' scan samples | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}",
        bin().display()
    );
    let shell = StdCommand::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&shell.stdout);
    assert!(matches!(status.trim(), "0" | "1"), "{status}");
    assert_eq!(String::from_utf8_lossy(&shell.stderr), "");
}

/// A full disk on stdout (/dev/full) is a clear error, named like a path, exit 2.
#[cfg(target_os = "linux")]
#[test]
fn writing_to_dev_full_is_a_clear_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = StdCommand::new(bin())
        .arg(REJECTED)
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "magediag: <stdout>: cannot write the report: no space left on device\n"
    );
}

/// With stderr closed (`2>&-`) messages cannot be written: no panic, and the exit
/// status is still right (2 for a missing file, 1 for a diagnosis, 2 for /dev/full).
#[cfg(unix)]
#[test]
fn a_closed_stderr_keeps_the_exit_status() {
    let bin = bin();
    for (args, expected) in [
        ("/nonexistent.log >/dev/null", 2),
        ("samples/auth-keys-rejected.log >/dev/null", 1),
        ("samples/auth-keys-rejected.log >/dev/full", 2),
    ] {
        let script = format!("'{}' {args} 2>&-", bin.display());
        let status = StdCommand::new("sh")
            .args(["-c", &script])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(expected), "{args}");
    }
}

// ---------------------------------------------------------------------------------------
// Scale: many files, deep nesting.

/// 100 000 files in one folder: all read, counted, no error. (Empty files keep it to a
/// few seconds in debug builds.)
#[cfg(unix)]
#[test]
fn a_hundred_thousand_files_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..100_000 {
        std::fs::File::create(dir.path().join(format!("{i:06}.log"))).unwrap();
    }
    std::fs::copy(REJECTED, dir.path().join("zz-build.log")).unwrap();
    magediag()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr("")
        .stdout(predicate::str::contains("Read 100001 logs"));
}

/// 10 000 nested folders (built with mkdirat, as the path is longer than PATH_MAX): no
/// stack overflow; where the path gets too long for the OS the walk reports it by name
/// and exits 2, and the logs above are read.
#[cfg(target_os = "linux")]
#[test]
fn ten_thousand_nested_folders() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(REJECTED, dir.path().join("top.log")).unwrap();
    let name = std::ffi::CString::new("d").unwrap();
    let log = std::ffi::CString::new("deep.log").unwrap();
    let mut fd: OwnedFd = std::fs::File::open(dir.path()).unwrap().into();
    for depth in 0..10_000 {
        unsafe {
            assert_eq!(libc::mkdirat(fd.as_raw_fd(), name.as_ptr(), 0o755), 0);
            let next = libc::openat(
                fd.as_raw_fd(),
                name.as_ptr(),
                libc::O_DIRECTORY | libc::O_RDONLY,
            );
            assert!(next >= 0);
            fd = OwnedFd::from_raw_fd(next);
            if depth % 1000 == 0 {
                let file = libc::openat(
                    fd.as_raw_fd(),
                    log.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY,
                    0o644,
                );
                assert!(file >= 0);
                drop(OwnedFd::from_raw_fd(file));
            }
        }
    }
    let (report, code, stderr) = scan_json(dir.path(), &[]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(report["summary"]["scan"]["causes"][0]["logs"], 1);
    let read = report["summary"]["scan"]["read"].as_u64().unwrap();
    assert!(read >= 2, "{read}");
    if code == 2 {
        assert!(stderr.contains("file name too long"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    remove_chain(dir.path());
}

/// Removes a deep chain of `d` folders from the top with short paths only (the default
/// recursive removal would need paths longer than PATH_MAX or one fd per level).
#[cfg(target_os = "linux")]
fn remove_chain(root: &Path) {
    let (d, dd, moved) = (root.join("d"), root.join("d/d"), root.join("moved"));
    while d.exists() {
        let _ = std::fs::remove_file(d.join("deep.log"));
        if dd.exists() {
            std::fs::rename(&dd, &moved).unwrap();
            std::fs::remove_dir(&d).unwrap();
            std::fs::rename(&moved, &d).unwrap();
        } else {
            std::fs::remove_dir(&d).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rules.

/// A user rule whose regex does not compile names file, line and column.
#[test]
fn a_rule_regex_that_does_not_compile_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-regex.toml");
    std::fs::write(
        &path,
        "[[signal]]\nid = \"x\"\npatterns = ['oops (unclosed']\n\n[[rule]]\nid = \"r\"\ncategory = \"network\"\nseverity = \"error\"\ntitle = \"t\"\nwhen = 'any(x)'\nsummary = \"s\"\ncauses = []\nremediation = []\n",
    )
    .unwrap();
    let output = magediag()
        .arg("--rules")
        .arg(&path)
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let prefix = format!("magediag: {}:3:", path.display());
    assert!(stderr.starts_with(&prefix), "{stderr}");
    assert!(stderr.contains("unclosed"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Messages and the roll-up.

/// One scan with every kind of trouble: each message is `magediag: PATH: reason`, once;
/// the roll-up counts what was read (in full or in part), skipped and failed.
#[cfg(unix)]
#[test]
fn every_message_is_path_reason_once_and_the_rollup_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(REJECTED, root.join("a.log")).unwrap();
    let data = gzip(&sample(REJECTED));
    std::fs::write(root.join("b.log.gz"), &data[..data.len() - 3]).unwrap();
    std::fs::write(root.join("c.bin"), b"\0\x01\x02binary").unwrap();
    std::os::unix::fs::symlink("a.log", root.join("d.link")).unwrap();
    let (report, code, stderr) = scan_json(root, &[]);
    assert_eq!(code, 2);
    let rollup = &report["summary"]["scan"];
    assert_eq!(rollup["read"], 2, "{rollup}");
    assert_eq!(rollup["skipped"]["binary"], 1);
    assert_eq!(rollup["skipped"]["symlink"], 1);
    assert_eq!(rollup["failed"].as_array().unwrap().len(), 1);
    let path = root.join("b.log.gz");
    assert_eq!(
        stderr,
        format!(
            "magediag: {}: reading stopped after line {}: gzip data cut short in member 1; what was read before is diagnosed\n",
            path.display(),
            sample(REJECTED).iter().filter(|&&b| b == b'\n').count()
        )
    );
}

// ---------------------------------------------------------------------------------------
// Secrets.

const PUBLIC: &str = "0123456789abcdef0123456789abcdef";
const PRIVATE: &str = "fedcba9876543210fedcba9876543210";

fn credential_line() -> String {
    format!(
        "    W:   The 'https://{PUBLIC}:{PRIVATE}@repo.magento.com/archives/magento/module-catalog/magento-module-catalog-103.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden"
    )
}

/// Runs a file through every output format; returns the concatenated outputs.
fn all_formats(path: &Path, paste: bool) -> String {
    let mut all = String::new();
    for format in ["text", "json", "markdown"] {
        let mut cmd = magediag();
        if paste {
            cmd.arg("paste").pipe_stdin(path).unwrap();
        } else {
            cmd.arg(path);
        }
        let output = cmd.args(["--format", format]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}: {output:?}");
        all.push_str(&String::from_utf8_lossy(&output.stdout));
        all.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    assert!(all.contains("auth-keys-rejected"), "{all}");
    all
}

/// A 32-hex key that straddles the 256 KiB edge of the reader's buffer is masked: lines
/// are put together before masking, whatever the buffer boundaries.
#[test]
fn a_secret_across_the_read_buffer_edge_is_masked() {
    let line = credential_line();
    let edge = 256 * 1024;
    let key_at = line.find(PRIVATE).unwrap() + 16;
    let filler_len = edge - key_at;
    let mut text = String::new();
    while text.len() + 81 < filler_len {
        text.push_str(&format!("{:80}\n", "INFO: filler"));
    }
    text.push_str(&format!(
        "{:width$}\n",
        "",
        width = filler_len - text.len() - 1
    ));
    assert_eq!(text.len() + key_at, edge);
    text.push_str(&line);
    text.push('\n');
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.log");
    std::fs::write(&path, text).unwrap();
    let out = all_formats(&path, false);
    no_fragment(&out, PUBLIC);
    no_fragment(&out, PRIVATE);
}

/// A URL with `user:pass@` wrapped at 80 columns in a paste (the cut inside the
/// password) is joined before masking: no fragment leaks, in every format.
#[test]
fn a_secret_wrapped_over_two_pasted_lines_is_masked() {
    let line = credential_line();
    let wrapped: Vec<String> = line
        .as_bytes()
        .chunks(80)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    assert!(wrapped[0].contains(&PRIVATE[..8]) && !wrapped[0].contains(PRIVATE));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paste.txt");
    std::fs::write(&path, wrapped.join("\n") + "\n").unwrap();
    let out = all_formats(&path, true);
    no_fragment(&out, PRIVATE);
    no_fragment(&out, PUBLIC);
    // The same wrapped text as a log file is repaired the same way.
    let out = all_formats(&path, false);
    no_fragment(&out, PRIVATE);
}

/// ANSI colour codes or zero-width characters inside a secret do not shield it, in
/// evidence (a rule fired) or in hints (no rule fired).
#[test]
fn secrets_behind_ansi_codes_or_zero_width_characters_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    for code in ["\x1b[31m", "\x1b[0m", "\u{200B}", "\u{FEFF}", "\u{2060}"] {
        let hidden = format!("{}{code}{}", &PRIVATE[..12], &PRIVATE[12..]);
        let line = credential_line().replace(PRIVATE, &hidden);
        let path = dir.path().join("hidden.log");
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let out = all_formats(&path, false);
        no_fragment(&out, PUBLIC);
        no_fragment(&out, &PRIVATE[12..]);
        no_fragment(&out, &PRIVATE[..12]);

        let hint = format!(
            "ERROR: composer install failed with key {}{code}{}\n",
            &PUBLIC[..10],
            &PUBLIC[10..]
        );
        let out = json_stdout(hint);
        assert!(out.contains("composer install failed"), "{out}");
        no_fragment(&out, &PUBLIC[10..]);
        no_fragment(&out, &PUBLIC[..10]);
    }
}

/// A hint line is cut at 300 characters: the cut must come after masking, or a key
/// straddling column 300 leaks its first half (it did: the hint was cut, then masked).
/// The same on a line of 2 MB (only a window of a long line is masked, then cut).
#[test]
fn a_secret_at_the_hint_length_limit_is_masked() {
    let prefix = format!(
        "ERROR: composer install failed {}",
        "x".repeat(300 - 32 - 16)
    );
    let short = format!("{prefix} {PUBLIC} and more text after it\n");
    assert!(short.find(PUBLIC).unwrap() < 300 && short.find(PUBLIC).unwrap() + 32 > 300);
    let long = format!(
        "{prefix} {PUBLIC} and more text after it{}\n",
        " and more".repeat(200_000)
    );
    for line in [short, long] {
        let out = json_stdout(line);
        assert!(out.contains("composer install failed"), "{out}");
        no_fragment(&out, PUBLIC);
    }
}

/// A secret value longer than the masking window, starting inside the kept part of a
/// hint line, is masked up to the cut.
#[test]
fn a_secret_longer_than_the_mask_window_is_masked_in_a_hint() {
    // Base64 JSON of the project's variables, env:COMPOSER_AUTH among them.
    let value: String = "eyJlbnY6Q09NUE9TRVJfQVVUSCI6".repeat(2000);
    let line = format!("ERROR: deploy failed, MAGENTO_CLOUD_VARIABLES={value}\n");
    let out = json_stdout(line);
    assert!(out.contains("deploy failed"), "{out}");
    no_fragment(&out, &value[..40]);
}
