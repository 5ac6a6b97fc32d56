//! The prefilter: which patterns can possibly match a line, found with one literal scan.
//!
//! Almost every log line matches no signal. Instead of running every pattern (or one
//! `RegexSet`) on every line, each pattern's *required literals* are extracted from its
//! syntax: a set of strings such that every match contains at least one of them (for
//! `Invalid credentials for ['"](?P<url>...)` that is `invalid credentials for `). All
//! literals of all patterns go into one Aho-Corasick automaton, matched ASCII
//! case-insensitively (a superset, so `(?i)` and `[Ff]ailed` need no special care). A line
//! costs one pass of the automaton; only the patterns whose literals occur in it run.
//!
//! A pattern without a usable literal (every match could be literal-free, or its best
//! literal is shorter than [`MIN_LITERAL`] bytes) is *unfiltered*: it is tried on every
//! line. The prefilter never decides a match, it only rules lines out.

use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::automaton::StateID;
use aho_corasick::nfa::contiguous;
use aho_corasick::{Anchored, MatchKind, PatternID, dfa};
use regex_syntax::hir::{Class, Hir, HirKind};

/// The most alternatives one required-literal set may hold.
const MAX_SET: usize = 64;
/// The most members of a character class expanded into literals (`['"]`, `[Ff]`).
const MAX_CLASS: usize = 8;
/// Literals shorter than this match too many lines to be worth it.
pub const MIN_LITERAL: usize = 3;
/// The automata look for the first this many bytes of a longer literal: any line that
/// holds the literal holds them, and few more lines do. The shipped rules' 209 literals
/// are ~5,500 bytes in all, ~2,800 when cut so: the DFA over them builds in under half
/// the time (1.7-2.2 ms against 3.9-4.7 on the bench machine), the NFA in half, and
/// the few more candidates cost less than that (see docs/performance.md).
const AUTOMATON_LITERAL: usize = 16;

type Set = Vec<Vec<u8>>;

#[cfg(test)]
/// The literals a pattern's matches must contain (one of them), ASCII-lowercased; `None`
/// when the pattern has no usable literal.
pub fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    required_literals_of(&hir)
}

/// The literals a parsed pattern's matches must contain (one of them), ASCII-lowercased;
/// `None` when the pattern has no usable literal.
pub fn required_literals_of(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let info = analyze(hir);
    better(info.exact, info.need).filter(|set| score(set) >= MIN_LITERAL)
}

/// What one piece of a pattern says about literals.
struct Info {
    /// Every string the piece can match, when there are few (a literal, a small class).
    exact: Option<Set>,
    /// Strings one of which every match of the piece contains.
    need: Option<Set>,
}

impl Info {
    fn exact(set: Set) -> Info {
        Info {
            exact: Some(set),
            need: None,
        }
    }

    fn nothing() -> Info {
        Info {
            exact: None,
            need: None,
        }
    }
}

fn analyze(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(vec![Vec::new()]),
        HirKind::Literal(literal) => Info::exact(vec![fold(&literal.0)]),
        HirKind::Class(class) => Info::exact_or_nothing(class_strings(class)),
        HirKind::Capture(capture) => analyze(&capture.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return Info::nothing();
            }
            let sub = analyze(&rep.sub);
            if rep.min == 1 && rep.max == Some(1) {
                return sub;
            }
            Info {
                exact: None,
                need: better(sub.exact, sub.need),
            }
        }
        HirKind::Alternation(alternatives) => {
            let infos: Vec<Info> = alternatives.iter().map(analyze).collect();
            let exact = union(infos.iter().map(|info| info.exact.clone()));
            let need = union(infos.into_iter().map(|info| better(info.exact, info.need)));
            Info { exact, need }
        }
        HirKind::Concat(pieces) => {
            // Runs of exact pieces multiply out into longer literals (`['"] URL` gives
            // `' url` and `" url`); a piece that is not exact ends the run.
            let mut run = Some(vec![Vec::new()]);
            let mut all_exact = true;
            let mut best = None;
            for piece in pieces {
                let info = analyze(piece);
                match info.exact {
                    Some(exact) => match run.as_ref().and_then(|r| cross(r, &exact)) {
                        Some(longer) => run = Some(longer),
                        None => {
                            all_exact = false;
                            best = better(best, run.take());
                            run = Some(exact);
                        }
                    },
                    None => {
                        all_exact = false;
                        best = better(best, run.take());
                        best = better(best, info.need);
                        run = Some(vec![Vec::new()]);
                    }
                }
            }
            if all_exact {
                Info::exact_or_nothing(run)
            } else {
                Info {
                    exact: None,
                    need: better(best, run),
                }
            }
        }
    }
}

