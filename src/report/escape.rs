//! Making text from logs and file names safe to print: on a terminal (no control codes)
//! and in Markdown (no live HTML, no way out of a code span or a table cell).
//!
//! Log text is data. A control code in it (ESC, BS, ENQ, a C1 code such as U+009D) can
//! move the cursor, set the window title or fake a line on a terminal; `<img …>` in it is
//! live HTML in a Markdown viewer; a backtick ends a code span, and `|` a table cell.

use std::borrow::Cow;

use crate::report::diagnosis::Report;

/// Whether `c` is a control code a terminal acts on: C0 but for tab, DEL, and C1.
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\t') || c == '\u{7f}'
}

/// `text` with every control code (C0 but for tab, DEL, C1; newlines too, since the text
/// is one line of output) written out as `\x1b` or `\u{9d}`, so it shows and does nothing.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !is_control(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A copy of `report` whose log text and paths are [`printable`].
pub fn printable_report(report: &Report) -> Report {
    let mut report = report.clone();
    let fix = |s: &mut String| {
        if let Cow::Owned(clean) = printable(s) {
            *s = clean;
        }
    };
    for source in &mut report.sources {
        fix(&mut source.path);
        for d in &mut source.diagnoses {
            fix(&mut d.summary);
            d.causes.iter_mut().for_each(fix);
            d.remediation.iter_mut().for_each(fix);
            for e in &mut d.evidence {
                fix(&mut e.path);
                e.matched = e.matched.and_then(|span| printable_span(&e.text, span));
                fix(&mut e.text);
            }
            for p in &mut d.packages {
                fix(&mut p.name);
                p.version.iter_mut().for_each(fix);
                p.status.iter_mut().for_each(fix);
            }
        }
        source.hints.iter_mut().for_each(|h| fix(&mut h.text));
        source.notes.iter_mut().for_each(fix);
    }
    if let Some(rollup) = &mut report.summary.scan {
        for f in &mut rollup.failed {
            fix(&mut f.path);
            fix(&mut f.reason);
        }
        for c in &mut rollup.causes {
            c.paths.iter_mut().for_each(fix);
        }
    }
    report
}

/// Where `span` of `text` lies in `printable(text)`: each code is written out in place,
/// so the parts before and in the span are as long as they are written out.
fn printable_span(text: &str, (start, end): (usize, usize)) -> Option<(usize, usize)> {
    let before = printable(text.get(..start)?).len();
    Some((before, before + printable(text.get(start..end)?).len()))
}

/// Markdown prose holding log text, with no live HTML: outside code spans (which show
/// their text as it is), `<` is written `&lt;`, a `&` that starts an entity `&amp;` (so
/// an escaped tag in the log stays text), and a `>` that opens a line `&gt;` (a quote).
/// Other `>` and `&` need nothing, and stay readable where the text is read as it is.
pub fn markdown_inline(text: &str) -> Cow<'_, str> {
    if !text.contains(['<', '>', '&']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find(['<', '>', '&', '`']) {
        out.push_str(&rest[..at]);
        let line = out.rsplit('\n').next().unwrap_or("");
        let line_start = line.trim_start_matches([' ', '\t']).is_empty();
        rest = &rest[at..];
        if rest.starts_with('`') {
            let ticks = rest.len() - rest.trim_start_matches('`').len();
            let fence = &rest[..ticks];
            // A code span runs to the next run of as many backticks.
            let close = rest[ticks..].find(fence).map(|i| ticks + i + ticks);
            let span = close.unwrap_or(ticks);
            out.push_str(&rest[..span]);
            rest = &rest[span..];
            continue;
        }
        out.push_str(match rest.as_bytes()[0] {
            b'<' => "&lt;",
            b'>' if line_start => "&gt;",
            b'&' if starts_entity(rest) => "&amp;",
            b'>' => ">",
            _ => "&",
        });
        rest = &rest[1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `text` (which starts with `&`) starts an HTML entity: `&name;` or `&#…;`.
fn starts_entity(text: &str) -> bool {
    let body = &text[1..];
    let name = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    name > 0 && body.as_bytes().get(name) == Some(&b';')
}

/// Text put between single backticks: a backtick in it would end the span early, so it
/// becomes `'`.
pub fn markdown_code(text: &str) -> Cow<'_, str> {
    if text.contains('`') {
        Cow::Owned(text.replace('`', "'"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A Markdown table cell holding log text: [`markdown_inline`], and `|` escaped so it
/// does not end the cell.
pub fn table_cell(text: &str) -> String {
    markdown_inline(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_codes_are_written_out() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(
            printable("a\u{1b}]0;title\u{7}b\u{8}\u{5}\u{9d}c\nd"),
            "a\\x1b]0;title\\x07b\\x08\\x05\\u{9d}c\\x0ad"
        );
        assert_eq!(printable("é 日本"), "é 日本");
    }

    #[test]
    fn a_match_moves_with_the_codes_written_out_before_it() {
        let text = "a\u{1b}b match\u{7} c";
        let start = text.find("match").unwrap();
        let span = printable_span(text, (start, start + "match\u{7}".len())).unwrap();
        let shown = printable(text);
        assert_eq!(&shown[span.0..span.1], "match\\x07");
        assert_eq!(printable_span("ab", (1, 5)), None);
    }

    #[test]
    fn html_is_escaped_outside_code_spans_only() {
        assert_eq!(
            markdown_inline("x <img src=x onerror=alert(1)> & `a<b>` y &lt;i&gt;"),
            "x &lt;img src=x onerror=alert(1)> & `a<b>` y &amp;lt;i&amp;gt;"
        );
        assert_eq!(markdown_inline("> quoted, a > b"), "&gt; quoted, a > b");
        assert_eq!(markdown_inline("an ``a`<b>`` span"), "an ``a`<b>`` span");
        assert_eq!(markdown_inline("open ` <b>"), "open ` &lt;b>");
        assert!(matches!(markdown_inline("plain `code`"), Cow::Borrowed(_)));
    }

    #[test]
    fn code_and_cells_cannot_be_left() {
        assert_eq!(markdown_code("ven`<b>`dor/x"), "ven'<b>'dor/x");
        assert_eq!(table_cell("1.0|<i>"), "1.0\\|&lt;i>");
    }
}
