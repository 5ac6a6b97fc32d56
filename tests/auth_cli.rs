//! End-to-end tests of `magediag auth` on project folders prepared in temporary directories.
//!
//! Every run sets HOME and COMPOSER_HOME to temporary directories, clears COMPOSER_AUTH and the
//! proxy variables, and asserts that no key appears in stdout or stderr.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const PUB_A: &str = "0123456789abcdef0123456789abcdef";
const PRIV_A: &str = "fedcba9876543210fedcba9876543210";
const PUB_B: &str = "aaaabbbbccccddddeeeeffff00001111";
const PRIV_B: &str = "99998888777766665555444433332222";
const PUB_C: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const PRIV_C: &str = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1";
const EMAIL: &str = "developer@example.com";
const ACCOUNT_PASSWORD: &str = "correct-horse-battery";
const MAGEID: &str = "MAG123456789";

/// Every secret used in these tests; none may ever be printed.
const SECRETS: &[&str] = &[
    PUB_A,
    PRIV_A,
    PUB_B,
    PRIV_B,
    PUB_C,
    PRIV_C,
    EMAIL,
    ACCOUNT_PASSWORD,
];

/// A project folder and a fake home, both temporary.
struct Fixture {
    _root: TempDir,
    project: PathBuf,
    home: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let project = root.path().join("project");
        let home = root.path().join("home");
        std::fs::create_dir_all(&project).expect("project dir");
        std::fs::create_dir_all(home.join(".composer")).expect("home dir");
        Fixture {
            _root: root,
            project,
            home,
        }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.project.join(name), text).expect("write project file");
    }

    fn write_global(&self, text: &str) {
        std::fs::write(self.home.join(".composer/auth.json"), text).expect("write global");
    }

    /// `magediag auth PROJECT` with an isolated environment.
    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("magediag").expect("binary");
        cmd.arg("auth")
            .arg(&self.project)
            .env("HOME", &self.home)
            .env("COMPOSER_HOME", self.home.join(".composer"))
            .env_remove("COMPOSER_AUTH")
            .env_remove("XDG_CONFIG_HOME");
        for var in [
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

/// The auth.json text for a pair.
fn auth(user: &str, pass: &str) -> String {
    format!(
        "{{\n  \"http-basic\": {{\n    \"repo.magento.com\": {{\n      \"username\": \"{user}\",\n      \"password\": \"{pass}\"\n    }}\n  }}\n}}\n"
    )
}

/// Runs the command, checks no secret was printed, returns (exit code, stdout).
fn run(cmd: &mut Command) -> (i32, String) {
    let output = cmd.output().expect("run magediag");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    for secret in SECRETS {
        assert!(!stdout.contains(secret), "secret in stdout:\n{stdout}");
        assert!(!stderr.contains(secret), "secret in stderr:\n{stderr}");
    }
    (output.status.code().expect("exit code"), stdout)
}

#[test]
fn keys_in_one_place_are_fine() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("project auth.json"));
    assert!(out.contains("0123…"), "fingerprint shown:\n{out}");
    assert!(out.contains("Composer uses the pair from project auth.json"));
    assert!(out.contains("No problems found."));
}

#[test]
fn same_pair_in_two_places_is_fine() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (code, out) = run(f.cmd().env("COMPOSER_AUTH", auth(PUB_A, PRIV_A)));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("COMPOSER_AUTH: environment variable"));
    assert!(!out.contains("keys-conflict"));
}

#[test]
fn different_pairs_are_a_conflict_and_old_composer_uses_the_project_file() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let mut cmd = f.cmd();
    cmd.env("COMPOSER_AUTH", auth(PUB_B, PRIV_B))
        .args(["--composer-version", "2.2.21"]);
    let (code, out) = run(&mut cmd);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[keys-conflict] 2 different key pairs"),
        "{out}"
    );
    assert!(out.contains("Composer uses the pair from project auth.json"));
    assert!(out.contains("Update or delete"));
}

