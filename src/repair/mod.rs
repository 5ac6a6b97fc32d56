//! Undoes the damage that copying log text through web UIs, mail, chat and issue trackers
//! does to it, so that the rule engine gives the same answer for a pasted log as for the
//! original.
//!
//! The repair works line by line with a small lookahead window (for wrapped lines) and
//! never holds the whole input. Each physical line goes through three stages:
//!
//! 1. character repairs: ANSI escapes, carriage returns, HTML entities, smart quotes,
//!    non-breaking and zero-width characters (literal `\n` first splits a line); then a
//!    paste collapsed onto one line is split back into its lines (see [`collapse`]);
//! 2. transport prefixes: markdown quotes, code fences, backticks, column-0 bullets, Cloud
//!    build `W:`/`E:`, CI runner timestamps, docker-compose, Vagrant and Deployer
//!    prefixes;
//! 3. joining of lines that a terminal, a mail client or a Symfony exception box wrapped.
//!
//! Every logical line that comes out has its leading whitespace, leading bullet markers
//! (`- `, `* `, `• `) and trailing whitespace removed, damaged or not: downstream patterns
//! do not depend on indentation, and removing it everywhere keeps clean and damaged input
//! equal. Apart from that trimming, a clean line passes through unchanged: one byte scan
//! (no regex) tells that a line has nothing to repair.
//!
//! Wrap joining is deliberately conservative: a false join can invent a match, a missed
//! one only loses it. A plain wrap is believed only when no line in the lookahead and at
//! most two lines seen before (the prose someone writes above a paste) are longer than
//! the cut line, the next line neither opens a log line nor a sentence nor repeats the
//! cut line's opening, and the cut shows: the width is shown twice (by different lines),
//! by an earlier wrap or by a common terminal width, or the text on both sides of the
//! line end shows that one thing was cut in two (a URL, a path, a version, a `->`, a
//! quote or bracket closed on the next line, punctuation that cannot open a line, a word
//! of the rule catalogue's vocabulary, or a word cut with at most three letters on one
//! side). Lines exactly as wide as the wrap are indistinguishable from cut ones and are
//! joined when they are followed by a continuation-looking line.
//!
//! Carriage returns end lines, except between two progress states (`35%`, `12/40`), of
//! which the terminal showed the later one. Backticks around a URL become the quotes the
//! tools print there.

mod chars;
mod collapse;
mod cut;
mod prefix;
mod skip;
#[cfg(test)]
mod tests;
mod wrap;

use std::collections::VecDeque;

use chars::{has_special_bytes, repaired_bodies};
use collapse::split_collapsed;
use prefix::{
    may_have_prefix, strip_all, strip_leading_bullets, vagrant_machine, without_emphasis,
};
use wrap::piece_text;

pub use skip::{is_plain_lines, lone_text};
pub use wrap::starts_log_line;

/// One logical line after repair: the 1-based number of the first physical line it came
/// from, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairedLine {
    /// 1-based number of the first physical line this logical line came from.
    pub line: u64,
    /// The repaired text, trimmed of indentation, bullets and trailing whitespace.
    pub text: String,
}

/// How many physical lines are held back to decide whether a line was wrapped.
const LOOKAHEAD: usize = 32;

/// How many already-decided line shapes still count as evidence of a wrap width.
const LOOKBEHIND: usize = 32;

/// Wrapped lines narrower than this are not believed: real terminals and mailers are wider.
const MIN_WRAP_WIDTH: usize = 60;

/// A joined line stops growing past this, so a pathological input cannot grow memory.
const MAX_JOINED_BYTES: usize = 1 << 20;

