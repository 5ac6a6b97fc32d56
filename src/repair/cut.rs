//! Whether the text on both sides of a line end shows that one thing (a URL, a path, a
//! version, a word) was cut in two.

use std::sync::LazyLock;

/// Whether the text on both sides of a line end shows that the end cut one thing in two:
/// a space kept at the end of the line or the start of the next (a terminal cuts where
/// the width ends, a space included), punctuation that cannot open a line, a URL, a path,
/// a word or a number cut in the middle, or a bracket or double quote that the line opens
/// and the next one closes.
pub(super) fn shows_cut(before: &str, after: &str) -> bool {
    let Some(last) = before.chars().next_back() else {
        return false;
    };
    let Some(first) = after.chars().next() else {
        return false;
    };
    if last.is_whitespace() {
        // Text, one space, and text on the next line: the space the cut fell on.
        let one_space = !before[..before.len() - last.len_utf8()].ends_with(char::is_whitespace);
        return one_space && !first.is_whitespace();
    }
    if first == ' ' {
        // One space, then the text: the space the cut fell on.
        return after[1..].starts_with(|ch: char| !ch.is_whitespace());
    }
    if first.is_whitespace() {
        return false;
    }
    // Punctuation that ends a clause never opens a line.
    let closes_clause = matches!(first, ':' | ';' | ',' | '!' | '?')
        || (first == '.' && after[1..].starts_with([' ', '.']) || after == ".");
    if closes_clause {
        return true;
    }
    let tail = before.rsplit(char::is_whitespace).next().unwrap_or(before);
    let head = after.split(char::is_whitespace).next().unwrap_or(after);
    // A cut `->`, and a package name cut at its slash (`acme` `/module-x`).
    let arrow = last == '-' && first == '>';
    // A protocol cut from its version (`HTTP` `/1.1`): no line opens with `/1`.
    let package = first == '/'
        && tail.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        && ((head[1..].starts_with(|ch: char| ch.is_ascii_lowercase())
            && !head[1..].contains('/'))
            || head[1..].starts_with(|ch: char| ch.is_ascii_digit()));
    // A hyphenated word cut at its hyphen (`Read-` `only`, `Read` `-only`), a URL's
    // scheme cut from its slashes (`phar:` `///usr`), a version cut from the word it
    // follows (`magento/framework` `[103.0.6]`).
    let hyphen = (last == '-' && tail.len() > 1 && first.is_lowercase())
        || (first == '-' && last.is_alphanumeric() && head[1..].starts_with(char::is_lowercase));
    let scheme = last == ':' && head.starts_with("//");
    let version = first == '['
        && last.is_ascii_alphanumeric()
        && head[1..].starts_with(|ch: char| ch.is_ascii_digit())
        && head.contains(']');
    // A namespaced PHP class cut anywhere in its name (`Magento\Framework\Valid`
    // `ationException`), and a host name cut after a dot (`repo.magento.` `com`).
    let class = tail.contains('\\') && last.is_alphanumeric() && first.is_alphanumeric();
    let host = last == '.'
        && is_host_start(tail.trim_start_matches(['\'', '"', '(', '@']))
        && head.starts_with(|ch: char| ch.is_ascii_lowercase());
    arrow
        || package
        || cuts_status(before, head)
        || class
        || host
        || hyphen
        || scheme
        || version
        || closes_what_opened(before, after)
        || closes_quoted_token(tail, head)
        // A URL or path that the line leaves open: its last character can go on.
        || (tail.contains("://") && continues_path(last) && continues_path(first))
        || (tail.contains('/')
            && continues_path(last)
            && continues_path(first)
            && !first.is_uppercase())
        || cuts_word(tail, head)
}

