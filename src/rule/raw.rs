//! The rule file as serde reads it: every value that an error may point at keeps its
//! span, and unknown keys are refused.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    /// Named lists of values for `field in @name` tests.
    #[serde(default)]
    pub(super) sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub(super) signal: Vec<RawSignal>,
    #[serde(default)]
    pub(super) rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignal {
    pub(super) id: Spanned<String>,
    #[serde(default)]
    pub(super) description: String,
    pub(super) patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) levels: Vec<Spanned<String>>,
    /// Data tables (`data/*.tsv`) whose row adds fields to the signal's events.
    #[serde(default)]
    pub(super) lookup: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) id: Spanned<String>,
    pub(super) category: Spanned<String>,
    pub(super) severity: Spanned<String>,
    #[serde(default)]
    pub(super) priority: Option<i32>,
    pub(super) title: String,
    pub(super) when: Spanned<String>,
    #[serde(default)]
    pub(super) also: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) suppresses: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) generic: bool,
    pub(super) summary: Spanned<String>,
    pub(super) causes: Vec<String>,
    pub(super) remediation: Vec<String>,
    #[serde(default)]
    pub(super) references: Vec<String>,
    #[serde(default)]
    pub(super) example: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExample {
    #[serde(default)]
    pub(super) name: Option<String>,
    pub(super) log: Spanned<String>,
    pub(super) fires: bool,
    #[serde(default)]
    pub(super) fields: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(super) packages: Vec<String>,
}
