//! Newline-delimited JSON: one record per diagnosis, then a summary record.

use std::io::{self, Write};

use crate::report::diagnosis::Report;

pub(super) fn ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for source in &report.sources {
        for d in &source.diagnoses {
            let mut record = serde_json::json!({
                "schema": crate::report::diagnosis::SCHEMA,
                "type": "diagnosis",
                "path": source.path,
            });
            if let Some(run) = &source.run {
                record["run"] = serde_json::to_value(run)?;
            }
            if let (Some(map), serde_json::Value::Object(fields)) =
                (record.as_object_mut(), serde_json::to_value(d)?)
            {
                map.extend(fields);
            }
            serde_json::to_writer(&mut *out, &record)?;
            writeln!(out)?;
        }
    }
    let mut summary =
        serde_json::json!({ "schema": crate::report::diagnosis::SCHEMA, "type": "summary" });
    if let (Some(map), serde_json::Value::Object(fields)) = (
        summary.as_object_mut(),
        serde_json::to_value(&report.summary)?,
    ) {
        map.extend(fields);
    }
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)
}
