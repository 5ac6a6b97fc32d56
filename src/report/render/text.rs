//! Text for a person, laid out like a compiler diagnostic: the header, a one-line why,
//! the numbered fix, capped evidence, and the rest behind `--verbose`.

use std::io::{self, Write};

use colored::Colorize;

use super::{
    clip_to, diagnosis_line, footer_line, highlight_clipped, list_some, rollup_line,
    severity_label, source_title,
};
use crate::report::diagnosis::{Diagnosis, Report, SourceReport};

/// Most packages listed in text and Markdown (JSON has them all).
pub(super) const PACKAGES_SHOWN: usize = 10;

/// Most evidence lines shown per diagnosis in Markdown and verbose text.
pub(super) const EVIDENCE_SHOWN: usize = 5;

/// Most evidence lines on the first screen of text.
const EVIDENCE_BRIEF: usize = 3;

/// Longest evidence line shown in text and Markdown.
pub(super) const EVIDENCE_WIDTH: usize = 240;

/// How text output is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Every evidence line, package, likely cause and reference, lines not cut to width.
    pub verbose: bool,
    /// Where prose wraps (with a hanging indent) and evidence lines are cut.
    pub width: usize,
}

impl Default for TextOptions {
    fn default() -> TextOptions {
        TextOptions {
            verbose: false,
            width: TEXT_WIDTH,
        }
    }
}

/// The widest text output, even on a wider terminal: prose is read more easily narrow.
pub const TEXT_WIDTH: usize = 100;

impl TextOptions {
    /// The width to use for a terminal (or `COLUMNS`) this wide, if known.
    pub fn width_for(columns: Option<usize>) -> usize {
        columns.map_or(TEXT_WIDTH, |c| c.clamp(40, TEXT_WIDTH))
    }
}

pub(super) fn text(report: &Report, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let headers = report.sources.len() > 1;
    for source in &report.sources {
        if headers {
            writeln!(out, "{}", source_title(source).bold())?;
        }
        for diagnosis in &source.diagnoses {
            text_diagnosis(diagnosis, options, out)?;
        }
        if source.diagnoses.is_empty() {
            text_nothing_found(source, options, out)?;
        }
        // The read error is said once, by the line above.
        let notes = source
            .notes
            .iter()
            .filter(|n| source.error.is_none() || !n.starts_with("read stopped early"));
        for note in notes {
            writeln!(out, "{}: {}: {note}", "note".cyan().bold(), source.path)?;
        }
        if headers {
            writeln!(out)?;
        }
    }
    text_footer(report, out)
}

/// `text` split into lines of at most `width` columns at spaces: the first starts with
/// `first`, the others with `hang` (as wide), like a compiler's notes.
pub(super) fn wrap(text: &str, first: &str, hang: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        let used = line.chars().count();
        if !empty && used + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, hang.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

pub(super) fn write_wrapped(
    out: &mut dyn Write,
    text: &str,
    first: &str,
    hang: &str,
    width: usize,
) -> io::Result<()> {
    for line in wrap(text, first, hang, width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The versions in a line of prose, as Composer writes them.
pub(super) fn composer_versions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, token) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = token.trim_end_matches([',', ';', ')', '.', ':']);
        let starts_numeric = core.bytes().next().is_some_and(|b| b.is_ascii_digit());
        if starts_numeric && core.contains('.') {
            out.push_str(&crate::rule::template::composer_version(core));
            out.push_str(&token[core.len()..]);
        } else {
            out.push_str(token);
        }
    }
    out
}

