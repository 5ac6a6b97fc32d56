//! The commands: each reads its inputs, runs the library and writes its output.

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use colored::Colorize;
use serde::Serialize;

use crate::cli::{
    Cli, ColorChoice, Command, FailOn, GlobalOptions, RulesAction, ScanArgs, TextOrJson,
    TextOrJsonOption,
};
use crate::diagnosis::{Report, Severity, SourceReport};
use crate::pipeline::{self, Runs};
use crate::render::{self, Format};
use crate::rule::{self, RuleFile, RuleSet};
use crate::ruletest;
use crate::source::Source;
use crate::walk::WalkOptions;
use crate::{Outcome, warn};

/// Runs the command line; errors that reach here are I/O errors on output.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let global = options_of(&cli);
    set_color(global.color.color);
    if !set_max_decompressed(&global) {
        return Ok(Outcome::Trouble);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let json = |f: &TextOrJsonOption| f.format == TextOrJson::Json;
    let outcome = match &cli.command {
        None => diagnose(&cli.files, &global, &mut out)?,
        Some(Command::Rules { action }) => rules_command(action, &global, &mut out)?,
        Some(Command::Scan(args)) => scan(args, &global, &mut out)?,
        Some(Command::Paste { .. }) => paste(&global, &mut out)?,
        Some(Command::Explain { id, format, .. }) => explain(id, &global, json(format), &mut out)?,
        Some(Command::Trace {
            file, line, format, ..
        }) => trace(file, line, &global, json(format), &mut out)?,
        Some(Command::Serve { args, .. }) => serve(args, &global)?,
        Some(Command::Completions { shell }) => {
            // clap_complete panics on a write error: generate into memory, then write.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "magediag", &mut script);
            out.write_all(&script)?;
            Outcome::Clean
        }
        Some(Command::Man) => {
            crate::manual::write(&mut out)?;
            Outcome::Clean
        }
        Some(Command::Auth(args)) => {
            match crate::auth::run(args, &mut io::stdin().lock(), &mut out) {
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

/// The options a command was given, the others at their defaults: each command accepts
/// only the options it honours, the library takes them in one shape.
fn options_of(cli: &Cli) -> GlobalOptions {
    let mut options = GlobalOptions::defaults();
    match &cli.command {
        None => return cli.global.clone(),
        Some(Command::Scan(args)) => return args.options.clone(),
        Some(Command::Paste { options }) => return options.clone(),
        Some(Command::Rules { action }) => match action {
            RulesAction::List { rules, .. } | RulesAction::Doc { rules } => {
                options.rules = rules.clone();
            }
            RulesAction::Test { rules, color } => {
                options.rules = rules.clone();
                options.color = color.clone();
            }
            RulesAction::Check { .. } => {}
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
                warn(&error.to_string());
            }
            None
        }
    }
}

fn diagnose(
    files: &[PathBuf],
    global: &GlobalOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    let runs = runs(global);
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    let mut reports = Vec::new();
    let mut trouble = false;
    for path in files {
        let source = if path == Path::new("-") {
            Source::stdin()
        } else if path.is_dir() {
            let reason = format!("is a directory; use `magediag scan {}`", path.display());
            warn(&format!("{}: {reason}", path.display()));
            reports.push(SourceReport::unreadable(path.display().to_string(), reason));
            trouble = true;
            continue;
        } else {
            Source::open(path)
        };
        let source = match source {
            Ok(source) => source,
            Err(e) => {
                warn(&format!("{}: {}", path.display(), describe_io(&e)));
                if let Some(name) = command_named(path) {
                    warn(&format!(
                        "`{name}` is a command: give its options after it (`magediag {name} --help`)"
                    ));
                }
                reports.push(SourceReport::unreadable(
                    path.display().to_string(),
                    describe_io(&e),
                ));
                trouble = true;
                continue;
            }
        };
        let name = source.name.clone();
        let mut outcome = pipeline::diagnose_source(&rules, source, runs);
        if let Some(e) = &outcome.error {
            let reason = describe_io(e);
            if outcome.reports.iter().all(|r| r.lines == 0) {
                warn(&format!("{name}: nothing could be read: {reason}"));
            } else {
                warn(&format!(
                    "{name}: {reason}; what was read before is diagnosed"
                ));
            }
            if let Some(last) = outcome.reports.last_mut() {
                last.error = Some(reason);
            }
            trouble = true;
        }
        if outcome.reports.iter().all(SourceReport::nothing_read) && outcome.error.is_none() {
            warn(&format!("{name}: no input: it is empty"));
            trouble = true;
        }
        reports.extend(outcome.reports);
    }
    let mut report = Report::new(reports);
    trouble |= !add_project_findings(&mut report, global);
    let format = global.format.unwrap_or(Format::Text);
    if format == Format::Markdown {
        crate::reply::write(&report, &rules, None, out).context("writing the reply")?;
    } else {
        emit(&report, format, &text_options(global), false, out)?;
    }
    Ok(outcome(&report, trouble, global.fail_on))
}

/// The subcommand a missing FILE is named after: `magediag --format json auth` reads
/// `auth` as a file, since the options of a diagnosis come before no command.
fn command_named(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    let name = path.to_str()?;
    let command = <Cli as clap::CommandFactory>::command();
    command
        .get_subcommands()
        .any(|c| c.get_name() == name)
        .then(|| name.to_owned())
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
fn emit(
    report: &Report,
    format: Format,
    options: &render::TextOptions,
    scan: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if scan {
        render::render_scan_with(report, format, options, out).context("writing the report")?;
    } else {
        render::render_with(report, format, options, out).context("writing the report")?;
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
    let mut report = scan.report;
    let project_ok = add_project_findings(&mut report, global);
    let format = global.format.unwrap_or(Format::Text);
    emit(&report, format, &text_options(global), true, out)?;
    // A scan that read no log, or failed to read one, is no clean bill of health.
    let trouble = report
        .summary
        .scan
        .as_ref()
        .is_some_and(|s| !s.failed.is_empty() || s.read == 0)
        || !project_ok;
    if report.summary.scan.as_ref().is_some_and(|s| s.read == 0) {
        warn("no log was read: nothing to diagnose");
    }
    Ok(outcome(&report, trouble, global.fail_on))
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
    if report.sources.iter().all(SourceReport::nothing_read) {
        warn("<paste>: no input: nothing was pasted");
        trouble = true;
    }
    trouble |= !add_project_findings(&mut report, global);
    crate::reply::redact_report(&mut report, &ticket);
    let format = global.format.unwrap_or(Format::Markdown);
    if format == Format::Markdown {
        crate::reply::write(&report, &rules, Some(&ticket), out).context("writing the reply")?;
    } else {
        emit(&report, format, &text_options(global), false, out)?;
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
        RulesAction::List { format, .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            list_rules(&rules, format.format == TextOrJson::Json, out)?;
            Ok(Outcome::Clean)
        }
        RulesAction::Doc { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            out.write_all(crate::catalogue::markdown(&rules).as_bytes())?;
            Ok(Outcome::Clean)
        }
        RulesAction::Test { .. } => {
            let Some(rules) = load_rules(global) else {
                return Ok(Outcome::Trouble);
            };
            test_rules(&rules, out)
        }
        RulesAction::Check { paths } => {
            let mut global = global.clone();
            global.rules.rules = paths.clone();
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

fn trace(
    file: &Path,
    line: &str,
    global: &GlobalOptions,
    json: bool,
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
    let source = if file == Path::new("-") {
        Source::stdin()
    } else {
        Source::open(file)
    };
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            warn(&format!("{}: {}", file.display(), describe_io(&e)));
            return Ok(Outcome::Trouble);
        }
    };
    let (report, error) = crate::trace::trace_source(&rules, source, range.clone(), runs(global));
    if let Some(e) = &error {
        warn(&format!("{}: {}", file.display(), describe_io(e)));
    }
    let report = match report {
        Ok(report) => report,
        Err(lines) => {
            let lines = match lines {
                1 => "1 line".to_owned(),
                n => format!("{n} lines"),
            };
            warn(&format!(
                "{}: no line {}: the input has {lines}",
                file.display(),
                if range.start() == range.end() {
                    range.start().to_string()
                } else {
                    format!("{}-{}", range.start(), range.end())
                }
            ));
            return Ok(Outcome::Trouble);
        }
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        crate::trace::write_text(&report, out)?;
    }
    Ok(if error.is_some() {
        Outcome::Trouble
    } else {
        Outcome::Clean
    })
}

/// `explain --format json`: the rules asked about, whole (docs/json-schema.md).
#[derive(Serialize)]
struct Explained<'a> {
    id: &'a str,
    origin: &'a str,
    title: &'a str,
    category: &'a str,
    severity: Severity,
    priority: i32,
    when: &'a str,
    causes: &'a [String],
    remediation: &'a [String],
    references: &'a [String],
    examples: Vec<ExplainedExample>,
}

#[derive(Serialize)]
struct ExplainedExample {
    fires: bool,
    /// The example's log, secrets masked.
    log: String,
}

fn explained(rule: &crate::rule::Rule) -> Explained<'_> {
    Explained {
        id: &rule.id,
        origin: &rule.origin,
        title: &rule.title,
        category: &rule.category,
        severity: rule.severity,
        priority: rule.priority,
        when: &rule.when_text,
        causes: &rule.causes,
        remediation: &rule.remediation,
        references: &rule.references,
        examples: rule
            .examples
            .iter()
            .map(|e| ExplainedExample {
                fires: e.fires,
                log: crate::mask::mask(&e.log).into_owned(),
            })
            .collect(),
    }
}

/// The edit distance between two short ids (Levenshtein).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The rule ids and categories nearest to a mistyped `id`, nearest first.
fn nearest<'a>(id: &str, names: &[&'a str]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (distance(id, n), *n))
        .filter(|(d, n)| *d <= (n.len().max(id.len()) / 4).max(2) || n.contains(id))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

fn explain(
    id: &str,
    global: &GlobalOptions,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Some(rules) = load_rules(global) else {
        return Ok(Outcome::Trouble);
    };
    let matching: Vec<&crate::rule::Rule> = match rules.rule(id) {
        Some(rule) => vec![rule],
        None => rules.rules.iter().filter(|r| r.category == id).collect(),
    };
    if matching.is_empty() {
        let mut names: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
        names.extend(rules.rules.iter().map(|r| r.category.as_str()));
        let close = nearest(id, &names);
        let hint = if close.is_empty() {
            "see `magediag rules list`".to_owned()
        } else {
            let close: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
            format!("did you mean {}?", close.join(" or "))
        };
        warn(&format!("no rule or category `{id}`: {hint}"));
        return Ok(Outcome::Trouble);
    }
    if json {
        let listed: Vec<Explained<'_>> = matching.iter().map(|r| explained(r)).collect();
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "rules": listed }))?;
        writeln!(out)?;
        return Ok(Outcome::Clean);
    }
    if let [rule] = matching.as_slice()
        && rule.id == id
    {
        explain_rule(rule, out)?;
        return Ok(Outcome::Clean);
    }
    writeln!(
        out,
        "{} {}: {}",
        "category".bold(),
        id.bold(),
        crate::template::count(matching.len() as u64, "rule", "rules")
    )?;
    let width = matching.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in &matching {
        writeln!(
            out,
            "  {:width$}  {:7}  {}",
            rule.id,
            rule.severity.as_str(),
            rule.title
        )?;
    }
    writeln!(out, "\nEach in full: magediag explain RULE")?;
    Ok(Outcome::Clean)
}

