//! Every shipped rule proves itself: its examples run here through the same code as
//! `magediag rules test`, reported per rule file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use magediag::testing::rule::RuleSet;
use magediag::testing::rule::examples;

#[test]
fn every_rule_example_passes_and_every_rule_has_both_kinds() {
    let rules = RuleSet::embedded().unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    let results = examples::run_all(&rules);
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for failure in &results.failures {
        let file = failure.origin.split(':').next().unwrap_or("").to_owned();
        by_file.entry(file).or_default().push(failure.to_string());
    }
    let report: Vec<String> = by_file
        .iter()
        .map(|(file, failures)| format!("== {file}\n{}", failures.join("\n\n")))
        .collect();
    assert!(results.failures.is_empty(), "{}", report.join("\n\n"));
    assert!(results.passed >= rules.rules.len() * 2);
}

#[test]
fn every_rule_has_causes_remediation_and_references() {
    let rules = RuleSet::embedded().unwrap();
    for rule in &rules.rules {
        assert!(!rule.causes.is_empty(), "{} has no causes", rule.id);
        assert!(
            !rule.remediation.is_empty(),
            "{} has no remediation",
            rule.id
        );
        assert!(!rule.references.is_empty(), "{} has no references", rule.id);
    }
}

/// docs/rules.md is generated from the rule files; regenerate it when they change:
/// `cargo run -- rules doc > docs/rules.md`.
#[test]
fn the_rule_catalogue_doc_is_current() {
    let rules = RuleSet::embedded().unwrap();
    let generated = magediag::testing::rule::catalogue::markdown(&rules);
    let committed = std::fs::read_to_string("docs/rules.md").unwrap_or_default();
    assert!(
        generated == committed,
        "docs/rules.md is stale: run `cargo run -- rules doc > docs/rules.md`"
    );
}

/// The diagnoses (category, severity) of a text read as stdin is.
fn diagnose(rules: &RuleSet, text: &str) -> Vec<(String, String)> {
    use magediag::testing::input::source::Source;
    use magediag::testing::pipeline::{self, Runs};
    let source = Source::from_reader(
        "<stdin>".into(),
        std::io::Cursor::new(text.as_bytes().to_vec()),
    )
    .unwrap();
    let outcome = pipeline::diagnose_source(rules, source, Runs::Latest);
    outcome
        .reports
        .iter()
        .flat_map(|r| r.diagnoses.iter())
        .map(|d| (d.category.clone(), d.severity.as_str().to_owned()))
        .collect()
}

/// The ece-tools error table: every code has a category of the closed list, and a coded
/// line of each critical code is diagnosed as that category, first; a warning code is
/// never an error. Both shapes ece-tools writes are checked: the cloud.log line and the
/// cloud.error.log entry.
#[test]
fn every_ece_tools_code_is_diagnosed_as_its_tables_category() {
    let rules = RuleSet::embedded().unwrap();
    let tables = magediag::testing::rule::table::embedded().unwrap();
    let table = tables.iter().find(|t| t.name == "ece_errors").unwrap();
    assert!(
        table.rows.len() > 100,
        "the whole upstream table, not a sample"
    );
    for row in &table.rows {
        let (code, kind) = (&row[0], table.get(&row[0], "type").unwrap());
        let category = table.get(code, "category").unwrap();
        assert!(
            magediag::testing::report::diagnosis::CATEGORIES.contains(&category),
            "code {code}: unknown category {category}"
        );
        let stage = table.get(code, "stage").unwrap();
        let level = if kind == "warning" {
            "WARNING"
        } else {
            "CRITICAL"
        };
        let line = format!("[2024-06-01T10:00:00.000000+00:00] {level}: [{code}] step output\n");
        let entry = format!(
            "{{\"errorCode\":{code},\"stage\":\"{stage}\",\"title\":\"step output\",\"type\":\"{kind}\"}}\n"
        );
        for text in [line, entry] {
            let found = diagnose(&rules, &text);
            let errors: Vec<_> = found.iter().filter(|(_, s)| s == "error").collect();
            if kind == "warning" {
                assert!(errors.is_empty(), "warning {code} gave {found:?}");
            } else {
                assert_eq!(
                    errors.first().map(|(c, _)| c.as_str()),
                    Some(category),
                    "code {code} in {text:?} gave {found:?}"
                );
            }
        }
    }
}

