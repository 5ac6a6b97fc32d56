//! Newline-delimited JSON: one record per diagnosis, then a summary record. The record
//! types are the ndjson contract (in `docs/magediag-1.schema.json` as `NdjsonRecord`).

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::Serialize;

use crate::report::diagnosis::{Diagnosis, Report, RunInfo, SCHEMA, Summary};

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
    pub run: Option<&'a RunInfo>,
    #[serde(flatten)]
    pub diagnosis: &'a Diagnosis,
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
}

fn diagnosis_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "const": "diagnosis" })
}

fn summary_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "const": "summary" })
}

pub(super) fn ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        for d in &source.diagnoses {
            let record = NdjsonRecord::Diagnosis(DiagnosisRecord {
                schema: SCHEMA,
                kind: "diagnosis",
                path: &source.path,
                run: source.run.as_ref(),
                diagnosis: d,
            });
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)?;
        }
    }
    let summary = NdjsonRecord::Summary(SummaryRecord {
        schema: SCHEMA,
        kind: "summary",
        summary: &report.summary,
    });
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)
}
