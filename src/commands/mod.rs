//! The commands: each reads its inputs, runs the library and writes its output.

pub mod cli;
mod diagnose;
mod explain;
pub mod manual;
mod paste;
mod rules;
pub mod scan;
mod schema;
mod trace;

use diagnose::diagnose;
use explain::explain;
use paste::paste;
use rules::rules_command;
pub use schema::json_schema;
use trace::trace;

use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::Context;

use crate::commands::cli::{
    Cli, ColorChoice, Command, FailOn, GlobalOptions, RulesAction, TextOrJson, TextOrJsonOption,
};
use crate::pipeline::Runs;
use crate::report::diagnosis::{Severity, Summary};
use crate::report::render;
use crate::rule::{self, RuleFile, RuleSet};
use crate::{Exit, warn};

/// Runs the command line; errors that reach here are I/O errors on output.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let global = options_of(&cli);
    set_color(global.color.color);
    if !set_max_decompressed(&global) {
        return Ok(Exit::Trouble);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let json = |f: &TextOrJsonOption| f.format == TextOrJson::Json;
    let outcome = match &cli.command {
        None => diagnose(&cli.files, &global, &mut out)?,
        Some(Command::Rules { action }) => rules_command(action, &global, &mut out)?,
        Some(Command::Scan(args)) => scan::scan_command(args, &global, &mut out)?,
        Some(Command::Paste { .. }) => paste(&global, &mut out)?,
        Some(Command::Explain { id, format, .. }) => explain(id, &global, json(format), &mut out)?,
        Some(Command::Trace {
            file,
            line,
            only,
            format,
            ..
        }) => trace(file, line, only, &global, json(format), &mut out)?,
        Some(Command::Serve { args, .. }) => serve(args, &global)?,
        Some(Command::Completions { shell }) => {
            // clap_complete panics on a write error: generate into memory, then write.
            out.write_all(&completion_script(*shell))?;
            Exit::Clean
        }
        Some(Command::Man) => {
            crate::commands::manual::write(&mut out)?;
            Exit::Clean
        }
        Some(Command::Auth(args)) => {
            match crate::auth::run(args, &mut io::stdin().lock(), &mut out) {
                Ok(crate::auth::AuthOutcome::Fine) => Exit::Clean,
                Ok(crate::auth::AuthOutcome::ProblemFound) => Exit::Diagnosed,
                Err(e) if crate::is_broken_pipe(&e) => return Err(e),
                Err(e) => {
                    out.flush().context("writing to standard output")?;
                    warn(&format!("{e:#}"));
                    Exit::Trouble
                }
            }
        }
    };
    out.flush().context("writing to standard output")?;
    Ok(outcome)
}

/// A completion script for `shell`, with the shipped rule ids and categories as the
/// values of `explain`, `trace --rule` and `rules test --rule`, and the signal ids as those of `rules
/// signals`, so that `magediag explain <TAB>` offers them. clap completes an argument from
/// its possible values, set here on a copy of the command line that parsing never uses.
fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let (ids, signals) = match RuleSet::embedded() {
        Ok(rules) => {
            let mut ids: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
            ids.extend(crate::report::diagnosis::CATEGORIES);
            let signals: Vec<&str> = rules
                .signals
                .signals()
                .iter()
                .map(|s| s.id.as_str())
                .collect();
            (static_names(&ids), static_names(&signals))
        }
        Err(_) => (Vec::new(), Vec::new()),
    };
    if !ids.is_empty() {
        let values = |names: &[&'static str]| clap::builder::PossibleValuesParser::new(names);
        command = command
            .mut_subcommand("explain", |c| {
                c.mut_arg("id", |a| a.value_parser(values(&ids)))
            })
            .mut_subcommand("trace", |c| {
                c.mut_arg("only", |a| a.value_parser(values(&ids)))
            })
            .mut_subcommand("rules", |c| {
                c.mut_subcommand("test", |c| {
                    c.mut_arg("only", |a| a.value_parser(values(&ids)))
                })
                .mut_subcommand("signals", |c| {
                    c.mut_arg("id", |a| a.value_parser(values(&signals)))
                })
            });
    }
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "magediag", &mut script);
    if shell == clap_complete::Shell::Fish && !ids.is_empty() {
        // clap's fish script completes the values of options only, not of a command's
        // own argument.
        let complete = |condition: &str, names: &[&str]| {
            format!(
                "complete -c magediag -n \"{condition}\" -f -a \"{}\"\n",
                names.join(" ")
            )
        };
        script.extend(complete("__fish_magediag_using_subcommand explain", &ids).bytes());
        script.extend(
            complete(
                "__fish_magediag_using_subcommand rules; and __fish_seen_subcommand_from signals",
                &signals,
            )
            .bytes(),
        );
    }
    script
}

/// `names` sorted, without repeats, as `&'static str`, which clap's possible values are.
/// They are made once, for a script written once by a process that then ends.
fn static_names(names: &[&str]) -> Vec<&'static str> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect()
}