/// Every ece-tools code written in a shipped sample or rule example exists in the table,
/// at a level that fits its type, and the text on the line fits the code's step.
#[test]
fn coded_lines_in_samples_and_examples_agree_with_the_ece_tools_table() {
    let rules = RuleSet::embedded().unwrap();
    let tables = magediag::testing::rule::table::embedded().unwrap();
    let table = tables.iter().find(|t| t.name == "ece_errors").unwrap();
    let mut texts: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir("samples").unwrap() {
        let path = entry.unwrap().path();
        texts.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    for rule in &rules.rules {
        // An example about a code the table does not hold is the one exception.
        for example in rule.examples.iter().filter(|e| {
            !e.name
                .as_deref()
                .is_some_and(|n| n.contains("table does not hold"))
        }) {
            texts.push((example.origin.clone(), example.log.clone()));
        }
    }
    let coded = regex::Regex::new(
        r"\] (?:[a-z]+\.)?([A-Z]+): \[(\d+)\] (.*)|\{.*\x22errorCode\x22\s*:\s*(\d+)",
    )
    .unwrap();
    // Words that a line of these steps holds, to catch a right number on the wrong text.
    let step_words: &[(&str, &[&str])] = &[
        ("apply-patches", &["patch"]),
        ("deploy-static-content", &["static", "scd"]),
        ("install-update: update", &["upgrade"]),
        ("compile-di", &["compile", "di"]),
    ];
    let mut checked = 0;
    for (origin, text) in &texts {
        for line in text.lines() {
            let Some(caps) = coded.captures(line) else {
                continue;
            };
            let code = caps.get(2).or(caps.get(4)).unwrap().as_str();
            let kind = table.get(code, "type");
            assert!(
                kind.is_some(),
                "{origin}: code {code} is not an ece-tools code: {line}"
            );
            if let (Some(level), Some(kind)) = (caps.get(1), kind) {
                let warning = matches!(level.as_str(), "WARNING" | "NOTICE" | "INFO");
                assert_eq!(
                    warning,
                    kind == "warning",
                    "{origin}: a {kind} code at level {}: {line}",
                    level.as_str()
                );
            }
            let step = table.get(code, "step").unwrap_or("");
            if let (Some((_, words)), Some(message)) =
                (step_words.iter().find(|(s, _)| *s == step), caps.get(3))
            {
                let message = message.as_str().to_ascii_lowercase();
                assert!(
                    words.iter().any(|w| message.contains(w)),
                    "{origin}: code {code} is step {step}, but the line says: {line}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} coded lines found");
}

/// The shipped data tables hold what rules rely on: the MySQL table's categories are of
/// the closed list, the curl table is libcurl's numbering, and the Open Source package
/// set holds the core and its bundled extensions but none of Adobe Commerce's own.
#[test]
fn the_data_tables_hold_what_rules_rely_on() {
    let tables = magediag::testing::rule::table::embedded().unwrap();
    let table = |name: &str| tables.iter().find(|t| t.name == name).unwrap();
    let mysql = table("mysql_errors");
    for row in &mysql.rows {
        let category = mysql.get(&row[0], "category").unwrap();
        assert!(
            magediag::testing::report::diagnosis::CATEGORIES.contains(&category),
            "mysql {}: {category}",
            row[0]
        );
    }
    assert_eq!(mysql.get("1114", "category"), Some("disk-full"));
    assert_eq!(mysql.get("1878", "category"), Some("disk-full"));
    assert_eq!(mysql.get("1040", "category"), Some("database-unavailable"));
    assert_eq!(mysql.get("1047", "category"), Some("database-unavailable"));
    let curl = table("curl_errors");
    assert!(curl.rows.len() >= 90);
    assert!(curl.rows.iter().all(|r| r[1].starts_with("CURLE_")));
    assert_eq!(curl.get("6", "name"), Some("CURLE_COULDNT_RESOLVE_HOST"));
    assert_eq!(curl.get("92", "name"), Some("CURLE_HTTP2_STREAM"));
    let open_source = table("magento_open_source").keys();
    for present in [
        "magento/module-catalog",
        "magento/framework",
        "magento/module-inventory-api",
        "magento/module-page-builder",
        "magento/module-two-factor-auth",
        "magento/product-community-edition",
    ] {
        assert!(
            open_source.iter().any(|p| p == present),
            "{present} missing"
        );
    }
    for commerce in [
        "magento/module-customer-segment",
        "magento/module-staging",
        "magento/module-staging-page-builder",
        "magento/module-target-rule-graph-ql",
        "magento/magento-cloud-configuration",
        "magento/product-enterprise-edition",
        "magento/extension-b2b",
        "magento/module-gift-card",
    ] {
        assert!(
            !open_source.iter().any(|p| p == commerce),
            "{commerce} listed as Open Source"
        );
    }
}

/// Every table of upstream failure wordings (a table with `template`, `fill` and
/// `category` columns: Composer's in data/composer-messages.tsv, Magento's, ece-tools',
/// the patch tools', PHP's and MySQL's in data/deploy-messages.tsv), each row's template
/// filled with its example values, is diagnosed as the row's category: the rules know
/// the upstream templates in every version listed, not only the examples written for them.
#[test]
fn every_message_template_table_row_is_diagnosed_as_its_category() {
    let rules = RuleSet::embedded().unwrap();
    let tables = magediag::testing::rule::table::embedded().unwrap();
    let template_tables: Vec<_> = tables
        .iter()
        .filter(|t| {
            ["template", "fill", "category"]
                .iter()
                .all(|c| t.columns.iter().any(|n| n == c))
        })
        .collect();
    let names: Vec<&str> = template_tables.iter().map(|t| t.name.as_str()).collect();
    for expected in ["composer_messages", "deploy_messages"] {
        assert!(names.contains(&expected), "{expected} not found: {names:?}");
    }
    let mut misses = Vec::new();
    for table in template_tables {
        misses.extend(template_misses(&rules, table));
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// The rows of a template table whose filled template is not diagnosed, first among the
/// errors, as the row's category: one line each, naming the table and the row.
fn template_misses(rules: &RuleSet, table: &magediag::testing::rule::table::Table) -> Vec<String> {
    let mut misses = Vec::new();
    assert!(!table.rows.is_empty(), "{}: no rows", table.name);
    for row in &table.rows {
        let id = &row[table.key];
        let cell = |column: &str| table.get(id, column).unwrap_or_default();
        let mut text = cell("template").replace("\\n", "\n");
        for pair in cell("fill").split(';').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{}/{id}: fill `{pair}` is not name=value", table.name));
            assert!(
                text.contains(&format!("{{{name}}}")),
                "{}/{id}: fill names `{name}`, which the template lacks",
                table.name
            );
            text = text.replace(&format!("{{{name}}}"), value);
        }
        assert!(
            !text.contains(['{', '}']),
            "{}/{id}: a placeholder is left unfilled: {text}",
            table.name
        );
        let found = diagnose(rules, &format!("{text}\n"));
        let top = found
            .iter()
            .find(|(_, s)| s == "error")
            .map(|(c, _)| c.as_str());
        if top != Some(cell("category")) {
            misses.push(format!(
                "{}/{id}: want {}, got {found:?} for {text:?}",
                table.name,
                cell("category")
            ));
        }
    }
    misses
}

/// The packages of a text's diagnosis by `rule`, as (name, version).
fn packages_of(rules: &RuleSet, text: &str, rule: &str) -> Vec<(String, Option<String>)> {
    use magediag::testing::input::source::Source;
    use magediag::testing::pipeline::{self, Runs};
    let source = Source::from_reader(
        "<stdin>".into(),
        std::io::Cursor::new(text.as_bytes().to_vec()),
    )
    .unwrap();
    let outcome = pipeline::diagnose_source(rules, source, Runs::Latest);
    outcome
        .reports
        .iter()
        .flat_map(|r| r.diagnoses.iter())
        .filter(|d| d.rule == rule)
        .flat_map(|d| d.packages.iter())
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

/// Regression: the packages of an unsolvable Composer problem listed the dependency the
/// requirements fight over without a version (`magento/framework`), and left out the
/// root requirement and the extension that conflict. Each package a Problem list names
/// is listed with the version or constraint it names, and none without one.
#[test]
fn an_unsolvable_problem_lists_root_pins_and_conflicts_each_with_a_version() {
    let rules = RuleSet::embedded().unwrap();
    let sample = std::fs::read_to_string("samples/dependency-conflict.log").unwrap();
    let version = |v: &str| Some(v.to_owned());
    assert_eq!(
        packages_of(&rules, &sample, "dependency-unresolvable"),
        [
            ("magento/product-community-edition".into(), version("2.4.7")),
            ("magento/inventory-metapackage".into(), version("1.2.6")),
            ("acme/module-pdf-invoice".into(), version("^3.1")),
            ("acme/module-pdf-invoice".into(), version("3.1.4")),
        ]
    );
    let rule = rules
        .rules
        .iter()
        .find(|r| r.id == "dependency-unresolvable")
        .unwrap();
    let mut listed = 0;
    for example in rule.examples.iter().filter(|e| e.fires) {
        for (name, version) in packages_of(&rules, &example.log, &rule.id) {
            let version = version.unwrap_or_default();
            assert!(
                !version.is_empty() && version.trim() == version && name.trim() == name,
                "{}: {name:?} listed with version {version:?}",
                example.origin
            );
            listed += 1;
        }
    }
    assert!(listed >= 8, "{listed} packages in the examples");
}
