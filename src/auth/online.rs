//! The `--online` check: asks the repository whether each distinct pair is accepted.

use std::time::Duration;

use super::keys::{Pair, fingerprint};
use super::model::{OnlineOutcome, OnlineResult, Place, ViewOnline, ViewReport};

/// The default URL probed by `--online`.
pub const DEFAULT_REPO_URL: &str = "https://repo.magento.com/packages.json";

/// How long one probe may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Checks `--repo-url`: an `http://` or `https://` URL with a host. The error never
/// quotes the value, which may carry credentials.
pub fn check_url(url: &str) -> anyhow::Result<String> {
    let parsed: Result<ureq::http::Uri, _> = url.parse();
    let ok = parsed.as_ref().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
    });
    if !ok {
        anyhow::bail!(
            "--repo-url: the value given is not an http:// or https:// URL with a host; give one such as {DEFAULT_REPO_URL}"
        );
    }
    Ok(url.to_string())
}

/// The repository URL as reports show it: scheme, host, port and path. Credentials
/// (`user:password@`), the query and the fragment are replaced by `****` whatever their
/// names, since any of them may carry a token (`?access_token=`, `?key=`, `#sig=`).
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (before_query, after) = rest.split_at(end);
    // The last `@` before the query ends the credentials, even when a password holds `/`.
    let address = match before_query.rfind('@') {
        Some(at) => format!("****:****@{}", &before_query[at + 1..]),
        None => before_query.to_string(),
    };
    let mut shown = format!("{scheme}{address}");
    if after.starts_with('?') {
        shown.push_str("?****");
    }
    if after.contains('#') {
        shown.push_str("#****");
    }
    crate::mask::mask(&shown).into_owned()
}

/// Whether a checked URL sends the keys unencrypted.
pub fn is_plain_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

/// The answer the pair a view uses got, when that pair is settled and was probed.
pub fn answer_for(view: &ViewReport, results: &[OnlineResult]) -> Option<ViewOnline> {
    let place = view.used?;
    let r = results.iter().find(|r| r.places.contains(&place))?;
    Some(ViewOnline {
        outcome: r.outcome,
        status: r.status,
    })
}

/// Sends `GET url` with the pair as HTTP basic credentials and classifies the answer.
pub fn probe(url: &str, pair: &Pair, places: Vec<Place>) -> OnlineResult {
    let (outcome, status, detail) = match request(url, pair) {
        Ok(code) => (outcome_for(code), Some(code), None),
        Err(detail) => (OnlineOutcome::Unreachable, None, Some(detail)),
    };
    OnlineResult {
        fingerprint_username: fingerprint(&pair.username),
        fingerprint_password: fingerprint(&pair.password),
        places,
        outcome,
        status,
        detail,
    }
}

/// Maps an HTTP status to an outcome.
fn outcome_for(status: u16) -> OnlineOutcome {
    match status {
        200 => OnlineOutcome::Accepted,
        401 => OnlineOutcome::Rejected,
        403 => OnlineOutcome::Forbidden,
        _ => OnlineOutcome::Unexpected,
    }
}

/// Performs the request; returns the status or a description of the network failure.
fn request(url: &str, pair: &Pair) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let header = basic_auth_header(pair);
    match agent
        .get(url)
        .header("Authorization", header.as_str())
        .call()
    {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(describe_error(&e)),
    }
}

/// Describes a transport error in words that cannot contain the credentials.
fn describe_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("timed out after {} s", TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => "host not found (DNS)".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) if is_dns_failure(io) => "host not found (DNS)".to_string(),
        ureq::Error::Io(io) => format!("network error: {}", io.kind()),
        ureq::Error::BadUri(_) => "the repository URL is not valid".to_string(),
        _ => "the request failed (TLS, proxy or protocol error)".to_string(),
    }
}

/// Whether an I/O error is a failed name lookup. The standard library reports a failed
/// `getaddrinfo` as an uncategorized error whose text starts with this phrase (on Unix;
/// Windows reports `WSAHOST_NOT_FOUND`, code 11001).
fn is_dns_failure(e: &std::io::Error) -> bool {
    e.to_string()
        .starts_with("failed to lookup address information")
        || e.raw_os_error() == Some(11001)
}

/// Builds the `Authorization: Basic …` header value for a pair.
fn basic_auth_header(pair: &Pair) -> String {
    let raw = format!("{}:{}", pair.username, pair.password);
    format!("Basic {}", base64(raw.as_bytes()))
}

/// Encodes bytes as standard base64 with padding (RFC 4648), enough for one header.
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn a_repo_url_must_be_an_http_url_with_a_host() {
        for good in [
            DEFAULT_REPO_URL,
            "http://127.0.0.1:8080/packages.json",
            "HTTPS://mirror.example.com",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "repo.magento.com",
            "ftp://repo.magento.com/",
            "https://",
            "not a url",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
        let err = format!(
            "{:#}",
            check_url("user:s3cretpass@repo")
                .err()
                .unwrap_or_else(|| anyhow::anyhow!(""))
        );
        assert!(!err.contains("s3cretpass"), "{err}");
        assert!(is_plain_http("HTTP://host/") && !is_plain_http(DEFAULT_REPO_URL));
    }

    /// Regression: `--repo-url` was shown through the log masker, which knows only some
    /// parameter names: `?key=…` and `?auth=…` were echoed.
    #[test]
    fn a_shown_url_keeps_only_scheme_host_port_and_path() {
        let cases = [
            (
                "http://u:PW1234secret@127.0.0.1:9/?access_token=XYZtoken123",
                "http://****:****@127.0.0.1:9/?****",
            ),
            (
                "https://me@example.com:pa/ss@mirror.example.com/p.json?key=XYZ#sig=ABC",
                "https://****:****@mirror.example.com/p.json?****#****",
            ),
            (
                "http://host:8080/packages.json#auth=XYZ",
                "http://host:8080/packages.json#****",
            ),
            (DEFAULT_REPO_URL, DEFAULT_REPO_URL),
        ];
        for (given, shown) in cases {
            assert_eq!(shown_url(given), shown, "{given}");
        }
    }

    #[test]
    fn a_failed_lookup_is_called_dns() {
        let lookup = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(is_dns_failure(&lookup));
        assert!(!is_dns_failure(&std::io::Error::other("connection reset")));
    }

    #[test]
    fn maps_statuses() {
        assert_eq!(outcome_for(200), OnlineOutcome::Accepted);
        assert_eq!(outcome_for(401), OnlineOutcome::Rejected);
        assert_eq!(outcome_for(403), OnlineOutcome::Forbidden);
        assert_eq!(outcome_for(500), OnlineOutcome::Unexpected);
    }
}
