//! The commands: each reads its inputs, runs the library and writes its output.

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use colored::Colorize;
use serde::Serialize;

use crate::cli::{Cli, ColorChoice, Command, FailOn, GlobalOptions, RulesAction, ScanArgs};
use crate::diagnosis::{Report, Severity};
use crate::pipeline::{self, Runs};
use crate::render::{self, Format};
use crate::rule::{self, RuleFile, RuleSet};
use crate::ruletest;
use crate::source::Source;
use crate::walk::WalkOptions;
use crate::{Outcome, warn};

/// Runs the command line; errors that reach here are I/O errors on output.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    set_color(cli.global.color);
    if !set_max_decompressed(&cli.global) {
        return Ok(Outcome::Trouble);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let outcome = match &cli.command {
        None => diagnose(&cli, &mut out)?,
        Some(Command::Rules { action }) => rules_command(action, &cli.global, &mut out)?,
        Some(Command::Scan(args)) => scan(args, &cli.global, &mut out)?,
        Some(Command::Paste) => paste(&cli.global, &mut out)?,
        Some(Command::Explain { id }) => explain(id, &cli.global, &mut out)?,
        Some(Command::Trace { file, line }) => trace(file, line, &cli.global, &mut out)?,
        Some(Command::Serve(args)) => serve(args, &cli.global)?,
        Some(Command::Completions { shell }) => {
            // clap_complete panics on a write error: generate into memory, then write.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "magediag", &mut script);
            out.write_all(&script)?;
            Outcome::Clean
        }
        Some(Command::Man) => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command).render(&mut out)?;
            Outcome::Clean
        }
        Some(Command::Auth(args)) => {
            let mut args = (**args).clone();
            if cli.global.format == Some(Format::Json) {
                args.format = crate::auth::Format::Json;
            }
            match crate::auth::run(&args, &mut io::stdin().lock(), &mut out) {
                Ok(crate::auth::AuthOutcome::Fine) => Outcome::Clean,
                Ok(crate::auth::AuthOutcome::ProblemFound) => Outcome::Diagnosed,
                Err(e) if crate::is_broken_pipe(&e) => return Err(e),
                Err(e) => {
                    out.flush().context("writing to standard output")?;
                    warn(&format!("{e:#}"));
                    Outcome::Trouble
                }
            }
        }
    };
    out.flush().context("writing to standard output")?;
    Ok(outcome)
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
    use crate::decode::{MAX_DECOMPRESSED_ENV, parse_size, set_max_decompressed};
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

/// Loads shipped rules plus `--rules`; reports every mistake and returns `None` on any.
fn load_rules(global: &GlobalOptions) -> Option<RuleSet> {
    let mut extra: Vec<RuleFile> = Vec::new();
    let mut ok = true;
    for path in &global.rules {
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
                warn(&error.to_string());
            }
            None
        }
    }
}

fn diagnose(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(&cli.global) else {
        return Ok(Outcome::Trouble);
    };
    let runs = runs(&cli.global);
    let stdin_only = [PathBuf::from("-")];
    let files = if cli.files.is_empty() {
        &stdin_only[..]
    } else {
        &cli.files[..]
    };
    let mut reports = Vec::new();
    let mut trouble = false;
    for path in files {
        let source = if path == Path::new("-") {
            Source::stdin()
        } else if path.is_dir() {
            warn(&format!(
                "{}: is a directory; use `magediag scan {}`",
                path.display(),
                path.display()
            ));
            trouble = true;
            continue;
        } else {
            Source::open(path)
        };
        let source = match source {
            Ok(source) => source,
            Err(e) => {
                warn(&format!("{}: {}", path.display(), describe_io(&e)));
                trouble = true;
                continue;
            }
        };
        let name = source.name.clone();
        let outcome = pipeline::diagnose_source(&rules, source, runs);
        if let Some(e) = &outcome.error {
            warn(&format!(
                "{name}: {}; what was read before is diagnosed",
                describe_io(e)
            ));
            trouble = true;
        }
        reports.extend(outcome.reports);
    }
    let mut report = Report::new(reports);
    add_project_findings(&mut report, &cli.global);
    let format = cli.global.format.unwrap_or(Format::Text);
    if format == Format::Markdown {
        crate::reply::write(&report, &rules, None, out).context("writing the reply")?;
    } else {
        emit(&report, format, false, out)?;
    }
    Ok(outcome(&report, trouble, cli.global.fail_on))
}

fn runs(global: &GlobalOptions) -> Runs {
    if global.all_runs {
        Runs::All
    } else {
        Runs::Latest
    }
}

