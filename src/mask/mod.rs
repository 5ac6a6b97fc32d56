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

mod inventory;

use inventory::Label;
pub use inventory::{FoundSecret, SecretKind, find_secrets};

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
const SECRET_KEY: &str = r"[a-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|consumer[_\-]?key|encryption[_\-]?key|crypt[_\-]?key|auth[_\-]?key|license[_\-]?key|fastly[_\-]?(?:api[_\-]?)?key)[a-z0-9_.\-]*";

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

/// How far past the cut a long text is masked by [`mask_cut`]: a secret that reaches
/// into the part kept starts well inside this window, where its shape or key is seen.
const CUT_WINDOW: usize = 16 * 1024;

/// How much of the masked window's end [`mask_cut`] never keeps: a secret the window's
/// edge cut in two may no longer be recognised, and must not reach the output.
const CUT_MARGIN: usize = 1024;

/// Masks `text`, then cuts it to at most `max` bytes at a character boundary.
///
/// Masking comes first because a secret cut in two is no longer recognisable: a 32-hex
/// key cut to 20 digits is just a hex run. Only a window of a long text is masked, so a
/// 1 MiB line costs no more than a short one, and what lies near the window's edge is
/// never kept unless it was masked.
pub fn mask_cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max.saturating_add(CUT_WINDOW) {
        return match mask(text) {
            Cow::Borrowed(t) => Cow::Borrowed(cut_at(t, max)),
            Cow::Owned(t) => Cow::Owned(cut_at(&t, max).to_owned()),
        };
    }
    let window = cut_at(text, max.saturating_add(CUT_WINDOW));
    let masked = mask(window);
    // A window that ends masked ends safely; else its edge may have cut a secret.
    let safe = if masked.ends_with(MASK) {
        masked.len()
    } else {
        masked.len().saturating_sub(CUT_MARGIN)
    };
    let keep = max.min(safe);
    match masked {
        Cow::Borrowed(t) => Cow::Borrowed(cut_at(t, keep)),
        Cow::Owned(t) => Cow::Owned(cut_at(&t, keep).to_owned()),
    }
}

/// The longest start of `text` of at most `max` bytes that ends at a character boundary.
fn cut_at(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Replaces each of `values` in `text` with the mask: a value of 8 characters or more
/// wherever it occurs, a shorter one only as a whole word.
pub fn redact(text: &str, values: &[&str]) -> String {
    let mut sorted: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| v.chars().count() >= 4)
        .collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_owned();
    for value in sorted {
        if !out.contains(value) {
            continue;
        }
        if value.chars().count() >= 8 {
            out = out.replace(value, MASK);
            continue;
        }
        out = replace_words(&out, value);
    }
    out
}

/// Replaces `value` where it is not part of a longer word.
fn replace_words(text: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(value) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + value.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(&rest[..at]);
        out.push_str(if word(before) || word(after) {
            value
        } else {
            MASK
        });
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    out
}

/// The secrets of a text made of neighbouring lines, one value per line of each (so
/// that [`redact`] finds them in the lines one by one): a key wrapped over two lines, a
/// PEM body, a pretty-printed auth map, a YAML value on the line after its key. What
/// [`mask`] misses on a line alone, because the line holding the secret does not say so.
pub fn context_values(lines: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for found in find_secrets(lines) {
        for piece in found.value.lines().map(str::trim) {
            if !piece.is_empty() && !is_masked(piece) && !values.iter().any(|v| v == piece) {
                values.push(piece.to_owned());
            }
        }
    }
    values
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
    /// A value written in prose after a word such as `password`: masked when quoted, or
    /// when it looks like a secret (see [`looks_like_secret`]).
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

/// One secret shape: a pattern plus how to read its groups.
struct SecretShape {
    pattern: String,
    /// The pattern compiled, on the first text that holds one of its trigger words:
    /// a run that masks only URLs never compiles the other shapes.
    re: OnceLock<Regex>,
    /// How the groups become spans.
    kind: Kind,
    /// Its trigger words, as a bit set: bit `i` is the scan's pattern `i`.
    triggers: u64,
    /// What kind of secret it finds.
    label: Label,
}

impl SecretShape {
    /// The compiled pattern.
    // Constant pattern, exercised by the unit tests: it cannot fail at run time.
    #[allow(clippy::expect_used)]
    fn re(&self) -> &Regex {
        self.re
            .get_or_init(|| Regex::new(&self.pattern).expect("valid regex"))
    }

    /// Appends the byte ranges of every secret this rule finds in `text`.
    fn collect(&self, text: &str, spans: &mut Vec<Range<usize>>) {
        self.each_secret(text, &mut |range, _, _| spans.push(range));
    }

    /// Calls `found` with the byte range of every secret this rule finds in `text`, the
    /// range of the whole match it belongs to, and the capture group it is (0: the match).
    fn each_secret(&self, text: &str, found: &mut dyn FnMut(Range<usize>, Range<usize>, usize)) {
        for caps in self.re().captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            if caps.len() == 1 {
                found(whole.range(), whole.range(), 0);
                continue;
            }
            for (index, group) in caps.iter().enumerate().skip(1) {
                let Some(group) = group else { continue };
                match self.kind {
                    _ if group.is_empty() => {}
                    Kind::SkipBenign if is_benign(group.as_str()) => {}
                    Kind::NextLine if is_benign(group.as_str()) || is_yaml_key(group.as_str()) => {}
                    Kind::Prose if !prose_secret(index, group.as_str()) => {}
                    Kind::TableCells => {
                        for span in table_cell_spans(group.as_str(), group.start()) {
                            found(span, whole.range(), index);
                        }
                    }
                    Kind::MapBody => {
                        let mut spans = Vec::new();
                        map_value_spans(group.as_str(), group.start(), &mut spans);
                        for span in spans {
                            found(span, whole.range(), index);
                        }
                    }
                    _ => found(group.range(), whole.range(), index),
                }
            }
        }
    }
}

