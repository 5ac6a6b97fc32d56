//! Rule files: read as raw serde structs with spans (`raw.rs`), then validated and
//! compiled (`validate.rs`) into a [`RuleSet`], whose signal set is built once for what
//! the rules read (`plan.rs`). Every problem of every file is reported at once, as
//! `file:line:col: what`.
//!
//! Shipped rules (`rules/*.toml`) are embedded in the binary; `--rules PATH` adds files
//! whose signals and rules replace shipped ones with the same id.

pub mod catalogue;
pub mod cond;
pub mod examples;
pub mod table;
pub mod template;

mod plan;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::report::diagnosis::Severity;
use crate::signal::{Signal, SignalSet};
use cond::Condition;
use plan::read_plan;
use raw::{RawFile, RawRule, RawSignal};
use template::Template;
use validate::{
    Added, Known, check_suppressions, compile_rule, compile_signal, content_start, locate,
    toml_error,
};

/// The shipped rule files, embedded at build time: (path, contents).
pub const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The version of the shipped rule catalogue, printed by `--version`.
pub const CATALOGUE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A rule file's text and where it came from.
#[derive(Debug, Clone)]
pub struct RuleFile {
    pub path: String,
    pub text: String,
}

/// A mistake in a rule file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The line of the file the error points at, and how many characters of it from
    /// `column` are at fault: shown under the message with a caret, as rustc does.
    pub snippet: Option<Snippet>,
}

/// A rule file's line, with the characters an error points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub width: usize,
}

impl RuleError {
    /// An error that points at no line of a file (a table, the whole set).
    pub fn unlocated(path: String, line: usize, column: usize, message: String) -> RuleError {
        RuleError {
            path,
            line,
            column,
            message,
            snippet: None,
        }
    }

    /// The lines shown under the message: the faulty line in a gutter, with a caret
    /// under the characters at fault. Empty without a snippet.
    pub fn snippet_lines(&self) -> Vec<String> {
        let Some(snippet) = &self.snippet else {
            return Vec::new();
        };
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        // Tabs before the column stay tabs, so the caret lines up however they are shown.
        let pad: String = snippet
            .text
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        vec![
            format!("{gutter} |"),
            format!("{number} | {}", snippet.text),
            format!("{gutter} | {pad}{}", "^".repeat(snippet.width.max(1))),
        ]
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// All the mistakes found while loading rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub category: String,
    pub severity: Severity,
    /// Ranks rules of one severity: higher first. Specific rules above generic ones.
    pub priority: i32,
    pub title: String,
    pub when: Condition,
    /// The source text of `when`, for `explain` and `trace`.
    pub when_text: String,
    /// Context signals: when the rule fires, the nearest event of each at or before the
    /// first evidence line joins the evidence (e.g. the package being installed).
    pub also: Vec<usize>,
    /// Rules this one hides when both fire on nearby lines.
    pub suppresses: Vec<String>,
    /// A catch-all (e.g. any ece-tools ERROR line): hidden by any specific rule of at
    /// least its severity that fires on nearby lines.
    pub generic: bool,
    pub summary: Template,
    pub causes: Vec<String>,
    pub remediation: Vec<String>,
    pub references: Vec<String>,
    pub examples: Vec<Example>,
    /// Whether the rule comes from the shipped catalogue, unchanged.
    pub shipped: bool,
    /// `path:line` of the rule's id, for messages.
    pub origin: String,
    /// The signals its `when` tests, and whether it holds when none of them has an
    /// event: a rule that does not, and whose signals have none, need not be evaluated.
    /// Set when the rule set is made; until then the rule is always evaluated.
    pub reads: Vec<usize>,
    pub fires_on_nothing: bool,
}

/// An example a rule carries: a log, and whether (and how) the rule fires on it.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: Option<String>,
    pub log: String,
    pub fires: bool,
    /// Field values that at least one evidence event must carry.
    pub fields: BTreeMap<String, String>,
    /// Packages (vendor/name) the diagnosis must name.
    pub packages: Vec<String>,
    /// `path:line` of the example's log.
    pub origin: String,
}