/// The exit outcome: trouble reading wins, then a diagnosis at the `--fail-on` severity.
fn outcome(report: &Report, trouble: bool, fail_on: FailOn) -> Outcome {
    let failing = match fail_on {
        FailOn::Error => report.has_at_least(Severity::Error),
        FailOn::Warning => report.has_at_least(Severity::Warning),
        FailOn::Never => false,
    };
    if trouble {
        Outcome::Trouble
    } else if failing {
        Outcome::Diagnosed
    } else {
        Outcome::Clean
    }
}

/// Renders a report, and with `--format github` also writes the full Markdown report
/// to `$GITHUB_STEP_SUMMARY` when set (GitHub shows only a few annotations per step).
fn emit(report: &Report, format: Format, scan: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if scan {
        render::render_scan(report, format, out).context("writing the report")?;
    } else {
        render::render(report, format, out).context("writing the report")?;
    }
    if format != Format::Github {
        return Ok(());
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let write = || -> io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let mut markdown = Vec::new();
        render::render_scan(report, Format::Markdown, &mut markdown)?;
        file.write_all(&markdown)
    };
    if let Err(e) = write() {
        warn(&format!(
            "{}: cannot write the step summary: {}",
            PathBuf::from(&path).display(),
            describe_io(&e)
        ));
    }
    Ok(())
}

fn scan(args: &ScanArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    let options = WalkOptions {
        follow: args.follow,
        max_depth: args.max_depth,
        globs: args.glob.clone(),
    };
    let scan = match crate::scan::scan(&rules, &args.roots, &options, runs(global)) {
        Ok(scan) => scan,
        Err(e) => {
            warn(&e.to_string());
            return Ok(Outcome::Trouble);
        }
    };
    for message in &scan.messages {
        warn(message);
    }
    let format = global.format.unwrap_or(Format::Text);
    emit(&scan.report, format, true, out)?;
    let trouble = scan
        .report
        .summary
        .scan
        .as_ref()
        .is_some_and(|s| !s.failed.is_empty());
    Ok(outcome(&scan.report, trouble, global.fail_on))
}

/// The most text `paste` reads; a paste larger than this is a log: use a file.
const PASTE_CAP: u64 = 64 << 20;

fn paste(global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
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
    let ticket = crate::reply::Ticket::read(&String::from_utf8_lossy(&text));
    let source = Source::from_reader("<paste>".into(), io::Cursor::new(text))
        .context("reading the paste")?;
    let diagnosed = pipeline::diagnose_source(&rules, source, runs(global));
    let mut report = Report::new(diagnosed.reports);
    add_project_findings(&mut report, global);
    crate::reply::redact_report(&mut report, &ticket);
    let format = global.format.unwrap_or(Format::Markdown);
    if format == Format::Markdown {
        crate::reply::write(&report, &rules, Some(&ticket), out).context("writing the reply")?;
    } else {
        emit(&report, format, false, out)?;
    }
    Ok(outcome(&report, trouble, global.fail_on))
}

fn serve(args: &crate::serve::ServeArgs, global: &GlobalOptions) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    crate::serve::serve(rules, args, runs(global))
}

/// An I/O error as a short reason, without Rust's `(os error N)` noise.
pub fn describe_io(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text,
    }
}

fn rules_command(
    action: &RulesAction,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match action {
        RulesAction::List => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            list_rules(&rules, global.format == Some(Format::Json), out)?;
            Ok(Outcome::Clean)
        }
        RulesAction::Doc => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            out.write_all(crate::catalogue::markdown(&rules).as_bytes())?;
            Ok(Outcome::Clean)
        }
        RulesAction::Test => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            test_rules(&rules, out)
        }
        RulesAction::Check { paths } => {
            let global = GlobalOptions {
                rules: paths.clone(),
                ..global.clone()
            };
            let Some(rules) = load_rules(&global) else {
                return Ok(Outcome::Trouble);
            };
            writeln!(
                out,
                "ok: {} rules, {} signals",
                rules.rules.len(),
                rules.signals.signals().len()
            )?;
            Ok(Outcome::Clean)
        }
    }
}

#[derive(Serialize)]
struct RuleListing<'a> {
    id: &'a str,
    category: &'a str,
    severity: Severity,
    title: &'a str,
    examples: ExampleCounts,
}

#[derive(Serialize)]
struct ExampleCounts {
    fires: usize,
    quiet: usize,
}

fn list_rules(rules: &RuleSet, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let listing: Vec<RuleListing<'_>> = rules
        .rules
        .iter()
        .map(|r| RuleListing {
            id: &r.id,
            category: &r.category,
            severity: r.severity,
            title: &r.title,
            examples: ExampleCounts {
                fires: r.examples.iter().filter(|e| e.fires).count(),
                quiet: r.examples.iter().filter(|e| !e.fires).count(),
            },
        })
        .collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "rules": listing }))?;
        writeln!(out)?;
        return Ok(());
    }
    let id_width = listing.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let cat_width = listing.iter().map(|r| r.category.len()).max().unwrap_or(8);
    for r in &listing {
        writeln!(
            out,
            "{:id_width$}  {:cat_width$}  {:7}  {}  ({} fire, {} quiet)",
            r.id,
            r.category,
            r.severity.as_str(),
            r.title,
            r.examples.fires,
            r.examples.quiet
        )?;
    }
    writeln!(out, "{} rules", listing.len())?;
    Ok(())
}

