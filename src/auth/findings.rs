//! Turns what was read into findings, each with a stable id, a message and remediation steps.

use super::keys::{self, Pair, Shape};
use super::model::{
    Finding, KeySource, OnlineOutcome, OnlineResult, Place, Severity, Verdict, View, ViewReport,
};
use super::sources::{Entry, Loaded, State};

/// The JSON shape Composer expects, with placeholders instead of keys.
const EXPECTED_SHAPE: &str = r#"{"http-basic": {"repo.magento.com": {"username": "<public key>", "password": "<private key>"}}}"#;

/// Where new keys come from, written once so every remedy says the same.
pub const CREATE_KEYS: &str = "Sign in to the Commerce Marketplace with the MAGEID that holds the licence (usually the Primary Contact), open My Profile > Access Keys and create a new access key; the public key is the username, the private key the password.";

/// How to store keys on Magento Cloud.
pub const STORE_IN_ENV: &str = "Store the pair in the env:COMPOSER_AUTH project variable (sensitive, visible at build), in the Project Web Interface or with `magento-cloud variable:update`, using the shape {\"http-basic\": {\"repo.magento.com\": {\"username\": \"<public key>\", \"password\": \"<private key>\"}}}.";

/// The step that asks which pair is valid, before `--online` has run.
const VERIFY_OFFLINE: &str = "Find out which pair is valid: run `magediag auth --online`, or ask the Primary Contact which keys are current.";

/// The step that suggests `--online` for one pair, before it has run.
const ASK_ONLINE: &str =
    "Run `magediag auth --online` to see whether the repository accepts the pair.";

/// Once `--online` has run, replaces the steps that suggest running it with what it found.
pub fn online_ran(findings: &mut [Finding], results: Option<&[OnlineResult]>) {
    let Some(results) = results else {
        return;
    };
    for f in findings.iter_mut() {
        for step in &mut f.steps {
            if step == VERIFY_OFFLINE {
                *step = verify_online(results);
            } else if step == ASK_ONLINE {
                *step = "The online check above says whether the repository accepts the pair."
                    .to_string();
            }
        }
    }
}

/// What the online check says about which pair to keep.
fn verify_online(results: &[OnlineResult]) -> String {
    let accepted: Vec<String> = results
        .iter()
        .filter(|r| r.outcome == OnlineOutcome::Accepted)
        .map(|r| {
            let places: Vec<&str> = r.places.iter().map(|p| p.label()).collect();
            format!(
                "{} / {} ({})",
                r.fingerprint_username,
                r.fingerprint_password,
                places.join(", ")
            )
        })
        .collect();
    if !accepted.is_empty() {
        format!(
            "The online check accepted {}: keep that pair and put it where the Cloud build reads it.",
            accepted.join(" and ")
        )
    } else if results
        .iter()
        .all(|r| r.outcome == OnlineOutcome::Unreachable)
    {
        "The online check could not reach the repository: ask the Primary Contact which keys are current.".to_string()
    } else {
        "The online check accepted none of the pairs: create a new pair (next step).".to_string()
    }
}

/// Builds a finding.
fn finding(
    id: &'static str,
    severity: Severity,
    place: Option<Place>,
    message: String,
    steps: &[&str],
) -> Finding {
    Finding {
        id,
        severity,
        place,
        message,
        steps: steps.iter().map(|s| s.to_string()).collect(),
    }
}

/// Names a place with its path for messages.
fn named(l: &Loaded) -> String {
    format!("{} ({})", l.place.label(), l.path)
}

/// Names what to edit for a place: the variable or the file path.
fn target(l: &Loaded) -> String {
    if matches!(l.place, Place::ComposerAuthEnv | Place::CloudVariable) && l.repo_file.is_none() {
        "the env:COMPOSER_AUTH variable".to_string()
    } else {
        l.path.clone()
    }
}

/// Findings about one place: unreadable, invalid JSON, misplaced or malformed entries, key shapes.
pub fn for_place(l: &Loaded) -> Vec<Finding> {
    match &l.state {
        State::NotFound | State::Parsed(Entry::Absent) => Vec::new(),
        State::Unreadable(err) => vec![unreadable(l, err)],
        State::InvalidJson {
            line,
            column,
            message,
        } => vec![invalid_json(l, *line, *column, message)],
        State::Parsed(Entry::Misplaced(why)) => vec![entry_problem(l, "entry-misplaced", why)],
        State::Parsed(Entry::Malformed(why)) => vec![entry_problem(l, "malformed-entry", why)],
        State::Parsed(Entry::Pair(pair)) => key_shapes(l, pair),
    }
}

