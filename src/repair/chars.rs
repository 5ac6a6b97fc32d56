//! Character repairs: ANSI escapes, carriage returns, HTML entities, typographic
//! characters, invisible characters, and JSON-escaped output split at its literal `\n`.

use memchr::memmem;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Bytes that make a line need more than the prefix check: entities, escapes, carriage
/// returns, backslashes (literal `\n`), backticks, pipes (docker-compose) and non-ASCII.
/// Looked for with SIMD (`is_ascii`, `memchr3`): this runs on every line.
pub(super) const SPECIAL_ASCII: [u8; 6] = [b'&', 0x1b, b'\r', b'\\', b'`', b'|'];

/// The fast path's byte scan: whether any byte asks for a character-level repair (or a
/// backtick or docker-compose check).
pub(super) fn has_special_bytes(text: &str) -> bool {
    is_special(text.as_bytes())
}

pub(super) fn is_special(bytes: &[u8]) -> bool {
    let [a, b, c, d, e, f] = SPECIAL_ASCII;
    !bytes.is_ascii()
        || memchr::memchr3(a, b, c, bytes).is_some()
        || memchr::memchr3(d, e, f, bytes).is_some()
}

/// Splits a physical line at literal `\n` when it is JSON-escaped output and at carriage
/// returns that end lines (see [`split_carriage_returns`]), and repairs the characters of
/// each resulting line.
pub(super) fn repaired_bodies(text: &str) -> Vec<String> {
    let escaped = split_escaped_newlines(text);
    let lines = match &escaped {
        Some(lines) => lines.iter().map(String::as_str).collect(),
        None => vec![text],
    };
    let mut bodies = Vec::with_capacity(lines.len());
    for line in lines {
        let plain = strip_ansi(line);
        let plain = plain.as_deref().unwrap_or(line);
        for segment in split_carriage_returns(plain) {
            bodies.push(repair_chars(segment).into_owned());
        }
    }
    bodies
}

/// Applies the character repairs after ANSI escapes and carriage returns are dealt with;
/// borrows when nothing changed.
pub(super) fn repair_chars(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    for repair in [decode_entities, normalize_unicode] {
        if let Some(repaired) = repair(&text) {
            text = Cow::Owned(repaired);
        }
    }
    text
}

/// Removes ANSI escape sequences (CSI, OSC and two-byte escapes); `None` if there were none.
pub(super) fn strip_ansi(text: &str) -> Option<String> {
    if !text.contains('\u{1b}') && !text.contains('\u{9b}') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            _ => out.push(ch),
        }
    }
    Some(out)
}

pub(super) fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') => skip_osc(chars),
        _ => {}
    }
}

/// Skips a CSI sequence's parameter and intermediate bytes up to its final byte.
pub(super) fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for ch in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&ch) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&ch) {
            // Not a well-formed sequence: stop eating text.
            return;
        }
    }
}

/// Skips an OSC sequence up to BEL or the string terminator `ESC \`.
pub(super) fn skip_osc(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(ch) = chars.next() {
        if ch == '\u{7}' {
            return;
        }
        if ch == '\u{1b}' {
            if chars.peek() == Some(&'\\') {
                chars.next();
            }
            return;
        }
    }
}

/// Splits a line at its carriage returns. A progress bar redraws one line: of two
/// progress states in a row only the later one is what the terminal showed. Between
/// other text a carriage return ends a line, as in a file saved with CR line ends.
/// Blank pieces are dropped, and a line of nothing else comes out as one empty line.
pub(super) fn split_carriage_returns(text: &str) -> Vec<&str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return vec![text];
    }
    let mut lines: Vec<&str> = Vec::new();
    for piece in text.split('\r') {
        if piece.trim().is_empty() {
            continue;
        }
        match lines.last_mut() {
            Some(last) if shows_progress(last) && shows_progress(piece) => *last = piece,
            _ => lines.push(piece),
        }
    }
    if lines.is_empty() {
        lines.push("");
    }
    lines
}

/// Whether text shows a progress state: a percentage (`35%`) or a count standing on its
/// own (`12/40`, `[12/40]`), not digits inside a URL or path (`v2.3/install`).
pub(super) fn shows_progress(text: &str) -> bool {
    let bytes = text.as_bytes();
    let percentage = bytes
        .windows(2)
        .any(|pair| pair[0].is_ascii_digit() && pair[1] == b'%');
    percentage
        || bytes
            .split(|b| matches!(b, b' ' | b'\t' | b'[' | b']' | b'(' | b')'))
            .any(is_count)
}

/// Whether a word is `N/M`, digits on both sides of one slash.
pub(super) fn is_count(word: &[u8]) -> bool {
    let mut halves = word.splitn(2, |&b| b == b'/');
    let (Some(done), Some(total)) = (halves.next(), halves.next()) else {
        return false;
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    digits(done) && digits(total)
}

/// Named entities that web pages and mail clients produce in log text.
pub(super) const NAMED_ENTITIES: [(&str, char); 14] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("hellip", '\u{2026}'),
    ("shy", '\u{ad}'),
];

