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
    assert!(
        out.contains("A local run uses the pair from project auth.json"),
        "{out}"
    );
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
    assert!(
        out.contains("A local run uses the pair from project auth.json"),
        "{out}"
    );
    assert!(out.contains("Update or delete"));
}

/// The Composer version pinned in `.magento.app.yaml` is the Cloud build's: with both a
/// committed auth.json and env:COMPOSER_AUTH, it decides which the build uses.
#[test]
fn the_pinned_version_decides_between_a_committed_file_and_the_variable() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    git(&f.project, &["init", "-q"]);
    git(&f.project, &["add", "auth.json"]);
    for (version, winner) in [
        ("2.8.4", "env:COMPOSER_AUTH (aaaa…"),
        ("2.2.21", "project auth.json (0123…"),
    ] {
        f.write(
            ".magento.app.yaml",
            &format!("dependencies:\n  php:\n    composer/composer: '{version}'\n"),
        );
        let mut cmd = f.cmd();
        cmd.args(["--composer-auth", "-"])
            .write_stdin(auth(PUB_B, PRIV_B));
        let (code, out) = run(&mut cmd);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!("The Cloud build uses the pair from {winner}")),
            "{version}:\n{out}"
        );
        assert!(
            out.contains(&format!("(Composer {version}, from .magento.app.yaml)")),
            "{out}"
        );
    }
}

#[test]
fn unknown_version_explains_both_answers() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (_, out) = run(f.cmd().env("COMPOSER_AUTH", auth(PUB_B, PRIV_B)));
    assert!(
        out.contains("A local run uses project auth.json (0123…"),
        "{out}"
    );
    assert!(out.contains(") or COMPOSER_AUTH (aaaa…"), "{out}");
    assert!(
        out.contains("depending on the Composer version (2.7.8 and later let COMPOSER_AUTH win")
    );
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
    assert!(out.contains("env:COMPOSER_AUTH: read from stdin"), "{out}");
    assert!(
        out.contains("The Cloud build uses the pair from env:COMPOSER_AUTH (0123…"),
        "{out}"
    );
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
    assert!(
        out.contains("A local run uses the pair from global auth.json"),
        "{out}"
    );
    assert!(
        out.contains("global auth.json (a file of this machine, not in the repository)"),
        "{out}"
    );
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

