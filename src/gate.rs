//! The line gate: finds, a buffer at a time, the few lines of a log worth reading.
//!
//! A line is *hot* when it may match a signal that some rule reads, be a hint, or change
//! the framer's state; every other line only needs counting (see
//! [`crate::pipeline::diagnose_source`]). The gate decides in two steps:
//!
//! 1. a search of the whole buffer for the literals every such line holds one of (the
//!    signals' required literals, [`crate::signal::ERROR_WORDS`] and
//!    [`crate::record::CONTEXT_WORDS`]); the lines between two hits hold none. The
//!    search is SIMD (Teddy) over a few fragments of the literals (see
//!    `fragments_finder`), each hit compared in place with the literals that hold it;
//!    an automaton over the literals when the fragments do not fit;
//! 2. on a line with a hit, a *check*: each signal pattern that owns a literal found is
//!    run, relaxed (see [`relaxed`]), on the raw line. Progress bars hold `100%` and
//!    `=== ` and Composer's `Installing` lines hold `installing `, but most match no
//!    pattern: the check lets them stay quiet. A context signal's check is not run here:
//!    its lines are held back, and the check runs on the few that are read (the newest
//!    before a line that needs them, see [`Heat::Context`]).
//!
//! The check is sound because a line the pipeline may skip is clean (point 1 of the skip
//! contract, in `pipeline/steps.rs`): a pattern with its start and word assertions
//! dropped, searched anywhere in the line, matches whenever the pattern matches the
//! message, a suffix of the line. A line the check calls quiet that is not clean is read
//! as usual.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, Span, packed};
use regex_automata::Input;
use regex_automata::meta::{self, Regex};
use regex_syntax::hir::{Hir, HirKind, Look, Repetition};

/// The most bytes a relaxed pattern's compiled program may take.
const CHECK_SIZE_LIMIT: usize = 1 << 22;

/// What the gate is built from: one literal set, and how to check a line that holds one.
#[derive(Debug, Clone)]
pub struct GateItem {
    /// The literals, one of which every line the item cares about holds (ASCII
    /// case-insensitive).
    pub literals: Vec<Vec<u8>>,
    /// The pattern a line holding one must also match, relaxed; `None`: the literal alone
    /// makes the line hot.
    pub check: Option<Hir>,
    /// Nonzero when the item is a context signal's pattern: the groups (bits) it stands
    /// for. A line only context items pass is [`Heat::Context`], with their groups.
    pub context: u64,
}

/// Finds the hot lines of a buffer (see the module docs).
#[derive(Debug, Clone)]
pub struct LineGate {
    /// `None` when some item has no literal: then every line is hot.
    inner: Option<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    /// Tells this gate's checks from another's, for the caches in a [`GateScratch`] (a
    /// clone has the same checks, and the same id).
    id: u64,
    finder: Finder,
    /// Every literal, ASCII-lowercased.
    literals: Vec<Vec<u8>>,
    /// For each literal: the items that own it.
    owners: Vec<Vec<u32>>,
    /// For each item: its check, compiled on first use.
    checks: Vec<Option<Check>>,
    /// For each item: its context groups (see [`GateItem::context`]).
    context: Vec<u64>,
}

/// How a lowercased buffer is searched.
#[derive(Debug, Clone)]
enum Finder {
    /// SIMD (Teddy) over a few short fragments such that every literal holds one; a hit
    /// is only a line to look at more closely.
    Fragments {
        searcher: packed::Searcher,
        /// Each fragment's bytes and the literals that hold it, with where in each,
        /// sorted by bytes.
        fragments: Vec<Fragment>,
        /// Where the fragments that start with each byte are in `fragments`.
        by_first: Vec<usize>,
    },
    /// An automaton over the literals themselves, when no small fragment set covers
    /// them or the CPU has no SIMD search.
    Literals(AhoCorasick),
}

/// A fragment's bytes, and the literals that hold it with where in each.
type Fragment = (Vec<u8>, Vec<(u32, u32)>);

#[derive(Debug, Clone)]
struct Check {
    relaxed: Hir,
    compiled: OnceLock<Option<Regex>>,
}