/// The place exists but cannot be read.
fn unreadable(l: &Loaded, err: &str) -> Finding {
    let message = format!("{} exists but cannot be read: {err}.", named(l));
    let steps = ["Check the file's permissions and that it is a regular file."];
    finding(
        "unreadable-file",
        Severity::Error,
        Some(l.place),
        message,
        &steps,
    )
}

/// The place is not valid JSON.
fn invalid_json(l: &Loaded, line: usize, column: usize, what: &str) -> Finding {
    let effect = if matches!(l.place, Place::ComposerAuthEnv | Place::CloudVariable) {
        "Composer stops with \"COMPOSER_AUTH environment variable is malformed\" (before 2.5 it prints that and goes on without the variable)"
    } else {
        "Composer stops with a parse error"
    };
    let message = format!(
        "{} is not valid JSON: {what} at line {line}, column {column}. {effect}.",
        named(l)
    );
    let fix = format!(
        "Fix the syntax at line {line}, column {column}: a trailing comma, a missing quote or an unbalanced brace are the usual causes."
    );
    let check = "Check the result with `jq . FILE` or `python3 -m json.tool FILE` before committing or saving the variable.";
    finding(
        "invalid-json",
        Severity::Error,
        Some(l.place),
        message,
        &[&fix, check],
    )
}

/// The entry exists but Composer will not use it.
fn entry_problem(l: &Loaded, id: &'static str, why: &str) -> Finding {
    let message = format!("In {}, {why}, so Composer cannot use these keys.", named(l));
    let fix = format!("Rewrite the entry with this shape: {EXPECTED_SHAPE}");
    finding(id, Severity::Error, Some(l.place), message, &[&fix])
}

/// Findings about the shape of the username and password of one pair.
fn key_shapes(l: &Loaded, pair: &Pair) -> Vec<Finding> {
    if let Some(f) = username_mistake(l, keys::classify(&pair.username)) {
        // The password is then most likely an account password: one finding covers both.
        return vec![f];
    }
    let mut out = Vec::new();
    out.extend(shape_finding(l, "username", keys::classify(&pair.username)));
    out.extend(shape_finding(l, "password", keys::classify(&pair.password)));
    if !pair.username.is_empty() && pair.username == pair.password {
        let message = format!(
            "In {}, the username and the password are the same; a Marketplace pair has two different keys.",
            named(l)
        );
        out.push(finding(
            "malformed-key",
            Severity::Error,
            Some(l.place),
            message,
            &[CREATE_KEYS],
        ));
    }
    out
}

/// The classic mistakes: an e-mail address or a MAGEID as the username.
fn username_mistake(l: &Loaded, shape: Shape) -> Option<Finding> {
    let (id, what) = match shape {
        Shape::Email => (
            "username-is-email",
            "an e-mail address, i.e. a Marketplace login",
        ),
        Shape::MageId => ("username-is-mageid", "a MAGEID, i.e. an account id"),
        _ => return None,
    };
    let message = format!(
        "In {}, the username looks like {what}, not an access key. Composer needs the 32-character public key as username and the private key as password.",
        named(l)
    );
    let replace = format!(
        "Replace both values in {} with the public and private key.",
        target(l)
    );
    let steps = [
        CREATE_KEYS,
        &replace,
        "If the password held an account password, change that password: it was stored in clear text.",
    ];
    Some(finding(id, Severity::Error, Some(l.place), message, &steps))
}

