//! Reads a pasted ticket as a whole, not only its log lines: what the customer says
//! (claims that rank the causes), the configuration they pasted (checked as `magediag
//! auth` checks a project), a `.magento.env.yaml` database override, and the secrets the
//! paste holds.

use std::sync::LazyLock;

use regex::Regex;

use crate::auth::{self, AuthReport, PastedConfig, Place};
use crate::mask::{self, FoundSecret};
use crate::repair::{self, RepairedLine};

/// Something the customer says that points at one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimKind {
    /// A stable name, shown to the support engineer.
    pub id: &'static str,
    /// How the reply says it back: "You mention that {said}".
    pub said: &'static str,
    /// Words of a cause or step that this claim supports (matched ignoring case).
    pub terms: &'static [&'static str],
    /// Patterns over a prose line, lowercased.
    patterns: &'static [&'static str],
}

/// The claims a ticket's prose is read for.
pub const CLAIMS: &[ClaimKind] = &[
    ClaimKind {
        id: "licence-lapsed",
        said: "your licence lapsed or an invoice was unpaid",
        terms: &[
            "revoked",
            "invoice",
            "lapsed",
            "licence is active",
            "expired",
            "suspended",
        ],
        patterns: &[
            r"licen[cs]e (?:has |had |was )?(?:lapsed|expired|been (?:revoked|suspended)|revoked|suspended|cancell?ed|not renewed)",
            r"(?:lapsed|expired|revoked|suspended|unpaid|overdue|outstanding|late) (?:licen[cs]e|invoice|subscription|contract|payment|bill)",
            r"(?:paid|settled|pay) (?:the|our|an?) (?:outstanding |overdue |late |last )?(?:invoice|bill)",
            r"(?:renewed|renewal of|reactivated) (?:the |our )?(?:licen[cs]e|contract|subscription)",
        ],
    },
    ClaimKind {
        id: "agency-left",
        said: "the agency or developer who set the project up is no longer involved",
        terms: &[
            "another account",
            "different marketplace account",
            "bought",
            "purchase",
            "old owner",
            "previous owner",
            "changed owner",
            "old account",
        ],
        patterns: &[
            r"(?:agency|partner|integrator|developer|contractor|freelancer|vendor)\b[^.]{0,40}\b(?:left|has gone|is gone|went (?:out of business|bust)|no longer|stopped working|closed|ended)",
            r"(?:previous|former|old) (?:agency|partner|integrator|developer|solution partner|contractor)",
            r"(?:changed|switched|moved) (?:our |the )?(?:agency|partner|integrator|developer)",
        ],
    },
    ClaimKind {
        id: "owner-changed",
        said: "the licence owner (Primary Contact) changed",
        terms: &[
            "changed owner",
            "old owner",
            "previous owner",
            "primary contact",
            "conflict",
        ],
        patterns: &[
            r"primary contact (?:has |was )?(?:changed|left|moved|is new)",
            r"(?:new|changed the|changed our) primary contact",
            r"licen[cs]e (?:owner|ownership) (?:has |was )?(?:changed|transferred|moved)",
            r"(?:ownership|account) (?:was |has been )?transferred",
        ],
    },
    ClaimKind {
        id: "new-project",
        said: "this is a new project or environment",
        terms: &["environment level", "another environment", "not set"],
        patterns: &[
            r"\bnew (?:cloud |adobe commerce |magento )?(?:project|environment|integration environment|staging environment|branch)",
            r"(?:just|newly|recently) (?:provisioned|created|set up|onboarded)",
            r"\bfirst (?:deploy|deployment|build|push)",
            r"(?:migrat(?:ed|ing)|moved|moving) (?:to|onto) (?:the )?(?:cloud|adobe commerce cloud|magento cloud|commerce cloud)",
        ],
    },
    ClaimKind {
        id: "keys-rotated",
        said: "the access keys were changed recently",
        terms: &[
            "disabled",
            "deleted",
            "regenerated",
            "stale",
            "another pair",
            "one place",
            "other copy",
            "precedence",
        ],
        patterns: &[
            r"(?:rotated|regenerated|renewed|replaced|changed|reset|recreated|created new|generated new|new) (?:the |our |all |a |both )?(?:access |authentication |auth |composer |marketplace |magento )?(?:keys|key pair)",
            r"keys? (?:were|was|have been|has been|got) (?:rotated|regenerated|changed|replaced|disabled|deleted|revoked)",
            r"disabled (?:the |our |old |some )?(?:access |old )?keys",
        ],
    },
];

