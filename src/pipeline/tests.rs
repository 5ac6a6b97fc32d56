use std::io;

use crate::input::line::Block;
use crate::report::diagnosis::SourceReport;

use super::held::{HELD_BYTES, HELD_LINES};
use super::steps::{GATE_TRIAL_LINES, without_cr};
use super::threads::{
    BATCH_BYTES, BATCH_LINES, BATCHES_IN_FLIGHT, RawBatch, read_gated_in_two, read_in_two,
};
use super::*;

/// The single-threaded loop, reading every line: what [`read_in_two`] must equal.
fn one_thread(rules: &RuleSet, source: Source, runs: Runs) -> (Vec<SourceReport>, bool) {
    let mut state = RunState::new(rules, source.name.clone());
    let mut lines = LineReader::new(source.reader);
    let error = read_into(&mut lines, &mut state, Some(runs), Gate::Off);
    (
        state.finish(lines.stats().lines, Vec::new(), runs),
        error.is_some(),
    )
}

const BALANCES: [Balance; 3] = [
    Balance::Adaptive,
    Balance::Fixed(true),
    Balance::Fixed(false),
];

fn two_threads(
    rules: &RuleSet,
    source: Source,
    runs: Runs,
    balance: Balance,
) -> (Vec<SourceReport>, bool) {
    let mut state = RunState::new(rules, source.name.clone());
    let (stats, error) = read_in_two(source.reader, &mut state, runs, balance);
    (state.finish(stats.lines, Vec::new(), runs), error.is_some())
}

fn gated_in_two(
    rules: &RuleSet,
    source: Source,
    runs: Runs,
    from: u64,
    balance: Balance,
) -> (Vec<SourceReport>, bool) {
    let mut state = RunState::new(rules, source.name.clone());
    let (stats, error) = read_gated_in_two(source.reader, &mut state, runs, from, balance);
    (state.finish(stats.lines, Vec::new(), runs), error.is_some())
}

/// Reads `text` on one thread and on two with every balance, gated or not (from the
/// first line and from a later one), asserts the same reports, and returns the
/// one-thread result.
fn same_in_two(rules: &RuleSet, text: &[u8], runs: Runs) -> (Vec<SourceReport>, bool) {
    let one = one_thread(rules, source(text.to_vec()), runs);
    for balance in BALANCES {
        let two = two_threads(rules, source(text.to_vec()), runs, balance);
        assert_eq!(format!("{one:?}"), format!("{two:?}"), "{balance:?}");
    }
    for from in [1, 700] {
        for balance in BALANCES {
            let gated = gated_in_two(rules, source(text.to_vec()), runs, from, balance);
            assert_eq!(
                format!("{one:?}"),
                format!("{gated:?}"),
                "gated from line {from}, {balance:?}"
            );
        }
        let gated = gated_one_thread(rules, source(text.to_vec()), runs, from);
        assert_eq!(
            format!("{one:?}"),
            format!("{gated:?}"),
            "one thread gated from line {from}"
        );
        let mut state = RunState::new(rules, "t.log".into());
        let (stats, error) = read_large(
            source(text.to_vec()).reader,
            &mut state,
            runs,
            Gate::From(from),
        );
        let large = (state.finish(stats.lines, Vec::new(), runs), error.is_some());
        assert_eq!(
            format!("{one:?}"),
            format!("{large:?}"),
            "large from line {from}"
        );
    }
    one
}

/// Reads `text` every way [`same_in_two`] does and gives the evidence texts of its
/// `network-dns-failed` diagnosis (which must be there).
fn dns_evidence(rules: &RuleSet, text: &str) -> Vec<String> {
    let (reports, _) = same_in_two(rules, text.as_bytes(), Runs::All);
    let dns = reports[0]
        .diagnoses
        .iter()
        .find(|d| d.rule == "network-dns-failed")
        .unwrap_or_else(|| panic!("{reports:?}"));
    dns.evidence.iter().map(|e| e.text.clone()).collect()
}

