//! magediag: diagnoses Magento Commerce Cloud deployment logs with declarative rules.
//!
//! The pipeline, one module per stage: [`input`] (stdin, files, gzip, byte lines) (byte
//! lines) -> [`envelope`] / [`record`] (what wraps a message, and its context) ->
//! [`signal`] (typed events) -> [`rule`] / [`cond`] (the rule files and their conditions)
//! -> [`engine`] (diagnoses) -> [`diagnosis`] (the JSON contract) -> [`render`].
//! [`inputs`] and [`serve`] diagnose text held in memory for `magediag serve`'s page.

pub mod auth;
pub mod engine;
pub mod gate;
pub mod input;
pub mod mask;
pub mod messages;
pub mod pipeline;
pub mod record;
pub mod repair;
pub mod report;
pub mod rule;
pub mod serve;
pub mod signal;
pub mod trace;

pub mod commands;

pub use commands::run;
pub use messages::{describe_io, is_broken_pipe, warn};

/// How a run ended, mapped to the exit status by `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at the failing severity: exit 0.
    Clean,
    /// At least one diagnosis at the failing severity (or a failed rule test): exit 1.
    Diagnosed,
    /// Usage or I/O error, invalid rules, or an input not read in full: exit 2.
    Trouble,
}

impl Outcome {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Diagnosed => 1,
            Outcome::Trouble => 2,
        }
    }
}

/// The `--version` text, computed once.
pub static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(version_line);

/// The `--version` text: the crate version and the embedded rule catalogue.
///
/// It is built for every command line (clap wants it up front), so the rules are counted
/// as the catalogue's `[[rule]]` table headers, without parsing it (a unit test holds the
/// count to the loaded catalogue's).
pub fn version_line() -> String {
    let rules: usize = rule::EMBEDDED
        .iter()
        .map(|(_, text)| text.lines().filter(|l| l.trim_end() == "[[rule]]").count())
        .sum();
    format!(
        "{} ({rules} rules embedded, catalogue {})",
        env!("CARGO_PKG_VERSION"),
        rule::CATALOGUE_VERSION
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_line_counts_the_rules_the_catalogue_loads() {
        let loaded = crate::rule::RuleSet::embedded().unwrap().rules.len();
        assert!(
            super::version_line().contains(&format!("({loaded} rules embedded")),
            "{} vs {loaded}",
            super::version_line()
        );
    }
}
