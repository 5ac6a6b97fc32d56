//! Reading a large source on two threads: one reads (and repairs or gates), the other
//! does the rest, in order, with the same result as one thread.

use std::io;
use std::sync::atomic::Ordering;

use crate::gate::{GateScratch, Heat, LineGate};
use crate::input::line::{Block, LineReader};
use crate::repair::{RepairedLine, Repairer};
use crate::signal::SignalSet;

use super::run::RunState;
use super::steps::{LateBlock, LineSteps, line_text, take_line};
use super::{Gate, Runs, SCRATCH, gate_at};

/// Raw lines passed from the reading thread to the working one, in one buffer, with
/// where the gate found the lines that are not quiet, or not yet.
#[derive(Default)]
pub(super) struct RawBatch {
    /// Whole lines, each ended by `\n` (a `\r` before it is not part of the line).
    pub(super) bytes: Vec<u8>,
    /// Where the lines that are not quiet start, in order, and their [`Heat`].
    pub(super) hot: Vec<(usize, Heat)>,
    /// Where the lines the gate looks at start: those before were read before the gate
    /// was on, and are in `hot` as hot.
    pub(super) gated_from: usize,
    /// Whether the gate ran over `bytes[gated_from..]` (else the working thread runs it).
    pub(super) gated: bool,
}

impl RawBatch {
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.bytes.shrink_to(2 * BATCH_BYTES);
        self.hot.clear();
        self.gated_from = 0;
        self.gated = false;
    }

    /// Adds a line read before the gate was on: it is hot.
    pub(super) fn push_ungated(&mut self, line: &[u8]) {
        self.hot.push((self.bytes.len(), Heat::Hot));
        self.bytes.extend_from_slice(line);
        self.bytes.push(b'\n');
        self.gated_from = self.bytes.len();
    }

    /// Adds what the gate is to look at: a block of lines, or one line.
    pub(super) fn push(&mut self, block: Block<'_>) {
        match block {
            Block::Lines(lines) => self.bytes.extend_from_slice(lines),
            Block::Line(line) => {
                self.bytes.extend_from_slice(line);
                self.bytes.push(b'\n');
            }
        }
    }

    /// Runs the gate over the lines read with it on, on whichever thread calls it.
    pub(super) fn gate(
        &mut self,
        gate: &LineGate,
        scratch: &mut GateScratch,
        found: &mut Vec<(usize, Heat)>,
    ) {
        if self.gated {
            return;
        }
        self.gated = true;
        let from = self.gated_from;
        if from == self.bytes.len() {
            return;
        }
        found.clear();
        gate.hot_lines(&self.bytes[from..], scratch, found);
        self.hot
            .extend(found.iter().map(|&(start, heat)| (from + start, heat)));
    }
}

/// Reads a gated source on two threads: one reads, decodes and (while the other is
/// behind) runs the gate over each buffer of lines; the other does the rest, in order, as
/// [`read_into`] would (held to it by the unit tests below). Memory stays bounded by
/// the batches in flight.
#[cfg(test)]
pub(super) fn read_gated_in_two<R: io::BufRead + Send>(
    reader: R,
    state: &mut RunState<'_>,
    runs: Runs,
    from: u64,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let lines = LineReader::new(reader);
    read_gated_in_two_from(
        lines,
        LineSteps::new(Some(runs), false),
        state,
        from,
        balance,
    )
}