/// Repairs damaged log lines on the fly, holding at most a small window of lines (never
/// the whole input).
#[derive(Debug, Default)]
pub struct Repairer {
    /// Cleaned physical lines whose wrap decision still waits for lookahead.
    ahead: VecDeque<Physical>,
    /// Shapes of the most recently decided lines, evidence for the wrap width.
    behind: VecDeque<Shape>,
    /// The logical line being built; it is emitted once a line does not continue it.
    open: Option<RepairedLine>,
    /// How the front of `ahead` continues `open`, if it does.
    continues_as: Option<Wrap>,
    /// The width at which a plain wrap was last found: a paste is wrapped at one width
    /// throughout, so it stays evidence after the lines that showed it left the window.
    wrap_width: Option<usize>,
    /// The longest lines decided so far: a paste wrapped at some width has no longer line
    /// but the few its writer added (a sentence above the log), which is what keeps a
    /// long clean log from ever being plain-joined.
    longest: Longest,
    /// Lines decided since a Symfony box header (`[SomeException]`, `In X.php line N:`).
    since_box_header: Option<usize>,
    /// Whether the lines decided last are the body of a Symfony box: after its header,
    /// up to the blank line that closes it (`Some(true)` once the body showed text).
    box_body: Option<bool>,
    /// Whether a box whose indentation a paste stripped is open: after a `[Class]` title
    /// that lost its indentation too.
    box_stripped: bool,
    /// The width of the last mail word wrap found (see [`Repairer::word_wrap_into_next`]).
    word_width: Option<usize>,
    /// Vagrant's machine name once a `==> NAME: ` line was seen, to strip `    NAME: `.
    vagrant_machine: Option<String>,
    /// Emptied line buffers, reused so that a line costs no allocation (bounded).
    spare: Vec<String>,
    /// How many lines of the window (lookbehind, the line being decided, lookahead) could
    /// show a box width ([`Shape::shows_box_width`]): while none does and no box header
    /// is near, no boxed wrap is possible and the window need not be looked at.
    box_width_evidence: usize,
}

/// How many lines longer than a wrap width a wrapped paste may hold before the wrapped
/// lines: the few prose lines someone typed above the log they pasted.
const LONGER_LINES_ALLOWED: usize = 2;

/// The lengths of the longest lines decided so far, longest first.
#[derive(Debug, Default, Clone, Copy)]
struct Longest {
    top: [usize; LONGER_LINES_ALLOWED + 1],
}

impl Longest {
    /// Counts a line of `len` characters.
    fn insert(&mut self, len: usize) {
        let last = self.top.len() - 1;
        if len <= self.top[last] {
            return;
        }
        self.top[last] = len;
        let mut at = last;
        while at > 0 && self.top[at - 1] < self.top[at] {
            self.top.swap(at - 1, at);
            at -= 1;
        }
    }

    /// The length a line must reach for more than [`LONGER_LINES_ALLOWED`] lines not to
    /// be longer: no line shorter than this is part of a wrapped paste.
    fn bar(&self) -> usize {
        self.top[self.top.len() - 1]
    }

    /// How many of the lines counted are longer than `len` (at most those kept).
    fn longer_than(&self, len: usize) -> usize {
        self.top.iter().filter(|&&top| top > len).count()
    }
}

/// The most emptied buffers kept for reuse.
const SPARE_MAX: usize = 2 * LOOKAHEAD;

/// A physical line after character repairs and prefix removal.
#[derive(Debug)]
struct Physical {
    line: u64,
    body: String,
    shape: Shape,
    /// Opens a Symfony exception box ([`is_box_header`](wrap::is_box_header)).
    header: bool,
    /// Came after a Markdown quote (`> `).
    after_quote: bool,
    /// Came in a Markdown quote (`> `), right before its text or before a prefix.
    quoted: bool,
    /// Carried a prefix (`W:`, `[host] err `, a quote): a line that carries none is not
    /// continued by one that does, since a tool prefixes each line it prints.
    prefixed: bool,
}

/// The facts about a line's layout that wrap detection looks at.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Length in characters, trailing whitespace included, as the tool printed the line
    /// (with its prefix).
    len: usize,
    /// Length in characters of the line without its prefix (a prefix added after the
    /// wrap, as a CI runner stamps lines it passes on, is not part of the wrap width).
    body_len: usize,
    /// Length in characters without trailing whitespace.
    trim_len: usize,
    /// Starts with two spaces, as every line of a Symfony console box does.
    box_indent: bool,
    /// Length in characters of the text of a box line: without its prefix, trailing
    /// whitespace and box indentation (up to two leading spaces; a third one belongs to
    /// the text, as Symfony splits wherever the width falls).
    content: usize,
    /// Ends with whitespace, as box lines padded to the box width do.
    padded: bool,
    /// Tells repeated lines apart from different ones cheaply (see
    /// [`fingerprint`](wrap::fingerprint)).
    fingerprint: u64,
    /// Holds several words (a space after its indentation); known for quoted lines only.
    words: bool,
    /// Came in a Markdown quote ([`Physical::quoted`]).
    quoted: bool,
}

