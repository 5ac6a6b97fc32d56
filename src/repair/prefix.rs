//! Transport prefixes: what pasting (Markdown quotes, fences, backticks, bullets) and
//! the tools that pass a log on (Cloud `W:`/`E:`, CI runner timestamps, docker-compose,
//! Vagrant, Deployer) put in front of each line, and the quick byte checks that tell a
//! line has none.

/// How many transport prefixes one line may carry (`> - W: ...`); bounds the strip loop.
pub(super) const MAX_PREFIXES: usize = 8;

/// Bytes a transport prefix can start with: indentation, quotes, bullets, fences, Vagrant,
/// Cloud `W:`/`E:`, Deployer's `[host]`, a CI runner's timestamp (`2024-...`) and
/// Markdown emphasis.
pub(super) const PREFIX_START: &[u8] = b" \t>-*~=WE[2_";

/// Whether the first byte could open a transport prefix, or the last one close Markdown
/// emphasis around the line.
pub(super) fn may_have_prefix(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .first()
        .is_some_and(|first| PREFIX_START.contains(first))
        || matches!(bytes.last(), Some(b'*' | b'_'))
}

/// `text.trim_start()`, quicker when the indentation is ASCII (the std one decodes each
/// character): ASCII whitespace is skipped bytewise, and the std trim goes on only from
/// a byte that is not ASCII.
pub(super) fn trim_start_quick(text: &str) -> &str {
    let at = text
        .bytes()
        .position(|byte| !is_ascii_white_space(byte))
        .unwrap_or(text.len());
    let rest = &text[at..];
    match rest.as_bytes().first() {
        Some(byte) if !byte.is_ascii() => rest.trim_start(),
        _ => rest,
    }
}

/// `text.trim_end()`, quicker on ASCII as [`trim_start_quick`] is.
pub(super) fn trim_end_quick(text: &str) -> &str {
    let at = text
        .bytes()
        .rposition(|byte| !is_ascii_white_space(byte))
        .map_or(0, |last| last + 1);
    let rest = &text[..at];
    match rest.as_bytes().last() {
        Some(byte) if !byte.is_ascii() => rest.trim_end(),
        _ => rest,
    }
}

/// The ASCII characters Rust calls whitespace (`char::is_whitespace`): tab, line feed,
/// vertical tab, form feed, carriage return and space. (`u8::is_ascii_whitespace` leaves
/// out the vertical tab.)
pub(super) fn is_ascii_white_space(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ')
}

/// Whether a paste layer or transport prefix other than Cloud's `W:` and `E:` could be
/// stripped from `text`, or it is a fence or a Vagrant `==> NAME: ` line, judged by its
/// start ([`may_open_prefix`]) and its end or a pipe ([`may_close_prefix`]). `false`
/// means no stripper but [`strip_cloud_prefix`] would take anything from it. A superset
/// of what each stripper looks for, where trying them all costs trims and a dozen
/// prefix checks, twice (held context lines come here).
pub(super) fn may_strip_but_cloud(text: &str, knows_machine: bool) -> bool {
    may_open_prefix(text, knows_machine) || may_close_prefix(text)
}

/// The start of [`may_strip_but_cloud`]: the first byte, and the first after indentation.
pub(super) fn may_open_prefix(text: &str, knows_machine: bool) -> bool {
    let Some(&first) = text.as_bytes().first() else {
        return false;
    };
    // Bullets (`•` starts with 0xE2), Deployer's `[host]`, backticks, quotes, Vagrant,
    // emphasis.
    if matches!(first, b'-' | b'*' | 0xE2 | b'[' | b'`' | b'>' | b'=' | b'_')
        || (knows_machine && first == b' ')
    {
        return true;
    }
    // A CI runner's timestamp or a docker-compose service, stamped on before the prefix
    // that was just removed.
    const SERVICE_NAME_MAX: usize = 40;
    let head = &text.as_bytes()[..text.len().min(SERVICE_NAME_MAX)];
    if (first.is_ascii_digit() && strip_runner_timestamp(text).is_some())
        || (memchr::memchr(b'|', head).is_some() && strip_docker_compose(text).is_some())
    {
        return true;
    }
    // After indentation: fences, indented quotes and emphasis.
    matches!(
        trim_start_quick(text).as_bytes().first(),
        Some(b'`' | b'~' | b'>' | b'*' | b'_')
    )
}

/// The rest of [`may_strip_but_cloud`]: a closing backtick, fence or emphasis, a
/// docker-compose pipe. `false` for `text` is `false` for any suffix of it.
pub(super) fn may_close_prefix(text: &str) -> bool {
    may_close_wrapper(text) || memchr::memchr(b'|', text.as_bytes()).is_some()
}

