//! Property tests for the secret masker: idempotence, no leaked fragments, no panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use magediag::testing::mask::mask;
use proptest::prelude::*;
use proptest::sample::select;

/// A generated line and the secrets it carries.
#[derive(Debug, Clone)]
struct Case {
    /// The line to mask.
    line: String,
    /// The secret parts of `line` (without kept prefixes such as `ghp_`).
    secrets: Vec<String>,
}

impl Case {
    /// Builds a case with one secret.
    fn one(line: String, secret: &str) -> Self {
        Self {
            line,
            secrets: vec![secret.to_owned()],
        }
    }
}

/// Asserts that no 8-character window of any secret survives masking.
///
/// A window that also occurs in the line with the secrets removed (key names,
/// surrounding text) is not evidence of a leak and is skipped.
fn assert_no_fragment(case: &Case, out: &str) {
    let mut context = case.line.clone();
    for secret in &case.secrets {
        context = context.replace(secret.as_str(), "\u{0}");
    }
    for secret in &case.secrets {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(8) {
            let window: String = window.iter().collect();
            if context.contains(&window) {
                continue;
            }
            assert!(
                !out.contains(&window),
                "fragment {window:?} of {secret:?} leaked\n  in: {:?}\n out: {out:?}",
                case.line
            );
        }
    }
}

/// Surrounding text: printable characters from any script, then a separating space.
fn around() -> impl Strategy<Value = (String, String)> {
    ("\\PC{0,20}", "\\PC{0,20}").prop_map(|(a, b)| (format!("{a} "), format!(" {b}")))
}

/// Wraps a shape's line in random surrounding text.
fn embed(shape: impl Strategy<Value = Case>) -> impl Strategy<Value = Case> {
    (around(), shape).prop_map(|((pre, post), case)| Case {
        line: format!("{pre}{}{post}", case.line),
        secrets: case.secrets,
    })
}

/// Composer http-basic credentials in auth.json, plain or escaped inside a JSON string.
fn composer_http_basic() -> impl Strategy<Value = Case> {
    ("[ -~]{8,30}", "[ -~]{8,30}", any::<bool>()).prop_map(|(user, pass, escaped)| {
        let doc = serde_json::json!({"http-basic": {"repo.magento.com": {"username": user, "password": pass}}})
            .to_string();
        let line = if escaped {
            format!("COMPOSER_AUTH={}", serde_json::Value::String(doc))
        } else {
            format!("export COMPOSER_AUTH='{doc}'")
        };
        let inner = |s: &str| {
            let level0 = json_inner(s);
            if escaped { json_inner(&level0) } else { level0 }
        };
        Case {
            line,
            secrets: vec![inner(&user), inner(&pass)],
        }
    })
}

/// The JSON-encoded form of `s` without its quotes, as it appears in the line.
///
/// Escaping may split a raw secret, so fragments are checked on the encoded text.
fn json_inner(s: &str) -> String {
    let encoded = serde_json::Value::String(s.to_owned()).to_string();
    encoded[1..encoded.len() - 1].to_owned()
}

