//! `magediag auth`: finds where Composer keys for repo.magento.com are configured and checks them.
//!
//! Looks at the global Composer `auth.json`, `COMPOSER_AUTH` of this machine, the Cloud
//! variable `env:COMPOSER_AUTH`, the project's `composer.json` and the project's
//! `auth.json`; reports which pair a Cloud build and a local run each use (see [`views`],
//! and [`precedence`] for the merge order and its citation), and flags malformed keys,
//! conflicts and committed secrets. Keys are only ever shown as [`fingerprint`]s.

mod cloud;
mod command;
mod findings;
mod git;
mod keys;
mod model;
mod online;
mod precedence;
mod project;
mod render;
mod sources;
mod views;

use std::path::Path;

pub use command::{AuthArgs, AuthOutcome, HELP, run};
pub use keys::fingerprint;
pub use model::{AuthReport, Check, KeySource, Place, PlaceReport, Severity, Verdict};
pub use project::{Sharpening, add_to_report, sharpening};

use sources::{Entry, Loaded, State};

#[cfg(test)]
/// Inspects a project without network access, as `magediag auth` does.
///
/// `env_composer_auth` is this machine's `COMPOSER_AUTH`; `global_home` is the Composer
/// home holding the global `auth.json`. The Cloud variable is read from
/// `.magento.app.yaml` if set there, and so is the Cloud build's Composer version.
pub fn inspect(
    project_dir: &Path,
    env_composer_auth: Option<&str>,
    global_home: Option<&Path>,
) -> AuthReport {
    let project = project::read_resolved(
        std::path::PathBuf::from(project_dir),
        None,
        env_composer_auth.map(str::to_string),
        global_home,
        None,
    );
    project::report(&project, None)
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
    let with_pair: Vec<&Loaded> = loaded.iter().filter(|l| l.pair().is_some()).collect();
    let pair_places: Vec<Place> = with_pair.iter().map(|l| l.place).collect();
    let verdict = precedence::verdict(&pair_places, None);
    let conflict = has_conflict(&with_pair).then(|| findings::keys_conflict(&with_pair, &verdict));
    let mut report = assemble(Path::new("(pasted)"), &loaded, verdict, &committed);
    report.findings.extend(conflict);
    report
}

/// Tells, for a place, whether its file is tracked by git and whether it is ignored.
type GitState<'a> = &'a dyn Fn(&Loaded) -> (Option<bool>, Option<bool>);

/// Assembles what every report has: per-place checks and findings, and the key sources.
fn assemble(dir: &Path, loaded: &[Loaded], verdict: Verdict, git: GitState<'_>) -> AuthReport {
    let mut findings = Vec::new();
    let mut places = Vec::new();
    for l in loaded {
        let (tracked, ignored) = git(l);
        findings.extend(findings::for_place(l));
        findings.extend(findings::for_git(l, tracked, ignored));
        findings.extend(findings::for_url_credentials(l));
        places.push(place_report(l, tracked));
    }
    AuthReport {
        project_dir: dir.to_path_buf(),
        places,
        key_sources: loaded.iter().filter_map(key_source).collect(),
        verdict,
        findings,
        online: Vec::new(),
        views: Vec::new(),
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

/// Reads the git index about the project file a place comes from: (tracked, ignored).
fn git_state(dir: &Path, l: &Loaded) -> (Option<bool>, Option<bool>) {
    let Some(name) = l.repo_file else {
        return (None, None);
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

/// Replaces any key that slipped into the output with `[redacted]`; a last line of defence.
///
/// Only values shaped like a key (32 letters and digits) are replaced: no word of a report
/// has that shape, so a replacement reveals nothing. Replacing a value of another shape,
/// such as a password `magento` in `repo.magento.com`, would tell the reader the value.
/// Such values never enter a report: keys reach it only as [`fingerprint`]s and shapes.
fn redact(mut text: String, loaded: &[Loaded]) -> String {
    for pair in loaded.iter().filter_map(|l| l.pair()) {
        for secret in [&pair.username, &pair.password] {
            let key_shaped = keys::is_well_formed(keys::classify(secret));
            if key_shaped && text.contains(secret.as_str()) {
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
        let loaded = vec![sources::load_env(
            Place::ComposerAuthEnv,
            Some(&auth(PUB, PRIV)),
            "test",
        )];
        let text = format!("oops {PUB} and {PRIV}");
        let clean = redact(text, &loaded);
        assert!(!clean.contains(PUB) && !clean.contains(PRIV));
        assert!(clean.contains("[redacted]"));
    }

    /// Regression: redact replaced any value of 6 characters or more, so a username
    /// `composer` showed as `[redacted].json`, telling the reader the username.
    #[test]
    fn redact_leaves_words_that_equal_a_value_of_another_shape() {
        let loaded = vec![sources::load_env(
            Place::ComposerAuthEnv,
            Some(&auth("composer", "magento")),
            "test",
        )];
        let text = "composer.json config, repo.magento.com".to_string();
        assert_eq!(redact(text.clone(), &loaded), text);
    }
}
