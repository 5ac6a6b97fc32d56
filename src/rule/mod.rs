//! Rule files: read as raw serde structs with spans, then validated and compiled into a
//! [`RuleSet`]. Every problem of every file is reported at once, as `file:line:col: what`.
//!
//! Shipped rules (`rules/*.toml`) are embedded in the binary; `--rules PATH` adds files
//! whose signals and rules replace shipped ones with the same id.

pub mod catalogue;
pub mod cond;
pub mod examples;
pub mod table;
pub mod template;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::messages::did_you_mean;
use crate::record::envelope::Level;
use crate::report::diagnosis::{CATEGORIES, Severity};
use crate::signal::{Pattern, ReadPlan, Signal, SignalSet};
use cond::{Condition, FieldTest, Test};
use table::Table;
use template::Template;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Named lists of values for `field in @name` tests.
    #[serde(default)]
    sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    signal: Vec<RawSignal>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    id: Spanned<String>,
    #[serde(default)]
    description: String,
    patterns: Vec<Spanned<String>>,
    #[serde(default)]
    levels: Vec<Spanned<String>>,
    /// Data tables (`data/*.tsv`) whose row adds fields to the signal's events.
    #[serde(default)]
    lookup: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    category: Spanned<String>,
    severity: Spanned<String>,
    #[serde(default)]
    priority: Option<i32>,
    title: String,
    when: Spanned<String>,
    #[serde(default)]
    also: Vec<Spanned<String>>,
    #[serde(default)]
    suppresses: Vec<Spanned<String>>,
    #[serde(default)]
    generic: bool,
    summary: Spanned<String>,
    causes: Vec<String>,
    remediation: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    example: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(default)]
    name: Option<String>,
    log: Spanned<String>,
    fires: bool,
    #[serde(default)]
    fields: BTreeMap<String, toml::Value>,
    #[serde(default)]
    packages: Vec<String>,
}

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
                errors.extend(table_errors.into_iter().map(|e| RuleError {
                    path: e.path,
                    line: e.line,
                    column: e.column,
                    message: e.message,
                }));
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
                Err(e) => {
                    let offset = e.span().map_or(0, |s| s.start);
                    let message = e.message().trim().to_owned();
                    errors.push(locate(file, offset, message));
                }
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
        let known = Known::new(&signals);
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
                    errors.push(RuleError {
                        path: "<rules>".into(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "the signals together are too large to compile: {}",
                            e.message
                        ),
                    });
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

/// Signals or rules of one file being added to those of the files before it.
struct Added<'a> {
    files: &'a [RuleFile],
    file: usize,
    errors: &'a mut Vec<RuleError>,
}

impl Added<'_> {
    /// Adds `items`. One with the id of a shipped one replaces it (the documented way to
    /// change a shipped rule); any other repeated id (in one file, in two of the user's
    /// files, in two shipped files) is an error at the repeat, naming the first.
    fn by_id<T>(
        &mut self,
        into: &mut Vec<(usize, T)>,
        items: Vec<T>,
        what: &str,
        id: impl Fn(&T) -> &toml::Spanned<String>,
    ) {
        let new = &self.files[self.file];
        for item in items {
            let found = into
                .iter()
                .position(|(_, existing)| id(existing).get_ref() == id(&item).get_ref());
            let Some(i) = found else {
                into.push((self.file, item));
                continue;
            };
            let old = &self.files[into[i].0];
            let same_file_again =
                into[i].0 != self.file && old.path == new.path && old.text == new.text;
            if same_file_again || (is_shipped(old) && !is_shipped(new)) {
                into[i] = (self.file, item);
                continue;
            }
            let first = id(&into[i].1).span().start;
            let (line, column) = line_col(&old.text, first);
            let name = id(&item).get_ref().clone();
            self.errors.push(locate(
                new,
                id(&item).span().start,
                format!(
                    "duplicate {what} id `{name}`: already defined at {}:{line}:{column}",
                    old.path
                ),
            ));
        }
    }
}

