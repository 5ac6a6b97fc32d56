//! Renderers: the report as coloured text (like a compiler diagnostic), JSON or
//! Markdown, written to any `Write`. Colour is decided once, by the caller.
//! Every string reaching here was masked when the diagnosis was built.

mod concise;
mod github;
mod markdown;
mod ndjson;
mod text;

pub use github::{escape_data, escape_property};
pub use ndjson::{NdjsonRecord, RunCount, ndjson_source, ndjson_summary};
pub use text::TextOptions;

use concise::concise;
use github::github;
use markdown::{markdown, markdown_rollup};
use ndjson::ndjson;
use text::{scan_text, text};

use std::io::{self, Write};

use colored::Colorize;

use crate::report::diagnosis::{Diagnosis, Report, RunInfo, Severity, SkippedRun, SourceReport};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, coloured on a terminal: each diagnosis with its fix.
    Text,
    /// One line per diagnosis: `path:line: severity[category]: title (rule)`.
    Concise,
    /// The versioned JSON report (`magediag/1`).
    Json,
    /// Markdown for a support ticket.
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// One JSON record per diagnosis per line, then a summary record.
    Ndjson,
}

/// Writes a report in the given format.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    let printable;
    let report = if format == Format::Json || format == Format::Ndjson {
        report
    } else {
        printable = crate::report::escape::printable_report(report);
        &printable
    };
    match format {
        Format::Text => text(report, &TextOptions::default(), out),
        Format::Concise => concise(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Markdown => markdown(report, out),
        Format::Github => github(report, out),
        Format::Ndjson => ndjson(report, out),
    }
}

/// Writes a report in the given format, text laid out as `options` say.
pub fn render_with(
    report: &Report,
    format: Format,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text(
            &crate::report::escape::printable_report(report),
            options,
            out,
        ),
        _ => render(report, format, out),
    }
}

pub(super) fn source_title(source: &SourceReport) -> String {
    match &source.run {
        Some(run) => format!(
            "==> {} (run {} of {}, started {}) <==",
            source.path, run.index, run.runs, run.started
        ),
        None => format!("==> {} <==", source.path),
    }
}

pub(super) fn severity_label(severity: Severity) -> colored::ColoredString {
    match severity {
        Severity::Error => "error".red().bold(),
        Severity::Warning => "warning".yellow().bold(),
        Severity::Info => "info".blue().bold(),
    }
}

/// How many deployment runs of these sources were not diagnosed, and whether they had
/// errors: `2 earlier runs (none had errors; --all-runs shows each)`, `1 earlier run (it
/// had 2 errors; ...)`, `3 earlier runs (run 1 had 2 errors, run 2 had 1 error; ...)`.
/// `None` when no run was left out.
pub fn skipped_runs(sources: &[&SourceReport]) -> Option<String> {
    use crate::rule::template::count;
    let picked: Vec<(&str, &RunInfo, &[SkippedRun])> = sources
        .iter()
        .filter_map(|s| {
            let run = s.run.as_ref()?;
            Some((s.path.as_str(), run, run.skipped_with_errors.as_deref()?))
        })
        .collect();
    let earlier: usize = picked
        .iter()
        .map(|(_, r, _)| r.index.saturating_sub(1))
        .sum();
    let later: usize = picked
        .iter()
        .map(|(_, r, _)| r.runs.saturating_sub(r.index))
        .sum();
    let runs = match (earlier, later) {
        (0, 0) => return None,
        (earlier, 0) => count(earlier as u64, "earlier run", "earlier runs"),
        (0, later) => count(later as u64, "later run", "later runs"),
        (earlier, later) => format!(
            "{earlier} earlier and {}",
            count(later as u64, "later run", "later runs")
        ),
    };
    let named = picked.len() > 1;
    let failed: Vec<String> = picked
        .iter()
        .flat_map(|&(path, _, failed)| failed.iter().map(move |r| (path, r)))
        .map(|(path, r)| {
            let errors = count(r.errors as u64, "error", "errors");
            match (earlier + later, named) {
                (1, _) => format!("it had {errors}"),
                (_, true) => format!("run {} of {path} had {errors}", r.index),
                (_, false) => format!("run {} had {errors}", r.index),
            }
        })
        .collect();
    let errors = match failed.len() {
        0 if earlier + later == 1 => "it had no errors".to_owned(),
        0 => "none had errors".to_owned(),
        n if n > 3 => format!("{}, and {} more had errors", failed[..3].join(", "), n - 3),
        _ => failed.join(", "),
    };
    let shows = if earlier + later == 1 { "it" } else { "each" };
    Some(format!("{runs} ({errors}; --all-runs shows {shows})"))
}

