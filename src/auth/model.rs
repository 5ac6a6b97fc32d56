//! The serializable report produced by `magediag auth`: places, key sources, verdict, findings.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

/// One of the places Composer reads `repo.magento.com` keys from.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Place {
    /// `auth.json` in the Composer home (`$COMPOSER_HOME`, `~/.composer`, `~/.config/composer`).
    GlobalAuthJson,
    /// The `COMPOSER_AUTH` environment variable of this machine (a local run reads it).
    ComposerAuthEnv,
    /// The `env:COMPOSER_AUTH` variable of the Cloud project or environment, which a Cloud
    /// build reads as `COMPOSER_AUTH`: given with `--composer-auth`, or set in
    /// `.magento.app.yaml` (`variables: env: COMPOSER_AUTH`).
    CloudVariable,
    /// The `config.http-basic` section of the project's `composer.json`.
    ComposerJsonConfig,
    /// `auth.json` in the project root, next to `composer.json`.
    ProjectAuthJson,
}

impl Place {
    /// Returns a short human name for the place, used in the text report.
    pub fn label(self) -> &'static str {
        match self {
            Place::GlobalAuthJson => "global auth.json",
            Place::ComposerAuthEnv => "COMPOSER_AUTH",
            Place::CloudVariable => "env:COMPOSER_AUTH",
            Place::ComposerJsonConfig => "composer.json config",
            Place::ProjectAuthJson => "project auth.json",
        }
    }
}

/// How bad a finding is: errors make `magediag auth` exit with 1, warnings do not.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "AuthSeverity")]
pub enum Severity {
    /// Deployments fail or a secret leaked.
    Error,
    /// Suspicious but possibly fine.
    Warning,
}

/// A problem found, with a stable id other modules can match on and the steps to fix it.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable identifier such as `keys-conflict` or `username-is-email`.
    pub id: &'static str,
    /// Whether the finding counts as a problem (exit 1).
    pub severity: Severity,
    /// The place the finding is about, if it is about one place.
    pub place: Option<Place>,
    /// One or two sentences saying what is wrong; never contains a key.
    pub message: String,
    /// Numbered remediation steps, in order.
    pub steps: Vec<String>,
}

/// A place holding a `repo.magento.com` pair, shown only by fingerprints.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct KeySource {
    /// Which place holds the pair.
    pub place: Place,
    /// The file path, or a description such as `$COMPOSER_AUTH` or `stdin`.
    pub path: String,
    /// Fingerprint of the public key (the `username`).
    pub fingerprint_username: String,
    /// Fingerprint of the private key (the `password`).
    pub fingerprint_password: String,
}

/// One named check on one place, passed or failed.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `valid JSON`.
    pub name: &'static str,
    /// Whether the check passed.
    pub passed: bool,
}

/// Everything looked at for one place, whether or not it exists.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct PlaceReport {
    /// Which place this is.
    pub place: Place,
    /// The file path, or a description of where the value came from.
    pub path: String,
    /// Whether the file exists or the variable is set.
    pub found: bool,
    /// The checks run on it, in order.
    pub checks: Vec<Check>,
    /// Whether the file is tracked by git (`None`: not a file, not a work tree, or git missing).
    pub tracked_in_git: Option<bool>,
}

/// Which merge order applies, which depends on the Composer version.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Precedence {
    /// Composer 2.7.8 and later: `COMPOSER_AUTH` is applied last and wins.
    EnvLast,
    /// Composer before 2.7.8: the project `auth.json` is applied last and wins.
    ProjectFileLast,
    /// The Composer version is not known.
    Unknown,
}

/// Who runs Composer: a Cloud build or this machine. They read different places.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// The build on Magento Cloud: files committed to git, and `env:COMPOSER_AUTH`.
    CloudBuild,
    /// Composer run on this machine: the global `auth.json`, `COMPOSER_AUTH` in the
    /// environment, and the project's files whether committed or not.
    Local,
}

impl View {
    /// Returns the name of the view in the text report.
    pub fn label(self) -> &'static str {
        match self {
            View::CloudBuild => "Cloud build",
            View::Local => "Local run",
        }
    }
}

/// Whether a view reads a place.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Sight {
    /// The view reads it.
    Seen,
    /// The view does not read it (or it does not exist).
    NotSeen,
    /// It cannot be told here (no git index, or `env:COMPOSER_AUTH` not given).
    Unknown,
}

/// One place as a view sees it.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct ViewPlace {
    /// Which place.
    pub place: Place,
    /// Whether the view reads it.
    pub sight: Sight,
    /// Why, in a few words (`committed to git`, `not committed`, `not given`).
    pub why: String,
    /// Whether the place holds a `repo.magento.com` pair.
    pub has_pair: bool,
}

