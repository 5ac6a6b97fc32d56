//! Tests of the line gate.

use super::fragments::*;
use super::*;

fn hir(pattern: &str) -> Hir {
    regex_syntax::parse(pattern).unwrap()
}

fn item(literals: &[&str], check: Option<&str>) -> GateItem {
    GateItem {
        literals: literals.iter().map(|l| l.as_bytes().to_vec()).collect(),
        check: check.map(hir),
        context: 0,
    }
}

/// The word-at-a-time compare agrees with the library's for every needle length up
/// to three words, a byte differing anywhere, and a haystack too short.
#[test]
fn starts_with_agrees_with_the_library() {
    let text: Vec<u8> = (0u8..30).map(|i| b'a' + i % 26).collect();
    for n in 0..=24 {
        let needle = &text[..n];
        for haystack_len in [n.saturating_sub(1), n, n + 3] {
            let haystack = &text[..haystack_len.min(text.len())];
            assert_eq!(starts_with(haystack, needle), haystack.starts_with(needle));
        }
        for differs in 0..n {
            let mut other = text.clone();
            other[differs] ^= 0x20;
            assert!(
                !starts_with(&other, needle),
                "needle {n} differs at {differs}"
            );
            assert!(starts_with(&other[..n], &other[..n]));
        }
    }
}

/// The stops per byte Teddy is expected to make with fragments given in `order`.
fn expected_stops(order: &[&[u8]]) -> f64 {
    let buckets = teddy_buckets(order.len());
    let mask = teddy_mask(order.iter().copied());
    let frequency = NibbleFrequency::new();
    (0..buckets)
        .map(|b| frequency.stops(order.iter().skip(b).step_by(buckets).copied(), mask))
        .sum()
}

#[test]
fn fragments_are_spread_so_that_teddy_stops_less() {
    let words = [
        "ting", "ling", "ownl", "100%", "code", "upda", "ploy", "appl", "file", "pack", "mpil",
        "(s):", "mpos", "foun", "spac", "disk", "ould", "bidd", " byt", "rror", "size", "loca",
        "fata", " lin", "solv", "nval", "ical", "fail", "rrno", "nnot", "sqls", "quir", "your",
        "xecu", "xcep", "url:", "unab", "ry p", "prob", "p://", "omma", "nput",
    ];
    for n in [9, 20, 33, words.len()] {
        let fragments: Vec<Vec<u8>> = words[..n].iter().map(|w| w.as_bytes().to_vec()).collect();
        let given: Vec<&[u8]> = fragments.iter().map(Vec::as_slice).collect();
        let spread = spread_over_buckets(&fragments);
        let (mut a, mut b) = (given.clone(), spread.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "the same fragments, only reordered");
        let (before, after) = (expected_stops(&given), expected_stops(&spread));
        assert!(after < before * 0.8, "{n} fragments: {before} -> {after}");
    }
    // Too few to share a bucket: left as they are.
    let few: Vec<Vec<u8>> = words[..8].iter().map(|w| w.as_bytes().to_vec()).collect();
    assert_eq!(
        spread_over_buckets(&few),
        few.iter().map(Vec::as_slice).collect::<Vec<_>>()
    );
}

/// The stops of a bucket of `members` summed byte by byte, as the tables stand for.
fn stops_byte_by_byte(members: &[&[u8]], mask: usize) -> f64 {
    (0..mask)
        .map(|k| {
            (0..=255u8)
                .filter(|&byte| {
                    members.iter().any(|m| m[k] >> 4 == byte >> 4)
                        && members.iter().any(|m| m[k] & 15 == byte & 15)
                })
                .map(byte_frequency)
                .sum::<f64>()
        })
        .product()
}

#[test]
fn a_buckets_stops_are_its_bytes_frequencies() {
    let words: [&[u8]; 9] = [
        b"ting",
        b"100%",
        b"(s):",
        b"p://",
        b"\xff\x80ab",
        b"ZZZZ",
        b"url:",
        b"a",
        b"zq",
    ];
    let frequency = NibbleFrequency::new();
    for n in 1..=words.len() {
        for first in 0..words.len() {
            let members: Vec<&[u8]> = words.iter().cycle().skip(first).take(n).copied().collect();
            let mask = teddy_mask(members.iter().copied());
            let (fast, slow) = (
                frequency.stops(members.iter().copied(), mask),
                stops_byte_by_byte(&members, mask),
            );
            assert!(
                (fast - slow).abs() <= slow * 1e-12,
                "{members:?}: {fast} {slow}"
            );
        }
    }
}