/// Which deployment run of the sources was diagnosed, and what was skipped:
/// `diagnosed the latest deployment run (started T), skipped 2 earlier runs (...)`.
fn runs_part(report: &Report) -> Option<String> {
    let sources: Vec<&SourceReport> = report.sources.iter().collect();
    let skipped = skipped_runs(&sources)?;
    let picked: Vec<&RunInfo> = sources
        .iter()
        .filter_map(|s| s.run.as_ref())
        .filter(|r| r.skipped_with_errors.is_some())
        .collect();
    let which = match picked.as_slice() {
        [run] if run.index == run.runs => {
            format!("the latest deployment run (started {})", run.started)
        }
        [run] => format!(
            "deployment run {} of {} (started {})",
            run.index, run.runs, run.started
        ),
        _ if picked.iter().all(|r| r.index == r.runs) => {
            "the latest deployment run of each log".to_owned()
        }
        _ => "one deployment run of each log".to_owned(),
    };
    Some(format!("diagnosed {which}, skipped {skipped}"))
}

/// `E errors, W warnings in S sources`, how many inputs gave nothing, and the runs skipped.
pub(super) fn footer_line(report: &Report) -> String {
    use crate::rule::template::count;
    let s = &report.summary;
    let mut line = format!(
        "{}, {} in {}",
        count(s.errors as u64, "error", "errors"),
        count(s.warnings as u64, "warning", "warnings"),
        count(s.sources as u64, "source", "sources")
    );
    let unread = report.sources.iter().filter(|r| r.nothing_read()).count();
    if unread > 0 {
        line.push_str(&format!(
            "; nothing read from {}",
            count(unread as u64, "input", "inputs")
        ));
    }
    if let Some(runs) = runs_part(report) {
        line.push_str("; ");
        line.push_str(&runs);
    }
    line
}

/// A line cut to `width` columns. The longest word (a URL, a path) gives up its middle
/// first, keeping its end: an archive URL ends with the package and version, a line with
/// what happened (`HTTP/1.1 403 Forbidden`). Else the line's middle goes.
pub(super) fn clip_to(text: &str, width: usize) -> String {
    clipped_with(text, None, width, &|hit| hit.to_owned())
}

/// [`clip_to`], with the text of byte span `matched` highlighted (bold red, as ripgrep
/// shows a match) where it is kept. Colour is the caller's decision: with it off, the
/// text is plain.
pub(super) fn highlight_clipped(
    text: &str,
    matched: Option<(usize, usize)>,
    width: usize,
) -> String {
    clipped_with(text, matched, width, &|hit| hit.red().bold().to_string())
}

/// [`highlight_clipped`], the kept parts of the match written by `paint`.
fn clipped_with(
    text: &str,
    matched: Option<(usize, usize)>,
    width: usize,
    paint: &dyn Fn(&str) -> String,
) -> String {
    let chars: Vec<char> = text.chars().collect();
    let span = matched.and_then(|(start, end)| {
        let to_char = |byte: usize| text.get(..byte).map(|before| before.chars().count());
        Some((to_char(start)?, to_char(end)?))
    });
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in kept_parts(&chars, width).into_iter().enumerate() {
        if i > 0 {
            out.push('…');
        }
        let Some((from, to)) = span.filter(|&(from, to)| from < part.end && to > part.start) else {
            out.extend(&chars[part]);
            continue;
        };
        let (from, to) = (from.max(part.start), to.min(part.end));
        out.extend(&chars[part.start..from]);
        let hit: String = chars[from..to].iter().collect();
        out.push_str(&paint(&hit));
        out.extend(&chars[to..part.end]);
    }
    out
}

/// The parts of a line of `chars` kept when it is cut to `width` columns (see
/// [`clip_to`]), as ranges of chars; a cut (`…`) goes between two.
fn kept_parts(chars: &[char], width: usize) -> Vec<std::ops::Range<usize>> {
    if chars.len() <= width {
        return std::iter::once(0..chars.len()).collect();
    }
    let excess = chars.len() - width + 1;
    let mut longest = (0, 0);
    let mut start = 0;
    for (i, c) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        if c.is_whitespace() {
            if i - start > longest.1 - longest.0 {
                longest = (start, i);
            }
            start = i + 1;
        }
    }
    let (from, to) = longest;
    let left = (to - from).saturating_sub(excess);
    if left >= 16 {
        let head = (left / 4).min(12);
        return vec![0..from + head, to - (left - head)..chars.len()];
    }
    let keep = width.saturating_sub(1);
    let head = keep * 2 / 5;
    let tail = keep - head;
    vec![0..head, chars.len() - tail..chars.len()]
}

