//! The damage harness: every rule example, damaged as pastes really arrive, gets the
//! answer of its clean text. An example that fires keeps its categories and packages; a
//! quiet one stays quiet.
//!
//! The damages are drawn by proptest: hard wraps at any width from 60 to 200 (with the
//! screen's padding kept or not), the prefixes tools put in front of each line (Cloud
//! `W:`, Deployer, docker-compose, GitHub Actions timestamps; before the wrap or after
//! it), URLs in backticks, curly quotes, HTML entities, `> ` quoting, bullets, fences,
//! ANSI colours, CRLF and CR-only line ends, a long prose line before the log, and the
//! whole paste collapsed onto one line. Each case is one damage or a pair, applied to
//! every example. `PROPTEST_CASES` runs more cases than the default for a deeper check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{each_line, entities, smart_quotes};

use std::collections::BTreeSet;
use std::fmt;
use std::io::Cursor;
use std::sync::LazyLock;

use magediag::testing::input::source::Source;
use magediag::testing::pipeline::{Runs, diagnose_every_line, diagnose_gated};
use magediag::testing::rule::RuleSet;
use proptest::prelude::*;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::embedded().unwrap());

/// What an answer is compared on: `category:severity` of every diagnosis, the packages
/// named, and the rules that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    categories: BTreeSet<String>,
    packages: BTreeSet<String>,
    rules: BTreeSet<String>,
}

/// One rule example and the answer its clean text gets.
struct Case {
    rule: String,
    origin: String,
    log: String,
    fires: bool,
    clean: Answer,
}

/// The answer of `text` through the stream pipeline, with the quiet-line gate from the
/// first line (so that the skipping paths of the repairer are exercised too) or without.
fn answer(text: &str, gated: bool) -> Answer {
    let source =
        Source::from_reader("<paste>".into(), Cursor::new(text.as_bytes().to_vec())).unwrap();
    let outcome = if gated {
        diagnose_gated(&RULES, source, Runs::Latest)
    } else {
        diagnose_every_line(&RULES, source, Runs::Latest)
    };
    let mut answer = Answer {
        categories: BTreeSet::new(),
        packages: BTreeSet::new(),
        rules: BTreeSet::new(),
    };
    for report in &outcome.reports {
        for diagnosis in &report.diagnoses {
            answer
                .categories
                .insert(format!("{}:{}", diagnosis.category, diagnosis.severity));
            answer.rules.insert(diagnosis.rule.clone());
            answer
                .packages
                .extend(diagnosis.packages.iter().map(|p| p.name.clone()));
        }
    }
    answer
}

static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
    RULES
        .rules
        .iter()
        .flat_map(|rule| {
            rule.examples.iter().map(|example| Case {
                rule: rule.id.clone(),
                origin: example.origin.clone(),
                log: example.log.clone(),
                fires: example.fires,
                clean: answer(&example.log, false),
            })
        })
        .collect()
});

/// The prefixes tools write in front of every line they pass on.
#[derive(Debug, Clone, Copy)]
enum Prefix {
    Cloud,
    Deployer,
    DockerCompose,
    GithubActions,
}

impl Prefix {
    fn text(self) -> &'static str {
        match self {
            Prefix::Cloud => "    W: ",
            Prefix::Deployer => "[web-2] err ",
            Prefix::DockerCompose => "php_1  | ",
            Prefix::GithubActions => "2024-05-14T08:12:45.4417823Z ",
        }
    }
}

/// One kind of damage.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Hard wrap at a width, as a terminal cuts; `padded`: every screen line keeps the
    /// spaces up to the width, as a console copy does.
    Wrap {
        width: usize,
        padded: bool,
    },
    /// A tool's prefix on every line; `after_wrap`: the tool prefixed lines that were
    /// wrapped before it (otherwise the terminal wraps the prefixed line).
    Prefix {
        prefix: Prefix,
        after_wrap: bool,
    },
    BacktickUrls,
    CurlyQuotes,
    Entities,
    Quote,
    Bullets,
    Fence,
    Ansi,
    Crlf,
    CrOnly,
    ProseFirst,
    OneLine,
    /// Markdown bold around the whole paste: `**` opens its first line and closes its
    /// last.
    BoldPaste,
    /// Markdown italics around each line: `_..._`.
    ItalicLines,
}