/// Whether `text` ends as a wrapper a paste closes does: a backtick, or Markdown
/// emphasis (`**`, `_`).
pub(super) fn may_close_wrapper(text: &str) -> bool {
    matches!(
        trim_end_quick(text).as_bytes().last(),
        Some(b'`' | b'*' | b'_')
    )
}

/// Whether `text` starts, after indentation, as a Cloud prefix could.
pub(super) fn may_open_cloud_prefix(text: &str) -> bool {
    matches!(trim_start_quick(text).as_bytes().first(), Some(b'W' | b'E'))
}

/// Whether a line needs no repair at all (the fast path).
#[cfg(test)]
pub(super) fn is_clean(text: &str) -> bool {
    !super::chars::has_special_bytes(text) && !may_have_prefix(text)
}

/// Strips leading whitespace and list markers, as often as they repeat.
pub(super) fn strip_leading_bullets(text: &str) -> &str {
    let mut rest = trim_start_quick(text);
    while let Some(after) = strip_bullet(rest) {
        rest = trim_start_quick(after);
    }
    rest
}

pub(super) fn strip_bullet(text: &str) -> Option<&str> {
    ["- ", "* ", "• "]
        .iter()
        .find_map(|marker| text.strip_prefix(marker))
}

/// One step of prefix removal.
pub(super) enum Strip<'a> {
    /// The line carries nothing of the log (a code fence) and is dropped.
    Drop,
    /// A prefix or wrapper was removed; the rest may carry another one.
    Stripped(&'a str),
    /// Nothing more to remove.
    Done,
}

/// Removes only what pasting added around each (already wrapped) line: Markdown quotes,
/// fences, backticks and column-0 bullets; `None` drops the line (a fence).
pub(super) fn strip_paste_layers(text: &str) -> Option<&str> {
    let mut text = text;
    for _ in 0..MAX_PREFIXES {
        if is_fence(text) {
            return None;
        }
        let stripped = strip_quote(text)
            .or_else(|| strip_column0_bullet(text))
            .or_else(|| strip_fence_around(text))
            .or_else(|| strip_backticks(text))
            .or_else(|| strip_emphasis(text));
        match stripped {
            Some(rest) => text = rest,
            None => break,
        }
    }
    Some(text)
}

/// What the paste layers ([`strip_paste_layers`]) and then the transport prefixes
/// ([`strip_transport`]) leave of `text`: the line as the tool printed it, and its body
/// (`None` when a fence drops the line at either step).
///
/// Most lines with a prefix are Cloud's `    W:   - Downloading ...`: when no stripper
/// but Cloud's can apply before that prefix or after it ([`may_strip_but_cloud`], which
/// is cheap), that one prefix is all, and the strippers are not each tried. So for a
/// line that starts with `[` and could only be Deployer's.
pub(super) fn strip_all<'a>(
    text: &'a str,
    machine: Option<&str>,
) -> Option<(&'a str, Option<&'a str>)> {
    // A CI runner stamps every line as it passes it on, wrapped or not: the width is
    // the stamped line's.
    let mut rest = text;
    for _ in 0..MAX_PREFIXES {
        match strip_runner_timestamp(rest) {
            Some(after) => rest = after,
            None => break,
        }
    }
    if rest.len() < text.len() {
        return strip_unstamped(rest, machine).map(|(_, body)| (text, body));
    }
    strip_unstamped(text, machine)
}

/// [`strip_all`] for a line without a CI runner's timestamp.
pub(super) fn strip_unstamped<'a>(
    text: &'a str,
    machine: Option<&str>,
) -> Option<(&'a str, Option<&'a str>)> {
    let knows_machine = machine.is_some();
    if text.starts_with('[') && !may_close_prefix(text) {
        // Only Deployer's `[host] err ` starts so (most hot lines start with a
        // `[timestamp]`, which is not one).
        if strip_deployer(text).is_none() {
            return Some((text, Some(text)));
        }
    } else if !may_strip_but_cloud(text, knows_machine) {
        // (What is left after the prefix ends as the line does: it needs no
        // `may_close_prefix` of its own.)
        match strip_cloud_prefix(text) {
            None => return Some((text, Some(text))),
            Some(rest) if !may_open_prefix(rest, knows_machine) && !may_open_cloud_prefix(rest) => {
                return Some((text, Some(rest)));
            }
            Some(_) => {}
        }
    }
    let as_printed = strip_paste_layers(text)?;
    Some((as_printed, strip_transport(as_printed, machine)))
}