/// Turns a byte offset into a located error.
fn locate(file: &RuleFile, offset: usize, message: String) -> RuleError {
    let (line, column) = line_col(&file.text, offset);
    RuleError {
        path: file.path.clone(),
        line,
        column,
        message,
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

/// The byte offset where a string value's contents begin, after its opening quotes.
fn content_start(file: &RuleFile, span: &std::ops::Range<usize>) -> usize {
    let raw = file.text.get(span.clone()).unwrap_or("");
    let quotes = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        let after = &raw[3..];
        3 + usize::from(after.starts_with('\n')) + usize::from(after.starts_with("\r\n")) * 2
    } else {
        1
    };
    span.start + quotes.min(raw.len())
}

fn compile_signal(
    file: &RuleFile,
    raw: &RawSignal,
    tables: &[Arc<Table>],
    errors: &mut Vec<RuleError>,
) -> Option<Signal> {
    let start = errors.len();
    check_id(file, &raw.id, "signal", errors);
    if raw.patterns.is_empty() {
        errors.push(locate(
            file,
            raw.id.span().start,
            format!(
                "signal `{}` has no patterns: expected `patterns = ['regex', ...]`",
                raw.id.get_ref()
            ),
        ));
    }
    let mut patterns = Vec::new();
    // The shipped catalogue's patterns are compiled on first use (the tests compile them
    // all); any other file's at once, so a pattern too large to compile is located here.
    let compile_now = !is_shipped(file);
    for pattern in &raw.patterns {
        match Pattern::new(pattern.get_ref(), compile_now) {
            Ok(pattern) => patterns.push(pattern),
            Err(e) => errors.push(locate(
                file,
                content_start(file, &pattern.span()),
                format!(
                    "invalid regex in signal `{}`: {}",
                    raw.id.get_ref(),
                    one_line(&e)
                ),
            )),
        }
    }
    let mut levels = Vec::new();
    for level in &raw.levels {
        match Level::from_word(level.get_ref()) {
            Some(l) => levels.push(l),
            None => errors.push(locate(file, level.span().start, format!(
                "unknown level `{}`: expected one of DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY",
                level.get_ref()
            ))),
        }
    }
    let mut lookups = Vec::new();
    for name in &raw.lookup {
        match tables.iter().find(|t| &t.name == name.get_ref()) {
            Some(table) => lookups.push(Arc::clone(table)),
            None => errors.push(locate(
                file,
                name.span().start,
                format!(
                    "unknown table `{}` in `lookup`: expected one of {}",
                    name.get_ref(),
                    tables
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    (errors.len() == start).then(|| Signal {
        id: raw.id.get_ref().clone(),
        description: raw.description.clone(),
        patterns,
        levels,
        lookups,
        origin: file.path.clone(),
        shipped: is_shipped(file),
    })
}

/// Text on one line: every run of whitespace, line breaks included, as one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_id(file: &RuleFile, id: &Spanned<String>, what: &str, errors: &mut Vec<RuleError>) {
    let valid = !id.get_ref().is_empty()
        && id
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'));
    if !valid {
        errors.push(locate(
            file,
            id.span().start,
            format!(
                "invalid {what} id `{}`: expected lowercase letters, digits, `-`, `.` or `_`",
                id.get_ref()
            ),
        ));
    }
}

/// The compiled signals by id: what rules are compiled against, before the signal set
/// is built from what they read.
struct Known<'a> {
    signals: &'a [Signal],
    by_id: HashMap<&'a str, usize>,
}

impl<'a> Known<'a> {
    fn new(signals: &'a [Signal]) -> Known<'a> {
        let by_id = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        Known { signals, by_id }
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    fn signals(&self) -> &'a [Signal] {
        self.signals
    }
}

/// What the rules read of each signal, from their parsed conditions and templates.
fn read_plan(rules: &[Rule], known: &Known<'_>) -> ReadPlan {
    let mut plan = ReadPlan {
        in_when: vec![false; known.signals().len()],
        in_also: vec![false; known.signals().len()],
        context_late: true,
    };
    for rule in rules {
        rule.when.atoms(&mut |t: &Test| {
            if let Some(i) = known.index(t.signal()) {
                plan.in_when[i] = true;
            }
            if t.fields().iter().any(|&(_, field)| field == "suggestion") {
                plan.context_late = false;
            }
        });
        for &i in &rule.also {
            plan.in_also[i] = true;
        }
        if rule
            .summary
            .field_names()
            .iter()
            .any(|&(_, name)| name == "suggestion")
        {
            plan.context_late = false;
        }
    }
    plan
}

fn compile_rule(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    sets: &BTreeMap<String, Arc<[String]>>,
    errors: &mut Vec<RuleError>,
) -> Option<Rule> {
    let start = errors.len();
    check_id(file, &raw.id, "rule", errors);
    let category = raw.category.get_ref();
    if !CATEGORIES.contains(&category.as_str()) {
        errors.push(locate(
            file,
            raw.category.span().start,
            format!(
                "unknown category `{category}`: expected one of {}",
                CATEGORIES.join(", ")
            ),
        ));
    }
    let severity = Severity::parse(raw.severity.get_ref());
    if severity.is_none() {
        errors.push(locate(
            file,
            raw.severity.span().start,
            format!(
                "unknown severity `{}`: expected `error`, `warning` or `info`",
                raw.severity.get_ref()
            ),
        ));
    }
    let when = compile_condition(file, raw, signals, sets, errors);
    let also = resolve_signals(file, &raw.also, signals, errors);
    let summary = compile_summary(file, raw, signals, when.as_ref(), &also, errors);
    let examples = raw
        .example
        .iter()
        .map(|e| compile_example(file, e))
        .collect();
    if errors.len() > start {
        return None;
    }
    Some(Rule {
        id: raw.id.get_ref().clone(),
        category: category.clone(),
        severity: severity?,
        priority: raw.priority.unwrap_or(DEFAULT_PRIORITY),
        title: raw.title.clone(),
        when: when?,
        when_text: raw.when.get_ref().clone(),
        also,
        suppresses: raw.suppresses.iter().map(|s| s.get_ref().clone()).collect(),
        generic: raw.generic,
        summary: summary?,
        causes: raw.causes.clone(),
        remediation: raw.remediation.clone(),
        references: raw.references.clone(),
        examples,
        origin: format!(
            "{}:{}",
            file.path,
            line_col(&file.text, raw.id.span().start).0
        ),
        shipped: is_shipped(file),
        reads: Vec::new(),
        fires_on_nothing: true,
    })
}

fn compile_condition(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    sets: &BTreeMap<String, Arc<[String]>>,
    errors: &mut Vec<RuleError>,
) -> Option<Condition> {
    let base = content_start(file, &raw.when.span());
    let mut condition = match cond::parse_condition(raw.when.get_ref()) {
        Ok(c) => c,
        Err(e) => {
            errors.push(locate(
                file,
                base + e.offset,
                format!("in `when`: {}", e.message),
            ));
            return None;
        }
    };
    let mut problems: Vec<(usize, String)> = Vec::new();
    condition.atoms(&mut |test: &Test| {
        let Some(signal) = signals.index(test.signal()) else {
            let ids: Vec<&str> = signals.signals().iter().map(|s| s.id.as_str()).collect();
            problems.push((
                test.at(),
                format!(
                    "unknown signal `{}`{}: expected the id of a `[[signal]]` in any rule file",
                    test.signal(),
                    did_you_mean(test.signal(), &ids)
                ),
            ));
            return;
        };
        let fields: Vec<&str> = signals.signals()[signal].field_names().collect();
        for (at, field) in test.fields() {
            if !fields.contains(&field) {
                problems.push((
                    at,
                    format!(
                        "unknown field `{field}` of signal `{}`{}: expected a capture of its \
                         patterns, a column of its lookup tables, or one of {}",
                        test.signal(),
                        did_you_mean(field, &fields),
                        crate::signal::BUILTIN_FIELDS.join(", ")
                    ),
                ));
            }
        }
    });
    condition.atoms_mut(&mut |test: &mut Test| {
        let predicate = match test {
            Test::Quantified { predicate, .. } | Test::Count { predicate, .. } => predicate,
        };
        let Some(predicate) = predicate else { return };
        predicate.atoms_mut(&mut |field_test| {
            if let FieldTest::In {
                values,
                set: Some(name),
                set_at,
                ..
            } = field_test
            {
                match sets.get(name.as_str()) {
                    Some(members) => *values = Arc::clone(members),
                    None => {
                        let names: Vec<&str> = sets.keys().map(String::as_str).collect();
                        problems.push((
                            *set_at,
                            format!(
                                "unknown set `@{name}`{}: expected a name defined under `[sets]` \
                                 in a rule file, or a data table's name",
                                did_you_mean(name, &names)
                            ),
                        ));
                    }
                }
            }
        });
    });
    problems.sort_by_key(|(at, _)| *at);
    for (at, message) in problems {
        errors.push(locate(file, base + at, format!("in `when`: {message}")));
    }
    Some(condition)
}

fn resolve_signals(
    file: &RuleFile,
    ids: &[Spanned<String>],
    signals: &Known<'_>,
    errors: &mut Vec<RuleError>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for id in ids {
        match signals.index(id.get_ref()) {
            Some(i) => out.push(i),
            None => errors.push(locate(
                file,
                id.span().start,
                format!(
                    "unknown signal `{}` in `also`: expected the id of a `[[signal]]`",
                    id.get_ref()
                ),
            )),
        }
    }
    out
}

fn compile_summary(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    when: Option<&Condition>,
    also: &[usize],
    errors: &mut Vec<RuleError>,
) -> Option<Template> {
    let base = content_start(file, &raw.summary.span());
    let template = match Template::parse(raw.summary.get_ref()) {
        Ok(t) => t,
        Err(e) => {
            errors.push(locate(
                file,
                base + e.offset,
                format!("in `summary`: {}", e.message),
            ));
            return None;
        }
    };
    let mut known: HashSet<&str> = crate::rule::template::BUILTIN_NAMES
        .iter()
        .copied()
        .collect();
    let mut used = also.to_vec();
    if let Some(when) = when {
        when.atoms(&mut |t: &Test| used.extend(signals.index(t.signal())));
    }
    for i in used {
        known.extend(signals.signals()[i].field_names());
    }
    for (offset, name) in template.field_names() {
        if !known.contains(name) {
            errors.push(locate(file, base + offset, format!(
                "in `summary`: unknown field `{name}`: expected `count`, `packages` or a capture of the rule's signals"
            )));
        }
    }
    Some(template)
}

fn compile_example(file: &RuleFile, raw: &RawExample) -> Example {
    let fields = raw
        .fields
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    Example {
        name: raw.name.clone(),
        log: raw.log.get_ref().clone(),
        fires: raw.fires,
        fields,
        packages: raw.packages.clone(),
        origin: format!(
            "{}:{}",
            file.path,
            line_col(&file.text, raw.log.span().start).0
        ),
    }
}

fn check_suppressions(
    files: &[RuleFile],
    raw_rules: &[(usize, RawRule)],
    errors: &mut Vec<RuleError>,
) {
    let ids: HashSet<&str> = raw_rules
        .iter()
        .map(|(_, r)| r.id.get_ref().as_str())
        .collect();
    for (f, rule) in raw_rules {
        for target in &rule.suppresses {
            if !ids.contains(target.get_ref().as_str()) {
                errors.push(locate(
                    &files[*f],
                    target.span().start,
                    format!(
                        "unknown rule `{}` in `suppresses`: expected the id of a `[[rule]]`",
                        target.get_ref()
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