/// Writes `path:line: severity[category]SEP title (rule)`, one diagnosis on one line.
pub(super) fn diagnosis_line(
    path: &str,
    d: &Diagnosis,
    sep: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let line = d
        .evidence
        .first()
        .map_or(String::new(), |e| format!(":{}", e.line));
    writeln!(
        out,
        "{path}{line}: {}{}{sep} {} {}",
        severity_label(d.severity),
        format!("[{}]", d.category).bold(),
        d.title,
        format!("({})", d.rule).dimmed()
    )
}

/// Writes a folder scan: one line per diagnosis (like a linter's concise output), the
/// roll-up, and how to read more; JSON and Markdown carry the full report.
pub fn render_scan(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    render_scan_with(report, format, &TextOptions::default(), out)
}

/// [`render_scan`], text laid out as `options` say (`--verbose`: each diagnosis whole).
pub fn render_scan_with(
    report: &Report,
    format: Format,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if matches!(
        format,
        Format::Json | Format::Github | Format::Ndjson | Format::Concise
    ) {
        return render(report, format, out);
    }
    let report = &crate::report::escape::printable_report(report);
    match format {
        Format::Json | Format::Github | Format::Ndjson | Format::Concise => {
            render(report, format, out)
        }
        Format::Markdown => {
            markdown(report, out)?;
            markdown_rollup(report, out)
        }
        Format::Text => scan_text(report, options, out),
    }
}

pub(super) fn list_some(items: &[String], shown: usize) -> String {
    let mut listed: Vec<&str> = items.iter().take(shown).map(String::as_str).collect();
    let more = items.len().saturating_sub(shown);
    let tail = format!("and {more} more");
    if more > 0 {
        listed.push(&tail);
    }
    listed.join(", ")
}

/// `Read N logs (G gzip), skipped S (binary B, ...), failed F; E error(s), W warning(s).`
pub(super) fn rollup_line(report: &Report) -> String {
    let s = &report.summary;
    let Some(rollup) = &s.scan else {
        return String::new();
    };
    let skipped: usize = rollup.skipped.values().sum();
    let reasons: Vec<String> = rollup
        .skipped
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let skipped = if skipped == 0 {
        "skipped 0".to_owned()
    } else {
        format!("skipped {skipped} ({})", reasons.join(", "))
    };
    use crate::rule::template::count;
    format!(
        "Read {} ({} gzip), {skipped}, failed {}; {}, {}.",
        count(rollup.read as u64, "log", "logs"),
        rollup.compressed,
        rollup.failed.len(),
        count(s.errors as u64, "error", "errors"),
        count(s.warnings as u64, "warning", "warnings")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_loses_the_middle_of_its_longest_word() {
        let line = "The 'https://repo.magento.com/archives/magento/module-catalog/magento-module-catalog-103.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden";
        let cut = clip_to(line, 100);
        assert_eq!(cut.chars().count(), 100, "{cut}");
        assert!(cut.starts_with("The 'https://"), "{cut}");
        assert!(cut.contains("catalog-103.0.5.0-patch2.zip'"), "{cut}");
        assert!(cut.ends_with("HTTP/1.1 403 Forbidden"), "{cut}");
        assert_eq!(clip_to("short", 100), "short");
        let words = "word ".repeat(40);
        assert_eq!(clip_to(&words, 50).chars().count(), 50);
    }

    #[test]
    fn the_kept_parts_of_the_match_are_painted() {
        let line =
            "PHP Fatal error:  Allowed memory size of 2147483648 bytes exhausted in /app/x.php";
        let start = line.find("Allowed").unwrap();
        let end = line.find(" in ").unwrap();
        let paint = |hit: &str| format!("<{hit}>");
        assert_eq!(
            clipped_with(line, Some((start, end)), 200, &paint),
            format!("PHP Fatal error:  <{}> in /app/x.php", &line[start..end])
        );
        // Cut to width, the part of the match that is kept is painted, and the text is
        // what `clip_to` keeps.
        let cut = clipped_with(line, Some((start, end)), 40, &paint);
        assert!(cut.contains("< exhausted>") && cut.contains('…'), "{cut}");
        let url = "The 'https://repo.magento.com/archives/magento/module-catalog/magento-module-catalog-103.0.5.0-patch2.zip' URL could not be accessed";
        let across = clipped_with(url, Some((4, url.len())), 60, &paint);
        assert_eq!(
            across.matches('<').count(),
            2,
            "each side of the cut: {across}"
        );
        assert_eq!(cut.replace(['<', '>'], ""), clip_to(line, 40));
        // A match in the cut part, or none, paints nothing.
        let tail = line.find("/app").unwrap();
        let none = clipped_with(line, Some((tail, tail + 4)), 200, &paint);
        assert_eq!(none, line.replace("/app", "</app>"));
        assert_eq!(clipped_with(line, None, 40, &paint), clip_to(line, 40));
        assert_eq!(clipped_with(line, Some((3, 999)), 200, &paint), line);
    }
}
