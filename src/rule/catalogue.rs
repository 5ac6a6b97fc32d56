//! The rule catalogue as Markdown (`docs/rules.md`), generated from the rule files so it
//! can be read on the web; a test fails when the committed file is stale.

use std::fmt::Write;

use crate::report::diagnosis::CATEGORIES;
use crate::rule::RuleSet;

/// Lists the data tables rules read, with where their facts come from.
fn tables(out: &mut String) {
    let Ok(tables) = crate::rule::table::embedded() else {
        return;
    };
    let _ = writeln!(out, "## Data tables\n");
    let _ = writeln!(
        out,
        "Facts the rules test against, shipped as `data/*.tsv` and taken from the upstream tools' own tables. A rule reads one as a set (`field in @NAME`: the key column) or from a signal (`lookup = [\"NAME\"]`: the row's columns become fields).\n"
    );
    for table in &tables {
        let _ = writeln!(
            out,
            "- **`{}`** (`{}`, {} rows, key `{}`; columns {}): {}",
            table.name,
            table.path,
            table.rows.len(),
            table.key_column(),
            table
                .columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            table.source
        );
        for note in &table.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = writeln!(out);
}

/// Renders every rule, grouped by category in the closed list's order.
pub fn markdown(rules: &RuleSet) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Rule catalogue\n");
    let _ = writeln!(
        out,
        "Generated from `rules/*.toml` by `magediag rules doc > docs/rules.md`; do not edit by hand.\n"
    );
    let _ = writeln!(
        out,
        "{} rules in {} categories.\n",
        rules.rules.len(),
        CATEGORIES.len()
    );
    tables(&mut out);
    let _ = writeln!(out, "## Rules\n");
    let _ = writeln!(
        out,
        "| category | rule | severity | title |\n|---|---|---|---|"
    );
    for category in CATEGORIES {
        for rule in rules.rules.iter().filter(|r| r.category == *category) {
            let _ = writeln!(
                out,
                "| `{category}` | [`{}`](#{}) | {} | {} |",
                rule.id, rule.id, rule.severity, rule.title
            );
        }
    }
    for category in CATEGORIES {
        let members: Vec<_> = rules
            .rules
            .iter()
            .filter(|r| r.category == *category)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## `{category}`");
        for rule in members {
            let _ = writeln!(out, "\n### {}\n", rule.id);
            let _ = writeln!(
                out,
                "**{}** ({}, priority {})\n",
                rule.title, rule.severity, rule.priority
            );
            let _ = writeln!(out, "Fires when: `{}`\n", one_line(&rule.when_text));
            list(&mut out, "Likely causes", &rule.causes, false);
            list(&mut out, "Fix", &rule.remediation, true);
            list(&mut out, "References", &rule.references, false);
            let fires = rule.examples.iter().filter(|e| e.fires).count();
            let _ = writeln!(
                out,
                "Examples: {fires} where it fires, {} where it must not (`magediag explain {}`).",
                rule.examples.len() - fires,
                rule.id
            );
        }
    }
    out
}

fn list(out: &mut String, title: &str, items: &[String], numbered: bool) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:\n");
    for (i, item) in items.iter().enumerate() {
        if numbered {
            let _ = writeln!(out, "{}. {item}", i + 1);
        } else {
            let _ = writeln!(out, "- {item}");
        }
    }
    let _ = writeln!(out);
}

/// Text on one line, fit for a table cell.
fn one_line(text: &str) -> String {
    crate::rule::one_line(text).replace('|', "\\|")
}