/// How a physical line continues the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    /// Hard wrap at a fixed width: the pieces are concatenated as they are.
    Plain,
    /// Wrap inside a Symfony exception box: indentation and padding are dropped.
    Boxed,
    /// A box line that Symfony split right after a space: the space that the padding
    /// hides is kept between the pieces.
    BoxedAtSpace,
    /// A word wrap, as a mail client breaks lines at the space before a word that does
    /// not fit: the pieces are joined with one space.
    Word,
}

impl Repairer {
    /// Creates a repairer with an empty window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one physical line (without its line terminator); returns repaired lines that
    /// are complete.
    pub fn push(&mut self, line_no: u64, text: &str, out: &mut Vec<RepairedLine>) {
        if has_special_bytes(text) {
            for body in repaired_bodies(text) {
                each_line_of(&body, |line| self.accept(line_no, line));
            }
        } else {
            each_line_of(text, |line| {
                if may_have_prefix(line) {
                    self.accept(line_no, line);
                } else {
                    // The common case: nothing to repair, only the wrap window to feed.
                    let body = self.copy_of(line);
                    self.queue(Physical::new(line_no, body));
                }
            });
        }
        while self.ahead.len() > LOOKAHEAD {
            self.advance(out);
        }
    }

    /// The Vagrant machine whose `    NAME: ` prefix is stripped, once a `==> NAME: `
    /// line named it.
    pub fn vagrant_machine(&self) -> Option<&str> {
        self.vagrant_machine.as_deref()
    }

    /// Whether a box may be near, from what the lines decided showed: a box width, a
    /// box header within [`LOOKBEHIND`] lines, or a box body not yet closed.
    fn near_box_header(&self) -> bool {
        self.box_width_evidence > 0
            || self.box_body.is_some()
            || self
                .since_box_header
                .is_some_and(|since| since <= LOOKBEHIND)
    }

    /// Gives back the buffer of a line that was emitted and is no longer needed, so that
    /// the next line reuses it instead of allocating.
    pub fn recycle(&mut self, mut text: String) {
        if self.spare.len() < SPARE_MAX && text.capacity() <= 4096 {
            text.clear();
            self.spare.push(text);
        }
    }

    /// A copy of `text` in a reused buffer.
    fn copy_of(&mut self, text: &str) -> String {
        let mut body = self.spare.pop().unwrap_or_default();
        body.clear();
        body.push_str(text);
        body
    }

    /// Flushes what is still held at end of input.
    pub fn finish(&mut self, out: &mut Vec<RepairedLine>) {
        while !self.ahead.is_empty() {
            self.advance(out);
        }
        if let Some(open) = self.open.take() {
            out.push(finalize(open));
        }
        self.continues_as = None;
        self.behind.clear();
        self.box_width_evidence = 0;
        self.longest = Longest::default();
        self.wrap_width = None;
        self.since_box_header = None;
        self.box_body = None;
        self.box_stripped = false;
        self.word_width = None;
        self.vagrant_machine = None;
    }

    /// Removes transport prefixes, remembering Vagrant's machine name across lines, and
    /// queues what is left for the wrap decision.
    fn accept(&mut self, line_no: u64, text: &str) {
        let plain;
        let text = match without_emphasis(text) {
            Some(without) => {
                plain = without;
                plain.as_str()
            }
            None => text,
        };
        if let Some(name) = vagrant_machine(text) {
            self.vagrant_machine = Some(name.to_owned());
        }
        // A terminal wraps the line as the tool printed it (with `W:` or `name |`), and
        // quoting or bullets come later, on each wrapped piece: measure the width there.
        let Some((as_printed, body)) = strip_all(text, self.vagrant_machine()) else {
            return;
        };
        if let Some(mut body) = body {
            let offset = body.as_ptr() as usize - text.as_ptr() as usize;
            let quote = text[..offset]
                .trim_end_matches(' ')
                .ends_with('>')
                .then(|| text[..offset].rfind('>'))
                .flatten();
            let after_quote = quote.is_some();
            if let Some(at) = quote
                && self
                    .ahead
                    .back()
                    .is_some_and(|prev| !prev.after_quote && prev.body.trim_end().ends_with(" -"))
            {
                // A quote right after an unquoted line that ends in ` -` is the rest of
                // a `->` that the wrap cut.
                body = &text[at..];
            }
            let kept_from = body.as_ptr() as usize - text.as_ptr() as usize;
            let prefixed = !text[..kept_from].trim().is_empty();
            let body = self.copy_of(body);
            let mut physical = Physical::new(line_no, body);
            physical.after_quote = after_quote;
            physical.quoted = prefix::strip_quote(text).is_some();
            if physical.quoted {
                physical.shape.quote(&physical.body);
            }
            physical.prefixed = prefixed;
            physical.shape.measure(as_printed);
            self.queue(physical);
        }
    }