impl Check {
    /// Whether `line` may match, searched with this thread's `cache`; a check that does
    /// not compile passes every line.
    fn passes(&self, line: &[u8], cache: &mut Option<meta::Cache>) -> bool {
        let regex = self.compiled.get_or_init(|| {
            Regex::builder()
                .configure(Regex::config().nfa_size_limit(Some(CHECK_SIZE_LIMIT)))
                .build_from_hir(&self.relaxed)
                .ok()
        });
        regex.as_ref().is_none_or(|regex| {
            let cache = cache.get_or_insert_with(|| regex.create_cache());
            regex
                .search_half_with(cache, &Input::new(line).earliest(true))
                .is_some()
        })
    }
}

/// What one thread needs to run the gate: room for a buffer lowercased, and the checks'
/// search caches (each thread its own, so that the threads share no cache pool). Kept
/// from one source to the next, the caches need not be warmed again.
#[derive(Debug, Default)]
pub struct GateScratch {
    lower: Vec<u8>,
    /// The gate the caches are for (see `Inner::id`; 0: none).
    gate: u64,
    caches: Vec<Option<meta::Cache>>,
}

impl GateScratch {
    /// The buffer the last [`LineGate::hot_lines`] looked at, lowercased (empty when its
    /// gate looks at nothing).
    pub fn lowered(&self) -> &[u8] {
        &self.lower
    }
}

/// What a line asks of the pipeline, as the gate sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heat {
    /// Nothing worth reading: the line is only counted when it is clean.
    Quiet,
    /// Only context signals may match it, of these groups (see [`GateItem::context`]):
    /// a clean line is read only when a later line needs it. Their checks are not run
    /// by the gate but then ([`LineGate::passes`]), and only on the lines that can
    /// matter: the newest of each group before the line that needs them.
    Context(u64),
    /// It may match a signal, be a hint or change the framer: it is read.
    Hot,
}

/// Judges the lines of one buffer, a literal found at a time.
struct Judge<'a> {
    inner: &'a Inner,
    buffer: &'a [u8],
    lower: &'a [u8],
    /// This thread's search cache of each check.
    caches: &'a mut [Option<meta::Cache>],
    /// The line being judged.
    line: std::ops::Range<usize>,
    /// The items checked on it already (a few at most; past that a check may run twice).
    checked: [u32; 8],
    n: usize,
    /// The line's start and the groups of the context items that passed on it, if any.
    context: Option<(usize, u64)>,
}

impl Judge<'_> {
    /// Judges the line of the literal `literal` found at `at`: whether an item that owns it
    /// passes and is not context (a context one is noted for [`Judge::close_line`]).
    fn is_hot(&mut self, at: usize, literal: usize, hot: &mut Vec<(usize, Heat)>) -> bool {
        if at >= self.line.end {
            self.close_line(hot);
            let lower = self.lower;
            let start = memchr::memrchr(b'\n', &lower[..at]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &lower[at..]).map_or(lower.len(), |i| at + i);
            self.line = start..end;
            self.n = 0;
        }
        let raw = &self.buffer[self.line.clone()];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        for &item in &self.inner.owners[literal] {
            if self.checked[..self.n].contains(&item) {
                continue;
            }
            // A context item's check waits until the line is read (see `Heat::Context`).
            let passes = match &self.inner.checks[item as usize] {
                Some(check) if self.inner.context[item as usize] == 0 => {
                    check.passes(raw, &mut self.caches[item as usize])
                }
                _ => true,
            };
            if passes {
                let groups = self.inner.context[item as usize];
                if groups == 0 {
                    self.context = None;
                    return true;
                }
                let (_, all) = self.context.get_or_insert((self.line.start, 0));
                *all |= groups;
            }
            if self.n < self.checked.len() {
                self.checked[self.n] = item;
                self.n += 1;
            }
        }
        false
    }

    /// Ends the line being judged: a context item passed on it and nothing made it hot.
    fn close_line(&mut self, hot: &mut Vec<(usize, Heat)>) {
        if let Some((start, groups)) = self.context.take() {
            hot.push((start, Heat::Context(groups)));
        }
    }
}

impl Inner {
    /// Makes `caches` (of the gate `gate` names) this gate's: a cache serves the regex
    /// that made it only.
    fn fit_caches(&self, gate: &mut u64, caches: &mut Vec<Option<meta::Cache>>) {
        if *gate != self.id {
            *gate = self.id;
            caches.clear();
            caches.resize_with(self.checks.len(), || None);
        }
    }
}

