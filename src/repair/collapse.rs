//! A paste collapsed onto one physical line (a web form, a chat or a ticket field that
//! turned every line end into a space): split back into its lines where the text shows
//! that a line began.
//!
//! A line is taken for a collapse only on evidence that no clean log line shows: a
//! second line opening inside it (a Cloud `W:`/`E:` prefix, a Symfony box header, the
//! line's own timestamp shape again), the line's opening repeated, a message the rule catalogue
//! only ever matches at the start of a line, or three indented openings (a run of spaces
//! where an indented line was joined, then a word: a table's header shows fewer). It is then split at every place
//! that shows a line began; text between them stays as it is.

use std::sync::LazyLock;

use regex::Regex;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

use super::prefix::strip_transport;

/// Lines shorter than this are never taken for a collapse: two log lines make more.
pub(super) const COLLAPSED_MIN: usize = 80;

/// How many bytes of a line's opening must repeat for the repeat to be evidence.
const REPEATED_OPENING: usize = 24;

/// A line this long may be a collapse on a repeated message alone (see [`openings`]).
const LONG_LINE: usize = 160;

/// How much evidence makes a line a collapse (see [`Opening::weight`]).
const COLLAPSE_EVIDENCE: u32 = 3;

/// What opens a line at a place inside a physical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// A run of blanks (three or more, or a tab): an indented line was joined there.
    Indented,
    /// A Cloud build prefix, a Symfony box header, a bracketed timestamp, a Composer list
    /// item after indentation: each opens a line, never goes on one.
    Marker,
    /// The line's own opening again: a message repeated.
    Repeat,
    /// A message that the rule catalogue matches only at the start of a line.
    RuleStart,
}

impl Opening {
    /// How much one such opening counts towards [`COLLAPSE_EVIDENCE`].
    fn weight(self) -> u32 {
        match self {
            // A table's header has gaps before capitals too: three make a collapse.
            Opening::Indented => 1,
            Opening::Marker | Opening::Repeat | Opening::RuleStart => COLLAPSE_EVIDENCE,
        }
    }
}

/// Splits `text` where a collapse joined lines, when it shows it was one; `None` when it
/// is a line of its own. Cheap for a line that holds no run of blanks and no marker.
pub(super) fn split_collapsed(text: &str) -> Option<Vec<&str>> {
    if text.len() < COLLAPSED_MIN {
        return None;
    }
    let openings = openings(text);
    let evidence: u32 = openings.iter().map(|&(_, kind)| kind.weight()).sum();
    if evidence < COLLAPSE_EVIDENCE {
        return None;
    }
    let mut pieces = Vec::with_capacity(openings.len() + 1);
    let mut from = 0;
    for &(at, _) in &openings {
        let piece = &text[from..at];
        if !piece.trim().is_empty() {
            pieces.push(piece.trim_end());
        }
        from = at;
    }
    pieces.push(&text[from..]);
    Some(pieces)
}