/// A malformed (error) or unusual (warning) key shape.
fn shape_finding(l: &Loaded, field: &str, shape: Shape) -> Option<Finding> {
    if shape == Shape::Marketplace {
        return None;
    }
    let described = keys::describe(shape);
    if shape == Shape::Alphanumeric {
        let message = format!(
            "In {}, the {field} {described}; Marketplace keys are lowercase hex, so check it for a typo.",
            named(l)
        );
        let steps = [
            "Compare it with the key shown in Marketplace > My Profile > Access Keys.",
            ASK_ONLINE,
        ];
        return Some(finding(
            "key-not-hex",
            Severity::Warning,
            Some(l.place),
            message,
            &steps,
        ));
    }
    let message = format!(
        "In {}, the {field} {described}; Marketplace keys are exactly {} letters and digits.",
        named(l),
        keys::KEY_LEN
    );
    let copy = format!(
        "Copy the key again from Marketplace > My Profile > Access Keys, without spaces or line breaks, into {}.",
        target(l)
    );
    Some(finding(
        "malformed-key",
        Severity::Error,
        Some(l.place),
        message,
        &[&copy],
    ))
}

/// The steps to rotate a leaked pair, ending with how to stop tracking `file`.
fn rotation_steps(untrack: &str) -> Vec<String> {
    vec![
        CREATE_KEYS.to_string(),
        STORE_IN_ENV.to_string(),
        "In Marketplace > My Profile > Access Keys, disable the leaked pair (then delete it once nothing uses it).".to_string(),
        untrack.to_string(),
        "The old pair stays in the git history; once it is disabled that is harmless, but rewrite the history (e.g. with git filter-repo) if your policy requires it.".to_string(),
    ]
}

/// The project `auth.json` or `composer.json` with keys is committed, or `auth.json` is not ignored.
pub fn for_git(l: &Loaded, tracked: Option<bool>, ignored: Option<bool>) -> Option<Finding> {
    l.pair()?;
    match (l.place, tracked, ignored) {
        (Place::ProjectAuthJson, Some(true), _) => Some(leaked(
            l,
            "auth-json-tracked",
            "Stop tracking the file: `git rm --cached auth.json`, add `auth.json` to .gitignore, commit and push.",
        )),
        (Place::ComposerJsonConfig, Some(true), _) => Some(leaked(
            l,
            "keys-in-composer-json",
            "Remove config.http-basic.repo.magento.com from composer.json, then commit and push.",
        )),
        (Place::CloudVariable, Some(true), _) => Some(leaked(
            l,
            "keys-in-app-yaml",
            "Remove COMPOSER_AUTH from the variables of .magento.app.yaml, then commit and push.",
        )),
        (Place::ProjectAuthJson, Some(false), Some(false)) => Some(not_ignored(l)),
        _ => None,
    }
}

/// `composer.json` names a repository by a URL with `user:password@` in it.
pub fn for_url_credentials(l: &Loaded) -> Vec<Finding> {
    l.url_credentials
        .iter()
        .map(|host| {
            let message = format!(
                "{} has a user name and password inside the URL of the repository {host}: everyone who can read the file has them, and they end up in composer.lock and in logs. Treat them as leaked.",
                named(l)
            );
            let remove = format!(
                "Remove `user:password@` from the repository URL in composer.json so that it reads `https://{host}/`, then commit and push."
            );
            Finding {
                id: "credentials-in-repository-url",
                severity: Severity::Error,
                place: Some(l.place),
                message,
                steps: rotation_steps(&remove),
            }
        })
        .collect()
}

/// A committed file holds the keys: they must be rotated.
fn leaked(l: &Loaded, id: &'static str, untrack: &str) -> Finding {
    let message = format!(
        "{} holds repo.magento.com keys and is committed to git: everyone with access to the repository has the keys. Treat them as leaked and rotate them.",
        named(l)
    );
    Finding {
        id,
        severity: Severity::Error,
        place: Some(l.place),
        message,
        steps: rotation_steps(untrack),
    }
}

/// The project `auth.json` is not committed yet, but nothing stops `git add -A` from doing it.
fn not_ignored(l: &Loaded) -> Finding {
    let message = format!(
        "{} is not committed, but .gitignore does not exclude it; a `git add -A` would commit the keys.",
        named(l)
    );
    finding(
        "auth-json-not-ignored",
        Severity::Warning,
        Some(l.place),
        message,
        &["Add `auth.json` to .gitignore."],
    )
}