impl LineGate {
    /// A gate over `items`; an item without literals (or too many literals for the
    /// automaton) makes every line hot.
    pub fn new(items: Vec<GateItem>) -> LineGate {
        let mut by_literal: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut checks = Vec::with_capacity(items.len());
        let mut context = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            if item.literals.is_empty() {
                return LineGate { inner: None };
            }
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            for literal in item.literals {
                let literal = literal.to_ascii_lowercase();
                // A literal spanning a line break can never match inside one line.
                if !literal.is_empty() && !literal.contains(&b'\n') && !literal.contains(&b'\r') {
                    by_literal.push((literal, index));
                }
            }
            context.push(item.context);
            checks.push(item.check.map(|hir| Check {
                relaxed: relaxed(&hir),
                compiled: OnceLock::new(),
            }));
        }
        by_literal.sort();
        by_literal.dedup();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        for (literal, item) in by_literal {
            if literals.last() == Some(&literal) {
                if let Some(last) = owners.last_mut() {
                    last.push(item);
                }
            } else {
                literals.push(literal);
                owners.push(vec![item]);
            }
        }
        let finder = match fragments_finder(&literals) {
            Some(finder) => finder,
            None => match AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&literals)
            {
                Ok(automaton) => Finder::Literals(automaton),
                Err(_) => return LineGate { inner: None },
            },
        };
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        LineGate {
            inner: Some(Inner {
                id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                finder,
                literals,
                owners,
                checks,
                context,
            }),
        }
    }

    /// Whether the gate searches with SIMD over fragments (else with an automaton).
    pub fn uses_fragments(&self) -> bool {
        matches!(
            self.inner,
            Some(Inner {
                finder: Finder::Fragments { .. },
                ..
            })
        )
    }

    /// Pushes to `hot` where each line of `buffer` that is not quiet starts, in order,
    /// with its [`Heat`]. `buffer` holds whole lines, each but the last ended by `\n` (a
    /// `\r` before it is not part of the line); `scratch` is this thread's.
    pub fn hot_lines(
        &self,
        buffer: &[u8],
        scratch: &mut GateScratch,
        hot: &mut Vec<(usize, Heat)>,
    ) {
        let Some(inner) = &self.inner else {
            scratch.lower.clear();
            hot.push((0, Heat::Hot));
            hot.extend(memchr::memchr_iter(b'\n', buffer).map(|end| (end + 1, Heat::Hot)));
            if buffer.last() == Some(&b'\n') {
                hot.pop();
            }
            return;
        };
        let mut lower = std::mem::take(&mut scratch.lower);
        lower.clear();
        lowercase_into(buffer, &mut lower);
        self.judge_lines(inner, buffer, &lower, scratch, hot);
        scratch.lower = lower;
    }

    /// [`LineGate::hot_lines`] of `buffer` when `lower` is `buffer` lowercased already
    /// ([`lowercase_into`]): the gate itself would lowercase it first.
    pub fn hot_lines_lowered(
        &self,
        buffer: &[u8],
        lower: &[u8],
        scratch: &mut GateScratch,
        hot: &mut Vec<(usize, Heat)>,
    ) {
        match &self.inner {
            Some(inner) if lower.len() == buffer.len() => {
                self.judge_lines(inner, buffer, lower, scratch, hot);
            }
            _ => self.hot_lines(buffer, scratch, hot),
        }
    }

    /// Finds the hot lines of `buffer`, `lower` being it lowercased.
    fn judge_lines(
        &self,
        inner: &Inner,
        buffer: &[u8],
        lower: &[u8],
        scratch: &mut GateScratch,
        hot: &mut Vec<(usize, Heat)>,
    ) {
        let GateScratch { gate, caches, .. } = scratch;
        inner.fit_caches(gate, caches);
        let mut judge = Judge {
            inner,
            buffer,
            lower,
            caches,
            line: 0..0,
            checked: [u32::MAX; 8],
            n: 0,
            context: None,
        };
        match &inner.finder {
            Finder::Literals(automaton) => {
                for found in automaton.find_overlapping_iter(lower) {
                    let at = found.start();
                    if hot.last().is_some_and(|&(start, heat)| {
                        heat == Heat::Hot && start <= at && at < judge.line.end
                    }) {
                        continue;
                    }
                    if judge.is_hot(at, found.pattern().as_usize(), hot) {
                        hot.push((judge.line.start, Heat::Hot));
                    }
                }
            }
            Finder::Fragments {
                searcher,
                fragments,
                by_first,
            } => {
                let mut from = 0;
                while let Some(found) = searcher.find_in(lower, Span::from(from..lower.len())) {
                    let at = found.start();
                    from = at + 1;
                    // Every fragment that starts here, not only the one the search gave.
                    let first = usize::from(lower[at]);
                    let here = &fragments[by_first[first]..by_first[first + 1]];
                    'fragments: for (bytes, holders) in here {
                        if !starts_with(&lower[at..], bytes) {
                            continue;
                        }
                        for &(literal, offset) in holders {
                            let literal = literal as usize;
                            let held = at
                                .checked_sub(offset as usize)
                                .and_then(|start| lower.get(start..))
                                .is_some_and(|rest| starts_with(rest, &inner.literals[literal]));
                            if held && judge.is_hot(at, literal, hot) {
                                hot.push((judge.line.start, Heat::Hot));
                                // The rest of this line needs no look.
                                from = judge.line.end + 1;
                                break 'fragments;
                            }
                        }
                    }
                    if from >= lower.len() {
                        break;
                    }
                }
            }
        }
        judge.close_line(hot);
    }

    /// Whether item `item` passes its check on `line` (one raw line without its `\n`), or
    /// has none: how a context item's check is run, when its line is read (the gate does
    /// not run it, see [`Heat::Context`]). `scratch` is the caller's own.
    pub fn passes(&self, item: usize, line: &[u8], scratch: &mut GateScratch) -> bool {
        let Some(inner) = &self.inner else {
            return true;
        };
        let Some(Some(check)) = inner.checks.get(item) else {
            return true;
        };
        inner.fit_caches(&mut scratch.gate, &mut scratch.caches);
        check.passes(line, &mut scratch.caches[item])
    }

    /// The [`Heat`] of one line (without its `\n`); `scratch` is this thread's.
    pub fn heat(&self, line: &[u8], scratch: &mut GateScratch) -> Heat {
        let mut hot = Vec::new();
        self.hot_lines(line, scratch, &mut hot);
        hot.first().map_or(Heat::Quiet, |&(_, heat)| heat)
    }

    /// The fragments the SIMD search looks for (none when it uses the automaton).
    pub fn fragments(&self) -> Vec<&[u8]> {
        match &self.inner {
            Some(Inner {
                finder: Finder::Fragments { fragments, .. },
                ..
            }) => fragments
                .iter()
                .map(|(bytes, _)| bytes.as_slice())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether every line is hot (some item has no literal).
    pub fn is_open(&self) -> bool {
        self.inner.is_none()
    }
}

/// `haystack.starts_with(needle)` for the short needles here, compared inline (the
/// library call costs more than the compare) and a word at a time: the last word of a
/// needle of 4 bytes or more overlaps the one before it.
fn starts_with(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(head) = haystack.get(..needle.len()) else {
        return false;
    };
    let n = needle.len();
    if n < 4 {
        return head == needle;
    }
    if n < 8 {
        return word4(head, 0) == word4(needle, 0) && word4(head, n - 4) == word4(needle, n - 4);
    }
    let mut at = 0;
    while at + 8 < n {
        if word8(head, at) != word8(needle, at) {
            return false;
        }
        at += 8;
    }
    word8(head, n - 8) == word8(needle, n - 8)
}

/// The 8 bytes of `bytes` from `at` as one word (`at + 8 <= bytes.len()`).
#[inline(always)]
fn word8(bytes: &[u8], at: usize) -> u64 {
    bytes[at..]
        .first_chunk()
        .map_or(0, |word| u64::from_ne_bytes(*word))
}

/// The 4 bytes of `bytes` from `at` as one word (`at + 4 <= bytes.len()`).
#[inline(always)]
fn word4(bytes: &[u8], at: usize) -> u32 {
    bytes[at..]
        .first_chunk()
        .map_or(0, |word| u32::from_ne_bytes(*word))
}

/// Appends `bytes` ASCII-lowercased to `out`.
pub fn lowercase_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend(bytes.iter().map(u8::to_ascii_lowercase));
}

