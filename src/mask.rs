//! Secret masking applied to every string magediag prints.
//!
//! [`mask`] replaces each secret in a string with [`MASK`] and keeps the text
//! around it, so a diagnosis can still quote the line. [`LineMasker`] does the
//! same line by line and also masks secrets that span several lines (PEM
//! private key bodies, pretty-printed Composer auth maps).
//!
//! Design:
//! - A cheap pre-check (an Aho-Corasick scan for trigger words plus a byte scan
//!   for 32-character hex tokens) decides whether any rule can match; most log
//!   lines stop there and come back as [`Cow::Borrowed`].
//! - Every rule is a `regex` pattern (linear time, no backtracking). Each
//!   capture group of a rule is a secret; a rule without groups masks its whole
//!   match. All rules run on the same input, their spans are merged, and each
//!   merged span becomes one [`MASK`].
//! - ANSI escape sequences and zero-width characters are stripped before
//!   matching when present, so they cannot split a secret or a key name.
//! - Masking repeats until nothing changes, which makes [`mask`] idempotent.
//!
//! The shapes and the known limits are listed in `docs/secrets.md`.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

/// The fixed string that replaces every secret, so the secret's length never leaks.
pub const MASK: &str = "****";

/// Upper bound on masking passes; real input converges after one or two.
const MAX_PASSES: usize = 4;

/// A JSON string value, `"…"` with backslash escapes; the closing quote may be cut off.
const JSON_VALUE: &str = r#""((?:[^"\\]|\\.)*)"?"#;

/// A JSON string value escaped once inside another JSON string: `\"…\"`.
const JSON_VALUE_ESCAPED: &str = r#"\\"((?:[^"\\]|\\\\\\\\|\\\\\\"|\\\\[^"\\])*)(?:\\")?"#;

/// A single-quoted value (PHP or shell); the closing quote may be cut off.
const SINGLE_VALUE: &str = r"'((?:[^'\\]|\\.)*)'?";

/// An unquoted value, up to whitespace, `&`, a quote, a backslash, `,` or `;`.
///
/// It never starts with `{` or `[`: those open a JSON object or array.
const BARE_VALUE: &str = r#"([^\s&"'\\,;{\[][^\s&"'\\,;]*)"#;

/// Key names whose value is a secret in `key=value`, `key: value` and `'key' => value` pairs.
const SECRET_KEY: &str = r"[a-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|consumer[_\-]?key|encryption[_\-]?key|crypt[_\-]?key|auth[_\-]?key)[a-z0-9_.\-]*";

/// Names of Composer auth maps whose entries are `"host": "token"`.
const AUTH_MAPS: &str = "github-oauth|gitlab-oauth|gitlab-token|bearer|bitbucket-oauth";

/// A PEM private key marker's label, e.g. `RSA PRIVATE KEY` or `PGP PRIVATE KEY BLOCK`.
const PEM_LABEL: &str = "[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?";

/// Replaces every secret in `text` with a mask, keeping the text around it.
///
/// Returns [`Cow::Borrowed`] when nothing was masked. When `text` holds ANSI
/// escape sequences or zero-width characters and a secret is masked, the
/// result has those codes removed.
pub fn mask(text: &str) -> Cow<'_, str> {
    mask_with(text, Select::ByTriggers)
}

/// Which rules a masking pass runs.
#[derive(Clone, Copy)]
enum Select {
    /// Those whose trigger words occur in the text ([`Rules::found_in`]).
    ByTriggers,
    /// Every rule: what the trigger words must never change (see the unit tests).
    #[cfg(test)]
    Every,
}

/// [`mask`], running the rules `select` picks.
fn mask_with(text: &str, select: Select) -> Cow<'_, str> {
    if has_hidden(text) {
        let clean = strip_hidden(text);
        return match mask_clean(&clean, select) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Borrowed(text),
        };
    }
    match mask_clean(text, select) {
        Some(masked) => Cow::Owned(masked),
        None => Cow::Borrowed(text),
    }
}

/// Masks `text` (already free of hidden characters) until it is stable; `None` when unchanged.
fn mask_clean(text: &str, select: Select) -> Option<String> {
    if !may_hold_secret(text) {
        return None;
    }
    let mut current = mask_once(text, select)?;
    for _ in 1..MAX_PASSES {
        match mask_once(&current, select) {
            Some(next) => current = next,
            None => break,
        }
    }
    Some(current)
}

/// Runs the rules `select` picks once over `text`; `None` when no span changed the text.
fn mask_once(text: &str, select: Select) -> Option<String> {
    let mut spans = Vec::new();
    hex_key_spans(text, &mut spans);
    let found = match select {
        Select::ByTriggers => RULES.found_in(text),
        #[cfg(test)]
        Select::Every => u64::MAX,
    };
    for rule in &RULES.rules {
        if rule.triggers & found != 0 {
            rule.collect(text, &mut spans);
        }
    }
    let out = replace_spans(text, spans)?;
    (out != text).then_some(out)
}

