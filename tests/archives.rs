//! Compressed logs (xz, bzip2, zstd) and archives (tar, plain or compressed, and zip):
//! each member is a log of its own, named `ARCHIVE:MEMBER`, with its own line numbers;
//! binary members are skipped; `scan` reads members too; the decompression cap holds.
//! Every fixture is written by the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn magediag() -> Command {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.env_remove("MAGEDIAG_MAX_DECOMPRESSED");
    cmd
}

/// A log whose failure is on its line 3.
const DISK_FULL: &str = "[2024-05-02T08:00:00+00:00] NOTICE: Starting deploy.\n\
[2024-05-02T08:00:01+00:00] NOTICE: Running setup upgrade.\n\
  SQLSTATE[HY000]: General error: 3 Error writing file '/tmp/MYx' (Errcode: 28 - No space left on device)\n";

/// A log whose failure is on its line 2.
const NO_NODES: &str = "[2024-05-02T09:00:00+00:00] NOTICE: Starting deploy.\n\
  No alive nodes found in your cluster\n";

/// Compresses a text in one format.
type Compress = fn(&[u8]) -> Vec<u8>;

fn xz(data: &[u8]) -> Vec<u8> {
    let options = lzma_rust2::XzOptions::with_preset(1);
    let mut writer = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut writer = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut writer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}

/// A tar member header (ustar), its type `kind`.
fn tar_header(name: &str, size: usize, kind: u8) -> Vec<u8> {
    let mut header = vec![0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    header[156] = kind;
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    header
}

/// A tar archive of `(name, data)` members; a name over 100 bytes gets a GNU long name.
fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = tar_header("logs/", 0, b'5');
    for (name, data) in members {
        if name.len() > 100 {
            let mut long = name.as_bytes().to_vec();
            long.push(0);
            out.extend(tar_header("././@LongLink", long.len(), b'L'));
            out.extend(padded(&long));
            out.extend(tar_header("truncated", data.len(), b'0'));
        } else {
            out.extend(tar_header(name, data.len(), b'0'));
        }
        out.extend(padded(data));
    }
    out.extend([0u8; 1024]);
    out
}

fn padded(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.resize(data.len().div_ceil(512) * 512, 0);
    out
}

/// A zip archive of `(name, data)` members, deflated or stored.
fn zip(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    writer.add_directory("var/", options).unwrap();
    for (name, data) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// `magediag --format json FILE`: the report and the exit status.
fn json_of(path: &Path) -> (Value, Option<i32>, String) {
    let output = magediag()
        .args(["--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (report, output.status.code(), stderr)
}

/// Each source of a report as (path, rule, evidence lines).
fn diagnosed(report: &Value) -> Vec<(String, String, Vec<u64>)> {
    let mut out = Vec::new();
    for source in report["sources"].as_array().unwrap() {
        for d in source["diagnoses"].as_array().unwrap() {
            let lines = d["evidence"].as_array().unwrap();
            let lines = lines.iter().map(|e| e["line"].as_u64().unwrap()).collect();
            out.push((
                source["path"].as_str().unwrap().to_owned(),
                d["rule"].as_str().unwrap().to_owned(),
                lines,
            ));
        }
    }
    out
}

/// Regression: xz, bzip2 and zstd logs were refused as "unsupported compression"; they
/// are read as gzip is, whatever the file is called, from a file or from stdin.
#[test]
fn xz_bzip2_and_zstd_logs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, _, _) = {
        let path = dir.path().join("plain.log");
        std::fs::write(&path, DISK_FULL).unwrap();
        json_of(&path)
    };
    let expected = diagnosed(&plain)
        .into_iter()
        .map(|(_, rule, lines)| (rule, lines))
        .collect::<Vec<_>>();
    assert!(!expected.is_empty(), "{plain}");
    let formats: [(&str, Compress); 3] = [("xz", xz), ("bz2", bzip2), ("zst", zstd)];
    for (ext, compress) in formats {
        // Two streams one after the other, as `cat a.xz b.xz` makes: both are read.
        let mut data = compress(b"[2024-05-02T07:00:00+00:00] NOTICE: Starting build.\n");
        data.extend(compress(&DISK_FULL.as_bytes()[53..]));
        let path = dir.path().join(format!("deploy.{ext}.data"));
        std::fs::write(&path, &data).unwrap();
        let (report, code, stderr) = json_of(&path);
        assert_eq!(code, Some(1), "{ext}: {stderr}");
        let got: Vec<_> = diagnosed(&report)
            .into_iter()
            .map(|(_, rule, lines)| (rule, lines))
            .collect();
        assert_eq!(got, expected, "{ext}");
        let piped = magediag().write_stdin(data).output().unwrap();
        assert_eq!(piped.status.code(), Some(1), "{ext} on stdin");
    }
}

/// Cut or corrupt compressed data is an error that names the format, exit 2, never "ok".
#[test]
fn cut_compressed_data_is_an_error_that_names_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let log = DISK_FULL.repeat(200);
    let formats: [(&str, Compress); 3] = [("xz", xz), ("bzip2", bzip2), ("zstd", zstd)];
    for (name, compress) in formats {
        let data = compress(log.as_bytes());
        let path = dir.path().join(format!("cut.{name}"));
        std::fs::write(&path, &data[..data.len() / 2]).unwrap();
        let (_, code, stderr) = json_of(&path);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("cut."),
            "{name}: {stderr}"
        );
    }
}

