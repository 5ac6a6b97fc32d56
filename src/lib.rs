//! magediag: diagnoses Magento Commerce Cloud deployment logs with declarative rules.
//!
//! A log flows through the stages below in this order; [`pipeline`] drives them, a
//! buffer at a time, and [`commands`] runs the pipeline for each subcommand.

// The stages, in the order data flows.

/// Bytes in, byte lines out: stdin, files, gzip, UTF-16, folder walks.
pub mod input;

/// Pasted text made whole again: wraps, prefixes, quoting, markup.
pub mod repair;

/// Each line's envelope and the context earlier lines give it.
pub mod record;

/// The lines worth reading, found a buffer at a time; the rest are only counted.
pub mod gate;

/// Typed events from the lines that rules read.
pub mod signal;

/// Rule files: conditions, templates, tables and examples.
pub mod rule;

/// Events to ranked diagnoses, one per rule that fired.
pub mod engine;

/// The stages above over one source, its runs and its threads.
pub mod pipeline;

/// The diagnosis contract and its renderers, one per format.
pub mod report;

/// Secrets masked before anything is shown.
pub mod mask;

// What runs the stages and serves their answers.

/// Where Composer keys are set, and whether they work.
pub mod auth;

/// The command line, one file per subcommand.
pub mod commands;

/// Messages on stderr and the wording of I/O errors.
pub mod messages;

/// A local page and API to paste or drop logs into.
pub mod serve;

/// What the pipeline made of some lines, for `magediag trace`.
pub mod trace;

pub use commands::run;
pub use messages::{describe_io, is_broken_pipe, warn};

/// How a run ended, mapped to the exit status by `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at the failing severity: exit 0.
    Clean,
    /// At least one diagnosis at the failing severity (or a failed rule test): exit 1.
    Diagnosed,
    /// Usage or I/O error, invalid rules, or an input not read in full: exit 2.
    Trouble,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Diagnosed => 1,
            Exit::Trouble => 2,
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