/// `read_gated_in_two` from where `lines` and `steps` are (after a trial on one thread).
///
/// Lines are handed over a reader's buffer at a time (no work per line on the reading
/// thread). Which thread runs the gate over a batch is decided as it is sent: the
/// reading one while the working one has batches waiting, else the working one (the
/// gate is most of the work on a log it pays on). The heats are the same either way.
pub(super) fn read_gated_in_two_from<R: io::BufRead + Send>(
    mut lines: LineReader<R>,
    mut steps: LineSteps,
    state: &mut RunState<'_>,
    from: u64,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let signals = &state.run.rules.signals;
    let waiting = std::sync::atomic::AtomicUsize::new(0);
    let waiting = &waiting;
    let read = move |hand: &Handoff<RawBatch>| {
        let mut batch = RawBatch::default();
        let (mut scratch, mut found) = (GateScratch::default(), Vec::new());
        let mut send = |batch: &mut RawBatch| -> bool {
            // Behind as soon as one batch waits: waiting for a full queue (two) left
            // the working thread gating a third of the batches while this one idled
            // (perf: the threads' shares 54/45 -> 53/46, stdin wall -2-3%).
            let behind = waiting.load(Ordering::Relaxed) >= 1;
            if balance.on_reader(behind) {
                batch.gate(signals.gate(), &mut scratch, &mut found);
            }
            let mut next = hand.spare();
            next.clear();
            waiting.fetch_add(1, Ordering::Relaxed);
            hand.pass(std::mem::replace(batch, next))
        };
        let error = loop {
            // Every line read so far went to `steps` (the trial) or into a batch.
            let line_no = lines.stats().lines + 1;
            let read = if gate_at(Gate::From(from), line_no, signals, false).is_some() {
                lines
                    .next_block()
                    .map(|block| block.map(|block| batch.push(block)))
            } else {
                lines
                    .next_line()
                    .map(|line| line.map(|line| batch.push_ungated(line)))
            };
            match read {
                Ok(Some(())) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
            if batch.bytes.len() >= BATCH_BYTES && !send(&mut batch) {
                break None;
            }
        };
        send(&mut batch);
        (lines.stats(), error)
    };
    let mut found = Vec::new();
    let done = in_two(read, |batch: &mut RawBatch| {
        waiting.fetch_sub(1, Ordering::Relaxed);
        SCRATCH.with_borrow_mut(|scratch| batch.gate(signals.gate(), scratch, &mut found));
        // Not counted as gated: this loop does not turn the gate off, since the work
        // it would save runs on the other thread.
        steps.block(&batch.bytes, None, &batch.hot, false, state);
    });
    steps.finish(state);
    done
}

/// The two ends of the hand-over between [`in_two`]'s threads, as the reading one sees
/// them: full batches go, emptied ones come back for reuse.
pub(super) struct Handoff<B> {
    pub(super) full: std::sync::mpsc::SyncSender<B>,
    pub(super) empty: std::sync::mpsc::Receiver<B>,
}

impl<B: Default> Handoff<B> {
    /// A batch given back by the working thread, or a new one.
    pub(super) fn spare(&self) -> B {
        self.empty.try_recv().unwrap_or_default()
    }

    /// Hands a full batch over; `false` when the working thread is gone.
    pub(super) fn pass(&self, batch: B) -> bool {
        self.full.send(batch).is_ok()
    }
}

/// Runs `read` on a second thread and `work` on each batch it hands over, here, in order,
/// with at most [`BATCHES_IN_FLIGHT`] batches between them (memory stays bounded).
pub(super) fn in_two<B: Default + Send>(
    read: impl FnOnce(&Handoff<B>) -> (crate::input::line::LineStats, Option<io::Error>) + Send,
    mut work: impl FnMut(&mut B),
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let (full, full_rx) = std::sync::mpsc::sync_channel::<B>(BATCHES_IN_FLIGHT);
    let (empty_tx, empty) = std::sync::mpsc::channel::<B>();
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || read(&Handoff { full, empty }));
        for mut batch in full_rx {
            work(&mut batch);
            // The reading thread may be gone already; the batch is then dropped.
            let _ = empty_tx.send(batch);
        }
        match reading.join() {
            Ok(done) => done,
            Err(_) => (
                crate::input::line::LineStats::default(),
                Some(io::Error::other("the reading thread stopped unexpectedly")),
            ),
        }
    })
}

/// Repaired lines passed from the reading thread to the matching one, in one buffer,
/// with the prefilter's candidates for each.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) text: String,
    /// Each line's number, and where its text ends in `text` (it starts where the line
    /// before's ends).
    pub(super) numbers: Vec<u64>,
    pub(super) ends: Vec<usize>,
    /// Whether the candidates were found yet (see `read_in_two`).
    pub(super) found: bool,
    pub(super) candidates: Vec<usize>,
    /// Where each line's candidates end in `candidates`.
    pub(super) candidate_ends: Vec<usize>,
}

impl Batch {
    /// Moves repaired lines into the batch, their buffers back to the repairer.
    pub(super) fn take(&mut self, repaired: &mut Vec<RepairedLine>, repairer: &mut Repairer) {
        for line in repaired.drain(..) {
            self.text.push_str(&line.text);
            self.numbers.push(line.line);
            self.ends.push(self.text.len());
            repairer.recycle(line.text);
        }
    }

    pub(super) fn find_candidates(&mut self, signals: &SignalSet) {
        let first = self.numbers.first().copied().unwrap_or(1);
        signals.candidates_of_lines(
            first,
            &self.text,
            &self.ends,
            &mut self.candidates,
            &mut self.candidate_ends,
        );
        self.found = true;
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        // A batch that carried a long line does not keep its memory.
        self.text.shrink_to(BATCH_BYTES);
        self.numbers.clear();
        self.ends.clear();
        self.found = false;
        self.candidates.clear();
        self.candidate_ends.clear();
    }
}