#[test]
fn newer_composer_uses_the_variable() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    f.write(
        ".magento.app.yaml",
        "dependencies:\n  php:\n    composer/composer: '2.8.4'\n",
    );
    let (code, out) = run(f.cmd().env("COMPOSER_AUTH", auth(PUB_B, PRIV_B)));
    assert_eq!(code, 1);
    assert!(
        out.contains("Composer uses the pair from COMPOSER_AUTH"),
        "{out}"
    );
    assert!(out.contains("from .magento.app.yaml"));
}

#[test]
fn unknown_version_explains_both_answers() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (_, out) = run(f.cmd().env("COMPOSER_AUTH", auth(PUB_B, PRIV_B)));
    assert!(out.contains("2.7.8 and later use COMPOSER_AUTH"), "{out}");
    assert!(out.contains("older versions (such as the 2.2 LTS) use project auth.json"));
}

#[test]
fn malformed_json_reports_line_and_column() {
    let f = Fixture::new();
    let text = format!(
        "{{\n  \"http-basic\": {{\n    \"repo.magento.com\": {{\"username\": \"{PUB_A}\", \"password\": \"{PRIV_A}\",}}\n  }}\n}}\n"
    );
    f.write("auth.json", &text);
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[invalid-json]"), "{out}");
    assert!(out.contains("at line 3, column"), "{out}");
}

#[test]
fn email_as_username_is_called_out() {
    let f = Fixture::new();
    f.write("auth.json", &auth(EMAIL, ACCOUNT_PASSWORD));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[username-is-email]"), "{out}");
    assert!(out.contains("My Profile > Access Keys"));
}

#[test]
fn mageid_as_username_is_called_out() {
    let f = Fixture::new();
    f.write("auth.json", &auth(MAGEID, PRIV_A));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[username-is-mageid]"), "{out}");
}

#[test]
fn short_key_is_malformed() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, &PRIV_A[..31]));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[malformed-key]"));
    assert!(out.contains("has 31 characters instead of 32"), "{out}");
}

/// Returns whether git can be run; tests needing it are skipped otherwise.
fn have_git() -> bool {
    StdCommand::new("git").arg("--version").output().is_ok()
}

/// Runs git in `dir` with a throwaway identity.
fn git(dir: &Path, args: &[&str]) {
    let status = StdCommand::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(status.status.success(), "git {args:?} failed");
}

#[test]
fn auth_json_tracked_in_git_is_a_leak() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    git(&f.project, &["init", "-q"]);
    git(&f.project, &["add", "auth.json"]);
    git(&f.project, &["commit", "-q", "-m", "add keys"]);
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[auth-json-tracked]"), "{out}");
    assert!(out.contains("git rm --cached auth.json"));
    assert!(out.contains("disable the leaked pair"));
    assert!(out.contains("[FAIL] not committed to git"));
}

#[test]
fn auth_json_not_ignored_is_a_warning() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    git(&f.project, &["init", "-q"]);
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[auth-json-not-ignored]"));
    f.write(".gitignore", "auth.json\n");
    let (_, out) = run(&mut f.cmd());
    assert!(!out.contains("auth-json-not-ignored"), "{out}");
}

/// Regression: `auth` ran `git ls-files` in the project, and a customer's `.git/config`
/// with `core.fsmonitor` (or a pager, hooks, includes) ran its command. The project's git
/// data is now read, never executed.
#[test]
fn a_hostile_git_config_runs_nothing() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    // Entries of several path lengths before and after it, so the index is read entry
    // by entry, padding included.
    std::fs::create_dir_all(f.project.join("app/etc")).unwrap();
    f.write("app/etc/config.php", "<?php return [];\n");
    f.write("a.txt", "a\n");
    f.write("composer.json", "{}\n");
    f.write("zz-long-file-name-for-padding.md", "z\n");
    git(&f.project, &["init", "-q"]);
    git(&f.project, &["add", "."]);
    git(&f.project, &["commit", "-q", "-m", "add keys"]);
    let marker = f.home.join("ran");
    let command = format!("touch {}; false", marker.display());
    let config = f.project.join(".git/config");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!(
        "[core]\n\tfsmonitor = \"{command}\"\n\tpager = \"{command}\"\n\thooksPath = /nonexistent\n\tsshCommand = \"{command}\"\n[diff]\n\texternal = \"{command}\"\n[credential]\n\thelper = \"!{command}\"\n"
    ));
    std::fs::write(&config, text).expect("write config");
    let (code, out) = run(&mut f.cmd());
    assert!(!marker.exists(), "the project's git config ran a command");
    // Still answered from the index read directly.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[auth-json-tracked]"), "{out}");
}

