//! Folder scans: walk, read files in parallel across cores, and gather the reports in
//! path order (whatever the thread timing) with a roll-up of what was read, skipped and
//! failed, and the causes ranked by how many logs they hit.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::input::source::{Opened, Source};
use crate::input::walk::{self, Found, GlobError, Skip, WalkOptions};
use crate::messages::describe_io;
use crate::pipeline::{self, Runs};
use crate::report::diagnosis::{Failed, Report, Rollup, SourceReport};
use crate::rule::RuleSet;
use crate::{Exit, warn};

use super::cli::{GlobalOptions, ScanArgs};
use super::diagnose::{add_project_findings, emit};
use super::{load_rules, outcome, runs, text_options};
use crate::report::render::Format;

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
    /// An archive: what each member came to, by its name.
    Archive(Vec<(String, Read)>),
}

/// Scans the roots.
pub fn scan(
    rules: &RuleSet,
    roots: &[PathBuf],
    options: &WalkOptions,
    runs: Runs,
) -> Result<Scan, GlobError> {
    let found = walk::walk(&distinct_roots(roots), options)?;
    Ok(scan_found_following(rules, &found, runs, options.follow))
}

/// The roots without those another root covers: `scan a a` or `scan a a/b` reads each
/// log once. Roots are compared as canonical paths; one that cannot be resolved is kept
/// (the walk reports it).
fn distinct_roots(roots: &[PathBuf]) -> Vec<PathBuf> {
    let canonical: Vec<Option<PathBuf>> = roots.iter().map(|r| r.canonicalize().ok()).collect();
    roots
        .iter()
        .enumerate()
        .filter(|&(i, _)| {
            let Some(mine) = &canonical[i] else {
                return true;
            };
            !canonical.iter().enumerate().any(|(j, other)| {
                other.as_ref().is_some_and(|other| {
                    (other == mine && j < i) || (other != mine && mine.starts_with(other))
                })
            })
        })
        .map(|(_, r)| r.clone())
        .collect()
}

#[cfg(test)]
/// Reads what a walk found. A file may change between the walk and the read: one that
/// vanished is reported, one that shrank or grew is read as it is when opened.
pub fn scan_found(rules: &RuleSet, found: &[Found], runs: Runs) -> Scan {
    scan_found_following(rules, found, runs, true)
}

/// Reads what a walk found, as `scan_found` does; `follow`: whether a file that is a
/// symlink when it is opened is followed (`-L`).
fn scan_found_following(rules: &RuleSet, found: &[Found], runs: Runs, follow: bool) -> Scan {
    let files: Vec<&Path> = found
        .iter()
        .filter_map(|f| match f {
            Found::File(path) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    let progress = progress_bar(files.len());
    // Largest first, each taken by the next free thread: a large file read last would
    // leave the other cores idle while it ends (the reports keep path order).
    let mut order: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, path)| (expected_text(path), i))
        .collect();
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut reads: Vec<(usize, Read)> = order
        .into_iter()
        .par_bridge()
        .map(|(_, i)| {
            let read = read_file(rules, files[i], runs, files.len() > 1, follow);
            progress.inc(1);
            (i, read)
        })
        .collect();
    progress.finish_and_clear();
    reads.sort_unstable_by_key(|&(i, _)| i);
    let mut reads = reads.into_iter().map(|(_, read)| read);

    let mut rollup = Rollup::default();
    let mut messages = Vec::new();
    let mut sources = Vec::new();
    let mut gather = Gather {
        rollup: &mut rollup,
        messages: &mut messages,
        sources: &mut sources,
    };
    for entry in found {
        match entry {
            Found::File(path) => {
                if let Some(read) = reads.next() {
                    gather.add(&path.display().to_string(), read);
                }
            }
            Found::Skipped(path, skip) => {
                let (rollup, messages) = (&mut *gather.rollup, &mut *gather.messages);
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
                    Skip::Dangling => {
                        messages.push(format!(
                            "{}: dangling symlink (its target does not exist), skipped",
                            path.display()
                        ));
                        "dangling"
                    }
                };
                *rollup.skipped.entry(key.into()).or_default() += 1;
            }
            Found::Error(path, reason) => {
                let name = path.display().to_string();
                gather.add(&name, Read::Failed(reason.clone()));
            }
        }
    }
    rollup.rank_causes(&sources);
    let mut report = Report::new(sources);
    report.summary.scan = Some(rollup);
    Scan { report, messages }
}

