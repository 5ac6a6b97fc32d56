//! `trace`: what the pipeline made of some lines, and why each rule fired or not.

use std::io::Write;
use std::path::Path;

use crate::commands::cli::GlobalOptions;
use crate::input::source::Source;
use crate::messages::describe_io;
use crate::{Exit, warn};

use super::{load_rules, runs};

pub(super) fn trace(
    file: &Path,
    line: &str,
    only: &[String],
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
    if !super::rules_known(&rules, only) {
        return Ok(Exit::Trouble);
    }
    let source = if file == Path::new("-") {
        Source::stdin()
    } else {
        Source::open(file)
    };
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            warn(&format!("{}: {}", file.display(), describe_io(&e)));
            return Ok(Exit::Trouble);
        }
    };
    let (report, error) =
        crate::trace::trace_source(&rules, source, range.clone(), runs(global), only);
    if let Some(e) = &error {
        warn(&format!("{}: {}", file.display(), describe_io(e)));
    }
    let report = match report {
        Ok(report) => report,
        Err(lines) => {
            let lines = match lines {
                1 => "1 line".to_owned(),
                n => format!("{n} lines"),
            };
            warn(&format!(
                "{}: no line {}: the input has {lines}",
                file.display(),
                if range.start() == range.end() {
                    range.start().to_string()
                } else {
                    format!("{}-{}", range.start(), range.end())
                }
            ));
            return Ok(Exit::Trouble);
        }
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        crate::trace::write_text(&report, out)?;
    }
    Ok(if error.is_some() {
        Exit::Trouble
    } else {
        Exit::Clean
    })
}
