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

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{cut, map_res, opt, recognize, value};
use nom::error::{ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};
use regex::Regex;
use std::sync::OnceLock;

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
    /// Checks `pattern`'s syntax (the message is the regex crate's).
    fn new(pattern: String) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(&pattern)
            .map_err(|e| e.to_string())?;
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

/// A syntax error: where (byte offset into the expression) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// The deepest nesting a condition may have: parentheses and `!` together. The parser
/// and every walk over a condition recurse once per level, so a hostile rule file with
/// thousands of levels would overflow the stack; no real condition comes close.
pub const MAX_NESTING: usize = 64;

/// Parses a rule condition.
pub fn parse_condition(text: &str) -> Result<Condition, SyntaxError> {
    check_nesting(text)?;
    let mut condition = finish(text, or_expr(test).parse(text))?;
    let from_start = |at: &mut usize| *at = text.len().saturating_sub(*at);
    condition.atoms_mut(&mut |test: &mut Test| {
        let (at, predicate) = match test {
            Test::Quantified { at, predicate, .. } => (at, predicate),
            Test::Count {
                at,
                distinct_at,
                distinct_field,
                predicate,
                ..
            } => {
                if distinct_field.is_some() {
                    from_start(distinct_at);
                }
                (at, predicate)
            }
        };
        from_start(at);
        if let Some(predicate) = predicate {
            predicate.atoms_mut(&mut |t| field_offsets_from_start(t, text.len()));
        }
    });
    Ok(condition)
}

/// The parser records where a name starts as the length of the text left from there
/// (all it sees); this turns it into an offset from the start of `len` bytes of text.
fn field_offsets_from_start(test: &mut FieldTest, len: usize) {
    let (at, set_at) = match test {
        FieldTest::Compare { at, .. } | FieldTest::Matches { at, .. } => (at, None),
        FieldTest::In {
            at, set_at, set, ..
        } => (at, set.is_some().then_some(set_at)),
    };
    *at = len.saturating_sub(*at);
    if let Some(set_at) = set_at {
        *set_at = len.saturating_sub(*set_at);
    }
}

#[cfg(test)]
/// Parses a field predicate (the second argument of a quantifier), for tests and tools.
pub fn parse_predicate(text: &str) -> Result<Predicate, SyntaxError> {
    check_nesting(text)?;
    let mut predicate = finish(text, or_expr(field_test).parse(text))?;
    predicate.atoms_mut(&mut |t| field_offsets_from_start(t, text.len()));
    Ok(predicate)
}

/// Refuses a condition nested deeper than [`MAX_NESTING`], at the character where it
/// goes too deep. Quoted text is skipped; every unary `!` counts as a level until the
/// parenthesis group holding it closes.
fn check_nesting(text: &str) -> Result<(), SyntaxError> {
    // For each open group: the `!`s counted inside it so far.
    let mut groups: Vec<usize> = vec![0];
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => groups.push(0),
            ')' if groups.len() > 1 => {
                groups.pop();
            }
            '!' if !matches!(chars.peek(), Some((_, '=' | '~'))) => {
                if let Some(nots) = groups.last_mut() {
                    *nots += 1;
                }
            }
            _ => {}
        }
        let depth = groups.len() - 1 + groups.iter().sum::<usize>();
        if depth > MAX_NESTING {
            return Err(SyntaxError {
                offset: at,
                message: format!(
                    "the condition is nested more than {MAX_NESTING} levels deep (parentheses and `!`): simplify it"
                ),
            });
        }
    }
    Ok(())
}

fn finish<T>(text: &str, result: Res<'_, T>) -> Result<T, SyntaxError> {
    let error = |rest: &str, message: String| SyntaxError {
        offset: text.len() - rest.len(),
        message,
    };
    match result {
        Ok((rest, node)) if rest.trim().is_empty() => Ok(node),
        Ok((rest, _)) => Err(error(
            rest.trim_start(),
            "expected `&&`, `||` or the end of the condition".into(),
        )),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(error(e.input, e.message())),
        Err(nom::Err::Incomplete(_)) => Err(error("", "unexpected end of condition".into())),
    }
}

/// The parser's error: the input where it stopped and what it expected there.
#[derive(Debug)]
struct Expected<'a> {
    input: &'a str,
    what: &'static str,
    detail: Option<String>,
}

