//! Validating raw rule files and compiling them into signals and rules: each problem is
//! an error located at `file:line:col`, and every one of them is reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use toml::Spanned;

use super::cond::{self, Condition, FieldTest, Test};
use super::raw::{RawExample, RawRule, RawSignal};
use super::table::Table;
use super::template::Template;
use super::{DEFAULT_PRIORITY, Example, Rule, RuleError, RuleFile, is_shipped, line_col};
use crate::messages::did_you_mean;
use crate::record::envelope::Level;
use crate::report::diagnosis::{CATEGORIES, Severity};
use crate::signal::{Pattern, Signal};

/// Signals or rules of one file being added to those of the files before it.
pub(super) struct Added<'a> {
    pub(super) files: &'a [RuleFile],
    pub(super) file: usize,
    pub(super) errors: &'a mut Vec<RuleError>,
}

impl Added<'_> {
    /// Adds `items`. One with the id of a shipped one replaces it (the documented way to
    /// change a shipped rule); any other repeated id (in one file, in two of the user's
    /// files, in two shipped files) is an error at the repeat, naming the first.
    pub(super) fn by_id<T>(
        &mut self,
        into: &mut Vec<(usize, T)>,
        items: Vec<T>,
        what: &str,
        id: impl Fn(&T) -> &toml::Spanned<String>,
    ) {
        let new = &self.files[self.file];
        for item in items {
            let found = into
                .iter()
                .position(|(_, existing)| id(existing).get_ref() == id(&item).get_ref());
            let Some(i) = found else {
                into.push((self.file, item));
                continue;
            };
            let old = &self.files[into[i].0];
            let same_file_again =
                into[i].0 != self.file && old.path == new.path && old.text == new.text;
            if same_file_again || (is_shipped(old) && !is_shipped(new)) {
                into[i] = (self.file, item);
                continue;
            }
            let first = id(&into[i].1).span().start;
            let (line, column) = line_col(&old.text, first);
            let name = id(&item).get_ref().clone();
            self.errors.push(locate_span(
                new,
                id(&item).span(),
                format!(
                    "duplicate {what} id `{name}`: already defined at {}:{line}:{column}",
                    old.path
                ),
            ));
        }
    }
}

/// Turns a byte offset into a located error, pointing at the one character there.
pub(super) fn locate(file: &RuleFile, offset: usize, message: String) -> RuleError {
    locate_span(file, offset..offset, message)
}

/// Turns a byte range into a located error, pointing at the range's characters on its
/// first line (at least one).
pub(super) fn locate_span(
    file: &RuleFile,
    span: std::ops::Range<usize>,
    message: String,
) -> RuleError {
    let (line, column) = line_col(&file.text, span.start);
    let text = file.text.lines().nth(line - 1).unwrap_or("");
    let after: &str = &text[text
        .char_indices()
        .nth(column - 1)
        .map_or(text.len(), |(i, _)| i)..];
    let wanted = file
        .text
        .get(span.start.min(file.text.len())..span.end.min(file.text.len()))
        .map_or(0, |s| s.chars().count());
    let width = wanted.min(after.chars().count()).max(1);
    RuleError {
        path: file.path.clone(),
        line,
        column,
        message,
        snippet: Some(super::Snippet {
            text: text.to_owned(),
            width,
        }),
    }
}

/// A TOML or serde error in a rule file, located, with the key it names: which key is
/// repeated and where it was first set, and the nearest field to an unknown one.
pub(super) fn toml_error(file: &RuleFile, e: &toml::de::Error) -> RuleError {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim();
    let text = &file.text;
    let mut said = message.to_owned();
    if message == "duplicate key" {
        let key = text.get(span.clone()).unwrap_or("").trim();
        let name = key.trim_matches(|c| c == '"' || c == '\'');
        if !name.is_empty() {
            said = format!("duplicate key `{name}`");
            if let Some(first) = earlier_key_line(text, span.start, key) {
                said.push_str(&format!(": already set on line {first} of the same table"));
            }
        }
    } else if let Some(rest) = message.strip_prefix("unknown field `") {
        // serde: "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
        if let Some((name, expected)) = rest.split_once('`') {
            let fields: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = did_you_mean(name, &fields);
            let expected = expected.trim_start_matches(',').trim();
            said = format!("unknown field `{name}`{hint}: {expected}");
        }
    }
    locate_span(file, span, said)
}

/// The line number of an earlier `key = ...` line in the table that holds `at`.
fn earlier_key_line(text: &str, at: usize, key: &str) -> Option<usize> {
    let before = text.get(..at)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let lines: Vec<&str> = before[..line_start].lines().collect();
    (0..lines.len())
        .rev()
        .take_while(|&i| !lines[i].trim_start().starts_with('['))
        .find(|&i| {
            lines[i]
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == key)
        })
        .map(|i| i + 1)
}

