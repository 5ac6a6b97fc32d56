//! Key pairs, fingerprints and the format checks for Marketplace access keys.

use std::fmt;

use sha2::{Digest, Sha256};

/// Length of a Marketplace public or private access key.
pub const KEY_LEN: usize = 32;

/// A random key for this run: fingerprints compare values within one run, and cannot be
/// checked against a list of common passwords (an unkeyed hash of `Summer2024!` can).
static RUN_KEY: std::sync::LazyLock<[u8; 32]> = std::sync::LazyLock::new(|| {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&state.hash_one(i).to_le_bytes());
    }
    key
});

/// A public/private key pair read from one place; `Debug` shows fingerprints only.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    /// The public key, used by Composer as the HTTP basic user name.
    pub username: String,
    /// The private key, used by Composer as the HTTP basic password.
    pub password: String,
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("username", &fingerprint(&self.username))
            .field("password", &fingerprint(&self.password))
            .finish()
    }
}

/// Shortens a secret to something that tells places apart within one run: 8 hex digits of
/// a SHA-256 keyed with a random key per run ([`RUN_KEY`]), after the first 4 characters
/// when the value has the shape of a Marketplace key (32 lowercase hex digits, which no
/// list of human passwords holds). A value of any other shape, such as a password typed
/// in place of a key, shows nothing of itself.
pub fn fingerprint(secret: &str) -> String {
    if secret.is_empty() {
        return "(empty)".to_string();
    }
    let digest = Sha256::new()
        .chain_update(RUN_KEY.as_slice())
        .chain_update(secret.as_bytes())
        .finalize();
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let prefix: String = if classify(secret) == Shape::Marketplace {
        secret.chars().take(4).collect()
    } else {
        String::new()
    };
    format!("{prefix}…{hash}")
}

/// What a key value looks like, judged without revealing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// 32 lowercase hexadecimal characters: what the Marketplace issues.
    Marketplace,
    /// 32 letters and digits but not lowercase hex: plausible, worth a second look.
    Alphanumeric,
    /// Looks like an e-mail address (a Marketplace login, not an access key).
    Email,
    /// Looks like a MAGEID such as `MAG123456789` (an account id, not an access key).
    MageId,
    /// Nothing at all.
    Empty,
    /// Leading or trailing spaces or line breaks, usually from copy and paste.
    Whitespace,
    /// Letters and digits, but not 32 of them.
    WrongLength(usize),
    /// Characters other than letters and digits.
    BadCharacters,
}

/// Classifies a key value; the checks go from the most specific mistake to the most generic.
pub fn classify(value: &str) -> Shape {
    let len = value.chars().count();
    if value.is_empty() {
        Shape::Empty
    } else if value.trim() != value {
        Shape::Whitespace
    } else if looks_like_email(value) {
        Shape::Email
    } else if looks_like_mageid(value) {
        Shape::MageId
    } else if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Shape::BadCharacters
    } else if len != KEY_LEN {
        Shape::WrongLength(len)
    } else if value.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        Shape::Marketplace
    } else {
        Shape::Alphanumeric
    }
}

/// Returns whether the shape is acceptable as a key (exactly 32 letters and digits).
pub fn is_well_formed(shape: Shape) -> bool {
    matches!(shape, Shape::Marketplace | Shape::Alphanumeric)
}

/// Describes a malformed shape without quoting the value.
pub fn describe(shape: Shape) -> String {
    match shape {
        Shape::Marketplace => "is 32 lowercase hex characters".to_string(),
        Shape::Alphanumeric => "is 32 letters and digits but not lowercase hex".to_string(),
        Shape::Email => "looks like an e-mail address".to_string(),
        Shape::MageId => "looks like a MAGEID".to_string(),
        Shape::Empty => "is empty".to_string(),
        Shape::Whitespace => "has leading or trailing spaces or line breaks".to_string(),
        Shape::WrongLength(n) => format!("has {n} characters instead of {KEY_LEN}"),
        Shape::BadCharacters => "contains characters other than letters and digits".to_string(),
    }
}

/// Returns whether the value has the form `local@domain.tld`.
fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.contains('@'),
        None => false,
    }
}

/// Returns whether the value is `MAG` followed by digits, in any letter case.
fn looks_like_mageid(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    match upper.strip_prefix("MAG") {
        Some(rest) => !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_shows_prefix_and_hash_only() {
        let key = "0123456789abcdef0123456789abcdef";
        let fp = fingerprint(key);
        assert!(fp.starts_with("0123…"));
        assert_eq!(fp.chars().count(), 4 + 1 + 8);
        assert!(!fp.contains(key));
    }

    /// Regression: a human password's fingerprint was its first 4 characters and an
    /// unkeyed SHA-256, which anyone can check against a list of common passwords.
    #[test]
    fn a_password_shows_nothing_of_itself_and_no_unkeyed_hash() {
        let fp = fingerprint("Summer2024!");
        assert!(fp.starts_with('…'), "{fp}");
        let unkeyed = Sha256::digest(b"Summer2024!");
        let unkeyed: String = unkeyed.iter().take(4).map(|b| format!("{b:02x}")).collect();
        assert!(!fp.contains(&unkeyed), "{fp}");
        assert_eq!(fp, fingerprint("Summer2024!"), "the same within a run");
        assert!(fingerprint("Alphanumeric0123456789ABCDEFGHIJ").starts_with('…'));
    }

    #[test]
    fn fingerprint_of_short_secret_has_no_prefix() {
        assert!(fingerprint("abc").starts_with('…'));
        assert_eq!(fingerprint(""), "(empty)");
    }

    #[test]
    fn fingerprints_differ_for_different_keys() {
        assert_ne!(
            fingerprint("0123456789abcdef0123456789abcdef"),
            fingerprint("0123456789abcdef0123456789abcdee")
        );
    }

    #[test]
    fn classifies_common_shapes() {
        assert_eq!(
            classify("0123456789abcdef0123456789abcdef"),
            Shape::Marketplace
        );
        assert_eq!(
            classify("0123456789ABCDEF0123456789abcdez"),
            Shape::Alphanumeric
        );
        assert_eq!(classify("dev@example.com"), Shape::Email);
        assert_eq!(classify("MAG123456789"), Shape::MageId);
        assert_eq!(classify("mag123456789"), Shape::MageId);
        assert_eq!(classify(""), Shape::Empty);
        assert_eq!(
            classify(" 0123456789abcdef0123456789abcdef"),
            Shape::Whitespace
        );
        assert_eq!(classify("0123456789abcdef\n"), Shape::Whitespace);
        assert_eq!(classify("abc123"), Shape::WrongLength(6));
        assert_eq!(
            classify("0123456789abcdef-0123456789abcde"),
            Shape::BadCharacters
        );
        assert_eq!(classify("MAGENTO"), Shape::WrongLength(7));
    }

    #[test]
    fn debug_of_pair_hides_keys() {
        let pair = Pair {
            username: "0123456789abcdef0123456789abcdef".into(),
            password: "fedcba9876543210fedcba9876543210".into(),
        };
        let shown = format!("{pair:?}");
        assert!(!shown.contains(&pair.username));
        assert!(!shown.contains(&pair.password));
    }
}
