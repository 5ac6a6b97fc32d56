//! What secrets a text holds, by kind: for telling the person who pasted a log what they
//! shared, and for removing every copy of those values from a report.
//!
//! [`find_secrets`] runs the same shapes as [`super::mask`] and labels what each found.
//! The values it returns are never printed: callers count them and redact them.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::hex::hex_key_spans;
use super::hidden::{has_hidden, strip_hidden};
use super::shapes::{SHAPES, is_masked};

/// What kind of secret a value is, in the words a customer would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    /// A repo.magento.com access key: 32 lowercase hex digits.
    AccessKey,
    /// A password (database, admin, HTTP basic, or one written in prose).
    Password,
    /// `user:password@` in a URL, such as a Composer repository URL.
    UrlCredentials,
    /// An API or OAuth token, a bearer token, a JWT.
    Token,
    /// A PEM private key.
    PrivateKey,
    /// A cloud provider access key id (AWS).
    CloudAccessKey,
    /// Magento's encryption (crypt) key.
    EncryptionKey,
    /// The base64 Cloud variables or relationships, which hold service passwords.
    CloudVariables,
    /// Any other value of a key named like a secret.
    Other,
}

/// How a masking shape's captures become kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    /// Every capture is this kind.
    Is(SecretKind),
    /// The key name in the match tells (`password`, `token`, `crypt_key`, ...).
    Named,
    /// A user name: counted only when it is an access key.
    Username,
    /// Capture 1 is a user name (not counted unless an access key), the rest of this kind.
    UserThenPassword(SecretKind),
}

/// One secret found in a text. `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct FoundSecret {
    pub kind: SecretKind,
    /// The value as it appears in the text; a value a wrap split over lines is found
    /// whole, and its pieces are listed as values of their own (not counted).
    pub value: String,
    /// Whether it counts as a secret of its own: a user name, or a piece of a value that
    /// is listed whole too, is not counted but still redacted.
    pub counted: bool,
}

impl fmt::Debug for FoundSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FoundSecret")
            .field("kind", &self.kind)
            .field("chars", &self.value.chars().count())
            .field("counted", &self.counted)
            .finish()
    }
}

/// Pieces of a wrapped value shorter than this are not listed on their own: they would
/// match too much ordinary text when redacted.
const MIN_PIECE: usize = 4;

/// Finds every secret in `text` (which may hold many lines), each distinct value once.
pub fn find_secrets(text: &str) -> Vec<FoundSecret> {
    let clean = if has_hidden(text) {
        Cow::Owned(strip_hidden(text))
    } else {
        Cow::Borrowed(text)
    };
    let text = clean.as_ref();
    let mut found = Vec::new();
    access_keys(text, &mut found);
    let words = SHAPES.found_in(text);
    for shape in SHAPES.shapes.iter().filter(|r| r.triggers & words != 0) {
        shape.each_secret(text, &mut |range, whole, group| {
            if let Some(value) = text.get(range.clone()) {
                let before = text.get(whole.start..range.start).unwrap_or("");
                let (kind, counted) = classify(shape.label, group, value, before);
                push_value(&mut found, kind, value, counted);
            }
        });
    }
    found
}

/// Adds the 32-hex keys, joining the halves of one a wrap split.
fn access_keys(text: &str, found: &mut Vec<FoundSecret>) {
    let mut spans: Vec<Range<usize>> = Vec::new();
    hex_key_spans(text, &mut spans);
    let mut iter = spans.into_iter();
    while let Some(span) = iter.next() {
        let Some(value) = text.get(span.clone()) else {
            continue;
        };
        if value.len() == 32 {
            push_value(found, SecretKind::AccessKey, value, true);
            continue;
        }
        let Some(rest) = iter.next().and_then(|r| text.get(r)) else {
            continue;
        };
        push_value(
            found,
            SecretKind::AccessKey,
            &format!("{value}{rest}"),
            true,
        );
        push_value(found, SecretKind::AccessKey, value, false);
        push_value(found, SecretKind::AccessKey, rest, false);
    }
}

/// The kind of a captured value, and whether it counts on its own.
fn classify(label: Label, group: usize, value: &str, before: &str) -> (SecretKind, bool) {
    if is_access_key(value) {
        return (SecretKind::AccessKey, true);
    }
    match label {
        Label::Is(kind) => (kind, true),
        Label::Username => (SecretKind::Other, false),
        Label::UserThenPassword(kind) => (kind, group != 1),
        Label::Named => (kind_by_name(before), true),
    }
}