/// The most fragments the SIMD search takes (Teddy's limit).
const MAX_FRAGMENTS: usize = 64;
/// Fragments are this long, or the whole literal when shorter.
const FRAGMENT_LEN: usize = 4;

/// A SIMD search over fragments that cover every literal, if at most
/// [`MAX_FRAGMENTS`] do and the CPU has one.
///
/// The fragments are picked greedily: each round takes the window of the uncovered
/// literals that covers the most of them for how often it is expected in log text (from
/// a fixed table of byte frequencies, [`byte_rarity`]). A rare fragment keeps hits, and
/// so closer looks, few.
fn fragments_finder(literals: &[Vec<u8>]) -> Option<Finder> {
    // How much covering more literals is worth against rarity: the least that still
    // fits the fragments in the limit.
    // A literal that holds another needs no fragment of its own: one of the other's is
    // one of its own.
    // (One automaton over all of them: a searcher built for each of the ~90,000 pairs
    // cost more than the rest of building the gate.)
    let inside = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::NoncontiguousNFA))
        .build(literals)
        .ok();
    let minimal: Vec<Vec<u8>> = literals
        .iter()
        .filter(|literal| {
            inside.as_ref().is_none_or(|inside| {
                !inside
                    .find_overlapping_iter(literal.as_slice())
                    .any(|found| found.len() < literal.len())
            })
        })
        .cloned()
        .collect();
    let windows = Windows::new(&minimal);
    let chosen = [2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 12.0, 16.0]
        .into_iter()
        .find_map(|weight| cover(&windows, weight))?;
    let searcher = packed::Config::new()
        .match_kind(packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(spread_over_buckets(&chosen))
        .build()?;
    let holders = holders_of(&chosen, literals);
    let mut fragments: Vec<Fragment> = chosen.into_iter().zip(holders).collect();
    fragments.sort();
    let by_first = (0..=256)
        .map(|byte| fragments.partition_point(|(bytes, _)| usize::from(bytes[0]) < byte))
        .collect();
    Some(Finder::Fragments {
        searcher,
        fragments,
        by_first,
    })
}