/// Removes what the paste wrapped around the log line; `None` drops the line.
pub(super) fn strip_transport<'a>(text: &'a str, vagrant_machine: Option<&str>) -> Option<&'a str> {
    let mut text = text;
    for _ in 0..MAX_PREFIXES {
        match strip_one(text, vagrant_machine) {
            Strip::Drop => return None,
            Strip::Stripped(rest) => text = rest,
            Strip::Done => break,
        }
    }
    Some(text)
}

/// Tries each kind of prefix once, cheapest checks first.
pub(super) fn strip_one<'a>(text: &'a str, vagrant_machine: Option<&str>) -> Strip<'a> {
    if is_fence(text) {
        return Strip::Drop;
    }
    let stripped = strip_quote(text)
        .or_else(|| strip_column0_bullet(text))
        .or_else(|| strip_fence_around(text))
        .or_else(|| strip_backticks(text))
        .or_else(|| strip_emphasis(text))
        .or_else(|| strip_cloud_prefix(text))
        .or_else(|| strip_runner_timestamp(text))
        .or_else(|| strip_docker_compose(text))
        .or_else(|| strip_vagrant(text, vagrant_machine))
        .or_else(|| strip_deployer(text));
    stripped.map_or(Strip::Done, Strip::Stripped)
}

/// A code fence line: only ``` or ~~~, maybe with a language tag.
pub(super) fn is_fence(text: &str) -> bool {
    let text = text.trim();
    let Some(tag) = text
        .strip_prefix("```")
        .or_else(|| text.strip_prefix("~~~"))
    else {
        return false;
    };
    tag.chars()
        .all(|ch| ch.is_alphanumeric() || matches!(ch, '+' | '-' | '.' | '_' | '#' | '`'))
}

/// Markdown quote: up to three spaces, `>`, then a space, another `>` or the line end.
/// A `>` glued to text is left alone: it is more often a cut `->` than a quote.
pub(super) fn strip_quote(text: &str) -> Option<&str> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = text[indent..].strip_prefix('>')?;
    if let Some(after_space) = rest.strip_prefix(' ') {
        return Some(after_space);
    }
    (rest.is_empty() || rest.starts_with('>')).then_some(rest)
}

/// A bullet list made of log lines: the marker at column 0 and one space.
pub(super) fn strip_column0_bullet(text: &str) -> Option<&str> {
    strip_bullet(text)
}

/// A fence opened or closed on the same line as log text (```magento_1 | ...).
pub(super) fn strip_fence_around(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("```") {
        return Some(rest);
    }
    text.trim_end().strip_suffix("```")
}

/// Backticks wrapping a whole line, or opening or closing a paste wrapped in one pair.
pub(super) fn strip_backticks(text: &str) -> Option<&str> {
    let trimmed = text.trim_end();
    if !text.starts_with('`') && !trimmed.ends_with('`') {
        return None;
    }
    let ticks = memchr::memchr_iter(b'`', text.as_bytes()).count();
    match ticks {
        1 => text.strip_prefix('`').or_else(|| trimmed.strip_suffix('`')),
        2 => text.strip_prefix('`')?.trim_end().strip_suffix('`'),
        _ => None,
    }
}

/// Markdown emphasis a paste put around a line: `**Killed**`, `__...__`, `*...*` or
/// `_..._` around the whole line, or a `**` that opens a bold span on this line and
/// closes it lines later (or closes one opened lines before). A marker counts only
/// against text (`** ` is no emphasis, and `* ` is a bullet), and only around text
/// without its character (`_MAGENTO_CLOUD_` keeps its underscores).
///
/// The indentation before the marker goes with it: the text is read as a log line that
/// lost its indentation.
pub(super) fn strip_emphasis(text: &str) -> Option<&str> {
    let text = trim_start_quick(text);
    let trimmed = trim_end_quick(text);
    // Every line read comes here: most open and end with neither marker.
    let marker = |byte: Option<&u8>| matches!(byte, Some(b'*' | b'_'));
    if !marker(text.as_bytes().first()) && !marker(trimmed.as_bytes().last()) {
        return None;
    }
    let text_edge = |c: char| !c.is_whitespace() && c != '*' && c != '_';
    for marker in ["**", "__", "*", "_"] {
        let opens = text
            .strip_prefix(marker)
            .filter(|rest| rest.starts_with(text_edge));
        let closes = trimmed
            .strip_suffix(marker)
            .filter(|rest| rest.ends_with(text_edge));
        match (opens, closes) {
            // An emphasised line holds no marker of its own kind: a line that does is
            // text with underscores in it (`_VAR_NAME_`), cut there by chance.
            (Some(_), Some(_)) => {
                let inner = trimmed.get(marker.len()..trimmed.len() - marker.len())?;
                let own = &marker[..1];
                if !inner.contains(own) {
                    return Some(inner);
                }
            }
            // Only bold spans lines: an identifier opens or ends with one underscore
            // or two (`__construct`) far more often than a paste does.
            (Some(rest), None) if marker == "**" && !rest.contains(marker) => return Some(rest),
            (None, Some(rest)) if marker == "**" && !rest.contains(marker) => return Some(rest),
            _ => {}
        }
    }
    None
}

