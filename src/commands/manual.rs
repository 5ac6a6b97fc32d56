//! `magediag man`: the man page, from the clap definitions plus the sections clap does
//! not write (commands, examples, exit status, environment).

use std::io::{self, Write};

use clap::CommandFactory;

use crate::commands::cli::Cli;

/// Escapes text for roff: backslashes, hyphens (so they copy as ASCII), and a leading
/// `.` or `'` that would read as a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Nothing diagnosed at the \\-\\-fail\\-on severity (default: error). For auth: no problem found.",
    ),
    (
        "1",
        "At least one diagnosis of that severity. For auth: a problem was found. For rules test: an example failed.",
    ),
    (
        "2",
        "A usage error (also a \\-\\-run N the log does not hold), an invalid rule file, an input that could not be read in full, or no input at all: an empty standard input or file, or a scan that found no log. An empty pipe never passes as clean.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "When set and not empty, text output is not coloured (unless \\-\\-color always).",
    ),
    (
        "CLICOLOR_FORCE",
        "When set and not 0, text output is coloured even when not on a terminal.",
    ),
    (
        "COLUMNS",
        "The width text output wraps to (at most 100); else the terminal's width, else 100.",
    ),
    (
        "COMPOSER_AUTH",
        "Read by auth (and \\-\\-project) as Composer reads it: keys in JSON. Never printed: keys are shown as fingerprints.",
    ),
    (
        "COMPOSER_HOME",
        "Where auth looks for the global auth.json (else ~/.config/composer or ~/.composer).",
    ),
    (
        "MAGEDIAG_MAX_DECOMPRESSED",
        "The most bytes decompressed from one gzip input (default 8G).",
    ),
    (
        "GITHUB_STEP_SUMMARY",
        "With \\-\\-format github, the full report is appended to this file as Markdown.",
    ),
];

/// Writes the man page (roff).
pub fn write(out: &mut dyn Write) -> io::Result<()> {
    let command = Cli::command();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;

    writeln!(out, ".SH COMMANDS")?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(out, ".TP\n\\fBmagediag {}\\fR", roff(sub.get_name()))?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", roff(&about.to_string()))?;
        }
    }
    writeln!(
        out,
        ".PP\n{}",
        roff("Each command's options and examples: magediag COMMAND --help.")
    )?;

    writeln!(out, ".SH EXAMPLES\n.nf")?;
    let examples = crate::commands::cli::AFTER_HELP
        .split("\n\n")
        .next()
        .unwrap_or_default();
    for line in examples.lines().skip(1) {
        writeln!(out, "{}", roff(line.trim_start()))?;
    }
    writeln!(out, ".fi")?;

    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (code, meaning) in EXIT_STATUS {
        writeln!(out, ".TP\n\\fB{code}\\fR\n{meaning}")?;
    }
    writeln!(out, ".SH ENVIRONMENT")?;
    for (name, meaning) in ENVIRONMENT {
        writeln!(out, ".TP\n\\fB{}\\fR\n{meaning}", roff(name))?;
    }
    writeln!(out, ".SH \"SEE ALSO\"")?;
    writeln!(
        out,
        "{}",
        roff("docs/writing-rules.md and docs/json-schema.md in the source; magediag explain RULE.")
    )?;
    man.render_version_section(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_exit_status_and_environment_and_names_no_missing_pages() {
        let mut page = Vec::new();
        write(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(".SH \"EXIT STATUS\""));
        assert!(page.contains(".SH ENVIRONMENT"));
        assert!(page.contains("MAGEDIAG_MAX_DECOMPRESSED") || page.contains("MAGEDIAG_MAX"));
        assert!(
            !page.contains("magediag-scan("),
            "names a page never generated"
        );
        assert!(page.contains("\\fBmagediag scan\\fR"));
    }
}
