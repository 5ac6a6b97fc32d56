//! The command line, as clap definitions (also the source of `--help`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::render::Format;

const ABOUT: &str =
    "Diagnose failed Magento Commerce Cloud (Adobe Commerce on cloud) deployment logs.";

pub(crate) const AFTER_HELP: &str = "\
Examples:
  magento-cloud log deploy | magediag           diagnose the latest deployment run
  magediag build.log deploy.log                 diagnose files (.gz is read decompressed)
  magediag --all-runs deploy.log                diagnose every deployment in a never-rotated log
  magediag --run -2 deploy.log                  diagnose the deployment before the latest
  magediag --format json < build.log            machine-readable report (schema magediag/1)
  magediag --format github --fail-on warning build.log   annotations in GitHub Actions
  magediag --rules ./my-rules build.log         add or override rules from a file or folder
  magediag rules list                           the rules that ship with magediag
  magediag explain repo-keys-rejected           what a rule means and how to fix it
  magediag auth --online                        check the project's Composer keys

Exit status:
  0  nothing diagnosed at the --fail-on severity (default: error)
  1  at least one diagnosis of that severity
  2  usage error (also a --run N the log does not hold), invalid rule file, an
     input that could not be read in full, or no input at all (an empty standard
     input or file, a folder without logs): an empty pipe never passes as clean

Secrets (Composer keys, COMPOSER_AUTH, tokens, user:pass@ in URLs) are masked in all output.";

const AUTH_HELP: &str = crate::auth::HELP;

/// magediag: what broke in a Commerce Cloud deployment, and how to fix it.
#[derive(Debug, Parser)]
#[command(
    name = "magediag",
    version = crate::VERSION.as_str(),
    about = ABOUT,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Log files to diagnose; standard input when none is given (or `-`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub global: GlobalOptions,

    #[command(flatten)]
    pub run: RunOption,
}

/// `--run N`: one deployment run of each log (the main command and `paste`; a folder's
/// logs hold different runs, so `scan` has only `--all-runs`).
#[derive(Debug, Args, Clone)]
pub struct RunOption {
    /// Diagnose deployment run N of the log instead of the latest: 1 is the first, 2 the
    /// second; -1 is the latest, -2 the one before it. A log without run N is an error
    /// (exit status 2).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        conflicts_with = "all_runs",
        value_parser = parse_run
    )]
    pub run: Option<i64>,
}