fn source(bytes: Vec<u8>) -> Source {
    Source::from_reader("t.log".into(), std::io::Cursor::new(bytes)).unwrap()
}

/// The shipped rules with context lines found as they come, held back one by one (as
/// when a rule reads suggestions), not searched for late.
fn forward_rules() -> RuleSet {
    let mut rules = RuleSet::embedded().unwrap();
    rules.signals = rules.signals.with_context_late(false).unwrap();
    assert!(!rules.signals.finds_context_late());
    rules
}

/// Every shipped sample, concatenated many times: thousands of lines, several runs,
/// exception boxes and wrapped lines across batch boundaries.
fn long_log() -> Vec<u8> {
    let mut names: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut text = Vec::new();
    for round in 0..20 {
        for name in &names {
            text.extend(std::fs::read(name).unwrap());
            text.extend(format!("filler line {round} between samples\n").as_bytes());
        }
    }
    text
}

/// The one-thread loop with the gate from line `from` (it may turn the gate off).
fn gated_one_thread(
    rules: &RuleSet,
    source: Source,
    runs: Runs,
    from: u64,
) -> (Vec<SourceReport>, bool) {
    let mut state = RunState::new(rules, source.name.clone());
    let mut lines = LineReader::new(source.reader);
    let error = read_into(&mut lines, &mut state, Some(runs), Gate::From(from));
    (
        state.finish(lines.stats().lines, Vec::new(), runs),
        error.is_some(),
    )
}

/// A long build log of mostly quiet lines, with a refusal near its end: the gate
/// pays, so it stays on, and a large source goes on gated on two threads.
#[test]
fn a_gate_that_pays_is_kept_past_the_trial() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
    for i in 0..30_000 {
        text.push_str(match i % 3 {
            0 => "Module 'Magento_Catalog':\n",
            1 => "frontend/Magento/luma/en_US  1724/1724  ==== 100%\n",
            _ => "Nothing to import.\n",
        });
    }
    text.push_str("    W:   - Downloading magento/module-rma (101.0.6)\n");
    text.push_str("    W:   The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-101.0.6.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n");
    let mut state = RunState::new(&rules, "t.log".into());
    let mut lines = LineReader::new(source(text.clone().into_bytes()).reader);
    let (_, gate) = read_into_gating(&mut lines, &mut state, Some(Runs::All), Gate::From(1));
    assert_eq!(gate, Gate::From(1), "the gate was turned off");
    let one = same_in_two(&rules, text.as_bytes(), Runs::All);
    assert!(!one.0[0].diagnoses.is_empty(), "{one:?}");
}

/// Composer's `Downloading` lines are context (read only in `also`): a failure's
/// evidence holds the last one before it, however many came before (more than a run
/// keeps events of one signal), and not one that only looks like it. Context lines
/// after a failure must not replace the one it needs.
#[test]
fn a_failure_shows_the_nearest_context_line_however_many_came_before() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
    for i in 0..3_000 {
        text.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
        text.push_str("Nothing to import.\n");
    }
    // Passes the gate's relaxed check, but the message does not start with the verb.
    text.push_str("note: Downloading acme/decoy (9.9.9)\n");
    text.push_str("Could not resolve host: repo.example.com\n");
    for i in 0..50 {
        text.push_str(&format!("  - Downloading acme/after-{i} (2.0.{i})\n"));
    }
    let evidence = dns_evidence(&rules, &text);
    assert!(
        evidence
            .iter()
            .any(|e| e == "- Downloading acme/module-2999 (1.0.2999)"
                || e == "Downloading acme/module-2999 (1.0.2999)"),
        "{evidence:?}"
    );
    assert!(
        !evidence
            .iter()
            .any(|e| e.contains("decoy") || e.contains("after-"))
    );
}

