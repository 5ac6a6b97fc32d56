//! Folder scans: walk, read files in parallel across cores, and gather the reports in
//! path order (whatever the thread timing) with a roll-up of what was read, skipped and
//! failed, and the causes ranked by how many logs they hit.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::commands::describe_io;
use crate::diagnosis::{Failed, Report, Rollup, SourceReport};
use crate::pipeline::{self, Runs};
use crate::rule::RuleSet;
use crate::source::Source;
use crate::walk::{self, Found, GlobError, Skip, WalkOptions};

/// How many leading bytes decide whether a file is binary.
const BINARY_PROBE: usize = 8192;

/// A scan's report, and the messages to print on stderr (in path order).
pub struct Scan {
    pub report: Report,
    pub messages: Vec<String>,
}

/// What reading one file came to.
enum Read {
    Reports(Vec<SourceReport>, bool, Option<String>),
    Binary,
    Failed(String),
}

/// Scans the roots.
pub fn scan(
    rules: &RuleSet,
    roots: &[PathBuf],
    options: &WalkOptions,
    runs: Runs,
) -> Result<Scan, GlobError> {
    let found = walk::walk(roots, options)?;
    let files: Vec<&Path> = found
        .iter()
        .filter_map(|f| match f {
            Found::File(path) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    let progress = progress_bar(files.len());
    let reads: Vec<Read> = files
        .par_iter()
        .map(|path| {
            let read = read_file(rules, path, runs);
            progress.inc(1);
            read
        })
        .collect();
    progress.finish_and_clear();

    let mut rollup = Rollup::default();
    let mut messages = Vec::new();
    let mut sources = Vec::new();
    let mut reads = reads.into_iter();
    for entry in &found {
        match entry {
            Found::File(path) => match reads.next() {
                Some(Read::Reports(reports, compressed, error)) => {
                    rollup.read += 1;
                    rollup.compressed += usize::from(compressed);
                    if let Some(reason) = error {
                        messages.push(format!(
                            "{}: {reason}; what was read before is diagnosed",
                            path.display()
                        ));
                        rollup.failed.push(failed(path, reason));
                    }
                    sources.extend(reports);
                }
                Some(Read::Binary) => *rollup.skipped.entry("binary".into()).or_default() += 1,
                Some(Read::Failed(reason)) => {
                    messages.push(format!("{}: {reason}", path.display()));
                    rollup.failed.push(failed(path, reason));
                }
                None => {}
            },
            Found::Skipped(path, skip) => {
                let key = match skip {
                    Skip::Special(_) => "special",
                    Skip::Symlink => "symlink",
                    Skip::Excluded => "excluded",
                    Skip::Loop(ancestor) => {
                        messages.push(format!(
                            "{}: symlink loop back to {}, not followed",
                            path.display(),
                            ancestor.display()
                        ));
                        "loop"
                    }
                };
                *rollup.skipped.entry(key.into()).or_default() += 1;
            }
            Found::Error(path, reason) => {
                messages.push(format!("{}: {reason}", path.display()));
                rollup.failed.push(failed(path, reason.clone()));
            }
        }
    }
    rollup.rank_causes(&sources);
    let mut report = Report::new(sources);
    report.summary.scan = Some(rollup);
    Ok(Scan { report, messages })
}

fn failed(path: &Path, reason: String) -> Failed {
    Failed {
        path: path.display().to_string(),
        reason,
    }
}

fn read_file(rules: &RuleSet, path: &Path, runs: Runs) -> Read {
    let mut source = match Source::open(path) {
        Ok(source) => source,
        Err(e) => return Read::Failed(describe_io(&e)),
    };
    match source.reader.fill_buf() {
        Ok(head) if memchr::memchr(0, &head[..head.len().min(BINARY_PROBE)]).is_some() => {
            return Read::Binary;
        }
        Ok(_) => {}
        Err(e) => return Read::Failed(describe_io(&e)),
    }
    let compressed = source.compressed;
    let outcome = pipeline::diagnose_source(rules, source, runs);
    let error = outcome.error.as_ref().map(describe_io);
    Read::Reports(outcome.reports, compressed, error)
}

/// A progress bar on stderr, only on a terminal and only for scans long enough to need one.
fn progress_bar(files: usize) -> ProgressBar {
    if files < 50 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} logs {wide_bar} {eta}")
    {
        bar.set_style(style);
    }
    bar
}
