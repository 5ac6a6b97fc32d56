//! The customer-facing wording the reply adds to the rules' own text: how secrets are
//! named and rotated, and the steps that findings in pasted configuration call for.

use crate::mask::SecretKind;

/// A kind of secret as the reply names it, for a count of `n`.
pub fn secret_noun(kind: SecretKind, n: usize) -> String {
    let (one, many) = match kind {
        SecretKind::AccessKey => (
            "repo.magento.com access key",
            "repo.magento.com access keys",
        ),
        SecretKind::Password => ("password", "passwords"),
        SecretKind::UrlCredentials => (
            "user name and password inside a URL",
            "user names and passwords inside URLs",
        ),
        SecretKind::Token => ("access token", "access tokens"),
        SecretKind::PrivateKey => ("private key", "private keys"),
        SecretKind::CloudAccessKey => ("cloud provider access key", "cloud provider access keys"),
        SecretKind::EncryptionKey => ("Magento encryption key", "Magento encryption keys"),
        SecretKind::CloudVariables => (
            "encoded Cloud variables value (it holds service credentials)",
            "encoded Cloud variables values (they hold service credentials)",
        ),
        SecretKind::Other => ("other secret value", "other secret values"),
    };
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What the customer does about a kind of secret that was in their message.
pub fn rotation_step(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::AccessKey => {
            "Replace the access keys: the Primary Contact creates a new pair in the Commerce Marketplace (My Profile > Access Keys), you put it in `env:COMPOSER_AUTH`, and then they click Disable next to the old pair."
        }
        SecretKind::Password => {
            "Change the passwords that were in your message, and update them wherever they are configured."
        }
        SecretKind::UrlCredentials => {
            "Remove the user name and password from the repository URL in `composer.json` (the URL keeps only the host, such as `https://repo.magento.com/`), commit and push; then replace those credentials, since they are in the repository's history."
        }
        SecretKind::Token => {
            "Revoke the access tokens that were in your message with the service that issued them, and create new ones."
        }
        SecretKind::PrivateKey => {
            "Replace the private key: create a new key pair, and remove the old public key wherever it is authorised (the Cloud project's SSH keys, Git hosting)."
        }
        SecretKind::CloudAccessKey => {
            "Deactivate the cloud provider access key in your provider's console and create a new one."
        }
        SecretKind::EncryptionKey => {
            "Plan a change of the Magento encryption key (`crypt/key` in `app/etc/env.php`), following Adobe's encryption key procedure; data encrypted with the old key is re-encrypted as part of it."
        }
        SecretKind::CloudVariables => {
            "Change the values of the sensitive project variables that the encoded Cloud variables contained."
        }
        SecretKind::Other => {
            "Replace the other secret values that were in your message (API keys, a `COMPOSER_AUTH` value)."
        }
    }
}

/// The step a finding of `magediag auth` on pasted configuration calls for, in the
/// customer's terms; `None` when the rule's own steps already say it.
pub fn finding_step(id: &str) -> Option<&'static str> {
    Some(match id {
        "keys-conflict" => {
            "Keep one key pair, in one place: put the pair that works in the `env:COMPOSER_AUTH` project variable, and delete the other copies (the project `auth.json`, or an `http-basic` entry in `composer.json`)."
        }
        "auth-json-tracked" => {
            "Take `auth.json` out of the repository: `git rm --cached auth.json`, add `auth.json` to `.gitignore`, commit and push. Every clone holds its keys, so replace them too."
        }
        "keys-in-composer-json" => {
            "Remove the `http-basic` entry from the `config` section of `composer.json`, commit and push, and replace the keys it held."
        }
        "username-is-email" | "username-is-mageid" => {
            "Use the access keys, not the Marketplace login: the public key goes in `username` and the private key in `password`."
        }
        "malformed-key" | "key-not-hex" => {
            "Copy both keys again from the Commerce Marketplace (My Profile > Access Keys), without spaces or line breaks."
        }
        "invalid-json" | "entry-misplaced" | "malformed-entry" => {
            "Write the value in exactly this shape, checked with a JSON validator before you save it: `{\"http-basic\": {\"repo.magento.com\": {\"username\": \"<public key>\", \"password\": \"<private key>\"}}}`."
        }
        _ => return None,
    })
}

