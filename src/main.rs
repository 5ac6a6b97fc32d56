//! The magediag binary: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = magediag::cli::Cli::parse();
    match magediag::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if magediag::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            magediag::warn(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
