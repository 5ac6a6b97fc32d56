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
    /// Human-readable, coloured on a terminal.
    Text,
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
        Format::Text => text(report, out),
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
/// Most evidence lines shown per diagnosis in text and Markdown.
const EVIDENCE_SHOWN: usize = 5;
/// Longest evidence line shown in text and Markdown.
const EVIDENCE_WIDTH: usize = 240;

fn text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let headers = report.sources.len() > 1;
    for source in &report.sources {
        if headers {
            writeln!(out, "{}", source_title(source).bold())?;
        }
        for diagnosis in &source.diagnoses {
            text_diagnosis(diagnosis, out)?;
        }
        if source.diagnoses.is_empty() {
            text_nothing_found(source, out)?;
        }
        for note in &source.notes {
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

fn text_diagnosis(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
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
    let width = d
        .evidence
        .iter()
        .map(|e| e.line.to_string().len())
        .max()
        .unwrap_or(1);
    let gutter = format!("{:width$} |", "");
    writeln!(out, "{}", gutter.blue())?;
    for e in d.evidence.iter().take(EVIDENCE_SHOWN) {
        let number = format!("{:>width$} |", e.line);
        writeln!(out, "{} {}", number.blue(), clip(&e.text))?;
    }
    let more = d.count.saturating_sub(EVIDENCE_SHOWN as u64);
    if more > 0 {
        writeln!(out, "{} ... and {more} more line(s)", gutter.blue())?;
    }
    writeln!(out, "{}", gutter.blue())?;
    writeln!(out, "{:width$} {} {}", "", "=".blue(), d.summary)?;
    text_packages(d, out)?;
    text_list(out, "likely causes", &d.causes, false)?;
    text_list(out, "fix", &d.remediation, true)?;
    text_list(out, "see", &d.references, false)?;
    writeln!(out)
}

fn text_packages(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
    if d.packages.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {} ({}):", "packages".bold(), d.packages.len())?;
    for p in d.packages.iter().take(PACKAGES_SHOWN) {
        let version = p.version.as_deref().unwrap_or("");
        let status = p
            .status
            .as_deref()
            .map(|s| format!("  [{s}]"))
            .unwrap_or_default();
        writeln!(out, "    {} {version}{status}", p.name)?;
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

fn text_list(out: &mut dyn Write, title: &str, items: &[String], numbered: bool) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {}:", title.bold())?;
    for (i, item) in items.iter().enumerate() {
        if numbered {
            writeln!(out, "    {}. {item}", i + 1)?;
        } else {
            writeln!(out, "    - {item}")?;
        }
    }
    Ok(())
}

fn text_nothing_found(source: &SourceReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}: no known failure found in {} ({} lines read)",
        "ok".green().bold(),
        source.path,
        source.lines
    )?;
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
    for hint in &source.hints {
        let number = format!("{:>width$} |", hint.line);
        writeln!(out, "    {} {}", number.blue(), clip(&hint.text))?;
    }
    Ok(())
}

fn text_footer(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let mut line = format!(
        "{} error(s), {} warning(s) in {} source(s)",
        s.errors, s.warnings, s.sources
    );
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
            "; diagnosed the latest deployment run (started {}), skipped {skipped} earlier run(s): --all-runs shows each",
            run.started
        ));
    }
    writeln!(out, "{}", line.dimmed())
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
        if source.diagnoses.is_empty() {
            writeln!(
                out,
                "No known failure found in `{}` ({} lines read).\n",
                markdown_code(&source.path),
                source.lines
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

/// Writes a folder scan: one line per diagnosis (like a linter's concise output), the
/// roll-up, and how to read more; JSON and Markdown carry the full report.
pub fn render_scan(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    if matches!(format, Format::Json | Format::Github | Format::Ndjson) {
        return render(report, format, out);
    }
    let report = &crate::escape::printable_report(report);
    match format {
        Format::Json | Format::Github | Format::Ndjson => render(report, format, out),
        Format::Markdown => {
            markdown(report, out)?;
            markdown_rollup(report, out)
        }
        Format::Text => scan_text(report, out),
    }
}

fn scan_text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut rules_fired: Vec<&str> = Vec::new();
    for source in &report.sources {
        for d in &source.diagnoses {
            let line = d
                .evidence
                .first()
                .map_or(String::new(), |e| format!(":{}", e.line));
            writeln!(
                out,
                "{}{line}: {}{} {} {}",
                source.path,
                severity_label(d.severity),
                format!("[{}]", d.category).bold(),
                d.title,
                format!("({})", d.rule).dimmed()
            )?;
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
    if rollup.causes.is_empty() {
        writeln!(
            out,
            "{} no known failure found in {read} log(s)",
            "ok:".green().bold()
        )?;
    } else {
        writeln!(out, "{}", format!("Causes across {read} log(s):").bold())?;
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
    format!(
        "Read {} log(s) ({} gzip), {skipped}, failed {}; {} error(s), {} warning(s).",
        rollup.read,
        rollup.compressed,
        rollup.failed.len(),
        s.errors,
        s.warnings
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