impl Expected<'_> {
    fn message(&self) -> String {
        match &self.detail {
            Some(detail) => detail.clone(),
            None => format!("expected {}", self.what),
        }
    }
}

impl<'a> ParseError<&'a str> for Expected<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Expected {
            input,
            what: "a valid condition",
            detail: None,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // Keep whichever branch got further: it is the one the author meant.
        if other.input.len() <= self.input.len() {
            other
        } else {
            self
        }
    }
}

impl<'a, E: std::fmt::Display> nom::error::FromExternalError<&'a str, E> for Expected<'a> {
    fn from_external_error(input: &'a str, _kind: ErrorKind, e: E) -> Self {
        Expected {
            input,
            what: "a valid value",
            detail: Some(e.to_string()),
        }
    }
}

type Res<'a, T> = IResult<&'a str, T, Expected<'a>>;

/// Names what `parser` reads, for errors raised where it starts.
fn expect<'a, O>(
    what: &'static str,
    mut parser: impl Parser<&'a str, Output = O, Error = Expected<'a>>,
) -> impl FnMut(&'a str) -> Res<'a, O> {
    move |input: &'a str| {
        parser.parse(input).map_err(|err| {
            err.map(|e| {
                if e.input.len() >= input.trim_start().len() && e.detail.is_none() {
                    Expected {
                        input: input.trim_start(),
                        what,
                        detail: None,
                    }
                } else {
                    e
                }
            })
        })
    }
}

fn ws<'a, O>(
    parser: impl Parser<&'a str, Output = O, Error = Expected<'a>>,
) -> impl Parser<&'a str, Output = O, Error = Expected<'a>> {
    delimited(multispace0, parser, multispace0)
}

fn or_expr<'a, A>(atom: fn(&'a str) -> Res<'a, A>) -> impl FnMut(&'a str) -> Res<'a, Node<A>> {
    move |input| {
        let (rest, nodes) = operands("||", and_expr(atom)).parse(input)?;
        Ok((rest, collapse(nodes, Node::Or)))
    }
}

fn and_expr<'a, A>(atom: fn(&'a str) -> Res<'a, A>) -> impl FnMut(&'a str) -> Res<'a, Node<A>> {
    move |input| {
        let (rest, nodes) = operands("&&", not_expr(atom)).parse(input)?;
        Ok((rest, collapse(nodes, Node::And)))
    }
}

/// One or more operands joined by `op`; after an `op`, an operand must follow, so an
/// error inside it is reported where it happened, not as a stray operator.
fn operands<'a, O>(
    op: &'static str,
    mut operand: impl Parser<&'a str, Output = O, Error = Expected<'a>>,
) -> impl FnMut(&'a str) -> Res<'a, Vec<O>> {
    move |input: &'a str| {
        let (mut rest, first) = operand.parse(input)?;
        let mut nodes = vec![first];
        while let Ok((after, _)) = ws(tag::<_, _, Expected<'a>>(op)).parse(rest) {
            let (after, node) = cut(|i| operand.parse(i)).parse(after)?;
            nodes.push(node);
            rest = after;
        }
        Ok((rest, nodes))
    }
}

fn collapse<A>(mut nodes: Vec<Node<A>>, wrap: fn(Vec<Node<A>>) -> Node<A>) -> Node<A> {
    if nodes.len() == 1 {
        nodes.pop().unwrap_or(Node::Const(true))
    } else {
        wrap(nodes)
    }
}

fn not_expr<'a, A>(atom: fn(&'a str) -> Res<'a, A>) -> impl FnMut(&'a str) -> Res<'a, Node<A>> {
    move |input| {
        let negated = preceded(ws(char('!')), not_expr(atom)).map(|n| Node::Not(Box::new(n)));
        let group = delimited(ws(char('(')), or_expr(atom), expect("`)`", ws(char(')'))));
        let constant = ws(alt((
            keyword("true").map(|_| Node::Const(true)),
            keyword("false").map(|_| Node::Const(false)),
        )));
        alt((negated, group, constant, ws(atom).map(Node::Atom))).parse(input)
    }
}