/// Context lines held in a run of quiet lines are read when [`HELD_LINES`] are held,
/// as those held one by one are: what is held stays bounded.
#[test]
fn context_lines_held_in_a_run_stay_bounded() {
    let rules = forward_rules();
    let mut state = RunState::new(&rules, "input.log".into());
    let mut steps = LineSteps::new(Some(Runs::Latest), false);
    steps.line(
        b"[2024-06-02 03:25:50] INFO: Starting build.",
        Heat::Hot,
        true,
        &mut state,
        LateBlock::default(),
    );
    let mut block = String::new();
    for i in 0..300 {
        block.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
    }
    let mut hot = Vec::new();
    rules
        .signals
        .gate()
        .hot_lines(block.as_bytes(), &mut GateScratch::default(), &mut hot);
    assert_eq!(hot.len(), 300);
    steps.block(block.as_bytes(), None, &hot, true, &mut state);
    assert!(steps.skipped >= 290, "{}", steps.skipped);
    assert!(!state.held.lines.is_empty() && state.held.lines.len() <= HELD_LINES);
    assert!(state.held.bytes.len() <= HELD_BYTES);
    assert_eq!(
        state.held.lines.last().map(|held| held.line),
        Some(301),
        "the newest is held with its own line number"
    );
}

/// With the shipped rules (none reads a suggestion) the gate leaves Composer's lines
/// quiet: nothing is held, and the newest of a run of them is searched for and read
/// when the run ends, with its own line number.
#[test]
fn context_lines_are_found_late_in_a_run_of_skipped_lines() {
    let rules = RuleSet::embedded().unwrap();
    assert!(rules.signals.finds_context_late());
    let mut state = RunState::new(&rules, "input.log".into());
    let mut steps = LineSteps::new(Some(Runs::Latest), true);
    steps.line(
        b"[2024-06-02 03:25:50] INFO: Starting build.",
        Heat::Hot,
        true,
        &mut state,
        LateBlock::default(),
    );
    let mut block = String::new();
    for i in 0..300 {
        block.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
    }
    block.push_str("Nothing to import.\n");
    let mut hot = Vec::new();
    rules
        .signals
        .gate_for(true)
        .hot_lines(block.as_bytes(), &mut GateScratch::default(), &mut hot);
    assert_eq!(hot, []);
    steps.block(block.as_bytes(), None, &hot, true, &mut state);
    assert!(steps.skipped >= 290, "{}", steps.skipped);
    assert!(state.held.lines.is_empty());
    let read: Vec<(u64, &str)> = state
        .run
        .pending
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(read, [(301, "Downloading acme/module-299 (1.0.299)")]);
}

/// Deferred, the skipped lines of a run that ends before any line needs its context
/// are never searched; the context a failure needs is the same as searched at once.
#[test]
fn skipped_lines_are_searched_for_context_only_when_a_line_needs_it() {
    let rules = RuleSet::embedded().unwrap();
    let mut block = String::new();
    for run in 0..20 {
        block.push_str(&format!(
            "[2024-06-02 03:{run:02}:50] INFO: Starting build.\n"
        ));
        for i in 0..50 {
            block.push_str(&format!("  - Downloading acme/run{run}-{i} (1.0.{i})\n"));
        }
    }
    // An ece-tools line: no suggestion line, so only its match calls for the context.
    block.push_str("[2024-06-02 03:19:59] WARNING: Warning from repo.magento.com: You haven't provided your Magento authentication keys.\n");
    block.push_str("  - Downloading acme/after (1.0.0)\n");
    let read = |defer: bool| {
        let mut state = RunState::new(&rules, "input.log".into());
        state.held.defer_late = defer;
        let mut steps = LineSteps::new(Some(Runs::Latest), true);
        let mut hot = Vec::new();
        rules.signals.gate_for(true).hot_lines(
            block.as_bytes(),
            &mut GateScratch::default(),
            &mut hot,
        );
        steps.block(block.as_bytes(), None, &hot, true, &mut state);
        assert!(!state.held.owes(), "a block pays what it owes");
        let searched = state.held.late_searched;
        let reports = state.finish(steps.line_no, Vec::new(), Runs::Latest);
        (searched, serde_json::to_string(&reports).unwrap())
    };
    let (all, at_once) = read(false);
    let (few, deferred) = read(true);
    assert_eq!(at_once, deferred);
    // Only the last run's lines, before the failure, are searched.
    assert!(few * 10 < all, "{few} of {all} bytes searched");
    assert!(deferred.contains("acme/run19-49"), "{deferred}");
}