/// Where lines open inside `text` (never at its start), in order.
fn openings(text: &str) -> Vec<(usize, Opening)> {
    let bytes = text.as_bytes();
    let start = text.len() - text.trim_start().len();
    let prefix = transport_prefix(&text[start..]);
    // The line's own prefixes (`    W:   - `) open nothing inside it.
    let start = body_start(text);
    let stamp = stamp_shape(&text[start..]);
    // What the line opens with after them, to find it repeated.
    let opening = repeat_key(&text[start..]);
    let mut found = Vec::new();
    // Where each opening found and its prefixes span.
    let mut prefixed = Vec::new();
    let mut at = start;
    while let Some(offset) = memchr::memchr2(b' ', b'\t', &bytes[at..]) {
        let blank = at + offset;
        let word = blank
            + bytes[blank..]
                .iter()
                .position(|byte| !matches!(byte, b' ' | b'\t'))
                .unwrap_or(bytes.len() - blank);
        at = word;
        if word >= bytes.len() {
            break;
        }
        let gap = &bytes[blank..word];
        let rest = &text[word..];
        let indented = (gap.len() >= 3 || (gap.len() >= 2 && gap.contains(&b'\t')))
            && rest.starts_with(|ch: char| ch.is_ascii_alphabetic() || "[-*#(\\".contains(ch));
        let opens_repeat = opening.is_some() && repeat_key(rest) == opening;
        let kind = if is_marker(rest, indented, stamp)
            || prefix.is_some_and(|prefix| opens_with_prefix(rest, prefix))
        {
            Opening::Marker
        } else if opens_repeat {
            Opening::Repeat
        } else if indented && reads_as_a_line(rest) {
            Opening::Indented
        } else {
            continue;
        };
        // A prefix found again opens the line; what follows it is that line's body.
        at = word + body_start(rest);
        found.push((word, kind));
        prefixed.push(word..=at);
    }
    for at in rule_openings(text) {
        // Inside a prefix found there, it opens nothing; at the prefix's own start, it
        // is the same opening, weighed as the heavier of the two.
        let in_prefix = prefixed
            .iter()
            .any(|prefix| *prefix.start() < at && at <= *prefix.end());
        if at > start && !in_prefix {
            found.push((at, Opening::RuleStart));
        }
    }
    if let Some(at) = after_box_header(text, start) {
        found.push((at, Opening::Marker));
    }
    found.sort_unstable_by_key(|&(at, kind)| (at, std::cmp::Reverse(kind.weight())));
    found.dedup_by_key(|&mut (at, _)| at);
    let evidence: u32 = found.iter().map(|&(_, kind)| kind.weight()).sum();
    if evidence > 0 || text.len() >= LONG_LINE {
        // A sign of a collapse, or a line as long as several: a message that opens twice
        // inside the line confirms it, and opens a line at each copy (a tool that repeats
        // a message prints it on lines of its own).
        found.extend(repeated_messages(text, start).map(|at| (at, Opening::Repeat)));
        found.sort_unstable_by_key(|&(at, kind)| (at, std::cmp::Reverse(kind.weight())));
        found.dedup_by_key(|&mut (at, _)| at);
    }
    found
}

/// Where the text after a Symfony box header that opens the line starts: a box header
/// is always a line of its own, so text after it on the same line was joined to it.
fn after_box_header(text: &str, start: usize) -> Option<usize> {
    let header = BOX_HEADER.find(&text[start..])?;
    let after = start + header.end();
    let body = text[after..].trim_start();
    (!body.is_empty()).then(|| text.len() - body.len())
}

/// Where, after a blank, a message opens whose first [`REPEATED_OPENING`] bytes open
/// another message after a blank too: each copy of a repeated message. The words inside
/// a copy repeat as well: a pair whose first copy lies inside an earlier pair's first
/// copy, and its second inside or after that pair's second, is not an opening.
fn repeated_messages(text: &str, start: usize) -> impl Iterator<Item = usize> {
    let bytes = text.as_bytes();
    // The line's own opening is one (its copies are found apart, as `Repeat`s, but its
    // words must not open lines of their own).
    let mut keyed: Vec<([u8; REPEATED_OPENING], usize)> = (start..bytes.len())
        .filter(|&at| {
            at == start || (matches!(bytes[at - 1], b' ' | b'\t') && bytes[at].is_ascii_uppercase())
        })
        .filter_map(|at| Some((repeat_key(&text[at..])?, at)))
        .collect();
    keyed.sort_unstable();
    // (first copy, second copy), in text order.
    let mut pairs: Vec<(usize, usize)> = keyed
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| (pair[0].1, pair[1].1))
        .collect();
    pairs.sort_unstable();
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (first, second) in pairs {
        let inside = kept
            .iter()
            .any(|&(f, s)| f < first && first < s && s < second);
        if !inside {
            kept.push((first, second));
        }
    }
    kept.into_iter()
        .flat_map(|(first, second)| [first, second])
        .filter(move |&at| at != start)
}