/// A word not followed by more identifier characters.
fn keyword<'a>(word: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = Expected<'a>> {
    move |input: &'a str| {
        let (rest, matched) = tag(word).parse(input)?;
        if rest.starts_with(|c: char| is_ident_char(c)) {
            return Err(nom::Err::Error(Expected::from_error_kind(
                input,
                ErrorKind::Tag,
            )));
        }
        Ok((rest, matched))
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// A signal id: letters, digits, `_`, `-` and `.`.
fn signal_id(input: &str) -> Res<'_, String> {
    expect(
        "a signal id",
        ws(take_while1(is_ident_char).map(str::to_owned)),
    )(input)
}

fn field_name(input: &str) -> Res<'_, String> {
    let name = recognize((
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ));
    expect("a field name", ws(name.map(str::to_owned)))(input)
}

fn test(input: &str) -> Res<'_, Test> {
    expect(
        "`any(`, `all(`, `none(`, `count(` or `distinct(`",
        alt((quantified, count, distinct)),
    )(input)
}

fn quantified(input: &str) -> Res<'_, Test> {
    let quantifier = alt((
        value(Quantifier::Any, keyword("any")),
        value(Quantifier::All, keyword("all")),
        value(Quantifier::None, keyword("none")),
    ));
    let (rest, (quantifier, _)) = (quantifier, ws(char('('))).parse(input)?;
    let at = left_at(rest);
    let (rest, (signal, predicate, _)) = (
        signal_id,
        opt(preceded(ws(char(',')), cut(or_expr(field_test)))),
        expect("`,` and a predicate, or `)`", ws(char(')'))),
    )
        .parse(rest)?;
    Ok((
        rest,
        Test::Quantified {
            quantifier,
            signal,
            at,
            predicate,
        },
    ))
}

fn count(input: &str) -> Res<'_, Test> {
    counted("count", false, input)
}

fn distinct(input: &str) -> Res<'_, Test> {
    counted("distinct", true, input)
}

/// `count(SIGNAL[, predicate]) OP N`, or with `distinct` a field after the signal.
fn counted<'a>(name: &'static str, with_field: bool, input: &'a str) -> Res<'a, Test> {
    let (rest, _) = (keyword(name), ws(char('('))).parse(input)?;
    let at = left_at(rest);
    let (rest, signal) = signal_id(rest)?;
    let (rest, distinct_field, distinct_at) = if with_field {
        let (rest, _) = expect("`,` and a field name", ws(char(','))).parse(rest)?;
        let distinct_at = left_at(rest);
        let (rest, field) = field_name(rest)?;
        (rest, Some(field), distinct_at)
    } else {
        (rest, None, 0)
    };
    let (rest, (predicate, _, (op, value))) = (
        opt(preceded(ws(char(',')), cut(or_expr(field_test)))),
        expect("`,` and a predicate, or `)`", ws(char(')'))),
        cut(comparison_to_number),
    )
        .parse(rest)?;
    Ok((
        rest,
        Test::Count {
            signal,
            at,
            distinct_field,
            distinct_at,
            predicate,
            op,
            value,
        },
    ))
}

fn comparison_to_number(input: &str) -> Res<'_, (CmpOp, f64)> {
    let number = map_res(
        ws(recognize((
            opt(char('-')),
            take_while1(|c: char| c.is_ascii_digit() || c == '.'),
        ))),
        str::parse::<f64>,
    );
    (cmp_op, expect("a number", number)).parse(input)
}

fn cmp_op(input: &str) -> Res<'_, CmpOp> {
    expect(
        "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        ws(alt((
            value(CmpOp::Eq, tag("==")),
            value(CmpOp::Ne, tag("!=")),
            value(CmpOp::Le, tag("<=")),
            value(CmpOp::Ge, tag(">=")),
            value(CmpOp::Lt, tag("<")),
            value(CmpOp::Gt, tag(">")),
        ))),
    )(input)
}

/// Where the next token starts, as the length of the text left from there (see
/// [`field_offsets_from_start`]).
fn left_at(input: &str) -> usize {
    input.trim_start().len()
}

fn field_test(input: &str) -> Res<'_, FieldTest> {
    let at = left_at(input);
    let (rest, field) = field_name(input)?;
    alt((
        |i| matches_regex(i, &field, at),
        |i| in_list(i, &field, at),
        |i| {
            let (rest, (op, value)) =
                (cmp_op, expect("a quoted string or a number", literal)).parse(i)?;
            Ok((
                rest,
                FieldTest::Compare {
                    field: field.clone(),
                    at,
                    op,
                    value,
                },
            ))
        },
    ))
    .parse(rest)
}