impl Damage {
    /// The order damages happen in: a tool prefixes its own lines, a terminal wraps
    /// them, the paste wraps what it carries, and line ends come last.
    fn layer(self) -> u8 {
        match self {
            Damage::Prefix {
                after_wrap: false, ..
            } => 0,
            Damage::Wrap { .. } => 1,
            Damage::Prefix {
                after_wrap: true, ..
            } => 2,
            Damage::BacktickUrls | Damage::CurlyQuotes | Damage::Entities | Damage::Ansi => 3,
            Damage::ProseFirst => 4,
            Damage::Quote | Damage::Bullets | Damage::Fence => 5,
            Damage::BoldPaste | Damage::ItalicLines => 5,
            Damage::OneLine => 6,
            Damage::Crlf | Damage::CrOnly => 7,
        }
    }

    fn apply(self, text: &str) -> String {
        match self {
            Damage::Wrap { width, padded } => wrap(text, width, padded),
            Damage::Prefix { prefix, .. } => each_line(text, |l| format!("{}{l}", prefix.text())),
            Damage::BacktickUrls => backtick_urls(text),
            Damage::CurlyQuotes => smart_quotes(text),
            Damage::Entities => entities(text),
            Damage::Quote => each_line(text, |l| format!("> {l}")),
            Damage::Bullets => each_line(text, |l| format!("- {l}")),
            Damage::Fence => format!("```\n{text}```\n"),
            Damage::Ansi => each_line(text, |l| format!("\u{1b}[31;1m{l}\u{1b}[0m")),
            Damage::Crlf => text.replace('\n', "\r\n"),
            Damage::CrOnly => text.replace('\n', "\r"),
            Damage::ProseFirst => format!("{PROSE}\n\n{text}"),
            Damage::OneLine => text.split('\n').collect::<Vec<_>>().join(" "),
            Damage::BoldPaste => emphasise(text.trim_end(), "**") + "\n",
            // `_` around a line that holds no underscore of its own, else `*`: the
            // repair leaves `_` around such a line (see docs/repair.md).
            Damage::ItalicLines => each_line(text, |l| {
                emphasise(l, if l.contains('_') { "*" } else { "_" })
            }),
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// What people write above a log they paste: one line, longer than any wrap width.
const PROSE: &str = "Hello team, since this morning every deployment of our staging environment fails during the build phase, right after we rotated the Marketplace access keys in the project variables; the complete output of the last attempt is below, could you please take a look and tell us what we are missing here?";

/// Cuts every line into pieces of `width` characters.
fn wrap(text: &str, width: usize, padded: bool) -> String {
    each_line(text, |line| {
        let chars: Vec<char> = line.chars().collect();
        let pieces: Vec<String> = match chars.is_empty() {
            true => vec![String::new()],
            false => chars.chunks(width).map(|c| c.iter().collect()).collect(),
        };
        let pieces: Vec<String> = pieces
            .into_iter()
            .map(|piece| match padded {
                true => format!("{piece:<width$}"),
                false => piece,
            })
            .collect();
        pieces.join("\n")
    })
}

/// Quotes around URLs become backticks (`'https://...'` -> `` `https://...` ``).
fn backtick_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['\'', '"']) {
        let quote = rest[at..].chars().next().unwrap();
        let after = &rest[at + 1..];
        let closes = after.find(quote);
        match closes {
            Some(end)
                if after.starts_with("http") && !after[..end].contains(char::is_whitespace) =>
            {
                out.push_str(&rest[..at]);
                out.push('`');
                out.push_str(&after[..end]);
                out.push('`');
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=at]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn damage() -> impl Strategy<Value = Damage> {
    let prefix = prop::sample::select(PREFIXES.to_vec());
    prop_oneof![
        4 => (60usize..=200, any::<bool>()).prop_map(|(width, padded)| Damage::Wrap { width, padded }),
        2 => (prefix, any::<bool>()).prop_map(|(prefix, after_wrap)| Damage::Prefix { prefix, after_wrap }),
        1 => Just(Damage::BacktickUrls),
        1 => Just(Damage::CurlyQuotes),
        1 => Just(Damage::Entities),
        1 => Just(Damage::Quote),
        1 => Just(Damage::Bullets),
        1 => Just(Damage::Fence),
        1 => Just(Damage::Ansi),
        1 => Just(Damage::Crlf),
        1 => Just(Damage::CrOnly),
        1 => Just(Damage::ProseFirst),
        1 => Just(Damage::OneLine),
        1 => Just(Damage::BoldPaste),
        1 => Just(Damage::ItalicLines),
    ]
}

/// One damage or two, in the order they happen.
fn damages() -> impl Strategy<Value = Vec<Damage>> {
    prop::collection::vec(damage(), 1..=2).prop_map(|mut damages| {
        damages.sort_by_key(|d| d.layer());
        damages
    })
}

/// Runs every example under `damages`; returns what went wrong.
fn check_all(damages: &[Damage], gated: bool) -> Vec<String> {
    let mut failures = Vec::new();
    for case in CASES.iter() {
        let damaged = damages
            .iter()
            .fold(case.log.clone(), |text, damage| damage.apply(&text));
        let got = answer(&damaged, gated);
        let same = got.categories == case.clean.categories && got.packages == case.clean.packages;
        let quiet_fired = !case.fires && got.rules.contains(&case.rule);
        if !same || quiet_fired {
            failures.push(format!(
                "{} ({}, fires = {}):\n  clean:   {:?} {:?}\n  damaged: {:?} {:?}\n  text: {:?}",
                case.rule,
                case.origin,
                case.fires,
                case.clean.categories,
                case.clean.packages,
                got.categories,
                got.packages,
                damaged,
            ));
        }
    }
    failures
}

/// Fewer cases than proptest's default by default: each case runs every example.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The harness compares with the clean answer, so a quiet example's clean answer must
/// not name its rule (one that fires may be hidden by a more specific rule).
#[test]
fn the_clean_quiet_examples_are_quiet() {
    for case in CASES.iter().filter(|case| !case.fires) {
        assert!(
            !case.clean.rules.contains(&case.rule),
            "{} ({}): {:?}",
            case.rule,
            case.origin,
            case.clean
        );
    }
}

/// The known limits (docs/repair.md): a text wrapped and then collapsed onto one line,
/// whose cuts became spaces like any other; a text wrapped twice, where the second
/// screen's padding hides the first cut's width; and emphasis read only at the edges of
/// a line as the paste shows it, so not around each piece of a wrapped line, outside
/// colour codes, inside a collapsed paste, doubled, or around text that holds its
/// marker (`_php_1  | ..._`).
fn beyond_the_repair(damages: &[Damage]) -> bool {
    let has = |f: fn(&Damage) -> bool| damages.iter().any(f);
    let emphasis = has(|d| matches!(d, Damage::BoldPaste | Damage::ItalicLines));
    let italics = has(|d| matches!(d, Damage::ItalicLines));
    let hides_emphasis = (has(|d| matches!(d, Damage::BoldPaste)) && italics)
        || has(|d| matches!(d, Damage::Ansi | Damage::OneLine))
        || (italics
            && has(|d| {
                matches!(
                    d,
                    Damage::Wrap { .. }
                        | Damage::Prefix {
                            prefix: Prefix::DockerCompose,
                            ..
                        }
                )
            }));
    if emphasis && hides_emphasis {
        return true;
    }
    let wraps = damages
        .iter()
        .filter(|d| matches!(d, Damage::Wrap { .. }))
        .count();
    let wrap = damages
        .iter()
        .position(|d| matches!(d, Damage::Wrap { .. }));
    let collapse = damages.iter().position(|d| matches!(d, Damage::OneLine));
    let wrapped_then_collapsed =
        matches!((wrap, collapse), (Some(wrap), Some(collapse)) if wrap < collapse);
    wraps > 1 || wrapped_then_collapsed
}

proptest! {
    #![proptest_config(config())]

    /// One damage or two at any width, over every example, but for the known limits.
    /// Some cuts at an uncommon width still hide from the repair (a line cut inside a
    /// long word, with no second line cut at the same width), so this runs on demand,
    /// with `--ignored`; `every_pair_of_damages` is the gate.
    #[test]
    #[ignore = "some cuts at uncommon widths stay hidden (see the doc comment)"]
    fn damaged_examples_get_the_clean_answer(damages in damages(), gated in any::<bool>()) {
        prop_assume!(!beyond_the_repair(&damages));
        let failures = check_all(&damages, gated);
        prop_assert!(
            failures.is_empty(),
            "{} example(s) changed under {:?}:\n{}",
            failures.len(),
            damages,
            failures.join("\n")
        );
    }
}

/// Every damage, and every pair of them in the order they happen, at widths from 60 to
/// 200 with and without padding and under every prefix, on every example. What the
/// repair cannot undo yet is listed here, each with why; anything else that changes an
/// answer fails the test.
#[test]
fn every_pair_of_damages() {
    // (damages, a piece of the damaged text): what hides the damage from the repair.
    const KNOWN: [(&str, &str); 5] = [
        // A port number cut at 60 columns (`port 92` `00:`): a number often ends a line.
        (
            "[Prefix { prefix: Deployer, after_wrap: false }, Wrap { width: 60",
            "port 92\\n00",
        ),
        // A `df` table cut at 60 columns: a table's cells are words of their own.
        (
            "[Prefix { prefix: GithubActions, after_wrap: false }, Wrap { width: 60",
            "Filesystem",
        ),
        // A quoted paste collapsed: `> In CurlDownloader.php line N:` opens a box whose
        // message then reads as part of the quote.
        ("[Quote, OneLine]", "> In CurlDownloader.php"),
        // A cloud.error.log record collapsed after prose: a record opening inside a line
        // is also how Magento's own log lines carry their context.
        ("[ProseFirst, OneLine]", "{\\\"errorCode\\\""),
        // A bare `Error: ...` collapsed after prose: PHP's `Uncaught Error: ...` holds
        // the same words inside a line, so they are no evidence that a line opened.
        ("[ProseFirst, OneLine]", "?  Error: "),
    ];
    let mut singles = unmeasured_damages();
    for width in [60, 73, 80, 101, 132, 200] {
        for padded in [false, true] {
            singles.push(Damage::Wrap { width, padded });
        }
    }
    for prefix in PREFIXES {
        for after_wrap in [false, true] {
            singles.push(Damage::Prefix { prefix, after_wrap });
        }
    }
    let mut runs: Vec<Vec<Damage>> = singles.iter().map(|d| vec![*d]).collect();
    for (at, first) in singles.iter().enumerate() {
        for second in &singles[at + 1..] {
            let mut pair = vec![*first, *second];
            pair.sort_by_key(|d| d.layer());
            if !beyond_the_repair(&pair) {
                runs.push(pair);
            }
        }
    }
    let mut failures = Vec::new();
    for damages in runs {
        let name = format!("{damages:?}");
        for failure in check_all(&damages, false) {
            let known = KNOWN
                .iter()
                .any(|(run, text)| name.starts_with(run) && failure.contains(text));
            if !known {
                failures.push(format!("== {name}\n{failure}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `text` between two `marker`s, each against its text as Markdown wants them (after
/// the indentation, before trailing spaces); blank text as it is.
fn emphasise(text: &str, marker: &str) -> String {
    let body = text.trim();
    if body.is_empty() {
        return text.to_owned();
    }
    let indent = &text[..text.len() - text.trim_start().len()];
    format!("{indent}{marker}{body}{marker}")
}

/// The damages that take no width or prefix.
fn unmeasured_damages() -> Vec<Damage> {
    vec![
        Damage::BacktickUrls,
        Damage::CurlyQuotes,
        Damage::Entities,
        Damage::Quote,
        Damage::Bullets,
        Damage::Fence,
        Damage::Ansi,
        Damage::Crlf,
        Damage::CrOnly,
        Damage::ProseFirst,
        Damage::OneLine,
        Damage::BoldPaste,
        Damage::ItalicLines,
    ]
}

/// Every tool prefix.
const PREFIXES: [Prefix; 4] = [
    Prefix::Cloud,
    Prefix::Deployer,
    Prefix::DockerCompose,
    Prefix::GithubActions,
];

/// Each damage alone, at the widths people meet most, so that every kind runs on every
/// example whatever proptest draws.
#[test]
fn each_damage_alone_leaves_every_example_as_it_was() {
    let mut all = unmeasured_damages();
    for width in [80, 120] {
        for padded in [false, true] {
            all.push(Damage::Wrap { width, padded });
        }
    }
    for prefix in PREFIXES {
        all.push(Damage::Prefix {
            prefix,
            after_wrap: false,
        });
    }
    let mut failures = Vec::new();
    for damage in all {
        let found = check_all(&[damage], false);
        if !found.is_empty() {
            failures.push(format!(
                "== {damage} ({} example(s))\n{}",
                found.len(),
                found.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
