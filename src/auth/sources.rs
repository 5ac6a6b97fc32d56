//! Reads the places Composer takes keys from and extracts the `repo.magento.com` entry.

use std::path::Path;

use serde_json::Value;

use super::keys::Pair;
use super::model::Place;

/// The repository host Magento keys are configured for.
pub const HOST: &str = "repo.magento.com";

/// What the `http-basic` entry for `repo.magento.com` looks like in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A username and a password, both strings.
    Pair(Pair),
    /// No entry for the host.
    Absent,
    /// An entry Composer will not see, e.g. under `config` or under a URL instead of the host.
    Misplaced(String),
    /// An entry of the wrong shape, e.g. no `password`.
    Malformed(String),
}

/// The state of one place after trying to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The file does not exist or the variable is not set.
    NotFound,
    /// The file exists but could not be read.
    Unreadable(String),
    /// The content is not JSON; the message comes from serde_json and quotes no content.
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// Valid JSON, with what was found for the host.
    Parsed(Entry),
}

/// One place after reading: where it is and what it holds.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Which place this is.
    pub place: Place,
    /// The path or description shown to the user.
    pub path: String,
    /// What was found.
    pub state: State,
    /// Hosts of `composer.json` repository URLs that carry `user:password@`.
    pub url_credentials: Vec<String>,
    /// The project file this place is read from, relative to the project root, when a
    /// Cloud build can only see it if it is committed (`auth.json`, `composer.json`).
    pub repo_file: Option<&'static str>,
}

impl Loaded {
    /// Returns the pair found in this place, if any.
    pub fn pair(&self) -> Option<&Pair> {
        match &self.state {
            State::Parsed(Entry::Pair(pair)) => Some(pair),
            _ => None,
        }
    }
}

/// Reads an auth file (global or project `auth.json`) or `composer.json`.
pub fn load_file(place: Place, path: &Path) -> Loaded {
    let mut url_credentials = Vec::new();
    let state = if !path.exists() {
        State::NotFound
    } else {
        match crate::input::bounded::read_text(path, crate::input::bounded::CONFIG_CAP) {
            Ok(text) => {
                if place == Place::ComposerJsonConfig {
                    url_credentials = repository_url_credentials(&text);
                }
                parse(&text, place)
            }
            Err(e) => State::Unreadable(e.to_string()),
        }
    };
    let repo_file = match place {
        Place::ProjectAuthJson => Some("auth.json"),
        Place::ComposerJsonConfig => Some("composer.json"),
        _ => None,
    };
    Loaded {
        place,
        path: path.display().to_string(),
        state,
        url_credentials,
        repo_file,
    }
}

/// Reads configuration text pasted into a ticket as if it were the file or variable of
/// `place`; `label` says where it came from.
pub fn load_text(place: Place, text: &str, label: &str) -> Loaded {
    let url_credentials = if place == Place::ComposerJsonConfig {
        repository_url_credentials(text)
    } else {
        Vec::new()
    };
    Loaded {
        place,
        path: label.to_string(),
        state: parse(text, place),
        url_credentials,
        repo_file: None,
    }
}

/// The hosts of repository URLs (`"url": "https://user:password@host/..."`) that carry
/// credentials, in `composer.json` text (whole, or a pasted fragment of it).
pub fn repository_url_credentials(text: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for caps in URL_WITH_CREDENTIALS.captures_iter(text) {
        if let Some(host) = caps.get(1).map(|m| m.as_str().to_ascii_lowercase())
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    hosts
}

/// `"url": "scheme://user:password@host`: a repository URL with credentials in it.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static URL_WITH_CREDENTIALS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"(?i)"url"\s*:\s*"[a-z][a-z0-9+.\-]*://[^"/@\s:]*:[^"@\s]*@([^"/\s:]+)"#)
        .expect("valid regex")
});

/// Reads a `COMPOSER_AUTH` value for `place`; an empty value counts as unset, as in Composer.
pub fn load_env(place: Place, value: Option<&str>, label: &str) -> Loaded {
    let state = match value {
        None | Some("") => State::NotFound,
        Some(text) => parse(text, place),
    };
    Loaded {
        place,
        path: label.to_string(),
        state,
        url_credentials: Vec::new(),
        repo_file: None,
    }
}

/// Parses JSON text and extracts the entry; `composer.json` keeps auth under `config`.
fn parse(text: &str, place: Place) -> State {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return invalid_json(&e),
    };
    let entry = if place == Place::ComposerJsonConfig {
        match value.get("config") {
            Some(config) => extract(config, false),
            None => Entry::Absent,
        }
    } else {
        extract(&value, true)
    };
    State::Parsed(entry)
}