fn matches_regex<'a>(input: &'a str, field: &str, at: usize) -> Res<'a, FieldTest> {
    let (rest, negated) =
        ws(alt((value(false, tag("=~")), value(true, tag("!~"))))).parse(input)?;
    let (rest, regex) = map_res(expect("a quoted regex", quoted), |s: String| {
        LazyRegex::new(s).map_err(|e| {
            format!(
                "invalid regex: {}",
                e.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
    })
    .parse(rest)?;
    Ok((
        rest,
        FieldTest::Matches {
            field: field.to_owned(),
            at,
            regex,
            negated,
        },
    ))
}

fn in_list<'a>(input: &'a str, field: &str, at: usize) -> Res<'a, FieldTest> {
    let mut set_name = (
        ws(alt((
            value(false, keyword("in")),
            value(true, keyword("near")),
        ))),
        ws(char('@')),
        cut(expect("a set name", take_while1(is_ident_char)).map(|name: &str| (name, name.len()))),
    );
    match set_name.parse(input) {
        Ok((rest, (near, _, (name, len)))) => {
            let test = FieldTest::In {
                field: field.to_owned(),
                at,
                values: std::sync::Arc::from(Vec::new()),
                set: Some(name.to_owned()),
                set_at: rest.len() + len,
                near,
            };
            return Ok((rest, test));
        }
        Err(nom::Err::Failure(e)) => return Err(nom::Err::Failure(e)),
        Err(_) => {}
    }
    let (rest, values) = preceded(
        (ws(keyword("in")), expect("`[`", ws(char('[')))),
        (
            separated_list1(
                ws(char(',')),
                expect("a quoted string or a number", literal),
            ),
            expect("`,` or `]`", ws(char(']'))),
        ),
    )
    .parse(input)?;
    Ok((
        rest,
        FieldTest::In {
            field: field.to_owned(),
            at,
            values: values.0.into(),
            set: None,
            set_at: 0,
            near: false,
        },
    ))
}

fn literal(input: &str) -> Res<'_, String> {
    let number = recognize((
        opt(char('-')),
        take_while1(|c: char| c.is_ascii_digit() || c == '.'),
    ));
    ws(alt((quoted, number.map(str::to_owned)))).parse(input)
}