pub(super) fn text_diagnosis(
    d: &Diagnosis,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = options.width;
    writeln!(
        out,
        "{}{}: {}",
        severity_label(d.severity),
        format!("[{}]", d.category).bold(),
        d.title.bold()
    )?;
    if let Some(first) = d.evidence.first() {
        writeln!(
            out,
            "  {} {}:{}  (rule {})",
            "-->".blue(),
            first.path,
            first.line,
            d.rule
        )?;
    }
    let summary = composer_versions(&d.summary);
    write_wrapped(out, &summary, "  why: ", "       ", width)?;
    if !d.remediation.is_empty() {
        writeln!(out, "  {}", "fix:".bold())?;
        let number_width = d.remediation.len().to_string().len();
        for (i, step) in d.remediation.iter().enumerate() {
            let first = format!("    {:>number_width$}. ", i + 1);
            let hang = " ".repeat(first.chars().count());
            write_wrapped(out, step, &first, &hang, width)?;
        }
    }
    text_evidence(d, &summary, options, out)?;
    if options.verbose {
        text_packages(d, out)?;
        text_list(out, "likely causes", &d.causes, width)?;
        text_list(out, "see", &d.references, width)?;
    } else {
        let mut more = Vec::new();
        if !d.packages.is_empty() {
            more.push(crate::rule::template::count(
                d.packages.len() as u64,
                "package",
                "packages",
            ));
        }
        if !d.causes.is_empty() {
            more.push(crate::rule::template::count(
                d.causes.len() as u64,
                "likely cause",
                "likely causes",
            ));
        }
        if !d.references.is_empty() {
            more.push(crate::rule::template::count(
                d.references.len() as u64,
                "reference",
                "references",
            ));
        }
        if !more.is_empty() {
            writeln!(
                out,
                "  {}",
                format!("more: {} (--verbose)", more.join(", ")).dimmed()
            )?;
        }
    }
    writeln!(out)
}

/// The evidence lines, fewer on the first screen; a line the summary already quotes
/// whole is not repeated.
pub(super) fn text_evidence(
    d: &Diagnosis,
    summary: &str,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let cap = if options.verbose {
        EVIDENCE_SHOWN
    } else {
        EVIDENCE_BRIEF
    };
    let shown: Vec<_> = d.evidence.iter().take(cap).collect();
    let quoted = |text: &str| {
        let text = text.trim();
        !options.verbose && text.len() >= 20 && summary.contains(text)
    };
    let lines: Vec<_> = shown.iter().filter(|e| !quoted(&e.text)).collect();
    let more = d.count.saturating_sub(shown.len() as u64);
    if lines.is_empty() && more == 0 {
        return Ok(());
    }
    writeln!(out, "  {}", "evidence:".bold())?;
    let number_width = d
        .evidence
        .iter()
        .map(|e| e.line.to_string().len())
        .max()
        .unwrap_or(1);
    let text_width = if options.verbose {
        EVIDENCE_WIDTH
    } else {
        options.width.saturating_sub(number_width + 7).max(20)
    };
    for e in lines {
        let number = format!("{:>number_width$} |", e.line);
        writeln!(
            out,
            "    {} {}",
            number.blue(),
            highlight_clipped(&e.text, e.matched, text_width)
        )?;
    }
    if more > 0 {
        let gutter = format!("{:number_width$} |", "");
        let hint = if options.verbose || d.evidence.len() <= shown.len() {
            String::new()
        } else {
            " (--verbose shows more)".to_owned()
        };
        writeln!(
            out,
            "    {} ... and {}{hint}",
            gutter.blue(),
            crate::rule::template::count(more, "more line", "more lines")
        )?;
    }
    Ok(())
}

pub(super) fn text_packages(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
    if d.packages.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {} ({}):", "packages".bold(), d.packages.len())?;
    for p in d.packages.iter().take(PACKAGES_SHOWN) {
        let mut line = p.name.clone();
        if let Some(version) = &p.version {
            line.push(' ');
            line.push_str(&crate::rule::template::composer_version(version));
        }
        if let Some(status) = &p.status {
            line.push_str(&format!("  [{status}]"));
        }
        writeln!(out, "    {line}")?;
    }
    if d.packages.len() > PACKAGES_SHOWN {
        writeln!(
            out,
            "    ... and {} more (all of them with --format json)",
            d.packages.len() - PACKAGES_SHOWN
        )?;
    }
    Ok(())
}

pub(super) fn text_list(
    out: &mut dyn Write,
    title: &str,
    items: &[String],
    width: usize,
) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {}:", title.bold())?;
    for item in items {
        write_wrapped(out, item, "    - ", "      ", width)?;
    }
    Ok(())
}

