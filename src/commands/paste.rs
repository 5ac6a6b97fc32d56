//! `paste`: diagnose pasted text and write a reply a support engineer can send.

use std::io::{self, IsTerminal, Read, Write};

use anyhow::Context;

use crate::commands::cli::GlobalOptions;
use crate::input::source::Source;
use crate::messages::describe_io;
use crate::pipeline;
use crate::report::diagnosis::{Report, SourceReport};
use crate::report::render::Format;
use crate::{Exit, warn};

use super::diagnose::{add_project_findings, emit};
use super::{load_rules, outcome, runs, text_options};

/// The most text `paste` reads; a paste larger than this is a log: use a file.
const PASTE_CAP: u64 = 64 << 20;

pub(super) fn paste(global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let keys = if cfg!(windows) {
            "Ctrl-Z then Enter"
        } else {
            "Ctrl-D"
        };
        eprintln!("Paste the output, then {keys}:");
    }
    let mut text = Vec::new();
    let read = stdin.lock().take(PASTE_CAP).read_to_end(&mut text);
    let mut trouble = false;
    if let Err(e) = read {
        warn(&format!(
            "<paste>: {}; what was read before is diagnosed",
            describe_io(&e)
        ));
        trouble = true;
    }
    if text.len() as u64 >= PASTE_CAP {
        warn(&format!(
            "<paste>: longer than {} MiB; only the start was read (use `magediag FILE` for logs)",
            PASTE_CAP >> 20
        ));
        trouble = true;
    }
    // The whole paste is read too: the customer's words, pasted configuration and the
    // secrets it holds (which are then removed from the report, whatever the format).
    let ticket = crate::report::reply::Ticket::read(&String::from_utf8_lossy(&text));
    let source = Source::from_reader("<paste>".into(), io::Cursor::new(text))
        .context("reading the paste")?;
    let diagnosed = pipeline::diagnose_source(&rules, source, runs(global));
    let mut report = Report::new(diagnosed.reports);
    if report.sources.iter().all(SourceReport::nothing_read) {
        warn("<paste>: no input: nothing was pasted");
        trouble = true;
    } else {
        trouble |= super::diagnose::warn_missing_run("<paste>", &report.sources);
    }
    trouble |= !add_project_findings(&mut report, global);
    crate::report::reply::redact_report(&mut report, &ticket);
    let format = global.format.unwrap_or(Format::Markdown);
    if format == Format::Markdown {
        crate::report::reply::write(&report, &rules, Some(&ticket), out)
            .context("writing the reply")?;
    } else {
        emit(&report, format, &text_options(global), false, out)?;
    }
    Ok(outcome(&report.summary, trouble, global.fail_on))
}
