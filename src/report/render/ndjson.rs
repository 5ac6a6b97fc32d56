//! Newline-delimited JSON: one record per diagnosis, then a summary record.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::diagnosis::{Report, SourceReport, Summary};

pub(super) fn ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        ndjson_source(source, true, out)?;
    }
    ndjson_summary(&report.summary, None, out)
}

/// How many deployment runs one input held, for the summary record of a stream.
#[derive(Debug, Clone, Serialize)]
pub struct RunCount {
    pub path: String,
    pub runs: usize,
}

/// Writes one record per diagnosis of `source`; without `total`, its `run` has no `runs`
/// (a run written as it ends does not know how many follow it).
pub fn ndjson_source(source: &SourceReport, total: bool, out: &mut dyn Write) -> io::Result<()> {
    for d in &source.diagnoses {
        let mut record = serde_json::json!({
            "schema": crate::report::diagnosis::SCHEMA,
            "type": "diagnosis",
            "path": source.path,
        });
        if let Some(run) = &source.run {
            let mut run = serde_json::to_value(run)?;
            if let (false, Some(fields)) = (total, run.as_object_mut()) {
                fields.shift_remove("runs");
            }
            record["run"] = run;
        }
        if let (Some(map), serde_json::Value::Object(fields)) =
            (record.as_object_mut(), serde_json::to_value(d)?)
        {
            map.extend(fields);
        }
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
    let mut record =
        serde_json::json!({ "schema": crate::report::diagnosis::SCHEMA, "type": "summary" });
    if let (Some(map), serde_json::Value::Object(fields)) =
        (record.as_object_mut(), serde_json::to_value(summary)?)
    {
        map.extend(fields);
    }
    if let (Some(map), Some(runs)) = (record.as_object_mut(), runs) {
        map.insert("runs".to_owned(), serde_json::to_value(runs)?);
    }
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)
}