/// A batch of blocks, gated at once, gives each line the heat the gate gives it on its
/// own: the line gathered across reads (appended with a `\n`) and the `\r\n` lines
/// included; lines read before the gate was on stay hot.
#[test]
fn a_gated_batch_gives_every_line_its_own_heat() {
    let rules = forward_rules();
    let gate = rules.signals.gate();
    let mut text = long_log();
    text.extend_from_slice(b"  - Downloading acme/crlf (1.0.0)\r\nNothing to import.\r\n");
    text.extend(std::iter::repeat_n(b'x', 5000));
    text.extend_from_slice(b" error\n  - Downloading acme/last (1.0.0)");
    let reader = io::BufReader::with_capacity(4096, &text[..]);
    let mut lines = LineReader::new(reader);
    let mut batch = RawBatch::default();
    let mut each = Vec::new();
    let mut scratch = GateScratch::default();
    for _ in 0..3 {
        let line = lines.next_line().unwrap().unwrap();
        each.push(Heat::Hot);
        batch.push_ungated(line);
    }
    while let Some(block) = lines.next_block().unwrap() {
        match block {
            Block::Lines(bytes) => each.extend(
                bytes
                    .split(|&b| b == b'\n')
                    .take(memchr::memchr_iter(b'\n', bytes).count())
                    .map(|line| gate.heat(without_cr(line), &mut scratch)),
            ),
            Block::Line(line) => each.push(gate.heat(line, &mut scratch)),
        }
        batch.push(block);
    }
    batch.gate(gate, &mut GateScratch::default(), &mut Vec::new());
    let mut heats = vec![Heat::Quiet; each.len()];
    let starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', &batch.bytes).map(|i| i + 1))
        .collect();
    for &(start, heat) in &batch.hot {
        heats[starts.binary_search(&start).unwrap()] = heat;
    }
    assert!(each.contains(&Heat::Quiet));
    assert!(each.iter().any(|heat| matches!(heat, Heat::Context(_))));
    assert_eq!(heats, each);
    assert_eq!(lines.stats().lines, each.len() as u64);
}

/// A line read between a context line and a failure that matches nothing a rule
/// reads (a hint) does not make the context line read early, and a look-alike after
/// it does not hide it: the failure still shows the real context line before it.
#[test]
fn a_context_line_read_late_is_still_the_nearest() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
    for i in 0..50 {
        text.push_str(&format!("  - Downloading acme/early-{i} (1.0.{i})\n"));
    }
    text.push_str("  - Downloading acme/real (1.0.0)\n");
    text.push_str("note: cannot reuse the cache\n");
    text.push_str("Nothing to import.\n");
    text.push_str("note: Downloading acme/decoy (9.9.9)\n");
    text.push_str("Could not resolve host: repo.example.com\n");
    let evidence = dns_evidence(&rules, &text);
    assert!(
        evidence.iter().any(|e| e.contains("acme/real ")),
        "{evidence:?}"
    );
    assert!(
        !evidence
            .iter()
            .any(|e| e.contains("decoy") || e.contains("early-"))
    );
}