fn test_rules(rules: &RuleSet, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let results = ruletest::run_all(rules);
    for failure in &results.failures {
        writeln!(out, "{failure}\n")?;
    }
    let failed = results.failures.len();
    let line = format!("{} passed, {failed} failed", results.passed);
    if failed == 0 {
        writeln!(out, "{}", line.green())?;
        Ok(Outcome::Clean)
    } else {
        writeln!(out, "{}", line.red())?;
        Ok(Outcome::Diagnosed)
    }
}

/// The most of a file `trace` reads.
const TRACE_CAP: u64 = 256 << 20;

fn trace(
    file: &Path,
    line: &str,
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let range = match crate::trace::parse_range(line) {
        Ok(range) => range,
        Err(e) => {
            warn(&e);
            return Ok(Outcome::Trouble);
        }
    };
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    let mut text = Vec::new();
    let read = Source::open(file).and_then(|s| s.reader.take(TRACE_CAP).read_to_end(&mut text));
    if let Err(e) = read {
        warn(&format!("{}: {}", file.display(), describe_io(&e)));
        return Ok(Outcome::Trouble);
    }
    crate::trace::trace(&rules, &text, range, out)?;
    Ok(Outcome::Clean)
}

fn explain(id: &str, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    let Some(rule) = rules.rule(id) else {
        let close: Vec<&str> = rules
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .filter(|r| r.contains(id) || id.contains(*r))
            .collect();
        let hint = if close.is_empty() {
            "see `magediag rules list`".to_owned()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        warn(&format!("no rule with id `{id}`: {hint}"));
        return Ok(Outcome::Trouble);
    };
    writeln!(out, "{} ({})", rule.id.bold(), rule.origin)?;
    writeln!(out, "{}\n", rule.title)?;
    writeln!(
        out,
        "category: {}\nseverity: {}\npriority: {}",
        rule.category, rule.severity, rule.priority
    )?;
    writeln!(out, "when:     {}\n", rule.when_text)?;
    let section =
        |out: &mut dyn Write, title: &str, items: &[String], numbered: bool| -> io::Result<()> {
            writeln!(out, "{}", title.bold())?;
            for (i, item) in items.iter().enumerate() {
                if numbered {
                    writeln!(out, "  {}. {item}", i + 1)?;
                } else {
                    writeln!(out, "  - {item}")?;
                }
            }
            writeln!(out)
        };
    section(out, "Likely causes", &rule.causes, false)?;
    section(out, "Fix", &rule.remediation, true)?;
    section(out, "References", &rule.references, false)?;
    writeln!(out, "{}", "Examples".bold())?;
    for example in &rule.examples {
        let verdict = if example.fires {
            "fires on"
        } else {
            "stays quiet on"
        };
        writeln!(out, "  {verdict}:")?;
        let context = crate::mask::context_values(&example.log);
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        for line in example.log.lines() {
            let masked = crate::mask::mask(line);
            writeln!(out, "    | {}", crate::mask::redact(&masked, &context))?;
        }
    }
    Ok(Outcome::Clean)
}

/// With `--project DIR`, adds what `magediag auth` finds there to every auth diagnosis:
/// a 403 plus two different key pairs configured is a sharper answer than either alone.
fn add_project_findings(report: &mut Report, global: &GlobalOptions) {
    let Some(dir) = &global.project else {
        return;
    };
    let env = std::env::var("COMPOSER_AUTH").ok();
    let found = crate::auth::inspect(dir, env.as_deref(), None);
    let mut causes: Vec<String> = found
        .findings
        .iter()
        .filter(|f| f.severity == crate::auth::Severity::Error)
        .map(|f| format!("In {} (magediag auth): {}", dir.display(), f.message))
        .collect();
    let pairs = found.distinct_pairs();
    if pairs > 1 {
        causes.insert(0, format!("In {}: {pairs} different key pairs are configured; Composer uses only one of them.", dir.display()));
    }
    let steps: Vec<String> = found
        .findings
        .iter()
        .filter(|f| f.severity == crate::auth::Severity::Error)
        .flat_map(|f| f.steps.iter().cloned())
        .collect();
    for d in report
        .sources
        .iter_mut()
        .flat_map(|s| s.diagnoses.iter_mut())
    {
        if !d.category.starts_with("auth-") {
            continue;
        }
        let masked = |s: &String| crate::mask::mask(s).into_owned();
        d.causes.splice(0..0, causes.iter().map(masked));
        d.remediation.splice(0..0, steps.iter().map(masked));
    }
}
