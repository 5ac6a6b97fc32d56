//! Tests of parsing conditions and predicates, and of field tests.

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
    let p = parse_predicate("name =~ '^module-(staging|rma)$' && status in [403, '404']").unwrap();
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
    // What is wrong, on one line, without the regex crate's drawing of the pattern.
    assert_eq!(e.message, "invalid regex: unclosed group", "{e:?}");
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