/// No usable pair anywhere.
pub fn keys_missing(places_checked: &[Loaded]) -> Finding {
    let looked: Vec<String> = places_checked.iter().map(named).collect();
    let message = format!(
        "No usable repo.magento.com keys were found (looked at: {}).",
        looked.join(", ")
    );
    let steps = [
        "If the keys are only in the Cloud project variable, check that value too: `magento-cloud variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth -`.",
        CREATE_KEYS,
        STORE_IN_ENV,
    ];
    finding("keys-missing", Severity::Error, None, message, &steps)
}

/// Several different pairs: say which one Composer uses and how to keep only one.
pub fn keys_conflict(with_pair: &[&Loaded], verdict: &Verdict) -> Finding {
    let distinct = count_distinct(with_pair.iter().copied());
    let places: Vec<String> = with_pair.iter().map(|l| named(l)).collect();
    let message = format!(
        "{distinct} different key pairs are configured ({}). {}",
        places.join(", "),
        which_is_used(verdict)
    );
    conflict_finding(message)
}

/// Findings about which pair each view uses: no keys where the Cloud build looks,
/// different pairs within one view (a conflict), or different pairs in the two views.
pub fn for_views(
    loaded: &[Loaded],
    views: &[ViewReport],
    sources: &[KeySource],
    online: Option<&[OnlineResult]>,
) -> Vec<Finding> {
    let with_pair: Vec<&Loaded> = loaded.iter().filter(|l| l.pair().is_some()).collect();
    if with_pair.is_empty() {
        return vec![keys_missing(loaded)];
    }
    let mut out = Vec::new();
    let conflicted: Vec<&ViewReport> = views
        .iter()
        .filter(|v| count_distinct(pairs_of(v, loaded).into_iter()) > 1)
        .collect();
    let cloud = views.iter().find(|v| v.view == View::CloudBuild);
    if let Some(c) = cloud
        && c.used.is_none()
        && c.candidates.is_empty()
    {
        out.push(cloud_has_none(c, loaded));
    }
    if !conflicted.is_empty() {
        let involved: Vec<&Loaded> = with_pair
            .iter()
            .copied()
            .filter(|l| {
                conflicted
                    .iter()
                    .any(|v| pairs_of(v, loaded).iter().any(|p| p.place == l.place))
            })
            .collect();
        let distinct = count_distinct(involved.iter().copied());
        let places: Vec<String> = involved.iter().map(|l| named(l)).collect();
        let uses: Vec<String> = views.iter().map(|v| describe_use(v, sources)).collect();
        let message = format!(
            "{distinct} different key pairs are configured ({}). {}",
            places.join(", "),
            uses.join(" ")
        );
        out.push(conflict_finding(message));
    } else if let [a, b] = views
        && let (Some(pa), Some(pb)) = (used(a, loaded), used(b, loaded))
        && pa != pb
    {
        out.push(views_differ(a, b, sources, online));
    }
    out
}

/// The places with a pair that a view reads or may read.
fn pairs_of<'a>(v: &ViewReport, loaded: &'a [Loaded]) -> Vec<&'a Loaded> {
    super::views::pair_places(v, loaded)
}

/// The pair a view uses, when settled.
fn used<'a>(v: &ViewReport, loaded: &'a [Loaded]) -> Option<&'a Pair> {
    super::views::used_pair(v, loaded)
}

/// The conflict finding, with the steps every conflict needs.
fn conflict_finding(message: String) -> Finding {
    let steps = [
        VERIFY_OFFLINE,
        STORE_IN_ENV,
        "Update or delete the other places so the keys live in one place only; to drop the project auth.json: `git rm auth.json`, commit and push.",
        "If the licence owner (Primary Contact) changed and both the old and the new owner created keys, disable the old owner's keys in Marketplace > My Profile > Access Keys, or ask Adobe Commerce Support to disable them if nobody can sign in to that account.",
    ];
    finding("keys-conflict", Severity::Error, None, message, &steps)
}

/// The Cloud build sees no keys, though this machine has some.
fn cloud_has_none(cloud: &ViewReport, loaded: &[Loaded]) -> Finding {
    let unseen: Vec<String> = cloud
        .places
        .iter()
        .filter(|p| p.has_pair)
        .filter_map(|p| {
            let l = loaded.iter().find(|l| l.place == p.place)?;
            Some(format!("{} ({})", named(l), p.why))
        })
        .collect();
    let message = format!(
        "The Cloud build sees no keys: env:COMPOSER_AUTH is not set and no committed file holds any. The keys here are where the build does not read them: {}.",
        unseen.join(", ")
    );
    let steps = [
        STORE_IN_ENV,
        "Keep auth.json out of git (it would leak the keys); the variable is what the build needs.",
    ];
    finding("keys-missing", Severity::Error, None, message, &steps)
}

