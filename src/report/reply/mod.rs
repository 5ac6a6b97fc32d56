//! The support reply: what `magediag paste` and `--format markdown` print, a Markdown
//! answer a support engineer can send to the customer as it is, followed by a `<details>`
//! block of notes for the engineer alone (evidence, rule, how sure, secrets found).
//!
//! The reply reads the whole paste ([`Ticket`]), not only its log lines: the customer's
//! own words rank the causes, pasted configuration goes through the checks of `magediag
//! auth`, and the secrets the paste holds are counted, named to the customer, and removed
//! from everything printed. See `docs/support.md`.

mod ticket;
mod voice;

use std::io::{self, Write};

use crate::mask::{self, SecretKind};
use crate::report::diagnosis::{Diagnosis, Evidence, Report, Severity, SourceReport};
use crate::report::escape::{markdown_code, markdown_inline};
use crate::rule::RuleSet;

pub use ticket::Ticket;

/// Most packages the customer part lists.
const PACKAGES_SHOWN: usize = 10;
/// Most log lines quoted when the cause was not recognised.
const ERROR_LINES_SHOWN: usize = 8;
/// Most evidence lines in the engineer's notes.
const EVIDENCE_SHOWN: usize = 8;
/// Longest quoted line.
const LINE_WIDTH: usize = 240;
/// Other diagnoses named to the customer.
const OTHERS_SHOWN: usize = 3;

/// Writes the reply for a report; `ticket` is what the paste said besides its log.
pub fn write(
    report: &Report,
    rules: &RuleSet,
    ticket: Option<&Ticket>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let empty = Ticket::default();
    let ticket = ticket.unwrap_or(&empty);
    let report = crate::report::escape::printable_report(report);
    let text = compose(&report, rules, ticket);
    out.write_all(redact(&text, &ticket.secret_values()).as_bytes())
}

/// Removes every secret the paste held from every string of a report, whatever the
/// format it is printed in: a value split over two log lines, or written in prose,
/// can escape the line-by-line masking of the pipeline.
pub fn redact_report(report: &mut Report, ticket: &Ticket) {
    let values = ticket.secret_values();
    if values.is_empty() {
        return;
    }
    let fix = |s: &mut String| *s = redact(s, &values);
    for source in &mut report.sources {
        for d in &mut source.diagnoses {
            fix(&mut d.summary);
            d.evidence.iter_mut().for_each(|e| fix(&mut e.text));
            d.causes.iter_mut().for_each(fix);
            d.remediation.iter_mut().for_each(fix);
            for p in &mut d.packages {
                fix(&mut p.name);
                if let Some(v) = &mut p.version {
                    fix(v);
                }
            }
        }
        source.hints.iter_mut().for_each(|h| fix(&mut h.text));
        source.notes.iter_mut().for_each(fix);
    }
}

pub use crate::mask::redact;

/// The reply, as Markdown.
fn compose(report: &Report, rules: &RuleSet, ticket: &Ticket) -> String {
    let all: Vec<(&SourceReport, &Diagnosis)> = report
        .sources
        .iter()
        .flat_map(|s| s.diagnoses.iter().map(move |d| (s, d)))
        .collect();
    let generic = |d: &Diagnosis| rules.rule(&d.rule).is_some_and(|r| r.generic);
    let has_error = all.iter().any(|(_, d)| d.severity == Severity::Error);
    let top = all
        .iter()
        .filter(|(_, d)| !generic(d))
        .find(|(_, d)| d.severity == Severity::Error)
        .or_else(|| {
            all.iter()
                .filter(|(_, d)| !generic(d) && d.severity == Severity::Warning)
                .find(|_| !has_error)
        });
    let mut reply = Reply::default();
    match top {
        Some((_, d)) => recognised(&mut reply, d, &all, &generic, ticket),
        None => unrecognised(&mut reply, report, &all),
    }
    secrets(&mut reply, ticket);
    engineer_context(&mut reply, report, &all, top.map(|(_, d)| *d), ticket);
    reply.markdown()
}

