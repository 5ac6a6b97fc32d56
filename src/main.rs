//! The magediag binary: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match magediag::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
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
                    magediag::describe_io(io)
                )),
                None => magediag::warn(&format!("{e:#}")),
            }
            ExitCode::from(2)
        }
    }
}

/// Prints `--help`, `--version` or a usage error as clap would, and its exit status; a
/// help text that cannot be written (`--help > /dev/full`) is an error, not a success.
fn usage(e: &clap::Error) -> ExitCode {
    let asked = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let printed = e.print().and_then(|()| {
        use std::io::Write;
        std::io::stdout().flush()
    });
    match printed {
        Ok(()) if asked => ExitCode::SUCCESS,
        Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(io) if asked => {
            magediag::warn(&format!(
                "<stdout>: cannot write the help: {}",
                magediag::describe_io(&io)
            ));
            ExitCode::from(2)
        }
        _ => ExitCode::from(2),
    }
}
