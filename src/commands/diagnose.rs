//! The main command: diagnose files or standard input, and `--project`'s findings.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::commands::cli::{Cli, GlobalOptions};
use crate::input::source::Source;
use crate::messages::describe_io;
use crate::pipeline;
use crate::report::diagnosis::{Report, SourceReport};
use crate::report::render::{self, Format};
use crate::{Exit, warn};

use super::{load_rules, outcome, runs, text_options};

pub(super) fn diagnose(
    files: &[PathBuf],
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    let runs = runs(global);
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    let mut reports = Vec::new();
    let mut trouble = false;
    for path in files {
        let source = if path == Path::new("-") {
            Source::stdin()
        } else if path.is_dir() {
            let reason = format!("is a directory; use `magediag scan {}`", path.display());
            warn(&format!("{}: {reason}", path.display()));
            reports.push(SourceReport::unreadable(path.display().to_string(), reason));
            trouble = true;
            continue;
        } else {
            Source::open(path)
        };
        let source = match source {
            Ok(source) => source,
            Err(e) => {
                warn(&format!("{}: {}", path.display(), describe_io(&e)));
                if let Some(name) = command_named(path) {
                    warn(&format!(
                        "`{name}` is a command: give its options after it (`magediag {name} --help`)"
                    ));
                }
                reports.push(SourceReport::unreadable(
                    path.display().to_string(),
                    describe_io(&e),
                ));
                trouble = true;
                continue;
            }
        };
        let name = source.name.clone();
        let mut outcome = pipeline::diagnose_source(&rules, source, runs);
        if let Some(e) = &outcome.error {
            let reason = describe_io(e);
            if outcome.reports.iter().all(|r| r.lines == 0) {
                warn(&format!("{name}: nothing could be read: {reason}"));
            } else {
                warn(&format!(
                    "{name}: {reason}; what was read before is diagnosed"
                ));
            }
            if let Some(last) = outcome.reports.last_mut() {
                last.error = Some(reason);
            }
            trouble = true;
        }
        if outcome.reports.iter().all(SourceReport::nothing_read) && outcome.error.is_none() {
            warn(&format!("{name}: no input: it is empty"));
            trouble = true;
        } else {
            trouble |= warn_missing_run(&name, &outcome.reports);
        }
        reports.extend(outcome.reports);
    }
    let mut report = Report::new(reports);
    trouble |= !add_project_findings(&mut report, global);
    let format = global.format.unwrap_or(Format::Text);
    if format == Format::Markdown {
        crate::report::reply::write(&report, &rules, None, out).context("writing the reply")?;
    } else {
        emit(&report, format, &text_options(global), false, out)?;
    }
    Ok(outcome(&report, trouble, global.fail_on))
}

/// Says so when a source holds no deployment run `--run` asked for; gives whether it
/// did not (a usage mistake that the exit status 2 reports).
pub(super) fn warn_missing_run(name: &str, reports: &[SourceReport]) -> bool {
    let missing: Vec<&str> = reports
        .iter()
        .filter(|r| r.run_missing)
        .filter_map(|r| r.error.as_deref())
        .collect();
    for reason in &missing {
        warn(&format!("{name}: {reason}"));
    }
    !missing.is_empty()
}

/// The subcommand a missing FILE is named after: `magediag --format json auth` reads
/// `auth` as a file, since the options of a diagnosis come before no command.
fn command_named(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    let name = path.to_str()?;
    let command = <Cli as clap::CommandFactory>::command();
    command
        .get_subcommands()
        .any(|c| c.get_name() == name)
        .then(|| name.to_owned())
}

/// Renders a report, and with `--format github` also writes the full Markdown report
/// to `$GITHUB_STEP_SUMMARY` when set (GitHub shows only a few annotations per step).
pub(super) fn emit(
    report: &Report,
    format: Format,
    options: &render::TextOptions,
    scan: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if scan {
        render::render_scan_with(report, format, options, out).context("writing the report")?;
    } else {
        render::render_with(report, format, options, out).context("writing the report")?;
    }
    if format != Format::Github {
        return Ok(());
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let write = || -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let mut markdown = Vec::new();
        render::render_scan(report, Format::Markdown, &mut markdown)?;
        file.write_all(&markdown)
    };
    if let Err(e) = write() {
        warn(&format!(
            "{}: cannot write the step summary: {}",
            PathBuf::from(&path).display(),
            describe_io(&e)
        ));
    }
    Ok(())
}

/// With `--project DIR`, adds what `magediag auth DIR` finds to every auth diagnosis;
/// `false` (after saying why) when the folder cannot be inspected, as `auth` exits 2.
pub(super) fn add_project_findings(report: &mut Report, global: &GlobalOptions) -> bool {
    let Some(dir) = &global.project else {
        return true;
    };
    match crate::auth::add_to_report(report, dir) {
        Ok(()) => true,
        Err(e) => {
            warn(&format!("--project: {e:#}"));
            false
        }
    }
}