/// A claim found in the ticket's prose.
#[derive(Debug, Clone)]
pub struct Claim {
    pub kind: &'static ClaimKind,
    /// The sentence it was found in, masked and clipped, for the engineer.
    pub quote: String,
}

/// A `DATABASE_CONFIGURATION` override pasted from `.magento.env.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOverride {
    pub host: String,
    pub port: Option<String>,
    /// `_merge: true`: the values replace those ece-tools reads from the relationships.
    pub merge: bool,
}

impl DatabaseOverride {
    /// Whether the host is this machine: on Cloud the database is a service of its own.
    pub fn is_loopback(&self) -> bool {
        matches!(
            self.host.as_str(),
            "127.0.0.1" | "localhost" | "::1" | "0.0.0.0"
        ) || self.host.starts_with("127.")
    }

    /// `host:port`, or the host alone.
    pub fn address(&self) -> String {
        match &self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

/// A `COMPOSER_AUTH` variable pasted from `magento-cloud variable:list` or `variable:get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedVariable {
    /// `project` or `environment`, when the paste says.
    pub level: Option<String>,
    /// Whether its value could be read as JSON (a table may cut it).
    pub readable: bool,
}

/// Everything the paste says besides its log lines.
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    pub claims: Vec<Claim>,
    /// What was pasted as Composer configuration, by label.
    pub configs: Vec<String>,
    /// The checks of `magediag auth` on that configuration.
    pub auth: Option<AuthReport>,
    /// `env:COMPOSER_AUTH` rows of a variable listing.
    pub variables: Vec<PastedVariable>,
    /// Hosts of URLs in the paste that carry `user:password@`.
    pub url_credential_hosts: Vec<String>,
    pub database_override: Option<DatabaseOverride>,
    /// The secrets the paste holds (values: never printed).
    pub secrets: Vec<FoundSecret>,
}

impl Ticket {
    /// Reads a pasted text.
    pub fn read(text: &str) -> Ticket {
        let lines = repair::repair_text(text);
        let repaired: String = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut secrets = mask::find_secrets(text);
        for found in mask::find_secrets(&repaired) {
            if !secrets.iter().any(|s| s.value == found.value) {
                secrets.push(found);
            }
        }
        let claims = claims(&lines);
        let variables_found = variables(&repaired);
        let url_credential_hosts = url_hosts(&repaired);
        let mut pasted = json_configs(&repaired, &lines);
        pasted.extend(variables_found.iter().filter_map(|(_, c)| c.clone()));
        if !url_credential_hosts.is_empty() {
            pasted.push(repository_urls(&repaired));
        }
        let configs = pasted.iter().map(|p| p.label.clone()).collect();
        let auth = (!pasted.is_empty()).then(|| auth::inspect_pasted(&pasted));
        Ticket {
            claims,
            configs,
            auth,
            variables: variables_found.into_iter().map(|(v, _)| v).collect(),
            url_credential_hosts,
            database_override: database_override(&lines),
            secrets,
        }
    }

    /// The claim of a kind, if the customer made it.
    pub fn claim(&self, id: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.kind.id == id)
    }

    /// Every value to remove from output: the secrets and their pieces.
    pub fn secret_values(&self) -> Vec<&str> {
        self.secrets.iter().map(|s| s.value.as_str()).collect()
    }
}

/// Whether a repaired line is the customer's prose rather than log output.
fn is_prose(text: &str) -> bool {
    if repair::starts_log_line(text) || text.contains("://") {
        return false;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let wordy = words
        .iter()
        .filter(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .chars()
                .all(char::is_alphabetic)
        })
        .count();
    words.len() >= 4 && wordy * 4 >= words.len() * 3
}

// Constant patterns, exercised by the unit tests: they cannot fail at run time.
#[allow(clippy::expect_used)]
static CLAIM_PATTERNS: LazyLock<Vec<Vec<Regex>>> = LazyLock::new(|| {
    CLAIMS
        .iter()
        .map(|c| {
            c.patterns
                .iter()
                .map(|p| Regex::new(p).expect("valid claim pattern"))
                .collect()
        })
        .collect()
});

/// Words that, just before a match, turn it around ("the licence has not lapsed").
const NEGATIONS: &[&str] = &["not ", "n't ", "never ", "no ", "neither "];