/// For each fragment, the literals that hold it and where (each place, in order): a
/// look-up per place in a literal, not a search per pair (~13,000 of them).
fn holders_of(fragments: &[Vec<u8>], literals: &[Vec<u8>]) -> Vec<Vec<(u32, u32)>> {
    let index: HashMap<&[u8], usize> = fragments
        .iter()
        .enumerate()
        .map(|(f, bytes)| (bytes.as_slice(), f))
        .collect();
    let mut lengths: Vec<usize> = fragments.iter().map(Vec::len).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let mut holders = vec![Vec::new(); fragments.len()];
    for (l, literal) in literals.iter().enumerate() {
        for &len in &lengths {
            for (offset, window) in literal.windows(len).enumerate() {
                if let (Some(&f), Ok(l), Ok(offset)) =
                    (index.get(window), u32::try_from(l), u32::try_from(offset))
                {
                    holders[f].push((l, offset));
                }
            }
        }
    }
    holders
}

/// The windows of some literals that a fragment may be, with the literals that hold
/// each: what [`cover`] picks from, whatever its weight.
struct Windows<'a> {
    /// Every window, sorted, once.
    names: Vec<&'a [u8]>,
    /// Each literal's windows (indexes into `names`).
    of_literal: Vec<Vec<usize>>,
    /// How many literals hold each window.
    holders: Vec<usize>,
    /// Each window's [`rarity`].
    rarities: Vec<f64>,
}

impl Windows<'_> {
    fn new(literals: &[Vec<u8>]) -> Windows<'_> {
        let mut lengths: Vec<usize> = literals.iter().map(|l| FRAGMENT_LEN.min(l.len())).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut windows: Vec<(&[u8], usize)> = Vec::new();
        for (l, literal) in literals.iter().enumerate() {
            for &len in &lengths {
                windows.extend(literal.windows(len).map(|w| (w, l)));
            }
        }
        windows.sort_unstable();
        windows.dedup();
        let mut names: Vec<&[u8]> = windows.iter().map(|&(w, _)| w).collect();
        names.dedup();
        let mut of_literal: Vec<Vec<usize>> = vec![Vec::new(); literals.len()];
        let mut holders = vec![0usize; names.len()];
        let mut w = 0;
        for &(window, l) in &windows {
            while names[w] != window {
                w += 1;
            }
            of_literal[l].push(w);
            holders[w] += 1;
        }
        let rarities = names.iter().map(|w| rarity(w)).collect();
        Windows {
            names,
            of_literal,
            holders,
            rarities,
        }
    }
}

