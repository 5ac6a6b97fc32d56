//! The secret shapes as written: each pattern, how its capture groups are read, the
//! trigger words that let it run, and the kind of secret it finds.

use super::inventory::{Label, SecretKind};

/// A JSON string value, `"…"` with backslash escapes; the closing quote may be cut off.
pub(super) const JSON_VALUE: &str = r#""((?:[^"\\]|\\.)*)"?"#;

/// A JSON string value escaped once inside another JSON string: `\"…\"`.
pub(super) const JSON_VALUE_ESCAPED: &str =
    r#"\\"((?:[^"\\]|\\\\\\\\|\\\\\\"|\\\\[^"\\])*)(?:\\")?"#;

/// A single-quoted value (PHP or shell); the closing quote may be cut off.
const SINGLE_VALUE: &str = r"'((?:[^'\\]|\\.)*)'?";

/// An unquoted value, up to whitespace, `&`, a quote, a backslash, `,` or `;`.
///
/// It never starts with `{` or `[`: those open a JSON object or array.
const BARE_VALUE: &str = r#"([^\s&"'\\,;{\[][^\s&"'\\,;]*)"#;

/// Key names whose value is a secret in `key=value`, `key: value` and `'key' => value` pairs.
const SECRET_KEY: &str = r"[a-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|consumer[_\-]?key|encryption[_\-]?key|crypt[_\-]?key|auth[_\-]?key|license[_\-]?key|fastly[_\-]?(?:api[_\-]?)?key)[a-z0-9_.\-]*";

/// Names of Composer auth maps whose entries are `"host": "token"`.
pub(super) const AUTH_MAPS: &str = "github-oauth|gitlab-oauth|gitlab-token|bearer|bitbucket-oauth";

/// A PEM private key marker's label, e.g. `RSA PRIVATE KEY` or `PGP PRIVATE KEY BLOCK`.
pub(super) const PEM_LABEL: &str = "[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?";

/// How a shape turns its capture groups into masked spans.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Every participating group is a secret.
    Groups,
    /// Like `Groups`, but values such as `YES` or `null` are left alone.
    SkipBenign,
    /// The group is a JSON object body whose string values are secrets.
    MapBody,
    /// A value written in prose after a word such as `password`: masked when quoted, or
    /// when it looks like a secret (see `looks_like_secret` in `shapes.rs`).
    Prose,
    /// A value on the line after its key, unless that line is a `key: value` of its own.
    NextLine,
    /// The rest of a table row after the name of a secret: each `|`-separated cell is
    /// masked, but for empty cells, benign words and the level of a variable.
    TableCells,
}

/// A secret shape as written: its pattern, how to read its groups, its trigger words (at
/// least one of which occurs, ASCII case-insensitively, in every match), and what kind of
/// secret it finds ([`Label`]).
type ShapeSource = (String, Kind, &'static [&'static str], Label);