/// Two context signals held at once: the newer line (`Downloading`, read first) does
/// not hide the older one (`composer require`), which is its own signal's
/// latest; an older line of the newer one's signal stays hidden.
#[test]
fn held_lines_of_two_context_signals_are_both_read() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::from("[2024-06-02 03:25:50] INFO: Starting build.\n");
    // Quiet lines, which the gate skips.
    text.push_str(&"Cache cleared successfully\n".repeat(20));
    text.push_str("composer require acme/extra:1.2.0\n");
    text.push_str("  - Downloading acme/early (1.0.1)\n");
    text.push_str("  - Downloading acme/real (1.0.0)\n");
    text.push_str("Nothing to import.\n");
    text.push_str(
        "Warning from repo.magento.com: You haven't provided your Magento authentication keys.\n",
    );
    let (reports, _) = same_in_two(&rules, text.as_bytes(), Runs::All);
    let keys = reports[0]
        .diagnoses
        .iter()
        .find(|d| d.rule == "repo-keys-missing")
        .unwrap_or_else(|| panic!("{reports:?}"));
    let packages: Vec<&str> = keys.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(packages, ["acme/extra", "acme/real"], "{keys:?}");
}

/// Composer 2 lines alternate between `Downloading` (context) and `Installing ...:
/// Extracting archive` (a signal no rule reads, whose lines the gate skips): the
/// latter must not make the former kept, or reading every line would keep 1,000 of
/// them and show a stale one where the gated read shows the nearest.
#[test]
fn events_no_rule_reads_do_not_keep_context_lines() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::new();
    for i in 0..1_500 {
        text.push_str(&format!("  - Downloading acme/module-{i} (1.0.{i})\n"));
        text.push_str(&format!(
            "  - Installing acme/module-{i} (1.0.{i}): Extracting archive\n"
        ));
    }
    text.push_str("Could not resolve host: repo.example.com\n");
    let evidence = dns_evidence(&rules, &text);
    assert!(
        evidence.iter().any(|e| e.contains("acme/module-1499 ")),
        "{evidence:?}"
    );
}

/// The gate loses on a log of padded lines (never clean, so never skipped), and the
/// trial ends on a held context line: the loop that reads every line from there on
/// must still have it for the failure after it.
#[test]
fn a_context_line_held_when_the_gate_is_turned_off_is_not_lost() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = String::new();
    for _ in 1..GATE_TRIAL_LINES {
        text.push_str("Nothing to import. \n");
    }
    text.push_str("  - Downloading acme/module-last (1.0.1)\n");
    text.push_str("Could not resolve host: repo.example.com\n");
    let evidence = dns_evidence(&rules, &text);
    assert!(
        evidence.iter().any(|e| e.contains("acme/module-last")),
        "{evidence:?}"
    );
}

#[test]
fn the_gate_is_turned_off_only_when_it_skips_too_few_lines() {
    let mut steps = LineSteps::new(None, false);
    steps.gated = GATE_TRIAL_LINES - 1;
    assert_eq!(steps.judge_gate(), None, "not judged before the trial ends");
    steps.gated = GATE_TRIAL_LINES + 100;
    steps.skipped = GATE_TRIAL_LINES / 4;
    assert_eq!(steps.judge_gate(), Some(true));
    assert_eq!(steps.judge_gate(), None, "judged once");
    let mut steps = LineSteps::new(None, false);
    steps.gated = GATE_TRIAL_LINES;
    steps.skipped = GATE_TRIAL_LINES / 4;
    assert_eq!(steps.judge_gate(), Some(false));
}

/// The shipped samples over and over: their quiet lines sit near exception boxes and
/// wide lines, so few can be skipped and the gate is turned off, with the same reports.
#[test]
fn turning_the_gate_off_keeps_the_reports() {
    let rules = RuleSet::embedded().unwrap();
    let text = long_log().repeat(2);
    let one = one_thread(&rules, source(text.clone()), Runs::All);
    let mut state = RunState::new(&rules, "t.log".into());
    let mut lines = LineReader::new(source(text).reader);
    let (error, gate) = read_into_gating(&mut lines, &mut state, Some(Runs::All), Gate::From(1));
    assert_eq!(gate, Gate::Off, "the gate was kept");
    let gated = (
        state.finish(lines.stats().lines, Vec::new(), Runs::All),
        error.is_some(),
    );
    assert_eq!(format!("{one:?}"), format!("{gated:?}"));
    // A large source goes on two threads after the trial, reading every line.
    same_in_two(&rules, &long_log().repeat(2), Runs::All);
}

