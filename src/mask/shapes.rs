//! The secret shapes compiled: each pattern's regex (built on first use), how its
//! capture groups become masked spans, and the trigger-word scan that picks which run.

use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::inventory::Label;
use super::patterns::{
    JSON_VALUE, JSON_VALUE_ESCAPED, Kind, credential_patterns, key_value_patterns,
    platform_patterns,
};

/// One secret shape: a pattern plus how to read its groups.
pub(super) struct SecretShape {
    pub(super) pattern: String,
    /// The pattern compiled, on the first text that holds one of its trigger words:
    /// a run that masks only URLs never compiles the other shapes.
    re: OnceLock<Regex>,
    /// How the groups become spans.
    kind: Kind,
    /// Its trigger words, as a bit set: bit `i` is the scan's pattern `i`.
    pub(super) triggers: u64,
    /// What kind of secret it finds.
    pub(super) label: Label,
}

impl SecretShape {
    /// The compiled pattern.
    // Constant pattern, exercised by the unit tests: it cannot fail at run time.
    #[allow(clippy::expect_used)]
    fn re(&self) -> &Regex {
        self.re
            .get_or_init(|| Regex::new(&self.pattern).expect("valid regex"))
    }

    /// Appends the byte ranges of every secret this shape finds in `text`.
    pub(super) fn collect(&self, text: &str, spans: &mut Vec<Range<usize>>) {
        self.each_secret(text, &mut |range, _, _| spans.push(range));
    }

    /// Calls `found` with the byte range of every secret this shape finds in `text`, the
    /// range of the whole match it belongs to, and the capture group it is (0: the match).
    pub(super) fn each_secret(
        &self,
        text: &str,
        found: &mut dyn FnMut(Range<usize>, Range<usize>, usize),
    ) {
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
pub(super) fn is_masked(value: &str) -> bool {
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
pub(super) fn map_value_spans(body: &str, offset: usize, spans: &mut Vec<Range<usize>>) {
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
/// [`hex_key_spans`](super::hex::hex_key_spans)), and the trigger words that let each run.
pub(super) struct ShapeSet {
    pub(super) shapes: Vec<SecretShape>,
    /// Finds every shape's trigger words (ASCII case-insensitively), each word one
    /// pattern.
    pub(super) scan: AhoCorasick,
}

impl ShapeSet {
    /// The trigger words that occur in `text`, as a bit set (see [`SecretShape::triggers`]): a
    /// shape runs only on a text that holds one of its own.
    ///
    /// A pattern folds case in Unicode (`ſ` is an `s`, the Kelvin sign a `k`) where the
    /// words are ASCII: on a text that is not ASCII, every shape runs.
    pub(super) fn found_in(&self, text: &str) -> u64 {
        if !text.is_ascii() {
            return u64::MAX;
        }
        self.scan
            .find_overlapping_iter(text)
            .fold(0, |found, m| found | word_bit(m.pattern().as_usize()))
    }
}

/// The bit of the trigger word at `index` in a set; past 64 words, every bit (the shapes
/// then run whatever their words).
fn word_bit(index: usize) -> u64 {
    u32::try_from(index)
        .ok()
        .and_then(|index| 1u64.checked_shl(index))
        .unwrap_or(u64::MAX)
}

// Constant patterns, exercised by the unit tests: they cannot fail at run time.
#[allow(clippy::expect_used)]
pub(super) static SHAPES: LazyLock<ShapeSet> = LazyLock::new(|| {
    let mut patterns = key_value_patterns();
    patterns.extend(credential_patterns());
    patterns.extend(platform_patterns());
    let mut words: Vec<&'static str> = Vec::new();
    let shapes = patterns
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
    ShapeSet { shapes, scan }
});
