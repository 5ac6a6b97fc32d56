//! Tests of loading and checking rule files.

use super::*;

fn load(text: &str) -> Result<RuleSet, RuleErrors> {
    RuleSet::load(&[RuleFile {
        path: "my.toml".into(),
        text: text.into(),
    }])
}

const SIGNAL: &str = "[[signal]]\nid = \"s\"\npatterns = ['x(?P<n>\\d+)']\n";

fn rule(when: &str, summary: &str) -> String {
    format!(
        "{SIGNAL}[[rule]]\nid = \"r\"\ncategory = \"network\"\nseverity = \"error\"\ntitle = \"t\"\nwhen = '{when}'\nsummary = '{summary}'\ncauses = []\nremediation = []\n"
    )
}

#[test]
fn loads_a_valid_rule() {
    let set = load(&rule("any(s, n > 3)", "{count} times, n={n}")).unwrap();
    assert_eq!(set.rules.len(), 1);
}

/// The lines of an ece-tools suggestion are read only for a rule that shows it.
#[test]
fn tells_whether_a_rule_reads_suggestions() {
    assert!(!load(&rule("any(s)", "n={n}")).unwrap().reads_suggestions);
    let summary = load(&rule("any(s)", "{suggestion}")).unwrap();
    assert!(summary.reads_suggestions);
    let when = load(&rule("any(s, suggestion =~ \"chmod\")", "n={n}")).unwrap();
    assert!(when.reads_suggestions);
    assert!(!RuleSet::embedded().unwrap().reads_suggestions);
}

/// A run with no event is diagnosed only if some rule can fire on it.
#[test]
fn tells_whether_a_rule_fires_on_no_event() {
    assert!(!load(&rule("any(s)", "x")).unwrap().fires_on_nothing());
    assert!(
        !load(&rule("count(s) < 1 && any(s)", "x"))
            .unwrap()
            .fires_on_nothing()
    );
    assert!(load(&rule("none(s)", "x")).unwrap().fires_on_nothing());
    assert!(load(&rule("count(s) < 1", "x")).unwrap().fires_on_nothing());
    assert!(!RuleSet::embedded().unwrap().fires_on_nothing());
}

#[test]
fn locates_a_bad_condition() {
    let errors = load(&rule("any(s, n > )", "x")).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (9, 20), "{e}");
    assert!(e.message.contains("expected"), "{e}");
}

#[test]
fn names_an_unknown_signal_and_field() {
    let errors = load(&rule("any(nope)", "{missing}")).unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("my.toml:9:13: in `when`: unknown signal `nope`"),
        "{text}"
    );
    assert!(text.contains("unknown field `missing`"), "{text}");
}

#[test]
fn locates_toml_syntax_errors_and_unknown_keys() {
    let errors = load("[[rule]]\nid = \"r\"\ncolour = 1\n").unwrap_err();
    let e = &errors.0[0];
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("unknown field `colour`"), "{e}");
}

/// A regex error points at the character at fault, as the regex crate's own caret
/// does, and is said on one line.
#[test]
fn locates_a_bad_regex_at_the_character_at_fault() {
    let errors = load("[[signal]]\nid = \"s\"\npatterns = ['a(b']\n").unwrap_err();
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (3, 15), "{e}");
    assert_eq!(e.message, "invalid regex in signal `s`: unclosed group");
    assert_eq!(
        e.snippet_lines(),
        ["  |", "3 | patterns = ['a(b']", "  |               ^"]
    );
    // In a multi-line literal string, the offset is the same inside the pattern.
    let errors = load("[[signal]]\nid = \"s\"\npatterns = [\n  '''ab[z-a]''',\n]\n").unwrap_err();
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (4, 9), "{e}");
    assert_eq!(e.snippet.as_ref().map(|s| s.width), Some(3), "{e}");
    assert!(
        e.message
            .ends_with("invalid character class range, the start must be <= the end"),
        "{e}"
    );
    // In a basic string, past the escape that shifts it.
    let errors = load("[[signal]]\nid = \"s\"\npatterns = [\"\\\\d(\"]\n").unwrap_err();
    assert_eq!(errors.0[0].column, 17, "{}", errors.0[0]);
}

