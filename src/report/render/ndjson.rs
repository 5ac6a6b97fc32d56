//! Newline-delimited JSON: one record per diagnosis, then a summary record. The record
//! types are the ndjson contract (in `docs/magediag-1.schema.json` as `NdjsonRecord`).

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::Serialize;

use crate::report::diagnosis::{
    Diagnosis, Report, RunInfo, SCHEMA, SkippedRun, SourceReport, Summary,
};

/// One line of `--format ndjson`.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum NdjsonRecord<'a> {
    /// A diagnosis, with its source's path and run.
    Diagnosis(DiagnosisRecord<'a>),
    /// The totals, last.
    Summary(SummaryRecord<'a>),
}

/// A diagnosis record: the diagnosis and where it comes from.
#[derive(Serialize, JsonSchema)]
pub struct DiagnosisRecord<'a> {
    /// Always `magediag/1` for this version.
    #[schemars(schema_with = "crate::report::diagnosis::version_schema")]
    pub schema: &'a str,
    /// Always `diagnosis`.
    #[serde(rename = "type")]
    #[schemars(schema_with = "diagnosis_type")]
    pub kind: &'a str,
    /// The path of the diagnosis' source.
    pub path: &'a str,
    /// The deployment run of the source, when the log holds several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunRecord<'a>>,
    #[serde(flatten)]
    pub diagnosis: &'a Diagnosis,
}

/// A deployment run as a diagnosis record shows it: the `run` of a JSON report, except
/// that with `--all-runs` a run is written as it ends, before the runs after it are
/// read, so it has no `runs` (the summary record counts them).
#[derive(Serialize, JsonSchema)]
pub struct RunRecord<'a> {
    /// 1-based index among the runs of the source.
    pub index: usize,
    /// How many runs the source holds; absent with `--all-runs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<usize>,
    /// Timestamp of the line that started the run (or `line N`).
    pub started: &'a str,
    /// First line of the run.
    pub first_line: u64,
    /// Earlier runs not diagnosed (without `--all-runs`).
    pub skipped: usize,
    /// Without `--all-runs`: the runs not diagnosed that had errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_with_errors: Option<&'a [SkippedRun]>,
}

impl<'a> RunRecord<'a> {
    fn new(run: &'a RunInfo, total: bool) -> Self {
        RunRecord {
            index: run.index,
            runs: total.then_some(run.runs),
            started: &run.started,
            first_line: run.first_line,
            skipped: run.skipped,
            skipped_with_errors: run.skipped_with_errors.as_deref(),
        }
    }
}

/// The summary record: the report's `summary`.
#[derive(Serialize, JsonSchema)]
pub struct SummaryRecord<'a> {
    /// Always `magediag/1` for this version.
    #[schemars(schema_with = "crate::report::diagnosis::version_schema")]
    pub schema: &'a str,
    /// Always `summary`.
    #[serde(rename = "type")]
    #[schemars(schema_with = "summary_type")]
    pub kind: &'a str,
    #[serde(flatten)]
    pub summary: &'a Summary,
    /// With `--all-runs`, how many deployment runs each input held, in the order given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<&'a [RunCount]>,
}

/// How many deployment runs one input held, for the summary record of a stream.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunCount {
    /// The input's path.
    pub path: String,
    /// Its deployment runs (1 for a log of one run, or an input that could not be read).
    pub runs: usize,
}

fn diagnosis_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "const": "diagnosis" })
}

fn summary_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "const": "summary" })
}

pub(super) fn ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        ndjson_source(source, true, out)?;
    }
    ndjson_summary(&report.summary, None, out)
}

/// Writes one record per diagnosis of `source`; without `total`, its `run` has no `runs`
/// (a run written as it ends does not know how many follow it).
pub fn ndjson_source(source: &SourceReport, total: bool, out: &mut dyn Write) -> io::Result<()> {
    for d in &source.diagnoses {
        let record = NdjsonRecord::Diagnosis(DiagnosisRecord {
            schema: SCHEMA,
            kind: "diagnosis",
            path: &source.path,
            run: source.run.as_ref().map(|run| RunRecord::new(run, total)),
            diagnosis: d,
        });
        serde_json::to_writer(&mut *out, &record)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Writes the summary record; `runs`, when the runs were written as they ended, says how
/// many each input held.
pub fn ndjson_summary(
    summary: &Summary,
    runs: Option<&[RunCount]>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let record = NdjsonRecord::Summary(SummaryRecord {
        schema: SCHEMA,
        kind: "summary",
        summary,
        runs,
    });
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)
}