/// The parts of a reply, filled by the functions below and written by [`Reply::markdown`].
#[derive(Default)]
struct Reply {
    /// The first paragraph: the answer.
    answer: String,
    /// Lines quoted to the customer (when the cause was not recognised).
    quoted: Vec<String>,
    steps: Vec<String>,
    /// Paragraphs after the steps.
    paragraphs: Vec<String>,
    /// Titled bullet lists after the steps.
    lists: Vec<(String, Vec<String>)>,
    /// What to do about the secrets in the message.
    secret_steps: Vec<String>,
    secret_intro: Option<String>,
    references: Vec<String>,
    /// The engineer's notes: bullets, then the evidence.
    notes: Vec<String>,
    evidence: Vec<String>,
    /// What the evidence's line numbers count (`paste line`, ``line of `deploy.log` ``).
    evidence_lines: String,
}

impl Reply {
    fn markdown(&self) -> String {
        let mut out = format!("{}\n\n", inline(&self.answer));
        if !self.quoted.is_empty() {
            out.push_str("```text\n");
            for line in &self.quoted {
                out.push_str(&format!("{}\n", fence_safe(line)));
            }
            out.push_str("```\n\n");
        }
        numbered(&mut out, &self.steps);
        for p in &self.paragraphs {
            out.push_str(&format!("{}\n\n", inline(p)));
        }
        for (title, items) in self.lists.iter().filter(|(_, i)| !i.is_empty()) {
            out.push_str(&format!("{title}\n\n"));
            for item in items {
                out.push_str(&format!("- {}\n", inline(item)));
            }
            out.push('\n');
        }
        if let Some(intro) = &self.secret_intro {
            out.push_str(&format!("{intro}\n\n"));
            numbered(&mut out, &self.secret_steps);
        }
        if !self.references.is_empty() {
            out.push_str("More information:\n\n");
            for r in &self.references {
                out.push_str(&format!("- {r}\n"));
            }
            out.push('\n');
        }
        out.push_str("<details>\n<summary>Support notes (for you, not for the customer: send only what is above)</summary>\n\n");
        for n in &self.notes {
            out.push_str(&format!("- {}\n", inline(n)));
        }
        if !self.evidence.is_empty() {
            out.push_str(&format!(
                "\nEvidence ({}: text):\n\n```text\n",
                self.evidence_lines
            ));
            for e in &self.evidence {
                out.push_str(&format!("{}\n", fence_safe(e)));
            }
            out.push_str("```\n");
        }
        out.push_str("\n</details>\n");
        out
    }
}

fn numbered(out: &mut String, steps: &[String]) {
    if steps.is_empty() {
        return;
    }
    for (i, step) in steps.iter().enumerate() {
        out.push_str(&format!("{}. {}\n", i + 1, inline(step)));
    }
    out.push('\n');
}

/// Prose of the reply, which quotes log text: no live HTML (see [`markdown_inline`]).
fn inline(text: &str) -> std::borrow::Cow<'_, str> {
    markdown_inline(text)
}

/// A log line safe inside a fenced block, and not too long.
fn fence_safe(line: &str) -> String {
    crate::report::truncate(&line.replace("```", "'''"), LINE_WIDTH)
}

/// Whether a cause or step mentions any of a claim's terms.
fn mentions(text: &str, terms: &[&str]) -> bool {
    let lower = text.to_lowercase();
    terms.iter().any(|t| lower.contains(t))
}