/// Where what the files came to goes: the roll-up, the messages, the reports.
struct Gather<'a> {
    rollup: &'a mut Rollup,
    messages: &'a mut Vec<String>,
    sources: &'a mut Vec<SourceReport>,
}

impl Gather<'_> {
    /// Adds what reading the log `name` (a file, or an archive's member) came to.
    fn add(&mut self, name: &str, read: Read) {
        let failed = |reason: String| Failed {
            path: crate::mask::mask(name).into_owned(),
            reason,
        };
        match read {
            Read::Reports(reports, compressed, error) => {
                self.rollup.read += 1;
                self.rollup.compressed += usize::from(compressed);
                if let Some(reason) = error {
                    self.messages.push(format!(
                        "{name}: {reason}; what was read before is diagnosed"
                    ));
                    self.rollup.failed.push(failed(reason));
                }
                self.sources.extend(reports);
            }
            Read::Binary => *self.rollup.skipped.entry("binary".into()).or_default() += 1,
            Read::Failed(reason) => {
                self.messages.push(format!("{name}: {reason}"));
                self.rollup.failed.push(failed(reason));
            }
            Read::Archive(members) => {
                for (name, read) in members {
                    self.add(&name, read);
                }
            }
        }
    }
}

/// About how much text a file holds, to read the largest first: its size, a compressed
/// file's times a typical log's compression ratio (0 when it cannot be read: it fails fast).
fn expected_text(path: &Path) -> u64 {
    const COMPRESSION_RATIO: u64 = 8;
    let size = std::fs::metadata(path).map_or(0, |meta| meta.len());
    const COMPRESSED: [&str; 8] = ["gz", "tgz", "xz", "txz", "bz2", "tbz2", "zst", "zip"];
    let compressed = path.extension().is_some_and(|ext| {
        COMPRESSED
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    });
    if compressed {
        size.saturating_mul(COMPRESSION_RATIO)
    } else {
        size
    }
}

/// Reads one file, or each member of an archive; `among_others` when the scan reads
/// other files beside it.
fn read_file(rules: &RuleSet, path: &Path, runs: Runs, among_others: bool, follow: bool) -> Read {
    match Source::open_found(path, follow) {
        Ok(Opened::Log(mut source)) => {
            source.among_others = among_others;
            read_source(rules, source, runs)
        }
        Ok(Opened::Archive(archive)) => {
            let compressed = archive.compressed();
            let members = archive
                .map(|member| match member {
                    Ok(mut source) => {
                        // Members are read one after the other, each on one thread.
                        source.among_others = true;
                        source.compressed |= compressed;
                        (source.name.clone(), read_source(rules, source, runs))
                    }
                    Err(e) => (e.name, Read::Failed(describe_io(&e.error))),
                })
                .collect();
            Read::Archive(members)
        }
        Err(e) => Read::Failed(describe_io(&e)),
    }
}