impl Info {
    fn exact_or_nothing(set: Option<Set>) -> Info {
        Info {
            exact: set,
            need: None,
        }
    }
}

/// ASCII-lowercases, since the automaton matches ASCII case-insensitively.
fn fold(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_lowercase()
}

/// The members of a small class as strings (UTF-8), folded and deduplicated.
fn class_strings(class: &Class) -> Option<Set> {
    let mut out: Set = Vec::new();
    match class {
        Class::Unicode(class) => {
            for range in class.ranges() {
                let size = range.end() as usize - range.start() as usize + 1;
                if out.len() + size > MAX_CLASS {
                    return None;
                }
                let mut buffer = [0; 4];
                for ch in range.start()..=range.end() {
                    out.push(fold(ch.encode_utf8(&mut buffer).as_bytes()));
                }
            }
        }
        Class::Bytes(class) => {
            for range in class.ranges() {
                let size = usize::from(range.end() - range.start()) + 1;
                if out.len() + size > MAX_CLASS {
                    return None;
                }
                out.extend((range.start()..=range.end()).map(|b| fold(&[b])));
            }
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Every concatenation of a string of `a` with one of `b`, unless there are too many.
fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out: Set = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y.as_slice()].concat()))
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// The union of sets; `None` when one is missing (that branch needs nothing) or too big.
fn union(sets: impl Iterator<Item = Option<Set>>) -> Option<Set> {
    let mut out: Set = Vec::new();
    for set in sets {
        out.extend(set?);
        if out.len() > MAX_SET {
            return None;
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// How selective a set is: the length of its shortest string (0 for an empty set).
fn score(set: &Set) -> usize {
    set.iter().map(Vec::len).min().unwrap_or(0)
}

/// The more selective of two sets: longer shortest string, then fewer strings, then
/// more distinct bytes in the least varied string (runs of one byte, `=== ` or `---`,
/// are what separators and progress bars are drawn with).
fn better(a: Option<Set>, b: Option<Set>) -> Option<Set> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let key = |s: &Set| (score(s), std::cmp::Reverse(s.len()), variety(s));
            Some(if key(&b) > key(&a) { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// The fewest distinct bytes of any string of `set`.
fn variety(set: &Set) -> usize {
    set.iter()
        .map(|string| {
            let mut seen = [false; 256];
            string.iter().for_each(|&b| seen[usize::from(b)] = true);
            seen.iter().filter(|&&s| s).count()
        })
        .min()
        .unwrap_or(0)
}

/// How many lines of a source are searched with the automaton that is cheap to build
/// before the fast one is built (see `Prefilter`).
pub const WARM_LINES: u64 = 2000;

/// Items (patterns, or anything else a caller numbers) found by their literals.
///
/// Two automata over the same literals: a contiguous NFA, built in about a millisecond,
/// for the first [`WARM_LINES`] lines of a source, and a DFA, about 45% faster to search
/// but several milliseconds to build, made on the first line past them. A one-line input
/// never pays for the DFA; a large one pays once.
///
/// Searching is a walk of the automaton byte by byte (the ~200 case-insensitive literals
/// are too many for a SIMD prefilter), so its speed is the latency of one table lookup
/// per byte; [`Prefilter::candidates_of_lines`] walks two halves of a batch of lines side
/// by side, which the CPU overlaps (measured ~1.4x on the bench corpus).
#[derive(Debug, Clone)]
pub struct Prefilter {
    warm: contiguous::NFA,
    /// `None` inside when the DFA is beyond the automata's size limits.
    fast: OnceLock<Option<dfa::DFA>>,
    literals: Vec<Vec<u8>>,
    /// For each literal of the automaton: the items it stands for.
    items_of: Vec<Vec<usize>>,
    /// Items without literals: candidates on every line.
    always: Vec<usize>,
}

impl Prefilter {
    /// `items[i]` is item i's literal set; `None` makes it a candidate everywhere.
    /// Fails only when the literals are too many for the automata's size limits.
    pub fn new(items: &[Option<Vec<Vec<u8>>>]) -> Result<Prefilter, String> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut items_of: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (item, set) in items.iter().enumerate() {
            let Some(set) = set else {
                always.push(item);
                continue;
            };
            for literal in set {
                let literal = &literal[..literal.len().min(AUTOMATON_LITERAL)];
                match literals.iter().position(|l| l == literal) {
                    Some(i) if !items_of[i].contains(&item) => items_of[i].push(item),
                    Some(_) => {}
                    None => {
                        literals.push(literal.to_vec());
                        items_of.push(vec![item]);
                    }
                }
            }
        }
        let warm = contiguous::NFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&literals)
            .map_err(|e| format!("too many literals for the prefilter: {e}"))?;
        Ok(Prefilter {
            warm,
            fast: OnceLock::new(),
            literals,
            items_of,
            always,
        })
    }

    /// The DFA, once line `line` of a source is past [`WARM_LINES`] (built then).
    fn fast(&self, line: u64) -> Option<&dfa::DFA> {
        match self.fast.get() {
            Some(fast) => fast.as_ref(),
            None if line > WARM_LINES => self
                .fast
                .get_or_init(|| {
                    dfa::DFA::builder()
                        .ascii_case_insensitive(true)
                        .match_kind(MatchKind::Standard)
                        .prefilter(false)
                        .build(&self.literals)
                        .ok()
                })
                .as_ref(),
            None => None,
        }
    }

    /// Builds the DFA now, if it is not built yet (it is otherwise built on the first
    /// line searched past [`WARM_LINES`]).
    pub fn warm(&self) {
        self.fast(WARM_LINES + 1);
    }

    /// How many items are candidates on every line.
    pub fn unfiltered(&self) -> &[usize] {
        &self.always
    }

    /// Adds to `out` the items whose literals occur in `haystack`, line `line` of its
    /// source (sorted, each once), not counting the unfiltered ones; returns whether any
    /// was found.
    pub fn candidates(&self, line: u64, haystack: &[u8], out: &mut Vec<usize>) -> bool {
        let start = out.len();
        let mut lines = Lines::new(&self.items_of, out, None);
        match self.fast(line) {
            Some(dfa) => walk(dfa, haystack, &mut lines),
            None => walk(&self.warm, haystack, &mut lines),
        }
        lines.end_line();
        out.len() > start
    }

    /// The candidates of many lines at once: line `i` is `text[ends[i - 1]..ends[i]]`
    /// (the first starts at 0) and the first is line `first_line` of its source. Appends
    /// each line's candidates to `out` as [`Prefilter::candidates`] would, and to
    /// `out_ends` where they end in `out`, one entry per line.
    pub fn candidates_of_lines(
        &self,
        first_line: u64,
        text: &[u8],
        ends: &[usize],
        out: &mut Vec<usize>,
        out_ends: &mut Vec<usize>,
    ) {
        // Two halves of about the same bytes, walked side by side.
        let half = ends.partition_point(|&end| end < text.len() / 2);
        let (first, second) = ends.split_at(half.min(ends.len()));
        let mut second_out = Vec::new();
        let mut second_ends = Vec::new();
        {
            let a = Lines::new(&self.items_of, out, Some(out_ends));
            let b = Lines::new(&self.items_of, &mut second_out, Some(&mut second_ends));
            let split = first.last().copied().unwrap_or(0);
            let chains = [
                Chain::new(text, 0, first, a),
                Chain::new(text, split, second, b),
            ];
            match self.fast(first_line) {
                Some(dfa) => walk_two(dfa, chains),
                None => walk_two(&self.warm, chains),
            }
        }
        let base = out.len();
        out.extend_from_slice(&second_out);
        out_ends.extend(second_ends.iter().map(|end| end + base));
    }
}

/// Where a walk puts the items of the literals it finds, line by line.
struct Lines<'a> {
    items_of: &'a [Vec<usize>],
    out: &'a mut Vec<usize>,
    ends: Option<&'a mut Vec<usize>>,
    line_start: usize,
}

impl<'a> Lines<'a> {
    fn new(
        items_of: &'a [Vec<usize>],
        out: &'a mut Vec<usize>,
        ends: Option<&'a mut Vec<usize>>,
    ) -> Self {
        let line_start = out.len();
        Lines {
            items_of,
            out,
            ends,
            line_start,
        }
    }

    fn found(&mut self, literal: PatternID) {
        self.out
            .extend_from_slice(&self.items_of[literal.as_usize()]);
    }

    /// Sorts and deduplicates the line's items and records where they end.
    fn end_line(&mut self) {
        let start = self.line_start;
        let items = &mut self.out[start..];
        items.sort_unstable();
        let mut kept = 0;
        for i in 0..items.len() {
            if kept == 0 || items[kept - 1] != items[i] {
                items[kept] = items[i];
                kept += 1;
            }
        }
        self.out.truncate(start + kept);
        self.line_start = self.out.len();
        if let Some(ends) = self.ends.as_mut() {
            ends.push(self.line_start);
        }
    }
}

/// Every literal in `haystack`, one text (a `\n` in it is a byte like any other),
/// overlapping.
fn walk<A: Automaton>(automaton: &A, haystack: &[u8], lines: &mut Lines<'_>) {
    let mut state = start_state(automaton);
    let mut at = 0;
    while at < haystack.len() {
        let (stepped, next) = run(automaton, state, &haystack[at..]);
        at += stepped;
        state = next;
        report(automaton, state, lines);
    }
}

/// The unanchored start state. Both automata are built unanchored (the default), so it
/// exists; were it missing, the dead state (0) would walk every line and find nothing.
fn start_state<A: Automaton>(automaton: &A) -> StateID {
    automaton.start_state(Anchored::No).unwrap_or(StateID::ZERO)
}

/// Steps through `bytes` until a special (match) state or the end: how many bytes were
/// taken, and the state reached. A loop with no call in it, so that the state stays in a
/// register: the walk's speed is one dependent table lookup per byte.
#[inline(always)]
fn run<A: Automaton>(automaton: &A, mut state: StateID, bytes: &[u8]) -> (usize, StateID) {
    for (i, &byte) in bytes.iter().enumerate() {
        state = automaton.next_state(Anchored::No, state, byte);
        if automaton.is_special(state) {
            return (i + 1, state);
        }
    }
    (bytes.len(), state)
}

/// Reports the literals that end in `state`, if it is a match state.
#[inline(always)]
fn report<A: Automaton>(automaton: &A, state: StateID, lines: &mut Lines<'_>) {
    if automaton.is_special(state) && automaton.is_match(state) {
        for i in 0..automaton.match_len(state) {
            lines.found(automaton.match_pattern(state, i));
        }
    }
}

/// One of the walks of [`walk_two`]: lines `text[from..ends[0]]`, `text[ends[0]..ends[1]]`
/// and so on.
struct Chain<'t, 'o> {
    text: &'t [u8],
    /// Where the walk is in `text`.
    at: usize,
    ends: &'t [usize],
    /// The line being walked, as an index into `ends`.
    next: usize,
    state: StateID,
    lines: Lines<'o>,
}

impl<'t, 'o> Chain<'t, 'o> {
    fn new(text: &'t [u8], from: usize, ends: &'t [usize], lines: Lines<'o>) -> Self {
        Chain {
            text,
            at: from,
            ends,
            next: 0,
            state: StateID::ZERO,
            lines,
        }
    }

    /// The rest of the line being walked, after ending the lines that are done (some may
    /// be empty; each goes back to the start state). Empty when every line is done.
    fn rest(&mut self, start: StateID) -> &'t [u8] {
        while let Some(&end) = self.ends.get(self.next) {
            if self.at < end {
                return &self.text[self.at..end];
            }
            self.lines.end_line();
            self.next += 1;
            self.state = start;
        }
        &[]
    }
}

/// [`walk`] over two runs of lines at once: the two chains of dependent table lookups
/// interleave, so the CPU runs them in parallel.
fn walk_two<A: Automaton>(automaton: &A, chains: [Chain<'_, '_>; 2]) {
    let [mut a, mut b] = chains;
    let start = start_state(automaton);
    (a.state, b.state) = (start, start);
    loop {
        let (rest_a, rest_b) = (a.rest(start), b.rest(start));
        if rest_a.is_empty() || rest_b.is_empty() {
            break;
        }
        let both = rest_a.len().min(rest_b.len());
        let (mut state_a, mut state_b) = (a.state, b.state);
        let mut i = 0;
        while i < both {
            state_a = automaton.next_state(Anchored::No, state_a, rest_a[i]);
            state_b = automaton.next_state(Anchored::No, state_b, rest_b[i]);
            i += 1;
            if automaton.is_special(state_a) || automaton.is_special(state_b) {
                break;
            }
        }
        (a.at, b.at) = (a.at + i, b.at + i);
        (a.state, b.state) = (state_a, state_b);
        report(automaton, state_a, &mut a.lines);
        report(automaton, state_b, &mut b.lines);
    }
    // One chain is done: the other goes on alone.
    for chain in [&mut a, &mut b] {
        loop {
            let rest = chain.rest(start);
            if rest.is_empty() {
                break;
            }
            let (stepped, state) = run(automaton, chain.state, rest);
            chain.at += stepped;
            chain.state = state;
            report(automaton, state, &mut chain.lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        required_literals(pattern).map(|set| {
            set.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn takes_the_longest_required_literal() {
        assert_eq!(
            lits(r"Command .* returned code [1-9][0-9]*"),
            Some(vec![" returned code ".into()])
        );
        assert_eq!(lits(r"^ *(W: +)?Killed"), Some(vec!["killed".into()]));
    }

    /// Of two literals as long, the one that is not drawn with one repeated byte: `=== `
    /// is in every progress bar of a static content deployment, ` -> ` is not.
    #[test]
    fn of_literals_as_long_prefers_the_more_varied() {
        assert_eq!(
            lits(r"^=== (?P<area>\w+) -> (?P<theme>[\w-]+/[\w-]+)"),
            Some(vec![" -> ".into()])
        );
        assert_eq!(lits(r"abcd \d+ ----"), Some(vec!["abcd ".into()]));
        assert_eq!(lits(r"---- \d+ ab-d"), Some(vec![" ab-d".into()]));
    }

    #[test]
    fn alternatives_and_small_classes_multiply_out() {
        assert_eq!(
            lits(r"[Ff]ailed to (open|read)"),
            Some(vec!["failed to open".into(), "failed to read".into()])
        );
        let folded = lits(r"(?i)no alive nodes").unwrap();
        assert!(folded.contains(&"no alive nodes".to_owned()));
        assert!(folded.iter().all(|l| l.starts_with("no alive node")));
    }

    #[test]
    fn optional_parts_require_nothing() {
        assert_eq!(lits(r"(?:abc)?\d+"), None);
        assert_eq!(lits(r"(abc|\d+)"), None);
        assert_eq!(lits(r"ab"), None);
    }

    #[test]
    fn finds_items_by_their_literals() {
        let prefilter = Prefilter::new(&[
            Some(vec![b"could not".to_vec()]),
            None,
            Some(vec![b"not found".to_vec(), b"missing".to_vec()]),
        ])
        .unwrap();
        // The first lines use the automaton that is quick to build, later ones the DFA.
        for line in [1, WARM_LINES + 1, 1] {
            let mut out = Vec::new();
            let text = b"The file COULD NOT be found: not found";
            assert!(prefilter.candidates(line, text, &mut out));
            assert_eq!(out, [0, 2]);
            out.clear();
            assert!(!prefilter.candidates(line, b"all good", &mut out));
        }
        assert!(prefilter.fast.get().is_some_and(Option::is_some));
        assert_eq!(prefilter.unfiltered(), [1]);
    }

    /// A literal longer than the automata look for is found by its first bytes: every
    /// line that holds it is a candidate (a line holding only those bytes is one too,
    /// which the pattern itself then turns down), and an item whose literals share them
    /// is listed once.
    #[test]
    fn long_literals_are_found_by_their_first_bytes() {
        let long = b"invalid credentials for '".to_vec();
        assert!(long.len() > AUTOMATON_LITERAL);
        let prefilter = Prefilter::new(&[
            Some(vec![long.clone(), b"invalid credentials for \"".to_vec()]),
            Some(vec![b"credentials".to_vec()]),
        ])
        .unwrap();
        for line in [1, WARM_LINES + 1] {
            let mut out = Vec::new();
            let text = b"[RuntimeException] Invalid credentials for 'https://repo.magento.com'";
            assert!(prefilter.candidates(line, text, &mut out));
            assert_eq!(out, [0, 1]);
            out.clear();
            assert!(prefilter.candidates(line, b"invalid credentials found", &mut out));
            assert_eq!(out, [0, 1]);
            out.clear();
            assert!(!prefilter.candidates(line, b"invalid creden", &mut out));
        }
        assert_eq!(prefilter.literals.len(), 2);
    }

    /// What [`Prefilter::candidates`] must give: every overlapping match of the
    /// aho-corasick crate's own search, its items sorted and each once.
    fn reference(literals: &[&str], items_of: &[Vec<usize>], line: &[u8]) -> Vec<usize> {
        let automaton = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(literals)
            .unwrap();
        let mut out: Vec<usize> = automaton
            .find_overlapping_iter(line)
            .flat_map(|found| items_of[found.pattern().as_usize()].clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    proptest::proptest! {
        /// Lines of a small alphabet, so that literals (overlapping, nested, at line
        /// starts and ends, in empty lines' neighbours) occur often.
        #[test]
        fn walks_find_what_the_crates_search_finds(
            lines in proptest::collection::vec("[abcAB -]{0,12}", 0..40),
            line in proptest::sample::select(vec![1, WARM_LINES + 1]),
        ) {
            let literals = ["ab", "bab", "abc", "c a", "b-", "aaa", "-"];
            // Items 0..7 one literal each; item 7 shares two.
            let items: Vec<Option<Vec<Vec<u8>>>> = literals
                .iter()
                .map(|l| Some(vec![l.as_bytes().to_vec()]))
                .chain([Some(vec![b"ab".to_vec(), b"aaa".to_vec()])])
                .collect();
            let prefilter = Prefilter::new(&items).unwrap();
            let mut text = String::new();
            let mut ends = Vec::new();
            for l in &lines {
                text.push_str(l);
                ends.push(text.len());
            }
            let (mut out, mut out_ends) = (Vec::new(), Vec::new());
            prefilter.candidates_of_lines(line, text.as_bytes(), &ends, &mut out, &mut out_ends);
            proptest::prop_assert_eq!(out_ends.len(), lines.len());
            let mut start = 0;
            for (l, &end) in lines.iter().zip(&out_ends) {
                let want = reference(&literals, &prefilter.items_of, l.as_bytes());
                proptest::prop_assert_eq!(&out[start..end], &want[..], "batched, line {:?}", l);
                let mut alone = Vec::new();
                let found = prefilter.candidates(line, l.as_bytes(), &mut alone);
                proptest::prop_assert_eq!(&alone, &want, "alone, line {:?}", l);
                proptest::prop_assert_eq!(found, !want.is_empty());
                start = end;
            }
        }
    }
}