/// In a basic string (`"..."`) escapes shift the decoded text against the file: each
/// error is still located at the characters of the file that hold the name.
#[test]
fn locates_names_after_escapes_in_a_basic_string() {
    let when = r#"when = "any(s, text =~ \"\u00e9\\d\") && any(zz)""#;
    let text = rule("any(s)", "x").replace("when = 'any(s)'", when);
    let errors = load(&text).unwrap_err();
    let e = &errors.0[0];
    assert!(e.message.contains("unknown signal `zz`"), "{e}");
    let column = when.find("zz").unwrap() + 1;
    assert_eq!((e.line, e.column), (9, column), "{e}");
    assert_eq!(e.snippet.as_ref().map(|s| s.width), Some(2), "{e}");
    // A multi-line basic string with a line-ending backslash.
    let summary = "summary = \"\"\"\nn is \\\n    {nn}\"\"\"";
    let text = rule("any(s)", "x").replace("summary = 'x'", summary);
    let errors = load(&text).unwrap_err();
    let e = &errors.0[0];
    assert!(e.message.contains("unknown field `nn`"), "{e}");
    assert_eq!((e.line, e.column), (12, 6), "{e}");
}

/// A repeated key is named, with the line that set it first; an unknown one gets the
/// nearest known field.
#[test]
fn names_a_repeated_key_and_the_nearest_field_to_an_unknown_one() {
    let text = rule("any(s)", "x").replace("title = \"t\"\n", "title = \"t\"\ntitle = \"u\"\n");
    let errors = load(&text).unwrap_err();
    let e = &errors.0[0];
    assert_eq!(e.line, 9, "{e}");
    assert_eq!(
        e.message,
        "duplicate key `title`: already set on line 8 of the same table"
    );
    assert_eq!(e.snippet.as_ref().map(|s| s.width), Some(5), "{e}");
    // The same key in another table is no repeat.
    let other = rule("any(s)", "x")
        .replace(SIGNAL, "")
        .replace("id = \"r\"", "id = \"q\"");
    load(&format!("{}{other}", rule("any(s)", "x"))).unwrap();

    let errors = load(&rule("any(s)", "x").replace("title", "titel")).unwrap_err();
    let e = &errors.0[0];
    assert!(
        e.message
            .starts_with("unknown field `titel` (did you mean `title`?): expected one of `id`,"),
        "{e}"
    );
}

/// A mistake is reported once: a rule that reads a refused signal, or whose `when`
/// does not parse, is not also told its signal or summary fields are unknown.
#[test]
fn a_refused_signal_or_condition_brings_no_follow_on_errors() {
    let broken = rule("any(s, n > 1)", "{n}").replace("'x(?P<n>\\d+)'", "'x(?P<n>\\d+'");
    let errors = load(&broken).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert!(errors.0[0].message.contains("unclosed group"), "{errors}");

    let errors = load(&rule("any(s) &&& n", "{n} {m}")).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert!(errors.0[0].message.starts_with("in `when`"), "{errors}");
}

/// A rule file of the user's replaces a shipped rule of the same id.
#[test]
fn a_users_rule_replaces_a_shipped_one_by_id() {
    let shipped = RuleSet::embedded().unwrap();
    let id = shipped.rules[0].id.clone();
    let text = rule("none(s)", "mine").replace("id = \"r\"", &format!("id = \"{id}\""));
    let user = RuleFile {
        path: "mine.toml".into(),
        text,
    };
    let set = RuleSet::with_extra(&[user]).unwrap();
    assert_eq!(set.rules.len(), shipped.rules.len());
    assert_eq!(set.rule(&id).unwrap().when_text, "none(s)");
}

