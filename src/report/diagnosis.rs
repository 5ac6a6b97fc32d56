//! The result of a run, serialized as-is: this module is the JSON contract
//! (`magediag/1`, documented in `docs/json-schema.md`).

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON schema version.
pub const SCHEMA: &str = "magediag/1";

/// How bad a diagnosis is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The severity as written in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses the rule-file spelling.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The closed list of failure families that dashboards count.
pub const CATEGORIES: &[&str] = &[
    "auth-keys-rejected",
    "auth-keys-missing",
    "auth-not-entitled",
    "network",
    "patch-failed",
    "static-content-failed",
    "search-engine-unavailable",
    "memory-exhausted",
    "disk-full",
    "php-version-mismatch",
    "dependency-conflict",
    "database-unavailable",
    "deploy-command-failed",
];

/// A package named by a diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Package {
    /// `vendor/name`.
    pub name: String,
    pub version: Option<String>,
    /// What happened to it: an HTTP status (`403`), or a word such as `requested`.
    pub status: Option<String>,
}

/// A log line that supports a diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub path: String,
    pub line: u64,
    pub text: String,
    /// Where the signal's pattern matched in `text` (byte offsets), for text output to
    /// highlight; not part of the JSON.
    #[serde(skip)]
    pub matched: Option<(usize, usize)>,
}

/// One rule that fired on one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnosis {
    pub rule: String,
    #[schemars(schema_with = "category_schema")]
    pub category: String,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    /// How many log lines support it (evidence may show fewer).
    pub count: u64,
    pub packages: Vec<Package>,
    pub evidence: Vec<Evidence>,
    pub causes: Vec<String>,
    pub remediation: Vec<String>,
    pub references: Vec<String>,
}

/// Lines that look most like an error, shown when no rule fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hint {
    pub line: u64,
    pub text: String,
}

/// What one source (a file, stdin, or one run of it) produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceReport {
    pub path: String,
    /// Physical lines read.
    pub lines: u64,
    /// The deployment run diagnosed, when the log holds several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
    pub diagnoses: Vec<Diagnosis>,
    /// When nothing was diagnosed: the lines that look most like an error.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hints: Vec<Hint>,
    /// Things the reader noticed: binary data, cut lines, read errors.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// Why this input could not be read, or not in full (absent when it was read); when
    /// some of it was, the reason starts `reading stopped after line N:` (a line of the
    /// input, whichever run it falls in).
    /// With `lines` 0, nothing of it was read and `diagnoses` is empty.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Set when the input was read but holds no deployment run `--run` asked for: then
    /// `error` says so and `diagnoses` is empty. Not part of the JSON (its `error` is).
    #[serde(skip)]
    pub run_missing: bool,
}

impl SourceReport {
    /// The report of an input that could not be opened at all.
    pub fn unreadable(path: String, reason: String) -> SourceReport {
        // A path can hold a secret's shape (`password=x.log`): masked, as every report
        // path is.
        SourceReport {
            path: crate::mask::mask(&path).into_owned(),
            lines: 0,
            run: None,
            diagnoses: Vec::new(),
            hints: Vec::new(),
            notes: Vec::new(),
            error: Some(crate::mask::mask(&reason).into_owned()),
            run_missing: false,
        }
    }

    /// Whether nothing at all came from this input: no line read, for whatever reason.
    pub fn nothing_read(&self) -> bool {
        self.lines == 0 && self.diagnoses.is_empty()
    }
}

/// Which run of a multi-deployment log a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// 1-based index among the runs of the source.
    pub index: usize,
    pub runs: usize,
    /// Timestamp of the line that started the run (or `line N`).
    pub started: String,
    /// First line of the run.
    pub first_line: u64,
    /// Earlier runs not diagnosed (without `--all-runs`).
    pub skipped: usize,
    /// Without `--all-runs`: of the runs not diagnosed (the earlier ones, and with
    /// `--run` the later ones), those that had a diagnosis of severity error.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skipped_with_errors: Option<Vec<SkippedRun>>,
}

