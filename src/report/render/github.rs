//! GitHub Actions workflow commands: one annotation per diagnosis, log text escaped as
//! data so that it can never become a command.

use std::io::{self, Write};

use crate::report::diagnosis::{Diagnosis, Report, Severity, SourceReport};

/// How many annotations `--format github` emits: GitHub shows only the first few of a
/// step, so the top ones by rank go out and the rest are counted.
pub const GITHUB_ANNOTATIONS: usize = 10;

pub(super) fn github(report: &Report, out: &mut dyn Write) -> io::Result<()> {
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
