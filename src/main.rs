//! Minimal dispatcher for `magediag`; only the `auth` subcommand for now.

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use magediag::auth::{self, AuthArgs, AuthOutcome};

/// Diagnoses Magento Commerce Cloud deployments.
#[derive(Parser, Debug)]
#[command(name = "magediag", version, about)]
struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Check where Composer keys for repo.magento.com are configured and whether they work.
    Auth(AuthArgs),
}

/// Parses the command line and maps outcomes to exit codes: 0 fine, 1 problem, 2 error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Auth(args) => {
            let result = auth::run(&args, &mut io::stdin().lock(), &mut io::stdout().lock());
            match result {
                Ok(AuthOutcome::Fine) => ExitCode::SUCCESS,
                Ok(AuthOutcome::ProblemFound) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("magediag: error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