/// A git project whose committed files hold no keys, an `auth.json` that is ignored and
/// not committed, and `env:COMPOSER_AUTH` given with `--composer-auth`.
fn cloud_project(cloud_pair: (&str, &str)) -> (Fixture, Command) {
    let f = Fixture::new();
    f.write("composer.json", r#"{"name": "acme/shop"}"#);
    f.write(".gitignore", "auth.json\n");
    f.write(
        ".magento.app.yaml",
        "dependencies:\n  php:\n    composer/composer: '2.2.21'\n",
    );
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    git(&f.project, &["init", "-q"]);
    git(
        &f.project,
        &["add", "composer.json", ".gitignore", ".magento.app.yaml"],
    );
    let mut cmd = f.cmd();
    cmd.args(["--composer-auth", "-"])
        .write_stdin(auth(cloud_pair.0, cloud_pair.1));
    (f, cmd)
}

/// Regression: with auth.json untracked and ignored and env:COMPOSER_AUTH holding another
/// pair, the report said "[ok] not committed to git" and "Composer uses the pair from
/// project auth.json", which a Cloud build never reads.
#[test]
fn a_cloud_build_reads_committed_files_and_the_variable_only() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let (_f, mut cmd) = cloud_project((PUB_B, PRIV_B));
    let (_, out) = run(&mut cmd);
    assert!(
        out.contains("The Cloud build uses the pair from env:COMPOSER_AUTH (aaaa…"),
        "{out}"
    );
    assert!(
        out.contains("project auth.json (not committed to git, so not in the build)"),
        "{out}"
    );
    assert!(
        out.contains("A local run uses the pair from project auth.json (0123…"),
        "{out}"
    );
    assert!(
        !out.contains("Composer uses the pair from project auth.json"),
        "{out}"
    );
    let (_f, mut cmd) = cloud_project((PUB_B, PRIV_B));
    let (_, json) = run(cmd.args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let views = v["views"].as_array().expect("views");
    assert_eq!(views[0]["view"], "cloud-build");
    assert_eq!(views[0]["used"], "cloud-variable");
    assert_eq!(views[0]["composer_version"], "2.2.21");
    assert!(
        views[0]["fingerprint_username"]
            .as_str()
            .is_some_and(|s| s.starts_with("aaaa…")),
        "{json}"
    );
    assert_eq!(views[1]["view"], "local");
    assert_eq!(views[1]["used"], "project-auth-json");
    let auth_json = views[0]["places"]
        .as_array()
        .expect("places")
        .iter()
        .find(|p| p["place"] == "project-auth-json")
        .expect("auth.json in the view");
    assert_eq!(auth_json["sight"], "not-seen");
}

/// Without `--composer-auth`, the Cloud build's pair is not known: the report says what
/// it depends on, never that the build uses a file it does not read.
#[test]
fn an_unknown_cloud_variable_is_said_so() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let (f, _) = cloud_project((PUB_B, PRIV_B));
    let (_, out) = run(f.cmd().env("COMPOSER_AUTH", auth(PUB_B, PRIV_B)));
    assert!(
        out.contains("The Cloud build uses env:COMPOSER_AUTH if it is set (its value was not given), else no keys."),
        "{out}"
    );
    assert!(out.contains("| magediag auth --composer-auth -"), "{out}");
    assert!(
        out.contains("COMPOSER_AUTH (this machine's variable; the build reads env:COMPOSER_AUTH)"),
        "{out}"
    );
    let (_, json) = run(f.cmd().args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["views"][0]["used"], serde_json::Value::Null);
    assert_eq!(v["views"][0]["depends_on"][0], "cloud-variable");
}

/// The Cloud build has no keys at all when the variable is empty and nothing committed
/// holds them, even though this machine has a working auth.json.
#[test]
fn no_keys_for_the_cloud_build_is_a_problem() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let (f, _) = cloud_project((PUB_B, PRIV_B));
    let mut cmd = f.cmd();
    cmd.args(["--composer-auth", "-"]).write_stdin("");
    let (code, out) = run(&mut cmd);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[keys-missing] The Cloud build sees no keys"),
        "{out}"
    );
    assert!(out.contains("The Cloud build has no keys."), "{out}");
}

/// Keys written into `.magento.app.yaml` are what the build reads as env:COMPOSER_AUTH,
/// and, committed, they are leaked.
#[test]
fn keys_in_magento_app_yaml_are_read_and_leaked() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let f = Fixture::new();
    let value = auth(PUB_B, PRIV_B).replace('\n', "");
    f.write(
        ".magento.app.yaml",
        &format!("name: app\nvariables:\n    env:\n        COMPOSER_AUTH: '{value}'\n"),
    );
    git(&f.project, &["init", "-q"]);
    git(&f.project, &["add", ".magento.app.yaml"]);
    let (code, out) = run(&mut f.cmd());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("The Cloud build uses the pair from env:COMPOSER_AUTH (aaaa…"),
        "{out}"
    );
    assert!(out.contains("[keys-in-app-yaml]"), "{out}");
    assert!(out.contains("Remove COMPOSER_AUTH from the variables of .magento.app.yaml"));
}