#[test]
fn two_threads_give_the_single_threaded_reports() {
    let rules = RuleSet::embedded().unwrap();
    let text = long_log();
    assert!(text.iter().filter(|&&b| b == b'\n').count() > 4 * BATCH_LINES * BATCHES_IN_FLIGHT);
    for runs in [Runs::Latest, Runs::All] {
        let one = same_in_two(&rules, &text, runs);
        assert!(
            !one.0.iter().all(|r| r.diagnoses.is_empty()),
            "the log diagnoses something"
        );
    }
}

#[test]
fn two_threads_report_a_read_error_after_what_was_read() {
    let rules = RuleSet::embedded().unwrap();
    let gzip = crate::input::decode::tests::gzip(&long_log());
    let cut = gzip[..gzip.len() * 2 / 3].to_vec();
    let one = same_in_two(&rules, &cut, Runs::All);
    assert!(one.1, "the truncated gzip is an error");
}

/// Long lines fill a batch by bytes before lines: the reports stay the same.
#[test]
fn two_threads_give_the_same_reports_on_long_lines() {
    let rules = RuleSet::embedded().unwrap();
    let mut text = Vec::new();
    for i in 0..40 {
        text.extend(
            format!("[2024-01-01 00:00:{i:02}] INFO: {}\n", "x".repeat(100_000)).as_bytes(),
        );
        if i % 7 == 0 {
            text.extend(b"The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-100.4.1.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n");
        }
    }
    assert!(text.len() > 8 * BATCH_BYTES);
    let one = same_in_two(&rules, &text, Runs::Latest);
    assert!(!one.0[0].diagnoses.is_empty(), "{one:?}");
}

#[test]
fn two_threads_read_an_empty_source() {
    let rules = RuleSet::embedded().unwrap();
    same_in_two(&rules, &[], Runs::Latest);
}

/// Streamed, each run but the last goes to the sink as it ends and none is kept; with
/// the totals known only at the end filled in, they are the reports of `Runs::All`,
/// on one thread and on two.
#[test]
fn streamed_runs_are_the_reports_of_every_run() {
    let rules = RuleSet::embedded().unwrap();
    let text = long_log();
    for size in [None, Some(text.len() as u64)] {
        let kept = diagnose_source(&rules, sized(text.clone(), size), Runs::All);
        let lines: u64 = kept.reports.iter().map(|r| r.lines).sum();
        assert_eq!(lines, memchr::memchr_iter(b'\n', &text).count() as u64);
        let mut streamed: Vec<SourceReport> = Vec::new();
        let last = stream_source(&rules, sized(text.clone(), size), &mut streamed);
        assert!(streamed.len() > 10, "{}", streamed.len());
        assert_eq!(last.reports.len(), 1);
        streamed.extend(last.reports);
        let total = streamed.len();
        // A streamed run counts its own lines as it ends; it cannot know how many follow.
        for report in &mut streamed[..total - 1] {
            if let Some(run) = &mut report.run {
                run.runs = total;
            }
        }
        assert_eq!(format!("{:?}", kept.reports), format!("{streamed:?}"));
    }
}

/// A source of `bytes`, of the given size when it is known (a small one reads on one
/// thread, one of unknown size on two).
fn sized(bytes: Vec<u8>, size: Option<u64>) -> Source {
    let mut source = source(bytes);
    source.size = size;
    source
}

/// Serves one piece per read and notes how many reports the sink held at each read.
struct PieceReader {
    pieces: std::collections::VecDeque<Vec<u8>>,
    taken: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl io::Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let taken = self.taken.load(std::sync::atomic::Ordering::SeqCst);
        self.seen.lock().unwrap().push(taken);
        let Some(mut piece) = self.pieces.pop_front() else {
            return Ok(0);
        };
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        if n < piece.len() {
            self.pieces.push_front(piece.split_off(n));
        }
        Ok(n)
    }
}