/// A local run and the Cloud build use different pairs.
fn views_differ(
    a: &ViewReport,
    b: &ViewReport,
    sources: &[KeySource],
    online: Option<&[OnlineResult]>,
) -> Finding {
    let message = format!(
        "{} {} So a local `composer install` that works says nothing about the build.",
        describe_use(a, sources),
        describe_use(b, sources)
    );
    let check = match online {
        Some(results) => verify_online(results),
        None => "Check both pairs: `magento-cloud variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth - --online`.".to_string(),
    };
    let steps = [
        check.as_str(),
        "Keep one working pair: in env:COMPOSER_AUTH for the build and, for local runs, in the global auth.json or an uncommitted project auth.json.",
    ];
    finding("keys-differ", Severity::Warning, None, message, &steps)
}

/// Says, in one sentence, which pair a view uses or what that depends on.
pub fn describe_use(v: &ViewReport, sources: &[KeySource]) -> String {
    let pair = |p: Place| {
        sources
            .iter()
            .find(|k| k.place == p)
            .map(|k| format!(" ({} / {})", k.fingerprint_username, k.fingerprint_password))
            .unwrap_or_default()
    };
    let name = |c: &Option<Place>| match c {
        Some(Place::CloudVariable) if pair(Place::CloudVariable).is_empty() => {
            "env:COMPOSER_AUTH (value not given)".to_string()
        }
        Some(p) => format!("{}{}", p.label(), pair(*p)),
        None => "no keys".to_string(),
    };
    let who = match v.view {
        View::CloudBuild => "The Cloud build",
        View::Local => "A local run",
    };
    let mut options: Vec<&Option<Place>> = v.candidates.iter().filter(|c| c.is_some()).collect();
    options.extend(v.candidates.iter().filter(|c| c.is_none()));
    match (v.used, options.as_slice()) {
        (Some(p), _) => format!("{who} uses the pair from {}.", name(&Some(p))),
        (None, []) => format!("{who} has no keys."),
        (None, [Some(Place::CloudVariable), other]) if v.depends_on == ["cloud-variable"] => {
            format!(
                "{who} uses env:COMPOSER_AUTH if it is set (its value was not given), else {}.",
                match other {
                    Some(p) => format!("the pair from {}", name(&Some(*p))),
                    None => "no keys".to_string(),
                }
            )
        }
        (None, _) => {
            let named: Vec<String> = options.iter().map(|c| name(c)).collect();
            let factors: Vec<&str> = v.depends_on.iter().map(|f| factor_words(f)).collect();
            format!(
                "{who} uses {}, depending on {}.",
                named.join(" or "),
                factors.join(" and ")
            )
        }
    }
}

/// Words for what a view's answer depends on.
fn factor_words(factor: &str) -> &'static str {
    match factor {
        "composer-version" => {
            "the Composer version (2.7.8 and later let COMPOSER_AUTH win over auth.json)"
        }
        "cloud-variable" => "whether env:COMPOSER_AUTH is set (not given here)",
        "project-auth-json" => "whether the project auth.json is committed",
        "composer-json-config" => "whether composer.json is committed",
        _ => "what cannot be told here",
    }
}

