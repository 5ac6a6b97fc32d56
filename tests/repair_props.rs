//! Properties of paste repair: damage does not change what the rule engine sees, clean
//! text passes through, nothing panics, and streaming equals whole-text repair.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use magediag::testing::repair::{RepairedLine, Repairer, repair_text, starts_log_line};
use proptest::prelude::*;

/// Long lines, the kind that wrapping cuts: each is longer than the widest wrap tested.
const LONG_LINES: &[&str] = &[
    "The 'https://repo.magento.com/archives/magento/module-customer-segment/magento-module-customer-segment-102.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden",
    "The \"https://repo.magento.com/archives/magento/module-staging/magento-module-staging-101.1.4.0.zip\" file could not be downloaded (HTTP/1.1 404 Not Found)",
    "[2023-04-24T18:58:04.129888+00:00] ERROR: [13] The command \"composer install --no-dev --optimize-autoloader\" failed. Package magento/module-invitation is not available",
    "[2023-04-24T18:58:05.330127+00:00] CRITICAL: [20] Command bin/magento setup:static-content:deploy --jobs 4 en_US returned code 255: PHP Fatal error: Allowed memory size exhausted",
    "PHP Fatal error:  Allowed memory size of 2097152 bytes exhausted (tried to allocate 32768 bytes) in /app/vendor/magento/framework/Interception/Interceptor.php on line 58",
    "    - magento/product-enterprise-edition 2.4.6-p1 requires php ~8.1.0||~8.2.0 -> your php version (7.4.33) does not satisfy that requirement, see the platform check output",
];

/// Ordinary lines of every length, including Composer's indented list items.
const SHORT_LINES: &[&str] = &[
    "Loading composer repositories with package information",
    "Updating dependencies (including require-dev)",
    "Package operations: 412 installs, 0 updates, 0 removals",
    "  - Installing magento/module-customer-segment (102.0.5-patch2): Downloading (100%)",
    "  - Installing vendor/package (1.0)",
    "Generating autoload files",
    "[2023-04-24T18:58:04.129888+00:00] INFO: Starting scenario(s): scenario/build/generate.xml",
    "  [Composer\\Downloader\\TransportException]",
    "In AuthHelper.php line 205:",
    "Your requirements could not be resolved to an installable set of packages.",
    "  Problem 1",
    "Warning: The lock file is not up to date with the latest changes in composer.json.",
    "SQLSTATE[HY000] [2002] Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)",
    "#0 /app/vendor/magento/framework/App/Bootstrap.php(263): Magento\\Framework\\App\\Http->launch()",
    "Invalid credentials for 'https://repo.magento.com/packages.json', aborting.",
    "",
];

/// A realistic clean log: a mix of short lines with at least two different long ones, so
/// that any wrap width shows in at least two different cut lines.
fn clean_log() -> impl Strategy<Value = Vec<String>> {
    let long = prop::sample::select(LONG_LINES);
    let short = prop::sample::select(SHORT_LINES);
    let any_line = prop_oneof![2 => short, 1 => long];
    (
        prop::sample::subsequence(LONG_LINES, 2).prop_shuffle(),
        prop::collection::vec(any_line, 0..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(long, mut rest, at)| {
            let insert_at = at.index(rest.len() + 1);
            rest.insert(insert_at.min(rest.len()), long[0]);
            rest.push(long[1]);
            rest.into_iter().map(str::to_owned).collect()
        })
}

/// One kind of paste damage, applied to every physical line or to the paste as a whole.
#[derive(Debug, Clone, Copy)]
enum Damage {
    Quote,
    NestedQuote,
    Fence,
    Entities,
    Ansi,
    Bullets,
    CloudPrefix,
    DockerPrefix,
    SmartQuotes,
    Backticks,
}

const ALL_DAMAGE: [Damage; 10] = [
    Damage::Quote,
    Damage::NestedQuote,
    Damage::Fence,
    Damage::Entities,
    Damage::Ansi,
    Damage::Bullets,
    Damage::CloudPrefix,
    Damage::DockerPrefix,
    Damage::SmartQuotes,
    Damage::Backticks,
];

fn damage_kind() -> impl Strategy<Value = Damage> {
    prop::sample::select(&ALL_DAMAGE[..])
}

/// A few different damage kinds in any order (the same one twice, like entities encoded
/// twice, is a different damage that repair does not claim to undo).
fn damage_kinds() -> impl Strategy<Value = Vec<Damage>> {
    prop::sample::subsequence(&ALL_DAMAGE[..], 1..4).prop_shuffle()
}

/// Cuts every line into pieces of `width` characters, as a terminal or mailer does.
fn wrap(lines: &[String], width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            out.push(String::new());
        }
        out.extend(chars.chunks(width).map(|piece| piece.iter().collect()));
    }
    out
}

fn encode_entities(line: &str) -> String {
    line.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replacen('\'', "&#39;", 1)
        .replace('\'', "&#x27;")
}

fn smart_quotes(line: &str) -> String {
    let mut out = String::new();
    let (mut single_open, mut double_open) = (true, true);
    for ch in line.chars() {
        match ch {
            '\'' => {
                out.push(if single_open { '\u{2018}' } else { '\u{2019}' });
                single_open = !single_open;
            }
            '"' => {
                out.push(if double_open { '\u{201c}' } else { '\u{201d}' });
                double_open = !double_open;
            }
            ' ' if out.ends_with(':') => out.push('\u{a0}'),
            _ => out.push(ch),
        }
    }
    out
}