/// `'text'` or `"text"`, with `\'`, `\"` and `\\` escapes.
fn quoted(input: &str) -> Res<'_, String> {
    let input = input.trim_start();
    let Some(quote) = input.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        return Err(nom::Err::Error(Expected::from_error_kind(
            input,
            ErrorKind::Char,
        )));
    };
    let mut out = String::new();
    let mut chars = input[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) if e == quote || e == '\\' => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            },
            c if c == quote => return Ok((&input[1 + i + 1..], out)),
            c => out.push(c),
        }
    }
    Err(nom::Err::Failure(Expected {
        input,
        what: "a closing quote",
        detail: Some("unterminated string: expected a closing quote".into()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quantifiers_with_predicates() {
        let c = parse_condition(
            "any(archive-refused, status == 403 && host == 'repo.magento.com') && !none(x.y)",
        )
        .unwrap();
        let mut signals = Vec::new();
        c.atoms(&mut |t| signals.push(t.signal().to_owned()));
        assert_eq!(signals, vec!["archive-refused", "x.y"]);
    }

    #[test]
    fn parses_counts_and_distinct() {
        assert!(parse_condition("count(a) >= 2 || distinct(a, name, status == 404) == 1").is_ok());
    }

    #[test]
    fn parses_regex_and_in() {
        let p =
            parse_predicate("name =~ '^module-(staging|rma)$' && status in [403, '404']").unwrap();
        let mut fields = Vec::new();
        p.atoms(&mut |t| fields.push(t.field().to_owned()));
        assert_eq!(fields, vec!["name", "status"]);
    }

    #[test]
    fn reports_where_and_what_was_expected() {
        let e = parse_condition("any(a, status == ) && any(b)").unwrap_err();
        assert_eq!(e.offset, 17);
        assert!(e.message.contains("quoted string or a number"), "{e:?}");

        let e = parse_condition("any(a) &&").unwrap_err();
        assert_eq!(e.offset, 9, "{e:?}");
        assert!(e.message.contains("any("), "{e:?}");

        let e = parse_condition("any(a) && count(a) >").unwrap_err();
        assert!(e.message.contains("a number"), "{e:?}");

        let e = parse_condition("sometimes(a)").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.message.contains("any("), "{e:?}");

        let e = parse_condition("count(a) 3").unwrap_err();
        assert!(e.message.contains("comparison"), "{e:?}");
    }

    #[test]
    fn reports_bad_regex() {
        let e = parse_condition("any(a, name =~ '(')").unwrap_err();
        assert!(e.message.contains("invalid regex"), "{e:?}");
        // The regex crate's own words, as when the regex was compiled on load.
        let unclosed = String::from("(");
        let own = regex::Regex::new(&unclosed).unwrap_err().to_string();
        let own = own.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(e.message.contains(&own), "{e:?} / {own}");
    }

    /// A regex is compiled when a test first runs it; one too large to compile (which
    /// only its size, not its syntax, rules out) passes nothing, negated or not.
    #[test]
    fn regexes_compile_on_first_use() {
        let tests = |predicate: &str| {
            let mut found = Vec::new();
            parse_predicate(predicate)
                .unwrap()
                .atoms(&mut |t| found.push(t.clone()));
            found
        };
        let [module] = &tests("name =~ '^module-(staging|rma)$'")[..] else {
            panic!("one test")
        };
        let FieldTest::Matches { regex, .. } = module else {
            panic!("a regex test")
        };
        assert!(regex.compiled.get().is_none(), "compiled on load");
        assert!(module.passes("module-rma"));
        assert!(!module.passes("module-catalog"));
        assert!(regex.compiled.get().is_some());

        for predicate in ["name =~ '\\w{1000}{1000}'", "name !~ '\\w{1000}{1000}'"] {
            let [huge] = &tests(predicate)[..] else {
                panic!("one test")
            };
            assert!(!huge.passes("x"), "{predicate}");
        }
    }

    /// Regression: about 2,500 nested parentheses or 10,000 `!` overflowed the stack and
    /// aborted the process (also in `rules check`); they are now a located syntax error.
    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let parens = format!("{}any(a.b){}", "(".repeat(5000), ")".repeat(5000));
        let error = parse_condition(&parens).unwrap_err();
        assert_eq!(error.offset, MAX_NESTING);
        assert!(
            error.message.contains("nested more than"),
            "{}",
            error.message
        );
        let nots = format!("{}any(a.b)", "!".repeat(20_000));
        assert!(parse_condition(&nots).is_err());
        let predicate = format!("{}x == 1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(parse_predicate(&predicate).is_err());
        // Quoted text and the `!=` / `!~` operators do not count.
        let quoted = format!("any(a.b, x =~ '{}') && any(a.b, y != 1)", "\\(".repeat(500));
        assert!(parse_condition(&quoted).is_ok());
        // `any(` opens a group of its own.
        let just_enough = format!(
            "{}any(a.b){}",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        assert!(parse_condition(&just_enough).is_ok());
    }

    #[test]
    fn near_finds_typos_of_members_only() {
        let members = vec![
            "magento/module-catalog".to_owned(),
            "magento/module-sales".to_owned(),
        ];
        assert!(is_near_miss("magento/module-catalg", &members));
        assert!(is_near_miss("magento/module-catlaog", &members));
        assert!(is_near_miss("magento/modul-sales", &members));
        assert!(!is_near_miss("magento/module-catalog", &members));
        assert!(!is_near_miss("magento/module-customer-segment", &members));
        assert!(!is_near_miss("", &members));
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"ab", b"ba"), 1);
        let parsed = parse_predicate("package near @os").unwrap();
        let mut near = false;
        parsed.atoms(&mut |t| near |= matches!(t, FieldTest::In { near: true, .. }));
        assert!(near);
    }

    #[test]
    fn parses_named_sets() {
        let p = parse_predicate("name in @commerce_only").unwrap();
        let mut sets = Vec::new();
        p.atoms(&mut |t| {
            if let FieldTest::In { set, .. } = t {
                sets.push(set.clone());
            }
        });
        assert_eq!(sets, vec![Some("commerce_only".to_owned())]);
    }

    #[test]
    fn compares_numbers_as_numbers() {
        assert!(CmpOp::Lt.holds(compare_values("9", "10")));
        assert!(CmpOp::Gt.holds(compare_values("b", "a")));
    }
}
