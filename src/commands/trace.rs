//! `trace`: what the pipeline made of some lines, and why each rule fired or not.

use std::io::{Read, Write};
use std::path::Path;

use crate::commands::cli::GlobalOptions;
use crate::input::source::Source;
use crate::messages::describe_io;
use crate::{Exit, warn};

use super::load_rules;

/// The most of a file `trace` reads.
const TRACE_CAP: u64 = 256 << 20;

pub(super) fn trace(
    file: &Path,
    line: &str,
    global: &GlobalOptions,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let range = match crate::trace::parse_range(line) {
        Ok(range) => range,
        Err(e) => {
            warn(&e);
            return Ok(Exit::Trouble);
        }
    };
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    let mut text = Vec::new();
    let source = if file == Path::new("-") {
        Source::stdin()
    } else {
        Source::open(file)
    };
    let read = source.and_then(|s| s.reader.take(TRACE_CAP).read_to_end(&mut text));
    if let Err(e) = read {
        warn(&format!("{}: {}", file.display(), describe_io(&e)));
        return Ok(Exit::Trouble);
    }
    let report = crate::trace::trace_report(&rules, &text, range.clone());
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        crate::trace::write_text(&report, out)?;
    }
    if report.lines.is_empty() {
        warn(&format!(
            "{}: no line {}-{}: the input has fewer lines",
            file.display(),
            range.start(),
            range.end()
        ));
        return Ok(Exit::Trouble);
    }
    Ok(Exit::Clean)
}