/// Replaces the merged `spans` of `text` with [`MASK`]; `None` when there are none.
fn replace_spans(text: &str, mut spans: Vec<Range<usize>>) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut iter = spans.into_iter().peekable();
    while let Some(first) = iter.next() {
        let mut end = first.end;
        while let Some(next) = iter.next_if(|n| n.start <= end) {
            end = end.max(next.end);
        }
        let start = first.start.max(done);
        out.push_str(text.get(done..start)?);
        out.push_str(MASK);
        done = end.max(done);
    }
    out.push_str(text.get(done..)?);
    Some(out)
}

/// How a rule turns its capture groups into masked spans.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Every participating group is a secret.
    Groups,
    /// Like `Groups`, but values such as `YES` or `null` are left alone.
    SkipBenign,
    /// The group is a JSON object body whose string values are secrets.
    MapBody,
}

/// A secret shape as written: its pattern, how to read its groups, and its trigger words
/// (at least one of which occurs, ASCII case-insensitively, in every match).
type Pattern = (String, Kind, &'static [&'static str]);

/// One secret shape: a pattern plus how to read its groups.
struct Rule {
    pattern: String,
    /// The pattern compiled, on the first text that holds one of its trigger words:
    /// a run that masks only URLs never compiles the other shapes.
    re: OnceLock<Regex>,
    /// How the groups become spans.
    kind: Kind,
    /// Its trigger words, as a bit set: bit `i` is the scan's pattern `i`.
    triggers: u64,
}

impl Rule {
    /// The compiled pattern.
    // Constant pattern, exercised by the unit tests: it cannot fail at run time.
    #[allow(clippy::expect_used)]
    fn re(&self) -> &Regex {
        self.re
            .get_or_init(|| Regex::new(&self.pattern).expect("valid regex"))
    }

    /// Appends the byte ranges of every secret this rule finds in `text`.
    fn collect(&self, text: &str, spans: &mut Vec<Range<usize>>) {
        for caps in self.re().captures_iter(text) {
            if caps.len() == 1 {
                spans.extend(caps.get(0).map(|m| m.range()));
                continue;
            }
            for group in caps.iter().skip(1).flatten() {
                match self.kind {
                    _ if group.is_empty() => {}
                    Kind::SkipBenign if is_benign(group.as_str()) => {}
                    Kind::MapBody => map_value_spans(group.as_str(), group.start(), spans),
                    _ => spans.push(group.range()),
                }
            }
        }
    }
}

/// Tells whether a key/value value is a well-known non-secret word such as `YES` or `null`.
///
/// Trailing `)`, `]`, `}` and `.` are ignored, as in `(using password: YES)`.
fn is_benign(value: &str) -> bool {
    const BENIGN: [&str; 8] = [
        "yes",
        "no",
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
    ];
    let word = value.trim_end_matches([')', ']', '}', '.']);
    BENIGN.iter().any(|b| word.eq_ignore_ascii_case(b))
}

/// Appends the spans of the string values inside a JSON object body starting at `offset`.
fn map_value_spans(body: &str, offset: usize, spans: &mut Vec<Range<usize>>) {
    for caps in MAP_VALUE.captures_iter(body) {
        for group in caps.iter().skip(1).flatten() {
            if !group.is_empty() {
                spans.push(offset + group.start()..offset + group.end());
            }
        }
    }
}

/// A string value after a `:` inside a JSON object, plain or escaped once.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static MAP_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r":\s*(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE})");
    Regex::new(&pattern).expect("valid regex")
});

/// Every regex-based secret shape (the 32-hex key scan is separate,
/// [`hex_key_spans`]), and the trigger words that let each run.
struct Rules {
    rules: Vec<Rule>,
    /// Finds every rule's trigger words (ASCII case-insensitively), each word one
    /// pattern.
    scan: AhoCorasick,
}

impl Rules {
    /// The trigger words that occur in `text`, as a bit set (see [`Rule::triggers`]): a
    /// rule runs only on a text that holds one of its own.
    ///
    /// A pattern folds case in Unicode (`ſ` is an `s`, the Kelvin sign a `k`) where the
    /// words are ASCII: on a text that is not ASCII, every rule runs.
    fn found_in(&self, text: &str) -> u64 {
        if !text.is_ascii() {
            return u64::MAX;
        }
        self.scan
            .find_overlapping_iter(text)
            .fold(0, |found, m| found | word_bit(m.pattern().as_usize()))
    }
}

/// The bit of the trigger word at `index` in a set; past 64 words, every bit (the rules
/// then run whatever their words).
fn word_bit(index: usize) -> u64 {
    u32::try_from(index)
        .ok()
        .and_then(|index| 1u64.checked_shl(index))
        .unwrap_or(u64::MAX)
}

// Constant patterns, exercised by the unit tests: they cannot fail at run time.
#[allow(clippy::expect_used)]
static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let mut patterns = key_value_patterns();
    patterns.extend(credential_patterns());
    let mut words: Vec<&'static str> = Vec::new();
    let rules = patterns
        .into_iter()
        .map(|(pattern, kind, triggers)| {
            let mut bits = 0;
            for &word in triggers {
                let index = words.iter().position(|&w| w == word).unwrap_or_else(|| {
                    words.push(word);
                    words.len() - 1
                });
                bits |= word_bit(index);
            }
            Rule {
                pattern,
                re: OnceLock::new(),
                kind,
                triggers: bits,
            }
        })
        .collect();
    let scan = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .expect("valid trigger words");
    Rules { rules, scan }
});