/// Whether group `index` of the prose-password shape is a secret: a quoted value (groups
/// 1 to 3) unless it is a benign word, a bare one (group 4) when it looks like a secret.
fn prose_secret(index: usize, value: &str) -> bool {
    if index < 4 {
        return !is_benign(value) && !is_masked(value);
    }
    looks_like_secret(value)
}

/// Whether a bare word written after `password` in prose looks like a secret rather than
/// a word: at least 6 characters (trailing punctuation aside) with a digit, a symbol or a
/// capital letter after the first character, and not a bracketed placeholder.
fn looks_like_secret(value: &str) -> bool {
    let word = value.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
    if word.chars().count() < 6 || is_benign(word) || is_masked(word) {
        return false;
    }
    if word.starts_with(['(', '[', '<', '{']) {
        return false;
    }
    let digit = word.chars().any(|c| c.is_ascii_digit());
    let symbol = word
        .chars()
        .any(|c| !c.is_alphanumeric() && c != '-' && c != '\'');
    let inner_capital = word.chars().skip(1).any(char::is_uppercase);
    digit || symbol || inner_capital
}

/// Whether a line is a YAML `key: value` or `key:` of its own (a value never follows).
fn is_yaml_key(line: &str) -> bool {
    let key = line.trim_start_matches(['-', ' ']);
    key.split_once(':').is_some_and(|(name, rest)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// Whether a value is already a mask (so masking again, or counting it, is pointless).
fn is_masked(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == '*')
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

/// The spans of the cells of a table row's rest (`text`, starting at `offset`) that may
/// hold a secret: not empty, not a border, not a benign word, not a variable's level, not
/// a JSON object.
fn table_cell_spans(text: &str, offset: usize) -> Vec<Range<usize>> {
    const LEVELS: [&str; 4] = ["project", "environment", "env", "application"];
    let mut spans = Vec::new();
    let mut at = 0;
    // What follows the row's last `|` is not a cell (unless the row was cut short).
    let cells = match text.rfind('|') {
        Some(last) => &text[..last],
        None => text,
    };
    for cell in cells.split('|') {
        let start = at + (cell.len() - cell.trim_start().len());
        let value = cell.trim();
        at += cell.len() + 1;
        let border = value.chars().all(|c| matches!(c, '-' | '+' | '=' | ' '));
        let level = LEVELS.iter().any(|l| value.eq_ignore_ascii_case(l));
        // A JSON object's secrets are found by the JSON shapes, its keys kept.
        let object = value.starts_with('{');
        if border || level || object || is_benign(value) || is_masked(value) {
            continue;
        }
        spans.push(offset + start..offset + start + value.len());
    }
    spans
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
    rules: Vec<SecretShape>,
    /// Finds every rule's trigger words (ASCII case-insensitively), each word one
    /// pattern.
    scan: AhoCorasick,
}

impl Rules {
    /// The trigger words that occur in `text`, as a bit set (see [`SecretShape::triggers`]): a
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
    patterns.extend(platform_patterns());
    let mut words: Vec<&'static str> = Vec::new();
    let rules = patterns
        .into_iter()
        .map(|(pattern, kind, triggers, label)| {
            let mut bits = 0;
            for &word in triggers {
                let index = words.iter().position(|&w| w == word).unwrap_or_else(|| {
                    words.push(word);
                    words.len() - 1
                });
                bits |= word_bit(index);
            }
            SecretShape {
                pattern,
                re: OnceLock::new(),
                kind,
                triggers: bits,
                label,
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
fn key_value_patterns() -> Vec<ShapeSource> {
    let json = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE})");
    let any = format!("(?:{JSON_VALUE_ESCAPED}|{JSON_VALUE}|{SINGLE_VALUE}|{BARE_VALUE})");
    let sep = r#"\\*["']?\]?\s*(?:=>|[:=])\s*"#;
    vec![
        // key=value, key: value, "key": "value", 'key' => 'value' for secret key names.
        // The key must not follow `//`, so `https://x-access-token:…@host` is left to the
        // URL rule; it may follow one `/`, as a file name does (`logs/password=x.log`).
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
        // all of it. An object's secrets are found by the rules above, its keys kept.
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
fn credential_patterns() -> Vec<ShapeSource> {
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
fn platform_patterns() -> Vec<ShapeSource> {
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
        if is_word_byte(before) {
            continue;
        }
        if i - start == 32 && !is_word_byte(bytes.get(i)) {
            spans.push(start..i);
        } else if let Some(rest) = wrapped_key_rest(bytes, start, i) {
            spans.push(start..i);
            spans.push(rest.clone());
            i = rest.end;
        }
    }
}

/// The second half of a Marketplace key that a terminal or mail client wrapped onto the
/// next line: the hex run `start..end` ends its line, and the next line (after spaces,
/// tabs and `>` quote marks) opens with the hex digits that make it 32 long, followed
/// by no word character.
fn wrapped_key_rest(bytes: &[u8], start: usize, end: usize) -> Option<Range<usize>> {
    let first = end - start;
    if first >= 32 {
        return None;
    }
    let mut at = end;
    if bytes.get(at) == Some(&b'\r') {
        at += 1;
    }
    if bytes.get(at) != Some(&b'\n') {
        return None;
    }
    at += 1;
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'>'))
    {
        at += 1;
    }
    let rest_start = at;
    while bytes.get(at).copied().is_some_and(is_lower_hex) {
        at += 1;
    }
    let whole = first + (at - rest_start) == 32 && at > rest_start;
    (whole && !is_word_byte(bytes.get(at))).then_some(rest_start..at)
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
    /// The quote of a secret value the last line left open: the next line continues it
    /// up to that quote (a wrapped `"password": "…`).
    open_quote: Option<char>,
    /// The length of the hex run that ended the last line: the next line may open with
    /// the rest of a wrapped 32-hex key.
    hex_tail: usize,
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
        let continued = self.continue_value(&clean);
        let masked = if self.auth_depth > 0 {
            self.mask_auth_line(continued.as_deref().unwrap_or(&clean))
        } else {
            self.enter_state(&clean);
            match &continued {
                Some(text) => Cow::Owned(mask(text).into_owned()),
                None => mask(line),
            }
        };
        self.note_open_value(&clean, &masked);
        masked
    }

    /// The line with the rest of a value the last line left open masked, if it has one.
    fn continue_value(&mut self, clean: &str) -> Option<String> {
        let lead = clean.len() - clean.trim_start_matches([' ', '\t', '>']).len();
        let body = &clean[lead..];
        if let Some(quote) = self.open_quote {
            let Some(end) = body.find(quote) else {
                // The value goes on past this line too.
                return Some(format!("{}{MASK}", &clean[..lead]));
            };
            self.open_quote = None;
            return (end > 0).then(|| format!("{}{MASK}{}", &clean[..lead], &body[end..]));
        }
        let wanted = 32usize.checked_sub(std::mem::take(&mut self.hex_tail))?;
        let run = body.bytes().take_while(|&b| is_lower_hex(b)).count();
        let fits = run == wanted && run < 32 && !is_word_byte(body.as_bytes().get(run));
        fits.then(|| format!("{}{MASK}{}", &clean[..lead], &body[run..]))
    }

    /// Remembers a quoted secret masked to the end of the line (its closing quote is on
    /// the next line), or a hex run that ends the line (a key the wrap may have cut).
    fn note_open_value(&mut self, clean: &str, masked: &str) {
        if self.open_quote.is_some() {
            return;
        }
        self.hex_tail = 0;
        if let Some(head) = masked.strip_suffix(MASK)
            && let Some(quote) = head.chars().last().filter(|c| matches!(c, '"' | '\''))
        {
            self.open_quote = Some(quote);
            return;
        }
        let bytes = clean.as_bytes();
        let run = bytes.iter().rev().take_while(|&&b| is_lower_hex(b)).count();
        let before = bytes.len().checked_sub(run + 1).and_then(|i| bytes.get(i));
        if run > 0 && run < 32 && !is_word_byte(before) {
            self.hex_tail = run;
        }
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
mod tests;
