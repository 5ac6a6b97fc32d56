//! Context lines found late: searched for backwards, newest first, only in the lines a
//! run of the pipeline skipped, and only until each context signal has its newest match.
//!
//! Rules read a context signal (see [`crate::signal::SignalSet::is_context`]) only as the
//! nearest event before a failure, so of the many lines that may match one (Composer's
//! `- Downloading ...` is a third of a build log) only the newest before a line that is
//! read can matter. A source read on one thread (a folder's files) then uses a gate that
//! does not look for their literals (see
//! [`crate::signal::SignalSet::finds_context_late`]); the lines it lets the pipeline skip
//! are searched here instead, from their end, a chunk at a time, with a gate over the
//! literals of the context signals not matched yet.

use std::sync::OnceLock;

use crate::gate::{GateItem, GateScratch, Heat, LineGate};

/// The first chunk searched, from the end of the skipped lines; each next one is twice as
/// large, up to [`LAST_CHUNK`]. Most newest matches are in the last few lines.
const FIRST_CHUNK: usize = 1 << 10;
const LAST_CHUNK: usize = 64 << 10;

/// Gates over the literals of some context groups are built for at most this many groups
/// (one gate per set of them); with more, every search looks for all of them.
const MOST_GROUPS_SPLIT: usize = 6;

/// The gates a backward search for context lines uses.
#[derive(Debug, Clone)]
pub struct ContextSearch {
    /// One gate item per context pattern, in the order of `patterns`.
    items: Vec<GateItem>,
    /// The context patterns (prefilter items), in order.
    patterns: Vec<usize>,
    /// A gate over every item: the search while every group is wanted, and the checks.
    all: LineGate,
    /// The groups the items stand for, each one bit.
    groups: Vec<u64>,
    /// For each set of groups (bit `i` for `groups[i]`): a gate over their items only,
    /// built on first use (none past [`MOST_GROUPS_SPLIT`] groups).
    some: Vec<OnceLock<LineGate>>,
}

/// A context line found by [`ContextSearch::newest_first`]: where it starts and ends in
/// the lines searched (without its `\n` and a `\r` before it), how many lines from it to
/// their end (1 for the last), and the groups whose literals it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextLine {
    pub start: usize,
    pub end: usize,
    pub lines_from: u64,
    pub groups: u64,
}

impl ContextSearch {
    /// A search over `items` (each with its nonzero [`GateItem::context`]), which are the
    /// gate items of the context patterns `patterns`.
    pub fn new(items: Vec<GateItem>, patterns: Vec<usize>) -> ContextSearch {
        let mut groups: Vec<u64> = Vec::new();
        for item in &items {
            for bit in (0..u64::BITS).map(|i| 1u64 << i) {
                if item.context & bit != 0 && !groups.contains(&bit) {
                    groups.push(bit);
                }
            }
        }
        let some = if groups.len() <= MOST_GROUPS_SPLIT {
            (0..1usize << groups.len())
                .map(|_| OnceLock::new())
                .collect()
        } else {
            Vec::new()
        };
        ContextSearch {
            all: LineGate::new(items.clone()),
            items,
            patterns,
            groups,
            some,
        }
    }

    /// Every group some context pattern stands for.
    pub fn groups(&self) -> u64 {
        self.groups.iter().fold(0, |all, bit| all | bit)
    }

    /// Whether context pattern `pattern` may match the clean raw line `raw`: its gate
    /// check (see [`crate::gate`]). `scratch` is the caller's own, for this search only.
    pub fn may_match(&self, pattern: usize, raw: &[u8], scratch: &mut GateScratch) -> bool {
        match self.patterns.iter().position(|&p| p == pattern) {
            Some(item) => self.all.passes(item, raw, scratch),
            None => true,
        }
    }

    /// The gate that finds the lines holding a literal of some group of `wanted`.
    fn gate_for(&self, wanted: u64) -> &LineGate {
        let set = self
            .groups
            .iter()
            .enumerate()
            .filter(|&(_, &bit)| wanted & bit != 0)
            .fold(0usize, |set, (i, _)| set | 1 << i);
        match self.some.get(set) {
            Some(gate) if set + 1 < self.some.len() => gate.get_or_init(|| {
                LineGate::new(
                    self.items
                        .iter()
                        .filter(|item| item.context & wanted != 0)
                        .cloned()
                        .collect(),
                )
            }),
            _ => &self.all,
        }
    }