/// `text` without the Markdown emphasis a paste put around it ([`strip_emphasis`]),
/// its indentation kept: the emphasis came after any wrap, so the line is measured as
/// the tool printed it. `None` when it has none.
pub(super) fn without_emphasis(text: &str) -> Option<String> {
    let rest = trim_start_quick(text);
    let inner = strip_emphasis(rest)?;
    Some([&text[..text.len() - rest.len()], inner].concat())
}

/// Whether Markdown emphasis may open or close `text` ([`strip_emphasis`]): a `*` or `_`
/// as its last byte, or as its first after indentation.
pub(super) fn may_have_emphasis(text: &[u8]) -> bool {
    let first = text.iter().find(|b| !is_ascii_white_space(**b));
    matches!(first, Some(b'*' | b'_')) || matches!(text.last(), Some(b'*' | b'_'))
}

/// Cloud build log stderr prefix: an indented `W:` or `E:` and one space.
pub(super) fn strip_cloud_prefix(text: &str) -> Option<&str> {
    let rest = trim_start_quick(text);
    let rest = rest
        .strip_prefix("W:")
        .or_else(|| rest.strip_prefix("E:"))?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix(' ')
}

/// The timestamp GitHub Actions (and other CI runners) put before every line of a job's
/// log: `2024-05-14T08:12:45.4417823Z ` (RFC 3339 in UTC, any number of fraction digits).
pub(super) fn strip_runner_timestamp(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let shape = bytes.len() > 21
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape {
        return None;
    }
    let zone = 19 + bytes[19..].iter().take(11).position(|&byte| byte == b'Z')?;
    let fraction = &bytes[19..zone];
    let fraction_ok = fraction.is_empty()
        || (fraction[0] == b'.' && fraction[1..].iter().all(u8::is_ascii_digit));
    (fraction_ok && bytes.get(zone + 1) == Some(&b' ')).then(|| &text[zone + 2..])
}

/// docker-compose's `service_1  | ` prefix: a service name, spaces, a pipe, one space.
pub(super) fn strip_docker_compose(text: &str) -> Option<&str> {
    let head = text.get(..text.len().min(64)).unwrap_or(text);
    let pipe = memchr::memchr(b'|', head.as_bytes())?;
    let name = text[..pipe].trim_end();
    let has_gap = name.len() < pipe;
    let name_ok = name
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
    if !(has_gap && name_ok) {
        return None;
    }
    let rest = &text[pipe + 1..];
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// The machine name of a Vagrant `==> NAME: ` line.
pub(super) fn vagrant_machine(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("==> ")?;
    let (name, _) = rest.split_once(": ")?;
    let valid = !name.is_empty() && !name.contains(char::is_whitespace);
    valid.then_some(name)
}

/// Vagrant's `==> default: ` prefix, and `    default: ` once the machine name is known.
pub(super) fn strip_vagrant<'a>(text: &'a str, machine: Option<&str>) -> Option<&'a str> {
    if let Some(name) = vagrant_machine(text) {
        return text.get(4 + name.len() + 2..);
    }
    let machine = machine?;
    let rest = text.trim_start_matches(' ');
    if rest.len() == text.len() {
        return None;
    }
    rest.strip_prefix(machine)?.strip_prefix(": ")
}

/// Deployer's `[host] err ` and `[host] > ` prefixes.
pub(super) fn strip_deployer(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('[')?;
    let close = memchr::memchr(b']', rest.as_bytes())?;
    let host = &rest[..close];
    let after = &rest[close + 1..];
    // What follows first: most lines that start with `[` hold a timestamp there, and
    // looking for whitespace in it char by char would cost more.
    let text = after
        .strip_prefix(" err ")
        .or_else(|| after.strip_prefix(" > "))?;
    (!host.is_empty() && !host.contains(char::is_whitespace)).then_some(text)
}