/// Whether the text up to the next run of blanks reads as a log line rather than a
/// table's cell: it holds punctuation or is long. (`Username: someone`, not `Size`.)
fn reads_as_a_line(rest: &str) -> bool {
    const LONG: usize = 40;
    let end = rest.find("  ").unwrap_or(rest.len());
    let line = &rest[..end];
    line.len() >= LONG || line.contains([':', '(', '.', '\'', '"', '/', '\\'])
}

/// What a line opens with, for finding it again: its first [`REPEATED_OPENING`] bytes,
/// double quotes read as single ones (a tool quotes one URL either way).
fn repeat_key(text: &str) -> Option<[u8; REPEATED_OPENING]> {
    let head = text.as_bytes().get(..REPEATED_OPENING)?;
    let mut key = [0u8; REPEATED_OPENING];
    for (slot, &byte) in key.iter_mut().zip(head) {
        *slot = if byte == b'"' { b'\'' } else { byte };
    }
    // An opening of blanks and punctuation (a box border, a rule of `=`) says nothing.
    key.iter()
        .filter(|byte| byte.is_ascii_alphabetic())
        .nth(8)
        .map(|_| key)
}

/// The transport prefix a line opens with (`php_1  | `, `[web-2] err `), when it is long
/// enough that finding it again inside the line is evidence.
fn transport_prefix(text: &str) -> Option<&str> {
    const SHORTEST: usize = 5;
    // A short prefix (`>`, `-`) is evidence only where it opens this many places.
    const SHORT_REPEATS: usize = 3;
    // Its first part: `>` of `>   - `, where quoting and a list item stack.
    let prefix = text[..body_start(text)]
        .split_whitespace()
        .next()
        .unwrap_or_default();
    let opens = |rest: &str| opens_with_prefix(rest, prefix);
    let repeats = || {
        memchr::memchr2_iter(b' ', b'\t', text.as_bytes())
            .filter(|&at| opens(&text[at + 1..]))
            .nth(SHORT_REPEATS - 1)
            .is_some()
    };
    (prefix.len() >= SHORTEST || (!prefix.is_empty() && repeats())).then_some(prefix)
}

/// Whether `rest` opens with `prefix` as a prefix: followed by a blank or the end.
fn opens_with_prefix(rest: &str, prefix: &str) -> bool {
    rest.strip_prefix(prefix)
        .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']))
}

/// Where the body of `text` starts: after its transport prefixes and the blanks after
/// them (0 when a code fence would drop it).
fn body_start(text: &str) -> usize {
    let Some(body) = strip_transport(text, None) else {
        return 0;
    };
    // The strippers return a part of the text they were given (some trim its end too).
    let at = (body.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let at = at + (body.len() - body.trim_start().len());
    match at <= text.len() && text.is_char_boundary(at) {
        true => at,
        false => 0,
    }
}

/// The shape of the timestamp a text opens with: `[2024-05-14` or `2024-05-14T08:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Bracketed,
    Bare,
}

/// The shape of the timestamp text opens with, if it does: `[2024-05-14` is bracketed,
/// `2024-05-14T08:` bare (a date then a space is too often part of a message).
fn stamp_shape(text: &str) -> Option<Stamp> {
    let bytes = text.as_bytes();
    let date = |bytes: &[u8]| {
        bytes.len() >= 10
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[4] == b'-'
            && bytes[5..7].iter().all(u8::is_ascii_digit)
            && bytes[7] == b'-'
            && bytes[8..10].iter().all(u8::is_ascii_digit)
    };
    match bytes.first() {
        Some(b'[') if date(&bytes[1..]) => Some(Stamp::Bracketed),
        _ if date(bytes) && bytes.get(10) == Some(&b'T') && bytes.len() > 13 => Some(Stamp::Bare),
        _ => None,
    }
}