fn claims(lines: &[RepairedLine]) -> Vec<Claim> {
    let mut found: Vec<Claim> = Vec::new();
    for line in lines.iter().filter(|l| is_prose(&l.text)) {
        let lower = line.text.to_lowercase();
        for (kind, patterns) in CLAIMS.iter().zip(CLAIM_PATTERNS.iter()) {
            if found.iter().any(|c| c.kind.id == kind.id) {
                continue;
            }
            let hit = patterns.iter().filter_map(|p| p.find(&lower)).find(|m| {
                let before =
                    &lower[lower.floor_char_boundary(m.start().saturating_sub(14))..m.start()];
                !NEGATIONS.iter().any(|n| before.contains(n))
            });
            if hit.is_some() {
                found.push(Claim {
                    kind,
                    quote: crate::report::truncate(&mask::mask(&line.text), 200),
                });
            }
        }
    }
    found
}

/// JSON objects holding an `http-basic` entry, each as the place the text around it says.
fn json_configs(text: &str, lines: &[RepairedLine]) -> Vec<PastedConfig> {
    let prose_mentions_auth_json = lines
        .iter()
        .any(|l| is_prose(&l.text) && l.text.contains("auth.json"));
    let mut out: Vec<PastedConfig> = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find("\"http-basic\"")) {
        let at = from + at;
        from = at + 1;
        let Some(span) = enclosing_object(text, at) else {
            continue;
        };
        if in_table_row(text, span.start) {
            continue;
        }
        // A wrap inside a string is damage done by pasting: JSON text has no line
        // break that matters, so a value that does not parse is tried without them.
        let raw = &text[span.clone()];
        let joined = raw.replace('\n', "");
        let json = if serde_json::from_str::<serde_json::Value>(raw).is_err()
            && serde_json::from_str::<serde_json::Value>(&joined).is_ok()
        {
            joined.as_str()
        } else {
            raw
        };
        let before = &text[line_start(text, span.start, 3)..span.start];
        let (place, label) = place_of(json, before, prose_mentions_auth_json);
        let committed = (place == Place::ProjectAuthJson).then(|| !said_local(text));
        from = span.end;
        out.push(PastedConfig {
            place,
            label: label.to_owned(),
            text: json.to_owned(),
            committed,
        });
    }
    out
}

/// Which place a pasted JSON object stands for, and how the reply names it.
fn place_of(json: &str, before: &str, auth_json_mentioned: bool) -> (Place, &'static str) {
    let before = before.to_ascii_lowercase();
    let composer_json = [
        "\"require\"",
        "\"repositories\"",
        "\"autoload\"",
        "\"name\"",
    ]
    .iter()
    .any(|k| json.contains(k));
    if before.contains("composer_auth") {
        (Place::ComposerAuthEnv, "the COMPOSER_AUTH value you sent")
    } else if composer_json {
        (Place::ComposerJsonConfig, "the composer.json you sent")
    } else if before.contains("auth.json") || auth_json_mentioned {
        (Place::ProjectAuthJson, "the auth.json you sent")
    } else {
        (Place::ComposerAuthEnv, "the Composer credentials you sent")
    }
}

/// Whether the customer says their `auth.json` is local only (not in the repository).
fn said_local(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "not committed",
        "gitignore",
        "on my machine",
        "locally",
        "on my laptop",
        "not in git",
        "not in the repo",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The byte offset where the line `back` lines before the one holding `at` starts.
fn line_start(text: &str, at: usize, back: usize) -> usize {
    let mut start = at;
    for _ in 0..=back {
        match text[..start].rfind('\n') {
            Some(i) => start = i,
            None => return 0,
        }
    }
    start + 1
}

/// Whether `at` sits on a table row (`| … |`): variable listings are read by [`variables`].
fn in_table_row(text: &str, at: usize) -> bool {
    let start = line_start(text, at, 0);
    text[start..at].trim_start().starts_with('|')
}

/// The outermost JSON object around byte `at`: back to the last unmatched `{` before a
/// blank line, then forward to its matching `}` (strings respected).
fn enclosing_object(text: &str, at: usize) -> Option<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut start = None;
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'}' => depth += 1,
            b'{' if depth == 0 => start = Some(i),
            b'{' => depth -= 1,
            b'\n' if bytes.get(i.wrapping_sub(1)) == Some(&b'\n') => break,
            _ => {}
        }
        if at - i > 20_000 {
            break;
        }
    }
    let start = start?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes[start..].iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start..start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `env:COMPOSER_AUTH` rows of `magento-cloud variable:list` / `variable:get` tables.