/// [`cover`] as it was first written: every window valued again in every round.
fn cover_by_full_rounds(literals: &[Vec<u8>], weight: f64) -> Option<Vec<Vec<u8>>> {
    let windows = LiteralWindows::new(literals);
    let ln = |n: usize| (n as f64).ln();
    let mut holders = windows.holders.clone();
    let mut covered = vec![false; literals.len()];
    let mut chosen = Vec::new();
    while covered.contains(&false) {
        if chosen.len() == MAX_FRAGMENTS {
            return None;
        }
        let best = (0..windows.names.len())
            .filter(|&w| holders[w] > 0)
            .max_by(|&a, &b| {
                let value = |w: usize| ln(holders[w]) * weight + windows.rarities[w];
                value(a)
                    .total_cmp(&value(b))
                    .then_with(|| windows.names[b].cmp(windows.names[a]))
            })?;
        for (l, of) in windows.of_literal.iter().enumerate() {
            if !covered[l] && of.contains(&best) {
                covered[l] = true;
                of.iter().for_each(|&w| holders[w] -= 1);
            }
        }
        chosen.push(windows.names[best].to_vec());
    }
    Some(chosen)
}

/// The heap's picks are those of valuing every window each round, for the shipped
/// rules' literals (with and without the context signals') at every weight tried,
/// and for a set too large to cover.
#[test]
fn the_lazy_greedy_cover_picks_what_full_rounds_pick() {
    let rules = crate::rule::RuleSet::embedded().unwrap();
    let mut sets = Vec::new();
    for late in [false, true] {
        let mut literals: Vec<Vec<u8>> = rules
            .signals
            .gate_items_for(late)
            .into_iter()
            .flat_map(|item| item.literals)
            .map(|literal| literal.to_ascii_lowercase())
            .collect();
        literals.sort();
        literals.dedup();
        sets.push(literals);
    }
    sets.push(
        (0..400u32)
            .map(|i| format!("w{i:03}x").into_bytes())
            .collect(),
    );
    for literals in &sets {
        let windows = LiteralWindows::new(literals);
        for weight in [2.0, 2.5, 3.0, 4.0, 8.0, 16.0] {
            assert_eq!(
                cover(&windows, weight),
                cover_by_full_rounds(literals, weight),
                "{} literals, weight {weight}",
                literals.len()
            );
        }
    }
    assert!(cover(&LiteralWindows::new(&sets[2]), 2.0).is_none());
    assert!(cover(&LiteralWindows::new(&sets[0]), 16.0).is_some());
}

fn hot_lines(gate: &LineGate, text: &[u8]) -> Vec<usize> {
    let mut hot = Vec::new();
    gate.hot_lines(text, &mut GateScratch::default(), &mut hot);
    hot.iter()
        .filter(|&&(_, heat)| heat == Heat::Hot)
        .map(|&(at, _)| at)
        .collect()
}

fn is_hot(gate: &LineGate, line: &[u8]) -> bool {
    gate.heat(line, &mut GateScratch::default()) == Heat::Hot
}

#[test]
fn finds_the_lines_with_a_literal_and_opens_for_literal_free_items() {
    let gate = LineGate::new(vec![item(&["could not"], None), item(&["starting "], None)]);
    assert!(gate.uses_fragments());
    assert_eq!(hot_lines(&gate, b"ok\nall fine\nSTARTING deploy"), [12]);
    assert_eq!(
        hot_lines(&gate, b"it Could Not\r\nok\nstarting x\n"),
        [0, 17]
    );
    assert!(hot_lines(&gate, b"nothing here\n").is_empty());
    let open = LineGate::new(vec![item(&["x"], None), item(&[], None)]);
    assert!(open.is_open());
    assert_eq!(hot_lines(&open, b"any\nthing\n"), [0, 4]);
    assert!(is_hot(&open, b"anything"));
}

