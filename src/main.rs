//! The magediag binary: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = magediag::cli::Cli::parse();
    match magediag::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if magediag::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Only writing the output fails this way (the inputs are reported as they
            // are read): name it like any other path, `magediag: <stdout>: reason`.
            let io = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>());
            match io {
                Some(io) => magediag::warn(&format!(
                    "<stdout>: cannot write the report: {}",
                    magediag::commands::describe_io(io)
                )),
                None => magediag::warn(&format!("{e:#}")),
            }
            ExitCode::from(2)
        }
    }
}
