//! Writes an `AuthReport` as text for people or as JSON for tools.

use std::fmt::Write as _;

use super::findings::{describe_use, which_is_used};
use super::model::{
    AuthReport, Finding, OnlineOutcome, OnlineResult, PlaceReport, Precedence, Severity, Sight,
    View, ViewReport,
};

/// Renders the report as pretty-printed JSON.
pub fn json(report: &AuthReport) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// Renders the report as text: one header per place found, the verdict, then numbered problems.
pub fn text(report: &AuthReport, repo_url: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Composer keys for repo.magento.com in {}",
        report.project_dir.display()
    );
    places(&mut s, report);
    if report.views.is_empty() {
        verdict(&mut s, report);
    } else {
        let _ = writeln!(s, "\nWhich pair is used:");
        for v in &report.views {
            view(&mut s, report, v);
        }
    }
    if !report.online.is_empty() {
        online(&mut s, &report.online, repo_url);
    }
    findings(&mut s, report);
    s
}

/// Writes a header per place found and one line listing the places not found.
fn places(s: &mut String, report: &AuthReport) {
    let mut missing = Vec::new();
    for p in &report.places {
        if p.found {
            place(s, report, p);
        } else {
            missing.push(format!("{} ({})", p.place.label(), p.path));
        }
    }
    if !missing.is_empty() {
        let _ = writeln!(s, "\nNot found: {}", missing.join(", "));
    }
}

/// Writes the header of one place: path, fingerprints, checks.
fn place(s: &mut String, report: &AuthReport, p: &PlaceReport) {
    let _ = writeln!(s, "\n{}: {}", p.place.label(), p.path);
    if let Some(k) = report.key_sources.iter().find(|k| k.place == p.place) {
        let _ = writeln!(
            s,
            "  username {}  password {}",
            k.fingerprint_username, k.fingerprint_password
        );
    }
    let checks: Vec<String> = p
        .checks
        .iter()
        .map(|c| format!("{} {}", if c.passed { "[ok]" } else { "[FAIL]" }, c.name))
        .collect();
    let _ = writeln!(s, "  {}", checks.join("  "));
}

/// Writes which pair a view uses, what it reads and does not read, and its online answer.
fn view(s: &mut String, report: &AuthReport, v: &ViewReport) {
    let reads = match v.view {
        View::CloudBuild => "reads the files committed to git and env:COMPOSER_AUTH",
        View::Local => {
            "reads this machine's global auth.json and COMPOSER_AUTH, and the project's files"
        }
    };
    let version = match (&v.composer_version, &v.version_source) {
        (Some(ver), Some(src)) => format!("Composer {ver}, from {src}"),
        _ => "Composer version unknown: pass --composer-version".to_string(),
    };
    let _ = writeln!(s, "  {}: {reads} ({version})", v.view.label());
    let mut used = describe_use(v, &report.key_sources);
    if let Some(answer) = &v.online {
        let code = answer
            .status
            .map_or_else(|| "no answer".to_string(), |c| format!("HTTP {c}"));
        used = format!(
            "{}: online {code}, {}.",
            used.trim_end_matches('.'),
            outcome_words(answer.outcome)
        );
    }
    let _ = writeln!(s, "    {used}");
    let unseen: Vec<String> = v
        .places
        .iter()
        .filter(|p| p.sight == Sight::NotSeen && p.has_pair)
        .map(|p| format!("{} ({})", p.place.label(), p.why))
        .collect();
    if !unseen.is_empty() {
        let _ = writeln!(s, "    Not read: {}", unseen.join("; "));
    }
    if v.view == View::CloudBuild && v.depends_on.iter().any(|f| f == "cloud-variable") {
        let _ = writeln!(
            s,
            "    To include it: magento-cloud variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth -"
        );
    }
}

/// Writes which pair Composer uses and the version assumption behind it (pasted configuration).
fn verdict(s: &mut String, report: &AuthReport) {
    let v = &report.verdict;
    let used = v
        .used
        .and_then(|p| report.key_sources.iter().find(|k| k.place == p));
    match used {
        Some(k) => {
            let _ = writeln!(
                s,
                "\nVerdict: Composer uses the pair from {} ({} / {}).",
                k.place.label(),
                k.fingerprint_username,
                k.fingerprint_password
            );
        }
        None => {
            let _ = writeln!(s, "\nVerdict: {}", which_is_used(v));
        }
    }
    let order = match v.precedence {
        Precedence::EnvLast => "COMPOSER_AUTH is merged last and wins",
        Precedence::ProjectFileLast => "the project auth.json is merged last and wins",
        Precedence::Unknown => "merge order not known",
    };
    match (&v.composer_version, &v.version_source) {
        (Some(ver), Some(src)) => {
            let _ = writeln!(s, "Composer version: {ver} (from {src}): {order}.");
        }
        _ => {
            let _ = writeln!(s, "Composer version: unknown (pass --composer-version).");
        }
    }
}

/// Writes one line per pair probed with `--online`.
fn online(s: &mut String, results: &[OnlineResult], repo_url: &str) {
    let _ = writeln!(s, "\nOnline check ({repo_url}):");
    for r in results {
        let places: Vec<&str> = r.places.iter().map(|p| p.label()).collect();
        let answer = match (r.status, &r.detail) {
            (Some(code), _) => format!("HTTP {code}"),
            (None, Some(d)) => format!("unreachable: {d}"),
            (None, None) => "unreachable".to_string(),
        };
        let _ = writeln!(
            s,
            "  {} / {} ({}): {answer}, {}",
            r.fingerprint_username,
            r.fingerprint_password,
            places.join(", "),
            outcome_words(r.outcome)
        );
    }
}

/// Says what an online outcome means in a few words.
fn outcome_words(outcome: OnlineOutcome) -> &'static str {
    match outcome {
        OnlineOutcome::Accepted => "keys accepted",
        OnlineOutcome::Rejected => "keys rejected",
        OnlineOutcome::Forbidden => "keys valid but not entitled",
        OnlineOutcome::Unreachable => "repository not reached",
        OnlineOutcome::Unexpected => "unexpected answer",
    }
}

/// Writes the numbered problems, then the warnings, or says all is well.
fn findings(s: &mut String, report: &AuthReport) {
    let errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let warnings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .collect();
    if errors.is_empty() {
        let _ = writeln!(s, "\nNo problems found.");
    } else {
        let _ = writeln!(s, "\nProblems:");
        numbered(s, &errors);
    }
    if !warnings.is_empty() {
        let _ = writeln!(s, "\nWarnings:");
        numbered(s, &warnings);
    }
}

/// Writes findings as a numbered list with numbered steps.
fn numbered(s: &mut String, list: &[&Finding]) {
    for (i, f) in list.iter().enumerate() {
        let _ = writeln!(s, "{}. [{}] {}", i + 1, f.id, f.message);
        for (j, step) in f.steps.iter().enumerate() {
            let _ = writeln!(s, "   {}. {step}", j + 1);
        }
    }
}
