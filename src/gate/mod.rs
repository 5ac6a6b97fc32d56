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

use std::sync::OnceLock;

pub mod context;
mod fragments;
pub mod prefilter;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, Span, packed};
use fragments::fragments_finder;
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
    inner: Option<LiteralSearch>,
}

#[derive(Debug, Clone)]
struct LiteralSearch {
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
    /// The gate the caches are for (see `LiteralSearch::id`; 0: none).
    gate: u64,
    caches: Vec<Option<meta::Cache>>,
}

impl GateScratch {
    /// The buffer the last `LineGate::hot_lines` looked at, lowercased (empty when its
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
    inner: &'a LiteralSearch,
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

impl LiteralSearch {
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
            inner: Some(LiteralSearch {
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
            Some(LiteralSearch {
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
        inner: &LiteralSearch,
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
            Some(LiteralSearch {
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
mod tests;