fn explain_rule(rule: &crate::rule::Rule, out: &mut dyn Write) -> anyhow::Result<()> {
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
    Ok(())
}

/// With `--project DIR`, adds what `magediag auth DIR` finds to every auth diagnosis:
/// a 403 plus two different key pairs configured is a sharper answer than either alone.
/// `false` (after saying why) when the folder cannot be inspected, as `auth` exits 2.
fn add_project_findings(report: &mut Report, global: &GlobalOptions) -> bool {
    let Some(dir) = &global.project else {
        return true;
    };
    let (messages, steps) = match crate::auth::project_findings(dir) {
        Ok(found) => found,
        Err(e) => {
            warn(&format!("--project: {e:#}"));
            return false;
        }
    };
    let causes: Vec<String> = messages
        .iter()
        .map(|m| format!("In {} (magediag auth): {m}", dir.display()))
        .collect();
    for d in report
        .sources
        .iter_mut()
        .flat_map(|s| s.diagnoses.iter_mut())
    {
        if !d.category.starts_with("auth-") {
            continue;
        }
        d.causes.splice(0..0, causes.iter().cloned());
        let new: Vec<String> = steps
            .iter()
            .filter(|s| !d.remediation.contains(s))
            .cloned()
            .collect();
        d.remediation.splice(0..0, new);
    }
    true
}