    /// Calls `take` on each line of `lines` (whole lines, each ended by `\n` but perhaps
    /// the last) that holds a literal of a group `take` still wants, newest first, until
    /// it wants none. `take` is given the line and the groups of `wanted` it holds, and
    /// gives back the groups it still wants. `lower`, when given, is `lines` lowercased
    /// (the gate's own work, not done twice). `scratch` and `found` are the caller's own.
    pub fn newest_first(
        &self,
        lines: &[u8],
        lower: Option<&[u8]>,
        mut wanted: u64,
        scratch: &mut GateScratch,
        found: &mut Vec<(usize, Heat)>,
        mut take: impl FnMut(ContextLine) -> u64,
    ) {
        wanted &= self.groups();
        let mut end = lines.len();
        // Lines from `counted` to the end of `lines`: counted only up to a line taken.
        let mut counted = lines.len();
        let mut lines_after = u64::from(lines.last().is_some_and(|&last| last != b'\n'));
        let mut size = FIRST_CHUNK;
        while wanted != 0 && end > 0 {
            let start = match end.checked_sub(size) {
                Some(from) if from > 0 => {
                    memchr::memrchr(b'\n', &lines[..from]).map_or(0, |i| i + 1)
                }
                _ => 0,
            };
            let chunk = &lines[start..end];
            found.clear();
            let gate = self.gate_for(wanted);
            match lower {
                Some(lower) => gate.hot_lines_lowered(chunk, &lower[start..end], scratch, found),
                None => gate.hot_lines(chunk, scratch, found),
            }
            for &(at, heat) in found.iter().rev() {
                let Heat::Context(groups) = heat else {
                    continue;
                };
                if groups & wanted == 0 {
                    continue;
                }
                let at = start + at;
                lines_after += memchr::memchr_iter(b'\n', &lines[at..counted]).count() as u64;
                counted = at;
                let line_end = memchr::memchr(b'\n', &lines[at..end]).map_or(end, |i| at + i);
                let line_end = if lines[at..line_end].ends_with(b"\r") {
                    line_end - 1
                } else {
                    line_end
                };
                wanted &= take(ContextLine {
                    start: at,
                    end: line_end,
                    lines_from: lines_after,
                    groups: groups & wanted,
                });
                if wanted == 0 {
                    return;
                }
            }
            end = start;
            size = (size * 2).min(LAST_CHUNK);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::rule::RuleSet;

    /// Every line `newest_first` gives while `take` wants its groups: (line number from
    /// the end, text); `stop` says after which text it wants no more. The same whether
    /// the search lowercases the lines itself or is given them lowercased.
    fn found(lines: &[u8], stop: Option<&str>) -> Vec<(u64, String)> {
        let rules = RuleSet::embedded().unwrap();
        let search = rules.signals.context_search();
        let mut lowered = Vec::new();
        crate::gate::lowercase_into(lines, &mut lowered);
        let [plain, given] = [None, Some(lowered.as_slice())].map(|lower| {
            let mut seen = Vec::new();
            search.newest_first(
                lines,
                lower,
                search.groups(),
                &mut GateScratch::default(),
                &mut Vec::new(),
                |line| {
                    let text = String::from_utf8(lines[line.start..line.end].to_vec()).unwrap();
                    let done = stop == Some(text.as_str());
                    seen.push((line.lines_from, text));
                    if done { 0 } else { u64::MAX }
                },
            );
            seen
        });
        assert_eq!(plain, given);
        plain
    }

    #[test]
    fn gives_the_lines_newest_first_with_their_distance_from_the_end() {
        let text = "  - Downloading acme/a (1.0.0)\nNothing to import.\n  - Installing acme/a (1.0.0): Extracting archive\r\nDone.\n";
        assert_eq!(
            found(text.as_bytes(), None),
            [
                (
                    2,
                    "  - Installing acme/a (1.0.0): Extracting archive".to_owned()
                ),
                (4, "  - Downloading acme/a (1.0.0)".to_owned()),
            ]
        );
        // The last line without its `\n` is a line too.
        let text = "  - Downloading acme/a (1.0.0)\nDone.\n  - Downloading acme/b (1.0.0)";
        assert_eq!(
            found(text.as_bytes(), None),
            [
                (1, "  - Downloading acme/b (1.0.0)".to_owned()),
                (3, "  - Downloading acme/a (1.0.0)".to_owned()),
            ]
        );
    }

    /// Chunks grow from the end, line by whole line: a line far back (and one across
    /// where a chunk would start) is found with its right distance.
    #[test]
    fn searches_back_across_chunks() {
        let mut text = String::from("  - Downloading acme/first (1.0.0)\n");
        for i in 0..5000 {
            text.push_str(&format!("filler line {i} with nothing in it\n"));
        }
        assert_eq!(
            found(text.as_bytes(), None),
            [(5001, "  - Downloading acme/first (1.0.0)".to_owned())]
        );
        // A context line at every offset around the first chunk's start.
        for pad in 0..40 {
            let mut text = "x".repeat(pad);
            text.push_str("\n  - Downloading acme/edge (1.0.0)\n");
            text.push_str(&"y".repeat(FIRST_CHUNK - 20));
            text.push('\n');
            assert_eq!(
                found(text.as_bytes(), None),
                [(2, "  - Downloading acme/edge (1.0.0)".to_owned())],
                "pad {pad}"
            );
        }
    }

    #[test]
    fn stops_when_no_group_is_wanted() {
        let text = "  - Downloading acme/a (1.0.0)\n  - Downloading acme/b (1.0.0)\n";
        assert_eq!(
            found(text.as_bytes(), Some("  - Downloading acme/b (1.0.0)")),
            [(1, "  - Downloading acme/b (1.0.0)".to_owned())]
        );
        assert_eq!(found(b"Nothing to import.\n", None), []);
        assert_eq!(found(b"", None), []);
    }
}
