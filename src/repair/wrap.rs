//! Wrap detection: whether a line was cut by a terminal, a mail client or a Symfony
//! exception box, from the shapes of the lines around it.

use regex::Regex;
use std::sync::LazyLock;

use super::collapse::opens_rule_line;
use super::cut::{closes_what_opened, shows_cut};
use super::prefix::trim_start_quick;
use super::{
    LONGER_LINES_ALLOWED, LOOKBEHIND, MAX_JOINED_BYTES, MIN_WRAP_WIDTH, Physical, Repairer, Shape,
    Wrap,
};

impl Repairer {
    /// Tells whether the next line in the window continues `current`, and how.
    pub(super) fn wrap_into_next(&mut self, current: &Physical) -> Option<Wrap> {
        // A mail's word wrap leaves most lines short of its width, and a word longer
        // than the width on a line of its own: a terminal's cut is read first only on a
        // line as wide as the mail's.
        let word = self.word_wrap_into_next(current);
        let wrap = match word {
            Some(width) if width != current.shape.trim_len => Some(Wrap::Word),
            _ => self.cut_into_next(current).or(word.map(|_| Wrap::Word)),
        };
        if let (Some(Wrap::Word), Some(width)) = (wrap, word) {
            self.word_width = Some(width);
        }
        wrap
    }

    /// Whether a mail client word-wrapped `current` into the next line around a word
    /// longer than its width (a URL the client put on a line of its own): both came
    /// quoted (`> `), as a forwarded or replied mail's lines do, and the next line's
    /// first word would not have fit on `current` at the width the other quoted lines
    /// keep to (the longest of several words around), as on another line of the window
    /// at least (or an earlier word wrap at this width). A word longer than the width (a
    /// URL) sits on a line of its own, so it both continues the line before and is
    /// continued.
    /// Gives the width it was wrapped at.
    fn word_wrap_into_next(&self, current: &Physical) -> Option<usize> {
        let next = self.ahead.front()?;
        if !(current.quoted && next.quoted) || current.header {
            return None;
        }
        let quoted = || std::iter::once(current).chain(self.ahead.iter().take_while(|p| p.quoted));
        // The shapes of the quoted lines around, the decided ones included.
        let shapes = || {
            quoted().map(|p| p.shape).chain(
                self.behind
                    .iter()
                    .rev()
                    .take_while(|shape| shape.quoted)
                    .copied(),
            )
        };
        let width = shapes()
            .filter(|shape| shape.words)
            .map(|shape| shape.trim_len)
            .max()?;
        // A terminal cuts line after line at its full width; a mail's lines seldom
        // reach the width it wraps at.
        let full = shapes()
            .filter(|shape| shape.len == width || shape.trim_len == width)
            .count();
        if width < MIN_WRAP_WIDTH || full > 1 {
            return None;
        }
        // A wrapped piece is no wider than the width, unless it is one long word.
        let ended_early = |a: &Physical, b: &Physical, full: bool| {
            let word = first_word_len(&b.body);
            // A line as wide as the width (its trailing spaces counted: a terminal may
            // cut right after one) may be a terminal's cut as well.
            // Only a word longer than the width (a URL on a line of its own) is taken
            // as the mark of a word wrap: short lines of a log end early by chance.
            word > 0
                && (!a.shape.words || !b.shape.words)
                && a.shape.trim_len + 1 + word > width
                && (a.shape.len < width || (full && a.shape.trim_len <= width) || !a.shape.words)
                && continues_a_sentence(&b.body)
        };
        if !ended_early(current, next, true) {
            return None;
        }
        let pieces: Vec<&Physical> = quoted().collect();
        let others = pieces
            .windows(2)
            .skip(1)
            .filter(|pair| ended_early(pair[0], pair[1], false))
            .count();
        (others > 0 || self.word_width == Some(width)).then_some(width)
    }

