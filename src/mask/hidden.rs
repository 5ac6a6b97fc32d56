//! ANSI escape sequences and invisible characters, which could split a secret or a key
//! name, and are removed before matching.

/// Tells whether `text` holds an ANSI escape, a BEL or an invisible character.
pub(super) fn has_hidden(text: &str) -> bool {
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
pub(super) fn strip_hidden(text: &str) -> String {
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