/// Signals and rules, compiled and ready to run.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub signals: SignalSet,
    pub rules: Vec<Rule>,
    /// Whether some rule reads the `suggestion` field (in `when` or its summary): only
    /// then must the lines of an ece-tools suggestion be read (see [`RuleSet::load`]).
    pub reads_suggestions: bool,
    /// Whether some rule fires on a run with no event at all (`none(...)` alone).
    fires_on_nothing: bool,
}

/// Default rule priority.
const DEFAULT_PRIORITY: i32 = 50;

impl RuleSet {
    /// Whether some rule fires on a run with no event at all (a condition of `none(...)`
    /// alone): else such a run needs no diagnosis.
    pub fn fires_on_nothing(&self) -> bool {
        self.fires_on_nothing
    }

    /// The shipped rules only.
    pub fn embedded() -> Result<RuleSet, RuleErrors> {
        RuleSet::load(&embedded_files())
    }

    /// Shipped rules plus the given files (which win on equal ids).
    pub fn with_extra(extra: &[RuleFile]) -> Result<RuleSet, RuleErrors> {
        let mut files = embedded_files();
        files.extend_from_slice(extra);
        RuleSet::load(&files)
    }

    /// Loads files in order; a later signal or rule with an id already seen replaces it.
    pub fn load(files: &[RuleFile]) -> Result<RuleSet, RuleErrors> {
        let mut errors = Vec::new();
        let mut raw_signals: Vec<(usize, RawSignal)> = Vec::new();
        let mut raw_rules: Vec<(usize, RawRule)> = Vec::new();
        let mut sets: BTreeMap<String, Arc<[String]>> = BTreeMap::new();
        let tables = match table::embedded() {
            Ok(tables) => tables.into_iter().map(Arc::new).collect::<Vec<_>>(),
            Err(table_errors) => {
                errors.extend(
                    table_errors
                        .into_iter()
                        .map(|e| RuleError::unlocated(e.path, e.line, e.column, e.message)),
                );
                Vec::new()
            }
        };
        for table in &tables {
            sets.insert(table.name.clone(), table.keys().into());
        }
        for (index, file) in files.iter().enumerate() {
            match toml::from_str::<RawFile>(&file.text) {
                Ok(raw) => {
                    sets.extend(raw.sets.into_iter().map(|(k, v)| (k, v.into())));
                    let mut add = Added {
                        files,
                        file: index,
                        errors: &mut errors,
                    };
                    add.by_id(&mut raw_signals, raw.signal, "signal", |s| &s.id);
                    add.by_id(&mut raw_rules, raw.rule, "rule", |r| &r.id);
                }
                Err(e) => errors.push(toml_error(file, &e)),
            }
        }
        let compiled: Vec<(&(usize, RawSignal), Signal)> = raw_signals
            .iter()
            .filter_map(|entry| {
                let (f, raw) = entry;
                compile_signal(&files[*f], raw, &tables, &mut errors).map(|s| (entry, s))
            })
            .collect();
        let (raws, signals): (Vec<_>, Vec<Signal>) = compiled.into_iter().unzip();
        let defined: Vec<&str> = raw_signals
            .iter()
            .map(|(_, s)| s.id.get_ref().as_str())
            .collect();
        let known = Known::new(&signals, &defined);
        let rules: Vec<Rule> = raw_rules
            .iter()
            .filter_map(|(f, raw)| compile_rule(&files[*f], raw, &known, &sets, &mut errors))
            .collect();
        check_suppressions(files, &raw_rules, &mut errors);
        if !errors.is_empty() {
            return Err(RuleErrors(errors));
        }
        let plan = read_plan(&rules, &known);
        let reads_suggestions = !plan.context_late;
        match SignalSet::new(signals, &plan) {
            Ok(signals) => {
                let mut set = RuleSet {
                    signals,
                    rules,
                    reads_suggestions,
                    fires_on_nothing: true,
                };
                let nothing = crate::signal::Events::new(set.signals.signals().len());
                let mut reads = Vec::new();
                let mut fires = Vec::new();
                for rule in &set.rules {
                    let mut signals = Vec::new();
                    rule.when
                        .atoms(&mut |test| signals.extend(set.signals.index(test.signal())));
                    signals.sort_unstable();
                    signals.dedup();
                    reads.push(signals);
                    fires.push(crate::engine::evaluate(rule, &set, &nothing).is_some());
                }
                for ((rule, reads), fires) in set.rules.iter_mut().zip(reads).zip(fires) {
                    rule.reads = reads;
                    rule.fires_on_nothing = fires;
                }
                set.fires_on_nothing = set.rules.iter().any(|r| r.fires_on_nothing);
                Ok(set)
            }
            Err(e) => {
                let mut located: Vec<usize> = Vec::new();
                for &(s, p) in &e.patterns {
                    // One error per signal, at its first pattern in the set.
                    if located.contains(&s) {
                        continue;
                    }
                    located.push(s);
                    let (f, raw) = raws[s];
                    let Some(pattern) = raw.patterns.get(p) else {
                        continue;
                    };
                    let file = &files[*f];
                    errors.push(locate(
                        file,
                        content_start(file, &pattern.span()),
                        template::plurals(&format!(
                            "signal `{}`: this pattern holds no literal word, so it runs on \
                             every line together with {} pattern(s) like it, and \
                             together they are too large to compile ({}): give it a word \
                             that every line it matches holds, or make it smaller",
                            raw.id.get_ref(),
                            e.patterns.len().saturating_sub(1),
                            e.message
                        )),
                    ));
                }
                if errors.is_empty() {
                    errors.push(RuleError::unlocated(
                        "<rules>".into(),
                        1,
                        1,
                        format!(
                            "the signals together are too large to compile: {}",
                            e.message
                        ),
                    ));
                }
                Err(RuleErrors(errors))
            }
        }
    }

    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Whether a file is one of the shipped catalogue's, unchanged.
fn is_shipped(file: &RuleFile) -> bool {
    EMBEDDED
        .iter()
        .any(|(path, text)| *path == file.path && *text == file.text)
}

/// The embedded files as [`RuleFile`]s.
pub fn embedded_files() -> Vec<RuleFile> {
    EMBEDDED
        .iter()
        .map(|(path, text)| RuleFile {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

/// A rule file or folder that could not be read: the file's path (the folder's, when
/// the folder itself could not be listed) and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot read rules: {error}")]
pub struct RuleReadError {
    pub path: String,
    pub error: std::io::Error,
}

/// Reads a rule file, or every `*.toml` file of a folder (sorted, not recursive), each
/// at most [`crate::input::bounded::CONFIG_CAP`] bytes of UTF-8 text; a FIFO or device is
/// refused unopened. Each error names its file, not the folder it is in.
pub fn read_rule_path(path: &Path) -> Result<Vec<RuleFile>, Vec<RuleReadError>> {
    let failed = |p: &Path, error| RuleReadError {
        path: p.display().to_string(),
        error,
    };
    let read = |p: &Path| -> Result<RuleFile, RuleReadError> {
        Ok(RuleFile {
            path: p.display().to_string(),
            text: crate::input::bounded::read_text(p, crate::input::bounded::CONFIG_CAP)
                .map_err(|e| failed(p, e))?,
        })
    };
    if !path.is_dir() {
        return read(path).map(|file| vec![file]).map_err(|e| vec![e]);
    }
    let mut paths = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|e| vec![failed(path, e)])?;
    for entry in entries {
        let p = entry.map_err(|e| vec![failed(path, e)])?.path();
        if p.extension().is_some_and(|e| e == "toml") {
            paths.push(p);
        }
    }
    paths.sort();
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    for p in &paths {
        match read(p) {
            Ok(file) => files.push(file),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    // memchr: every rule and example is located when the rules load.
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
    let line_start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Text on one line: every run of whitespace, line breaks included, as one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
