//! Renderers: the report as coloured text (like a compiler diagnostic), JSON or
//! Markdown, written to any `Write`. Colour is decided once, by the caller.
//! Every string reaching here was masked when the diagnosis was built.

use std::io::{self, Write};

use colored::Colorize;

use crate::diagnosis::{Diagnosis, Report, Severity, SourceReport};
use crate::escape::{markdown_code, markdown_inline, table_cell};

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
        printable = crate::escape::printable_report(report);
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

/// How many annotations `--format github` emits: GitHub shows only the first few of a
/// step, so the top ones by rank go out and the rest are counted.
pub const GITHUB_ANNOTATIONS: usize = 10;

fn github(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut all: Vec<(&SourceReport, &Diagnosis)> = report
        .sources
        .iter()
        .flat_map(|s| s.diagnoses.iter().map(move |d| (s, d)))
        .collect();
    // Stable: within a severity, sources keep their order and diagnoses their rank.
    all.sort_by_key(|(_, d)| std::cmp::Reverse(d.severity));
    for (source, d) in all.iter().take(GITHUB_ANNOTATIONS) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = Vec::new();
        if !source.path.starts_with('<') {
            properties.push(format!("file={}", escape_property(&source.path)));
            if let Some(e) = d.evidence.first() {
                properties.push(format!("line={}", e.line));
            }
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("{} [{}]", d.title, d.category))
        ));
        let mut message = d.summary.clone();
        for (i, step) in d.remediation.iter().enumerate() {
            message.push_str(&format!("\n{}. {step}", i + 1));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&message)
        )?;
    }
    if all.len() > GITHUB_ANNOTATIONS {
        let more = all.len() - GITHUB_ANNOTATIONS;
        writeln!(
            out,
            "::notice::{}",
            escape_data(&format!(
                "{more} more diagnosis(es): see the job summary or run magediag locally"
            ))
        )?;
    }
    Ok(())
}

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        for d in &source.diagnoses {
            let mut record = serde_json::json!({
                "schema": crate::diagnosis::SCHEMA,
                "type": "diagnosis",
                "path": source.path,
            });
            if let Some(run) = &source.run {
                record["run"] = serde_json::to_value(run)?;
            }
            if let (Some(map), serde_json::Value::Object(fields)) =
                (record.as_object_mut(), serde_json::to_value(d)?)
            {
                map.extend(fields);
            }
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)?;
        }
    }
    let mut summary = serde_json::json!({ "schema": crate::diagnosis::SCHEMA, "type": "summary" });
    if let (Some(map), serde_json::Value::Object(fields)) = (
        summary.as_object_mut(),
        serde_json::to_value(&report.summary)?,
    ) {
        map.extend(fields);
    }
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)
}

/// Most packages listed in text and Markdown (JSON has them all).
const PACKAGES_SHOWN: usize = 10;
/// Most evidence lines shown per diagnosis in Markdown and verbose text.
const EVIDENCE_SHOWN: usize = 5;
/// Most evidence lines on the first screen of text.
const EVIDENCE_BRIEF: usize = 3;
/// Longest evidence line shown in text and Markdown.
const EVIDENCE_WIDTH: usize = 240;

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

/// Writes a report in the given format, text laid out as `options` say.
pub fn render_with(
    report: &Report,
    format: Format,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text(&crate::escape::printable_report(report), options, out),
        _ => render(report, format, out),
    }
}