/// Counts the reports it takes.
struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl RunSink for Counted {
    fn run(&mut self, _: SourceReport) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A run's report reaches the sink when the run ends, before the input does: a log of
/// many runs is never held whole.
#[test]
fn a_streamed_run_reaches_the_sink_before_the_input_ends() {
    let rules = RuleSet::embedded().unwrap();
    // Each run is larger than any read-ahead of the source (its head, its buffer).
    let run = |day: u32| {
        let start = format!(
            "[2024-01-{day:02}T10:00:00+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml\n"
        );
        let step = format!("[2024-01-{day:02}T10:00:01+00:00] INFO: Step done.\n");
        [start, step.repeat(8000)].concat().into_bytes()
    };
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = PieceReader {
        pieces: (1..=6).map(run).collect(),
        taken: taken.clone(),
        seen: seen.clone(),
    };
    let mut source = Source::from_reader("t.log".into(), reader).unwrap();
    source.size = Some(1);
    let outcome = stream_source(&rules, source, &mut Counted(taken.clone()));
    assert_eq!(taken.load(std::sync::atomic::Ordering::SeqCst), 5);
    assert_eq!(outcome.reports[0].run.as_ref().map(|r| r.runs), Some(6));
    let seen = seen.lock().unwrap();
    assert!(seen.iter().any(|&n| n >= 3), "reads saw {seen:?} reports");
}

/// `Runs::One(n)` reports run n as `Runs::All` does, the same way on every read path;
/// the runs it does not report, like those `Runs::Latest` skips, are counted with the
/// errors `Runs::All` shows for them. A run the source lacks gets a report that says so.
#[test]
fn one_run_is_reported_as_every_run_shows_it_and_the_others_are_counted() {
    use crate::report::diagnosis::Severity;
    let rules = RuleSet::embedded().unwrap();
    let text = long_log();
    let (all, _) = same_in_two(&rules, &text, Runs::All);
    let runs = all.len();
    assert!(runs > 5, "{runs} runs");
    let errors = |r: &SourceReport| {
        r.diagnoses
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    };
    let failed: Vec<(usize, usize)> = all
        .iter()
        .filter(|r| errors(r) > 0)
        .map(|r| (r.run.as_ref().unwrap().index, errors(r)))
        .collect();
    assert!(failed.len() > 2, "{failed:?}");
    let count = runs as i64;
    for pick in [1, 2, count / 2, count, -1, -2, -count] {
        let (one, _) = same_in_two(&rules, &text, Runs::One(pick));
        let index = if pick > 0 {
            pick as usize
        } else {
            runs + 1 - pick.unsigned_abs() as usize
        };
        let (got, expected) = (&one[0], &all[index - 1]);
        assert_eq!(got.diagnoses, expected.diagnoses, "run {pick}");
        assert_eq!(got.hints, expected.hints, "run {pick}");
        let run = got.run.as_ref().unwrap();
        assert_eq!((run.index, run.runs, run.skipped), (index, runs, index - 1));
        let skipped: Vec<(usize, usize)> = run
            .skipped_with_errors
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| (r.index, r.errors))
            .collect();
        let others: Vec<(usize, usize)> = failed
            .iter()
            .copied()
            .filter(|&(i, _)| i != index)
            .collect();
        assert_eq!(skipped, others, "run {pick}");
    }
    let (latest, _) = same_in_two(&rules, &text, Runs::Latest);
    let (last, _) = same_in_two(&rules, &text, Runs::One(-1));
    assert_eq!(format!("{latest:?}"), format!("{last:?}"));
    for beyond in [count + 1, -count - 1] {
        let (missing, _) = same_in_two(&rules, &text, Runs::One(beyond));
        assert!(missing[0].run_missing, "{beyond}");
        assert!(missing[0].diagnoses.is_empty() && missing[0].error.is_some());
    }
}
