//! ece-tools' `var/log/cloud.error.log`: JSON lines read as records.

use crate::record::envelope::{Envelope, Level};
use crate::record::{Record, Stage};

/// One entry of ece-tools' `var/log/cloud.error.log` (JSON lines, latest deploy only).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudErrorEntry {
    error_code: u32,
    #[serde(default)]
    title: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    suggestion: String,
    #[serde(default, rename = "type")]
    kind: String,
}

impl CloudErrorEntry {
    /// Reads a line as an entry, cheaply rejecting every other line first.
    pub fn parse(text: &str) -> Option<CloudErrorEntry> {
        if !text.starts_with('{') || !text.contains("\"errorCode\"") {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// The entry as a record of line `line`, as if ece-tools had logged
    /// `LEVEL: [code] title` in the entry's stage.
    pub fn record(&self, line: u64) -> Record<'_> {
        let level = match self.kind.as_str() {
            "warning" => Level::Warning,
            _ => Level::Error,
        };
        let stage = match self.stage.as_str() {
            "build" => Some(Stage::Build),
            "deploy" => Some(Stage::Deploy),
            "post-deploy" => Some(Stage::PostDeploy),
            _ => None,
        };
        let envelope = Envelope::bare(Some(level), Some(self.error_code), &self.title);
        Record::bare(line, envelope, stage)
    }

    /// The entry's suggestion, attached to what its record matched as ece-tools'
    /// suggestion lines are.
    pub fn suggestion(&self) -> Option<&str> {
        Some(self.suggestion.as_str()).filter(|s| !s.is_empty())
    }
}