/// Parses `--run N`: any number but 0.
fn parse_run(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(0) => Err("0 is no run: 1 is the first, -1 the latest".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{text}` is not a run number: 1 is the first, -1 the latest"
        )),
    }
}

/// The options of a diagnosis (`magediag FILE...`, `scan` and `paste`). Other commands
/// take only those of them they honour; they reach the library as a `GlobalOptions`.
#[derive(Debug, Args, Clone)]
pub struct GlobalOptions {
    #[command(flatten)]
    pub rules: RulesOption,

    #[command(flatten)]
    pub color: ColorOption,

    /// Output format [default: text; markdown for `paste`].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// Show every evidence line, package, likely cause and reference in text output.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Diagnose every deployment run in a log, not only the latest.
    #[arg(long)]
    pub all_runs: bool,

    /// `--run N`, where the command takes it ([`RunOption`]).
    #[arg(skip)]
    pub run: Option<i64>,

    /// Which severity makes the exit status 1 (for CI gating).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Add what `magediag auth` finds in this project to the diagnosis of a log.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// The most bytes decompressed from one gzip source (default 8G; also
    /// MAGEDIAG_MAX_DECOMPRESSED). Hidden: for tests and unusual archives.
    #[arg(long, value_name = "SIZE", hide = true, value_parser = crate::input::decode::parse_size)]
    pub max_decompressed: Option<u64>,
}

impl GlobalOptions {
    /// The defaults, for commands that take only some of the options.
    pub fn defaults() -> GlobalOptions {
        GlobalOptions {
            rules: RulesOption { rules: Vec::new() },
            color: ColorOption {
                color: ColorChoice::Auto,
            },
            format: None,
            verbose: false,
            all_runs: false,
            run: None,
            fail_on: FailOn::Error,
            project: None,
            max_decompressed: None,
        }
    }
}

/// `--rules PATH`.
#[derive(Debug, Args, Clone)]
pub struct RulesOption {
    /// Add rules from a TOML file or a folder of them; equal ids replace shipped rules.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// `--color WHEN`.
#[derive(Debug, Args, Clone)]
pub struct ColorOption {
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--format text|json`, for the commands that print a report of their own.
#[derive(Debug, Args, Clone)]
pub struct TextOrJsonOption {
    /// Output format (the JSON is described in docs/json-schema.md).
    #[arg(long, short = 'f', value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

/// Text for people, or JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

/// The least severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    Auto,
    Always,
    Never,
}

const SCAN_HELP: &str = "\
Every regular file under each DIR is a log of its own, whatever its name: plain text,
CRLF, and gzip (detected by its magic bytes, also multi-member, e.g. rotated
deploy.log.1.gz). Files whose first 8 KiB hold NUL bytes are skipped as binary; FIFOs,
sockets and devices are skipped without being opened; symlinks are skipped unless -L.
Narrow the walk with --glob (repeatable; a leading ! excludes) and --max-depth.

Examples:
  magediag scan ./logs                           every log under ./logs, with a roll-up
  magediag scan ./logs --glob '*.log*' --glob '!*debug*'
  magediag scan prod/ staging/ --format json     one report: sources[] and summary.scan

Exit status: 2 if any file could not be read in full (the report of the rest is still
printed) or no log was read at all (an empty folder, or only skipped files), else 1 if
an error was diagnosed, else 0. Skipped binary files are counted, not errors.";

const PASTE_HELP: &str = "\
Paste failure output copied from a web UI, an e-mail, a chat or a GitHub issue, then
press Ctrl-D (Ctrl-Z then Enter on Windows). From a pipe it just reads.
The damage pasting does is repaired first: lines wrapped by a terminal or mail client
(even in the middle of a URL), HTML entities, ANSI colours, smart quotes, Markdown
quotes, fences and backticks, bullets, and prefixes such as Cloud's W:, Vagrant's
==> default: or docker-compose's service |.

Examples:
  magediag paste > ticket.md
  pbpaste | magediag paste
  magediag paste --format text";

const SERVE_HELP: &str = "\
Serves a page at http://127.0.0.1:PORT/ (printed on start) to paste failure output into
or drop log files on (plain or .gz; several are diagnosed like scan). Everything stays
on this machine: the page makes no request elsewhere, the server writes no files and
keeps nothing between requests. Ctrl-C stops it.

The API: POST /api/diagnose with a text or gzip body returns the --format json report;
?format=markdown returns what `magediag paste` prints. See docs/serve.md.

Examples:
  magediag serve --open
  magediag serve --port 8080
  curl --data-binary @build.log 'http://127.0.0.1:8080/api/diagnose?format=markdown'";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose every log under one or more folders, with a roll-up across them.
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// Diagnose pasted text; Markdown out, ready for a support ticket.
    #[command(after_help = PASTE_HELP)]
    Paste {
        #[command(flatten)]
        options: GlobalOptions,
        #[command(flatten)]
        run: RunOption,
    },
    /// Work with rules: list them, run their examples, check rule files.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Check where Composer keys for repo.magento.com are configured, and whether they work.
    #[command(after_help = AUTH_HELP)]
    Auth(Box<crate::auth::AuthArgs>),
    /// Show what the pipeline made of some lines and why each rule fired or not.
    #[command(
        after_help = "Examples:\n  magediag trace build.log --line 42\n  magediag trace build.log --line 40-60 --rules ./my-rules\n  magento-cloud log deploy | magediag trace - --line 120 --all-runs"
    )]
    Trace {
        /// The log to trace.
        file: PathBuf,
        /// A line number, or a range like 40-60.
        #[arg(long, short = 'n', value_name = "N[-M]")]
        line: String,
        /// Judge every deployment run in the log, not only the latest.
        #[arg(long)]
        all_runs: bool,
        /// Judge only this rule (repeatable), test by test even when its signals saw none
        /// of the traced lines.
        #[arg(long = "rule", value_name = "ID")]
        only: Vec<String>,
        #[command(flatten)]
        rules: RulesOption,
        #[command(flatten)]
        format: TextOrJsonOption,
        #[command(flatten)]
        color: ColorOption,
    },
    /// Serve a page on this machine to paste or drop logs into, and its API.
    #[command(after_help = SERVE_HELP)]
    Serve {
        #[command(flatten)]
        args: crate::serve::ServeArgs,
        #[command(flatten)]
        rules: RulesOption,
        /// Diagnose every deployment run in a log, not only the latest.
        #[arg(long)]
        all_runs: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  magediag completions bash > ~/.local/share/bash-completion/completions/magediag\n  magediag completions zsh > \"${fpath[1]}/_magediag\"\n  magediag completions fish > ~/.config/fish/completions/magediag.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `magediag man | man -l -`.
    Man,
    /// Print a rule's full text: causes, steps, references and examples.
    #[command(
        after_help = "Examples:\n  magediag explain repo-keys-rejected      one rule\n  magediag explain auth-keys-rejected      the rules of a category (as `error[CATEGORY]` shows)"
    )]
    Explain {
        /// A rule id, or a category to list its rules (see `magediag rules list`).
        #[arg(value_name = "ID|CATEGORY")]
        id: String,
        #[command(flatten)]
        rules: RulesOption,
        #[command(flatten)]
        format: TextOrJsonOption,
        #[command(flatten)]
        color: ColorOption,
    },
}