/// A window's value in [`cover`]'s greedy rounds, ordered as the rounds pick: the
/// higher value first, then the window first in `names` (the smaller bytes).
#[derive(Clone, Copy)]
struct Pick {
    value: f64,
    window: usize,
}

impl PartialEq for Pick {
    fn eq(&self, other: &Pick) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Pick {}

impl PartialOrd for Pick {
    fn partial_cmp(&self, other: &Pick) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pick {
    fn cmp(&self, other: &Pick) -> std::cmp::Ordering {
        self.value
            .total_cmp(&other.value)
            .then_with(|| other.window.cmp(&self.window))
    }
}

/// Fragments that cover every literal of `windows`, picked greedily (see
/// [`fragments_finder`]); `None` when more than [`MAX_FRAGMENTS`] are needed.
///
/// Each round takes the window of most value: `weight` times the log of how many
/// literals not covered yet hold it, plus its rarity. A window's value only falls from
/// round to round, so the windows wait in a heap under the value they had when last
/// looked at: the top one is the pick once its value is still that (lazy greedy, the
/// same picks as valuing every window each round, ~60 times fewer values).
fn cover(windows: &Windows<'_>, weight: f64) -> Option<Vec<Vec<u8>>> {
    let literals = windows.of_literal.len();
    // The log of each count a window may hold, once.
    let ln: Vec<f64> = (0..=literals).map(|n| (n as f64).ln()).collect();
    let mut uncovered_holders = windows.holders.clone();
    let value = |w: usize, holders: &[usize]| ln[holders[w]] * weight + windows.rarities[w];
    let mut heap: std::collections::BinaryHeap<Pick> = (0..windows.names.len())
        .filter(|&w| uncovered_holders[w] > 0)
        .map(|w| Pick {
            value: value(w, &uncovered_holders),
            window: w,
        })
        .collect();
    let mut left = literals;
    let mut covered = vec![false; literals];
    let mut chosen: Vec<Vec<u8>> = Vec::new();
    while left > 0 {
        if chosen.len() == MAX_FRAGMENTS {
            return None;
        }
        let best = loop {
            let top = heap.pop()?;
            if uncovered_holders[top.window] == 0 {
                continue;
            }
            let now = value(top.window, &uncovered_holders);
            if now.total_cmp(&top.value).is_eq() {
                break top.window;
            }
            heap.push(Pick {
                value: now,
                window: top.window,
            });
        };
        for (l, of) in windows.of_literal.iter().enumerate() {
            if !covered[l] && of.contains(&best) {
                covered[l] = true;
                left -= 1;
                for &w in of {
                    uncovered_holders[w] -= 1;
                }
            }
        }
        chosen.push(windows.names[best].to_vec());
    }
    Some(chosen)
}

/// How rare a fragment is in log text: the sum of its bytes' [`byte_rarity`], less for
/// each pair and triple of letters common in English (`ing` and `tion` are everywhere).
fn rarity(fragment: &[u8]) -> f64 {
    const COMMON_PAIRS: &[&[u8; 2]] = &[
        b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
        b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
        b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
        b"ea", b"ra", b"ce", b"ll", b"e ", b"s ", b"d ", b"t ", b"g ", b" t", b" a", b" s",
    ];
    // And the most common triples: `ting` would cover `starting` and `updating`, but
    // comes in every other word ending in `ing`.
    const COMMON_TRIPLES: &[&[u8; 3]] = &[
        b"ing", b"the", b"and", b"ion", b"tio", b"ent", b"ati", b"for", b"her", b"ter", b"ate",
        b"ver", b"all", b"con", b"res", b"ted", b"ers", b"pro", b"com", b"ess",
    ];
    let pairs = fragment
        .windows(2)
        .filter(|pair| COMMON_PAIRS.iter().any(|common| common[..] == **pair))
        .count();
    let triples = fragment
        .windows(3)
        .filter(|triple| COMMON_TRIPLES.iter().any(|common| common[..] == **triple))
        .count();
    fragment.iter().map(|&b| byte_rarity(b)).sum::<f64>()
        - 1.5 * pairs as f64
        - 2.0 * triples as f64
}

/// `fragments` in the order that spreads them best over the SIMD search's buckets.
///
/// Teddy looks at each position of the text for the first bytes of the fragments of
/// each bucket at once, by their low and high nibbles separately: a bucket holding `ting`
/// and `code` also stops on `tode` and `cing`, and every stop is checked against all the
/// fragments of its bucket. Which bucket a fragment goes to is set by the order it is
/// given in (aho-corasick 1.1 gives the `i`th of `n` fragments bucket `i % buckets`,
/// reversed, with 16 buckets past 32 fragments and 8 up to it; another version may
/// deal them otherwise, which only costs speed).
///
/// The order is found by swapping fragments between buckets while that lowers the
/// stops expected per byte of log text (from [`byte_frequency`]). On the shipped rules'
/// 62 fragments (at commit 15b25d4) it halved the stops counted over a megabyte of the bench
/// corpus, and the gate's time over the 100 MiB bench file fell by about a fifth; it adds
/// ~2 ms to building the gate.
fn spread_over_buckets(fragments: &[Vec<u8>]) -> Vec<&[u8]> {
    let n = fragments.len();
    let buckets = teddy_buckets(n);
    let mask = teddy_mask(fragments.iter().map(Vec::as_slice));
    if n <= buckets || mask == 0 {
        return fragments.iter().map(Vec::as_slice).collect();
    }
    let frequency = NibbleFrequency::new();
    let stops =
        |members: &[usize]| frequency.stops(members.iter().map(|&m| fragments[m].as_slice()), mask);
    // Bucket `b` holds the fragments given at the places `i` with `i % buckets == b`:
    // swaps keep each bucket's size, so the order can always be dealt back.
    let mut members: Vec<Vec<usize>> = (0..buckets)
        .map(|b| (b..n).step_by(buckets).collect())
        .collect();
    let mut cost: Vec<f64> = members.iter().map(|m| stops(m)).collect();
    // A sweep tries every swap once; the shipped rules settle in four.
    for _sweep in 0..8 {
        let mut better = false;
        for a in 0..buckets {
            for b in a + 1..buckets {
                for i in 0..members[a].len() {
                    for j in 0..members[b].len() {
                        let (x, y) = (members[a][i], members[b][j]);
                        members[a][i] = y;
                        members[b][j] = x;
                        let (ca, cb) = (stops(&members[a]), stops(&members[b]));
                        if ca + cb < (cost[a] + cost[b]) * (1.0 - 1e-9) {
                            (cost[a], cost[b]) = (ca, cb);
                            better = true;
                        } else {
                            members[a][i] = x;
                            members[b][j] = y;
                        }
                    }
                }
            }
        }
        if !better {
            break;
        }
    }
    (0..n)
        .map(|i| fragments[members[i % buckets][i / buckets]].as_slice())
        .collect()
}

/// How many buckets Teddy deals `n` fragments into (see [`spread_over_buckets`]).
fn teddy_buckets(n: usize) -> usize {
    if n > 32 { 16 } else { 8 }
}

/// How many first bytes of each fragment Teddy looks at.
fn teddy_mask<'a>(fragments: impl Iterator<Item = &'a [u8]>) -> usize {
    fragments.map(<[u8]>::len).min().unwrap_or(0).min(4)
}

/// [`byte_frequency`] summed over sets of bytes: for each high nibble, over any set of
/// low nibbles (a 16-bit mask, looked up a byte at a time), so that a bucket's stops take
/// a few look-ups (the swaps of [`spread_over_buckets`] ask for ~20,000 of them).
struct NibbleFrequency {
    /// `[high][low mask & 0xff]` and `[high][low mask >> 8]`.
    low: Vec<[f64; 256]>,
    high: Vec<[f64; 256]>,
}

impl NibbleFrequency {
    fn new() -> NibbleFrequency {
        let sums = |high: u8, first_low: u8| {
            let mut sums = [0.0; 256];
            for set in 1..256usize {
                let bit = set.trailing_zeros() as u8;
                sums[set] = sums[set & (set - 1)] + byte_frequency(high << 4 | (first_low + bit));
            }
            sums
        };
        NibbleFrequency {
            low: (0..16).map(|high| sums(high, 0)).collect(),
            high: (0..16).map(|high| sums(high, 8)).collect(),
        }
    }