/// A `.git` that is a file points at a git folder elsewhere: it is not followed, and the
/// answer is "cannot tell", not "not committed".
#[test]
fn a_gitdir_file_pointing_out_of_the_project_is_not_followed() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    f.write(".git", "gitdir: /etc\n");
    let (_, out) = run(&mut f.cmd());
    assert!(!out.contains("not committed to git"), "{out}");
    assert!(!out.contains("auth-json-not-ignored"), "{out}");
}

#[test]
fn composer_auth_from_stdin() {
    let f = Fixture::new();
    let mut cmd = f.cmd();
    cmd.args(["--composer-auth", "-"])
        .write_stdin(auth(PUB_A, PRIV_A) + "\n");
    let (code, out) = run(&mut cmd);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("COMPOSER_AUTH: read from stdin"));
    assert!(out.contains("Composer uses the pair from COMPOSER_AUTH"));
}

#[test]
fn composer_auth_from_a_file() {
    let f = Fixture::new();
    let file = f.home.join("cloud-auth.json");
    std::fs::write(&file, auth(PUB_A, PRIV_A)).expect("write");
    let (code, out) = run(f.cmd().arg("--composer-auth").arg(&file));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("COMPOSER_AUTH: read from"));
}

#[test]
fn inline_composer_auth_is_refused_without_echo() {
    let f = Fixture::new();
    let mut cmd = f.cmd();
    cmd.args(["--composer-auth", &auth(PUB_A, PRIV_A)]);
    let (code, _) = run(&mut cmd);
    assert_eq!(code, 2);
    f.cmd()
        .args(["--composer-auth", &auth(PUB_A, PRIV_A)])
        .assert()
        .stderr(predicate::str::contains("not inline JSON"));
}

#[test]
fn no_keys_anywhere() {
    let f = Fixture::new();
    f.write("composer.json", r#"{"name": "acme/shop"}"#);
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1);
    assert!(out.contains("[keys-missing]"), "{out}");
    assert!(out.contains(
        "variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth -"
    ));
}

#[test]
fn global_auth_json_is_read_from_composer_home() {
    let f = Fixture::new();
    f.write_global(&auth(PUB_A, PRIV_A));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Composer uses the pair from global auth.json"));
}

#[test]
fn global_auth_json_is_found_via_home_without_composer_home() {
    let f = Fixture::new();
    f.write_global(&auth(PUB_A, PRIV_A));
    let (code, out) = run(f.cmd().env_remove("COMPOSER_HOME"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("global auth.json"));
}

#[test]
fn json_output_has_findings_and_key_sources() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    f.write_global(&auth(PUB_B, PRIV_B));
    let (code, out) = run(f.cmd().args(["--format", "json"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"keys-conflict"), "{ids:?}");
    let sources = v["key_sources"].as_array().expect("key_sources");
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0]["place"], "global-auth-json");
    assert!(
        sources[1]["fingerprint_username"]
            .as_str()
            .expect("fingerprint")
            .starts_with("0123…")
    );
    assert_eq!(v["verdict"]["used"], "project-auth-json");
}

#[test]
fn usage_and_io_errors_exit_with_2() {
    let f = Fixture::new();
    let (code, _) = run(f.cmd().arg("--no-such-flag"));
    assert_eq!(code, 2);
    let mut cmd = Command::cargo_bin("magediag").expect("binary");
    cmd.args(["auth", "/nonexistent/magediag-project"])
        .env("HOME", &f.home)
        .env_remove("COMPOSER_AUTH");
    let (code, _) = run(&mut cmd);
    assert_eq!(code, 2);
}