/// Whether `tail` is the start of a host name cut after a dot: two labels or more, each
/// opening with a letter (`repo.magento.`, not `3.5s.` or `done.`).
fn is_host_start(tail: &str) -> bool {
    let labels = tail.trim_end_matches('.');
    labels.contains('.')
        && labels.split('.').all(|label| {
            label.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

/// Whether the last word of a line opens a quote (`'https://...`) that the first word of
/// the next line closes.
pub(super) fn closes_quoted_token(tail: &str, head: &str) -> bool {
    let tail = tail.trim_start_matches(['(', '[']);
    let Some(quote) = tail.chars().next().filter(|ch| matches!(ch, '\'' | '"')) else {
        return false;
    };
    !tail[1..].contains(quote) && head.contains(quote)
}

/// How many bytes the last `letters` characters of `text` take.
pub(super) fn tail_letters_bytes(text: &str, letters: usize) -> usize {
    text.chars().rev().take(letters).map(char::len_utf8).sum()
}

/// How many bytes the first `letters` characters of `text` take.
pub(super) fn head_letters_bytes(text: &str, letters: usize) -> usize {
    text.chars().take(letters).map(char::len_utf8).sum()
}

/// Whether `before` and `after` make one word of the vocabulary the rule catalogue is
/// written in (`acce` `ssed`, `Conn` `ection`): a word the rules look for is what a cut
/// must not break.
pub(super) fn is_known_word(before: &str, after: &str) -> bool {
    const SHORTEST: usize = 5;
    if before.is_empty() || after.is_empty() || before.len() + after.len() < SHORTEST {
        return false;
    }
    if !after.starts_with(|ch: char| ch.is_ascii_lowercase()) {
        return false;
    }
    let word = format!("{before}{after}").to_ascii_lowercase();
    VOCABULARY.contains(word.as_str())
}

/// The words (five letters or more, lowercased) of the shipped rule files: their
/// patterns, descriptions and example logs.
pub(super) static VOCABULARY: LazyLock<std::collections::HashSet<String>> = LazyLock::new(|| {
    crate::rule::EMBEDDED
        .iter()
        .flat_map(|(_, text)| text.split(|ch: char| !ch.is_ascii_alphabetic()))
        .filter(|word| word.len() >= 5)
        .map(str::to_ascii_lowercase)
        .collect()
});

/// Whether a character can go on a URL or a path that was cut before it.
pub(super) fn continues_path(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
        || matches!(
            ch,
            '-' | '_' | '.' | '/' | '~' | '%' | '?' | '=' | '&' | '#' | ':' | '@' | '+'
        )
}

/// Whether a word or number at the end of a line, `tail`, goes on in `head`, the first
/// word of the next line: a version cut at its dots or digits; an acronym cut from capitals
/// (`H` `TTP/1.1`); a word cut where one side keeps at most three letters and the rest
/// is lowercase (`Rea` `d-only`, `C` `onnection`, `aut` `hentication`), two before a
/// path (`in p` `har:///...`, not `3 sec` `frontend/...`), unless the next line opens
/// with a level (`error:`).
pub(super) fn cuts_word(tail: &str, head: &str) -> bool {
    let (Some(last), Some(first)) = (tail.chars().next_back(), head.chars().next()) else {
        return false;
    };
    // A version cut at or after a dot; a bare number ends a line often (`column 30`
    // above a numbered listing).
    let in_version = tail.contains('.') && tail.bytes().any(|byte| byte.is_ascii_digit());
    let number = match (last, first) {
        ('.', first) => first.is_ascii_digit(),
        (last, '.') => {
            last.is_ascii_digit() && head[1..].starts_with(|ch: char| ch.is_ascii_digit())
        }
        (last, first) => last.is_ascii_digit() && first.is_ascii_digit() && in_version,
    };
    let letters_before = tail
        .chars()
        .rev()
        .take_while(|ch| ch.is_alphabetic())
        .count();
    let capitals_after = head.chars().take_while(|ch| ch.is_uppercase()).count();
    let acronym = last.is_uppercase()
        && letters_before <= 3
        && tail
            .chars()
            .rev()
            .take(letters_before)
            .all(char::is_uppercase)
        && capitals_after >= 1
        && letters_before + capitals_after >= 3
        && !head[capitals_after..].starts_with(char::is_lowercase);
    let letters_after = head.chars().take_while(|ch| ch.is_alphabetic()).count();
    // A path is a line's own more often than a word's rest.
    let short_side = match head.contains('/') {
        true => 2,
        false => 3,
    };
    // A short side is a cut word's piece only if it is not a whole word itself: a line
    // may end in `to` or `on` and the next open with a word of its own (`it do` `es`
    // is cut: `es` is no word).
    let before = &tail[tail.len() - tail_letters_bytes(tail, letters_before)..];
    let after = &head[..head_letters_bytes(head, letters_after)];
    let piece = |side: &str, letters: usize| letters <= short_side && !is_short_word(side);
    let lowercase = last.is_alphabetic()
        && first.is_lowercase()
        && head.chars().take(letters_after).all(char::is_lowercase)
        && (piece(before, letters_before) || piece(after, letters_after))
        && !opens_with_level(head);
    number || acronym || lowercase || is_known_word(before, after)
}

/// English words of one to three letters: a line ends in one, or opens with one, as
/// often as a word is cut there, so the length of such a side shows no cut.
fn is_short_word(side: &str) -> bool {
    const WORDS: &[&str] = &[
        "a", "i", "am", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it",
        "me", "my", "no", "of", "on", "or", "so", "to", "up", "us", "we", "all", "and", "any",
        "are", "but", "can", "did", "few", "for", "got", "had", "has", "her", "his", "how", "its",
        "may", "new", "not", "now", "off", "old", "one", "our", "out", "own", "per", "see", "set",
        "she", "the", "too", "two", "use", "via", "was", "way", "who", "why", "yet", "you",
    ];
    WORDS.iter().any(|word| side.eq_ignore_ascii_case(word))
}

/// Whether an HTTP status code is cut (`HTTP/1.1 4` `03 Forbidden`): the digits on both
/// sides make the three of a status, right after a status line's protocol and version.
fn cuts_status(before: &str, head: &str) -> bool {
    const STATUS_DIGITS: usize = 3;
    let Some((line, digits)) = before.rsplit_once(' ') else {
        return false;
    };
    let protocol = line.rsplit(' ').next().unwrap_or(line);
    let after = head.bytes().take_while(u8::is_ascii_digit).count();
    protocol.starts_with("HTTP/")
        && !digits.is_empty()
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && after > 0
        && digits.len() + after == STATUS_DIGITS
}

/// Whether a word is a lowercase level label (`error:`, `warning:`) as git, patch and
/// npm open their lines with.
pub(super) fn opens_with_level(head: &str) -> bool {
    let label = head.strip_suffix(':').unwrap_or("");
    matches!(
        label,
        "error" | "warning" | "fatal" | "notice" | "hint" | "note" | "info" | "debug"
    )
}

/// Whether `before` leaves a bracket or a double quote open that `after` closes.
pub(super) fn closes_what_opened(before: &str, after: &str) -> bool {
    let balance = |text: &str, open: u8, close: u8| {
        text.bytes().fold(0i64, |depth, byte| {
            depth + i64::from(byte == open) - i64::from(byte == close)
        })
    };
    let pairs = [(b'(', b')'), (b'[', b']'), (b'{', b'}')];
    let brackets = pairs
        .iter()
        .any(|&(open, close)| balance(before, open, close) > 0 && balance(after, open, close) < 0);
    let quotes = |text: &str| memchr::memchr_iter(b'"', text.as_bytes()).count() % 2 == 1;
    brackets || (quotes(before) && quotes(after))
}