/// The bytes of a file that hold `part` of a string value's decoded contents: in a
/// literal string (`'...'`, `'''...'''`) the contents are written as they are; in a
/// basic one (`"..."`) each escape is read to find where the decoded bytes were written.
pub(super) fn value_range(
    file: &RuleFile,
    span: &std::ops::Range<usize>,
    part: std::ops::Range<usize>,
) -> std::ops::Range<usize> {
    let start = content_start(file, span);
    let raw = file.text.get(start..span.end.max(start)).unwrap_or("");
    let literal = file
        .text
        .get(span.clone())
        .is_some_and(|raw| raw.starts_with('\''));
    let at = |offset: usize| -> usize {
        if literal {
            return start + offset.min(raw.len());
        }
        let (mut written, mut decoded) = (0, 0);
        while written < raw.len() && decoded < offset {
            let (read, made) = escape_or_char(&raw[written..]);
            written += read;
            decoded += made;
        }
        start + written
    };
    at(part.start)..at(part.end)
}

/// How many bytes the next character or escape of a basic string's contents takes, and
/// how many bytes it decodes to.
fn escape_or_char(raw: &str) -> (usize, usize) {
    let mut chars = raw.chars();
    let Some(first) = chars.next() else {
        return (0, 0);
    };
    if first != '\\' {
        return (first.len_utf8(), first.len_utf8());
    }
    let hex = |digits: usize| {
        raw.get(2..2 + digits)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .map_or((2, 1), |c| (2 + digits, c.len_utf8()))
    };
    match chars.next() {
        Some('u') => hex(4),
        Some('U') => hex(8),
        Some('x') => hex(2),
        // A line-ending backslash: the line break and the whitespace after it go.
        Some(c) if c.is_whitespace() => {
            let rest = &raw[1..];
            (1 + rest.len() - rest.trim_start().len(), 0)
        }
        Some(c) => (1 + c.len_utf8(), 1),
        None => (1, 1),
    }
}

/// An error at `part` of a string value's decoded contents (a `when`, a summary, a
/// pattern), pointing at the characters of the file that hold it.
pub(super) fn in_value(
    file: &RuleFile,
    value: &Spanned<String>,
    part: std::ops::Range<usize>,
    message: String,
) -> RuleError {
    locate_span(file, value_range(file, &value.span(), part), message)
}

/// The byte offset where a string value's contents begin, after its opening quotes.
pub(super) fn content_start(file: &RuleFile, span: &std::ops::Range<usize>) -> usize {
    let raw = file.text.get(span.clone()).unwrap_or("");
    let quotes = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        let after = &raw[3..];
        3 + usize::from(after.starts_with('\n')) + usize::from(after.starts_with("\r\n")) * 2
    } else {
        1
    };
    span.start + quotes.min(raw.len())
}