/// The options a command was given, the others at their defaults: each command accepts
/// only the options it honours, the library takes them in one shape.
fn options_of(cli: &Cli) -> GlobalOptions {
    let mut options = GlobalOptions::defaults();
    match &cli.command {
        None => {
            return GlobalOptions {
                run: cli.run.run,
                ..cli.global.clone()
            };
        }
        Some(Command::Scan(args)) => return args.options.clone(),
        Some(Command::Paste { options, run }) => {
            return GlobalOptions {
                run: run.run,
                ..options.clone()
            };
        }
        Some(Command::Rules { action }) => match action {
            RulesAction::List { rules, .. }
            | RulesAction::Doc { rules }
            | RulesAction::Signals { rules, .. } => {
                options.rules = rules.clone();
            }
            RulesAction::Test {
                rules,
                color,
                paths,
                ..
            } => {
                options.rules = rules.clone();
                options.rules.rules.extend(paths.iter().cloned());
                options.color = color.clone();
            }
            RulesAction::Check { rules, paths } => {
                options.rules = rules.clone();
                options.rules.rules.extend(paths.iter().cloned());
            }
        },
        Some(Command::Explain { rules, color, .. }) => {
            options.rules = rules.clone();
            options.color = color.clone();
        }
        Some(Command::Trace {
            rules,
            color,
            all_runs,
            ..
        }) => {
            options.rules = rules.clone();
            options.color = color.clone();
            options.all_runs = *all_runs;
        }
        Some(Command::Serve {
            rules, all_runs, ..
        }) => {
            options.rules = rules.clone();
            options.all_runs = *all_runs;
        }
        Some(Command::Auth(_) | Command::Completions { .. } | Command::Man) => {}
    }
    options
}

/// How text is laid out: `--verbose`, and the width of the terminal (or `COLUMNS`).
fn text_options(global: &GlobalOptions) -> render::TextOptions {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| {
            io::stdout()
                .is_terminal()
                .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
                .flatten()
        });
    render::TextOptions {
        verbose: global.verbose,
        width: render::TextOptions::width_for(columns),
    }
}

/// Decides colour once, for stdout: `--color`, then `NO_COLOR`, `CLICOLOR_FORCE`, a terminal.
fn set_color(choice: ColorChoice) {
    let env_set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env_set("NO_COLOR") => false,
        ColorChoice::Auto if env_set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => io::stdout().is_terminal(),
    };
    colored::control::set_override(on);
}

/// Sets the decompression cap from `--max-decompressed`, else the environment;
/// `false` (after saying why) when the variable holds no size.
fn set_max_decompressed(global: &GlobalOptions) -> bool {
    use crate::input::decode::{MAX_DECOMPRESSED_ENV, parse_size, set_max_decompressed};
    if let Some(bytes) = global.max_decompressed {
        set_max_decompressed(bytes);
        return true;
    }
    let Some(value) = std::env::var_os(MAX_DECOMPRESSED_ENV).filter(|v| !v.is_empty()) else {
        return true;
    };
    match parse_size(&value.to_string_lossy()) {
        Ok(bytes) => {
            set_max_decompressed(bytes);
            true
        }
        Err(e) => {
            warn(&format!("{MAX_DECOMPRESSED_ENV}: {e}"));
            false
        }
    }
}

/// Whether every id in `ids` names a rule of `rules`; says so with the nearest ids for
/// the first that does not.
fn rules_known(rules: &RuleSet, ids: &[String]) -> bool {
    let Some(id) = ids.iter().find(|id| rules.rule(id).is_none()) else {
        return true;
    };
    let known: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
    warn(&format!(
        "no rule with id `{id}`{}",
        crate::messages::did_you_mean(id, &known)
    ));
    false
}

/// Loads shipped rules plus `--rules`; reports every mistake and returns `None` on any.
fn load_rules(global: &GlobalOptions) -> Option<RuleSet> {
    let mut extra: Vec<RuleFile> = Vec::new();
    let mut ok = true;
    for path in &global.rules.rules {
        match rule::read_rule_path(path) {
            Ok(files) => extra.extend(files),
            Err(errors) => {
                errors.iter().for_each(|e| warn(&e.to_string()));
                ok = false;
            }
        }
    }
    match RuleSet::with_extra(&extra) {
        Ok(set) if ok => Some(set),
        Ok(_) => None,
        Err(errors) => {
            for error in &errors.0 {
                crate::messages::warn_with(&error.to_string(), &error.snippet_lines());
            }
            None
        }
    }
}

fn runs(global: &GlobalOptions) -> Runs {
    match global.run {
        _ if global.all_runs => Runs::All,
        Some(n) => Runs::One(n),
        None => Runs::Latest,
    }
}

/// The exit outcome: trouble reading wins, then a diagnosis at the `--fail-on` severity.
fn outcome(summary: &Summary, trouble: bool, fail_on: FailOn) -> Exit {
    let failing = match fail_on {
        FailOn::Error => summary.has_at_least(Severity::Error),
        FailOn::Warning => summary.has_at_least(Severity::Warning),
        FailOn::Never => false,
    };
    if trouble {
        Exit::Trouble
    } else if failing {
        Exit::Diagnosed
    } else {
        Exit::Clean
    }
}

fn serve(args: &crate::serve::ServeArgs, global: &GlobalOptions) -> anyhow::Result<Exit> {
    let Some(rules) = load_rules(global) else {
        return Ok(Exit::Trouble);
    };
    crate::serve::serve(rules, args, runs(global))
}