    /// [`Repairer::wrap_into_next`] for a terminal's cut or a box's.
    fn cut_into_next(&mut self, current: &Physical) -> Option<Wrap> {
        let next = self.ahead.front()?;
        if next.prefixed && !current.prefixed {
            return None;
        }
        let open_len = self.open.as_ref().map_or(0, |open| open.text.len());
        // A whole box header (`[...Exception]`, `In X.php line N:`) ends its line.
        if current.shape.len < MIN_WRAP_WIDTH || open_len > MAX_JOINED_BYTES || current.header {
            return None;
        }
        let after_box_header = self
            .since_box_header
            .is_some_and(|since| since <= LOOKBEHIND);
        let in_box_body = self.box_body.is_some() && after_box_header && self.box_stripped;
        // A boxed wrap needs a box width in the window or a box header just before; a
        // box line that lost its indentation, the box it is in.
        let may_be_boxed = (current.shape.box_indent
            && next.shape.box_indent
            && (self.box_width_evidence > 0 || after_box_header))
            || in_box_body;
        if !may_be_boxed && self.has_longer_line(current.shape.len) {
            // A paste wrapped at this width would have no longer line: the usual exit.
            return None;
        }
        let mut stats = WindowStats::of(self.window_shapes(current.shape), current.shape);
        stats.known_width = self.wrap_width;
        stats.after_box_header = after_box_header;
        stats.in_box_body = in_box_body;
        stats.plain_piece = self.continues_as == Some(Wrap::Plain);
        stats.longer = self.has_longer_line(current.shape.len);
        // The window arithmetic rules out almost every line; the pattern runs last.
        let wrap = if let Some(boxed) = boxed_wrap(current, next, &stats) {
            boxed
        } else if plain_wrap(current, next, &stats) {
            Wrap::Plain
        } else {
            return None;
        };
        // A `->` cut after its `-` leaves a rest that opens like a prompt (`> your php`).
        let cut_arrow = current.body.trim_end().ends_with(" -") && next.body.starts_with("> ");
        if !(can_continue(&next.body) || cut_arrow) || opens_rule_line(&next.body) {
            return None;
        }
        if wrap == Wrap::Plain {
            self.wrap_width = Some(current.shape.len);
        }
        Some(wrap)
    }

    /// Whether a line near `len` long cannot be part of a wrapped paste for the lines
    /// longer than it: more of them before it than the prose a paste adds (the lookbehind
    /// was decided, so it is counted there), or any after it in the lookahead.
    pub(super) fn has_longer_line(&self, len: usize) -> bool {
        self.longest.longer_than(len) > LONGER_LINES_ALLOWED
            || self.ahead.iter().any(|physical| physical.shape.len > len)
    }

    /// The shapes around the line being decided: lookbehind, itself and lookahead.
    pub(super) fn window_shapes(&self, current: Shape) -> impl Iterator<Item = Shape> + Clone + '_ {
        let ahead = self.ahead.iter().map(|physical| physical.shape);
        self.behind
            .iter()
            .copied()
            .chain(std::iter::once(current))
            .chain(ahead)
    }
}

impl Physical {
    pub(super) fn new(line: u64, body: String) -> Self {
        let shape = Shape::of(&body);
        let header = is_box_header(&body);
        Physical {
            line,
            body,
            shape,
            header,
            after_quote: false,
            quoted: false,
            prefixed: false,
        }
    }
}

impl Shape {
    /// Takes the width from the line as the tool printed it, before its prefix was removed.
    pub(super) fn measure(&mut self, as_printed: &str) {
        let trimmed = as_printed.trim_end();
        self.trim_len = self.trim_len.max(char_len(trimmed));
        self.len = self
            .len
            .max(char_len(trimmed) + char_len(&as_printed[trimmed.len()..]));
    }

    /// Marks the line as quoted (`> `), noting whether its body holds several words:
    /// what a mail's word wrap is read from ([`Repairer::word_wrap_into_next`]).
    pub(super) fn quote(&mut self, body: &str) {
        self.quoted = true;
        self.words = memchr::memchr(b' ', body.trim().as_bytes()).is_some();
    }

    /// Whether the line could tell a box's width: a wide, padded, box-indented line
    /// (narrow boxes are never split).
    pub(super) fn shows_box_width(self) -> bool {
        self.box_indent && self.padded && self.body_len >= MIN_WRAP_WIDTH
    }

    pub(super) fn of(body: &str) -> Self {
        let trimmed = body.trim_end();
        let trim_len = char_len(trimmed);
        let len = trim_len + char_len(&body[trimmed.len()..]);
        Shape {
            len,
            body_len: len,
            trim_len,
            box_indent: body.starts_with("  "),
            content: trim_len.saturating_sub(box_indent(trimmed)),
            // Set with `quoted` ([`Shape::quote`]): only quoted lines are asked.
            words: false,
            quoted: false,
            padded: trimmed.len() < body.len(),
            fingerprint: fingerprint(body.as_bytes()),
        }
    }
}