/// Regression: a repeated id in one file, or in two of the user's files, silently
/// replaced the first, and `rules check` said ok.
#[test]
fn a_repeated_id_elsewhere_is_an_error_at_the_repeat() {
    let first = RuleFile {
        path: "a.toml".into(),
        text: rule("any(s)", "first"),
    };
    let second = RuleFile {
        path: "b.toml".into(),
        text: rule("none(s)", "second"),
    };
    let errors = RuleSet::load(&[first.clone(), second]).unwrap_err();
    let text = errors.to_string();
    assert!(text.contains("b.toml:"), "{text}");
    assert!(
        text.contains("duplicate signal id `s`: already defined at a.toml:"),
        "{text}"
    );
    assert!(text.contains("duplicate rule id `r`"), "{text}");
    let twice = RuleFile {
        path: "c.toml".into(),
        text: format!("{}{}", first.text, first.text.replace(SIGNAL, "")),
    };
    let errors = RuleSet::load(&[twice]).unwrap_err().to_string();
    assert!(
        errors.contains("c.toml:") && errors.contains("duplicate rule id `r`"),
        "{errors}"
    );
    // The same file given twice is not a conflict.
    assert!(RuleSet::load(&[first.clone(), first]).is_ok());
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncdé f", 9), (2, 6));
}

/// Every unknown name is reported where it is written, not where its text first
/// occurs: `an` is also the start of `any`.
#[test]
fn locates_each_unknown_name_where_it_is_written() {
    let errors = load(&rule("any(s) && any(an)", "x")).unwrap_err();
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (9, 23), "{e}");
    assert!(e.message.contains("unknown signal `an`"), "{e}");
}

/// A field a predicate tests must be one its signal's events can carry.
#[test]
fn an_unknown_field_in_a_predicate_is_an_error_with_a_suggestion() {
    let errors = load(&rule("any(s, nn > 3)", "x")).unwrap_err();
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (9, 16), "{e}");
    assert!(
        e.message
            .contains("unknown field `nn` of signal `s` (did you mean `n`?)"),
        "{e}"
    );
    let errors = load(&rule("distinct(s, nn) > 1", "x")).unwrap_err();
    assert!(
        errors.0[0].message.contains("unknown field `nn`"),
        "{errors}"
    );
    // Fields every event carries, and the signal's captures, are known.
    load(&rule(
        "any(s, n > 3 && text =~ \"x\" && level == \"ERROR\")",
        "x",
    ))
    .unwrap();
}

#[test]
fn an_unknown_set_is_located_and_the_nearest_named() {
    let errors = load(&rule("any(s, n in @ece_error)", "x")).unwrap_err();
    let e = &errors.0[0];
    assert_eq!((e.line, e.column), (9, 22), "{e}");
    assert!(
        e.message
            .contains("unknown set `@ece_error` (did you mean `ece_errors`?)"),
        "{e}"
    );
}

/// Whether a rule reads suggestions is asked of its parsed condition: the word in a
/// regex does not count.
#[test]
fn a_suggestion_in_a_regex_is_not_a_read_of_the_field() {
    let set = load(&rule("any(s, text =~ \"suggestion\")", "x")).unwrap();
    assert!(!set.reads_suggestions);
}

/// Patterns without a literal run together; when together they are too large, each
/// one is located in its file, not at `<rules>:1:1`.
#[test]
fn signals_too_large_together_are_located_at_their_patterns() {
    let text: String = (0..30)
        .map(|i| format!("[[signal]]\nid = \"s{i}\"\npatterns = ['\\w{{40}}{i}']\n\n"))
        .collect();
    let errors = load(&text).unwrap_err();
    assert!(!errors.0.is_empty());
    for e in &errors.0 {
        assert_eq!(e.path, "my.toml", "{e}");
        assert_eq!(e.column, 14, "{e}");
        assert!(e.message.contains("too large to compile"), "{e}");
    }
    assert_eq!(errors.0[0].line, 3, "{errors}");
}