/// Whether text opens with a bracketed date and time (`[2024-05-14T08:12` or
/// `[2024-05-14 08:12`): loggers stamp a line so at its start, whatever the line before
/// opened with.
fn bracketed_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    stamp_shape(text) == Some(Stamp::Bracketed)
        && matches!(bytes.get(11), Some(b'T' | b' '))
        && digits(12..14)
        && bytes.get(14) == Some(&b':')
        && digits(15..17)
}

/// Whether text opens as only a new line does: a Cloud `W:`/`E:` prefix, a Symfony box
/// header, a timestamp of the shape the line itself opened with, or a Composer list item
/// after indentation.
fn is_marker(rest: &str, indented: bool, stamped: Option<Stamp>) -> bool {
    let cloud = (rest.starts_with("W:") || rest.starts_with("E:"))
        && matches!(rest.as_bytes().get(2), None | Some(b' '));
    let stamp = (stamped.is_some() && stamp_shape(rest) == stamped) || bracketed_time(rest);
    let item = indented && (rest.starts_with("- ") || rest.starts_with("* "));
    cloud || stamp || item || BOX_HEADER.is_match(rest)
}

/// A Symfony box header at the start of the text, followed by a blank or the end.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static BOX_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:In [\w.-]+\.php line \d+:|\[[\w\\]*(?:Exception|Error)\])(?:\s|$)")
        .expect("the box header pattern is valid")
});

/// Where inside `text`, after a blank, a message opens that some shipped rule's pattern
/// matches only at the start of a line (`^Killed`, `^Errors during compilation:`).
fn rule_openings(text: &str) -> impl Iterator<Item = usize> + '_ {
    RULE_OPENINGS
        .iter()
        .flat_map(|regex| regex.find_iter(text))
        .map(|found| found.start() + 1)
}

/// Whether `text` opens with a message that some shipped rule's pattern matches only at
/// the start of a line: such a line is never the rest of a wrapped one.
pub(super) fn opens_rule_line(text: &str) -> bool {
    RULE_LINE_STARTS
        .as_ref()
        .is_some_and(|regex| regex.is_match(text.trim_start()))
}

/// The shipped rules' patterns that are anchored at the start of a line, each made to
/// match after a blank instead (and to end at a blank where it ended the line).
static RULE_OPENINGS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let alternatives = RULE_LINE_START_PATTERNS.clone();
    if alternatives.is_empty() {
        return None;
    }
    let blank = Hir::class(Class::Unicode(ClassUnicode::new([
        ClassUnicodeRange::new(' ', ' '),
        ClassUnicodeRange::new('\t', '\t'),
    ])));
    Regex::new(&Hir::concat(vec![blank, Hir::alternation(alternatives)]).to_string()).ok()
});

/// The same patterns, anchored at the start of the text.
static RULE_LINE_STARTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let alternatives = RULE_LINE_START_PATTERNS.clone();
    if alternatives.is_empty() {
        return None;
    }
    let start = Hir::look(Look::Start);
    Regex::new(&Hir::concat(vec![start, Hir::alternation(alternatives)]).to_string()).ok()
});

/// The shipped rules' patterns anchored at the start of a line, relaxed to end at a
/// blank where they ended the line (see [`line_start`]): read from the catalogue once,
/// for both [`RULE_OPENINGS`] and [`RULE_LINE_STARTS`], each compiled when first used.
static RULE_LINE_START_PATTERNS: LazyLock<Vec<Hir>> = LazyLock::new(|| {
    crate::rule::EMBEDDED
        .iter()
        .flat_map(|(_, text)| anchored_patterns(text))
        .filter_map(line_start)
        .collect()
});

/// The patterns written `'''^...'''` in a rule file.
fn anchored_patterns(text: &str) -> impl Iterator<Item = &str> {
    text.split("'''^")
        .skip(1)
        .filter_map(|rest| rest.split_once("'''").map(|(pattern, _)| pattern))
}

