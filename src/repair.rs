//! Undoes the damage that copying log text through web UIs, mail, chat and issue trackers
//! does to it, so that the rule engine gives the same answer for a pasted log as for the
//! original.
//!
//! The repair works line by line with a small lookahead window (for wrapped lines) and
//! never holds the whole input. Each physical line goes through three stages:
//!
//! 1. character repairs: ANSI escapes, carriage returns, HTML entities, smart quotes,
//!    non-breaking and zero-width characters (literal `\n` first splits a line);
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

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::LazyLock;

use memchr::memmem;
use regex::Regex;

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
/// Terminal and mail widths common enough to count as evidence on their own.
const TERMINAL_WIDTHS: [usize; 8] = [72, 76, 78, 79, 80, 100, 120, 132];
/// A joined line stops growing past this, so a pathological input cannot grow memory.
const MAX_JOINED_BYTES: usize = 1 << 20;
/// How many transport prefixes one line may carry (`> - W: ...`); bounds the strip loop.
const MAX_PREFIXES: usize = 8;

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
    /// Opens a Symfony exception box ([`is_box_header`]).
    header: bool,
    /// Came after a Markdown quote (`> `).
    after_quote: bool,
}

/// The facts about a line's layout that wrap detection looks at.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Length in characters, trailing whitespace included.
    len: usize,
    /// Length in characters without trailing whitespace.
    trim_len: usize,
    /// Starts with two spaces, as every line of a Symfony console box does.
    box_indent: bool,
    /// Ends with whitespace, as box lines padded to the box width do.
    padded: bool,
    /// Tells repeated lines apart from different ones cheaply (see [`fingerprint`]).
    fingerprint: u64,
}

