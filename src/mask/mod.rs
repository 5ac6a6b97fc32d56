//! Secret masking applied to every string magediag prints.
//!
//! [`mask`] replaces each secret in a string with [`MASK`] and keeps the text
//! around it, so a diagnosis can still quote the line. [`LineMasker`] does the
//! same line by line and also masks secrets that span several lines (PEM
//! private key bodies, pretty-printed Composer auth maps).
//!
//! Design:
//! - A cheap pre-check (an Aho-Corasick scan for trigger words plus a byte scan
//!   for 32-character hex tokens) decides whether any shape can match; most log
//!   lines stop there and come back as [`Cow::Borrowed`].
//! - Every shape is a `regex` pattern (linear time, no backtracking). Each
//!   capture group of a shape is a secret; a shape without groups masks its whole
//!   match. All shapes run on the same input, their spans are merged, and each
//!   merged span becomes one [`MASK`].
//! - ANSI escape sequences and zero-width characters are stripped before
//!   matching when present, so they cannot split a secret or a key name.
//! - Masking repeats until nothing changes, which makes [`mask`] idempotent.
//!
//! The shapes and the known limits are listed in `docs/secrets.md`. The shapes as
//! written are in `patterns.rs`, compiled in `shapes.rs`; the 32-hex key scan is in
//! `hex.rs`, hidden characters in `hidden.rs`, [`LineMasker`] in `line_masker.rs`, and
//! [`find_secrets`] (what a text holds, by kind) in `inventory.rs`.

use std::borrow::Cow;
use std::ops::Range;

mod hex;
mod hidden;
mod inventory;
mod line_masker;
mod patterns;
mod shapes;

use hex::hex_key_spans;
use hidden::{has_hidden, strip_hidden};
pub use inventory::{FoundSecret, SecretKind, find_secrets};
pub use line_masker::LineMasker;
use shapes::{SHAPES, is_masked};

/// The fixed string that replaces every secret, so the secret's length never leaks.
pub const MASK: &str = "****";

/// Upper bound on masking passes; real input converges after one or two.
const MAX_PASSES: usize = 4;

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

/// Which shapes a masking pass runs.
#[derive(Clone, Copy)]
enum Select {
    /// Those whose trigger words occur in the text ([`ShapeSet::found_in`](shapes::ShapeSet::found_in)).
    ByTriggers,
    /// Every shape: what the trigger words must never change (see the unit tests).
    #[cfg(test)]
    Every,
}

/// [`mask`], running the shapes `select` picks.
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

/// Runs the shapes `select` picks once over `text`; `None` when no span changed the text.
fn mask_once(text: &str, select: Select) -> Option<String> {
    let mut spans = Vec::new();
    hex_key_spans(text, &mut spans);
    let found = match select {
        Select::ByTriggers => SHAPES.found_in(text),
        #[cfg(test)]
        Select::Every => u64::MAX,
    };
    for shape in &SHAPES.shapes {
        if shape.triggers & found != 0 {
            shape.collect(text, &mut spans);
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

/// Cheap pre-check: can any shape match `text`?
fn may_hold_secret(text: &str) -> bool {
    if SHAPES.scan.is_match(text) {
        return true;
    }
    let mut spans = Vec::new();
    hex_key_spans(text, &mut spans);
    !spans.is_empty()
}

#[cfg(test)]
mod tests;
