//! The fragments the SIMD search looks for: a few short windows such that every
//! literal holds one, picked for how rarely they are expected in log text.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, packed};

use super::{Finder, Fragment};

/// The most fragments the SIMD search takes (Teddy's limit).
pub(super) const MAX_FRAGMENTS: usize = 64;
/// Fragments are this long, or the whole literal when shorter.
pub(super) const FRAGMENT_LEN: usize = 4;

/// A SIMD search over fragments that cover every literal, if at most
/// [`MAX_FRAGMENTS`] do and the CPU has one.
///
/// The fragments are picked greedily: each round takes the window of the uncovered
/// literals that covers the most of them for how often it is expected in log text (from
/// a fixed table of byte frequencies, [`byte_rarity`]). A rare fragment keeps hits, and
/// so closer looks, few.
pub(super) fn fragments_finder(literals: &[Vec<u8>]) -> Option<Finder> {
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
    let windows = LiteralWindows::new(&minimal);
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
pub(super) fn holders_of(fragments: &[Vec<u8>], literals: &[Vec<u8>]) -> Vec<Vec<(u32, u32)>> {
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
pub(super) struct LiteralWindows<'a> {
    /// Every window, sorted, once.
    pub(super) names: Vec<&'a [u8]>,
    /// Each literal's windows (indexes into `names`).
    pub(super) of_literal: Vec<Vec<usize>>,
    /// How many literals hold each window.
    pub(super) holders: Vec<usize>,
    /// Each window's [`rarity`].
    pub(super) rarities: Vec<f64>,
}

impl LiteralWindows<'_> {
    pub(super) fn new(literals: &[Vec<u8>]) -> LiteralWindows<'_> {
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
        LiteralWindows {
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
pub(super) struct Candidate {
    value: f64,
    window: usize,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Candidate) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Candidate) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Candidate) -> std::cmp::Ordering {
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
pub(super) fn cover(windows: &LiteralWindows<'_>, weight: f64) -> Option<Vec<Vec<u8>>> {
    let literals = windows.of_literal.len();
    // The log of each count a window may hold, once.
    let ln: Vec<f64> = (0..=literals).map(|n| (n as f64).ln()).collect();
    let mut uncovered_holders = windows.holders.clone();
    let value = |w: usize, holders: &[usize]| ln[holders[w]] * weight + windows.rarities[w];
    let mut heap: std::collections::BinaryHeap<Candidate> = (0..windows.names.len())
        .filter(|&w| uncovered_holders[w] > 0)
        .map(|w| Candidate {
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
            heap.push(Candidate {
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
pub(super) fn rarity(fragment: &[u8]) -> f64 {
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
pub(super) fn spread_over_buckets(fragments: &[Vec<u8>]) -> Vec<&[u8]> {
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
pub(super) fn teddy_buckets(n: usize) -> usize {
    if n > 32 { 16 } else { 8 }
}

/// How many first bytes of each fragment Teddy looks at.
pub(super) fn teddy_mask<'a>(fragments: impl Iterator<Item = &'a [u8]>) -> usize {
    fragments.map(<[u8]>::len).min().unwrap_or(0).min(4)
}

/// [`byte_frequency`] summed over sets of bytes: for each high nibble, over any set of
/// low nibbles (a 16-bit mask, looked up a byte at a time), so that a bucket's stops take
/// a few look-ups (the swaps of [`spread_over_buckets`] ask for ~20,000 of them).
pub(super) struct NibbleFrequency {
    /// `[high][low mask & 0xff]` and `[high][low mask >> 8]`.
    low: Vec<[f64; 256]>,
    high: Vec<[f64; 256]>,
}

impl NibbleFrequency {
    pub(super) fn new() -> NibbleFrequency {
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
    pub(super) fn stops<'a>(
        &self,
        members: impl Iterator<Item = &'a [u8]> + Clone,
        mask: usize,
    ) -> f64 {
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
pub(super) fn byte_frequency(byte: u8) -> f64 {
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
pub(super) fn byte_rarity(byte: u8) -> f64 {
    -byte_frequency(byte).ln()
}