// ---- --online, against a server started by the test on 127.0.0.1 ----

/// Standard base64, for building the expected Authorization headers.
fn b64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(A[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The Authorization header value for a pair.
fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", b64(format!("{user}:{pass}").as_bytes()))
}

/// Answers one HTTP request: 200 for pair A, 403 for pair C, 401 otherwise.
fn answer(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = value.trim().to_string();
        }
    }
    let status = if authorization == basic(PUB_A, PRIV_A) {
        "200 OK"
    } else if authorization == basic(PUB_C, PRIV_C) {
        "403 Forbidden"
    } else {
        "401 Unauthorized"
    };
    let response =
        format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
    let _ = stream.write_all(response.as_bytes());
}

/// Starts the fake repository in a thread and returns its packages.json URL.
fn start_repo() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream);
        }
    });
    format!("http://127.0.0.1:{port}/packages.json")
}

/// Runs `--online` against `url` with pair (user, pass) in the project auth.json.
fn online(user: &str, pass: &str, url: &str) -> (i32, String) {
    let f = Fixture::new();
    f.write("auth.json", &auth(user, pass));
    run(f.cmd().args(["--online", "--repo-url", url]))
}

#[test]
fn online_200_is_fine() {
    let (code, out) = online(PUB_A, PRIV_A, &start_repo());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("HTTP 200, keys accepted"), "{out}");
}

#[test]
fn online_401_means_regenerate() {
    let (code, out) = online(PUB_B, PRIV_B, &start_repo());
    assert_eq!(code, 1);
    assert!(out.contains("[keys-rejected]"), "{out}");
    assert!(out.contains("HTTP 401"));
}

#[test]
fn online_403_means_not_entitled() {
    let (code, out) = online(PUB_C, PRIV_C, &start_repo());
    assert_eq!(code, 1);
    assert!(out.contains("[keys-not-entitled]"), "{out}");
    assert!(out.contains("Primary Contact"));
    assert!(out.contains("MAGEID"));
}

#[test]
fn online_probes_each_distinct_pair_once() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    f.write_global(&auth(PUB_A, PRIV_A));
    let url = start_repo();
    let mut cmd = f.cmd();
    cmd.env("COMPOSER_AUTH", auth(PUB_C, PRIV_C)).args([
        "--online",
        "--repo-url",
        &url,
        "--format",
        "json",
    ]);
    let (_, out) = run(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let results = v["online"].as_array().expect("online");
    assert_eq!(results.len(), 2, "{out}");
    assert_eq!(results[0]["outcome"], "accepted");
    assert_eq!(results[0]["places"].as_array().map(Vec::len), Some(2));
    assert_eq!(results[1]["outcome"], "forbidden");
}

#[test]
fn online_unreachable_is_reported() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/packages.json");
    let (code, out) = online(PUB_A, PRIV_A, &url);
    assert_eq!(code, 1);
    assert!(out.contains("[repo-unreachable]"), "{out}");
}

/// Regression: a `composer.json` without keys (the desired state) showed
/// `[FAIL] repo.magento.com entry` next to "No problems found".
#[test]
fn a_composer_json_without_keys_is_no_failed_check() {
    let f = Fixture::new();
    f.write(
        "composer.json",
        r#"{"name": "acme/shop", "config": {"sort-packages": true}}"#,
    );
    f.write_global(r#"{"github-oauth": {"github.com": "x"}}"#);
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No problems found."), "{out}");
    assert!(!out.contains("[FAIL]"), "{out}");
    assert!(out.contains("[ok] no keys (as it should be)"), "{out}");
    assert!(out.contains("[ok] no repo.magento.com entry"), "{out}");
    let (_, json) = run(f.cmd().args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let failed: Vec<&serde_json::Value> = v["places"]
        .as_array()
        .expect("places")
        .iter()
        .flat_map(|p| p["checks"].as_array().expect("checks"))
        .filter(|c| c["passed"] == false)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
}