    /// The stops a bucket of `members` is expected to make per byte of log text: at each
    /// of the first `mask` positions, the frequency of the bytes whose two nibbles are
    /// each some member's there.
    fn stops<'a>(&self, members: impl Iterator<Item = &'a [u8]> + Clone, mask: usize) -> f64 {
        (0..mask)
            .map(|k| {
                let (mut low, mut high) = (0u16, 0u16);
                for member in members.clone() {
                    let byte = member[k];
                    low |= 1 << (byte & 15);
                    high |= 1 << (byte >> 4);
                }
                let mut passing = 0.0;
                let mut highs = high;
                while highs != 0 {
                    let h = highs.trailing_zeros() as usize;
                    highs &= highs - 1;
                    passing +=
                        self.low[h][usize::from(low & 0xff)] + self.high[h][usize::from(low >> 8)];
                }
                passing
            })
            .product()
    }
}

/// How often a byte comes in log text, lowercased, roughly (per byte).
fn byte_frequency(byte: u8) -> f64 {
    // Letters by their frequency in English text (per mille), the rest by class.
    const LETTERS: [f64; 26] = [
        82.0, 15.0, 28.0, 43.0, 127.0, 22.0, 20.0, 61.0, 70.0, 1.5, 8.0, 40.0, 24.0, 67.0, 75.0,
        19.0, 1.0, 60.0, 63.0, 91.0, 28.0, 10.0, 24.0, 1.5, 20.0, 0.7,
    ];
    let per_mille = match byte {
        b'a'..=b'z' => LETTERS[usize::from(byte - b'a')] * 0.6,
        b' ' => 150.0,
        b'0'..=b'9' => 20.0,
        b'.' | b'/' | b'-' | b':' | b'_' | b'=' => 15.0,
        b'\'' | b'"' | b'(' | b')' | b'[' | b']' | b',' | b'\\' => 5.0,
        0x80..=0xff => 0.5,
        _ => 2.0,
    };
    per_mille / 1000.0
}