/// Which thread of a two-thread loop does the part of the work either can do: the
/// prefilter's candidates (`read_in_two`) or the gate (`read_gated_in_two`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Balance {
    /// The reading thread while batches wait for the working one, else the working one.
    Adaptive,
    /// Always the reading thread (`true`) or always the matching one (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(bool),
}

impl Balance {
    /// Whether the reading thread does the shareable work on the batch it starts, given
    /// whether the working thread is `behind` (has batches waiting).
    pub(super) fn on_reader(self, behind: bool) -> bool {
        match self {
            Balance::Adaptive => behind,
            Balance::Fixed(on_reader) => on_reader,
        }
    }
}

/// Files smaller than this are read on one thread: starting the second costs more than it
/// saves (a folder of 5,000 small logs took 3x as long on two threads per file).
pub(super) const TWO_THREADS_FROM: u64 = 1 << 20;

/// Lines per batch: enough to make a hand-over cheap beside the work on them.
pub(super) const BATCH_LINES: usize = 512;
/// Bytes of text per batch, so that long lines cannot make the batches in flight large:
/// a batch is sent once it holds this much (at most one line more, itself capped).
pub(super) const BATCH_BYTES: usize = 256 * 1024;
/// Batches in flight between the threads: bounds the memory the hand-over takes.
pub(super) const BATCHES_IN_FLIGHT: usize = 2;

/// Reads a source on two threads: one reads, decodes and repairs lines, the other frames
/// and matches them. Both halves are the single-threaded loop's, in order, so the result
/// is the same (held to it by the unit tests below); memory stays bounded by the batches
/// in flight.
///
/// Which thread finds a line's prefilter candidates (a quarter of the work) is decided
/// per batch: the reading thread does it while the matching thread has batches waiting,
/// so that neither waits for the other. The candidates are the same either way.
#[cfg(test)]
pub(super) fn read_in_two<R: io::BufRead + Send>(
    reader: R,
    state: &mut RunState<'_>,
    runs: Runs,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let lines = LineReader::new(reader);
    read_in_two_from(
        lines,
        LineSteps::new(Some(runs), false),
        state,
        runs,
        balance,
    )
}

/// `read_in_two` from where `lines` and `steps` are (after a trial on one thread): the
/// repairer goes to the reading thread, the framer stays.
pub(super) fn read_in_two_from<R: io::BufRead + Send>(
    mut lines: LineReader<R>,
    steps: LineSteps,
    state: &mut RunState<'_>,
    runs: Runs,
    balance: Balance,
) -> (crate::input::line::LineStats, Option<io::Error>) {
    let signals = &state.run.rules.signals;
    let waiting = std::sync::atomic::AtomicUsize::new(0);
    let waiting = &waiting;
    let LineSteps {
        mut framer,
        mut repairer,
        mut repaired,
        line_no,
        ..
    } = steps;
    let read = move |hand: &Handoff<Batch>| {
        let mut batch = Batch::default();
        let mut line_no = line_no;
        let send = |batch: &mut Batch| -> bool {
            let mut full = std::mem::replace(batch, hand.spare());
            batch.clear();
            let behind = waiting.fetch_add(1, Ordering::Relaxed) >= 1;
            if balance.on_reader(behind) {
                full.find_candidates(signals);
            }
            hand.pass(full)
        };
        let error = loop {
            match lines.next_line() {
                Ok(Some(bytes)) => {
                    line_no += 1;
                    repairer.push(line_no, &line_text(bytes), &mut repaired);
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
            batch.take(&mut repaired, &mut repairer);
            let full = batch.numbers.len() >= BATCH_LINES || batch.text.len() >= BATCH_BYTES;
            if full && !send(&mut batch) {
                break None;
            }
        };
        repairer.finish(&mut repaired);
        batch.take(&mut repaired, &mut repairer);
        send(&mut batch);
        (lines.stats(), error)
    };
    in_two(read, |batch: &mut Batch| {
        waiting.fetch_sub(1, Ordering::Relaxed);
        if !batch.found {
            batch.find_candidates(signals);
        }
        let (mut text_start, mut candidates_start) = (0, 0);
        for (i, &line) in batch.numbers.iter().enumerate() {
            let (text_end, candidates_end) = (batch.ends[i], batch.candidate_ends[i]);
            let text = &batch.text[text_start..text_end];
            let candidates = &batch.candidates[candidates_start..candidates_end];
            let runs = (Some(runs), LateBlock::default());
            take_line(&mut framer, state, (line, text), runs, Some(candidates));
            (text_start, candidates_start) = (text_end, candidates_end);
        }
    })
}