/// Counts different pairs.
fn count_distinct<'a>(places: impl Iterator<Item = &'a Loaded>) -> usize {
    let mut seen: Vec<&Pair> = Vec::new();
    for p in places.filter_map(|l| l.pair()) {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen.len()
}

/// Says which place Composer takes its pair from, or how that depends on its version.
pub fn which_is_used(v: &Verdict) -> String {
    match (v.used, v.used_by_2_7_8_or_later, v.used_by_older) {
        (Some(p), _, _) => format!("Composer uses the pair from {}.", p.label()),
        (None, Some(newer), Some(older)) => format!(
            "Which one Composer uses depends on its version: 2.7.8 and later use {}, older versions (such as the 2.2 LTS) use {}; the composer/composer version pinned in .magento.app.yaml decides.",
            newer.label(),
            older.label()
        ),
        _ => "Composer has no pair to use.".to_string(),
    }
}

/// Findings from the `--online` probes.
pub fn for_online(results: &[OnlineResult], url: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in results.iter().filter_map(|r| online_finding(r, url)) {
        // One "unreachable" is enough: the network, not the pair, is at fault.
        if f.id != "repo-unreachable" || !out.iter().any(|o| o.id == f.id) {
            out.push(f);
        }
    }
    out
}

/// `--repo-url` with `http://`: the keys went over the network unencrypted.
pub fn plain_http(url: &str) -> Finding {
    let message = format!(
        "--repo-url {url} uses http://: the keys were sent unencrypted, readable by anyone on the way."
    );
    let steps = [
        "Use an https:// URL; if the keys went over a network you do not trust, replace them (Marketplace > My Profile > Access Keys).",
    ];
    finding(
        "repo-url-not-https",
        Severity::Warning,
        None,
        message,
        &steps,
    )
}

/// One finding per pair that did not get a 200.
fn online_finding(r: &OnlineResult, url: &str) -> Option<Finding> {
    let pair = format!("{} / {}", r.fingerprint_username, r.fingerprint_password);
    let places: Vec<&str> = r.places.iter().map(|p| p.label()).collect();
    let from = places.join(", ");
    match r.outcome {
        OnlineOutcome::Accepted => None,
        OnlineOutcome::Rejected => Some(rejected(&pair, &from)),
        OnlineOutcome::Forbidden => Some(forbidden(&pair, &from)),
        OnlineOutcome::Unreachable => Some(unreachable(url, r.detail.as_deref())),
        OnlineOutcome::Unexpected => Some(unexpected(&pair, url, r.status)),
    }
}

/// HTTP 401: the pair is not known (typo, disabled, deleted).
fn rejected(pair: &str, from: &str) -> Finding {
    let message = format!(
        "The repository rejected the pair {pair} from {from} (HTTP 401): the keys are wrong, disabled or deleted."
    );
    let steps = [
        "Check in Marketplace > My Profile > Access Keys that the pair exists and is enabled.",
        CREATE_KEYS,
        STORE_IN_ENV,
    ];
    finding("keys-rejected", Severity::Error, None, message, &steps)
}

/// HTTP 403: the pair is valid but the account is not entitled.
fn forbidden(pair: &str, from: &str) -> Finding {
    let message = format!(
        "The repository knows the pair {pair} from {from} but refuses access (HTTP 403): the keys are valid but not entitled to Adobe Commerce packages."
    );
    let steps = [
        "Use keys created by the MAGEID that holds the licence (usually the Primary Contact); keys from a shared account are not entitled.",
        "If you are the Primary Contact, check the account for an unpaid invoice: access stops after a revoked licence, and after renewal new keys are needed.",
        "If the licence owner changed, disable the previous owner's keys in Marketplace > My Profile > Access Keys.",
        "If the Primary Contact's keys still get 403, open a ticket with Adobe Commerce Support and give the Primary Contact's MAGEID.",
    ];
    finding("keys-not-entitled", Severity::Error, None, message, &steps)
}

/// No HTTP answer at all.
fn unreachable(url: &str, detail: Option<&str>) -> Finding {
    let message = format!(
        "Could not reach {url} ({}); the keys could not be checked.",
        detail.unwrap_or("no answer")
    );
    let steps = [
        "Check the network: DNS, firewall, and the HTTPS_PROXY / NO_PROXY variables.",
        "Run the check again, or from a machine (or Cloud environment) that can reach repo.magento.com.",
    ];
    finding("repo-unreachable", Severity::Error, None, message, &steps)
}

/// Any other HTTP status.
fn unexpected(pair: &str, url: &str, status: Option<u16>) -> Finding {
    let code = status.map_or_else(|| "?".to_string(), |s| s.to_string());
    let message =
        format!("{url} answered HTTP {code} for the pair {pair}; expected 200, 401 or 403.");
    let steps = [
        "Retry later; if it persists, check https://status.adobe.com or contact Adobe Commerce Support.",
    ];
    finding(
        "repo-unexpected-status",
        Severity::Warning,
        None,
        message,
        &steps,
    )
}