/// Composer token maps: github-oauth, gitlab-token, gitlab-oauth, bearer.
fn composer_token_map() -> impl Strategy<Value = Case> {
    let maps = select(vec![
        "github-oauth",
        "gitlab-token",
        "gitlab-oauth",
        "bearer",
    ]);
    (maps, "[a-z]{3,10}\\.com", "[A-Za-z0-9_.-]{8,40}").prop_map(|(map, host, token)| {
        let line = format!(r#"{{"{map}": {{"{host}": "{token}"}}}}"#);
        Case::one(line, &token)
    })
}

/// 32-hex Marketplace keys, bare, quoted or in `composer config`.
fn marketplace_key() -> impl Strategy<Value = Case> {
    let forms = select(vec!["{}", "\"{}\"", "'{}'", "public_key={}&x=1"]);
    (forms, "[0-9a-f]{32}").prop_map(|(form, key)| Case::one(form.replace("{}", &key), &key))
}

/// `user:password@` inside URLs; the host and path must survive.
fn url_credentials() -> impl Strategy<Value = Case> {
    let schemes = select(vec!["https", "http", "mysql", "redis", "ssh", "git+https"]);
    let user = "[A-Za-z0-9._~-]{8,20}";
    let pass = "[A-Za-z0-9._~!$*+=-]{8,20}";
    (schemes, user, pass).prop_map(|(scheme, user, pass)| Case {
        line: format!("{scheme}://{user}:{pass}@repo.example.org/archives/vendor/pkg.zip"),
        secrets: vec![user, pass],
    })
}

/// Authorization headers in any case.
fn authorization() -> impl Strategy<Value = Case> {
    let names = select(vec!["Authorization", "authorization", "AUTHORIZATION"]);
    let schemes = select(vec!["Basic ", "Bearer ", "token ", "bearer ", ""]);
    (names, schemes, "[A-Za-z0-9+/._-]{8,40}={0,2}")
        .prop_map(|(name, scheme, value)| Case::one(format!("{name}: {scheme}{value}"), &value))
}

/// GitHub and GitLab tokens; the secret is the part after the kept prefix.
fn vendor_token() -> impl Strategy<Value = Case> {
    let github = (
        select(vec!["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]),
        "[A-Za-z0-9]{36}",
    );
    let pat = (Just("github_pat_"), "[A-Za-z0-9_]{22,82}");
    let gitlab = (Just("glpat-"), "[A-Za-z0-9_-]{20}");
    prop_oneof![github, pat, gitlab]
        .prop_map(|(prefix, body)| Case::one(format!("{prefix}{body}"), &body))
}

/// `bin/magento setup:install` secret flags in `=`, space and quoted forms.
fn setup_flag() -> impl Strategy<Value = Case> {
    let flags = select(vec![
        "--db-password",
        "--admin-password",
        "--amqp-password",
        "--elasticsearch-password",
        "--opensearch-password",
        "--session-save-redis-password",
        "--cache-backend-redis-password",
        "--key",
        "--encryption-key",
    ]);
    let forms = select(vec!["={}", " {}", "='{}'", "=\"{}\"", " '{}'"]);
    (flags, forms, "[A-Za-z0-9!@#%^*()_+.,:;-]{8,20}").prop_map(|(flag, form, value)| {
        let line = format!(
            "bin/magento setup:install {flag}{} --db-host=db",
            form.replace("{}", &value)
        );
        Case::one(line, &value)
    })
}

/// env.php crypt keys and MAGENTO_CLOUD_* base64 variables.
fn env_php_and_cloud() -> impl Strategy<Value = Case> {
    let forms = select(vec![
        "'key' => '{}',",
        "'crypt' => ['key' => '{}'],",
        "MAGENTO_CLOUD_VARIABLES={}",
        "export MAGENTO_CLOUD_RELATIONSHIPS=\"{}\"",
    ]);
    (forms, "[A-Za-z0-9+/]{8,60}={0,2}")
        .prop_map(|(form, value)| Case::one(form.replace("{}", &value), &value))
}

/// AWS access key ids, secret keys and JWTs.
fn aws_and_jwt() -> impl Strategy<Value = Case> {
    let akia = (select(vec!["AKIA", "ASIA"]), "[A-Z0-9]{16}")
        .prop_map(|(prefix, body)| Case::one(format!("{prefix}{body}"), &body));
    let secret = "[A-Za-z0-9/+]{40}"
        .prop_map(|value| Case::one(format!("aws_secret_access_key = {value}"), &value));
    let jwt = (
        "[A-Za-z0-9_-]{10,40}",
        "[A-Za-z0-9_-]{10,40}",
        "[A-Za-z0-9_-]{10,40}",
    )
        .prop_map(|(h, p, s)| {
            let token = format!("eyJ{h}.eyJ{p}.{s}");
            Case::one(token.clone(), &token)
        });
    prop_oneof![akia, secret, jwt]
}

/// PEM private keys on one line, with or without the END marker.
fn pem() -> impl Strategy<Value = Case> {
    let labels = select(vec!["RSA ", "EC ", "OPENSSH ", ""]);
    (labels, "[A-Za-z0-9+/=]{8,200}", any::<bool>()).prop_map(|(label, body, closed)| {
        let begin = format!("-----BEGIN {label}PRIVATE KEY-----");
        let end = format!("-----END {label}PRIVATE KEY-----");
        let line = if closed {
            format!("{begin}{body}{end}")
        } else {
            format!("{begin}{body}")
        };
        Case::one(line, &body)
    })
}

/// Generic `key=value` pairs in env dumps and query strings.
fn generic_pair() -> impl Strategy<Value = Case> {
    let keys = select(vec![
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "DB_PASSWORD",
        "access_token",
    ]);
    let forms = select(vec![
        "{k}={v}",
        "{k}: {v}",
        "?{k}={v}&page=2",
        "{k}=\"{v}\"",
    ]);
    (keys, forms, "[A-Za-z0-9!#$%*+./:=?@^_|~-]{8,30}").prop_map(|(key, form, value)| {
        let line = form.replace("{k}", key).replace("{v}", &value);
        Case::one(line, &value)
    })
}

/// Any shape, embedded in random surrounding text.
fn any_shape() -> impl Strategy<Value = Case> {
    embed(prop_oneof![
        composer_http_basic(),
        composer_token_map(),
        marketplace_key(),
        url_credentials(),
        authorization(),
        vendor_token(),
        setup_flag(),
        env_php_and_cloud(),
        aws_and_jwt(),
        pem(),
        generic_pair(),
    ])
}

/// Inserts a hidden code (ANSI colour or zero-width character) into the secret at `at`.
fn hide(case: Case, code: &str, at: usize) -> Case {
    let Some(secret) = case.secrets.first() else {
        return case;
    };
    let cut = secret
        .char_indices()
        .map(|(i, _)| i)
        .nth(at % secret.chars().count().max(1));
    let cut = cut.unwrap_or(0);
    let hidden = format!("{}{code}{}", &secret[..cut], &secret[cut..]);
    Case {
        line: case.line.replacen(secret.as_str(), &hidden, 1),
        secrets: case.secrets,
    }
}

static RULES: std::sync::LazyLock<magediag::testing::rule::RuleSet> =
    std::sync::LazyLock::new(|| magediag::testing::rule::RuleSet::embedded().unwrap());

/// Every string in a JSON value, one per line.
fn collect_strings(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Fragments of log-like text, rich in trigger words, quotes and escapes.
fn log_fragments() -> impl Strategy<Value = String> {
    let pieces = select(vec![
        "password",
        "token",
        "key",
        "'key' => '",
        "\"",
        "'",
        "\\",
        "\\\"",
        ":",
        "=",
        " ",
        "@",
        "://",
        "https",
        "{",
        "}",
        "--db-password",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "ghp_",
        "eyJ",
        "AKIA",
        "0123456789abcdef",
        "****",
        "Authorization: Bearer ",
        "\"github-oauth\": {",
        "mysql -p",
        "-u ",
        "\u{200B}",
        "\x1b[31m",
        "YES",
        "é",
        "&",
        ";",
        ",",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), "[a-z0-9]{1,12}"],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn idempotent_on_arbitrary_text(text in any::<String>()) {
        let once = mask(&text).into_owned();
        prop_assert_eq!(mask(&once), once.as_str());
    }

    #[test]
    fn idempotent_on_log_like_text(text in log_fragments()) {
        let once = mask(&text).into_owned();
        prop_assert_eq!(mask(&once), once.as_str());
    }

    #[test]
    fn no_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = mask(&text);
    }

    #[test]
    fn no_fragment_of_a_secret_survives(case in any_shape()) {
        let out = mask(&case.line);
        assert_no_fragment(&case, &out);
        prop_assert_eq!(mask(&out), out.as_ref());
    }

    #[test]
    fn hidden_codes_do_not_shield_secrets(
        case in any_shape(),
        code in select(vec!["\u{200B}", "\u{200C}", "\u{200D}", "\u{FEFF}", "\u{2060}", "\x1b[31m", "\x1b[0m", "\x1b[1;32m"]),
        at in any::<usize>(),
    ) {
        let hidden = hide(case.clone(), code, at);
        let out = mask(&hidden.line);
        assert_no_fragment(&case, &out);
    }

    /// End to end: a secret line in a log (as an error-like line, so that it is shown as a
    /// hint) never reaches the JSON report, after repair, framing and rendering.
    #[test]
    fn no_fragment_survives_the_whole_pipeline(case in any_shape()) {
        let log = format!("INFO: start\nERROR: failed: {}\nINFO: end\n", case.line);
        let source = magediag::testing::input::source::Source::from_reader("p.log".into(), std::io::Cursor::new(log.into_bytes())).unwrap();
        let outcome = magediag::testing::pipeline::diagnose_source(&RULES, source, magediag::testing::pipeline::Runs::Latest);
        let report = magediag::testing::report::diagnosis::Report::new(outcome.reports);
        let mut out = Vec::new();
        magediag::testing::report::render::render(&report, magediag::testing::report::render::Format::Json, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        // Compare on the decoded strings: JSON escaping would hide a raw fragment.
        let mut text = String::new();
        collect_strings(&json, &mut text);
        assert_no_fragment(&case, &text);
    }

    #[test]
    fn url_host_and_path_survive(case in url_credentials()) {
        let out = mask(&case.line);
        prop_assert!(out.ends_with(":****@repo.example.org/archives/vendor/pkg.zip"), "{}", out);
    }
}
