//! ece-tools' `var/log/cloud.error.log`: JSON lines read as records.

use crate::envelope::{Envelope, Level};
use crate::record::{Record, Stage};

use super::run::RunState;
use super::steps::Late;

/// One entry of ece-tools' `var/log/cloud.error.log` (JSON lines, latest deploy only).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CloudErrorEntry {
    pub(super) error_code: u32,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) stage: String,
    #[serde(default)]
    pub(super) suggestion: String,
    #[serde(default, rename = "type")]
    pub(super) kind: String,
}

impl CloudErrorEntry {
    /// Reads a line as an entry, cheaply rejecting every other line first.
    pub(super) fn parse(text: &str) -> Option<CloudErrorEntry> {
        if !text.starts_with('{') || !text.contains("\"errorCode\"") {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// Turns the entry into a record, as if ece-tools had logged `LEVEL: [code] title`.
    pub(super) fn feed(
        &self,
        line: u64,
        text: &str,
        state: &mut RunState<'_>,
        (candidates, late): (Option<&[usize]>, Late<'_>),
    ) {
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
        let record = Record {
            line,
            envelope: Envelope {
                indent: 0,
                prefix: None,
                timestamp: None,
                level: Some(level),
                code: Some(self.error_code),
                header: None,
                message: &self.title,
            },
            stage,
            exception: None,
            continues_ece: false,
            new_run: None,
        };
        state.take(&record, text, candidates, late);
        if !self.suggestion.is_empty() {
            state.attach_suggestion(&self.suggestion);
        }
    }
}