/// A pattern anchored at the start of a line, without its anchors: it ends at a blank
/// or the end where it ended the line, and its groups are unnamed. `None` for a pattern
/// that does not parse or does not open with literal text.
fn line_start(pattern: &str) -> Option<Hir> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let blank = Hir::class(Class::Unicode(ClassUnicode::new([
        ClassUnicodeRange::new(' ', ' '),
        ClassUnicodeRange::new('\t', '\t'),
    ])));
    if !opens_with_literal(&hir) {
        return None;
    }
    Some(relax_ends(hir, &blank))
}

/// Whether a pattern anchored at the start opens, after optional parts, with literal
/// text (`^(?:...)?Killed`, `^(?:- )?(?:Installing|Updating)`): one that opens with a
/// class (`^\S+\s`) would find an opening after every blank.
fn opens_with_literal(hir: &Hir) -> bool {
    const SHORTEST: usize = 4;
    let literal = |hir: &Hir| match hir.kind() {
        HirKind::Literal(literal) => literal.0.len() >= SHORTEST,
        HirKind::Capture(capture) => {
            matches!(capture.sub.kind(), HirKind::Literal(literal) if literal.0.len() >= SHORTEST)
        }
        _ => false,
    };
    let first = |hir: &Hir| {
        match hir.kind() {
        HirKind::Alternation(alternatives) => alternatives.iter().all(|alternative| {
            literal(alternative)
                || matches!(alternative.kind(), HirKind::Concat(items) if items.first().is_some_and(literal))
        }),
        _ => literal(hir),
    }
    };
    let items = match hir.kind() {
        HirKind::Concat(items) => items.as_slice(),
        _ => std::slice::from_ref(hir),
    };
    items
        .iter()
        .filter(|item| {
            !matches!(item.kind(), HirKind::Look(_))
                && !matches!(item.kind(), HirKind::Repetition(repetition) if repetition.min == 0)
        })
        .map(|item| match item.kind() {
            HirKind::Capture(capture) => &*capture.sub,
            _ => item,
        })
        .next()
        .is_some_and(first)
}

/// Drops start-of-text assertions and capture names, and turns end-of-text assertions
/// into "a blank or the end".
fn relax_ends(hir: Hir, blank: &Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Look(Look::Start | Look::StartLF | Look::StartCRLF) => Hir::empty(),
        HirKind::Look(look @ (Look::End | Look::EndLF | Look::EndCRLF)) => {
            Hir::alternation(vec![Hir::look(look), blank.clone()])
        }
        HirKind::Capture(capture) => relax_ends(*capture.sub, blank),
        HirKind::Concat(items) => Hir::concat(
            items
                .into_iter()
                .map(|item| relax_ends(item, blank))
                .collect(),
        ),
        HirKind::Alternation(items) => Hir::alternation(
            items
                .into_iter()
                .map(|item| relax_ends(item, blank))
                .collect(),
        ),
        HirKind::Repetition(mut repetition) => {
            repetition.sub = Box::new(relax_ends(*repetition.sub, blank));
            Hir::repetition(repetition)
        }
        kind @ (HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_)) => {
            rebuild(kind)
        }
    }
}