/// Reads one log, unless it is binary.
fn read_source(rules: &RuleSet, mut source: Source, runs: Runs) -> Read {
    match source.is_binary() {
        Ok(true) => return Read::Binary,
        Ok(false) => {}
        Err(e) => return Read::Failed(describe_io(&e)),
    }
    let compressed = source.compressed;
    let outcome = pipeline::diagnose_source(rules, source, runs);
    let error = outcome.error_reason();
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

pub(super) fn scan_command(
    args: &ScanArgs,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    let options = WalkOptions {
        follow: args.follow,
        max_depth: args.max_depth,
        globs: args.glob.clone(),
    };
    let scan = match scan(&rules, &args.roots, &options, runs(global)) {
        Ok(scan) => scan,
        Err(e) => {
            warn(&e.to_string());
            return Ok(Exit::Trouble);
        }
    };
    for message in &scan.messages {
        warn(message);
    }
    let mut report = scan.report;
    let project_ok = add_project_findings(&mut report, global);
    let format = global.format.unwrap_or(Format::Text);
    emit(&report, format, &text_options(global), true, out)?;
    // A scan that read no log, or failed to read one, is no clean bill of health.
    let trouble = report
        .summary
        .scan
        .as_ref()
        .is_some_and(|s| !s.failed.is_empty() || s.read == 0)
        || !project_ok;
    if report.summary.scan.as_ref().is_some_and(|s| s.read == 0) {
        warn("no log was read: nothing to diagnose");
    }
    Ok(outcome(&report.summary, trouble, global.fail_on))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Files are read largest first, but reported in path order.
    #[test]
    fn reports_keep_path_order_whatever_the_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            ("a.log", 3),
            ("b.log", 3000),
            ("c.log", 300),
            ("d.log", 30000),
        ];
        for (name, lines) in sizes {
            std::fs::write(dir.path().join(name), "ERROR: one\n".repeat(lines)).unwrap();
        }
        let found = walk::walk(&[dir.path().to_path_buf()], &WalkOptions::default()).unwrap();
        let rules = RuleSet::embedded().unwrap();
        let scan = scan_found(&rules, &found, Runs::Latest);
        let read: Vec<u64> = scan.report.sources.iter().map(|s| s.lines).collect();
        assert_eq!(read, [3, 3000, 300, 30000]);
        assert_eq!(expected_text(&dir.path().join("missing.log.gz")), 0);
    }

    /// A file that vanishes between the walk and the read is reported by name and counted
    /// as failed; one that shrank is read as it is now. Neither panics.
    #[test]
    fn files_that_change_between_walk_and_read_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.log");
        let shrunk = dir.path().join("shrunk.log");
        std::fs::write(&gone, "ERROR: one\n").unwrap();
        std::fs::write(&shrunk, "ERROR: one\n".repeat(1000)).unwrap();
        let found = walk::walk(&[dir.path().to_path_buf()], &WalkOptions::default()).unwrap();
        std::fs::remove_file(&gone).unwrap();
        std::fs::write(&shrunk, "ERROR: one\n").unwrap();
        let rules = RuleSet::embedded().unwrap();
        let scan = scan_found(&rules, &found, Runs::Latest);
        let rollup = scan.report.summary.scan.unwrap();
        assert_eq!(rollup.read, 1);
        assert_eq!(rollup.failed.len(), 1);
        assert_eq!(rollup.failed[0].path, gone.display().to_string());
        assert_eq!(rollup.failed[0].reason, "no such file or directory");
        assert_eq!(scan.messages.len(), 1, "{:?}", scan.messages);
        assert_eq!(scan.report.sources[0].lines, 1);
    }

    /// Regression: a file swapped for a FIFO between the walk and the read hung the scan,
    /// and one swapped for a symlink was read outside the tree without `-L`.
    #[cfg(unix)]
    #[test]
    fn files_swapped_for_a_fifo_or_a_link_after_the_walk_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        let fifo = tree.join("fifo.log");
        let link = tree.join("link.log");
        std::fs::write(&fifo, "ERROR: one\n").unwrap();
        std::fs::write(&link, "ERROR: one\n").unwrap();
        let outside = dir.path().join("outside.log");
        std::fs::write(&outside, "ERROR: outside\n").unwrap();
        let found = walk::walk(std::slice::from_ref(&tree), &WalkOptions::default()).unwrap();
        std::fs::remove_file(&fifo).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let rules = RuleSet::embedded().unwrap();
        let scan = scan_found_following(&rules, &found, Runs::Latest, false);
        let rollup = scan.report.summary.scan.unwrap();
        assert_eq!(rollup.read, 0, "{:?}", scan.messages);
        assert_eq!(rollup.failed.len(), 2, "{:?}", rollup.failed);
        assert!(
            rollup
                .failed
                .iter()
                .any(|f| f.reason.contains("no longer a regular file"))
        );
        // With `-L` the link is followed, as the walk would have.
        let scan = scan_found_following(&rules, &found, Runs::Latest, true);
        assert_eq!(scan.report.summary.scan.unwrap().read, 1);
    }
}
