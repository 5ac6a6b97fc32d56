//! `magediag auth`: finds where Composer keys for repo.magento.com are configured and checks them.
//!
//! Looks at the global Composer `auth.json`, `COMPOSER_AUTH`, the project's `composer.json`
//! and the project's `auth.json`; reports which pair Composer uses (see [`precedence`] for the
//! merge order and its citation), and flags malformed keys, conflicts and committed secrets.
//! Keys are only ever shown as [`fingerprint`]s.

mod findings;
mod git;
mod keys;
mod model;
mod online;
mod precedence;
mod render;
mod sources;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use findings::{CREATE_KEYS, STORE_IN_ENV};
pub use keys::fingerprint;
pub use model::{
    AuthReport, Check, Finding, KeySource, OnlineOutcome, OnlineResult, Place, PlaceReport,
    Precedence, Severity, Verdict,
};
pub use online::DEFAULT_REPO_URL;

use sources::{Entry, Loaded, State};

/// Output format of `magediag auth`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// The `AuthReport` as JSON.
    Json,
}

/// Command-line arguments of `magediag auth`.
#[derive(clap::Args, Debug, Clone)]
pub struct AuthArgs {
    /// Project root, where composer.json and auth.json live.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,
    /// Read COMPOSER_AUTH from stdin (`-`) or from a file instead of the environment.
    /// Inline JSON is refused so keys stay out of shell history.
    #[arg(long, value_name = "-|FILE")]
    pub composer_auth: Option<String>,
    /// Composer home holding the global auth.json [default: $COMPOSER_HOME, else
    /// ~/.config/composer or ~/.composer].
    #[arg(long, value_name = "DIR")]
    pub composer_home: Option<PathBuf>,
    /// Composer version the deployment runs, which decides whether COMPOSER_AUTH or
    /// auth.json wins [default: composer/composer in .magento.app.yaml].
    #[arg(long, value_name = "X.Y.Z")]
    pub composer_version: Option<String>,
    /// Also ask the repository whether each distinct pair is accepted (network access).
    #[arg(long)]
    pub online: bool,
    /// URL requested by --online.
    #[arg(long, value_name = "URL", default_value = DEFAULT_REPO_URL)]
    pub repo_url: String,
    /// Output format (the JSON is the `AuthReport`, see docs/json-schema.md).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What `magediag auth` concluded: exit code 0 or 1 (errors are exit code 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No error-level finding.
    Fine,
    /// At least one error-level finding.
    ProblemFound,
}

/// Where `COMPOSER_AUTH` came from, for the report.
struct EnvInput {
    /// The value, if any.
    value: Option<String>,
    /// How it is shown, e.g. `stdin (--composer-auth -)`.
    label: String,
}