/// How a physical line continues the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    /// Hard wrap at a fixed width: the pieces are concatenated as they are.
    Plain,
    /// Wrap inside a Symfony exception box: indentation and padding are dropped.
    Boxed,
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
                self.accept(line_no, &body);
            }
        } else if may_have_prefix(text) {
            self.accept(line_no, text);
        } else {
            // The common case: nothing to repair, only the wrap window to feed.
            let body = self.copy_of(text);
            self.queue(Physical::new(line_no, body));
        }
        while self.ahead.len() > LOOKAHEAD {
            self.advance(out);
        }
    }

    /// Lets a clean line that holds nothing worth matching skip the repairer when it
    /// cannot take part in a wrap: it is short (or shorter than a line already seen, as a
    /// wrapped paste has none), and no line in the window can wrap into it. The window is
    /// emitted into `out` first (nothing in it waits for this line), and `true` says the
    /// caller may skip the line: [`Repairer::skipped`] then counts it. On `false` nothing
    /// changed and the line must be pushed as usual.
    ///
    /// A line is clean when it is ASCII without a byte that asks for a repair or a
    /// prefix check beyond the Cloud ones, and does not end in whitespace (a padded line
    /// can tell a box's width).
    pub fn flush_before_quiet(
        &mut self,
        line: &[u8],
        plain: bool,
        out: &mut Vec<RepairedLine>,
    ) -> bool {
        let near_box = self.near_box_header()
            || (!self.ahead.is_empty() && self.ahead.iter().any(|physical| physical.header));
        if may_wrap(line.len(), self.longest.bar()) || near_box || !is_quiet_clean(line, plain) {
            return false;
        }
        // A line in the window that may wrap into the one after it holds this line back:
        // reading every line, it would be decided with more lines of lookahead. Unless
        // the line after it could not be its rest whatever the lookahead shows (see
        // `may_wrap_into`).
        // (Asked only of a window that holds lines: the iterator is not inlined, and
        // most quiet lines come with the window empty.)
        let longest = self.longest.bar();
        let held_can_wrap = !self.ahead.is_empty()
            && self.ahead.iter().enumerate().any(|(i, physical)| {
                may_wrap(physical.shape.len, longest)
                    && match self.ahead.get(i + 1) {
                        Some(next) => may_wrap_into(physical.shape, &next.body),
                        None => std::str::from_utf8(line)
                            .ok()
                            .and_then(|text| self.queued_body(text))
                            .is_none_or(|body| may_wrap_into(physical.shape, body)),
                    }
            });
        if held_can_wrap {
            return false;
        }
        while !self.ahead.is_empty() {
            self.advance(out);
        }
        if let Some(open) = self.open.take() {
            out.push(finalize(open));
        }
        self.continues_as = None;
        true
    }

    /// The text a clean line that [`Repairer::flush_before_quiet`] let skip would have
    /// been read as, had it been pushed instead (see [`lone_text`]).
    pub fn lone_text<'a>(&self, text: &'a str) -> Option<&'a str> {
        lone_text(text, self.vagrant_machine())
    }

    /// The Vagrant machine whose `    NAME: ` prefix is stripped, once a `==> NAME: `
    /// line named it.
    pub fn vagrant_machine(&self) -> Option<&str> {
        self.vagrant_machine.as_deref()
    }

    /// The body a clean line would enter the window with (see [`queued_body`]).
    fn queued_body<'a>(&self, text: &'a str) -> Option<&'a str> {
        queued_body(text, self.vagrant_machine())
    }

    /// Counts a line of `len` bytes that [`Repairer::flush_before_quiet`] let skip.
    ///
    /// The lookbehind keeps the lines it held that are still among the last
    /// [`LOOKBEHIND`], as if the skipped line had passed through it. The skipped line
    /// itself is not in it, and needs not be for the width evidence: its length is in
    /// `longest_seen` (a line as long as a later one that may wrap makes that one
    /// shorter than the longest seen, so it never wraps), and a clean line ends in no
    /// padding, so it shows no box width. What it can miss is a box-indented line that
    /// reaches a box's width found later (`WindowStats::box_full`): skipping can miss a
    /// join, but not invent one.
    pub fn skipped(&mut self, len: usize) {
        self.longest.insert(len);
        self.count_skipped(1);
    }

    /// Counts `lines` skipped lines, their lengths already counted (see
    /// [`Repairer::skipped`]).
    fn count_skipped(&mut self, lines: usize) {
        self.since_box_header = self
            .since_box_header
            .map(|since| since.saturating_add(lines));
        let gone = (self.behind.len().saturating_add(lines))
            .saturating_sub(LOOKBEHIND)
            .min(self.behind.len());
        for shape in self.behind.drain(..gone) {
            self.box_width_evidence = self
                .box_width_evidence
                .saturating_sub(usize::from(shape.shows_box_width()));
        }
    }

    /// Skips the clean quiet lines at the start of `lines` (whole lines, each ended by
    /// `\n`, with no byte the repairer looks at: [`is_plain_lines`]) that
    /// [`Repairer::flush_before_quiet`] would let skip one after the other with nothing
    /// to flush, and counts them as [`Repairer::skipped`] would; `keep(at, skipped,
    /// line)` names a line the caller must read (`at` where it starts in `lines`, after
    /// `skipped` lines), and is asked only of a line this call would skip otherwise.
    /// Returns how many bytes and lines it skipped: none when the window holds lines or
    /// a box is near, and it stops before the first line that may wrap, ends in
    /// whitespace or is kept.
    ///
    /// This is how a run of quiet lines is counted without a call per line.
    pub fn skip_quiet_run(
        &mut self,
        lines: &[u8],
        mut keep: impl FnMut(usize, u64, &[u8]) -> bool,
    ) -> (usize, u64) {
        // Nothing to flush, and nothing `flush_before_quiet` looks at but the line.
        let settled = self.ahead.is_empty()
            && self.open.is_none()
            && self.continues_as.is_none()
            && !self.near_box_header();
        if !settled {
            return (0, 0);
        }
        let (mut used, mut count, mut longest) = (0, 0, self.longest);
        for end in memchr::memchr_iter(b'\n', lines) {
            let line = &lines[used..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if may_wrap(line.len(), longest.bar())
                || !is_quiet_clean(line, true)
                || keep(used, count, line)
            {
                break;
            }
            longest.insert(line.len());
            used = end + 1;
            count += 1;
        }
        if count > 0 {
            self.longest = longest;
            self.count_skipped(usize::try_from(count).unwrap_or(usize::MAX));
        }
        (used, count)
    }

    /// Whether a box may be near, from what the lines decided showed: a box width, or a
    /// box header within [`LOOKBEHIND`] lines.
    fn near_box_header(&self) -> bool {
        self.box_width_evidence > 0
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
        self.vagrant_machine = None;
    }

    /// Removes transport prefixes, remembering Vagrant's machine name across lines, and
    /// queues what is left for the wrap decision.
    fn accept(&mut self, line_no: u64, text: &str) {
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
            let body = self.copy_of(body);
            let mut physical = Physical::new(line_no, body);
            physical.after_quote = after_quote;
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

    /// Tells whether the next line in the window continues `current`, and how.
    fn wrap_into_next(&mut self, current: &Physical) -> Option<Wrap> {
        let next = self.ahead.front()?;
        let open_len = self.open.as_ref().map_or(0, |open| open.text.len());
        if current.shape.len < MIN_WRAP_WIDTH || open_len > MAX_JOINED_BYTES {
            return None;
        }
        let after_box_header = self
            .since_box_header
            .is_some_and(|since| since <= LOOKBEHIND);
        // A boxed wrap needs a box width in the window or a box header just before.
        let may_be_boxed = current.shape.box_indent
            && next.shape.box_indent
            && (self.box_width_evidence > 0 || after_box_header);
        if !may_be_boxed && self.has_longer_line(current.shape.len) {
            // A paste wrapped at this width would have no longer line: the usual exit.
            return None;
        }
        let mut stats = WindowStats::of(self.window_shapes(current.shape), current.shape);
        stats.known_width = self.wrap_width;
        stats.after_box_header = after_box_header;
        stats.longer = self.has_longer_line(current.shape.len);
        // The window arithmetic rules out almost every line; the pattern runs last.
        let wrap = if boxed_wrap(current, next, &stats) {
            Wrap::Boxed
        } else if plain_wrap(current, next, &stats) {
            Wrap::Plain
        } else {
            return None;
        };
        if !can_continue(&next.body) {
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
    fn has_longer_line(&self, len: usize) -> bool {
        self.longest.longer_than(len) > LONGER_LINES_ALLOWED
            || self.ahead.iter().any(|physical| physical.shape.len > len)
    }

    /// The shapes around the line being decided: lookbehind, itself and lookahead.
    fn window_shapes(&self, current: Shape) -> impl Iterator<Item = Shape> + Clone + '_ {
        let ahead = self.ahead.iter().map(|physical| physical.shape);
        self.behind
            .iter()
            .copied()
            .chain(std::iter::once(current))
            .chain(ahead)
    }
}

impl Physical {
    fn new(line: u64, body: String) -> Self {
        let shape = Shape::of(&body);
        let header = is_box_header(&body);
        Physical {
            line,
            body,
            shape,
            header,
            after_quote: false,
        }
    }
}

impl Shape {
    /// Takes the width from the line as the tool printed it, before its prefix was removed.
    fn measure(&mut self, as_printed: &str) {
        let trimmed = as_printed.trim_end();
        self.trim_len = self.trim_len.max(char_len(trimmed));
        self.len = self
            .len
            .max(char_len(trimmed) + char_len(&as_printed[trimmed.len()..]));
    }

    /// Whether the line could tell a box's width: a wide, padded, box-indented line
    /// (narrow boxes are never split).
    fn shows_box_width(self) -> bool {
        self.box_indent && self.padded && self.len >= MIN_WRAP_WIDTH
    }

    fn of(body: &str) -> Self {
        let trimmed = body.trim_end();
        let trim_len = char_len(trimmed);
        let len = trim_len + char_len(&body[trimmed.len()..]);
        Shape {
            len,
            trim_len,
            box_indent: body.starts_with("  "),
            padded: trimmed.len() < body.len(),
            fingerprint: fingerprint(body.as_bytes()),
        }
    }
}

/// Mixes a line's first and last 8 bytes: enough to tell two different lines of the same
/// length apart, at a constant cost of a few instructions per line.
fn fingerprint(bytes: &[u8]) -> u64 {
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
fn char_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// What the window around a line says about the width it may have been wrapped at.
#[derive(Debug, Default)]
struct WindowStats {
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
}

impl WindowStats {
    fn of(shapes: impl Iterator<Item = Shape> + Clone, current: Shape) -> Self {
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
            if shape.shows_box_width() {
                stats.box_width = stats.box_width.max(shape.len);
            }
        }
        stats.box_full = shapes
            .filter(|shape| shape.box_indent && shape.trim_len + 2 == stats.box_width)
            .count();
        stats
    }
}

/// Whether `current` is a line of a Symfony exception box that Symfony split at the box's
/// content width and `next` holds the rest.
fn boxed_wrap(current: &Physical, next: &Physical, stats: &WindowStats) -> bool {
    let (a, b) = (current.shape, next.shape);
    if !(a.box_indent && b.box_indent) || a.trim_len <= 2 || b.trim_len <= 2 {
        return false;
    }
    if opens_sentence(&next.body[2..]) {
        return false;
    }
    let reaches_box = stats.box_width > 0 && a.trim_len + 2 == stats.box_width;
    // A box is only split when its text is wider than the terminal, so the box is then as
    // wide as the terminal allows; a narrower box's widest line is a whole line.
    let wrapped_box = is_terminal_width(stats.box_width + 1) || stats.box_full >= 2;
    // Trackers often strip the padding; the content then ends 3 columns short of the
    // terminal width (2 of padding, 1 column Symfony keeps free).
    // Without padding, indentation alone is weak (Composer indents its lists too), so
    // the box's header must be in sight.
    let unpadded_box =
        stats.box_width == 0 && stats.after_box_header && is_terminal_width(a.trim_len + 3);
    (reaches_box && wrapped_box) || unpadded_box
}

/// Whether `current` was hard-wrapped at a fixed width and `next` holds the rest.
fn plain_wrap(current: &Physical, next: &Physical, stats: &WindowStats) -> bool {
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
    let evidence = stats.same_len >= 2
        || seen_before
        || is_terminal_width(width)
        || shows_cut(&current.body, &next.body);
    let cut_at_space = shape.padded;
    evidence && (cut_at_space || !opens_sentence(&next.body)) && !same_opening(current, next)
}

/// Whether two lines open with the same text: log lines repeat their openings (a
/// progress line per locale, one refusal per package), a line's rest does not.
fn same_opening(current: &Physical, next: &Physical) -> bool {
    const OPENING: usize = 8;
    let a = trim_start_quick(&current.body).as_bytes();
    let b = trim_start_quick(&next.body).as_bytes();
    a.len() >= OPENING && b.len() >= OPENING && a[..OPENING] == b[..OPENING]
}

/// Whether the text on both sides of a line end shows that the end cut one thing in two:
/// a space kept at the end of the line or the start of the next (a terminal cuts where
/// the width ends, a space included), punctuation that cannot open a line, a URL, a path,
/// a word or a number cut in the middle, or a bracket or double quote that the line opens
/// and the next one closes.
fn shows_cut(before: &str, after: &str) -> bool {
    let Some(last) = before.chars().next_back() else {
        return false;
    };
    let Some(first) = after.chars().next() else {
        return false;
    };
    if last.is_whitespace() {
        // Text, one space, and text on the next line: the space the cut fell on.
        let one_space = !before[..before.len() - 1].ends_with(char::is_whitespace);
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
    let package = first == '/'
        && tail.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        && head[1..].starts_with(|ch: char| ch.is_ascii_lowercase())
        && !head[1..].contains('/');
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
    arrow
        || package
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

/// Whether the last word of a line opens a quote (`'https://...`) that the first word of
/// the next line closes.
fn closes_quoted_token(tail: &str, head: &str) -> bool {
    let tail = tail.trim_start_matches(['(', '[']);
    let Some(quote) = tail.chars().next().filter(|ch| matches!(ch, '\'' | '"')) else {
        return false;
    };
    !tail[1..].contains(quote) && head.contains(quote)
}

/// How many bytes the last `letters` characters of `text` take.
fn tail_letters_bytes(text: &str, letters: usize) -> usize {
    text.chars().rev().take(letters).map(char::len_utf8).sum()
}

/// How many bytes the first `letters` characters of `text` take.
fn head_letters_bytes(text: &str, letters: usize) -> usize {
    text.chars().take(letters).map(char::len_utf8).sum()
}

/// Whether `before` and `after` make one word of the vocabulary the rule catalogue is
/// written in (`acce` `ssed`, `Conn` `ection`): a word the rules look for is what a cut
/// must not break.
fn is_known_word(before: &str, after: &str) -> bool {
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
static VOCABULARY: LazyLock<std::collections::HashSet<String>> = LazyLock::new(|| {
    crate::rule::EMBEDDED
        .iter()
        .flat_map(|(_, text)| text.split(|ch: char| !ch.is_ascii_alphabetic()))
        .filter(|word| word.len() >= 5)
        .map(str::to_ascii_lowercase)
        .collect()
});

/// Whether a character can go on a URL or a path that was cut before it.
fn continues_path(ch: char) -> bool {
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
fn cuts_word(tail: &str, head: &str) -> bool {
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
    let lowercase = last.is_alphabetic()
        && first.is_lowercase()
        && head.chars().take(letters_after).all(char::is_lowercase)
        && letters_before.min(letters_after) <= short_side
        && !opens_with_level(head);
    number || acronym || lowercase || {
        let before = &tail[tail.len() - tail_letters_bytes(tail, letters_before)..];
        let after = &head[..head_letters_bytes(head, letters_after)];
        is_known_word(before, after)
    }
}

/// Whether a word is a lowercase level label (`error:`, `warning:`) as git, patch and
/// npm open their lines with.
fn opens_with_level(head: &str) -> bool {
    let label = head.strip_suffix(':').unwrap_or("");
    matches!(
        label,
        "error" | "warning" | "fatal" | "notice" | "hint" | "note" | "info" | "debug"
    )
}

/// Whether `before` leaves a bracket or a double quote open that `after` closes.
fn closes_what_opened(before: &str, after: &str) -> bool {
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

fn is_terminal_width(width: usize) -> bool {
    TERMINAL_WIDTHS.contains(&width)
}

/// Whether a line opens a Symfony console error box: `[Some\\Exception]` or
/// `In File.php line 12:`. Checked by hand, since it runs on every decided line.
fn is_box_header(body: &str) -> bool {
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
fn may_wrap_into(current: Shape, next: &str) -> bool {
    let boxed = current.box_indent && next.starts_with("  ");
    let padded_screen = current.len - current.trim_len >= 2;
    let plain = !padded_screen && (current.padded || !opens_sentence(next));
    (boxed || plain) && can_continue(next)
}

/// Whether a line may continue the one before: not blank and not the start of a log line.
fn can_continue(body: &str) -> bool {
    !body.trim().is_empty() && !starts_log_line(body)
}

/// Whether text opens a new log line (a timestamp, `In X.php line N:`, an exception
/// header, a list item, a prompt, a PHP error, a log level): such a line is never joined
/// to the line before it, even when that one looks wrapped.
pub fn starts_log_line(text: &str) -> bool {
    LOG_LINE_START.is_match(text.trim_start())
}

/// Whether text opens like a sentence (`Updating dependencies`, `Could not`): a
/// capitalised word followed by a space or a colon, which a wrapped remainder rarely is.
fn opens_sentence(text: &str) -> bool {
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
static LOG_LINE_START: LazyLock<Regex> = LazyLock::new(|| {
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
fn piece_text(body: String, joined_from: Option<Wrap>, joins_into: Option<Wrap>) -> String {
    let mut text = body;
    if joins_into == Some(Wrap::Boxed) {
        text.truncate(text.trim_end().len());
    }
    if joined_from == Some(Wrap::Boxed) {
        // Box lines are indented by exactly two spaces; a third one belongs to the text.
        text.drain(..2);
    }
    text
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

/// Strips leading whitespace and list markers, as often as they repeat.
fn strip_leading_bullets(text: &str) -> &str {
    let mut rest = trim_start_quick(text);
    while let Some(after) = strip_bullet(rest) {
        rest = trim_start_quick(after);
    }
    rest
}

fn strip_bullet(text: &str) -> Option<&str> {
    ["- ", "* ", "• "]
        .iter()
        .find_map(|marker| text.strip_prefix(marker))
}

// ---------------------------------------------------------------------------------------
// Stage 1: character repairs.
// ---------------------------------------------------------------------------------------

/// Bytes that make a line need more than the prefix check: entities, escapes, carriage
/// returns, backslashes (literal `\n`), backticks, pipes (docker-compose) and non-ASCII.
/// Looked for with SIMD (`is_ascii`, `memchr3`): this runs on every line.
const SPECIAL_ASCII: [u8; 6] = [b'&', 0x1b, b'\r', b'\\', b'`', b'|'];

/// Bytes a transport prefix can start with: indentation, quotes, bullets, fences, Vagrant,
/// Cloud `W:`/`E:`, Deployer's `[host]` and a CI runner's timestamp (`2024-...`).
const PREFIX_START: &[u8] = b" \t>-*~=WE[2";

/// The fast path's byte scan: whether any byte asks for a character-level repair (or a
/// backtick or docker-compose check).
fn has_special_bytes(text: &str) -> bool {
    is_special(text.as_bytes())
}

fn is_special(bytes: &[u8]) -> bool {
    let [a, b, c, d, e, f] = SPECIAL_ASCII;
    !bytes.is_ascii()
        || memchr::memchr3(a, b, c, bytes).is_some()
        || memchr::memchr3(d, e, f, bytes).is_some()
}

/// Whether a line of `len` bytes may be part of a wrapped paste, the longest line decided
/// so far being `longest`: a paste wrapped at some width has no longer line.
fn may_wrap(len: usize, longest: usize) -> bool {
    len >= MIN_WRAP_WIDTH && longest <= len
}

/// Whether a line can pass the repairer unchanged but for the final trim, whatever its
/// neighbours: none of the special bytes (so ASCII; known when `plain`, see
/// [`is_plain_lines`]), and no trailing whitespace.
fn is_quiet_clean(line: &[u8], plain: bool) -> bool {
    !line.last().is_some_and(u8::is_ascii_whitespace) && (plain || !is_special(line))
}

/// Whether no line of `lines` (whole lines, each ended by `\n`, a `\r` before it not
/// part of the line) holds a byte the repairer looks at: asked of a run of quiet lines
/// at once, so that each line need not be.
pub fn is_plain_lines(lines: &[u8]) -> bool {
    let [amp, esc, cr, backslash, backtick, pipe] = SPECIAL_ASCII;
    lines.is_ascii()
        && memchr::memchr3(amp, esc, backslash, lines).is_none()
        && memchr::memchr2(backtick, pipe, lines).is_none()
        && memchr::memchr_iter(cr, lines).all(|at| lines.get(at + 1) == Some(&b'\n'))
}

/// Whether the first byte could open a transport prefix.
fn may_have_prefix(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|first| PREFIX_START.contains(&first))
}

/// `text.trim_start()`, quicker when the indentation is ASCII (the std one decodes each
/// character): ASCII whitespace is skipped bytewise, and the std trim goes on only from
/// a byte that is not ASCII.
fn trim_start_quick(text: &str) -> &str {
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
fn trim_end_quick(text: &str) -> &str {
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
fn is_ascii_white_space(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ')
}

/// Whether a paste layer or transport prefix other than Cloud's `W:` and `E:` could be
/// stripped from `text`, or it is a fence or a Vagrant `==> NAME: ` line, judged by its
/// start ([`may_open_prefix`]) and its end or a pipe ([`may_close_prefix`]). `false`
/// means no stripper but [`strip_cloud_prefix`] would take anything from it. A superset
/// of what each stripper looks for, where trying them all costs trims and a dozen
/// prefix checks, twice (held context lines come here).
fn may_strip_but_cloud(text: &str, knows_machine: bool) -> bool {
    may_open_prefix(text, knows_machine) || may_close_prefix(text)
}

/// The start of [`may_strip_but_cloud`]: the first byte, and the first after indentation.
fn may_open_prefix(text: &str, knows_machine: bool) -> bool {
    let Some(&first) = text.as_bytes().first() else {
        return false;
    };
    // Bullets (`•` starts with 0xE2), Deployer's `[host]`, backticks, quotes, Vagrant.
    if matches!(first, b'-' | b'*' | 0xE2 | b'[' | b'`' | b'>' | b'=')
        || (knows_machine && first == b' ')
    {
        return true;
    }
    // After indentation: fences and indented quotes.
    matches!(
        trim_start_quick(text).as_bytes().first(),
        Some(b'`' | b'~' | b'>')
    )
}

/// The rest of [`may_strip_but_cloud`]: a closing backtick or fence, a docker-compose
/// pipe. `false` for `text` is `false` for any suffix of it.
fn may_close_prefix(text: &str) -> bool {
    trim_end_quick(text).ends_with('`') || memchr::memchr(b'|', text.as_bytes()).is_some()
}

/// Whether `text` starts, after indentation, as a Cloud prefix could.
fn may_open_cloud_prefix(text: &str) -> bool {
    matches!(trim_start_quick(text).as_bytes().first(), Some(b'W' | b'E'))
}

/// Whether a line needs no repair at all (the fast path).
#[cfg(test)]
fn is_clean(text: &str) -> bool {
    !has_special_bytes(text) && !may_have_prefix(text)
}

/// Splits a physical line at literal `\n` when it is JSON-escaped output and at carriage
/// returns that end lines (see [`split_carriage_returns`]), and repairs the characters of
/// each resulting line.
fn repaired_bodies(text: &str) -> Vec<String> {
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
fn repair_chars(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    for repair in [decode_entities, normalize_unicode] {
        if let Some(repaired) = repair(&text) {
            text = Cow::Owned(repaired);
        }
    }
    text
}

/// Removes ANSI escape sequences (CSI, OSC and two-byte escapes); `None` if there were none.
fn strip_ansi(text: &str) -> Option<String> {
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

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') => skip_osc(chars),
        _ => {}
    }
}

/// Skips a CSI sequence's parameter and intermediate bytes up to its final byte.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
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
fn skip_osc(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
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
fn split_carriage_returns(text: &str) -> Vec<&str> {
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
fn shows_progress(text: &str) -> bool {
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
fn is_count(word: &[u8]) -> bool {
    let mut halves = word.splitn(2, |&b| b == b'/');
    let (Some(done), Some(total)) = (halves.next(), halves.next()) else {
        return false;
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    digits(done) && digits(total)
}

/// Named entities that web pages and mail clients produce in log text.
const NAMED_ENTITIES: [(&str, char); 14] = [
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
fn decode_entities(text: &str) -> Option<String> {
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
fn entity_at(text: &str) -> Option<(char, usize)> {
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

fn numeric_entity(number: &str) -> Option<char> {
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code).filter(|&ch| ch != '\0')
}

/// Turns typographic characters that editors and web pages substitute back into ASCII,
/// and drops invisible ones.
fn normalize_unicode(text: &str) -> Option<String> {
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

fn unicode_replacement(ch: char) -> Option<&'static str> {
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
static ESCAPED_NEWLINE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\\n"));

/// Splits JSON-escaped output pasted as-is at its literal `\n` and unescapes it; `None`
/// unless it really looks escaped, since Windows paths also contain `\n` (`C:\new`).
fn split_escaped_newlines(text: &str) -> Option<Vec<String>> {
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
fn unescape_json(text: &str) -> (Vec<String>, bool) {
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
fn push_unicode_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
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

// ---------------------------------------------------------------------------------------
// Stage 2: transport prefixes.
// ---------------------------------------------------------------------------------------

/// One step of prefix removal.
enum Strip<'a> {
    /// The line carries nothing of the log (a code fence) and is dropped.
    Drop,
    /// A prefix or wrapper was removed; the rest may carry another one.
    Stripped(&'a str),
    /// Nothing more to remove.
    Done,
}

/// Removes only what pasting added around each (already wrapped) line: Markdown quotes,
/// fences, backticks and column-0 bullets; `None` drops the line (a fence).
fn strip_paste_layers(text: &str) -> Option<&str> {
    let mut text = text;
    for _ in 0..MAX_PREFIXES {
        if is_fence(text) {
            return None;
        }
        let stripped = strip_quote(text)
            .or_else(|| strip_column0_bullet(text))
            .or_else(|| strip_fence_around(text))
            .or_else(|| strip_backticks(text));
        match stripped {
            Some(rest) => text = rest,
            None => break,
        }
    }
    Some(text)
}

/// The text a clean line that [`Repairer::flush_before_quiet`] let skip would have been
/// read as, had it been pushed instead, the Vagrant machine being `machine`: it would
/// have been emitted alone, its prefixes stripped. `None` when pushing it would have
/// dropped it (a code fence) or taught the repairer something (a Vagrant machine's
/// name).
pub fn lone_text<'a>(text: &'a str, machine: Option<&str>) -> Option<&'a str> {
    let body = queued_body(text, machine)?;
    Some(strip_leading_bullets(trim_end_quick(body)))
}

/// The body a clean line would enter the window with, had it been pushed: its prefixes
/// stripped. `None` as for [`lone_text`].
fn queued_body<'a>(text: &'a str, machine: Option<&str>) -> Option<&'a str> {
    if !may_have_prefix(text) {
        return Some(text);
    }
    if vagrant_machine(text).is_some() {
        return None;
    }
    strip_all(text, machine)?.1
}

/// What the paste layers ([`strip_paste_layers`]) and then the transport prefixes
/// ([`strip_transport`]) leave of `text`: the line as the tool printed it, and its body
/// (`None` when a fence drops the line at either step).
///
/// Most lines with a prefix are Cloud's `    W:   - Downloading ...`: when no stripper
/// but Cloud's can apply before that prefix or after it ([`may_strip_but_cloud`], which
/// is cheap), that one prefix is all, and the strippers are not each tried. So for a
/// line that starts with `[` and could only be Deployer's.
fn strip_all<'a>(text: &'a str, machine: Option<&str>) -> Option<(&'a str, Option<&'a str>)> {
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
fn strip_unstamped<'a>(text: &'a str, machine: Option<&str>) -> Option<(&'a str, Option<&'a str>)> {
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
fn strip_transport<'a>(text: &'a str, vagrant_machine: Option<&str>) -> Option<&'a str> {
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
fn strip_one<'a>(text: &'a str, vagrant_machine: Option<&str>) -> Strip<'a> {
    if is_fence(text) {
        return Strip::Drop;
    }
    let stripped = strip_quote(text)
        .or_else(|| strip_column0_bullet(text))
        .or_else(|| strip_fence_around(text))
        .or_else(|| strip_backticks(text))
        .or_else(|| strip_cloud_prefix(text))
        .or_else(|| strip_runner_timestamp(text))
        .or_else(|| strip_docker_compose(text))
        .or_else(|| strip_vagrant(text, vagrant_machine))
        .or_else(|| strip_deployer(text));
    stripped.map_or(Strip::Done, Strip::Stripped)
}

/// A code fence line: only ``` or ~~~, maybe with a language tag.
fn is_fence(text: &str) -> bool {
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
fn strip_quote(text: &str) -> Option<&str> {
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
fn strip_column0_bullet(text: &str) -> Option<&str> {
    strip_bullet(text)
}

/// A fence opened or closed on the same line as log text (```magento_1 | ...).
fn strip_fence_around(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("```") {
        return Some(rest);
    }
    text.trim_end().strip_suffix("```")
}

/// Backticks wrapping a whole line, or opening or closing a paste wrapped in one pair.
fn strip_backticks(text: &str) -> Option<&str> {
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

/// Cloud build log stderr prefix: an indented `W:` or `E:` and one space.
fn strip_cloud_prefix(text: &str) -> Option<&str> {
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
fn strip_runner_timestamp(text: &str) -> Option<&str> {
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
fn strip_docker_compose(text: &str) -> Option<&str> {
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
fn vagrant_machine(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("==> ")?;
    let (name, _) = rest.split_once(": ")?;
    let valid = !name.is_empty() && !name.contains(char::is_whitespace);
    valid.then_some(name)
}

/// Vagrant's `==> default: ` prefix, and `    default: ` once the machine name is known.
fn strip_vagrant<'a>(text: &'a str, machine: Option<&str>) -> Option<&'a str> {
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
fn strip_deployer(text: &str) -> Option<&str> {
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

#[cfg(test)]
mod cr_tests {
    use super::*;

    /// Regression: a URL holding `2.3/` made a line look like a progress bar, so two
    /// CR-separated copies of the same warning were taken for one redrawn bar.
    #[test]
    fn digits_in_a_url_are_not_a_progress_count() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Deployer's prefix is `[host]` then ` err ` or ` > `; the host holds no whitespace
    /// (Unicode whitespace included), and a `[timestamp]` line keeps its text.
    #[test]
    fn deployer_prefixes_need_a_host_without_whitespace() {
        assert_eq!(strip_deployer("[prod] err boom"), Some("boom"));
        assert_eq!(
            strip_deployer("[web-1] > php bin/magento"),
            Some("php bin/magento")
        );
        assert_eq!(strip_deployer("[a b] err boom"), None);
        assert_eq!(strip_deployer("[a\u{a0}b] err boom"), None);
        assert_eq!(strip_deployer("[] err boom"), None);
        assert_eq!(strip_deployer("[prod] boom"), None);
        let stamped = "[2024-03-12T10:21:00.000000+00:00] INFO: Starting deploy.";
        assert_eq!(strip_deployer(stamped), None);
        assert_eq!(texts(stamped), [stamped]);
    }

    /// Repairs `input` and returns only the texts, which most tests compare.
    fn texts(input: &str) -> Vec<String> {
        repair_text(input)
            .into_iter()
            .map(|line| line.text)
            .collect()
    }

    /// A line that may be wrapped holds the quiet lines after it back (they are read, so
    /// that it is decided with its full lookahead), unless the line right after it starts
    /// a log line: nothing then continues it, whatever comes later.
    #[test]
    fn a_line_that_may_wrap_holds_quiet_lines_only_when_the_next_can_continue_it() {
        let long = format!("    W: {}", "x".repeat(80));
        let mut out = Vec::new();
        let mut repairer = Repairer::new();
        repairer.push(1, &long, &mut out);
        let log_line = b"    W:   - Downloading acme/module-a (1.0.0)";
        let plain = b"and the rest of it";
        assert!(!repairer.flush_before_quiet(plain, false, &mut out));
        assert!(repairer.flush_before_quiet(log_line, false, &mut out));
        assert_eq!(out.len(), 1, "the window was emitted before the skip");

        // The same with the line still in the window after another.
        let mut repairer = Repairer::new();
        repairer.push(1, &long, &mut out);
        repairer.push(2, "[2024-06-02 03:25:50] INFO: Cache warmed up.", &mut out);
        assert!(repairer.flush_before_quiet(plain, false, &mut out));
        let mut repairer = Repairer::new();
        repairer.push(1, &long, &mut out);
        repairer.push(2, "the rest of it", &mut out);
        assert!(!repairer.flush_before_quiet(plain, false, &mut out));
    }

    /// Nor does a line that opens a sentence continue one cut in a word; one cut at a
    /// space, it may.
    #[test]
    fn a_sentence_continues_only_a_line_cut_at_a_space() {
        let mut out = Vec::new();
        let module = b"Module 'Magento_Catalog':";
        let mut repairer = Repairer::new();
        repairer.push(1, &"x".repeat(80), &mut out);
        assert!(repairer.flush_before_quiet(module, false, &mut out));
        let mut repairer = Repairer::new();
        repairer.push(1, &format!("{} ", "x".repeat(79)), &mut out);
        assert!(!repairer.flush_before_quiet(module, false, &mut out));
    }

    #[test]
    fn decodes_html_entities() {
        let input =
            "&lt;error&gt; &quot;a&quot; &amp; &#39;b&#x27; x&nbsp;y &#8230; &bogus; &#xZZ;";
        assert_eq!(texts(input), ["<error> \"a\" & 'b' x y ... &bogus; &#xZZ;"]);
    }

    #[test]
    fn decodes_entities_only_once() {
        assert_eq!(texts("a &amp;lt; b"), ["a &lt; b"]);
    }

    #[test]
    fn strips_ansi_sequences() {
        let input = "\u{1b}[1;31mERROR\u{1b}[0m: x\u{1b}]0;title\u{7}\u{1b}[K done";
        assert_eq!(texts(input), ["ERROR: x done"]);
    }

    #[test]
    fn keeps_text_after_last_carriage_return() {
        let input = "Downloading (10%)\rDownloading (55%)\rDownloading (100%)\r";
        assert_eq!(texts(input), ["Downloading (100%)"]);
    }

    #[test]
    fn normalizes_smart_quotes_and_invisible_characters() {
        let input = "The \u{2018}https://x\u{2019} URL \u{201c}q\u{201d}\u{a0}a\u{200b}b\u{feff}";
        assert_eq!(texts(input), ["The 'https://x' URL \"q\" ab"]);
    }

    #[test]
    fn strips_nested_markdown_quotes() {
        let input = "> Problem 1\n> >   - root requires x\n>\n> done";
        assert_eq!(texts(input), ["Problem 1", "root requires x", "", "done"]);
    }

    #[test]
    fn drops_code_fences() {
        let input = "```\nfirst\n```text\nsecond\n~~~\n```";
        assert_eq!(texts(input), ["first", "second"]);
    }

    #[test]
    fn strips_fence_opened_on_a_log_line() {
        assert_eq!(
            texts("```web_1  | Installing x\nlast```"),
            ["Installing x", "last"]
        );
    }

    #[test]
    fn strips_backticks_around_lines_and_pastes() {
        assert_eq!(texts("`Nothing to install`"), ["Nothing to install"]);
        assert_eq!(
            texts("`first line\nmiddle\nlast line   `"),
            ["first line", "middle", "last line"]
        );
    }

    #[test]
    fn keeps_inline_code_inside_a_line() {
        let input = "Table `magento`.`quote` doesn't exist";
        assert_eq!(texts(input), [input]);
    }

    #[test]
    fn strips_bullets_and_indentation_consistently() {
        let input = "- one\n* two\n\u{2022} three\n  - Installing vendor/package (1.0)\n-   - Installing b (2.0)";
        let expected = [
            "one",
            "two",
            "three",
            "Installing vendor/package (1.0)",
            "Installing b (2.0)",
        ];
        assert_eq!(texts(input), expected);
    }

    #[test]
    fn strips_cloud_build_prefixes() {
        let input = "    W:   [Composer\\Downloader\\TransportException]\n  E: fatal\nW:";
        assert_eq!(
            texts(input),
            ["[Composer\\Downloader\\TransportException]", "fatal", ""]
        );
    }

    #[test]
    fn strips_tool_prefixes() {
        let input = "magento_1  | Installing search\nweb-1 | ok\n==> default: Running\n    default: inner\n[prod] err boom\n[prod] > cmd";
        let expected = ["Installing search", "ok", "Running", "inner", "boom", "cmd"];
        assert_eq!(texts(input), expected);
    }

    #[test]
    fn keeps_pipes_that_are_not_docker_prefixes() {
        let input = "magento/framework 103.0.4 requires php ~7.3.0||~7.4.0";
        assert_eq!(texts(input), [input]);
    }

    #[test]
    fn splits_json_escaped_output() {
        let input = r#"build failed\n\nIn Cli.php line 7:\n  The \"x\" failed"#;
        let lines = repair_text(input);
        let got: Vec<_> = lines.iter().map(|l| (l.line, l.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "build failed"),
                (1, ""),
                (1, "In Cli.php line 7:"),
                (1, "The \"x\" failed")
            ]
        );
    }

    #[test]
    fn leaves_windows_paths_with_backslash_n_alone() {
        let input = r"C:\xampp\htdocs\new\node\lib.php on line 3";
        assert_eq!(texts(input), [input]);
    }

    /// An 80-column terminal cut a PHP fatal error in the middle of words and numbers.
    #[test]
    fn joins_lines_wrapped_at_a_terminal_width() {
        let original = "PHP Fatal error:  Allowed memory size of 2097152 bytes exhausted (tried to allocate 32768 bytes) in /app/vendor/magento/framework/Interception/Interceptor.php on line 58";
        let wrapped = wrap(original, 80);
        let lines = repair_text(&format!("# bin/magento setup:upgrade\n{wrapped}\nnext"));
        let next_line = wrapped.lines().count() as u64 + 2;
        let got: Vec<_> = lines.iter().map(|l| (l.line, l.text.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "# bin/magento setup:upgrade"),
                (2, original),
                (next_line, "next")
            ]
        );
    }

    /// A mail client cut at 75: uncommon, so two cut lines must show the width.
    #[test]
    fn joins_lines_wrapped_at_a_width_seen_twice() {
        let original = "Could not find a matching version of package magento/extension-b2b. Check the package spelling, your version constraint and that the package is available.";
        assert_eq!(texts(&wrap(original, 75)), [original]);
    }

    /// One line at an uncommon width, ended as a sentence ends: nothing shows a cut.
    #[test]
    fn leaves_a_single_line_at_an_uncommon_width_alone() {
        let input = format!("{}.\n{}", "a".repeat(74), "continues here");
        assert_eq!(texts(&input).len(), 2);
    }

    /// The same line cut in the middle of a word, a URL, a number or a quote: the cut
    /// shows, whatever the width.
    #[test]
    fn joins_a_single_line_cut_in_the_middle_of_something() {
        let cases = [
            (
                "Allowed memory size of 1610612736 bytes exhausted (tried to allocate 65536",
                " bytes) in Solver.php on line 223",
            ),
            (
                "Invalid credentials for 'https://repo.magento.com/archives/acme/module-pay/acme-module-pay-1",
                ".4.2.zip', aborting.",
            ),
            (
                "PHP Warning:  file_put_contents(/app/pub/static/deployed_version.txt): failed to open stream: Read-o",
                "nly file system",
            ),
            (
                "acme/module-feed 2.1.0 requires magento/framework ^102.0 -> found magento/framework 103",
                ".0.6 but it does not match the constraint.",
            ),
            (
                "Exception: the \"php bin/magento cache:flush --all-stores --no-interaction --verbose",
                "\" command failed.",
            ),
            (
                "Could not connect to the search engine at tcp://opensearch.internal:9200 (elasticsearch client",
                ")",
            ),
        ];
        for (first, rest) in cases {
            assert_eq!(
                texts(&format!("{first}\n{rest}")),
                [format!("{first}{rest}")],
                "{first}"
            );
        }
    }

    #[test]
    fn keeps_full_width_log_lines_apart() {
        let first = format!(
            "[2023-04-24T18:58:04.129888+00:00] ERROR: [13] {}",
            "x".repeat(33)
        );
        let second = format!(
            "[2023-04-24T18:58:05.129888+00:00] ERROR: [13] {}",
            "y".repeat(33)
        );
        assert_eq!(first.len(), 80);
        assert_eq!(texts(&format!("{first}\n{second}")), [first, second]);
    }

    #[test]
    fn keeps_equal_length_sentences_apart() {
        let first = "Package zendframework/zend-barcode is abandoned, you should avoid using it. Use laminas/laminas-barcode instead.";
        let second = "Package zendframework/zend-captcha is abandoned, you should avoid using it. Use laminas/laminas-captcha instead.";
        let third = "Package zendframework/zend-config is abandoned.";
        let input = format!("{first}\n{second}\n{third}");
        assert_eq!(texts(&input), [first, second, third]);
    }

    /// Regression: static-content progress lines of equal length, the longest in their
    /// window, were joined as if wrapped (found on the bench corpus).
    #[test]
    fn keeps_equal_length_progress_lines_apart() {
        let progress = |area: &str, count: u32| {
            format!(
                "{area}        {count}/{count}           ============================ 100%   %  3 sec"
            )
        };
        let lines = [
            progress("adminhtml/Magento/backend/nl_NL", 1996),
            progress("adminhtml/Magento/backend/de_DE", 1675),
            progress("frontend/Magento/luma/fr_FR", 15830),
            "Generating autoload files".to_owned(),
        ];
        assert_eq!(lines[0].len(), lines[1].len());
        assert_eq!(texts(&lines.join("\n")), lines);
    }

    /// Regression: an indented Composer list item of box width followed by an indented
    /// warning was joined as if an unpadded box had been split (found on the bench corpus).
    #[test]
    fn keeps_indented_lines_apart_without_a_box_header() {
        let input = "    W:   - Installing magento/module-banner (104.1.3.0-patch2): Extracting archive\n  fwrite(): Write of 8192 bytes failed with errno=28 No space left on device";
        assert_eq!(texts(input).len(), 2);
    }

    /// More long lines before than a writer adds above a paste, or one after: the
    /// lines of the width are whole lines.
    #[test]
    fn keeps_lines_apart_once_longer_lines_were_seen() {
        let long = |n: usize| format!("{}.", "x".repeat(n));
        let cut = format!("{}\n{}", "a".repeat(80), "b".repeat(80));
        let before = format!("{}\n{}\n{}\n{cut}\nc", long(150), long(160), long(170));
        assert_eq!(texts(&before).len(), 6);
        let after = format!("{cut}\n{}", long(150));
        assert_eq!(texts(&after).len(), 3);
    }

    /// Regression: a command line ending in a quoted path, above a line that opens
    /// lowercase, was joined as if the path had been cut (found on the real-world set).
    #[test]
    fn keeps_a_closed_path_apart_from_the_next_line() {
        let first = "patch -p1 --forward -d '/srv/shop/vendor/acme/module-pay' < '/srv/shop/patches/acme-fix-1234.diff'";
        let second = "can't find file to patch at input line 7";
        assert_eq!(texts(&format!("{first}\n{second}")), [first, second]);
    }

    /// A sentence longer than the width above a wrapped log does not hide the wrap.
    #[test]
    fn joins_a_wrapped_log_below_a_long_sentence() {
        let prose = "Hi, our build failed after we rotated the keys yesterday, the output is below, please help us find out what is wrong:";
        let original = "The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-101.2.6.zip' URL could not be accessed (HTTP 403): HTTP/2 403";
        let wrapped = wrap(original, 80);
        assert_eq!(texts(&format!("{prose}\n{wrapped}")), [prose, original]);
    }

    #[test]
    fn keeps_screen_padded_lines_apart() {
        let input = format!(
            "{:<92}\n{:<92}\n{:<92}",
            "Authentication required (repo.magento.com):", "  Username: someone", "  Password:"
        );
        assert_eq!(
            texts(&input),
            [
                "Authentication required (repo.magento.com):",
                "Username: someone",
                "Password:"
            ]
        );
    }

    /// Symfony split the message at the box's content width: `(H` / `TTP 401)`.
    #[test]
    fn joins_lines_split_inside_a_symfony_box() {
        let input = [
            "In AuthHelper.php line 205:",
            &" ".repeat(79),
            "  The 'https://repo.magento.com/packages.json' URL required authentication (H  ",
            "  TTP 401).                                                                    ",
            &" ".repeat(79),
        ]
        .join("\n");
        let expected = [
            "In AuthHelper.php line 205:",
            "",
            "The 'https://repo.magento.com/packages.json' URL required authentication (HTTP 401).",
            "",
        ];
        assert_eq!(texts(&input), expected);
    }

    #[test]
    fn joins_box_lines_whose_padding_was_stripped() {
        let input = "  [Composer\\Downloader\\TransportException]\n  The \"https://repo.magento.com/archives/magento/composer/magento-composer-1.\n  0.2.0.zip\" file could not be downloaded (HTTP/1.1 404 Not Found)";
        let joined = "The \"https://repo.magento.com/archives/magento/composer/magento-composer-1.0.2.0.zip\" file could not be downloaded (HTTP/1.1 404 Not Found)";
        assert_eq!(
            texts(input),
            ["[Composer\\Downloader\\TransportException]", joined]
        );
    }

    /// A narrow box is never split, so its widest line is a whole line.
    #[test]
    fn keeps_lines_of_an_unsplit_box_apart() {
        let width = 70;
        let line = |text: &str| format!("  {text:<width$}  ", width = width - 4);
        let first = "x".repeat(width - 4);
        let input = [
            " ".repeat(width),
            line(&first),
            line("second line of the message"),
            " ".repeat(width),
        ]
        .join("\n");
        assert_eq!(
            texts(&input),
            ["", first.as_str(), "second line of the message", ""]
        );
    }

    #[test]
    fn holds_only_a_small_window() {
        let mut repairer = Repairer::new();
        let mut out = Vec::new();
        for line_no in 1..=100 {
            repairer.push(line_no, "Generating autoload files", &mut out);
        }
        assert_eq!(out.len(), 100 - LOOKAHEAD - 1);
        repairer.finish(&mut out);
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn fast_path_recognises_clean_lines() {
        assert!(is_clean("Generating autoload files"));
        assert!(is_clean(
            "Loading composer repositories with package information"
        ));
        assert!(!is_clean("  - Installing x"));
        assert!(!is_clean("a &lt; b"));
        assert!(!is_clean("caf\u{e9}"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The quick way of [`strip_all`] never changes what a line is read as: lines
        /// made of the pieces each stripper looks for, in any order, come out as trying
        /// every stripper gives them, with and without a Vagrant machine.
        #[test]
        fn quick_stripping_strips_as_every_stripper_does(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                " ", "   ", "\t", "\u{b}", "\u{3000}", ">", "> ", "- ", "* ", "\u{2022} ",
                "`", "```", "~~~", "W:", "E: ", "==> ", "default", ": ", "[host]", " err ",
                " > ", "|", "web_1  | ", "    default: ", "-", "Installing a (1.0)", "x",
                "caf\u{e9}",
            ]), 0..8),
            knows_machine in proptest::bool::ANY,
        ) {
            let text = pieces.concat();
            let machine = knows_machine.then_some("default");
            let every_stripper = strip_paste_layers(&text)
                .map(|as_printed| (as_printed, strip_transport(as_printed, machine)));
            proptest::prop_assert_eq!(strip_all(&text, machine), every_stripper, "{:?}", text);
        }
    }

    proptest::proptest! {
        /// The quick trims are the std ones, whatever the whitespace, ASCII or not.
        #[test]
        fn quick_trims_trim_as_std_does(text in "[ \t\n\u{b}\u{c}\r\u{85}\u{a0}\u{3000}\u{2028}a\u{e9}\u{1f600}-]{0,12}") {
            proptest::prop_assert_eq!(trim_start_quick(&text), text.trim_start());
            proptest::prop_assert_eq!(trim_end_quick(&text), text.trim_end());
        }
    }

    /// Cuts `text` into pieces of `width` characters, as a terminal does.
    fn wrap(text: &str, width: usize) -> String {
        let chars: Vec<char> = text.chars().collect();
        let pieces: Vec<String> = chars
            .chunks(width)
            .map(|piece| piece.iter().collect())
            .collect();
        pieces.join("\n")
    }
}