/// Decodes HTML entities (named ones from the table, decimal and hex numeric ones) once.
pub(super) fn decode_entities(text: &str) -> Option<String> {
    memchr::memchr(b'&', text.as_bytes())?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity_at(rest) {
            Some((ch, consumed)) => {
                out.push(ch);
                rest = &rest[consumed..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Parses the entity at the start of `text` (which starts with `&`): its character and
/// how many bytes it spans.
pub(super) fn entity_at(text: &str) -> Option<(char, usize)> {
    // Entity names are short; looking further would make a line of `&`s quadratic.
    let end = memchr::memchr(b';', &text.as_bytes()[..text.len().min(12)])?;
    let name = &text[1..end];
    let ch = match name.strip_prefix('#') {
        Some(number) => numeric_entity(number)?,
        None => NAMED_ENTITIES
            .iter()
            .find(|(entity, _)| *entity == name)
            .map(|&(_, ch)| ch)?,
    };
    Some((ch, end + 1))
}

pub(super) fn numeric_entity(number: &str) -> Option<char> {
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code).filter(|&ch| ch != '\0')
}

/// Turns typographic characters that editors and web pages substitute back into ASCII,
/// and drops invisible ones.
pub(super) fn normalize_unicode(text: &str) -> Option<String> {
    if text.is_ascii() || !text.chars().any(|ch| unicode_replacement(ch).is_some()) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match unicode_replacement(ch) {
            Some(replacement) => out.push_str(replacement),
            None => out.push(ch),
        }
    }
    Some(out)
}

pub(super) fn unicode_replacement(ch: char) -> Option<&'static str> {
    Some(match ch {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' => "'",
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' => "\"",
        '\u{a0}' | '\u{2007}' | '\u{202f}' => " ",
        '\u{2026}' => "...",
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => "",
        _ => return None,
    })
}

/// Finds a literal `\n`; built once because building a finder costs more than a search.
pub(super) static ESCAPED_NEWLINE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\\n"));

/// Splits JSON-escaped output pasted as-is at its literal `\n` and unescapes it; `None`
/// unless it really looks escaped, since Windows paths also contain `\n` (`C:\new`).
pub(super) fn split_escaped_newlines(text: &str) -> Option<Vec<String>> {
    memchr::memchr(b'\\', text.as_bytes())?;
    let escaped_newlines = ESCAPED_NEWLINE.find_iter(text.as_bytes()).count();
    if escaped_newlines < 2 {
        return None;
    }
    let (lines, evidence) = unescape_json(text);
    (lines.len() > 2 && evidence).then_some(lines)
}

/// Unescapes JSON string escapes, splitting at `\n`. Also tells whether the text showed
/// evidence of being JSON-escaped: `\"`, or a `\n` followed by a blank or another escape.
pub(super) fn unescape_json(text: &str) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut evidence = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            current.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => {
                evidence |= matches!(chars.peek(), None | Some(' ' | '\\'));
                lines.push(std::mem::take(&mut current));
            }
            Some('"') => {
                evidence = true;
                current.push('"');
            }
            Some('t') => current.push('\t'),
            Some('r') => current.push('\r'),
            Some('/') => current.push('/'),
            Some('\\') => current.push('\\'),
            Some('u') => push_unicode_escape(&mut chars, &mut current),
            Some(other) => {
                current.push('\\');
                current.push(other);
            }
            None => current.push('\\'),
        }
    }
    lines.push(current);
    (lines, evidence)
}

/// Decodes the four hex digits of a `\u` escape; keeps the text as it was if invalid.
pub(super) fn push_unicode_escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut String,
) {
    let digits: String = chars.clone().take(4).collect();
    let decoded = u32::from_str_radix(&digits, 16)
        .ok()
        .filter(|_| digits.len() == 4)
        .and_then(char::from_u32);
    match decoded {
        Some(ch) => {
            out.push(ch);
            chars.nth(3);
        }
        None => out.push_str("\\u"),
    }
}

#[cfg(test)]
mod cr_tests {
    use super::*;

    /// Regression: a URL holding `2.3/` made a line look like a progress bar, so two
    /// CR-separated copies of the same warning were taken for one redrawn bar.
    #[test]
    pub(super) fn digits_in_a_url_are_not_a_progress_count() {
        assert!(!shows_progress(
            "visit https://devdocs.magento.com/guides/v2.3/install-gde/x.html"
        ));
        assert!(shows_progress(" 12/40 [=====>-----]"));
        assert!(shows_progress("Downloading (35%)"));
        assert!(shows_progress("[3/9] compiling"));
        let twice = "see v2.3/a.html\rsee v2.3/a.html\r";
        assert_eq!(split_carriage_returns(twice).len(), 2);
    }
}