/// Patterns for secrets that are the value of a named key (JSON, PHP, env, Composer).
pub(super) fn key_value_patterns() -> Vec<ShapeSource> {
    let json = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE})");
    let any = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE}|{SINGLE_VALUE}|{BARE_VALUE})");
    let sep = r#"\\*["']?\]?\s*(?:=>|[:=])\s*"#;
    vec![
        // key=value, key: value, "key": "value", 'key' => 'value' for secret key names.
        // The key must not follow `//`, so `https://x-access-token:…@host` is left to the
        // URL shape; it may follow one `/`, as a file name does (`logs/password=x.log`).
        (
            format!(r"(?i)(?:^|[^/a-z0-9_.\-]|[^/]/|^/){SECRET_KEY}{sep}{any}"),
            Kind::SkipBenign,
            &["pass", "secret", "token", "key"],
            Label::Named,
        ),
        // Composer http-basic username (the Marketplace public key).
        (format!(r#"(?i)\\*"username\\*"\s*:\s*{json}"#), Kind::SkipBenign, &["username"], Label::Username),
        // Composer maps of host => token: github-oauth, gitlab-token, bearer, ...
        (
            format!(r#"(?i)\\*"(?:{AUTH_MAPS})\\*"\s*:\s*\{{([^{{}}]*)"#),
            Kind::MapBody,
            &["github", "gitlab", "bearer", "auth"],
            Label::Is(SecretKind::Token),
        ),
        // A pretty-printed auth map entry keyed by a GitHub or GitLab host.
        (
            format!(r#"(?i)\\*"[a-z0-9.\-]*(?:github|gitlab)[a-z0-9.\-]*\\*"\s*:\s*{json}"#),
            Kind::Groups,
            &["github", "gitlab"],
            Label::Is(SecretKind::Token),
        ),
        // `composer config [--auth] github-oauth.github.com TOKEN`.
        (
            format!(r#"(?i)(?:{AUTH_MAPS})\.[a-z0-9.\-]+\]?\s+["']?([^\s"'{{]+)"#),
            Kind::Groups,
            &["github", "gitlab", "bearer", "auth"],
            Label::Is(SecretKind::Token),
        ),
        // `composer config http-basic.repo.magento.com PUBLIC PRIVATE`.
        (
            r#"(?i)http-basic\.[a-z0-9.\-]+\]?\s+["']?([^\s"'{]+)["']?(?:\s+["']?([^\s"']+))?"#.into(),
            Kind::Groups,
            &["http-basic"],
            Label::UserThenPassword(SecretKind::Password),
        ),
        // env.php: 'key' => '...' (the crypt key).
        (
            format!(r#"(?i)\\*['"]key\\*['"]\s*=>\s*(?:{SINGLE_VALUE}|{JSON_VALUE})"#),
            Kind::Groups,
            &["key"],
            Label::Is(SecretKind::EncryptionKey),
        ),
        // COMPOSER_AUTH whose value is not a JSON object (malformed, or a shell word):
        // all of it. An object's secrets are found by the shapes above, its keys kept.
        (
            r#"(?i)COMPOSER_AUTH\\*["']?\s*[=:]\s*(?:'([^'{\\](?:[^'\\]|\\.)*)'?|"([^"{\\](?:[^"\\]|\\.)*)"?|([^\s&"'\\,;{\[][^\s&"'\\,;]*))"#.into(),
            Kind::SkipBenign,
            &["auth"],
            Label::Is(SecretKind::Other),
        ),
        // MAGENTO_CLOUD_VARIABLES / _RELATIONSHIPS / _APPLICATION (base64 JSON).
        (
            r#"(?:MAGENTO_CLOUD|PLATFORM)_(?:VARIABLES|RELATIONSHIPS|APPLICATION)\\*["']?\s*[=:]\s*\\*["']?([^\s"'\\]+)"#.into(),
            Kind::Groups,
            &["magento_cloud_", "platform_"],
            Label::Is(SecretKind::CloudVariables),
        ),
    ]
}

/// Patterns for credentials recognised by their own shape (URLs, headers, tokens, flags, keys).
pub(super) fn credential_patterns() -> Vec<ShapeSource> {
    let shell = format!(r#"(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE}|{SINGLE_VALUE}|([^\s"']+))"#);
    vec![
        // user:password@ in a URL.
        (
            // The user may be an e-mail address (`me@example.com:PW@host`), and the
            // password may hold `/` unless what precedes it is a port (`host:8080/a@b`).
            r#"(?i)[a-z][a-z0-9+.\-]*://([^\s/?#:"'<>\\]*):([^\s/?#"'<>\\]*|[^\s/?#"'<>\\@]*[^\s/?#"'<>\\@0-9][^\s/?#"'<>\\@]*/[^\s?#"'<>\\@]*)@"#.into(),
            Kind::Groups,
            &["://"],
            Label::UserThenPassword(SecretKind::UrlCredentials),
        ),
        // Authorization headers, with or without a scheme word.
        (
            r#"(?i)authorization\\*["']?\s*[:=]\s*\\*["']?(?:(?:basic|bearer|token)\s+)?([^\s"'\\,;]+)"#.into(),
            Kind::Groups,
            &["auth"],
            Label::Is(SecretKind::Token),
        ),
        // A bare `Bearer <token>` outside a header.
        (
            r"(?-u:\b)Bearer\s+([A-Za-z0-9\-._~+/]{16,}=*)".into(),
            Kind::Groups,
            &["bearer"],
            Label::Is(SecretKind::Token),
        ),
        // GitHub and GitLab tokens; the prefix is kept.
        (
            r"(?:ghp|gho|ghu|ghs|ghr)_([A-Za-z0-9]{20,})|github_pat_([A-Za-z0-9_]{20,})|gl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-([A-Za-z0-9_\-]{20,})".into(),
            Kind::Groups,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github", "glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "gloas-", "glsoat-", "glft-", "glimt-", "glagent-"],
            Label::Is(SecretKind::Token),
        ),
        // Command-line flags: --db-password=x, --admin-password 'x', --key=x, --encryption-key x.
        (
            format!(
                r"(?i)--[a-z0-9\-]*(?:password|passwd|passphrase|secret|token|key)[a-z0-9\-]*(?:\s*=\s*|\s+){shell}"
            ),
            Kind::Groups,
            &["pass", "secret", "token", "key"],
            Label::Named,
        ),
        // mysql -pSECRET.
        (
            format!(r#"(?i:mysql(?:dump|admin)?)[^\r\n]*?\s-p(?:{JSON_VALUE}|{SINGLE_VALUE}|([^\s"']+))"#),
            Kind::Groups,
            &["mysql"],
            Label::Is(SecretKind::Password),
        ),
        // curl -u user:password / --user user:password.
        (
            r#"(?:^|\s)(?:-u|--user)\s*["']?([^\s:"']+):([^\s"']+)"#.into(),
            Kind::Groups,
            &["-u"],
            Label::UserThenPassword(SecretKind::Password),
        ),
        // AWS access key ids; the 4-letter prefix is kept.
        (
            r"(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)([0-9A-Z]{16})".into(),
            Kind::Groups,
            &["akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca"],
            Label::Is(SecretKind::CloudAccessKey),
        ),
        // JWTs and other base64-encoded JSON ("eyJ" is base64 for `{"`).
        (
            r"(?-u:\b)eyJ[A-Za-z0-9_\-+/]{8,}=*(?:\.[A-Za-z0-9_\-+/=]+){0,2}".into(),
            Kind::Groups,
            &["eyj"],
            Label::Is(SecretKind::Token),
        ),
        // A password written in prose: `the mysql password Qm7!x9 was refused`,
        // `our password is 'x'`. Quoted values are masked, bare ones when they look like
        // a secret rather than a word (`the password was refused` is kept).
        (
            r#"(?i)(?:^|[^a-z0-9_\-])(?:password|passwd|passphrase|passwort)(?:\s+(?:is|was))?\s+(?:"([^"\s]+)"|'([^'\s]+)'|`([^`\s]+)`|([^\s"'`]+))"#.into(),
            Kind::Prose,
            &["pass"],
            Label::Is(SecretKind::Password),
        ),
        // PEM private keys: the body up to the END marker, or to the end of the text.
        (
            format!(r"-----BEGIN {PEM_LABEL}-----((?s:.)*?)(?:-----END {PEM_LABEL}-----|\z)"),
            Kind::Groups,
            &["-----begin"],
            Label::Is(SecretKind::PrivateKey),
        ),
    ]
}

/// Secret key names in a Magento configuration path or a variable table (`…/private_key`,
/// `env:ADMIN_PASSWORD`): wider than [`SECRET_KEY`], since a path or a variable named so
/// holds nothing but the secret.
const SECRET_NAME: &str = r"(?:password|passwd|passphrase|secret|token|key|license|credential|private|signature|crypt|salt|auth)";

/// Patterns for secrets in the shapes Magento, PHP and the Cloud tools print them.
pub(super) fn platform_patterns() -> Vec<ShapeSource> {
    let any = format!("(?:{JSON_VALUE}|{SINGLE_VALUE}|{BARE_VALUE})");
    let arg = r#"(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,()'"]*)"#;
    let name_words: &'static [&'static str] = &[
        "pass",
        "secret",
        "token",
        "key",
        "license",
        "credential",
        "private",
        "signature",
        "crypt",
        "salt",
        "auth",
    ];
    vec![
        // `bin/magento config:set [options] PATH VALUE` and `config:sensitive:set`: the
        // value, whatever the path (a configuration value set by hand is often a key).
        (
            format!(
                r#"(?i)config:(?:sensitive:)?set(?:\s+(?:--scope(?:-code)?(?:=|\s+)[^\s'"]+|-{{1,2}}[a-z][a-z\-]*(?:=[^\s'"]+)?))*\s+(?:'[^']*'|"[^"]*"|[^\s'"\-][^\s'"]*)\s+(?:{JSON_VALUE}|{SINGLE_VALUE}|([^\s"']+))"#
            ),
            Kind::Groups,
            &["config:"],
            Label::Named,
        ),
        // A PHP stack trace of `new PDO(dsn, user, password)`: the third argument.
        (
            format!(
                r#"(?i)PDO(?:->|::)__construct\(\s*{arg}\s*,\s*{arg}\s*,\s*(?:'((?:[^'\\]|\\.)*)'?|"((?:[^"\\]|\\.)*)"?|([^,()\s'"]+))"#
            ),
            Kind::SkipBenign,
            &["__construct"],
            Label::Is(SecretKind::Password),
        ),
        // print_r and var_dump: `[password] => X`, `["password"]=> string(5) "X"`,
        // `[password:protected] => X`. A print_r value runs to the end of its line (or
        // to the next `[key]` when the dump is on one line).
        (
            format!(
                r#"(?im)\[\s*["']?{SECRET_KEY}["']?(?::[a-z]+)?\s*\]\s*=>\s*(?:string\(\d+\)\s*)?(?:"((?:[^"\\]|\\.)*)"?|([^\s\[\]"][^\r\n]*?)(?:\s+\[|\s+\)|[ \t]*\r?$))"#
            ),
            Kind::SkipBenign,
            &["pass", "secret", "token", "key"],
            Label::Named,
        ),
        // `composer config -l`: `[http-basic.repo.magento.com.password] X`,
        // `[github-oauth.github.com] X`, `[bearer.repo.example.com] X`.
        (
            format!(
                r#"(?im)\[(?:http-basic|{AUTH_MAPS})\.[^\]\s]+\]\s+(?:{JSON_VALUE}|([^\s{{"][^\r\n]*?))[ \t]*\r?$"#
            ),
            Kind::SkipBenign,
            &["http-basic", "github", "gitlab", "bearer", "auth"],
            Label::Named,
        ),
        // New Relic: `newrelic.license = "…"` in php.ini, and a bare license key (40
        // characters, the last four `NRAL`).
        (
            format!(r#"(?i)newrelic\.license\s*=\s*{any}"#),
            Kind::SkipBenign,
            &["newrelic"],
            Label::Is(SecretKind::Token),
        ),
        (
            r"(?-u:\b)(?:eu01xx|gov01x)?([0-9A-Za-z]{30,36}NRAL)(?-u:\b)".into(),
            Kind::Groups,
            &["nral"],
            Label::Is(SecretKind::Token),
        ),
        // `bin/magento config:show` prints `path - value`: the value of a path named as
        // a secret (`payment/braintree/private_key - …`).
        (
            format!(
                r"(?im)(?:^|\s)/?(?:[a-z0-9_]+/)+[a-z0-9_]*{SECRET_NAME}[a-z0-9_]*\s+-\s+(\S[^\r\n]*?)[ \t]*(?:\r?$|:\s)"
            ),
            Kind::SkipBenign,
            name_words,
            Label::Named,
        ),
        // ece-tools and `magento-cloud variable:list` tables: every cell after a name
        // cell naming a secret (`| env:ADMIN_PASSWORD | project | … |`).
        (
            format!(r"(?i)\|\s*(?:env:)?[a-z0-9_.\-]*{SECRET_NAME}[a-z0-9_.\-]*\s*\|([^\r\n]*)"),
            Kind::TableCells,
            name_words,
            Label::Named,
        ),
        // PHP constants: `define('DB_PASSWORD', '…')`.
        (
            format!(r#"(?i)define\s*\(\s*['"]{SECRET_KEY}['"]\s*,\s*{any}"#),
            Kind::SkipBenign,
            &["define"],
            Label::Named,
        ),
        // A pretty-printed JSON entry keyed by a host name, as in an auth.json `bearer`
        // or `gitlab-token` map: `"repo.example.com": "…"`.
        (
            format!(
                r#"(?i)\\*"(?:[a-z0-9\-]+\.)+[a-z]{{2,}}(?::\d+)?\\*"\s*:\s*(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE})"#
            ),
            Kind::SkipBenign,
            &["\""],
            Label::Is(SecretKind::Token),
        ),
        // A YAML key naming a secret whose value is on the next line (or is a block
        // scalar): `password:` then `  Qm7!xv9`. A next line that is a key of its own
        // (`host: db`) is not the value.
        (
            format!(
                r#"(?im)^[ \t\-]*["']?{SECRET_KEY}["']?[ \t]*:[ \t]*(?:[|>][+\-]?)?[ \t]*\r?\n[ \t]*(?:{JSON_VALUE}|{SINGLE_VALUE}|([^\s"'#][^\r\n]*?))[ \t]*\r?$"#
            ),
            Kind::NextLine,
            &["pass", "secret", "token", "key"],
            Label::Named,
        ),
    ]
}