/// A leaf [`HirKind`] back as a [`Hir`].
fn rebuild(kind: HirKind) -> Hir {
    match kind {
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
        _ => Hir::empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Option<Vec<&str>> {
        split_collapsed(text)
    }

    /// A log line with a table's gap or a timestamp in its message is its own line.
    #[test]
    fn leaves_single_lines_alone() {
        for line in [
            "[2024-05-14 10:00:00] INFO: Cron job finished at 2024-05-14 10:00:03 without errors, next run in five minutes",
            "Filesystem      Size  Used Avail Use% Mounted on and a long tail of text to pass the length limit",
            "frontend/Magento/luma/en_US        1996/1996           ============================ 100%   %  3 sec",
            "Process 1234 was killed by the user request, restarting queue consumer and waiting for the lock",
            "Filesystem                          Type     Inodes IUsed IFree IUse%  Size  Used Avail Use%      Mounted on",
        ] {
            assert_eq!(split(line), None, "{line}");
        }
    }

    #[test]
    fn splits_at_cloud_prefixes_and_box_headers() {
        let text = "  - Installing acme/module-pay (2.0.1): Downloading     W:   [Composer\\Downloader\\TransportException]     W:   The 'https://repo.example.com/a.zip' URL could not be accessed";
        assert_eq!(
            split(text).unwrap(),
            [
                "  - Installing acme/module-pay (2.0.1): Downloading",
                "W:   [Composer\\Downloader\\TransportException]",
                "W:   The 'https://repo.example.com/a.zip' URL could not be accessed",
            ]
        );
    }

    /// Indented lines joined by single spaces: three show a collapse, where a table's
    /// header shows fewer.
    #[test]
    fn splits_at_indented_openings() {
        let text = "    Authentication required (repo.example.com):       Username: someone       Password:       Notice from repo.example.com: your keys are not set up for this host.";
        let pieces = split(text).unwrap();
        assert_eq!(pieces[0], "    Authentication required (repo.example.com):");
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        let two = "    Authentication required (repo.example.com):       Username: someone       Password: not shown here";
        assert_eq!(split(two), None);
    }

    #[test]
    fn splits_at_a_repeated_opening_and_timestamps() {
        let text = "The 'https://repo.example.com/archives/acme/a/acme-a-1.0.zip' URL failed The \"https://repo.example.com/archives/acme/b/acme-b-1.0.zip\" file failed";
        assert_eq!(split(text).unwrap().len(), 2);
        let text = "[2024-05-02T08:14:31+00:00] NOTICE: Starting the build. [2024-05-02T08:14:33+00:00] CRITICAL: [12] The step failed.";
        assert_eq!(split(text).unwrap().len(), 2);
    }

    /// Regression: a stripper that also trims the end of a line (a backtick pair) made
    /// the prefix length wrong, and the slice at it fell inside a multi-byte character
    /// (found by `tests/fuzz.rs`).
    #[test]
    fn a_prefix_is_measured_where_its_body_starts() {
        let text = format!("`\u{6fe9}f {}`", "word and  ".repeat(12));
        assert_eq!(body_start(&text), 1);
        assert_eq!(body_start("`  W: x`"), 6);
        assert!(split(&text).is_none_or(|pieces| pieces.concat().len() <= text.len()));
    }

    /// A box header is a line of its own: text after it on its line was joined to it.
    #[test]
    fn splits_after_a_box_header_that_opens_the_line() {
        let text = "  [Acme\\Shop\\Exception\\ConfigException]   The \"acme/theme\" theme has no parent theme registered.";
        let pieces = split(text).unwrap();
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(pieces[1].starts_with("The \"acme/theme\""), "{pieces:?}");
        let text = "In InstallCommand.php line 274:    Could not find package acme/shop with version 3.  install [--no-dev]";
        assert_eq!(
            split(text).unwrap()[1].trim(),
            "Could not find package acme/shop with version 3.  install [--no-dev]"
        );
        // A header alone, or a message that names an exception, is a line of its own.
        assert_eq!(split("  [Acme\\Shop\\Exception\\ConfigException]   "), None);
    }

    /// One indented opening is too weak alone; a message repeated inside the line makes
    /// it a collapse.
    #[test]
    fn a_repeated_message_confirms_a_weak_sign() {
        let text = "  Checking the keys for repo.example.com:       Username: someone Notice from repo.example.com: no keys were sent with this request. Notice from repo.example.com: no keys were sent with this request.";
        let pieces = split(text).unwrap();
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        assert_eq!(pieces[2], pieces[3].trim_end());
        let three =
            format!("{text} Notice from repo.example.com: no keys were sent with this request.");
        let pieces = split(&three).unwrap();
        assert_eq!(pieces.len(), 5, "{pieces:?}");
        // A repeat inside the line and no other sign is not a collapse: a message may
        // quote another.
        let alone = "Retrying after: Notice from repo.example.com: no keys were sent with this request, then Notice from repo.example.com: no keys were sent";
        assert_eq!(split(alone), None);
    }

    /// A line as long as several, where one message template opens twice: each copy
    /// opens a line, and the words inside a copy that repeat open none.
    #[test]
    fn a_long_line_splits_where_a_message_repeats() {
        let text = "Dear support, our nightly build has failed twice now and we changed nothing on our side, so here is what the build printed for us today:  The 'https://repo.example.com/archives/acme/module-pay/acme-module-pay-2.1.0.zip' file could not be downloaded (HTTP 404) The 'https://repo.example.com/archives/acme/module-ship/acme-module-ship-1.0.0.zip' file could not be downloaded (HTTP 404) The 'https://repo.example.com/archives/acme/module-tax/acme-module-tax-1.0.0.zip' file could not be downloaded (HTTP 404)";
        let pieces = split(text).unwrap();
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        assert!(
            pieces[1..]
                .iter()
                .all(|piece| piece.starts_with("The 'https://")),
            "{pieces:?}"
        );
        // The same without the prose: the line's own opening is the first copy.
        let pieces = split(&text[text.find("The '").unwrap()..]).unwrap();
        assert_eq!(pieces.len(), 3, "{pieces:?}");
    }

    /// Quoting, bullets or a fence in front of stamped lines: the stamps still show
    /// where each line opened.
    #[test]
    fn a_stamp_after_a_short_prefix_opens_a_line() {
        for prefix in ["> ", "- ", "``` "] {
            let text = format!(
                "{prefix}[2024-05-02T08:14:31.120000+00:00] NOTICE: Starting the step. {prefix}[2024-05-02T08:14:33.845000+00:00] CRITICAL: [12] The step failed."
            );
            assert_eq!(split(&text).map(|pieces| pieces.len()), Some(2), "{text}");
        }
    }

    /// A bracketed date and time opens a line, after prose that opened with none.
    #[test]
    fn a_bracketed_time_opens_a_line_after_prose() {
        let text = "Hi, the deploy broke again after the upgrade, here is the last part of it:  [2024-03-12T10:21:00.000000+00:00] ERROR: [102] Unable to write to the env file";
        assert_eq!(split(text).map(|pieces| pieces.len()), Some(2));
        // A date alone, without a time, is often part of a message.
        let text = "Hi, the deploy broke again after the upgrade that we did on the date [2024-03-12] as planned by the team";
        assert_eq!(split(text), None);
    }

    /// A message a rule reads only at a line start, after an indented gap: it opens a
    /// line, as strongly as where no gap comes before it.
    #[test]
    fn a_rule_opening_after_an_indented_gap_counts_in_full() {
        let text = "Hi, here is what the watcher in our build hook printed when it stopped:   [ERROR] EMFILE: too many open files, watch '/app/web/css'";
        assert_eq!(split(text).map(|pieces| pieces.len()), Some(2));
    }

    /// A pattern that is one literal (`^Errors during compilation:`) opens a line too.
    #[test]
    fn a_literal_rule_pattern_opens_a_line() {
        let text = "Interceptor generation... 7/9 [====>-----]  77% 48 secs 389.0 MiB Errors during compilation: Acme\\Feed\\Export";
        let pieces = split(text).unwrap();
        assert_eq!(
            pieces.last().map(|piece| piece.trim_end()),
            Some("Errors during compilation: Acme\\Feed\\Export")
        );
    }

    /// The rule catalogue matches `Killed` only as a line of its own.
    #[test]
    fn splits_before_a_message_rules_read_only_at_a_line_start() {
        let text = "Compilation was started. Interceptors generation... 3/9 [====>-----]  33% 45 secs 1.2 GiB Killed ";
        let pieces = split(text).unwrap();
        assert_eq!(pieces.last().map(|piece| piece.trim()), Some("Killed"));
    }
}