/// How rare a byte is in log text, lowercased: minus the log of its rough frequency.
fn byte_rarity(byte: u8) -> f64 {
    -byte_frequency(byte).ln()
}

/// `hir` with every assertion but the end of the text dropped, and without captures: it
/// matches, somewhere in a line, whenever `hir` matches a suffix of that line.
///
/// A dropped assertion only lets more through. The end assertions stay, since the end of
/// a suffix is the end of the line; the multi-line ones become plain ends, as a line holds
/// no line break.
pub fn relaxed(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(Look::End | Look::EndLF | Look::EndCRLF) => Hir::look(Look::End),
        HirKind::Look(_) => Hir::empty(),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        HirKind::Capture(capture) => relaxed(&capture.sub),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            min: rep.min,
            max: rep.max,
            greedy: rep.greedy,
            sub: Box::new(relaxed(&rep.sub)),
        }),
        HirKind::Concat(pieces) => Hir::concat(pieces.iter().map(relaxed).collect()),
        HirKind::Alternation(alternatives) => {
            Hir::alternation(alternatives.iter().map(relaxed).collect())
        }
    }
}

#[cfg(test)]
mod tests {
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
            let fragments: Vec<Vec<u8>> =
                words[..n].iter().map(|w| w.as_bytes().to_vec()).collect();
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
                let members: Vec<&[u8]> =
                    words.iter().cycle().skip(first).take(n).copied().collect();
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
        let windows = Windows::new(literals);
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
            let windows = Windows::new(literals);
            for weight in [2.0, 2.5, 3.0, 4.0, 8.0, 16.0] {
                assert_eq!(
                    cover(&windows, weight),
                    cover_by_full_rounds(literals, weight),
                    "{} literals, weight {weight}",
                    literals.len()
                );
            }
        }
        assert!(cover(&Windows::new(&sets[2]), 2.0).is_none());
        assert!(cover(&Windows::new(&sets[0]), 16.0).is_some());
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
        let check =
            |p: &str, line: &str| Regex::new(&relaxed(p)).unwrap().is_match(line.as_bytes());
        // The message `Killed` starts after a prefix in the raw line.
        assert!(check(r"^\bKilled$", "W: Killed"));
        assert!(check(r"(?m)^=== (\w+) ===$", "  === frontend ==="));
        assert!(!check(r"(?m)^=== (\w+) ===$", "  === frontend === more"));
        assert!(!relaxed(r"(?P<name>a)").contains("name"));
    }
}
