//! The main command: diagnose files or standard input, and `--project`'s findings.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::commands::cli::{Cli, GlobalOptions};
use crate::input::source::{Opened, Source};
use crate::messages::describe_io;
use crate::pipeline::{self, RunSink, Runs};
use crate::report::diagnosis::{Report, SourceReport, Summary};
use crate::report::render::{self, Format, RunCount};
use crate::rule::RuleSet;
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
    let format = global.format.unwrap_or(Format::Text);
    if format == Format::Ndjson && global.all_runs {
        return stream_ndjson(files, &rules, global, out);
    }
    let mut reports: Vec<SourceReport> = Vec::new();
    let mut trouble = read_inputs(files, &rules, runs(global), false, &mut reports);
    let mut report = Report::new(reports);
    trouble |= !add_project_findings(&mut report, global);
    if format == Format::Markdown {
        crate::report::reply::write(&report, &rules, None, out).context("writing the reply")?;
    } else {
        emit(&report, format, &text_options(global), false, out)?;
    }
    Ok(outcome(&report.summary, trouble, global.fail_on))
}

/// `--all-runs --format ndjson`: each run's diagnoses are written as the run ends and
/// nothing of it is kept, so memory stays flat however many runs a log holds. A record
/// written so does not know how many runs follow: its `run` has no `runs`, and the
/// summary record lists the runs of each input.
fn stream_ndjson(
    files: &[PathBuf],
    rules: &RuleSet,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let mut trouble = false;
    let sharpening = match &global.project {
        None => None,
        Some(dir) => match crate::auth::sharpening(dir) {
            Ok(found) => Some(found),
            Err(e) => {
                warn(&format!("--project: {e:#}"));
                trouble = true;
                None
            }
        },
    };
    let mut sink = NdjsonSink {
        out,
        sharpening,
        summary: Summary::default(),
        runs: Vec::new(),
        error: None,
    };
    trouble |= read_inputs(files, rules, Runs::All, true, &mut sink);
    if let Some(e) = sink.error {
        return Err(e).context("writing the report");
    }
    render::ndjson_summary(&sink.summary, Some(&sink.runs), sink.out)
        .context("writing the report")?;
    Ok(outcome(&sink.summary, trouble, global.fail_on))
}

/// Writes each report it takes as NDJSON records and keeps only the totals.
struct NdjsonSink<'a> {
    out: &'a mut dyn Write,
    /// What `--project DIR` adds to auth diagnoses.
    sharpening: Option<crate::auth::Sharpening>,
    summary: Summary,
    /// The runs of each input, counted as they come.
    runs: Vec<RunCount>,
    /// The first write error: nothing more is written after it.
    error: Option<io::Error>,
}

impl RunSink for NdjsonSink<'_> {
    fn run(&mut self, mut report: SourceReport) {
        if let Some(found) = &self.sharpening {
            found.apply(&mut report.diagnoses);
        }
        self.summary.count(&report);
        // An input's first report is its first run's, or its only one.
        match &report.run {
            Some(run) if run.index > 1 => {
                if let Some(last) = self.runs.last_mut() {
                    last.runs = run.index;
                }
            }
            _ => self.runs.push(RunCount {
                path: report.path.clone(),
                runs: 1,
            }),
        }
        if self.error.is_none()
            && let Err(e) = render::ndjson_source(&report, false, &mut *self.out)
        {
            self.error = Some(e);
        }
    }
}

/// Reads each input in turn (each member of an archive) and gives its reports to
/// `sink`; with `stream`, every run of each as the run ends
/// ([`pipeline::stream_source`]), else as `runs` says, once the input is read. Says
/// what could not be read on stderr; `true` when something could not.
fn read_inputs(
    files: &[PathBuf],
    rules: &RuleSet,
    runs: Runs,
    stream: bool,
    sink: &mut dyn RunSink,
) -> bool {
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    let mut trouble = false;
    let unreadable = |sink: &mut dyn RunSink, name: String, reason: String| {
        warn(&format!("{name}: {reason}"));
        sink.run(SourceReport::unreadable(name, reason));
    };
    for path in files {
        let opened = if path == Path::new("-") {
            Source::from_reader_any("<stdin>".into(), io::stdin())
        } else if path.is_dir() {
            let reason = format!("is a directory; use `magediag scan {}`", path.display());
            unreadable(sink, path.display().to_string(), reason);
            trouble = true;
            continue;
        } else {
            Source::open_any(path)
        };
        let archive = match opened {
            Ok(Opened::Log(source)) => {
                trouble |= read_source(source, rules, runs, stream, sink);
                continue;
            }
            Ok(Opened::Archive(archive)) => archive,
            Err(e) => {
                unreadable(sink, path.display().to_string(), describe_io(&e));
                if let Some(name) = command_named(path) {
                    warn(&format!(
                        "`{name}` is a command: give its options after it (`magediag {name} --help`)"
                    ));
                }
                trouble = true;
                continue;
            }
        };
        let (name, mut binary, mut members) = (archive.name.clone(), 0, 0);
        for member in archive {
            members += 1;
            match member.map(|mut source| (source.is_binary(), source)) {
                Ok((Ok(true), _)) => binary += 1,
                Ok((Ok(false), source)) => {
                    trouble |= read_source(source, rules, runs, stream, sink)
                }
                Ok((Err(e), source)) => {
                    unreadable(sink, source.name, describe_io(&e));
                    trouble = true;
                }
                Err(e) => {
                    unreadable(sink, e.name, describe_io(&e.error));
                    trouble = true;
                }
            }
        }
        if members == binary {
            warn(&format!(
                "{name}: no log in the archive: no member holds text"
            ));
            trouble = true;
        } else if binary > 0 {
            warn(&format!(
                "{name}: {} skipped",
                crate::rule::template::count(binary as u64, "binary member", "binary members")
            ));
        }
    }
    trouble
}

/// Reads one log and gives its reports to `sink` (see [`read_inputs`]); `true` when it
/// could not be read in full, or was empty.
fn read_source(
    source: Source,
    rules: &RuleSet,
    runs: Runs,
    stream: bool,
    sink: &mut dyn RunSink,
) -> bool {
    let mut trouble = false;
    let name = source.name.clone();
    let mut outcome = if stream {
        pipeline::stream_source(rules, source, &mut *sink)
    } else {
        pipeline::diagnose_source(rules, source, runs)
    };
    if let Some(reason) = outcome.error_reason() {
        if outcome.lines == 0 {
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
    outcome.reports.into_iter().for_each(|r| sink.run(r));
    trouble
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
