//! Markdown for a support ticket or a job summary; log text stays data (escaped for
//! code spans, table cells and inline text).

use std::io::{self, Write};

use super::text::{EVIDENCE_SHOWN, EVIDENCE_WIDTH, PACKAGES_SHOWN};
use super::{list_some, rollup_line};
use crate::report::diagnosis::{Diagnosis, Report, SourceReport};
use crate::report::escape::{markdown_code, markdown_inline, table_cell};

pub(super) fn markdown(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "## magediag: {}, {}\n",
        crate::rule::template::count(s.errors as u64, "error", "errors"),
        crate::rule::template::count(s.warnings as u64, "warning", "warnings")
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
        if let (Some(reason), true) = (&source.error, source.run_missing) {
            writeln!(
                out,
                "**No such run** in `{}`: {reason}\n",
                markdown_code(&source.path)
            )?;
        } else if source.diagnoses.is_empty() && source.nothing_read() {
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

pub(super) fn markdown_run(source: &SourceReport) -> String {
    let Some(run) = &source.run else {
        return String::new();
    };
    let which = if run.index == run.runs && run.skipped_with_errors.is_some() {
        "latest deployment run".to_owned()
    } else {
        format!("run {} of {}", run.index, run.runs)
    };
    match super::skipped_runs(&[source]) {
        Some(skipped) => format!(" ({which}, started {}; skipped {skipped})", run.started),
        None => format!(" ({which}, started {})", run.started),
    }
}

pub(super) fn markdown_diagnosis(d: &Diagnosis, out: &mut dyn Write) -> io::Result<()> {
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
            writeln!(
                out,
                "{}: {}",
                e.line,
                crate::report::truncate(&e.text, EVIDENCE_WIDTH).replace("```", "'''")
            )?;
        }
        let more = d.count.saturating_sub(EVIDENCE_SHOWN as u64);
        if more > 0 {
            writeln!(
                out,
                "... and {}",
                crate::rule::template::count(more, "more line", "more lines")
            )?;
        }
        writeln!(out, "```\n")?;
    }
    markdown_list(out, "Likely causes", &d.causes, false)?;
    markdown_list(out, "Fix", &d.remediation, true)?;
    markdown_list(out, "References", &d.references, false)
}

pub(super) fn markdown_list(
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

pub(super) fn markdown_rollup(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(rollup) = &report.summary.scan else {
        return Ok(());
    };
    writeln!(
        out,
        "### Across {}\n",
        crate::rule::template::count(rollup.read as u64, "log", "logs")
    )?;
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
