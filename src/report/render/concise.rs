//! One line per diagnosis, like a linter's concise output.

use std::io::{self, Write};

use colored::Colorize;

use super::{diagnosis_line, footer_line};
use crate::report::diagnosis::Report;

/// One line per diagnosis, `path:line: severity[category]: title (rule)`, like a
/// linter's concise output; one line for each input without a diagnosis; the totals.
pub(super) fn concise(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        for d in &source.diagnoses {
            diagnosis_line(&source.path, d, ":", out)?;
        }
        if !source.diagnoses.is_empty() {
            continue;
        }
        match &source.error {
            Some(reason) if source.run_missing => {
                writeln!(out, "{}: {}: {reason}", source.path, "error".red().bold())?
            }
            Some(reason) if source.lines == 0 => writeln!(
                out,
                "{}: {}: nothing could be read: {reason}",
                source.path,
                "error".red().bold()
            )?,
            Some(reason) => writeln!(
                out,
                "{}: {}: {reason}",
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