fn damage_line(line: &str, damage: Damage) -> String {
    match damage {
        Damage::Quote => format!("> {line}"),
        Damage::NestedQuote => format!("> > {line}"),
        Damage::Entities => encode_entities(line),
        Damage::Ansi => format!("\u{1b}[31m{line}\u{1b}[0m"),
        Damage::Bullets => format!("- {line}"),
        Damage::CloudPrefix => format!("    W: {line}"),
        Damage::DockerPrefix => format!("magento_1  | {line}"),
        Damage::SmartQuotes => smart_quotes(line),
        Damage::Backticks => format!("`{line}`"),
        Damage::Fence => line.to_owned(),
    }
}

fn is_fence(line: &str) -> bool {
    line.trim_start_matches(['>', ' ']).starts_with("```")
}

/// Applies one damage kind. Line damage leaves fence lines alone (nobody bullets a code
/// fence), except quoting, which covers a fenced block as well.
fn apply(lines: Vec<String>, damage: Damage) -> Vec<String> {
    let quoting = matches!(damage, Damage::Quote | Damage::NestedQuote);
    let mut lines: Vec<String> = lines
        .iter()
        .map(|line| match is_fence(line) && !quoting {
            true => line.clone(),
            false => damage_line(line, damage),
        })
        .collect();
    if let Damage::Fence = damage {
        lines.insert(0, "```text".to_owned());
        lines.push("```".to_owned());
    }
    lines
}

/// What comparison looks at: trimmed texts, blank lines left out.
fn logical(lines: &[RepairedLine]) -> Vec<String> {
    lines
        .iter()
        .map(|line| line.text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .collect()
}

fn repaired(lines: &[String]) -> Vec<String> {
    logical(&repair_text(&lines.join("\n")))
}

/// Whether wrapping at `width` is one repair cannot undo, by design: a line exactly as
/// wide as the wrap (or a multiple) cannot be told from a cut one, and a cut that lands
/// just before text that opens a log line (`PHP Fatal error:` inside an ece-tools
/// message) is left alone, because joining such lines risks joining real ones.
fn width_is_ambiguous(lines: &[String], width: usize) -> bool {
    lines.iter().any(|line| {
        let chars: Vec<char> = line.chars().collect();
        let exact = !chars.is_empty() && chars.len().is_multiple_of(width);
        let opens = chars.chunks(width).skip(1).any(|piece| {
            let piece: String = piece.iter().collect();
            starts_log_line(&piece) || piece.trim().is_empty()
        });
        exact || opens
    })
}

proptest! {
    // Ruling out ambiguous widths rejects a few percent of cases; long runs
    // (PROPTEST_CASES) need more room than the default.
    #![proptest_config(ProptestConfig {
        max_global_rejects: 1 << 20,
        ..ProptestConfig::default()
    })]

    #[test]
    fn each_damage_kind_leaves_the_logical_lines_unchanged(
        clean in clean_log(),
        damage in damage_kind(),
    ) {
        let damaged = apply(clean.clone(), damage);
        prop_assert_eq!(repaired(&damaged), repaired(&clean));
    }

    #[test]
    fn wrapping_leaves_the_logical_lines_unchanged(
        clean in clean_log(),
        width in 60usize..=132,
    ) {
        prop_assume!(!width_is_ambiguous(&clean, width));
        prop_assert_eq!(repaired(&wrap(&clean, width)), repaired(&clean));
    }

    #[test]
    fn stacked_damage_leaves_the_logical_lines_unchanged(
        clean in clean_log(),
        width in 60usize..=132,
        damages in damage_kinds(),
    ) {
        prop_assume!(!width_is_ambiguous(&clean, width));
        let damaged = damages.iter().fold(wrap(&clean, width), |lines, &damage| apply(lines, damage));
        prop_assert_eq!(repaired(&damaged), repaired(&clean));
    }

    /// Clean text comes out as it went in, less indentation, list bullets and trailing
    /// whitespace, which repair always strips.
    #[test]
    fn clean_text_passes_through(clean in clean_log()) {
        let expected: Vec<String> = clean
            .iter()
            .map(|line| line.trim().trim_start_matches("- ").to_owned())
            .collect();
        let got: Vec<String> = repair_text(&clean.join("\n")).into_iter().map(|line| line.text).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_input_does_not_panic(input in any::<String>()) {
        let _ = repair_text(&input);
    }

    #[test]
    fn arbitrary_line_soup_does_not_panic(
        lines in prop::collection::vec("[ >`\\-*W:E|\\\\n&#;x0-9a-z\u{1b}\\[\r\u{a0}\u{2019}]{0,140}", 0..20),
    ) {
        let _ = repair_text(&lines.join("\n"));
    }

    #[test]
    fn streaming_equals_whole_text(clean in clean_log(), width in 60usize..=132, damage in damage_kind()) {
        let lines = apply(wrap(&clean, width), damage);
        let mut repairer = Repairer::new();
        let mut streamed = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            repairer.push(index as u64 + 1, line, &mut streamed);
        }
        repairer.finish(&mut streamed);
        prop_assert_eq!(streamed, repair_text(&lines.join("\n")));
    }
}