/// Ends a sentence with a full stop if it has no closing punctuation.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?', ')']) && !text.ends_with("e.g.)") {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// The reply when a specific rule recognised the failure.
fn recognised(
    reply: &mut Reply,
    d: &Diagnosis,
    all: &[(&SourceReport, &Diagnosis)],
    generic: &dyn Fn(&Diagnosis) -> bool,
    ticket: &Ticket,
) {
    let clause = voice::title_as_clause(&d.title);
    reply.answer = match d.severity {
        Severity::Error => format!("Your deployment failed because {clause}."),
        _ => format!("The log shows a problem to fix: {clause}."),
    };
    let fit = ticket.claims.iter().find_map(|c| {
        d.causes
            .iter()
            .position(|cause| mentions(cause, c.kind.terms))
            .map(|i| (c, i))
    });
    let config = ConfigView::new(d, ticket);
    if let Some((claim, cause)) = fit {
        reply.answer.push_str(&format!(
            " You mention that {}, and that is the most likely reason: {}",
            claim.kind.said,
            sentence(&voice::lowercase_first(&d.causes[cause]))
        ));
    }
    if let Some(reason) = &config.reason {
        reply.answer.push_str(&format!(" {reason}"));
    }
    let (customer_steps, engineer_steps): (Vec<&String>, Vec<&String>) =
        d.remediation.iter().partition(|s| !s.contains("magediag"));
    let terms = fit.map_or(&[][..], |(c, _)| c.kind.terms);
    // A conditional step ("If the licence lapsed, ...") that the customer's words make
    // true comes first; the others keep the rule's order.
    let (claimed, rest): (Vec<&String>, Vec<&String>) = customer_steps
        .into_iter()
        .partition(|s| s.starts_with("If ") && mentions(s, terms));
    let mut steps: Vec<String> = claimed.into_iter().cloned().collect();
    steps.extend(config.steps.iter().cloned());
    steps.extend(rest.into_iter().cloned());
    dedup(&mut steps);
    reply.steps = steps;
    if !d.packages.is_empty() {
        reply.paragraphs.push(packages_line(d));
    }
    reply.lists.push((
        "In what you sent, we also noticed:".to_owned(),
        config.notes.clone(),
    ));
    let mut causes: Vec<String> = d.causes.clone();
    if let Some((_, i)) = fit {
        causes.remove(i);
    }
    reply.lists.push((
        "If that does not solve it, these are the other possible causes:".to_owned(),
        causes,
    ));
    let others: Vec<String> = all
        .iter()
        .map(|(_, o)| *o)
        .filter(|o| o.rule != d.rule && !generic(o) && o.severity >= Severity::Warning)
        .take(OTHERS_SHOWN)
        .map(|o| sentence(&o.title))
        .collect();
    reply.lists.push((
        "The log also shows, to look at afterwards:".to_owned(),
        others,
    ));
    reply.references = d.references.clone();
    let confidence = confidence(
        d,
        all,
        generic,
        fit.is_some(),
        config.reason.is_some(),
        ticket,
    );
    reply.notes.push(format!(
        "Diagnosis: {} (rule `{}`, category `{}`, {}).",
        d.title, d.rule, d.category, d.severity
    ));
    reply.notes.push(format!("How sure: {confidence}"));
    reply.notes.push(format!("Summary: {}", d.summary));
    match fit {
        Some((claim, cause)) => reply.notes.push(format!(
            "The customer's words ranked the causes: \"{}\" reads as `{}`, which supports \"{}\", put first.",
            claim.quote, claim.kind.id, d.causes[cause]
        )),
        None if !ticket.claims.is_empty() => {}
        None => {}
    }
    for claim in ticket
        .claims
        .iter()
        .filter(|c| fit.is_none_or(|(f, _)| f.kind.id != c.kind.id))
    {
        reply.notes.push(format!(
            "The customer also says \"{}\" (`{}`); no cause of this rule mentions it: check whether it points elsewhere.",
            claim.quote, claim.kind.id
        ));
    }
    for step in engineer_steps {
        reply
            .notes
            .push(format!("For you, not the customer: {step}"));
    }
    evidence(reply, d.evidence.iter());
    if d.count > EVIDENCE_SHOWN as u64 {
        reply.evidence.push(format!(
            "... and {}",
            crate::rule::template::count(
                d.count - EVIDENCE_SHOWN as u64,
                "more line",
                "more lines"
            )
        ));
    }
}

/// How sure the diagnosis is, and why.
fn confidence(
    d: &Diagnosis,
    all: &[(&SourceReport, &Diagnosis)],
    generic: &dyn Fn(&Diagnosis) -> bool,
    claim_fits: bool,
    config_explains: bool,
    ticket: &Ticket,
) -> String {
    let rivals: Vec<&str> = all
        .iter()
        .map(|(_, o)| *o)
        .filter(|o| o.severity == Severity::Error && o.category != d.category && !generic(o))
        .map(|o| o.rule.as_str())
        .collect();
    let mut why = vec![format!(
        "a specific rule matched {}",
        crate::rule::template::count(d.count, "log line", "log lines")
    )];
    if claim_fits {
        why.push("the customer's own words fit one of its causes".to_owned());
    }
    if config_explains {
        why.push("the pasted configuration explains it".to_owned());
    }
    let unfitting = ticket.claims.len() > usize::from(claim_fits);
    let level = if !rivals.is_empty() {
        why.push(format!(
            "other errors were diagnosed too ({}): check which came first",
            rivals.join(", ")
        ));
        "medium"
    } else if unfitting && !claim_fits {
        why.push("what the customer says fits none of its causes".to_owned());
        "medium"
    } else {
        "high"
    };
    format!("{level}: {}.", why.join("; "))
}