/// One scratch kept across gates (a thread reads sources of two rule sets): each
/// gate's checks run with caches of their own, never another gate's.
#[test]
fn a_scratch_serves_one_gate_after_another() {
    let disk = LineGate::new(vec![item(&["100%"], Some(r"\s100%\s+/\S*$"))]);
    let other = LineGate::new(vec![
        item(&["refused"], Some(r"connection refused$")),
        item(&["100%"], Some(r"^100% done$")),
    ]);
    let mut scratch = GateScratch::default();
    for _ in 0..2 {
        assert_eq!(
            disk.heat(b"/dev/sda 20G 100% /app", &mut scratch),
            Heat::Hot
        );
        assert_eq!(
            other.heat(b"/dev/sda 20G 100% /app", &mut scratch),
            Heat::Quiet
        );
        assert_eq!(other.heat(b"connection refused", &mut scratch), Heat::Hot);
        assert_eq!(disk.heat(b"100% done", &mut scratch), Heat::Quiet);
        assert_eq!(other.heat(b"100% done", &mut scratch), Heat::Hot);
    }
    let copy = disk.clone();
    assert_eq!(
        copy.heat(b"/dev/sda 20G 100% /app", &mut scratch),
        Heat::Hot
    );
}

#[test]
fn a_line_with_a_literal_is_hot_only_when_a_check_passes() {
    let gate = LineGate::new(vec![
        item(
            &["100%"],
            Some(r"^(?P<fs>\S+)\s.*\s100%\s+(?P<mount>/\S*)\s*$"),
        ),
        item(&["error"], None),
    ]);
    assert!(is_hot(&gate, b"/dev/nvme1n1  20G  20G  0 100% /app/var"));
    assert!(!is_hot(
        &gate,
        b"frontend/Magento/luma/en_US  951/951  ====== 100%   5 sec"
    ));
    // A literal without a check makes the line hot whatever else it holds.
    assert!(is_hot(&gate, b"=== 100% ERROR"));
    assert!(!is_hot(&gate, b"all is well"));
}

#[test]
fn the_end_of_the_text_still_binds_a_relaxed_pattern() {
    let gate = LineGate::new(vec![item(
        &["installing "],
        Some(r"^(?:- )?Installing (?P<p>[a-z/]+) \((?P<v>[^)\s]+)\)\s*$"),
    )]);
    assert!(is_hot(&gate, b"    W:   - Installing acme/x (1.0.2)"));
    assert!(!is_hot(
        &gate,
        b"    W:   - Installing acme/x (1.0.2): Extracting archive"
    ));
}

#[test]
fn fragments_cover_every_literal_and_each_hot_line_is_found() {
    // Two literals whose fragments start at the same place in a line: both are seen.
    let literals = [
        "could not",
        "could",
        "forbidden",
        "starting ",
        "url could not be",
    ];
    let gate = LineGate::new(
        literals
            .iter()
            .map(|l| item(&[l], None))
            .chain([item(&["zebra"], Some("zebra$"))])
            .collect(),
    );
    assert!(gate.uses_fragments());
    for literal in literals {
        let line = format!("a line that holds {} here", literal.to_uppercase());
        assert!(is_hot(&gate, line.as_bytes()), "{line}");
    }
    assert!(!is_hot(&gate, b"a Zebra crossing"));
    assert!(is_hot(&gate, b"a crossing, then a zebra"));
}

#[test]
fn too_many_literals_for_fragments_use_the_automaton() {
    let literals: Vec<String> = (0..300).map(|i| format!("q{i:03}x")).collect();
    let gate = LineGate::new(literals.iter().map(|l| item(&[l], None)).collect());
    assert!(!gate.uses_fragments());
    assert!(is_hot(&gate, b"in Q123X out"));
    assert!(!is_hot(&gate, b"in q12x out"));
}

#[test]
fn a_relaxed_pattern_drops_start_and_word_assertions() {
    let relaxed = |p: &str| relaxed(&hir(p)).to_string();
    let check = |p: &str, line: &str| Regex::new(&relaxed(p)).unwrap().is_match(line.as_bytes());
    // The message `Killed` starts after a prefix in the raw line.
    assert!(check(r"^\bKilled$", "W: Killed"));
    assert!(check(r"(?m)^=== (\w+) ===$", "  === frontend ==="));
    assert!(!check(r"(?m)^=== (\w+) ===$", "  === frontend === more"));
    assert!(!relaxed(r"(?P<name>a)").contains("name"));
}