/// Mixes a line's first and last 8 bytes: enough to tell two different lines of the same
/// length apart, at a constant cost of a few instructions per line.
pub(super) fn fingerprint(bytes: &[u8]) -> u64 {
    let word = |chunk: &[u8]| {
        let mut buffer = [0u8; 8];
        buffer[..chunk.len()].copy_from_slice(chunk);
        u64::from_le_bytes(buffer)
    };
    let head = word(&bytes[..bytes.len().min(8)]);
    let tail = word(&bytes[bytes.len().saturating_sub(8)..]);
    (head ^ tail.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Counts characters, cheaply for the usual ASCII line.
pub(super) fn char_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// Terminal and mail widths common enough to count as evidence on their own.
pub(super) const TERMINAL_WIDTHS: [usize; 8] = [72, 76, 78, 79, 80, 100, 120, 132];

/// What the window around a line says about the width it may have been wrapped at.
#[derive(Debug, Default)]
pub(super) struct WindowStats {
    /// Whether lines around are longer than a wrapped paste allows
    /// ([`Repairer::has_longer_line`]).
    longer: bool,
    /// How many different lines are exactly as long as the line being decided.
    same_len: usize,
    /// Width of a Symfony box, from its padded lines; 0 when no padded box line is seen.
    box_width: usize,
    /// How many box lines reach the box's content width.
    box_full: usize,
    /// The width of the last plain wrap found earlier in the input.
    known_width: Option<usize>,
    /// Whether a Symfony box header was seen shortly before.
    after_box_header: bool,
    /// Whether the line is in the body of a box that a paste stripped of its indentation
    /// (a `[Class]` title without it), no empty line having closed it since.
    in_box_body: bool,
    /// Whether the line is the rest of a line a terminal wrapped: its own end is a
    /// terminal's cut too, never a box's.
    plain_piece: bool,
}

impl WindowStats {
    pub(super) fn of(shapes: impl Iterator<Item = Shape> + Clone, current: Shape) -> Self {
        // The line itself is one of the lines of its length.
        let mut stats = WindowStats {
            same_len: 1,
            ..WindowStats::default()
        };
        for shape in shapes.clone() {
            // Padding (a box's blank lines, a screen copy) says nothing about a cut width,
            // and neither does a repeated line: logs repeat their longest lines often.
            let ends_in_text = shape.len - shape.trim_len <= 1;
            let other = shape.fingerprint != current.fingerprint;
            stats.same_len += usize::from(shape.len == current.len && ends_in_text && other);
            // Narrow boxes are never split, so only wide padded lines tell a box width.
            // The box is as wide as Symfony printed it, before any prefix was added.
            if shape.shows_box_width() {
                stats.box_width = stats.box_width.max(shape.body_len);
            }
        }
        stats.box_full = shapes
            .filter(|shape| shape.box_indent && shape.content + 4 == stats.box_width)
            .count();
        stats
    }
}

/// Whether `current` is a line of a Symfony exception box that Symfony split at the box's
/// content width and `next` holds the rest, and whether the split fell right after a
/// space.
///
/// Symfony's console prints an exception's message in a box one column narrower than the
/// terminal: each message line is cut into pieces of exactly the box's content width
/// (the terminal width less 5), wherever the width falls, even inside a word, and every
/// piece is indented by two spaces and padded to the box's width. So a piece that fills
/// the content width was cut; one a column short was cut right after a space, which the
/// padding (or a tracker stripping trailing spaces) hides.
pub(super) fn boxed_wrap(current: &Physical, next: &Physical, stats: &WindowStats) -> Option<Wrap> {
    let (a, b) = (current.shape, next.shape);
    // A tool that prefixes its lines prefixes every line of a box it passes on: a rest
    // without the prefix was cut by the terminal that showed them.
    if a.content == 0 || b.content == 0 || stats.plain_piece || (current.prefixed && !next.prefixed)
    {
        return None;
    }
    let indented = a.box_indent && b.box_indent;
    // A tracker may strip a box line's indentation: such a line is read as a box line
    // only inside the body of a box that shows it was stripped, and only when it lost
    // its indentation itself (an indented line whose rest is not indented was cut by a
    // terminal: a piece of a box keeps the indentation its line had).
    let lost_indentation = box_indent(&current.body) == 0;
    if !(indented || (stats.in_box_body && lost_indentation)) {
        return None;
    }
    if opens_sentence(next.body.get(box_indent(&next.body)..)?) {
        return None;
    }
    if stats.box_width > 0 {
        // A box is only split when its text is wider than the terminal, so the box is
        // then as wide as the terminal allows; a narrower box's widest line is a whole
        // line.
        let wrapped_box = is_terminal_width(stats.box_width + 1) || stats.box_full >= 2;
        let width = stats.box_width.checked_sub(4)?;
        return match a.content {
            _ if !wrapped_box => None,
            content if content == width => Some(Wrap::Boxed),
            content if content + 1 == width => Some(Wrap::BoxedAtSpace),
            _ => None,
        };
    }
    // Trackers often strip the padding; the text then ends 5 columns short of the
    // terminal width (4 of indentation and padding, 1 column Symfony keeps free), or 6
    // when the cut fell after a space. Without padding, indentation alone is weak
    // (Composer indents its lists too), so the box's header must be in sight. 79 and
    // 80 columns are both common: the 80 reading wins.
    if !(stats.after_box_header || stats.in_box_body) {
        return None;
    }
    // A line without indentation as wide as a terminal was cut by that terminal.
    if !indented && is_terminal_width(a.trim_len) {
        return None;
    }
    let cut = |gap: usize| a.content + gap;
    if cut(5) == 80 {
        Some(Wrap::Boxed)
    } else if cut(6) == 80 {
        Some(Wrap::BoxedAtSpace)
    } else if is_terminal_width(cut(5)) {
        Some(Wrap::Boxed)
    } else if is_terminal_width(cut(6)) {
        Some(Wrap::BoxedAtSpace)
    } else {
        None
    }
}

/// How many leading spaces of a box line are the box's indentation: up to two.
pub(super) fn box_indent(text: &str) -> usize {
    text.bytes().take(2).take_while(|&b| b == b' ').count()
}

/// Whether `current` was hard-wrapped at a fixed width and `next` holds the rest.
pub(super) fn plain_wrap(current: &Physical, next: &Physical, stats: &WindowStats) -> bool {
    let shape = current.shape;
    let width = shape.len;
    // A screen copy pads every line with spaces; a wrapped piece ends in text or at most
    // the spaces it was cut at.
    let padded_screen = shape.len - shape.trim_len >= 2;
    if width < MIN_WRAP_WIDTH || stats.longer || padded_screen {
        return false;
    }
    // Two lines cut at the same width are strong evidence, and so is an earlier wrap at
    // this width; one line at a common terminal width is weaker, and so is text that was
    // cut in the middle of something. Either way a next line that opens a sentence is a
    // new line, unless the cut fell on the space before it.
    let seen_before = stats.known_width == Some(width);
    // Weighed only where the cheaper evidence does not decide.
    let cut = || shows_cut(&current.body, &next.body);
    let evidence = stats.same_len >= 2
        || seen_before
        || is_terminal_width(width)
        || is_terminal_width(shape.body_len)
        || cut();
    let cut_at_space = shape.padded;
    // Repeated openings are repeated lines, unless the cut shows (`(Acme\Validation`
    // `Exception): ...` opens as its line did by chance).
    evidence
        && (cut_at_space || !opens_sentence(&next.body) || closes_record(current, next))
        && (!same_opening(current, next) || cut())
}

/// Whether `current` opens a JSON record (`{"errorCode":...`) that it leaves open and
/// `next` closes: the record says itself that it goes on, whatever the next line opens
/// with.
fn closes_record(current: &Physical, next: &Physical) -> bool {
    trim_start_quick(&current.body).starts_with("{\"")
        && closes_what_opened(&current.body, &next.body)
}

/// Whether two lines open with the same text: log lines repeat their openings (a
/// progress line per locale, one refusal per package), a line's rest does not.
pub(super) fn same_opening(current: &Physical, next: &Physical) -> bool {
    const OPENING: usize = 8;
    let a = trim_start_quick(&current.body).as_bytes();
    let b = trim_start_quick(&next.body).as_bytes();
    a.len() >= OPENING && b.len() >= OPENING && a[..OPENING] == b[..OPENING]
}

pub(super) fn is_terminal_width(width: usize) -> bool {
    TERMINAL_WIDTHS.contains(&width)
}

/// Whether a line opens a Symfony console error box: `[Some\\Exception]` or
/// `In File.php line 12:`. Checked by hand, since it runs on every decided line.
pub(super) fn is_box_header(body: &str) -> bool {
    let text = body.trim();
    let exception = text.starts_with('[')
        && text.ends_with(']')
        && !text.contains(' ')
        && (text.contains("Exception") || text.contains("Error"));
    let location = text.starts_with("In ") && text.ends_with(':') && text.contains(" line ");
    exception || location
}

/// Whether a line of shape `current` may wrap into the line after it, whose body is
/// `next`, for some lookahead: what [`boxed_wrap`] and [`plain_wrap`] ask of the two
/// lines themselves, and [`can_continue`]. The window's evidence (how many lines are as
/// wide, a box's width) can only be known with the lines that come later.
pub(super) fn may_wrap_into(current: Shape, next: &str) -> bool {
    let boxed = current.box_indent && next.starts_with("  ");
    let padded_screen = current.len - current.trim_len >= 2;
    let plain = !padded_screen && (current.padded || !opens_sentence(next));
    (boxed || plain) && can_continue(next)
}

/// Whether a line may continue the one before: not blank and not the start of a log line.
pub(super) fn can_continue(body: &str) -> bool {
    !body.trim().is_empty() && !starts_log_line(body)
}

/// Whether text opens a new log line (a timestamp, `In X.php line N:`, an exception
/// header, a list item, a prompt, a PHP error, a log level): such a line is never joined
/// to the line before it, even when that one looks wrapped.
pub fn starts_log_line(text: &str) -> bool {
    LOG_LINE_START.is_match(text.trim_start())
}

/// The length in characters of a line's first word, 0 when it starts with whitespace
/// (a word-wrapped rest never does).
fn first_word_len(body: &str) -> usize {
    body.split(char::is_whitespace).next().map_or(0, char_len)
}

/// Whether a line may be the rest of a word-wrapped sentence: it goes on from text
/// (unindented, opening no log line, no sentence, no message a rule reads at a line
/// start).
fn continues_a_sentence(body: &str) -> bool {
    !body.starts_with(char::is_whitespace)
        && can_continue(body)
        && !opens_sentence(body)
        && !opens_rule_line(body)
}

/// Whether text opens like a sentence (`Updating dependencies`, `Could not`): a
/// capitalised word followed by a space or a colon, which a wrapped remainder rarely is.
pub(super) fn opens_sentence(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let word = chars.take_while(|ch| ch.is_lowercase()).count();
    let after = text.chars().nth(word + 1);
    first.is_uppercase() && word > 0 && matches!(after, Some(' ' | ',' | ':'))
}

/// Openings of lines that start something new, so that no wrap joins them to a line before.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
pub(super) static LOG_LINE_START: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = r"(?x)^(?:
        \[\d{4}-\d\d-\d\d                                # ece-tools [2023-04-24T...
        | \d{4}-\d\d-\d\d[T\ ]\d\d:                      # ISO timestamp
        | \d\d:\d\d:\d\d\b                               # time of day
        | In\ \S+\ line\ \d+:                            # Symfony 'In X.php line N:'
        | \[[\w\\]*(?:Exception|Error)\]                 # [SomeException]
        | Problem\ \d+                                   # Composer solver problems
        | [-*•]\ |[$\#>]\ |\#\d+\                         # list items, prompts, stack frames
        | PHP\ (?:Fatal|Warning|Notice|Parse|Deprecated)
        | (?:Fatal\ error|Warning|Notice|Deprecated|Parse\ error|Stack\ trace):
        | (?:DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY):
        | [WE]:\ 
    )";
    Regex::new(pattern).expect("the log-line-start pattern is valid")
});

/// The text a physical line adds to its logical line, given how it is joined on each side.
pub(super) fn piece_text(
    body: String,
    joined_from: Option<Wrap>,
    joins_into: Option<Wrap>,
) -> String {
    let mut text = body;
    match joins_into {
        Some(Wrap::Boxed) => text.truncate(text.trim_end().len()),
        Some(Wrap::BoxedAtSpace | Wrap::Word) => {
            text.truncate(text.trim_end().len());
            text.push(' ');
        }
        _ => {}
    }
    if matches!(joined_from, Some(Wrap::Boxed | Wrap::BoxedAtSpace)) && box_indent(&text) == 2 {
        // Box lines are indented by two spaces (unless a tracker stripped them); a third
        // one belongs to the text.
        text.drain(..2);
    }
    text
}