fn variables(text: &str) -> Vec<(PastedVariable, Option<PastedConfig>)> {
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| strip_break_tag(l.trim().trim_start_matches('>').trim()))
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let names_variable = row.iter().any(|c| c.ends_with("COMPOSER_AUTH"));
        let value = row.iter().find(|c| c.starts_with('{'));
        let nearby_name = rows[index.saturating_sub(10)..rows.len().min(index + 10)]
            .iter()
            .any(|r| r.iter().any(|c| c.ends_with("COMPOSER_AUTH")));
        if !(names_variable || (value.is_some() && nearby_name && row.first() == Some(&"value"))) {
            continue;
        }
        let level = row
            .iter()
            .find(|c| matches!(**c, "project" | "environment"))
            .or_else(|| {
                rows[index.saturating_sub(10)..rows.len().min(index + 10)]
                    .iter()
                    .find(|r| r.first() == Some(&"level"))
                    .and_then(|r| r.get(1))
            })
            .map(|l| (*l).to_owned());
        let readable = value.is_some_and(|v| serde_json::from_str::<serde_json::Value>(v).is_ok());
        let label = match level.as_deref() {
            Some(level) => format!("the {level}-level env:COMPOSER_AUTH you sent"),
            None => "the env:COMPOSER_AUTH you sent".to_owned(),
        };
        let config = value.filter(|_| readable).map(|v| PastedConfig {
            place: Place::ComposerAuthEnv,
            label,
            text: (*v).to_owned(),
            committed: None,
        });
        out.push((PastedVariable { level, readable }, config));
    }
    out
}

/// A line without the `<br>` a web form left at its end.
fn strip_break_tag(line: &str) -> &str {
    let lower = line.to_ascii_lowercase();
    for tag in ["<br>", "<br/>", "<br />"] {
        if lower.ends_with(tag) {
            return line[..line.len() - tag.len()].trim_end();
        }
    }
    line
}

/// `scheme://user:password@host` in the paste: the hosts, lowercased, once each.
fn url_hosts(text: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for caps in URL_CREDENTIALS.captures_iter(text) {
        if let Some(host) = caps.get(1).map(|m| m.as_str().to_ascii_lowercase())
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    hosts
}

/// A composer.json fragment made of the repository URLs with credentials, so that the
/// checks of `magediag auth` see them even when the pasted file is not whole JSON.
fn repository_urls(text: &str) -> PastedConfig {
    let urls: Vec<String> = URL_CREDENTIALS
        .find_iter(text)
        .map(|m| serde_json::json!({ "url": m.as_str() }).to_string())
        .collect();
    PastedConfig {
        place: Place::ComposerJsonConfig,
        label: "the repository URL you sent".to_owned(),
        text: format!("{{\"repositories\": [{}]}}", urls.join(", ")),
        committed: None,
    }
}

// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static URL_CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)https?://[^\s/@:"'<>]+:[^\s/@"'<>]+@([a-z0-9.\-]+\.[a-z]{2,})[^\s"'<>]*"#)
        .expect("valid regex")
});

// Constant patterns, exercised by the unit tests: they cannot fail at run time.
#[allow(clippy::expect_used)]
static YAML_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(host|port|_merge)\s*:\s*["']?([^"'\s#]+)"#).expect("valid regex")
});
#[allow(clippy::expect_used)]
static YAML_OTHER_VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Z][A-Z0-9_]+|stage|build|deploy|post-deploy|global)\s*:")
        .expect("valid regex")
});