    /// Adds a line to the lookahead window.
    fn queue(&mut self, physical: Physical) {
        self.box_width_evidence += usize::from(physical.shape.shows_box_width());
        self.ahead.push_back(physical);
    }

    /// Decides the front line of the window: appends it to the open logical line and
    /// emits that line once nothing continues it.
    fn advance(&mut self, out: &mut Vec<RepairedLine>) {
        let Some(current) = self.ahead.pop_front() else {
            return;
        };
        let next_wrap = self.wrap_into_next(&current);
        self.since_box_header = match current.header {
            true => Some(0),
            false => self.since_box_header.map(|since| since.saturating_add(1)),
        };
        // A box opens on an empty line (or none) and closes on the first empty line
        // after its text.
        let blank = current.shape.content == 0;
        if current.header {
            // Symfony indents a `[Class]` title always, and `In File.php line N:` never.
            let location = current.body.trim_start().starts_with("In ");
            self.box_stripped = !location && wrap::box_indent(&current.body) == 0;
        }
        self.box_body = match (current.header, self.box_body) {
            (true, _) => Some(false),
            (false, Some(_)) if !blank => Some(true),
            (false, Some(false)) if self.since_box_header.is_some_and(|n| n <= 1) => Some(false),
            _ => None,
        };
        let Physical {
            line, body, shape, ..
        } = current;
        let piece = piece_text(body, self.continues_as, next_wrap);
        match (self.open.as_mut(), self.continues_as) {
            (Some(open), Some(_)) => {
                open.text.push_str(&piece);
                self.recycle(piece);
            }
            _ => {
                if let Some(done) = self.open.take() {
                    out.push(finalize(done));
                }
                self.open = Some(RepairedLine { line, text: piece });
            }
        }
        self.continues_as = next_wrap;
        self.longest.insert(shape.len);
        self.behind.push_back(shape);
        if self.behind.len() > LOOKBEHIND
            && let Some(gone) = self.behind.pop_front()
        {
            self.box_width_evidence -= usize::from(gone.shows_box_width());
        }
    }
}

/// Trims what output lines never keep: indentation, bullet markers, trailing whitespace.
fn finalize(mut line: RepairedLine) -> RepairedLine {
    line.text.truncate(line.text.trim_end().len());
    if memchr::memchr(b'`', line.text.as_bytes()).is_some() {
        quote_backticked_urls(&mut line.text);
    }
    let kept = strip_leading_bullets(&line.text).len();
    let start = line.text.len() - kept;
    line.text.drain(..start);
    line
}

/// Calls `f` with each line of `text`: the lines a collapse joined (see [`collapse`]),
/// or `text` itself.
fn each_line_of(text: &str, mut f: impl FnMut(&str)) {
    match split_collapsed(text) {
        Some(lines) => lines.into_iter().for_each(f),
        None => f(text),
    }
}

/// Turns backticks around a URL into the single quotes the tools print there
/// (`` `https://x/a.zip` `` -> `'https://x/a.zip'`), in place: Markdown turns quotes into
/// code spans when a paste is edited.
fn quote_backticked_urls(text: &mut String) {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'`', &text.as_bytes()[from..]).map(|at| from + at) {
        let rest = &text[at + 1..];
        from = at + 1;
        if !(rest.starts_with("https://") || rest.starts_with("http://")) {
            continue;
        }
        let end = rest
            .find(|ch: char| ch.is_whitespace() || ch == '`')
            .unwrap_or(rest.len());
        if rest.as_bytes().get(end) == Some(&b'`') {
            let close = at + 1 + end;
            // Both are one byte: replacing them keeps every index.
            text.replace_range(close..=close, "'");
            text.replace_range(at..=at, "'");
            from = close + 1;
        }
    }
}

/// Convenience for whole texts (paste): repairs and returns the logical lines.
pub fn repair_text(input: &str) -> Vec<RepairedLine> {
    let mut repairer = Repairer::new();
    let mut out = Vec::new();
    for (index, line) in input.lines().enumerate() {
        repairer.push(index as u64 + 1, line, &mut out);
    }
    repairer.finish(&mut out);
    out
}