/// Runs `magediag auth`, writes the report to `out`, returns whether a problem was found.
pub fn run(
    args: &AuthArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> anyhow::Result<AuthOutcome> {
    if !args.project_dir.is_dir() {
        bail!("{} is not a directory", args.project_dir.display());
    }
    let dir = &std::fs::canonicalize(&args.project_dir)
        .with_context(|| format!("cannot resolve {}", args.project_dir.display()))?;
    let env = composer_auth_input(args.composer_auth.as_deref(), stdin)?;
    let home = resolve_home(args.composer_home.as_deref());
    let loaded = collect(dir, env.value.as_deref(), &env.label, home.as_deref());
    let mut report = build_report(dir, &loaded, version_input(args, dir));
    if args.online {
        add_online(&mut report, &loaded, &args.repo_url);
    }
    let rendered = match args.format {
        // `--repo-url` may carry credentials (`http://u:PW@host?access_token=…`).
        Format::Text => render::text(&report, &crate::mask::mask(&args.repo_url)),
        Format::Json => render::json(&report)?,
    };
    out.write_all(redact(rendered, &loaded).as_bytes())
        .context("cannot write the report")?;
    Ok(if report.has_problem() {
        AuthOutcome::ProblemFound
    } else {
        AuthOutcome::Fine
    })
}

/// Inspects a project without network access; used to sharpen log diagnoses (`magediag --project DIR`).
///
/// `env_composer_auth` is the value of `COMPOSER_AUTH`; `global_home` is the Composer home
/// directory holding the global `auth.json`. The Composer version is read from `.magento.app.yaml`.
pub fn inspect(
    project_dir: &Path,
    env_composer_auth: Option<&str>,
    global_home: Option<&Path>,
) -> AuthReport {
    let loaded = collect(
        project_dir,
        env_composer_auth,
        "environment variable",
        global_home,
    );
    let version = precedence::detect_version(project_dir).map(|v| (v, ".magento.app.yaml".into()));
    build_report(project_dir, &loaded, version)
}

/// What `magediag auth DIR` finds at error level, for `magediag --project DIR`: read as
/// `auth` reads it (the same folder check, `COMPOSER_AUTH`, global `auth.json` and
/// Composer version), each message and step once, keys redacted as `auth` redacts them.
pub fn project_findings(dir: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let dir =
        &std::fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let env = std::env::var("COMPOSER_AUTH").ok();
    let home = resolve_home(None);
    let loaded = collect(dir, env.as_deref(), "environment variable", home.as_deref());
    let version = precedence::detect_version(dir).map(|v| (v, ".magento.app.yaml".into()));
    let report = build_report(dir, &loaded, version);
    let mut messages: Vec<String> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
    {
        let message = redact(f.message.clone(), &loaded);
        if !messages.contains(&message) {
            messages.push(message);
        }
        for step in &f.steps {
            let step = redact(step.clone(), &loaded);
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
    }
    Ok((messages, steps))
}

/// Reads `--composer-auth` (stdin or file) or else the `COMPOSER_AUTH` environment variable.
fn composer_auth_input(flag: Option<&str>, stdin: &mut dyn Read) -> anyhow::Result<EnvInput> {
    match flag {
        Some("-") => {
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .context("cannot read COMPOSER_AUTH from stdin")?;
            Ok(EnvInput {
                value: Some(text.trim().to_string()),
                label: "read from stdin".to_string(),
            })
        }
        Some(path) => read_composer_auth_file(path),
        None => Ok(EnvInput {
            value: std::env::var("COMPOSER_AUTH").ok(),
            label: "environment variable".to_string(),
        }),
    }
}

/// Reads `--composer-auth FILE`, refusing inline JSON and never echoing the argument.
fn read_composer_auth_file(path: &str) -> anyhow::Result<EnvInput> {
    let file = Path::new(path);
    if !file.is_file() {
        if path.trim_start().starts_with('{') {
            bail!(
                "--composer-auth takes `-` (stdin) or a file, not inline JSON: pipe the value so the keys stay out of shell history"
            );
        }
        bail!("--composer-auth: the file given does not exist or is not a file");
    }
    let value = crate::bounded::read_text(file, crate::bounded::CONFIG_CAP)
        .context("--composer-auth: cannot read the file given")?;
    Ok(EnvInput {
        value: Some(value.trim().to_string()),
        label: format!("read from {}", file.display()),
    })
}

/// Finds the Composer home: the flag, `$COMPOSER_HOME`, or the first existing of
/// `$XDG_CONFIG_HOME/composer` (default `~/.config/composer`) and `~/.composer`.
fn resolve_home(flag: Option<&Path>) -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = var("COMPOSER_HOME") {
        return Some(dir);
    }
    let home = var("HOME")?;
    let xdg = var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
    let candidates = [xdg.join("composer"), home.join(".composer")];
    let existing = candidates.iter().find(|d| d.is_dir()).cloned();
    existing.or_else(|| Some(home.join(".composer")))
}

/// Returns the Composer version and where it came from: the flag or `.magento.app.yaml`.
fn version_input(args: &AuthArgs, dir: &Path) -> Option<(String, String)> {
    match &args.composer_version {
        Some(v) => Some((v.clone(), "--composer-version".to_string())),
        None => precedence::detect_version(dir).map(|v| (v, ".magento.app.yaml".to_string())),
    }
}

/// Reads every place, in display order (lowest precedence in old Composer first).
fn collect(
    dir: &Path,
    env: Option<&str>,
    env_label: &str,
    global_home: Option<&Path>,
) -> Vec<Loaded> {
    precedence::display_order()
        .into_iter()
        .map(|place| match place {
            Place::GlobalAuthJson => load_global(global_home),
            Place::ComposerAuthEnv => sources::load_env(env, env_label),
            Place::ComposerJsonConfig => sources::load_file(place, &dir.join("composer.json")),
            Place::ProjectAuthJson => sources::load_file(place, &dir.join("auth.json")),
        })
        .collect()
}

/// Reads the global `auth.json`, or records that no Composer home could be determined.
fn load_global(home: Option<&Path>) -> Loaded {
    match home {
        Some(dir) => sources::load_file(Place::GlobalAuthJson, &dir.join("auth.json")),
        None => Loaded {
            place: Place::GlobalAuthJson,
            path: "(no Composer home: neither COMPOSER_HOME nor HOME is set)".to_string(),
            state: State::NotFound,
            url_credentials: Vec::new(),
        },
    }
}

/// Composer configuration pasted into a ticket: the text, and what it was pasted as.
#[derive(Debug, Clone)]
pub struct PastedConfig {
    /// Which place the text stands for.
    pub place: Place,
    /// Where it came from, shown in findings (e.g. `auth.json pasted in the ticket`).
    pub label: String,
    /// The JSON text (a whole file or variable value, or a fragment of `composer.json`).
    pub text: String,
    /// Whether the file is committed to git, when the ticket says (or implies) so.
    pub committed: Option<bool>,
}

/// Runs the checks of `magediag auth` on configuration pasted into a ticket: the support
/// engineer has no repository, only the paste. Nothing is read from disk or git, and no
/// "keys missing" finding is made (a paste shows only some of the places).
pub fn inspect_pasted(pasted: &[PastedConfig]) -> AuthReport {
    let loaded: Vec<Loaded> = pasted
        .iter()
        .map(|p| sources::load_text(p.place, &p.text, &p.label))
        .collect();
    let committed = |l: &Loaded| -> (Option<bool>, Option<bool>) {
        let item = pasted
            .iter()
            .find(|p| p.label == l.path && p.place == l.place);
        (item.and_then(|p| p.committed), None)
    };
    let mut report = assemble(Path::new("(pasted)"), &loaded, None, &committed);
    report.findings.retain(|f| f.id != "keys-missing");
    report
}

/// Tells, for a place, whether its file is tracked by git and whether it is ignored.
type GitState<'a> = &'a dyn Fn(&Loaded) -> (Option<bool>, Option<bool>);

/// Assembles the report of a project folder (git state read from its index).
fn build_report(dir: &Path, loaded: &[Loaded], version: Option<(String, String)>) -> AuthReport {
    assemble(dir, loaded, version, &|l| git_state(dir, l))
}

/// Assembles the report: per-place checks and findings, then verdict, conflict and absence.
fn assemble(
    dir: &Path,
    loaded: &[Loaded],
    version: Option<(String, String)>,
    git: GitState<'_>,
) -> AuthReport {
    let with_pair: Vec<&Loaded> = loaded.iter().filter(|l| l.pair().is_some()).collect();
    let pair_places: Vec<Place> = with_pair.iter().map(|l| l.place).collect();
    let verdict = precedence::verdict(&pair_places, version);
    let mut findings = Vec::new();
    let mut places = Vec::new();
    for l in loaded {
        let (tracked, ignored) = git(l);
        findings.extend(findings::for_place(l));
        findings.extend(findings::for_git(l, tracked, ignored));
        findings.extend(findings::for_url_credentials(l));
        places.push(place_report(l, tracked));
    }
    if with_pair.is_empty() {
        findings.push(findings::keys_missing(loaded));
    } else if has_conflict(&with_pair) {
        findings.push(findings::keys_conflict(&with_pair, &verdict));
    }
    AuthReport {
        project_dir: dir.to_path_buf(),
        places,
        key_sources: with_pair.iter().filter_map(|l| key_source(l)).collect(),
        verdict,
        findings,
        online: Vec::new(),
    }
}

/// Returns whether the places hold more than one distinct pair.
fn has_conflict(with_pair: &[&Loaded]) -> bool {
    let mut pairs = with_pair.iter().filter_map(|l| l.pair());
    match pairs.next() {
        Some(first) => pairs.any(|p| p != first),
        None => false,
    }
}

/// Asks git about project files that hold keys: (tracked, ignored).
fn git_state(dir: &Path, l: &Loaded) -> (Option<bool>, Option<bool>) {
    let name = match l.place {
        Place::ProjectAuthJson => "auth.json",
        Place::ComposerJsonConfig => "composer.json",
        _ => return (None, None),
    };
    if l.state == State::NotFound {
        return (None, None);
    }
    let tracked = git::is_tracked(dir, name);
    let ignored = match (l.place, tracked) {
        (Place::ProjectAuthJson, Some(false)) => git::is_ignored(dir, name),
        _ => None,
    };
    (tracked, ignored)
}

/// Builds the key source for a place holding a pair.
fn key_source(l: &Loaded) -> Option<KeySource> {
    let pair = l.pair()?;
    Some(KeySource {
        place: l.place,
        path: l.path.clone(),
        fingerprint_username: fingerprint(&pair.username),
        fingerprint_password: fingerprint(&pair.password),
    })
}

/// Lists the checks run on one place, passed or failed.
fn place_report(l: &Loaded, tracked: Option<bool>) -> PlaceReport {
    let mut checks = Vec::new();
    let check = |name, passed| Check { name, passed };
    match &l.state {
        State::NotFound => {}
        State::Unreadable(_) => checks.push(check("readable", false)),
        State::InvalidJson { .. } => checks.push(check("valid JSON", false)),
        State::Parsed(entry) => {
            checks.push(check("valid JSON", true));
            checks.extend(entry_checks(l.place, entry));
        }
    }
    if l.pair().is_some()
        && let Some(t) = tracked
    {
        checks.push(check("not committed to git", !t));
    }
    PlaceReport {
        place: l.place,
        path: l.path.clone(),
        found: l.state != State::NotFound,
        checks,
        tracked_in_git: tracked,
    }
}

/// The entry and key-format checks for a parsed place. No entry is no failure: keys
/// belong in one place only, and `composer.json` (committed) should hold none.
fn entry_checks(place: Place, entry: &Entry) -> Vec<Check> {
    let pair = match entry {
        Entry::Pair(pair) => pair,
        Entry::Absent => {
            let name = if place == Place::ComposerJsonConfig {
                "no keys (as it should be)"
            } else {
                "no repo.magento.com entry"
            };
            return vec![Check { name, passed: true }];
        }
        Entry::Misplaced(_) | Entry::Malformed(_) => {
            return vec![Check {
                name: "repo.magento.com entry",
                passed: false,
            }];
        }
    };
    let ok = |v: &str| keys::is_well_formed(keys::classify(v));
    vec![
        Check {
            name: "repo.magento.com entry",
            passed: true,
        },
        Check {
            name: "username format",
            passed: ok(&pair.username),
        },
        Check {
            name: "password format",
            passed: ok(&pair.password) && pair.password != pair.username,
        },
    ]
}

/// Probes the repository once per distinct pair and adds the results and findings.
fn add_online(report: &mut AuthReport, loaded: &[Loaded], url: &str) {
    let mut groups: Vec<(&keys::Pair, Vec<Place>)> = Vec::new();
    for l in loaded {
        let Some(pair) = l.pair() else { continue };
        match groups.iter_mut().find(|(p, _)| *p == pair) {
            Some((_, places)) => places.push(l.place),
            None => groups.push((pair, vec![l.place])),
        }
    }
    report.online = groups
        .into_iter()
        .map(|(pair, places)| online::probe(url, pair, places))
        .collect();
    report.findings.extend(findings::for_online(
        &report.online,
        &crate::mask::mask(url),
    ));
}

/// Replaces any key that slipped into the output with `[redacted]`; a last line of defence.
fn redact(mut text: String, loaded: &[Loaded]) -> String {
    const MIN_SECRET_LEN: usize = 6;
    for pair in loaded.iter().filter_map(|l| l.pair()) {
        for secret in [&pair.username, &pair.password] {
            if secret.len() >= MIN_SECRET_LEN && text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str = "0123456789abcdef0123456789abcdef";
    const PRIV: &str = "fedcba9876543210fedcba9876543210";

    fn auth(user: &str, pass: &str) -> String {
        format!(
            r#"{{"http-basic":{{"repo.magento.com":{{"username":"{user}","password":"{pass}"}}}}}}"#
        )
    }

    #[test]
    fn inspect_reports_sources_and_conflict() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("auth.json"), auth(PUB, PRIV)).expect("write");
        let env = auth(PRIV, PUB);
        let report = inspect(dir.path(), Some(&env), None);
        assert_eq!(report.key_sources.len(), 2);
        assert_eq!(report.distinct_pairs(), 2);
        assert!(report.has_finding("keys-conflict"));
        assert!(report.has_problem());
        assert_eq!(report.verdict.used_by_older, Some(Place::ProjectAuthJson));
        assert_eq!(
            report.verdict.used_by_2_7_8_or_later,
            Some(Place::ComposerAuthEnv)
        );
    }

    #[test]
    fn inspect_is_fine_with_one_good_pair() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(home.path().join("auth.json"), auth(PUB, PRIV)).expect("write");
        let report = inspect(dir.path(), None, Some(home.path()));
        assert!(!report.has_problem(), "{:?}", report.findings);
        assert_eq!(report.verdict.used, Some(Place::GlobalAuthJson));
    }

    #[test]
    fn pasted_config_finds_two_pairs_a_committed_file_and_url_credentials() {
        let pasted = |place, label: &str, text: String, committed| PastedConfig {
            place,
            label: label.into(),
            text,
            committed,
        };
        let composer = r#"{"repositories": [{"type": "composer", "url": "https://someone:pa55word@repo.magento.com"}]}"#;
        let report = inspect_pasted(&[
            pasted(
                Place::ComposerAuthEnv,
                "env:COMPOSER_AUTH",
                auth(PUB, PRIV),
                None,
            ),
            pasted(
                Place::ProjectAuthJson,
                "auth.json",
                auth(PRIV, PUB),
                Some(true),
            ),
            pasted(
                Place::ComposerJsonConfig,
                "composer.json",
                composer.into(),
                None,
            ),
        ]);
        assert!(report.has_finding("keys-conflict"));
        assert!(report.has_finding("auth-json-tracked"));
        assert!(report.has_finding("credentials-in-repository-url"));
        assert!(!report.has_finding("keys-missing"));
        let shown = format!("{:?}", report.findings);
        assert!(
            !shown.contains(PUB) && !shown.contains("pa55word"),
            "{shown}"
        );
    }

    #[test]
    fn one_pasted_pair_alone_is_fine() {
        let report = inspect_pasted(&[PastedConfig {
            place: Place::ComposerAuthEnv,
            label: "env:COMPOSER_AUTH".into(),
            text: auth(PUB, PRIV),
            committed: None,
        }]);
        assert!(!report.has_problem(), "{:?}", report.findings);
    }

    #[test]
    fn inspect_flags_missing_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = inspect(dir.path(), Some(""), None);
        assert!(report.has_finding("keys-missing"));
    }

    #[test]
    fn redact_removes_keys_that_slipped_through() {
        let loaded = vec![sources::load_env(Some(&auth(PUB, PRIV)), "test")];
        let text = format!("oops {PUB} and {PRIV}");
        let clean = redact(text, &loaded);
        assert!(!clean.contains(PUB) && !clean.contains(PRIV));
        assert!(clean.contains("[redacted]"));
    }

    #[test]
    fn inline_json_is_refused_without_echo() {
        let Err(err) = read_composer_auth_file(&auth(PUB, PRIV)) else {
            panic!("inline JSON was accepted");
        };
        let shown = format!("{err:#}");
        assert!(shown.contains("inline JSON"));
        assert!(!shown.contains(PUB) && !shown.contains(PRIV));
    }

    #[test]
    fn composer_home_flag_wins() {
        let dir = Path::new("/some/where");
        assert_eq!(resolve_home(Some(dir)).as_deref(), Some(dir));
    }
}