/// A deployment run that was read but not diagnosed, and had errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedRun {
    /// 1-based index among the runs of the source.
    pub index: usize,
    /// Timestamp of the line that started the run (or `line N`).
    pub started: String,
    /// How many diagnoses of severity error `--all-runs` shows for it.
    pub errors: usize,
}

/// Totals across sources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub sources: usize,
    pub diagnoses: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Diagnoses per category.
    pub categories: BTreeMap<String, usize>,
    /// What a folder scan read, skipped and failed, and the causes across logs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scan: Option<Rollup>,
}

/// The roll-up of a folder scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rollup {
    /// Logs read (in full or in part).
    pub read: usize,
    /// Of those, gzip-compressed.
    pub compressed: usize,
    /// Files not read on purpose, by reason (`binary`, `special`, `symlink`, `excluded`).
    pub skipped: BTreeMap<String, usize>,
    /// Files or folders that could not be read in full.
    pub failed: Vec<Failed>,
    /// Categories ranked by how many logs they hit.
    pub causes: Vec<Cause>,
}

/// An input that could not be read in full, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Failed {
    pub path: String,
    pub reason: String,
}

/// One category across the logs of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cause {
    #[schemars(schema_with = "category_schema")]
    pub category: String,
    /// The worst severity it had in any log.
    pub severity: Severity,
    /// How many logs it hit.
    pub logs: usize,
    /// Which logs, in path order.
    pub paths: Vec<String>,
}

impl Rollup {
    /// Ranks the categories of the reports by how many logs they hit.
    pub fn rank_causes(&mut self, sources: &[SourceReport]) {
        let mut by_category: BTreeMap<&str, (Severity, Vec<String>)> = BTreeMap::new();
        for source in sources {
            for d in &source.diagnoses {
                let entry = by_category
                    .entry(&d.category)
                    .or_insert((d.severity, Vec::new()));
                entry.0 = entry.0.max(d.severity);
                if entry.1.last() != Some(&source.path) {
                    entry.1.push(source.path.clone());
                }
            }
        }
        let mut causes: Vec<Cause> = by_category
            .into_iter()
            .map(|(category, (severity, paths))| Cause {
                category: category.to_owned(),
                severity,
                logs: paths.len(),
                paths,
            })
            .collect();
        causes.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.logs.cmp(&a.logs))
                .then(a.category.cmp(&b.category))
        });
        self.causes = causes;
    }
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Always `magediag/1` for this version.
    #[schemars(schema_with = "version_schema")]
    pub schema: String,
    pub sources: Vec<SourceReport>,
    pub summary: Summary,
}

impl Report {
    /// Wraps source reports and counts them up.
    pub fn new(sources: Vec<SourceReport>) -> Report {
        let mut summary = Summary::default();
        sources.iter().for_each(|source| summary.count(source));
        Report {
            schema: SCHEMA.to_owned(),
            sources,
            summary,
        }
    }
}

impl Summary {
    /// Counts one more source and its diagnoses.
    pub fn count(&mut self, source: &SourceReport) {
        self.sources += 1;
        for diagnosis in &source.diagnoses {
            self.diagnoses += 1;
            match diagnosis.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
            *self
                .categories
                .entry(diagnosis.category.clone())
                .or_default() += 1;
        }
    }

    /// Whether any diagnosis counted is at least this severe.
    pub fn has_at_least(&self, severity: Severity) -> bool {
        match severity {
            Severity::Error => self.errors > 0,
            Severity::Warning => self.errors + self.warnings > 0,
            Severity::Info => self.diagnoses > 0,
        }
    }
}

/// A category: one of [`CATEGORIES`].
pub(crate) fn category_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": CATEGORIES })
}

/// The schema version: [`SCHEMA`].
pub(crate) fn version_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "const": SCHEMA })
}
