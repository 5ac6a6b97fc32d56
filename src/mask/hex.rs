//! The 32-hex Marketplace access key, found by its shape alone, also when a wrap split it.

use std::ops::Range;

/// Appends every standalone run of exactly 32 lowercase hex digits (a Marketplace key).
///
/// A run counts when it is not preceded or followed by an ASCII letter, digit
/// or `_`, so 40-hex commit ids, 64-hex checksums and longer runs are left alone.
pub(super) fn hex_key_spans(text: &str, spans: &mut Vec<Range<usize>>) {
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
pub(super) fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Tells whether `b` is an ASCII word byte (`[A-Za-z0-9_]`); `None` (text edge) is not.
pub(super) fn is_word_byte(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}