/// The host, port and `_merge` of a pasted `DATABASE_CONFIGURATION` block.
fn database_override(lines: &[RepairedLine]) -> Option<DatabaseOverride> {
    let start = lines
        .iter()
        .position(|l| l.text.starts_with("DATABASE_CONFIGURATION:"))?;
    let mut host = None;
    let mut port = None;
    let mut merge = false;
    for line in lines.iter().skip(start + 1).take(24) {
        let text = line.text.as_str();
        if YAML_OTHER_VARIABLE.is_match(text) || repair::starts_log_line(text) {
            break;
        }
        let Some(caps) = YAML_FIELD.captures(text) else {
            continue;
        };
        let value = caps.get(2).map_or("", |m| m.as_str()).to_owned();
        match caps.get(1).map(|m| m.as_str()) {
            Some("host") if host.is_none() => host = Some(value),
            Some("port") if port.is_none() => port = Some(value),
            Some("_merge") => merge = value.eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    Some(DatabaseOverride {
        host: host?,
        port,
        merge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const PRIV: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

    fn auth_json(user: &str, pass: &str) -> String {
        format!(
            "{{\n  \"http-basic\": {{\n    \"repo.magento.com\": {{\n      \"username\": \"{user}\",\n      \"password\": \"{pass}\"\n    }}\n  }}\n}}"
        )
    }

    #[test]
    fn the_customers_words_become_claims_and_log_lines_do_not() {
        let text = "Hello,\nour Adobe Commerce licence lapsed in March and we paid the invoice last week.\nThe old agency has left and nobody knows the Marketplace login.\nW: Your license has expired\n";
        let ticket = Ticket::read(text);
        let ids: Vec<&str> = ticket.claims.iter().map(|c| c.kind.id).collect();
        assert_eq!(ids, vec!["licence-lapsed", "agency-left"]);
    }

    #[test]
    fn a_negated_claim_is_not_a_claim() {
        let ticket =
            Ticket::read("We are sure our licence has not lapsed, the invoices are paid.\n");
        assert!(
            ticket.claim("licence-lapsed").is_none(),
            "{:?}",
            ticket.claims
        );
    }

    #[test]
    fn pasted_auth_json_and_composer_auth_are_checked_together() {
        let text = format!(
            "Our auth.json in the repository:\n{}\nand env:COMPOSER_AUTH is\n{}\n",
            auth_json(PUB, PRIV),
            auth_json(PRIV, PUB).replace('\n', "")
        );
        let ticket = Ticket::read(&text);
        let report = ticket.auth.expect("configuration found");
        assert!(report.has_finding("keys-conflict"), "{:?}", report.findings);
        assert!(report.has_finding("auth-json-tracked"));
        assert_eq!(ticket.configs.len(), 2);
        assert_eq!(ticket.secrets.iter().filter(|s| s.counted).count(), 2);
    }

    #[test]
    fn a_variable_listing_gives_its_level_and_value() {
        let text = format!(
            "+-------------------+-------------+-------+\n| Name | Level | Value |\n+---+---+---+\n| env:COMPOSER_AUTH | environment | {} |\n| env:ADMIN_EMAIL | project | a@example.com |\n",
            auth_json(PUB, PRIV).replace('\n', "")
        );
        let ticket = Ticket::read(&text);
        assert_eq!(
            ticket.variables,
            vec![PastedVariable {
                level: Some("environment".into()),
                readable: true
            }]
        );
        assert_eq!(
            ticket.configs,
            vec!["the environment-level env:COMPOSER_AUTH you sent"]
        );
    }

    #[test]
    fn a_cut_variable_value_is_noted_not_parsed() {
        let text = "| env:COMPOSER_AUTH | project | {\"http-basic\": {\"repo.mag… |\n";
        let ticket = Ticket::read(text);
        assert_eq!(ticket.variables.len(), 1);
        assert!(!ticket.variables[0].readable);
        assert!(ticket.auth.is_none());
    }

    #[test]
    fn credentials_in_a_repository_url_are_found_in_a_fragment() {
        let text = "\"repositories\": {\n  \"repo\": {\"type\": \"composer\", \"url\": \"https://someone:S3cretPass@repo.magento.com/\"}\n}\n";
        let ticket = Ticket::read(text);
        assert_eq!(ticket.url_credential_hosts, vec!["repo.magento.com"]);
        let report = ticket.auth.expect("checked");
        assert!(report.has_finding("credentials-in-repository-url"));
    }

    #[test]
    fn a_database_override_is_read_from_pasted_yaml() {
        let text = "stage:\n  deploy:\n    DATABASE_CONFIGURATION:\n      connection:\n        default:\n          host: 127.0.0.1\n          port: 3307\n      _merge: true\n    SCD_THREADS: 2\n";
        let found = Ticket::read(text).database_override.expect("override");
        assert_eq!(found.address(), "127.0.0.1:3307");
        assert!(found.merge && found.is_loopback());
        let service =
            "DATABASE_CONFIGURATION:\n  connection:\n    default:\n      host: database.internal\n";
        assert!(
            !Ticket::read(service)
                .database_override
                .expect("override")
                .is_loopback()
        );
        assert!(Ticket::read("no yaml here").database_override.is_none());
    }
}