/// Regression: a `.tar.gz` was read as the text of its tar stream (line numbers in the
/// stream, member names lost), and zip was refused. Each member is now a source named
/// `ARCHIVE:MEMBER` with its own line numbers; a binary member is skipped.
#[test]
fn archive_members_are_sources_with_their_own_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let long_name = format!("var/log/{}/deploy.log", "nested".repeat(20));
    let gzipped = gzip(NO_NODES.as_bytes());
    let members: Vec<(&str, &[u8])> = vec![
        ("var/log/cloud.log", DISK_FULL.as_bytes()),
        ("var/log/image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        (&long_name, NO_NODES.as_bytes()),
        ("var/log/old.log.gz", &gzipped),
    ];
    let archives: [(&str, Vec<u8>); 6] = [
        ("logs.tar", tar(&members)),
        ("logs.tar.gz", gzip(&tar(&members))),
        ("logs.tar.xz", xz(&tar(&members))),
        ("logs.tar.zst", zstd(&tar(&members))),
        ("logs.zip", zip(&members, true)),
        ("stored.zip", zip(&members, false)),
    ];
    for (name, data) in &archives {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let (report, code, stderr) = json_of(&path);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        let shown = path.display().to_string();
        let expected = [
            ("var/log/cloud.log", "disk-full", 3),
            (long_name.as_str(), "search-no-alive-nodes", 2),
            ("var/log/old.log.gz", "search-no-alive-nodes", 2),
        ]
        .map(|(member, rule, line)| (format!("{shown}:{member}"), rule.to_owned(), vec![line]));
        assert_eq!(diagnosed(&report), expected, "{name}");
        assert!(
            stderr.contains("1 binary member skipped"),
            "{name}: {stderr}"
        );
    }
    // A tar stream on stdin is read by its members too.
    let piped = magediag()
        .args(["--format", "concise"])
        .write_stdin(gzip(&tar(&members)))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&piped.stdout);
    assert!(text.contains("<stdin>:var/log/cloud.log:3:"), "{text}");
}

/// `scan` reads the members of the archives it finds, counts binary members as skipped
/// binary files, and a member it cannot read as failed, by its name.
#[test]
fn scan_reads_archive_members() {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<(&str, &[u8])> = vec![
        ("a/cloud.log", DISK_FULL.as_bytes()),
        ("a/core", b"\x7fELF\x02\x01\x01\0\0\0"),
    ];
    std::fs::write(dir.path().join("logs.zip"), zip(&members, true)).unwrap();
    std::fs::write(dir.path().join("logs.tgz"), gzip(&tar(&members))).unwrap();
    std::fs::write(dir.path().join("one.log.bz2"), bzip2(NO_NODES.as_bytes())).unwrap();
    let output = magediag()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<String> = diagnosed(&report).into_iter().map(|(p, _, _)| p).collect();
    let root = dir.path().display();
    assert_eq!(
        paths,
        [
            format!("{root}/logs.tgz:a/cloud.log"),
            format!("{root}/logs.zip:a/cloud.log"),
            format!("{root}/one.log.bz2"),
        ]
    );
    let scan = &report["summary"]["scan"];
    assert_eq!(scan["read"], 3, "{scan}");
    assert_eq!(scan["compressed"], 3, "{scan}");
    assert_eq!(scan["skipped"]["binary"], 2, "{scan}");
}

/// The decompression cap holds for every format: a bomb stops at the cap with a
/// message and exit 2, the lines before it diagnosed; for a zip file, the cap is on its
/// members together.
#[test]
fn the_decompression_cap_holds_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let padding = |lines: usize| {
        let mut log = DISK_FULL.to_owned();
        log.push_str(&"[2024-05-02T08:00:02+00:00] INFO: padding line\n".repeat(lines));
        log.into_bytes()
    };
    // 384 KB in one stream; 96 KB in each of three members, under the cap alone.
    let (big, small) = (padding(8000), padding(2000));
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("bomb.xz", xz(&big), "xz bomb?"),
        ("bomb.bz2", bzip2(&big), "bzip2 bomb?"),
        ("bomb.zst", zstd(&big), "zstd bomb?"),
        (
            "bomb.zip",
            zip(
                &[
                    ("x/1.log", &small),
                    ("x/2.log", &small),
                    ("x/3.log", &small),
                ],
                true,
            ),
            "zip bomb?",
        ),
    ];
    for (name, data, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let output = magediag()
            .args(["--max-decompressed", "250K", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("exceeds the 250 KiB cap") && stderr.contains(says),
            "{name}: {stderr}"
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(
            !diagnosed(&report).is_empty(),
            "{name}: the start is diagnosed"
        );
    }
}

/// Formats magediag does not read stay errors, never "ok"; a zip file on stdin (which
/// cannot be read without seeking) says to give its path.
#[test]
fn unknown_formats_and_a_zip_on_stdin_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("7z", &[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04][..]),
        ("lz4", &[0x04, 0x22, 0x4d, 0x18, 0x64, 0x40][..]),
    ] {
        let path = dir.path().join(format!("deploy.log.{name}"));
        std::fs::write(&path, bytes).unwrap();
        let output = magediag().arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.contains(&format!("unsupported compression ({name})")),
            "{err}"
        );
    }
    let output = magediag()
        .write_stdin(zip(&[("a.log", DISK_FULL.as_bytes())], true))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("zip archive is read from a file"), "{err}");
}

/// A FILE that is a pipe (`magediag <(command)`) is read as a stream: looking for a zip
/// file's header must not seek it. (Caught while adding zip: "illegal seek".)
#[cfg(unix)]
#[test]
fn a_pipe_given_as_a_file_is_read_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, xz(DISK_FULL.as_bytes())).unwrap())
    };
    let output = magediag()
        .args(["--format", "concise"])
        .arg(&fifo)
        .output()
        .unwrap();
    writer.join().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("pipe.log:3: error[disk-full]"), "{text}");
}
