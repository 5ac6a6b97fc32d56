//! The command line, as clap definitions (also the source of `--help`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::Format;

const ABOUT: &str =
    "Diagnose failed Magento Commerce Cloud (Adobe Commerce on cloud) deployment logs.";

const AFTER_HELP: &str = "\
Examples:
  magento-cloud log deploy | magediag           diagnose the latest deployment run
  magediag build.log deploy.log                 diagnose files (.gz is read decompressed)
  magediag --all-runs deploy.log                diagnose every deployment in a never-rotated log
  magediag --format json < build.log            machine-readable report (schema magediag/1)
  magediag --rules ./my-rules build.log         add or override rules from a file or folder
  magediag rules list                           the rules that ship with magediag
  magediag explain repo-keys-rejected           what a rule means and how to fix it
  magediag auth --online                        check the project's Composer keys

Exit status:
  0  nothing diagnosed at error severity
  1  at least one diagnosis of severity error
  2  usage error, invalid rule file, or an input that could not be read in full

Secrets (Composer keys, COMPOSER_AUTH, tokens, user:pass@ in URLs) are masked in all output.";

const AUTH_HELP: &str = "\
Examples:
  magediag auth                                  check the project in the current folder
  magediag auth ~/projects/shop --online         also ask repo.magento.com whether each pair works
  magento-cloud variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth -

Keys are shown only as fingerprints (first 4 characters and a short hash).
Exit status: 0 fine, 1 a problem found, 2 usage or I/O error.";

/// magediag: what broke in a Commerce Cloud deployment, and how to fix it.
#[derive(Debug, Parser)]
#[command(name = "magediag", version = crate::VERSION.as_str(), about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Log files to diagnose; standard input when none is given (or `-`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub diagnose: DiagnoseOptions,

    #[command(flatten)]
    pub global: GlobalOptions,
}

/// Options that apply to every command.
#[derive(Debug, Args, Clone)]
pub struct GlobalOptions {
    /// Add rules from a TOML file or a folder of them; equal ids replace shipped rules.
    #[arg(long, value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

/// Options of the diagnosing commands.
#[derive(Debug, Args, Clone)]
pub struct DiagnoseOptions {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Diagnose every deployment run in the log, not only the latest.
    #[arg(long)]
    pub all_runs: bool,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    Auto,
    Always,
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with rules: list them, run their examples, check rule files.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Check where Composer keys for repo.magento.com are configured, and whether they work.
    #[command(after_help = AUTH_HELP)]
    Auth(crate::auth::AuthArgs),
    /// Print a rule's full text: causes, steps, references and examples.
    Explain {
        /// The rule id (see `magediag rules list`).
        id: String,
    },
}

/// What to do with rules.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List every rule: id, category, severity, title and its examples.
    List {
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Run the examples of the shipped rules and of `--rules PATH`.
    Test,
    /// Validate rule files (exit 2 with file:line:col on errors).
    Check {
        /// Rule files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// Output formats of listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}