fn text(report: &Report, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
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

fn source_title(source: &SourceReport) -> String {
    match &source.run {
        Some(run) => format!(
            "==> {} (run {} of {}, started {}) <==",
            source.path, run.index, run.runs, run.started
        ),
        None => format!("==> {} <==", source.path),
    }
}

fn severity_label(severity: Severity) -> colored::ColoredString {
    match severity {
        Severity::Error => "error".red().bold(),
        Severity::Warning => "warning".yellow().bold(),
        Severity::Info => "info".blue().bold(),
    }
}

/// `text` split into lines of at most `width` columns at spaces: the first starts with
/// `first`, the others with `hang` (as wide), like a compiler's notes.
fn wrap(text: &str, first: &str, hang: &str, width: usize) -> Vec<String> {
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

fn write_wrapped(
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
fn composer_versions(text: &str) -> String {
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

fn text_diagnosis(d: &Diagnosis, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
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
fn text_evidence(
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
            clip_to(&e.text, text_width)
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

fn text_packages(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
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

fn text_list(out: &mut dyn Write, title: &str, items: &[String], width: usize) -> io::Result<()> {
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
fn text_nothing_found(
    source: &SourceReport,
    options: &TextOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match &source.error {
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
            "{}: {}: reading stopped after {}: {reason}; no known failure in what was read",
            "warning".yellow().bold(),
            source.path,
            crate::rule::template::count(source.lines, "line", "lines")
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

/// `E errors, W warnings in S sources`, how many inputs gave nothing, and the runs skipped.
fn footer_line(report: &Report) -> String {
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
    line
}

fn text_footer(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut line = footer_line(report);
    let skipped: usize = report
        .sources
        .iter()
        .filter_map(|r| r.run.as_ref())
        .map(|r| r.skipped)
        .sum();
    if let Some(run) = report
        .sources
        .iter()
        .find_map(|r| r.run.as_ref())
        .filter(|_| skipped > 0)
    {
        line.push_str(&format!(
            "; diagnosed the latest deployment run (started {}), skipped {}: --all-runs shows each",
            run.started,
            crate::rule::template::count(skipped as u64, "earlier run", "earlier runs")
        ));
    }
    writeln!(out, "{}", line.dimmed())
}

/// One line per diagnosis, `path:line: severity[category]: title (rule)`, like a
/// linter's concise output; one line for each input without a diagnosis; the totals.
fn concise(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        for d in &source.diagnoses {
            diagnosis_line(&source.path, d, ":", out)?;
        }
        if !source.diagnoses.is_empty() {
            continue;
        }
        match &source.error {
            Some(reason) if source.lines == 0 => writeln!(
                out,
                "{}: {}: nothing could be read: {reason}",
                source.path,
                "error".red().bold()
            )?,
            Some(reason) => writeln!(
                out,
                "{}: {}: reading stopped: {reason}",
                source.path,
                "warning".yellow().bold()
            )?,
            None if source.lines == 0 => {
                writeln!(out, "{}: {}: no input", source.path, "error".red().bold())?
            }
            None => {}
        }
    }
    writeln!(out, "{}", footer_line(report).dimmed())
}

/// A line cut to `width` columns. The longest word (a URL, a path) gives up its middle
/// first, keeping its end: an archive URL ends with the package and version, a line with
/// what happened (`HTTP/1.1 403 Forbidden`). Else the line's middle goes.
fn clip_to(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_owned();
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
        let mut cut: String = chars[..from + head].iter().collect();
        cut.push('…');
        cut.extend(&chars[to - (left - head)..]);
        return cut;
    }
    let keep = width.saturating_sub(1);
    let head = keep * 2 / 5;
    let tail = keep - head;
    let mut cut: String = chars[..head].iter().collect();
    cut.push('…');
    cut.extend(&chars[chars.len() - tail..]);
    cut
}

fn clip(text: &str) -> String {
    if text.chars().count() <= EVIDENCE_WIDTH {
        return text.to_owned();
    }
    let cut: String = text.chars().take(EVIDENCE_WIDTH).collect();
    format!("{cut}…")
}

fn markdown(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "## magediag: {} error(s), {} warning(s)\n",
        s.errors, s.warnings
    )?;
    for source in &report.sources {
        if report.sources.len() > 1 || source.run.is_some() {
            let path = markdown_code(&source.path);
            writeln!(
                out,
                "### `{path}`{}\n",
                markdown_inline(&markdown_run(source))
            )?;
        }
        for d in &source.diagnoses {
            markdown_diagnosis(d, out)?;
        }
        if source.diagnoses.is_empty() && source.nothing_read() {
            match &source.error {
                Some(reason) => writeln!(
                    out,
                    "**Nothing could be read** from `{}`: {reason}\n",
                    source.path
                )?,
                None => writeln!(out, "**No input**: `{}` is empty.\n", source.path)?,
            }
        } else if source.diagnoses.is_empty() {
            writeln!(
                out,
                "No known failure found in `{}` ({} read).\n",
                markdown_code(&source.path),
                crate::rule::template::count(source.lines, "line", "lines")
            )?;
            if !source.hints.is_empty() {
                writeln!(out, "Lines that look most like an error:\n\n```text")?;
                for h in &source.hints {
                    writeln!(out, "{}: {}", h.line, h.text)?;
                }
                writeln!(out, "```\n")?;
            }
        }
        for note in &source.notes {
            writeln!(out, "> note: {}\n", markdown_inline(note))?;
        }
    }
    Ok(())
}

fn markdown_run(source: &SourceReport) -> String {
    match &source.run {
        Some(run) if run.skipped > 0 => format!(
            " (latest deployment run, started {}; {} earlier run(s) skipped)",
            run.started, run.skipped
        ),
        Some(run) => format!(
            " (run {} of {}, started {})",
            run.index, run.runs, run.started
        ),
        None => String::new(),
    }
}

fn markdown_diagnosis(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "#### {}: {} (`{}`, rule `{}`)\n",
        d.severity.as_str().to_uppercase(),
        d.title,
        d.category,
        d.rule
    )?;
    writeln!(out, "{}\n", markdown_inline(&d.summary))?;
    if !d.packages.is_empty() {
        writeln!(out, "| package | version | status |\n|---|---|---|")?;
        for p in d.packages.iter().take(PACKAGES_SHOWN) {
            writeln!(
                out,
                "| `{}` | {} | {} |",
                markdown_code(&p.name).replace('|', "\\|"),
                table_cell(p.version.as_deref().unwrap_or("")),
                table_cell(p.status.as_deref().unwrap_or(""))
            )?;
        }
        if d.packages.len() > PACKAGES_SHOWN {
            writeln!(
                out,
                "| ... and {} more | | |",
                d.packages.len() - PACKAGES_SHOWN
            )?;
        }
        writeln!(out)?;
    }
    if let Some(first) = d.evidence.first() {
        writeln!(
            out,
            "Evidence (`{}`):\n\n```text",
            markdown_code(&first.path)
        )?;
        for e in d.evidence.iter().take(EVIDENCE_SHOWN) {
            writeln!(out, "{}: {}", e.line, clip(&e.text).replace("```", "'''"))?;
        }
        let more = d.count.saturating_sub(EVIDENCE_SHOWN as u64);
        if more > 0 {
            writeln!(out, "... and {more} more line(s)")?;
        }
        writeln!(out, "```\n")?;
    }
    markdown_list(out, "Likely causes", &d.causes, false)?;
    markdown_list(out, "Fix", &d.remediation, true)?;
    markdown_list(out, "References", &d.references, false)
}

fn markdown_list(
    out: &mut dyn Write,
    title: &str,
    items: &[String],
    numbered: bool,
) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "**{title}**\n")?;
    for (i, item) in items.iter().enumerate() {
        let item = markdown_inline(item);
        if numbered {
            writeln!(out, "{}. {item}", i + 1)?;
        } else {
            writeln!(out, "- {item}")?;
        }
    }
    writeln!(out)
}

/// Writes `path:line: severity[category]SEP title (rule)`, one diagnosis on one line.
fn diagnosis_line(path: &str, d: &Diagnosis, sep: &str, out: &mut dyn Write) -> io::Result<()> {
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
    let report = &crate::escape::printable_report(report);
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

fn scan_text(report: &Report, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
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

fn list_some(items: &[String], shown: usize) -> String {
    let mut listed: Vec<&str> = items.iter().take(shown).map(String::as_str).collect();
    let more = items.len().saturating_sub(shown);
    let tail = format!("and {more} more");
    if more > 0 {
        listed.push(&tail);
    }
    listed.join(", ")
}

/// `Read N logs (G gzip), skipped S (binary B, ...), failed F; E error(s), W warning(s).`
fn rollup_line(report: &Report) -> String {
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

fn markdown_rollup(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(rollup) = &report.summary.scan else {
        return Ok(());
    };
    writeln!(out, "### Across {} log(s)\n", rollup.read)?;
    if !rollup.causes.is_empty() {
        writeln!(
            out,
            "| category | severity | logs | which |\n|---|---|---|---|"
        )?;
        for c in &rollup.causes {
            writeln!(
                out,
                "| `{}` | {} | {} of {} | {} |",
                c.category,
                c.severity,
                c.logs,
                rollup.read,
                table_cell(&list_some(&c.paths, 5))
            )?;
        }
        writeln!(out)?;
    }
    for f in &rollup.failed {
        let path = markdown_code(&f.path);
        writeln!(
            out,
            "- could not read `{path}`: {}",
            markdown_inline(&f.reason)
        )?;
    }
    writeln!(out, "{}\n", rollup_line(report))
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
    fn prose_wraps_with_a_hanging_indent() {
        let lines = wrap("one two three four five six", "  - ", "    ", 14);
        assert_eq!(lines, ["  - one two", "    three four", "    five six"]);
        // A word longer than the line stays whole, on a line of its own.
        let lines = wrap("a https://example.com/very/long b", "- ", "  ", 10);
        assert_eq!(lines, ["- a", "  https://example.com/very/long", "  b"]);
    }
}