/// The step for a `COMPOSER_AUTH` that is set only at environment level.
pub const PROJECT_LEVEL_STEP: &str = "Delete the environment-level `env:COMPOSER_AUTH` and keep the keys in a project-level one, visible during the build: the build does not see environment-level variables.";

/// What a loopback database override means and what to do about it.
pub fn database_step(address: &str) -> String {
    format!(
        "Remove the `host` and `port` ({address}) from `DATABASE_CONFIGURATION` in `.magento.env.yaml` (or the whole block, if it only moved the connection), commit and push. On Cloud the database is its own service, and ece-tools finds it through the `database` relationship; a local address only works on a machine with a tunnel to it, so keep such settings in your local configuration."
    )
}

/// First words of titles that read as a clause after "because" once lowercased.
const LOWERCASE_OPENERS: &[&str] = &["The", "A", "An", "No", "Static", "Packages", "Repository"];

/// A rule title as the end of the sentence "Your deployment failed because …".
pub fn title_as_clause(title: &str) -> String {
    let first = title.split_whitespace().next().unwrap_or("");
    if LOWERCASE_OPENERS.contains(&first) {
        let mut chars = title.chars();
        let head: String = chars
            .next()
            .map(|c| c.to_lowercase().collect())
            .unwrap_or_default();
        format!("{head}{}", chars.as_str())
    } else {
        title.to_owned()
    }
}

/// Makes a cause or step start in lowercase when it follows a colon.
pub fn lowercase_first(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let keep = first.chars().skip(1).any(char::is_uppercase) || first.contains('.');
    if keep
        || !LOWERCASE_OPENERS
            .iter()
            .chain(&["If", "Each", "Many", "Neither", "Composer's", "On"])
            .any(|w| *w == first)
    {
        return text.to_owned();
    }
    let mut chars = text.chars();
    let head: String = chars
        .next()
        .map(|c| c.to_lowercase().collect())
        .unwrap_or_default();
    format!("{head}{}", chars.as_str())
}

/// A version as Composer writes it: the archive form `102.0.6.0-patch3` becomes
/// `102.0.6-p3`, and `101.4.1.0` becomes `101.4.1`.
pub fn composer_version(version: &str) -> String {
    let (base, patch) = match version.split_once("-patch") {
        Some((base, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            (base, Some(n))
        }
        _ => (version, None),
    };
    let parts: Vec<&str> = base.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let base = if numeric && parts.len() == 4 && parts[3] == "0" {
        parts[..3].join(".")
    } else {
        base.to_owned()
    };
    match patch {
        Some(n) => format!("{base}-p{n}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_versions_are_written_as_composer_does() {
        assert_eq!(composer_version("102.0.6.0-patch3"), "102.0.6-p3");
        assert_eq!(composer_version("101.4.1.0"), "101.4.1");
        assert_eq!(composer_version("104.0.6"), "104.0.6");
        assert_eq!(composer_version("2.4.6-p2"), "2.4.6-p2");
        assert_eq!(composer_version("2.4.6.1"), "2.4.6.1");
        assert_eq!(composer_version("dev-main"), "dev-main");
    }

    #[test]
    fn titles_read_as_the_end_of_a_sentence() {
        assert_eq!(title_as_clause("The disk is full"), "the disk is full");
        assert_eq!(
            title_as_clause("Composer ran out of memory"),
            "Composer ran out of memory"
        );
        assert_eq!(
            title_as_clause("repo.magento.com rejected the access keys"),
            "repo.magento.com rejected the access keys"
        );
    }

    #[test]
    fn every_kind_of_secret_has_a_noun_and_a_step() {
        use SecretKind::*;
        for kind in [
            AccessKey,
            Password,
            UrlCredentials,
            Token,
            PrivateKey,
            CloudAccessKey,
            EncryptionKey,
            CloudVariables,
            Other,
        ] {
            assert!(secret_noun(kind, 2).starts_with("2 "));
            assert!(!rotation_step(kind).contains("magediag"));
        }
        assert_eq!(secret_noun(SecretKind::Password, 1), "1 password");
    }
}