/// Regression: `--online` listed the answers per pair but the verdict named the pair
/// that got 200, not the one the build uses; and every report still ended with "run
/// `magediag auth --online`".
#[test]
fn online_says_which_view_got_which_answer_and_stops_suggesting_itself() {
    if !have_git() {
        eprintln!("git not installed: skipped");
        return;
    }
    let url = start_repo();
    let (_f, mut cmd) = cloud_project((PUB_C, PRIV_C));
    let (code, out) = run(cmd.args(["--online", "--repo-url", &url]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("The Cloud build uses the pair from env:COMPOSER_AUTH (c0c0…")
            && out.contains("online HTTP 403, keys valid but not entitled"),
        "{out}"
    );
    assert!(
        out.contains("A local run uses the pair from project auth.json (0123…")
            && out.contains("online HTTP 200, keys accepted"),
        "{out}"
    );
    assert!(!out.contains("run `magediag auth --online`"), "{out}");
    assert!(!out.contains("Run `magediag auth --online`"), "{out}");
    assert!(out.contains("The online check accepted 0123…"), "{out}");
    let (_f, mut cmd) = cloud_project((PUB_C, PRIV_C));
    let (_, json) = run(cmd.args(["--online", "--repo-url", &url, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["views"][0]["online"]["status"], 403, "{json}");
    assert_eq!(v["views"][0]["online"]["outcome"], "forbidden");
    assert_eq!(v["views"][1]["online"]["status"], 200);
}

/// Regression: `--repo-url` took anything; a plain-http URL sent the keys unencrypted
/// without a word; a failed name lookup was "uncategorized error".
#[test]
fn repo_url_is_checked() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    for bad in [
        "repo.magento.com/packages.json",
        "ftp://repo.magento.com/",
        "https://",
    ] {
        let output = f
            .cmd()
            .args(["--online", "--repo-url", bad])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("not an http:// or https:// URL"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    let (code, out) = run(f.cmd().args(["--online", "--repo-url", &start_repo()]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[repo-url-not-https]"), "{out}");
    assert!(out.contains("the keys were sent unencrypted"), "{out}");
    // `.invalid` never resolves (RFC 6761): no network is reached.
    let (code, out) = run(f.cmd().args([
        "--online",
        "--repo-url",
        "https://magediag-test.invalid/packages.json",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("host not found (DNS)"), "{out}");
    assert!(!out.contains("uncategorized"), "{out}");
    assert!(!out.contains("[repo-url-not-https]"), "{out}");
    // Without --online, --repo-url is a usage error rather than ignored.
    let (code, _) = run(f.cmd().args(["--repo-url", "https://mirror.example.com/"]));
    assert_eq!(code, 2);
}

// ---- magediag --project DIR LOG: the project read as `auth` reads it ----

/// A log of a build refused by repo.magento.com, written for these tests.
const REFUSED_LOG: &str = "\
    W: Installing dependencies (including require-dev) from lock file
    W:   - Installing acme/module-widget (1.2.3): Downloading (connecting...)
    W:   The 'https://repo.magento.com/archives/acme/module-widget/acme-module-widget-1.2.3.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden
    W:   - Installing acme/module-gadget (2.0.1): Downloading (connecting...)
    W:   The 'https://repo.magento.com/archives/acme/module-gadget/acme-module-gadget-2.0.1.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden
";

/// `magediag --project DIR LOG --format json` with the fixture's environment; returns
/// (exit code, the first diagnosis).
fn project_run(f: &Fixture, extra_env: Option<(&str, String)>) -> (i32, serde_json::Value) {
    let log = f.home.join("build.log");
    std::fs::write(&log, REFUSED_LOG).expect("write log");
    let mut cmd = Command::cargo_bin("magediag").expect("binary");
    cmd.env("HOME", &f.home)
        .env_remove("COMPOSER_HOME")
        .env_remove("COMPOSER_AUTH")
        .env_remove("XDG_CONFIG_HOME")
        .args(["--format", "json", "--project"])
        .arg(&f.project)
        .arg(&log);
    if let Some((name, value)) = extra_env {
        cmd.env(name, value);
    }
    let (code, out) = run(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    (code, auth_diagnosis(&v))
}

/// The first diagnosis of an `auth-` category in a JSON report.
fn auth_diagnosis(v: &serde_json::Value) -> serde_json::Value {
    v["sources"][0]["diagnoses"]
        .as_array()
        .expect("diagnoses")
        .iter()
        .find(|d| {
            d["category"]
                .as_str()
                .is_some_and(|c| c.starts_with("auth-"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no auth diagnosis in {v}"))
}

/// Regression: `--project` ignored the global auth.json and said HOME was unset.
#[test]
fn project_reads_the_global_auth_json_as_auth_does() {
    let f = Fixture::new();
    f.write("composer.json", r#"{"name": "acme/shop"}"#);
    f.write_global(&auth(PUB_A, PRIV_A));
    let (_, d) = project_run(&f, None);
    let causes = d["causes"].to_string();
    assert!(
        d["category"]
            .as_str()
            .is_some_and(|c| c.starts_with("auth-")),
        "{d}"
    );
    assert!(
        !causes.contains("keys-missing") && !causes.contains("No usable"),
        "{causes}"
    );
    assert!(!causes.contains("HOME is set"), "{causes}");
    // What `auth` itself says about the same folder.
    let (_, out) = run(f.cmd().env_remove("COMPOSER_HOME"));
    assert!(
        out.contains("A local run uses the pair from global auth.json"),
        "{out}"
    );
}

/// Regression: `--project` prepended every step of every `auth` finding to the rule's
/// own steps, which say the same in other words (nine overlapping steps). Now one step
/// points at `magediag auth DIR`; the rule's steps follow unchanged; a conflict is one cause.
#[test]
fn project_adds_one_step_and_each_cause_once() {
    let f = Fixture::new();
    f.write("auth.json", &auth(PUB_A, PRIV_A));
    let (_, plain) = {
        let log = f.home.join("plain.log");
        std::fs::write(&log, REFUSED_LOG).expect("write log");
        let mut cmd = Command::cargo_bin("magediag").expect("binary");
        cmd.args(["--format", "json"]).arg(&log);
        let (code, out) = run(&mut cmd);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        (code, auth_diagnosis(&v))
    };
    let (code, d) = project_run(&f, Some(("COMPOSER_AUTH", auth(PUB_B, PRIV_B))));
    assert_eq!(code, 1);
    let steps = d["remediation"].as_array().expect("steps");
    let rule_steps = plain["remediation"].as_array().expect("rule steps");
    assert_eq!(steps.len(), rule_steps.len() + 1, "{steps:#?}");
    assert_eq!(&steps[1..], rule_steps.as_slice());
    let first = steps[0].as_str().expect("step");
    assert!(first.contains("magediag auth "), "{first}");
    assert!(first.contains("(keys-conflict)"), "{first}");
    let causes = d["causes"].to_string();
    assert_eq!(causes.matches("different key pairs").count(), 1, "{causes}");
    assert_eq!(
        causes.matches("The Cloud build uses").count(),
        1,
        "{causes}"
    );
    assert!(!d.to_string().contains("****"), "{d}");
}

/// Regression: the last-line redaction replaced any value of 6 characters or more, so a
/// username `composer` showed as `[redacted].json` and a password `magento` as
/// `repo.[redacted].com`, telling the reader both. A value that is not key-shaped must
/// leave the report exactly as any other value of its shape does.
#[test]
fn a_report_reveals_nothing_of_a_value_that_is_not_key_shaped() {
    let fingerprint = regex::Regex::new("…[0-9a-f]{8}").unwrap();
    let f = Fixture::new();
    let report = |user: &str, pass: &str, format: &str| {
        f.write("auth.json", &auth(user, pass));
        let (_, out) = run(f.cmd().args(["--format", format]));
        fingerprint.replace_all(&out, "…hash").into_owned()
    };
    for format in ["text", "json"] {
        let words = report("composer", "magento", format);
        assert!(!words.contains("[redacted]"), "{words}");
        assert_eq!(words, report("xqzvwkpj", "ybnrtlh", format), "{format}");
    }
}
