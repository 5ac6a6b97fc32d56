//! The `--online` check: asks the repository whether each distinct pair is accepted.

use std::time::Duration;

use super::keys::{Pair, fingerprint};
use super::model::{OnlineOutcome, OnlineResult, Place};

/// The default URL probed by `--online`.
pub const DEFAULT_REPO_URL: &str = "https://repo.magento.com/packages.json";

/// How long one probe may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

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
        ureq::Error::Io(io) => format!("network error: {}", io.kind()),
        ureq::Error::BadUri(_) => "the repository URL is not valid".to_string(),
        _ => "the request failed (TLS, proxy or protocol error)".to_string(),
    }
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
    fn maps_statuses() {
        assert_eq!(outcome_for(200), OnlineOutcome::Accepted);
        assert_eq!(outcome_for(401), OnlineOutcome::Rejected);
        assert_eq!(outcome_for(403), OnlineOutcome::Forbidden);
        assert_eq!(outcome_for(500), OnlineOutcome::Unexpected);
    }
}