fn packages_line(d: &Diagnosis) -> String {
    let mut listed: Vec<String> = d
        .packages
        .iter()
        .take(PACKAGES_SHOWN)
        .map(|p| match &p.version {
            Some(v) => format!(
                "`{}` {}",
                markdown_code(&p.name),
                voice::composer_version(v)
            ),
            None => format!("`{}`", markdown_code(&p.name)),
        })
        .collect();
    if d.packages.len() > PACKAGES_SHOWN {
        listed.push(format!("and {} more", d.packages.len() - PACKAGES_SHOWN));
    }
    format!("The packages concerned: {}.", listed.join(", "))
}

fn dedup(steps: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    steps.retain(|s| {
        let fresh = !seen.contains(s);
        seen.push(s.clone());
        fresh
    });
}

/// What the pasted configuration says about one diagnosis: a reason for the answer, steps
/// that belong before the rule's own, and notes for the customer.
struct ConfigView {
    reason: Option<String>,
    steps: Vec<String>,
    notes: Vec<String>,
}

impl ConfigView {
    fn new(d: &Diagnosis, ticket: &Ticket) -> ConfigView {
        let mut view = ConfigView {
            reason: None,
            steps: Vec::new(),
            notes: Vec::new(),
        };
        let auth_failure = d.category.starts_with("auth-");
        view.database(d, ticket);
        view.variables(d, ticket);
        if let Some(report) = &ticket.auth {
            for f in &report.findings {
                let message = mask::mask(&f.message).into_owned();
                if auth_failure
                    && view.reason.is_none()
                    && f.severity == crate::auth::Severity::Error
                {
                    view.reason = Some(format!("The configuration you sent shows why: {message}"));
                } else {
                    view.notes.push(message);
                }
                if let Some(step) = voice::finding_step(f.id) {
                    view.steps.push(step.to_owned());
                }
            }
            if d.category == "auth-keys-missing"
                && !report.key_sources.is_empty()
                && view.reason.is_none()
            {
                view.reason = Some(
                    "Your message shows a key pair configured, so either it is not where this build reads it, or repo.magento.com refuses it: a disabled or deleted pair fails the same way in a build that cannot ask for keys.".to_owned(),
                );
            }
        }
        if !auth_failure {
            // Steps about keys belong to a key problem; elsewhere they are notes only.
            view.steps.retain(|s| s.contains("DATABASE_CONFIGURATION"));
        }
        view
    }

    fn database(&mut self, d: &Diagnosis, ticket: &Ticket) {
        let Some(db) = ticket
            .database_override
            .as_ref()
            .filter(|db| db.is_loopback())
        else {
            return;
        };
        let merge = if db.merge {
            ", and `_merge: true` puts it in place of the address Cloud provides"
        } else {
            ""
        };
        let what = format!(
            "the `DATABASE_CONFIGURATION` in the `.magento.env.yaml` you sent points the database connection at {}{merge}; on Cloud no database listens there",
            db.address()
        );
        if d.category == "database-unavailable" {
            self.reason = Some(format!("The cause is in your configuration: {what}."));
            self.steps.push(voice::database_step(&db.address()));
        } else {
            self.notes.push(format!("{}.", capitalise(&what)));
        }
    }