/// What a view's Composer answered for its pair with `--online`.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct ViewOnline {
    /// The answer.
    pub outcome: OnlineOutcome,
    /// The HTTP status, if there was one.
    pub status: Option<u16>,
}

/// Which pair one view uses, or what that depends on.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct ViewReport {
    /// Which view.
    pub view: View,
    /// Every place, as this view sees it.
    pub places: Vec<ViewPlace>,
    /// The Composer version assumed, if known.
    pub composer_version: Option<String>,
    /// Where the version came from (`--composer-version`, `.magento.app.yaml`).
    pub version_source: Option<String>,
    /// The merge order in force.
    pub precedence: Precedence,
    /// The place whose pair this view uses, when that is settled. `null` with an empty
    /// `candidates`: the view has no keys at all.
    pub used: Option<Place>,
    /// Fingerprint of the public key used, when known.
    pub fingerprint_username: Option<String>,
    /// Fingerprint of the private key used, when known.
    pub fingerprint_password: Option<String>,
    /// When `used` is not settled: the places that may win (`null` stands for "no keys").
    pub candidates: Vec<Option<Place>>,
    /// When `used` is not settled: what decides (`composer-version`, or a place whose
    /// presence cannot be told here).
    pub depends_on: Vec<String>,
    /// With `--online`: the answer for the pair used.
    pub online: Option<ViewOnline>,
}

/// Which place's pair Composer ends up using.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The Composer version the verdict assumes, if known.
    pub composer_version: Option<String>,
    /// Where the version came from (`--composer-version`, `.magento.app.yaml`).
    pub version_source: Option<String>,
    /// The merge order in force.
    pub precedence: Precedence,
    /// The place Composer uses, when it does not depend on an unknown version.
    pub used: Option<Place>,
    /// The place Composer 2.7.8 or later would use.
    pub used_by_2_7_8_or_later: Option<Place>,
    /// The place Composer before 2.7.8 would use.
    pub used_by_older: Option<Place>,
}

/// The result of inspecting a project: what `magediag auth` prints, as data
/// (`AuthOutput` in docs/magediag-1.schema.json).
#[derive(Serialize, JsonSchema, Clone, Debug)]
#[schemars(rename = "AuthOutput")]
pub struct AuthReport {
    /// The project directory inspected.
    pub project_dir: PathBuf,
    /// Every place looked at, lowest Composer precedence first.
    pub places: Vec<PlaceReport>,
    /// The places holding a `repo.magento.com` pair.
    pub key_sources: Vec<KeySource>,
    /// Which pair Composer uses.
    pub verdict: Verdict,
    /// Problems and warnings, each with remediation steps.
    pub findings: Vec<Finding>,
    /// Results of `--online` checks, one per distinct pair (empty without `--online`).
    pub online: Vec<OnlineResult>,
    /// Which pair a Cloud build and a local run use (empty for pasted configuration).
    pub views: Vec<ViewReport>,
}

impl AuthReport {
    /// Returns whether a finding with this id is present.
    pub fn has_finding(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }

    /// Returns whether any finding is an error (the command then exits with 1).
    pub fn has_problem(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Returns the number of different pairs configured, compared by fingerprint.
    pub fn distinct_pairs(&self) -> usize {
        let mut pairs: Vec<(&str, &str)> = self
            .key_sources
            .iter()
            .map(|k| {
                (
                    k.fingerprint_username.as_str(),
                    k.fingerprint_password.as_str(),
                )
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs.len()
    }
}

/// What the repository answered for one pair.
#[derive(Serialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OnlineOutcome {
    /// HTTP 200: the keys work.
    Accepted,
    /// HTTP 401: the keys are wrong, disabled or deleted.
    Rejected,
    /// HTTP 403: the keys are valid but not entitled to the packages.
    Forbidden,
    /// No HTTP answer (DNS, connection, TLS or timeout).
    Unreachable,
    /// Any other HTTP status.
    Unexpected,
}

/// The result of probing the repository with one pair.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct OnlineResult {
    /// Fingerprint of the public key tried.
    pub fingerprint_username: String,
    /// Fingerprint of the private key tried.
    pub fingerprint_password: String,
    /// The places that hold this pair.
    pub places: Vec<Place>,
    /// What the repository answered.
    pub outcome: OnlineOutcome,
    /// The HTTP status, if there was one.
    pub status: Option<u16>,
    /// The network error, if there was no HTTP answer.
    pub detail: Option<String>,
}