/// Patterns for secrets that are the value of a named key (JSON, PHP, env, Composer).
fn key_value_patterns() -> Vec<Pattern> {
    let json = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE})");
    let any = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE}|{SINGLE_VALUE}|{BARE_VALUE})");
    let sep = r#"\\*["']?\s*(?:=>|[:=])\s*"#;
    vec![
        // key=value, key: value, "key": "value", 'key' => 'value' for secret key names.
        // The key must not follow `/`, so `https://x-access-token:…@host` is left to the URL rule.
        (
            format!(r"(?i)(?:^|[^/a-z0-9_.\-]){SECRET_KEY}{sep}{any}"),
            Kind::SkipBenign,
            &["pass", "secret", "token", "key"],
        ),
        // Composer http-basic username (the Marketplace public key).
        (format!(r#"(?i)\\*"username\\*"\s*:\s*{json}"#), Kind::SkipBenign, &["username"]),
        // Composer maps of host => token: github-oauth, gitlab-token, bearer, ...
        (
            format!(r#"(?i)\\*"(?:{AUTH_MAPS})\\*"\s*:\s*\{{([^{{}}]*)"#),
            Kind::MapBody,
            &["github", "gitlab", "bearer", "auth"],
        ),
        // A pretty-printed auth map entry keyed by a GitHub or GitLab host.
        (
            format!(r#"(?i)\\*"[a-z0-9.\-]*(?:github|gitlab)[a-z0-9.\-]*\\*"\s*:\s*{json}"#),
            Kind::Groups,
            &["github", "gitlab"],
        ),
        // `composer config [--auth] github-oauth.github.com TOKEN`.
        (
            format!(r#"(?i)(?:{AUTH_MAPS})\.[a-z0-9.\-]+\s+["']?([^\s"']+)"#),
            Kind::Groups,
            &["github", "gitlab", "bearer", "auth"],
        ),
        // `composer config http-basic.repo.magento.com PUBLIC PRIVATE`.
        (
            r#"(?i)http-basic\.[a-z0-9.\-]+\s+["']?([^\s"']+)["']?(?:\s+["']?([^\s"']+))?"#.into(),
            Kind::Groups,
            &["http-basic"],
        ),
        // env.php: 'key' => '...' (the crypt key).
        (
            format!(r#"(?i)\\*['"]key\\*['"]\s*=>\s*(?:{SINGLE_VALUE}|{JSON_VALUE})"#),
            Kind::Groups,
            &["key"],
        ),
        // COMPOSER_AUTH whose value is not a JSON object (malformed, or a shell word):
        // all of it. An object's secrets are found by the rules above, its keys kept.
        (
            r#"(?i)COMPOSER_AUTH\\*["']?\s*[=:]\s*(?:'([^'{\\](?:[^'\\]|\\.)*)'?|"([^"{\\](?:[^"\\]|\\.)*)"?|([^\s&"'\\,;{\[][^\s&"'\\,;]*))"#.into(),
            Kind::SkipBenign,
            &["auth"],
        ),
        // MAGENTO_CLOUD_VARIABLES / _RELATIONSHIPS / _APPLICATION (base64 JSON).
        (
            r#"(?:MAGENTO_CLOUD|PLATFORM)_(?:VARIABLES|RELATIONSHIPS|APPLICATION)\\*["']?\s*[=:]\s*\\*["']?([^\s"'\\]+)"#.into(),
            Kind::Groups,
            &["magento_cloud_", "platform_"],
        ),
    ]
}

/// Patterns for credentials recognised by their own shape (URLs, headers, tokens, flags, keys).
fn credential_patterns() -> Vec<Pattern> {
    let shell = format!(r#"(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE}|{SINGLE_VALUE}|([^\s"']+))"#);
    vec![
        // user:password@ in a URL.
        (
            r#"(?i)[a-z][a-z0-9+.\-]*://([^\s/?#@:"'<>\\]*):([^\s/?#"'<>\\]*)@"#.into(),
            Kind::Groups,
            &["://"],
        ),
        // Authorization headers, with or without a scheme word.
        (
            r#"(?i)authorization\\*["']?\s*[:=]\s*\\*["']?(?:(?:basic|bearer|token)\s+)?([^\s"'\\,;]+)"#.into(),
            Kind::Groups,
            &["auth"],
        ),
        // A bare `Bearer <token>` outside a header.
        (
            r"(?-u:\b)Bearer\s+([A-Za-z0-9\-._~+/]{16,}=*)".into(),
            Kind::Groups,
            &["bearer"],
        ),
        // GitHub and GitLab tokens; the prefix is kept.
        (
            r"(?:ghp|gho|ghu|ghs|ghr)_([A-Za-z0-9]{20,})|github_pat_([A-Za-z0-9_]{20,})|gl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-([A-Za-z0-9_\-]{20,})".into(),
            Kind::Groups,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github", "glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "gloas-", "glsoat-", "glft-", "glimt-", "glagent-"],
        ),
        // Command-line flags: --db-password=x, --admin-password 'x', --key=x, --encryption-key x.
        (
            format!(
                r"(?i)--[a-z0-9\-]*(?:password|passwd|passphrase|secret|token|key)[a-z0-9\-]*(?:\s*=\s*|\s+){shell}"
            ),
            Kind::Groups,
            &["pass", "secret", "token", "key"],
        ),
        // mysql -pSECRET.
        (
            format!(r#"(?i:mysql(?:dump|admin)?)[^\r\n]*?\s-p(?:{JSON_VALUE}|{SINGLE_VALUE}|([^\s"']+))"#),
            Kind::Groups,
            &["mysql"],
        ),
        // curl -u user:password / --user user:password.
        (
            r#"(?:^|\s)(?:-u|--user)\s*["']?([^\s:"']+):([^\s"']+)"#.into(),
            Kind::Groups,
            &["-u"],
        ),
        // AWS access key ids; the 4-letter prefix is kept.
        (
            r"(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)([0-9A-Z]{16})".into(),
            Kind::Groups,
            &["akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca"],
        ),
        // JWTs and other base64-encoded JSON ("eyJ" is base64 for `{"`).
        (
            r"(?-u:\b)eyJ[A-Za-z0-9_\-+/]{8,}=*(?:\.[A-Za-z0-9_\-+/=]+){0,2}".into(),
            Kind::Groups,
            &["eyj"],
        ),
        // PEM private keys: the body up to the END marker, or to the end of the text.
        (
            format!(r"-----BEGIN {PEM_LABEL}-----((?s:.)*?)(?:-----END {PEM_LABEL}-----|\z)"),
            Kind::Groups,
            &["-----begin"],
        ),
    ]
}

/// Cheap pre-check: can any rule match `text`?
fn may_hold_secret(text: &str) -> bool {
    if RULES.scan.is_match(text) {
        return true;
    }
    let mut spans = Vec::new();
    hex_key_spans(text, &mut spans);
    !spans.is_empty()
}

/// Appends every standalone run of exactly 32 lowercase hex digits (a Marketplace key).
///
/// A run counts when it is not preceded or followed by an ASCII letter, digit
/// or `_`, so 40-hex commit ids, 64-hex checksums and longer runs are left alone.
fn hex_key_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_lower_hex(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_lower_hex(bytes[i]) {
            i += 1;
        }
        let before = start.checked_sub(1).and_then(|p| bytes.get(p));
        if i - start == 32 && !is_word_byte(before) && !is_word_byte(bytes.get(i)) {
            spans.push(start..i);
        }
    }
}

/// Tells whether `b` is `[0-9a-f]`.
fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Tells whether `b` is an ASCII word byte (`[A-Za-z0-9_]`); `None` (text edge) is not.
fn is_word_byte(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Tells whether `text` holds an ANSI escape, a BEL or an invisible character.
fn has_hidden(text: &str) -> bool {
    memchr::memchr2(0x1b, 0x07, text.as_bytes()).is_some()
        || (!text.is_ascii() && text.chars().any(is_invisible))
}

/// Tells whether `c` is a zero-width or otherwise invisible formatting character.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Removes ANSI escape sequences, BEL and invisible characters from `text`.
///
/// Only the escape codes themselves are dropped: an OSC payload (such as a
/// hyperlink target) stays in the text so it is still checked for secrets.
fn strip_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let skip = match c {
            '\u{1b}' => escape_len(rest),
            '\u{07}' => 1,
            c if is_invisible(c) => c.len_utf8(),
            c => {
                out.push(c);
                c.len_utf8()
            }
        };
        rest = rest.get(skip..).unwrap_or("");
    }
    out
}

/// Byte length of the escape sequence at the start of `s` (which starts with ESC).
///
/// Recognises CSI (`ESC [ params final`, params at most 32 bytes), the
/// two-byte `ESC @`..`ESC _` forms (OSC start, string terminator, ...) and
/// `ESC intermediates final` (charset selection); anything else is just ESC,
/// so ordinary text after a stray ESC is never dropped.
fn escape_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if bytes.get(1) == Some(&b'[') {
        let params = bytes[2..]
            .iter()
            .take(33)
            .take_while(|b| (0x20..=0x3f).contains(*b))
            .count();
        return match bytes.get(2 + params) {
            Some(b) if params <= 32 && (0x40..=0x7e).contains(b) => 3 + params,
            _ => 2,
        };
    }
    let inter = bytes[1..]
        .iter()
        .take_while(|b| (0x20..=0x2f).contains(*b))
        .count();
    match bytes.get(1 + inter) {
        Some(b) if inter == 0 && (0x40..=0x5f).contains(b) => 2,
        Some(b) if inter > 0 && (0x30..=0x7e).contains(b) => 2 + inter,
        _ => 1,
    }
}

/// A PEM private key BEGIN or END marker.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static PEM_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("-----(BEGIN|END) {PEM_LABEL}-----")).expect("valid regex")
});

/// The opening of a Composer auth map (or http-basic) object.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static AUTH_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)\\*"(?:{AUTH_MAPS}|http-basic)\\*"\s*:\s*\{{"#
    ))
    .expect("valid regex")
});