/// The kind a key name (the text of the match before the value) tells.
fn kind_by_name(name: &str) -> SecretKind {
    let name = name.to_ascii_lowercase();
    if name.contains("pass") {
        SecretKind::Password
    } else if name.contains("crypt") || name.contains("encryption") {
        SecretKind::EncryptionKey
    } else if name.contains("token") {
        SecretKind::Token
    } else {
        SecretKind::Other
    }
}

/// Whether `value` is a Marketplace key: exactly 32 lowercase hex digits.
fn is_access_key(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Records a value once: a counted finding or an access key wins over an earlier one of
/// the same value. A value spread over lines also records its lines as pieces.
fn push_value(found: &mut Vec<FoundSecret>, kind: SecretKind, value: &str, counted: bool) {
    let value = value.trim();
    if value.is_empty() || is_masked(value) {
        return;
    }
    if value.contains('\n') {
        // A key wrapped inside a quoted value: the joined key is what counts.
        let joined: String = value.split_whitespace().collect();
        if is_access_key(&joined) {
            push_value(found, SecretKind::AccessKey, &joined, counted);
            for piece in value.split_whitespace() {
                push_value(found, SecretKind::AccessKey, piece, false);
            }
            return;
        }
        for piece in value.lines().map(str::trim) {
            if piece.chars().count() >= MIN_PIECE {
                push_value(found, kind, piece, false);
            }
        }
    }
    match found.iter_mut().find(|f| f.value == value) {
        Some(known) => {
            if counted && (!known.counted || kind == SecretKind::AccessKey) {
                known.kind = kind;
                known.counted = true;
            }
        }
        None => found.push(FoundSecret {
            kind,
            value: value.to_owned(),
            counted,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(text: &str) -> Vec<SecretKind> {
        let mut kinds: Vec<SecretKind> = find_secrets(text)
            .into_iter()
            .filter(|f| f.counted)
            .map(|f| f.kind)
            .collect();
        kinds.sort();
        kinds
    }

    #[test]
    fn an_auth_json_holds_two_access_keys() {
        let text = "{\"http-basic\": {\"repo.magento.com\": {\n  \"username\": \"0123456789abcdef0123456789abcdef\",\n  \"password\": \"fedcba9876543210fedcba9876543210\"\n}}}";
        assert_eq!(
            counted(text),
            vec![SecretKind::AccessKey, SecretKind::AccessKey]
        );
    }

    #[test]
    fn a_key_wrapped_over_two_lines_is_one_key_and_both_halves_are_listed() {
        let text = "the key 0123456789abcdef01234\n56789abcdef was pasted";
        let found = find_secrets(text);
        assert_eq!(counted(text), vec![SecretKind::AccessKey]);
        assert!(found.iter().any(|f| f.value == "56789abcdef" && !f.counted));
        assert!(
            found
                .iter()
                .any(|f| f.value == "0123456789abcdef01234" && !f.counted)
        );
    }

    #[test]
    fn prose_passwords_urls_and_tokens_are_told_apart() {
        let text = "The mysql password Qm7!xv9Lp was refused.\n\
            \"url\": \"https://agency:S3cretPass@repo.magento.com\"\n\
            Authorization: Bearer abcdefghijklmnopqrstuvwx";
        assert_eq!(
            counted(text),
            vec![
                SecretKind::Password,
                SecretKind::UrlCredentials,
                SecretKind::Token
            ]
        );
        // The URL's user name is redacted but not counted.
        assert!(
            find_secrets(text)
                .iter()
                .any(|f| f.value == "agency" && !f.counted)
        );
    }

    #[test]
    fn a_key_wrapped_inside_a_quoted_value_is_one_access_key() {
        let text = "{\"password\": \"0123456789abcdef0123\n456789abcdef\"}";
        assert_eq!(counted(text), vec![SecretKind::AccessKey]);
        assert!(
            find_secrets(text)
                .iter()
                .any(|f| f.value == "456789abcdef" && !f.counted)
        );
    }

    #[test]
    fn the_same_value_twice_counts_once() {
        let text = "password=Hunter2024!\nagain: password=Hunter2024!";
        assert_eq!(counted(text), vec![SecretKind::Password]);
    }

    #[test]
    fn text_without_secrets_finds_none_and_masks_are_not_counted() {
        assert!(find_secrets("The password was refused for user magento").is_empty());
        assert!(find_secrets("\"password\": \"****\"").is_empty());
    }

    #[test]
    fn debug_hides_the_value() {
        let found = find_secrets("password=Hunter2024!");
        assert!(!format!("{found:?}").contains("Hunter"));
    }
}
