//! magediag: diagnoses Magento Commerce Cloud deployment logs with declarative rules.
//!
//! A log flows through the stages below in this order; `pipeline` drives them, a
//! buffer at a time, and `commands` runs the pipeline for each subcommand.

// The stages, in the order data flows. One line each, as plain comments: a module's
// doc is its own `//!` (with a `///` here too, rustdoc would read the module's links
// from this file's scope).

// Bytes in, byte lines out: stdin, files, gzip, UTF-16, folder walks.
mod input;

// Pasted text made whole again: wraps, prefixes, quoting, markup.
mod repair;

// Each line's envelope and the context earlier lines give it.
mod record;

// The lines worth reading, found a buffer at a time; the rest are only counted.
mod gate;

// Typed events from the lines that rules read.
mod signal;

// Rule files: conditions, templates, tables and examples.
mod rule;

// Events to ranked diagnoses, one per rule that fired.
mod engine;

// The stages above over one source, its runs and its threads.
mod pipeline;

// The diagnosis contract and its renderers, one per format.
mod report;

// Secrets masked before anything is shown.
mod mask;

// What runs the stages and serves their answers.

// Where Composer keys are set, and whether they work.
mod auth;

// The command line, one file per subcommand.
mod commands;

// Messages on stderr and the wording of I/O errors.
mod messages;

// A local page and API to paste or drop logs into.
mod serve;

// What the pipeline made of some lines, for `magediag trace`.
mod trace;

pub use commands::cli::Cli;
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

/// What the integration tests and benchmarks reach inside the crate, at the paths of
/// the modules that hold it. Not an API: it changes with the code.
#[doc(hidden)]
pub mod testing {
    pub mod commands {
        pub use crate::commands::json_schema;
        pub mod cli {
            pub use crate::commands::cli::Cli;
        }
    }
    pub mod gate {
        pub use crate::gate::GateScratch;
        pub mod prefilter {
            pub use crate::gate::prefilter::WARM_LINES;
        }
    }
    pub mod input {
        pub mod source {
            pub use crate::input::source::Source;
        }
    }
    pub mod mask {
        pub use crate::mask::{find_secrets, mask};
    }
    pub mod pipeline {
        pub use crate::pipeline::{
            Outcome, Runs, diagnose_every_line, diagnose_gated, diagnose_source,
        };
    }
    pub mod record {
        pub use crate::record::Framer;
        pub mod envelope {
            pub use crate::record::envelope::parse;
        }
    }
    pub mod repair {
        pub use crate::repair::{RepairedLine, Repairer, repair_text, starts_log_line};
    }
    pub mod report {
        pub mod diagnosis {
            pub use crate::report::diagnosis::{CATEGORIES, Report};
        }
        pub mod render {
            pub use crate::report::render::{
                Format, TextOptions, escape_data, escape_property, render, render_with,
            };
        }
        pub mod reply {
            pub use crate::report::reply::write;
        }
    }
    pub mod rule {
        pub use crate::rule::{RuleFile, RuleSet, embedded_files};
        pub mod catalogue {
            pub use crate::rule::catalogue::markdown;
        }
        pub mod cond {
            pub use crate::rule::cond::parse_condition;
        }
        pub mod examples {
            pub use crate::rule::examples::run_all;
        }
        pub mod table {
            pub use crate::rule::table::{Table, embedded};
        }
    }
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
