//! The condition language of rules, parsed with nom.
//!
//! ```text
//! condition := or
//! or        := and ("||" and)*
//! and       := not ("&&" not)*
//! not       := "!" not | "(" or ")" | "true" | "false" | test
//! test      := ("any" | "all" | "none") "(" SIGNAL ["," predicate] ")"
//!            | "count" "(" SIGNAL ["," predicate] ")" OP NUMBER
//!            | "distinct" "(" SIGNAL "," FIELD ["," predicate] ")" OP NUMBER
//! predicate := the same boolean structure over field tests:
//!              FIELD OP LITERAL | FIELD ("=~" | "!~") 'REGEX' | FIELD "in" "[" LITERAL, ... "]"
//!            | FIELD "in" "@" SET      (a named list from a rule file's `[sets]` table,
//!                                        or a data table's key column)
//!            | FIELD "near" "@" SET    (not a member, but one or two edits from one: a typo)
//! OP        := "==" | "!=" | "<" | "<=" | ">" | ">="
//! ```
//!
//! `any` holds when one event of the signal passes the predicate, `all` when there is at
//! least one event and every one passes, `none` when no event passes. Values compare as
//! numbers when both sides are numbers, else as strings; a missing field is `""`.

//!
//! The parser is in `parse.rs`; this file holds the syntax tree and how a field test
//! passes.

use regex::Regex;
use std::sync::OnceLock;

mod parse;

pub use parse::parse_condition;
#[cfg(test)]
use parse::{MAX_NESTING, parse_predicate};

/// A boolean structure over atoms: conditions over signals, predicates over fields.
#[derive(Debug, Clone)]
pub enum Node<A> {
    Or(Vec<Node<A>>),
    And(Vec<Node<A>>),
    Not(Box<Node<A>>),
    Const(bool),
    Atom(A),
}

/// A rule's condition: tests over the signals of one source.
pub type Condition = Node<Test>;
/// A filter over one event's fields.
pub type Predicate = Node<FieldTest>;

/// How a quantifier looks at the events of one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
    None,
}

/// One test over the events of a signal.
#[derive(Debug, Clone)]
pub enum Test {
    Quantified {
        quantifier: Quantifier,
        signal: String,
        /// Where the signal's id starts in the condition's text (a byte offset).
        at: usize,
        predicate: Option<Predicate>,
    },
    Count {
        signal: String,
        /// Where the signal's id starts in the condition's text (a byte offset).
        at: usize,
        distinct_field: Option<String>,
        /// Where `distinct_field` starts in the condition's text (0 without one).
        distinct_at: usize,
        predicate: Option<Predicate>,
        op: CmpOp,
        value: f64,
    },
}

impl Test {
    /// The signal this test looks at.
    pub fn signal(&self) -> &str {
        match self {
            Test::Quantified { signal, .. } | Test::Count { signal, .. } => signal,
        }
    }

    /// Where the signal's id starts in the condition's text.
    pub fn at(&self) -> usize {
        match self {
            Test::Quantified { at, .. } | Test::Count { at, .. } => *at,
        }
    }

    /// The test's predicate, if it has one.
    pub fn predicate(&self) -> Option<&Predicate> {
        match self {
            Test::Quantified { predicate, .. } | Test::Count { predicate, .. } => {
                predicate.as_ref()
            }
        }
    }