pub(super) fn compile_signal(
    file: &RuleFile,
    raw: &RawSignal,
    tables: &[Arc<Table>],
    errors: &mut Vec<RuleError>,
) -> Option<Signal> {
    let start = errors.len();
    check_id(file, &raw.id, "signal", errors);
    if raw.patterns.is_empty() {
        errors.push(locate_span(
            file,
            raw.id.span(),
            format!(
                "signal `{}` has no patterns: expected `patterns = ['regex', ...]`",
                raw.id.get_ref()
            ),
        ));
    }
    let mut patterns = Vec::new();
    // The shipped catalogue's patterns are compiled on first use (the tests compile them
    // all); any other file's at once, so a pattern too large to compile is located here.
    let compile_now = !is_shipped(file);
    for pattern in &raw.patterns {
        match Pattern::new(pattern.get_ref(), compile_now) {
            Ok(pattern) => patterns.push(pattern),
            Err(e) => errors.push(in_value(
                file,
                pattern,
                e.span.clone().unwrap_or(0..0),
                format!("invalid regex in signal `{}`: {}", raw.id.get_ref(), e),
            )),
        }
    }
    let mut levels = Vec::new();
    for level in &raw.levels {
        match Level::from_word(level.get_ref()) {
            Some(l) => levels.push(l),
            None => errors.push(locate_span(file, level.span(), format!(
                "unknown level `{}`: expected one of DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY",
                level.get_ref()
            ))),
        }
    }
    let mut lookups = Vec::new();
    for name in &raw.lookup {
        match tables.iter().find(|t| &t.name == name.get_ref()) {
            Some(table) => lookups.push(Arc::clone(table)),
            None => errors.push(locate_span(
                file,
                name.span(),
                format!(
                    "unknown table `{}` in `lookup`: expected one of {}",
                    name.get_ref(),
                    tables
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    (errors.len() == start).then(|| Signal {
        id: raw.id.get_ref().clone(),
        description: raw.description.clone(),
        patterns,
        levels,
        lookups,
        origin: file.path.clone(),
        shipped: is_shipped(file),
    })
}

fn check_id(file: &RuleFile, id: &Spanned<String>, what: &str, errors: &mut Vec<RuleError>) {
    let valid = !id.get_ref().is_empty()
        && id
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'));
    if !valid {
        errors.push(locate_span(
            file,
            id.span(),
            format!(
                "invalid {what} id `{}`: expected lowercase letters, digits, `-`, `.` or `_`",
                id.get_ref()
            ),
        ));
    }
}

/// The compiled signals by id: what rules are compiled against, before the signal set
/// is built from what they read.
pub(super) struct Known<'a> {
    signals: &'a [Signal],
    by_id: HashMap<&'a str, usize>,
    /// Signals defined but refused (their own errors are reported): a rule that reads
    /// one is not told the id is unknown as well.
    refused: HashSet<&'a str>,
}

impl<'a> Known<'a> {
    pub(super) fn new(signals: &'a [Signal], defined: &[&'a str]) -> Known<'a> {
        let by_id: HashMap<&str, usize> = signals
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let refused = defined
            .iter()
            .copied()
            .filter(|id| !by_id.contains_key(id))
            .collect();
        Known {
            signals,
            by_id,
            refused,
        }
    }

    /// Whether `id` names a signal that was defined but refused.
    pub(super) fn is_refused(&self, id: &str) -> bool {
        self.refused.contains(id)
    }

    pub(super) fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(super) fn signals(&self) -> &'a [Signal] {
        self.signals
    }
}

pub(super) fn compile_rule(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    sets: &BTreeMap<String, Arc<[String]>>,
    errors: &mut Vec<RuleError>,
) -> Option<Rule> {
    let start = errors.len();
    check_id(file, &raw.id, "rule", errors);
    let category = raw.category.get_ref();
    if !CATEGORIES.contains(&category.as_str()) {
        errors.push(locate_span(
            file,
            raw.category.span(),
            format!(
                "unknown category `{category}`{}: expected one of {}",
                did_you_mean(category, CATEGORIES),
                CATEGORIES.join(", ")
            ),
        ));
    }
    let severity = Severity::parse(raw.severity.get_ref());
    if severity.is_none() {
        errors.push(locate_span(
            file,
            raw.severity.span(),
            format!(
                "unknown severity `{}`: expected `error`, `warning` or `info`",
                raw.severity.get_ref()
            ),
        ));
    }
    let when = compile_condition(file, raw, signals, sets, errors);
    let also = resolve_signals(file, &raw.also, signals, errors);
    let summary = compile_summary(file, raw, signals, when.as_ref(), &also, errors);
    let examples = raw
        .example
        .iter()
        .map(|e| compile_example(file, e))
        .collect();
    if errors.len() > start {
        return None;
    }
    Some(Rule {
        id: raw.id.get_ref().clone(),
        category: category.clone(),
        severity: severity?,
        priority: raw.priority.unwrap_or(DEFAULT_PRIORITY),
        title: raw.title.clone(),
        when: when?,
        when_text: raw.when.get_ref().clone(),
        also,
        suppresses: raw.suppresses.iter().map(|s| s.get_ref().clone()).collect(),
        generic: raw.generic,
        summary: summary?,
        causes: raw.causes.clone(),
        remediation: raw.remediation.clone(),
        references: raw.references.clone(),
        examples,
        origin: format!(
            "{}:{}",
            file.path,
            line_col(&file.text, raw.id.span().start).0
        ),
        shipped: is_shipped(file),
        reads: Vec::new(),
        fires_on_nothing: true,
    })
}

fn compile_condition(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    sets: &BTreeMap<String, Arc<[String]>>,
    errors: &mut Vec<RuleError>,
) -> Option<Condition> {
    let mut condition = match cond::parse_condition(raw.when.get_ref()) {
        Ok(c) => c,
        Err(e) => {
            let message = format!("in `when`: {}", e.message);
            errors.push(in_value(file, &raw.when, e.offset..e.offset, message));
            return None;
        }
    };
    let mut problems: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    condition.atoms(&mut |test: &Test| {
        let Some(signal) = signals.index(test.signal()) else {
            if signals.is_refused(test.signal()) {
                return;
            }
            let ids: Vec<&str> = signals.signals().iter().map(|s| s.id.as_str()).collect();
            problems.push((
                test.at()..test.at() + test.signal().len(),
                format!(
                    "unknown signal `{}`{}: expected the id of a `[[signal]]` in any rule file",
                    test.signal(),
                    did_you_mean(test.signal(), &ids)
                ),
            ));
            return;
        };
        let fields: Vec<&str> = signals.signals()[signal].field_names().collect();
        for (at, field) in test.fields() {
            if !fields.contains(&field) {
                problems.push((
                    at..at + field.len(),
                    format!(
                        "unknown field `{field}` of signal `{}`{}: expected a capture of its \
                         patterns, a column of its lookup tables, or one of {}",
                        test.signal(),
                        did_you_mean(field, &fields),
                        crate::signal::BUILTIN_FIELDS.join(", ")
                    ),
                ));
            }
        }
    });
    condition.atoms_mut(&mut |test: &mut Test| {
        let predicate = match test {
            Test::Quantified { predicate, .. } | Test::Count { predicate, .. } => predicate,
        };
        let Some(predicate) = predicate else { return };
        predicate.atoms_mut(&mut |field_test| {
            if let FieldTest::In {
                values,
                set: Some(name),
                set_at,
                ..
            } = field_test
            {
                match sets.get(name.as_str()) {
                    Some(members) => *values = Arc::clone(members),
                    None => {
                        let names: Vec<&str> = sets.keys().map(String::as_str).collect();
                        problems.push((
                            *set_at..*set_at + name.len(),
                            format!(
                                "unknown set `@{name}`{}: expected a name defined under `[sets]` \
                                 in a rule file, or a data table's name",
                                did_you_mean(name, &names)
                            ),
                        ));
                    }
                }
            }
        });
    });
    problems.sort_by_key(|(at, _)| at.start);
    for (at, message) in problems {
        errors.push(in_value(
            file,
            &raw.when,
            at,
            format!("in `when`: {message}"),
        ));
    }
    Some(condition)
}

fn resolve_signals(
    file: &RuleFile,
    ids: &[Spanned<String>],
    signals: &Known<'_>,
    errors: &mut Vec<RuleError>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for id in ids {
        match signals.index(id.get_ref()) {
            Some(i) => out.push(i),
            None if signals.is_refused(id.get_ref()) => {}
            None => errors.push(locate_span(
                file,
                id.span(),
                format!(
                    "unknown signal `{}` in `also`: expected the id of a `[[signal]]`",
                    id.get_ref()
                ),
            )),
        }
    }
    out
}

fn compile_summary(
    file: &RuleFile,
    raw: &RawRule,
    signals: &Known<'_>,
    when: Option<&Condition>,
    also: &[usize],
    errors: &mut Vec<RuleError>,
) -> Option<Template> {
    let template = match Template::parse(raw.summary.get_ref()) {
        Ok(t) => t,
        Err(e) => {
            let message = format!("in `summary`: {}", e.message);
            errors.push(in_value(file, &raw.summary, e.offset..e.offset, message));
            return None;
        }
    };
    let mut known: HashSet<&str> = crate::rule::template::BUILTIN_NAMES
        .iter()
        .copied()
        .collect();
    // The fields of a `when` that did not compile, or of a refused signal, are not
    // known: their errors are reported, and the summary's fields are not checked.
    let Some(when) = when else {
        return Some(template);
    };
    let mut used = also.to_vec();
    let mut refused = raw.also.iter().any(|id| signals.is_refused(id.get_ref()));
    when.atoms(&mut |t: &Test| {
        used.extend(signals.index(t.signal()));
        refused |= signals.is_refused(t.signal());
    });
    if refused {
        return Some(template);
    }
    for i in used {
        known.extend(signals.signals()[i].field_names());
    }
    for (offset, name) in template.field_names() {
        if !known.contains(name) {
            errors.push(in_value(file, &raw.summary, offset..offset + name.len(), format!(
                "in `summary`: unknown field `{name}`: expected `count`, `packages` or a capture of the rule's signals"
            )));
        }
    }
    Some(template)
}

fn compile_example(file: &RuleFile, raw: &RawExample) -> Example {
    let fields = raw
        .fields
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    Example {
        name: raw.name.clone(),
        log: raw.log.get_ref().clone(),
        fires: raw.fires,
        fields,
        packages: raw.packages.clone(),
        origin: format!(
            "{}:{}",
            file.path,
            line_col(&file.text, raw.log.span().start).0
        ),
    }
}

pub(super) fn check_suppressions(
    files: &[RuleFile],
    raw_rules: &[(usize, RawRule)],
    errors: &mut Vec<RuleError>,
) {
    let ids: HashSet<&str> = raw_rules
        .iter()
        .map(|(_, r)| r.id.get_ref().as_str())
        .collect();
    for (f, rule) in raw_rules {
        for target in &rule.suppresses {
            if !ids.contains(target.get_ref().as_str()) {
                errors.push(locate_span(
                    &files[*f],
                    target.span(),
                    format!(
                        "unknown rule `{}` in `suppresses`: expected the id of a `[[rule]]`",
                        target.get_ref()
                    ),
                ));
            }
        }
    }
}