/// A source without a diagnosis: clean, empty, or unreadable; never "ok" when nothing
/// was read.
pub(super) fn text_nothing_found(
    source: &SourceReport,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match &source.error {
        Some(reason) if source.run_missing => {
            return writeln!(out, "{}: {}: {reason}", "error".red().bold(), source.path);
        }
        Some(reason) if source.lines == 0 => {
            return writeln!(
                out,
                "{}: nothing could be read from {}: {reason}",
                "error".red().bold(),
                source.path
            );
        }
        Some(reason) => writeln!(
            out,
            "{}: {}: {reason}; no known failure in what was read",
            "warning".yellow().bold(),
            source.path,
        )?,
        None if source.lines == 0 => {
            let hint = if source.path == "<stdin>" {
                ": did the command before `| magediag` print anything?"
            } else {
                ""
            };
            return writeln!(
                out,
                "{}: no input: {} is empty{hint}",
                "error".red().bold(),
                source.path
            );
        }
        None => writeln!(
            out,
            "{}: no known failure found in {} ({} read)",
            "ok".green().bold(),
            source.path,
            crate::rule::template::count(source.lines, "line", "lines")
        )?,
    }
    if source.hints.is_empty() {
        return Ok(());
    }
    writeln!(out, "  lines that look most like an error:")?;
    let width = source
        .hints
        .iter()
        .map(|h| h.line.to_string().len())
        .max()
        .unwrap_or(1);
    let text_width = if options.verbose {
        EVIDENCE_WIDTH
    } else {
        options.width.saturating_sub(width + 7).max(20)
    };
    for hint in &source.hints {
        let number = format!("{:>width$} |", hint.line);
        writeln!(
            out,
            "    {} {}",
            number.blue(),
            clip_to(&hint.text, text_width)
        )?;
    }
    Ok(())
}

pub(super) fn text_footer(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", footer_line(report).dimmed())
}

pub(super) fn scan_text(
    report: &Report,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut rules_fired: Vec<&str> = Vec::new();
    for source in &report.sources {
        if options.verbose {
            for d in &source.diagnoses {
                writeln!(out, "{}", source_title(source).bold())?;
                text_diagnosis(d, options, out)?;
                if !rules_fired.contains(&d.rule.as_str()) {
                    rules_fired.push(&d.rule);
                }
            }
        }
        for d in source.diagnoses.iter().filter(|_| !options.verbose) {
            diagnosis_line(&source.path, d, "", out)?;
            writeln!(out, "    {}", d.summary)?;
            if !rules_fired.contains(&d.rule.as_str()) {
                rules_fired.push(&d.rule);
            }
        }
        for note in &source.notes {
            writeln!(out, "{}: {}: {note}", "note".cyan().bold(), source.path)?;
        }
    }
    let Some(rollup) = &report.summary.scan else {
        return text_footer(report, out);
    };
    let read = rollup.read;
    writeln!(out)?;
    let logs = crate::rule::template::count(read as u64, "log", "logs");
    if read == 0 {
        writeln!(
            out,
            "{} no log was read: the folder holds no file to read, or none could be read",
            "error:".red().bold()
        )?;
    } else if rollup.causes.is_empty() {
        writeln!(
            out,
            "{} no known failure found in {logs}",
            "ok:".green().bold()
        )?;
    } else {
        writeln!(out, "{}", format!("Causes across {logs}:").bold())?;
    }
    let width = rollup
        .causes
        .iter()
        .map(|c| c.category.len())
        .max()
        .unwrap_or(0);
    for cause in &rollup.causes {
        writeln!(
            out,
            "  {:7} {:width$} in {} of {read} logs: {}",
            severity_label(cause.severity),
            cause.category,
            cause.logs,
            list_some(&cause.paths, 3)
        )?;
    }
    if !rules_fired.is_empty() {
        writeln!(
            out,
            "Causes and fixes: `magediag explain RULE` ({}), or rerun on one log.",
            rules_fired.join(", ")
        )?;
    }
    writeln!(out, "{}", rollup_line(report).dimmed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_with_a_hanging_indent() {
        let lines = wrap("one two three four five six", "  - ", "    ", 14);
        assert_eq!(lines, ["  - one two", "    three four", "    five six"]);
        // A word longer than the line stays whole, on a line of its own.
        let lines = wrap("a https://example.com/very/long b", "- ", "  ", 10);
        assert_eq!(lines, ["- a", "  https://example.com/very/long", "  b"]);
    }
}
