//! The quiet-line fast path: which clean lines may skip the repairer, and how a run of
//! them is counted without reading each. Why skipping them changes no report is the
//! skip contract, stated once in `crate::pipeline` (`pipeline/steps.rs`); this is its
//! point 1.

use super::chars::{SPECIAL_ASCII, is_special};
use super::prefix::{
    may_have_emphasis, may_have_prefix, strip_all, strip_leading_bullets, trim_end_quick,
    vagrant_machine,
};
use super::wrap::may_wrap_into;
use super::{LOOKBEHIND, MIN_WRAP_WIDTH, RepairedLine, Repairer, finalize};

impl Repairer {
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
    /// been read as, had it been pushed instead (see the free function `lone_text`).
    pub fn lone_text<'a>(&self, text: &'a str) -> Option<&'a str> {
        lone_text(text, self.vagrant_machine())
    }

    /// The body a clean line would enter the window with (see [`queued_body`]).
    pub(super) fn queued_body<'a>(&self, text: &'a str) -> Option<&'a str> {
        queued_body(text, self.vagrant_machine())
    }

    /// Counts a line of `len` bytes that [`Repairer::flush_before_quiet`] let skip.
    ///
    /// The lookbehind keeps the lines it held that are still among the last
    /// `LOOKBEHIND`, as if the skipped line had passed through it. The skipped line
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
    pub(super) fn count_skipped(&mut self, lines: usize) {
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
    /// `\n`, with no byte the repairer looks at: `is_plain_lines`) that
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
}

/// Whether a line of `len` bytes may be part of a wrapped paste, the longest line decided
/// so far being `longest`: a paste wrapped at some width has no longer line.
pub(super) fn may_wrap(len: usize, longest: usize) -> bool {
    len >= MIN_WRAP_WIDTH && longest <= len
}

/// Whether a line can pass the repairer unchanged but for the final trim, whatever its
/// neighbours: none of the special bytes (so ASCII; known when `plain`, see
/// [`is_plain_lines`]), no trailing whitespace, and no Markdown emphasis that may open
/// or close it.
pub(super) fn is_quiet_clean(line: &[u8], plain: bool) -> bool {
    !line.last().is_some_and(u8::is_ascii_whitespace)
        && (plain || !is_special(line))
        && !may_have_emphasis(line)
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
pub(super) fn queued_body<'a>(text: &'a str, machine: Option<&str>) -> Option<&'a str> {
    if !may_have_prefix(text) {
        return Some(text);
    }
    if vagrant_machine(text).is_some() {
        return None;
    }
    strip_all(text, machine)?.1
}