    /// Every field the test reads, with where its name starts in the condition's text:
    /// the predicate's fields and the field `distinct` counts.
    pub fn fields(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        if let Test::Count {
            distinct_field: Some(field),
            distinct_at,
            ..
        } = self
        {
            out.push((*distinct_at, field.as_str()));
        }
        if let Some(predicate) = self.predicate() {
            predicate.atoms(&mut |t: &FieldTest| out.push((t.at(), t.field())));
        }
        out
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Applies the operator to an ordering.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}

/// One test over a field of an event.
#[derive(Debug, Clone)]
pub enum FieldTest {
    Compare {
        field: String,
        /// Where the field's name starts in the condition's text (a byte offset).
        at: usize,
        op: CmpOp,
        value: String,
    },
    Matches {
        field: String,
        /// Where the field's name starts in the condition's text (a byte offset).
        at: usize,
        regex: LazyRegex,
        negated: bool,
    },
    In {
        field: String,
        /// Where the field's name starts in the condition's text (a byte offset).
        at: usize,
        /// Shared: a data table's key column can be hundreds of values, tested by
        /// several rules.
        values: std::sync::Arc<[String]>,
        /// `in @name`: the values come from the rule files' `[sets]`, filled in on load.
        set: Option<String>,
        /// Where the set's name (after `@`) starts in the condition's text (0 without one).
        set_at: usize,
        /// `near @name`: passes for a value that is not a member but one or two edits
        /// away from one (a typo of a member), instead of for a member.
        near: bool,
    },
}

/// A condition's regex: its syntax checked when the rule file is read, compiled the
/// first time a test runs it. Most conditions never run on a healthy log, and compiling
/// the shipped rules' ~20 condition regexes cost ~18 M instructions (~4 ms) on every
/// start.
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax; the error says what is wrong, on one line.
    fn new(pattern: String) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(&pattern)
            .map_err(|e| crate::signal::RegexProblem::of_syntax(&e).message)?;
        Ok(LazyRegex {
            pattern,
            compiled: OnceLock::new(),
        })
    }

    /// Whether the regex matches somewhere in `text`; `None` when it does not compile
    /// (only past the regex crate's size limit: the syntax was checked on load).
    fn is_match(&self, text: &str) -> Option<bool> {
        let regex = self.compiled.get_or_init(|| Regex::new(&self.pattern).ok());
        regex.as_ref().map(|regex| regex.is_match(text))
    }
}

impl FieldTest {
    /// The field this test reads.
    pub fn field(&self) -> &str {
        match self {
            FieldTest::Compare { field, .. }
            | FieldTest::Matches { field, .. }
            | FieldTest::In { field, .. } => field,
        }
    }

    /// Where the field's name starts in the condition's text.
    pub fn at(&self) -> usize {
        match self {
            FieldTest::Compare { at, .. }
            | FieldTest::Matches { at, .. }
            | FieldTest::In { at, .. } => *at,
        }
    }

    /// Whether the test passes for a field value (`""` when the field is missing).
    pub fn passes(&self, actual: &str) -> bool {
        match self {
            FieldTest::Compare { op, value, .. } => op.holds(compare_values(actual, value)),
            // A regex too large to compile passes nothing, negated or not.
            FieldTest::Matches { regex, negated, .. } => regex
                .is_match(actual)
                .is_some_and(|found| found != *negated),
            FieldTest::In {
                values,
                near: false,
                ..
            } => values.iter().any(|v| v == actual),
            FieldTest::In {
                values, near: true, ..
            } => is_near_miss(actual, values),
        }
    }
}

/// The most edits a `near` test allows.
const NEAR_EDITS: usize = 2;

/// Whether `actual` is not in `values` but at most [`NEAR_EDITS`] edits (insert, delete,
/// replace, or swap two neighbours) from one of them. Values shorter than six characters
/// are too short for a typo to be told from another word.
fn is_near_miss(actual: &str, values: &[String]) -> bool {
    if actual.len() < 6 || values.iter().any(|v| v == actual) {
        return false;
    }
    values
        .iter()
        .filter(|v| v.len().abs_diff(actual.len()) <= NEAR_EDITS)
        .any(|v| edit_distance(actual.as_bytes(), v.as_bytes()) <= NEAR_EDITS)
}

/// The optimal string alignment distance between two byte strings.
pub fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

/// Compares as numbers when both sides are numbers, else as strings.
pub fn compare_values(left: &str, right: &str) -> std::cmp::Ordering {
    match (left.trim().parse::<f64>(), right.trim().parse::<f64>()) {
        (Ok(l), Ok(r)) => l.partial_cmp(&r).unwrap_or(std::cmp::Ordering::Equal),
        _ => left.cmp(right),
    }
}

impl<A> Node<A> {
    /// Visits every atom, mutably.
    pub fn atoms_mut(&mut self, visit: &mut dyn FnMut(&mut A)) {
        match self {
            Node::Or(nodes) | Node::And(nodes) => nodes.iter_mut().for_each(|n| n.atoms_mut(visit)),
            Node::Not(node) => node.atoms_mut(visit),
            Node::Const(_) => {}
            Node::Atom(atom) => visit(atom),
        }
    }

    /// Visits every atom.
    pub fn atoms<'s>(&'s self, visit: &mut dyn FnMut(&'s A)) {
        match self {
            Node::Or(nodes) | Node::And(nodes) => nodes.iter().for_each(|n| n.atoms(visit)),
            Node::Not(node) => node.atoms(visit),
            Node::Const(_) => {}
            Node::Atom(atom) => visit(atom),
        }
    }
}

#[cfg(test)]
mod tests;