/// What to do with rules.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List every rule: id, category, severity, title and its examples (`--format json`).
    List {
        #[command(flatten)]
        rules: RulesOption,
        #[command(flatten)]
        format: TextOrJsonOption,
    },
    /// Run rule examples: every rule's, or only those of the files given or of `--rule ID`.
    #[command(
        after_help = "Examples:\n  magediag rules test                      every rule, shipped and --rules\n  magediag rules test my-rules/            only the rules in my-rules/\n  magediag rules test my.toml --rule my-id only the rule my-id"
    )]
    Test {
        /// Rule files or folders: load them and run only their rules' examples.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Run only this rule's examples (repeatable).
        #[arg(long = "rule", value_name = "ID")]
        only: Vec<String>,
        #[command(flatten)]
        rules: RulesOption,
        #[command(flatten)]
        color: ColorOption,
    },
    /// List the signals rules read: patterns, captures, levels and the rules that read each.
    #[command(
        after_help = "Examples:\n  magediag rules signals\n  magediag rules signals composer.archive-refused\n  magediag rules signals --rules my.toml --format json"
    )]
    Signals {
        /// A signal id: show that signal in full.
        id: Option<String>,
        #[command(flatten)]
        rules: RulesOption,
        #[command(flatten)]
        format: TextOrJsonOption,
    },
    /// Print the rule catalogue as Markdown (the source of docs/rules.md).
    Doc {
        #[command(flatten)]
        rules: RulesOption,
    },
    /// Validate rule files (exit 2 with file:line:col on errors).
    #[command(
        after_help = "Checks syntax, ids, signals, fields and sets, and that each rule has an\nexample that fires and one that stays quiet; `rules test` runs them.\n\nExamples:\n  magediag rules check my-rules/\n  magediag rules check --rules my.toml"
    )]
    Check {
        /// Rule files or folders.
        #[arg(required_unless_present = "rules", value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        rules: RulesOption,
    },
}

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders (or files) to scan.
    #[arg(required = true, value_name = "DIR")]
    pub roots: Vec<PathBuf>,

    /// Only scan files matching this glob (repeatable); `!GLOB` excludes.
    #[arg(long, short = 'g', value_name = "GLOB")]
    pub glob: Vec<String>,

    /// Descend at most this many folder levels.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,

    /// Follow symbolic links (loops are reported, not walked).
    #[arg(long, short = 'L')]
    pub follow: bool,

    #[command(flatten)]
    pub options: GlobalOptions,
}
