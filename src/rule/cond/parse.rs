//! The parser of conditions and predicates, with nom: a syntax tree whose names keep
//! where they start, or the first place the text goes wrong and what was expected there.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{cut, map_res, opt, recognize, value};
use nom::error::{ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

#[cfg(test)]
use super::Predicate;
use super::{CmpOp, Condition, FieldTest, LazyRegex, Node, Quantifier, Test};

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
        LazyRegex::new(s).map_err(|e| format!("invalid regex: {e}"))
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