    fn variables(&mut self, d: &Diagnosis, ticket: &Ticket) {
        let levels: Vec<&str> = ticket
            .variables
            .iter()
            .filter_map(|v| v.level.as_deref())
            .collect();
        if levels.contains(&"environment") && !levels.contains(&"project") {
            let what = "the `env:COMPOSER_AUTH` you sent is set at environment level, and the build does not see environment-level variables";
            if d.category == "auth-keys-missing" {
                self.reason = Some(format!("The variable listing you sent shows why: {what}."));
            } else {
                self.notes.push(format!("{}.", capitalise(what)));
            }
            self.steps.push(voice::PROJECT_LEVEL_STEP.to_owned());
        }
        if ticket.variables.iter().any(|v| !v.readable) {
            self.notes.push(
                "The value of `env:COMPOSER_AUTH` was cut off in the table you sent, so we could not check it.".to_owned(),
            );
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!("{}{}", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The reply when no specific rule recognised the failure.
fn unrecognised(reply: &mut Reply, report: &Report, all: &[(&SourceReport, &Diagnosis)]) {
    let lines: Vec<String> = if all.is_empty() {
        report
            .sources
            .iter()
            .flat_map(|s| s.hints.iter().map(|h| h.text.clone()))
            .collect()
    } else {
        all.iter()
            .flat_map(|(_, d)| d.evidence.iter().map(|e| e.text.clone()))
            .collect()
    };
    let mut lines = lines;
    dedup(&mut lines);
    lines.truncate(ERROR_LINES_SHOWN);
    let failed = all.iter().any(|(_, d)| d.severity == Severity::Error);
    reply.answer = match (failed, lines.is_empty()) {
        (true, _) => "We could not recognise the cause of this failure from the log you sent: it stops at an error that none of the failures we know describes, so rather than guess, here are the lines that look most like the error:".to_owned(),
        (false, false) => "We did not find a failure in the text you sent. These lines look most like an error, but none of them is a failure we recognise:".to_owned(),
        (false, true) => "We did not find a failure, or anything that looks like an error, in the text you sent.".to_owned(),
    };
    reply.quoted = lines;
    let send_log = if failed {
        "Send us the complete log of the failed deployment: in the Cloud Console open the failed activity and copy its whole log, or run `magento-cloud activity:log` with the activity's id. The lines before the error often name the cause."
    } else {
        "If a deployment did fail, send us its complete log: in the Cloud Console open the failed activity and copy its whole log, or run `magento-cloud activity:log` with the activity's id."
    };
    reply.steps = vec![
        send_log.to_owned(),
        "Tell us what changed before the failures started: a push, an upgrade, a new extension, a changed variable or a change on the account.".to_owned(),
    ];
    let mut general: Vec<String> = all
        .iter()
        .flat_map(|(_, d)| d.remediation.iter())
        .filter(|s| !s.contains("magediag"))
        .cloned()
        .collect();
    dedup(&mut general);
    reply.lists.push((
        "While you gather that, these general checks often show the cause:".to_owned(),
        general,
    ));
    let rules: Vec<String> = all
        .iter()
        .map(|(_, d)| format!("`{}` ({})", d.rule, d.summary))
        .collect();
    reply.notes.push(if rules.is_empty() {
        "How sure: no rule fired; the customer is asked for the whole log.".to_owned()
    } else {
        format!(
            "How sure: low. Only catch-all rules fired: {}. The reply says the cause was not recognised instead of giving their generic advice as an answer.",
            rules.join("; ")
        )
    });
    evidence(reply, all.iter().flat_map(|(_, d)| d.evidence.iter()));
}

/// The first evidence lines for the engineer's notes, each with its line number, and what
/// those numbers count: lines of the paste, of standard input or of a file, or, when the
/// lines come from several sources, each line's own `path:line`.
fn evidence<'a>(reply: &mut Reply, evidence: impl Iterator<Item = &'a Evidence>) {
    let shown: Vec<&Evidence> = evidence.take(EVIDENCE_SHOWN).collect();
    let one_source = shown.windows(2).all(|pair| pair[0].path == pair[1].path);
    match shown.first() {
        Some(first) if one_source => {
            reply.evidence_lines = match first.path.as_str() {
                "<paste>" => "paste line".to_owned(),
                "<stdin>" => "stdin line".to_owned(),
                path => format!("line of `{}`", markdown_code(path)),
            };
            reply.evidence = shown
                .iter()
                .map(|e| format!("{}: {}", e.line, e.text))
                .collect();
        }
        _ => {
            reply.evidence_lines = "source:line".to_owned();
            reply.evidence = shown
                .iter()
                .map(|e| format!("{}:{}: {}", e.path, e.line, e.text))
                .collect();
        }
    }
}

/// A source as the subject of a sentence of the engineer's notes: the paste, standard
/// input, or the file by its path.
fn source_subject(path: &str) -> String {
    match path {
        "<paste>" => "The paste".to_owned(),
        "<stdin>" => "Standard input".to_owned(),
        path => format!("`{}`", markdown_code(path)),
    }
}

/// What the reply says about the secrets the paste held.
fn secrets(reply: &mut Reply, ticket: &Ticket) {
    let mut kinds: Vec<(SecretKind, usize)> = Vec::new();
    for s in ticket.secrets.iter().filter(|s| s.counted) {
        match kinds.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((s.kind, 1)),
        }
    }
    if kinds.is_empty() {
        return;
    }
    kinds.sort();
    let nouns: Vec<String> = kinds
        .iter()
        .map(|(k, n)| voice::secret_noun(*k, *n))
        .collect();
    let listed = join_and(&nouns);
    reply.secret_intro = Some(format!(
        "**About the credentials in your message.** It contained {listed}. We have kept them out of this reply, but they are now in the ticket and in any e-mail copies of it, so please treat them as exposed:"
    ));
    reply.secret_steps = kinds
        .iter()
        .map(|(k, _)| voice::rotation_step(*k).to_owned())
        .collect();
    for host in &ticket.url_credential_hosts {
        reply.secret_steps.push(format!(
            "The URL with credentials was for `{host}`: keep only `https://{host}/` in `composer.json`, and put repo.magento.com keys in `env:COMPOSER_AUTH` instead."
        ));
    }
    reply.secret_steps.push(
        "Next time, replace keys and passwords with placeholders such as `<public key>` before sending configuration or logs.".to_owned(),
    );
    reply.notes.push(format!(
        "Secrets in the paste: {listed} (masked everywhere above). Redact the ticket now: edit or delete the customer's message and attachments that hold them, and do not quote them in internal notes or escalations."
    ));
}

/// Joins `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The engineer's notes that do not depend on the diagnosis: configuration, other rules,
/// what the reader noticed.
fn engineer_context(
    reply: &mut Reply,
    report: &Report,
    all: &[(&SourceReport, &Diagnosis)],
    top: Option<&Diagnosis>,
    ticket: &Ticket,
) {
    if !ticket.configs.is_empty() {
        reply.notes.push(format!(
            "Configuration read from the paste and checked as `magediag auth` does: {}.",
            ticket.configs.join("; ")
        ));
    }
    if let Some(auth) = &ticket.auth {
        for f in &auth.findings {
            reply
                .notes
                .push(format!("`{}`: {}", f.id, mask::mask(&f.message)));
        }
    }
    if let Some(db) = &ticket.database_override {
        reply.notes.push(format!(
            "`.magento.env.yaml` DATABASE_CONFIGURATION host {} (_merge: {}).",
            db.address(),
            db.merge
        ));
    }
    for (_, d) in all
        .iter()
        .filter(|(_, d)| top.is_none_or(|t| t.rule != d.rule))
    {
        if top.is_some() {
            reply.notes.push(format!(
                "Also fired: `{}` ({}, {}): {}",
                d.rule, d.category, d.severity, d.summary
            ));
        }
    }
    for source in &report.sources {
        if let Some(run) = source
            .run
            .as_ref()
            .filter(|r| r.skipped_with_errors.is_some())
        {
            let which = if run.index == run.runs {
                "the latest".to_owned()
            } else {
                format!("run {}", run.index)
            };
            let mut note = format!(
                "{} holds {} deployment runs; {which} (started {}) was diagnosed.",
                source_subject(&source.path),
                run.runs,
                run.started
            );
            if let Some(skipped) = crate::report::render::skipped_runs(&[source]) {
                note.push_str(&format!(" Skipped {skipped}."));
            }
            reply.notes.push(note);
        }
        for note in &source.notes {
            reply.notes.push(format!("Reader's note: {note}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_takes_long_values_anywhere_and_short_ones_as_words() {
        let values = ["0123456789abcdef", "ab12"];
        assert_eq!(
            redact("key 0123456789abcdef0000 and ab12, not xab12", &values),
            "key ****0000 and ****, not xab12"
        );
    }

    #[test]
    fn evidence_from_several_sources_names_each_line_s_source() {
        let at = |path: &str, line: u64| Evidence {
            path: path.to_owned(),
            line,
            text: format!("failed at {line}"),
            matched: None,
        };
        let mut reply = Reply::default();
        evidence(&mut reply, [at("a.log", 3), at("b.log", 7)].iter());
        assert_eq!(reply.evidence_lines, "source:line");
        assert_eq!(
            reply.evidence,
            ["a.log:3: failed at 3", "b.log:7: failed at 7"]
        );
        let mut reply = Reply::default();
        evidence(&mut reply, [at("a`b.log", 3), at("a`b.log", 4)].iter());
        assert_eq!(reply.evidence_lines, "line of `a'b.log`");
        assert_eq!(reply.evidence, ["3: failed at 3", "4: failed at 4"]);
    }

    #[test]
    fn join_and_reads_as_a_list() {
        let items = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(join_and(&items), "a, b and c");
        assert_eq!(join_and(&items[..1]), "a");
    }
}