/// Turns a serde_json error into a state with line and column and no quoted content.
fn invalid_json(e: &serde_json::Error) -> State {
    use serde_json::error::Category;
    let message = match e.classify() {
        Category::Syntax | Category::Eof => {
            let full = e.to_string();
            match full.rfind(" at line ") {
                Some(at) => full[..at].to_string(),
                None => full,
            }
        }
        Category::Data | Category::Io => "unexpected content".to_string(),
    };
    State::InvalidJson {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Finds the `http-basic` entry for the host in an auth object.
fn extract(root: &Value, is_auth_file: bool) -> Entry {
    let Some(obj) = root.as_object() else {
        return Entry::Malformed("the top level is not a JSON object".to_string());
    };
    match obj.get("http-basic") {
        None if is_auth_file => wrapped_in_config(root),
        None => Entry::Absent,
        Some(Value::Object(hosts)) => match hosts.get(HOST) {
            Some(entry) => pair_from(entry),
            None => near_miss(hosts.keys()),
        },
        Some(_) => Entry::Malformed("\"http-basic\" is not a JSON object".to_string()),
    }
}

/// Detects an auth file whose keys sit under `config`, where Composer does not look.
fn wrapped_in_config(root: &Value) -> Entry {
    let nested = root
        .get("config")
        .and_then(|c| c.get("http-basic"))
        .and_then(|h| h.get(HOST));
    match nested {
        Some(_) => Entry::Misplaced(
            "the entry is under \"config\"; in auth.json and COMPOSER_AUTH, \"http-basic\" belongs at the top level"
                .to_string(),
        ),
        None => Entry::Absent,
    }
}

/// Detects an entry keyed by a URL or a differently written host name.
fn near_miss<'a>(hosts: impl Iterator<Item = &'a String>) -> Entry {
    for host in hosts {
        if normalize_host(host) == HOST {
            return Entry::Misplaced(format!(
                "the entry is keyed {host:?}; Composer matches the bare host name \"{HOST}\""
            ));
        }
    }
    Entry::Absent
}

/// Lowercases a host key and strips a scheme, a trailing slash and spaces.
fn normalize_host(host: &str) -> String {
    let lower = host.trim().to_ascii_lowercase();
    let no_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    no_scheme.trim_end_matches('/').to_string()
}

/// Reads `username` and `password` from a host entry.
fn pair_from(entry: &Value) -> Entry {
    let field = |name: &str| match entry.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("\"{name}\" is not a string")),
        None => Err(format!("the entry has no \"{name}\"")),
    };
    match (field("username"), field("password")) {
        (Ok(username), Ok(password)) => Entry::Pair(Pair { username, password }),
        (Err(e), _) | (_, Err(e)) => Entry::Malformed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = r#"{"http-basic":{"repo.magento.com":{"username":"u","password":"p"}}}"#;

    #[test]
    fn extracts_a_pair() {
        let state = parse(AUTH, Place::ProjectAuthJson);
        let expected = Pair {
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(state, State::Parsed(Entry::Pair(expected)));
    }

    #[test]
    fn composer_json_keeps_auth_under_config() {
        let text = format!(r#"{{"name":"a/b","config":{AUTH}}}"#);
        let state = parse(&text, Place::ComposerJsonConfig);
        assert!(matches!(state, State::Parsed(Entry::Pair(_))));
        assert_eq!(
            parse(AUTH, Place::ComposerJsonConfig),
            State::Parsed(Entry::Absent)
        );
    }

    #[test]
    fn reports_line_and_column_of_bad_json() {
        let text =
            "{\n  \"http-basic\": {\n    \"repo.magento.com\": {\"username\": \"u\",}\n  }\n}";
        match parse(text, Place::ProjectAuthJson) {
            State::InvalidJson { line, column, .. } => {
                assert_eq!(line, 3);
                assert!(column > 0);
            }
            other => panic!("expected invalid JSON, got {other:?}"),
        }
    }

    #[test]
    fn detects_entry_wrapped_in_config() {
        let text = format!(r#"{{"config":{AUTH}}}"#);
        assert!(matches!(
            parse(&text, Place::ProjectAuthJson),
            State::Parsed(Entry::Misplaced(_))
        ));
    }

    #[test]
    fn detects_url_instead_of_host() {
        let text =
            r#"{"http-basic":{"https://repo.magento.com/":{"username":"u","password":"p"}}}"#;
        assert!(matches!(
            parse(text, Place::ProjectAuthJson),
            State::Parsed(Entry::Misplaced(_))
        ));
    }

    #[test]
    fn detects_missing_password() {
        let text = r#"{"http-basic":{"repo.magento.com":{"username":"u"}}}"#;
        assert!(matches!(
            parse(text, Place::ProjectAuthJson),
            State::Parsed(Entry::Malformed(_))
        ));
    }

    #[test]
    fn finds_credentials_in_repository_urls_only() {
        let text = r#"{"repositories": [{"type": "composer", "url": "https://0123abcd:s3cret@Repo.Magento.com/"},
            {"type": "vcs", "url": "git@github.com:acme/module.git"},
            {"type": "composer", "url": "https://packages.example.org"}]}"#;
        assert_eq!(repository_url_credentials(text), vec!["repo.magento.com"]);
        let pasted = load_text(Place::ComposerJsonConfig, text, "pasted");
        assert_eq!(pasted.url_credentials, vec!["repo.magento.com"]);
        assert!(repository_url_credentials(r#""url": "https://repo.magento.com/""#).is_empty());
    }

    #[test]
    fn other_hosts_only_is_absent() {
        let text = r#"{"github-oauth":{"github.com":"t"}}"#;
        assert_eq!(
            parse(text, Place::GlobalAuthJson),
            State::Parsed(Entry::Absent)
        );
        assert_eq!(
            load_env(Place::ComposerAuthEnv, Some(""), "env").state,
            State::NotFound
        );
    }
}
