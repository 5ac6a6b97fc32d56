//! Which place's keys Composer uses: the merge order and the Composer version it depends on.
//!
//! Composer merges auth configuration in this order, later entries replacing earlier ones for
//! the same host (`Config::merge` does an `array_merge` per `http-basic` host):
//!
//! 1. `Factory::createConfig()` merges the global `$COMPOSER_HOME/auth.json`, then the
//!    `COMPOSER_AUTH` environment variable.
//! 2. `Factory::createComposer()` calls `createConfig()`, then merges the project's
//!    `composer.json` (its `config.http-basic`), then the project's `auth.json`.
//!
//! Up to Composer 2.7.7 that is the end, so the project `auth.json` wins; see
//! <https://github.com/composer/composer/blob/2e924c1bf0b774b6ecc5b1086ec03eb6860d83a5/src/Composer/Factory.php>
//! (`createConfig` and `createComposer`). Composer 2.7.8 changed it: "Fixed COMPOSER_AUTH not
//! taking precedence over ./auth.json (#12084)" (CHANGELOG.md, 2024-08-22,
//! <https://github.com/composer/composer/issues/12084>); `createComposer()` now applies
//! `COMPOSER_AUTH` again (`loadComposerAuthEnv`) after the local `auth.json`, so the
//! variable wins. See `docs/auth.md`.

use regex::Regex;

use super::model::{Place, Precedence, Verdict};

/// The first Composer release in which `COMPOSER_AUTH` overrides the project `auth.json`.
const ENV_WINS_SINCE: (u64, u64, u64) = (2, 7, 8);

/// Merge order for Composer 2.7.8 and later, lowest precedence first. The Cloud variable
/// is `COMPOSER_AUTH` as the build sees it; no view reads both variables.
const ORDER_ENV_LAST: [Place; 5] = [
    Place::GlobalAuthJson,
    Place::ComposerJsonConfig,
    Place::ProjectAuthJson,
    Place::ComposerAuthEnv,
    Place::CloudVariable,
];

/// Merge order for Composer before 2.7.8, lowest precedence first.
const ORDER_PROJECT_LAST: [Place; 5] = [
    Place::GlobalAuthJson,
    Place::ComposerAuthEnv,
    Place::CloudVariable,
    Place::ComposerJsonConfig,
    Place::ProjectAuthJson,
];

/// Returns the places in the order the report lists them (the pre-2.7.8 merge order).
pub fn display_order() -> [Place; 5] {
    ORDER_PROJECT_LAST
}

/// Returns the place whose pair wins under a merge order, given the places holding a pair.
pub fn winner_under(precedence: Precedence, with_pair: &[Place]) -> Option<Place> {
    match precedence {
        Precedence::EnvLast => winner(&ORDER_ENV_LAST, with_pair),
        Precedence::ProjectFileLast | Precedence::Unknown => winner(&ORDER_PROJECT_LAST, with_pair),
    }
}

/// Decides the merge order from a version string such as `2.2.21`, `v2.7.8` or `2.2.*`.
pub fn precedence_for(version: &str) -> Precedence {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let parts: Vec<&str> = v.split('.').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u64>().ok());
    let (Some(major), Some(minor)) = (num(0), num(1)) else {
        return Precedence::Unknown;
    };
    let patch = match parts.get(2) {
        Some(&"*") | Some(&"x") => None,
        Some(p) => match p.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return Precedence::Unknown,
        },
        None => None,
    };
    compare(major, minor, patch)
}

/// Compares a version (patch unknown for `X.Y.*`) with 2.7.8.
fn compare(major: u64, minor: u64, patch: Option<u64>) -> Precedence {
    let (m, n, p) = ENV_WINS_SINCE;
    match patch {
        Some(patch) if (major, minor, patch) >= (m, n, p) => Precedence::EnvLast,
        Some(_) => Precedence::ProjectFileLast,
        None if (major, minor) > (m, n) => Precedence::EnvLast,
        None if (major, minor) < (m, n) => Precedence::ProjectFileLast,
        None => Precedence::Unknown,
    }
}

/// The Composer version pinned in `.magento.app.yaml` text (`composer/composer: '2.2.21'`).
pub fn version_in(text: &str) -> Option<String> {
    let re = Regex::new(r#"(?m)^\s*["']?composer/composer["']?\s*:\s*["']?([^"'\s#]+)"#).ok()?;
    re.captures(text).map(|c| c[1].to_string())
}

/// Returns the place whose pair wins under an order, given the places that hold a pair.
fn winner(order: &[Place; 5], with_pair: &[Place]) -> Option<Place> {
    order.iter().rev().copied().find(|p| with_pair.contains(p))
}

/// Builds the verdict for the places holding a pair and an optional version.
pub fn verdict(with_pair: &[Place], version: Option<(String, String)>) -> Verdict {
    let precedence = version
        .as_ref()
        .map_or(Precedence::Unknown, |(v, _)| precedence_for(v));
    let newer = winner(&ORDER_ENV_LAST, with_pair);
    let older = winner(&ORDER_PROJECT_LAST, with_pair);
    let used = match precedence {
        Precedence::EnvLast => newer,
        Precedence::ProjectFileLast => older,
        Precedence::Unknown if newer == older => newer,
        Precedence::Unknown => None,
    };
    let (composer_version, version_source) = version.unzip();
    Verdict {
        composer_version,
        version_source,
        precedence,
        used,
        used_by_2_7_8_or_later: newer,
        used_by_older: older,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_2_7_8_let_the_project_file_win() {
        for v in ["2.2.21", "v2.7.7", "2.2.*", "1.10.26", "2.6"] {
            assert_eq!(precedence_for(v), Precedence::ProjectFileLast, "{v}");
        }
    }

    #[test]
    fn versions_from_2_7_8_let_the_variable_win() {
        for v in ["2.7.8", "2.8.1", "2.8.*", "3.0.0"] {
            assert_eq!(precedence_for(v), Precedence::EnvLast, "{v}");
        }
    }

    #[test]
    fn constraints_are_unknown() {
        for v in ["^2.2", "2.7.*", "~2.7", "latest", "2"] {
            assert_eq!(precedence_for(v), Precedence::Unknown, "{v}");
        }
    }

    #[test]
    fn project_file_wins_over_env_in_older_composer() {
        let places = [Place::ComposerAuthEnv, Place::ProjectAuthJson];
        let v = verdict(&places, Some(("2.2.21".into(), "test".into())));
        assert_eq!(v.used, Some(Place::ProjectAuthJson));
        let v = verdict(&places, Some(("2.8.0".into(), "test".into())));
        assert_eq!(v.used, Some(Place::ComposerAuthEnv));
    }

    #[test]
    fn unknown_version_gives_an_answer_only_when_both_orders_agree() {
        let v = verdict(&[Place::ComposerAuthEnv, Place::ProjectAuthJson], None);
        assert_eq!(v.used, None);
        let v = verdict(&[Place::GlobalAuthJson, Place::ProjectAuthJson], None);
        assert_eq!(v.used, Some(Place::ProjectAuthJson));
    }

    #[test]
    fn reads_version_from_magento_app_yaml() {
        let yaml =
            "name: mymagento\ndependencies:\n    php:\n        composer/composer: '2.2.21'\n";
        assert_eq!(version_in(yaml).as_deref(), Some("2.2.21"));
    }
}