/// Masks a log one line at a time, remembering multi-line secrets across calls.
///
/// On top of [`mask`], it masks every line between a PEM `-----BEGIN … PRIVATE
/// KEY-----` line and its END line, and every string value inside a
/// pretty-printed Composer auth map (`"github-oauth": {`, `"bearer": {`,
/// `"http-basic": {`, …) until its closing brace.
#[derive(Debug, Default, Clone)]
pub struct LineMasker {
    /// Inside a PEM private key body.
    in_pem: bool,
    /// Brace depth inside a Composer auth map; 0 when outside.
    auth_depth: usize,
}

impl LineMasker {
    /// Creates a masker that is outside any multi-line secret.
    pub fn new() -> Self {
        Self::default()
    }

    /// Masks one line (without its line terminator) and updates the multi-line state.
    pub fn mask_line<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let clean = if has_hidden(line) {
            Cow::Owned(strip_hidden(line))
        } else {
            Cow::Borrowed(line)
        };
        if self.in_pem {
            return self.mask_pem_line(line, &clean);
        }
        if self.auth_depth > 0 {
            return self.mask_auth_line(&clean);
        }
        self.enter_state(&clean);
        mask(line)
    }

    /// Masks a line inside a PEM body: all of it, or everything before the END marker.
    fn mask_pem_line<'a>(&mut self, line: &'a str, clean: &str) -> Cow<'a, str> {
        let end = PEM_MARKER
            .captures_iter(clean)
            .find(|c| c.get(1).is_some_and(|m| m.as_str() == "END"));
        let Some(end) = end.and_then(|c| c.get(0)) else {
            if clean.trim().is_empty() {
                return Cow::Borrowed(line);
            }
            return Cow::Owned(MASK.to_owned());
        };
        self.in_pem = false;
        let rest = &clean[end.start()..];
        self.enter_state(rest);
        let prefix = if end.start() == 0 { "" } else { MASK };
        Cow::Owned(format!("{prefix}{}", mask(rest)))
    }

    /// Masks every string value on a line inside an auth map and tracks its braces.
    fn mask_auth_line<'a>(&mut self, clean: &str) -> Cow<'a, str> {
        let opens = clean.matches('{').count();
        let closes = clean.matches('}').count();
        self.auth_depth = (self.auth_depth + opens).saturating_sub(closes);
        let mut spans = Vec::new();
        map_value_spans(clean, 0, &mut spans);
        let values = replace_spans(clean, spans).unwrap_or_else(|| clean.to_owned());
        Cow::Owned(mask(&values).into_owned())
    }

    /// Enters the PEM or auth-map state when `clean` opens one without closing it.
    fn enter_state(&mut self, clean: &str) {
        let last = PEM_MARKER.captures_iter(clean).last();
        if last.is_some_and(|c| c.get(1).is_some_and(|m| m.as_str() == "BEGIN")) {
            self.in_pem = true;
            return;
        }
        if let Some(open) = AUTH_OPEN.find(clean) {
            let tail = &clean[open.start()..];
            let opens = tail.matches('{').count();
            self.auth_depth = opens.saturating_sub(tail.matches('}').count());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str = "0123456789abcdef0123456789abcdef";
    const PRIV: &str = "fedcba9876543210fedcba9876543210";

    /// Asserts that masking `input` gives exactly `expected`, as it would with every
    /// rule run: each rule's trigger words are in each example it masks.
    fn check(input: &str, expected: &str) {
        assert_eq!(mask(input), expected, "input: {input:?}");
        assert_eq!(
            mask_with(input, Select::Every),
            expected,
            "input: {input:?}"
        );
    }

    /// Asserts that `input` comes back untouched and borrowed, with every rule run too.
    fn keep(input: &str) {
        let every = mask_with(input, Select::Every);
        assert!(matches!(every, Cow::Borrowed(_)), "{input:?} -> {every:?}");
        let out = mask(input);
        assert!(
            matches!(out, Cow::Borrowed(_)),
            "masked: {input:?} -> {out:?}"
        );
    }

    #[test]
    fn plain_lines_are_borrowed() {
        keep("");
        keep("Running hook: build");
        keep("Generating autoload files");
        keep("ééé 日本語 \u{1F600}");
    }

    #[test]
    fn composer_auth_json() {
        check(
            r#"{"http-basic":{"repo.magento.com":{"username":"alice","password":"s3cr3t pass"}}}"#,
            r#"{"http-basic":{"repo.magento.com":{"username":"****","password":"****"}}}"#,
        );
        check(
            r#""github-oauth": {"github.com": "abcdefABCDEF0123456789abcdefabcdef0123"}"#,
            r#""github-oauth": {"github.com": "****"}"#,
        );
        check(
            r#""gitlab-token": {"gitlab.com": "tok1tok1tok1", "git.corp.io": "tok2tok2"}"#,
            r#""gitlab-token": {"gitlab.com": "****", "git.corp.io": "****"}"#,
        );
        check(
            r#""bearer": {"repo.example.com": "opaque-bearer-value"}"#,
            r#""bearer": {"repo.example.com": "****"}"#,
        );
        check(
            r#""gitlab-token": {"gitlab.com": {"username": "me", "token": "abc123abc123"}}"#,
            r#""gitlab-token": {"gitlab.com": {"username": "****", "token": "****"}}"#,
        );
        check(
            r#"    "github.com": "0123abcd""#,
            r#"    "github.com": "****""#,
        );
    }

    #[test]
    fn composer_auth_json_escaped_and_env() {
        check(
            r#"{"env":"{\"http-basic\":{\"repo.magento.com\":{\"username\":\"u1\",\"password\":\"p\\\"w\"}}}"}"#,
            r#"{"env":"{\"http-basic\":{\"repo.magento.com\":{\"username\":\"****\",\"password\":\"****\"}}}"}"#,
        );
        check(
            r#"COMPOSER_AUTH={"github-oauth":{"github.com":"tokentoken"}}"#,
            r#"COMPOSER_AUTH={"github-oauth":{"github.com":"****"}}"#,
        );
        check(
            r#"export COMPOSER_AUTH='{"http-basic":{"repo.magento.com":{"username":"x","password":"y"}}}'"#,
            r#"export COMPOSER_AUTH='{"http-basic":{"repo.magento.com":{"username":"****","password":"****"}}}'"#,
        );
        check(
            r#"\"bearer\":{\"repo.example.com\":\"abc\\\"def\"}"#,
            r#"\"bearer\":{\"repo.example.com\":\"****\"}"#,
        );
    }

    #[test]
    fn composer_auth_that_is_not_json_is_masked_whole() {
        check("COMPOSER_AUTH=abc123secret", "COMPOSER_AUTH=****");
        check("COMPOSER_AUTH: opaque-value-1234", "COMPOSER_AUTH: ****");
        check(
            "env:COMPOSER_AUTH = 'not json at all'",
            "env:COMPOSER_AUTH = '****'",
        );
        check(
            r#"export COMPOSER_AUTH="plain value""#,
            r#"export COMPOSER_AUTH="****""#,
        );
        check(
            r#"{"COMPOSER_AUTH": "u:p"}"#,
            r#"{"COMPOSER_AUTH": "****"}"#,
        );
        keep("COMPOSER_AUTH environment variable is not set");
        keep("COMPOSER_AUTH=null");
    }

    #[test]
    fn composer_auth_json_lookalikes() {
        keep(r#""github-protocols": ["https"]"#);
        keep(r#""url": "https://github.com/magento/magento2.git""#);
        keep(r#""require": {"magento/product-enterprise-edition": "2.4.7-p3"}"#);
        keep(r#""password": null"#);
        keep(r#"Access denied for user 'magento'@'localhost' (using password: YES)"#);
    }

    #[test]
    fn marketplace_keys() {
        check(PUB, "****");
        check(&format!("keys {PUB} {PRIV}."), "keys **** ****.");
        check(
            &format!("\"username\": \"{PUB}\""),
            "\"username\": \"****\"",
        );
        check(&format!("public={PUB}&x"), "public=****&x");
        check(
            &format!("composer config http-basic.repo.magento.com {PUB} {PRIV}"),
            "composer config http-basic.repo.magento.com **** ****",
        );
        check(
            &format!("\"content-hash\": \"{PUB}\""),
            "\"content-hash\": \"****\"",
        );
    }

    #[test]
    fn marketplace_key_lookalikes() {
        keep("commit 0123456789abcdef0123456789abcdef01234567");
        keep("sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        keep(&format!("x{PUB}"));
        keep(&format!("{PUB}0"));
        keep(&format!("{PUB}_suffix"));
        keep("0123456789ABCDEF0123456789ABCDEF");
        keep("0123456789abcdef0123456789abcde");
        keep("magento/module-catalog 102.0.5.0-patch2");
        keep("reference: 7d8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f");
    }

    #[test]
    fn url_credentials() {
        check(
            "Downloading https://user:pa55@repo.magento.com/archives/magento/module-foo.zip",
            "Downloading https://****:****@repo.magento.com/archives/magento/module-foo.zip",
        );
        check(
            "redis://:hunter2@127.0.0.1:6379/0",
            "redis://:****@127.0.0.1:6379/0",
        );
        check("mysql://db:p@ss@host/main", "mysql://****:****@host/main");
        check(
            "\"https://x-access-token:abc@github.com/o/r\"",
            "\"https://****:****@github.com/o/r\"",
        );
    }

    #[test]
    fn url_lookalikes() {
        keep("git@github.com:magento/magento2.git");
        keep("https://git@github.com/magento/magento2.git");
        keep("https://repo.magento.com:443/packages.json");
        keep("Failed to download magento/module-foo from https://repo.magento.com/archives/x.zip");
    }

    #[test]
    fn authorization_headers() {
        check(
            "Authorization: Basic dXNlcjpwYXNz",
            "Authorization: Basic ****",
        );
        check(
            "authorization: bearer abc.def.ghi",
            "authorization: bearer ****",
        );
        check(
            "AUTHORIZATION: token deadbeefcafe",
            "AUTHORIZATION: token ****",
        );
        check("Proxy-Authorization: xyzzy", "Proxy-Authorization: ****");
        check(
            r#"-H "Authorization: Bearer abcdefghijklmnop""#,
            r#"-H "Authorization: Bearer ****""#,
        );
        check("sent Bearer abcdefghijklmnopqrstuvwxyz", "sent Bearer ****");
        check("PRIVATE-TOKEN: secretvalue1", "PRIVATE-TOKEN: ****");
    }

    #[test]
    fn authorization_lookalikes() {
        keep("The 'https://repo.magento.com/packages.json' URL required authentication.");
        keep("Bearer authentication failed");
        keep("Author: Jane Doe");
    }

    #[test]
    fn vendor_tokens() {
        let classic = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        check(&format!("token {classic} used"), "token ghp_**** used");
        check("gho_abcdefghijklmnopqrstuvwxyz", "gho_****");
        check("x ghs_abcdefghijklmnopqrstuvwxyz_", "x ghs_****_");
        check(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "github_pat_****",
        );
        check("glpat-abcdefghij0123456789", "glpat-****");
        check("AKIAIOSFODNN7EXAMPLE", "AKIA****");
        check("key ASIAIOSFODNN7EXAMPLE.", "key ASIA****.");
    }

    #[test]
    fn vendor_token_lookalikes() {
        keep("ghp_short");
        keep("glpat-short");
        keep("AKIA is a prefix");
        keep("Europe/Asia timezone ASIASHORT");
    }

    #[test]
    fn setup_install_flags() {
        check(
            "bin/magento setup:install --db-host=db --db-password=s3cret --admin-password='a b c' --admin-user=admin",
            "bin/magento setup:install --db-host=db --db-password=**** --admin-password='****' --admin-user=admin",
        );
        check("--db-password secret --x", "--db-password **** --x");
        check(
            "--amqp-password=\"q\\\"q\" --elasticsearch-password=e --opensearch-password=o",
            "--amqp-password=\"****\" --elasticsearch-password=**** --opensearch-password=****",
        );
        check(
            "--session-save-redis-password=r --cache-backend-redis-password=c",
            "--session-save-redis-password=**** --cache-backend-redis-password=****",
        );
        check(
            "--key=abcabc --encryption-key xyzxyz",
            "--key=**** --encryption-key ****",
        );
        check("--admin-password='unterminated", "--admin-password='****");
        check(
            "mysqldump -h db -u user -p'pw pw' main",
            "mysqldump -h db -u user -p'****' main",
        );
        check("curl -u user:pw https://x", "curl -u ****:**** https://x");
    }

    #[test]
    fn setup_install_flag_lookalikes() {
        keep("bin/magento setup:install --db-host=db --db-user=magento --admin-user=admin");
        keep("composer install --no-dev --prefer-dist");
        keep("mysql -h db -P 3306 -u root main");
        keep("sudo -u www-data php bin/magento cache:flush");
    }

    #[test]
    fn env_php_and_cloud_variables() {
        check("  'key' => 'b8f3a1c0'", "  'key' => '****'");
        check(
            "'crypt' => ['key' => \"base64abcDEF==\"],",
            "'crypt' => ['key' => \"****\"],",
        );
        check("'password' => 'dbpass',", "'password' => '****',");
        check(
            "MAGENTO_CLOUD_VARIABLES=eyJhZG1pbl9wYXNzd29yZCI6Inh5eiJ9",
            "MAGENTO_CLOUD_VARIABLES=****",
        );
        check(
            "export MAGENTO_CLOUD_RELATIONSHIPS='W3sicGFzcyI6IngifV0='",
            "export MAGENTO_CLOUD_RELATIONSHIPS='****'",
        );
    }

    #[test]
    fn env_php_lookalikes() {
        keep("'backend' => ['frontName' => 'admin'],");
        keep("'cache_types' => ['config' => 1],");
        keep("MAGENTO_CLOUD_ENVIRONMENT=production");
        keep("MAGENTO_CLOUD_VARIABLES is empty");
    }

    #[test]
    fn aws_and_jwt() {
        check(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
            "aws_secret_access_key = ****",
        );
        check(
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nat_ure end",
            "jwt **** end",
        );
    }

    #[test]
    fn aws_and_jwt_lookalikes() {
        keep("monkeyJarFactory");
        keep("eyJ");
        keep("AKIAIOSFODNN7EXAMPL");
    }

    #[test]
    fn pem_private_keys() {
        check(
            "-----BEGIN RSA PRIVATE KEY-----MIIEabc==-----END RSA PRIVATE KEY----- tail",
            "-----BEGIN RSA PRIVATE KEY-----****-----END RSA PRIVATE KEY----- tail",
        );
        check(
            r#""key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIB\n-----END PRIVATE KEY-----\n""#,
            r#""key": "-----BEGIN PRIVATE KEY-----****-----END PRIVATE KEY-----\n""#,
        );
        check(
            "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXk",
            "-----BEGIN OPENSSH PRIVATE KEY-----****",
        );
    }

    #[test]
    fn pem_lookalikes() {
        keep("-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----");
        keep("-----BEGIN PUBLIC KEY-----");
        keep("-----BEGIN RSA PRIVATE KEY-----");
    }

    #[test]
    fn generic_key_values() {
        check("DB_PASSWORD=abc&next=1", "DB_PASSWORD=****&next=1");
        check("?access_token=xyz123&page=2", "?access_token=****&page=2");
        check("passwd: letmein", "passwd: ****");
        check("client_secret=\"two words\" x", "client_secret=\"****\" x");
        check(
            "api_key=k1 api-key: k2 apikey=k3",
            "api_key=**** api-key: **** apikey=****",
        );
        check("secret=a;b", "secret=****;b");
    }

    #[test]
    fn generic_key_value_lookalikes() {
        keep("password reset email sent");
        keep("token=");
        keep("enable_password_check: true");
        keep("PWD=/app/var");
        keep("bypass=1 passed=3");
    }

    #[test]
    fn ansi_and_zero_width() {
        check("password=\x1b[31mhunter2\x1b[0m", "password=****");
        check("pass\u{200B}word=hunter2", "password=****");
        check("ghp_ABCDEFGHIJ\u{200D}KLMNOPQRSTUVWXYZ", "ghp_****");
        check(
            &format!("\u{FEFF}{}\u{2060}{}", &PUB[..10], &PUB[10..]),
            "****",
        );
        check(
            "\x1b]8;;https://u:p@h/x\x1b\\link",
            "8;;https://****:****@h/xlink",
        );
        keep("\x1b[1mBuilding\x1b[0m \u{200B}ok");
    }

    #[test]
    fn every_trigger_word_has_a_bit() {
        assert!(RULES.scan.patterns_len() <= 64);
        assert!(RULES.rules.iter().all(|rule| rule.triggers != 0));
    }

    /// A rule runs on a text with one of its trigger words only, and compiles then.
    #[test]
    fn a_rule_runs_on_its_own_trigger_words() {
        let url = "https://alice:pw@repo.example.com/x";
        let found = RULES.found_in(url);
        let running: Vec<&str> = RULES
            .rules
            .iter()
            .filter(|rule| rule.triggers & found != 0)
            .map(|rule| rule.pattern.as_str())
            .collect();
        assert_eq!(running.len(), 1, "{running:?}");
        assert!(running[0].contains("://"));
        check(url, "https://****:****@repo.example.com/x");
    }

    /// A pattern folds `ſ` to `s` and the Kelvin sign to `k`; the trigger words do not,
    /// so a text that is not ASCII runs every rule once any trigger word is in it.
    #[test]
    fn a_text_that_is_not_ascii_runs_every_rule() {
        assert_eq!(RULES.found_in("paſſword=x"), u64::MAX);
        check(
            "https://repo.example.com paſſword=hunter2",
            "https://repo.example.com paſſword=****",
        );
        check(
            "ssh://h api_\u{212A}ey=abc123",
            "ssh://h api_\u{212A}ey=****",
        );
    }

    #[test]
    fn idempotent_on_examples() {
        for input in [
            "https://u:p@h/x password=x Authorization: Bearer y",
            "-----BEGIN RSA PRIVATE KEY-----abc",
            r#"{"password":"a\"b","username":"c"}"#,
            "--db-password '' --key=",
        ] {
            let once = mask(input).into_owned();
            assert_eq!(mask(&once), once, "input: {input:?}");
        }
    }

    #[test]
    fn huge_adversarial_lines_complete() {
        const MIB: usize = 1 << 20;
        let seeds = [
            "password=",
            "://a:b",
            "-----BEGIN PRIVATE KEY-----",
            "\"github-oauth\":{",
            "ghp_",
            "eyJ",
            "\\\"",
            "mysql -p",
            "a",
            "0123456789abcdef",
            "\x1b[",
            "\u{200B}",
        ];
        for seed in seeds {
            let line = seed.repeat(MIB / seed.len());
            let once = mask(&line).into_owned();
            assert!(once.len() <= line.len() + MASK.len(), "seed {seed:?} grew");
        }
        let key_run = format!("{PUB} ").repeat(MIB / 33);
        let masked = mask(&key_run);
        assert!(!masked.contains(&PUB[..8]));
    }

    #[test]
    fn line_masker_pem_block() {
        let mut lm = LineMasker::new();
        let lines = [
            "key file:",
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA",
            "",
            "abcdEFGH==",
            "-----END RSA PRIVATE KEY----- done",
            "after MIIEpAIBAAKCAQEA",
        ];
        let out: Vec<String> = lines.iter().map(|l| lm.mask_line(l).into_owned()).collect();
        assert_eq!(
            out,
            [
                "key file:",
                "-----BEGIN RSA PRIVATE KEY-----",
                "****",
                "",
                "****",
                "-----END RSA PRIVATE KEY----- done",
                "after MIIEpAIBAAKCAQEA",
            ]
        );
    }

    #[test]
    fn line_masker_auth_map() {
        let mut lm = LineMasker::new();
        let lines = [
            "{",
            "    \"bearer\": {",
            "        \"repo.example.com\": \"opaque-token\"",
            "    },",
            "    \"http-basic\": {",
            "        \"repo.magento.com\": {",
            "            \"username\": \"u\",",
            "            \"password\": \"p\"",
            "        }",
            "    },",
            "    \"name\": \"visible\"",
            "}",
        ];
        let out: Vec<String> = lines.iter().map(|l| lm.mask_line(l).into_owned()).collect();
        assert_eq!(out[2], "        \"repo.example.com\": \"****\"");
        assert_eq!(out[6], "            \"username\": \"****\",");
        assert_eq!(out[7], "            \"password\": \"****\"");
        assert_eq!(out[10], "    \"name\": \"visible\"");
    }
}
