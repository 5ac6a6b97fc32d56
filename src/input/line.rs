//! Byte lines from any reader: CRLF stripped, length capped, NUL bytes noticed.
//!
//! The reader never holds more than [`LINE_CAP`] bytes of one line, so a 200 MB
//! line without a newline costs bounded memory: the rest of such a line is skipped
//! and counted, and the next line is read as usual.

use std::io::{self, BufRead};

/// The most bytes of one line kept for matching; the rest of a longer line is skipped.
pub const LINE_CAP: usize = 1 << 20;

/// What the reader noticed about its input, for the report's footer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LineStats {
    /// Physical lines read.
    pub lines: u64,
    /// Lines longer than [`LINE_CAP`], cut at the cap.
    pub truncated: u64,
    /// Lines that held at least one NUL byte (binary data in a text log).
    pub binary_lines: u64,
}

/// Reads byte lines one at a time, or a buffer of them at once: borrowed from the
/// reader's buffer when whole lines are in it (the usual case, no copy), else one line
/// gathered into a reused buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes last returned from the reader's buffer, consumed on the next call.
    pending: usize,
    stats: LineStats,
    /// Whether [`LineReader::next_block`] counts the lines of a block (see
    /// [`LineReader::leave_blocks_uncounted`]).
    count_blocks: bool,
    /// In an input without `\n` whose text holds `\r` (old Mac line ends), where the
    /// next CR-separated line starts in `buf`, which holds the whole input.
    split: Option<usize>,
}

/// A piece of input, as [`LineReader::next_block`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block<'a> {
    /// Whole lines, each ended by `\n` (a `\r` before it is in the bytes but not part of
    /// the line), none longer than [`LINE_CAP`].
    Lines(&'a [u8]),
    /// One line without its terminator: gathered across reads (cut at [`LINE_CAP`]), or
    /// the last line of the input when it has no `\n`.
    Line(&'a [u8]),
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(256),
            pending: 0,
            stats: LineStats::default(),
            count_blocks: true,
            split: None,
        }
    }

    /// Leaves the lines of the blocks [`LineReader::next_block`] gives uncounted (a pass
    /// over their bytes): the caller counts every line it takes, and says how many at the
    /// end ([`LineReader::set_lines`]).
    pub fn leave_blocks_uncounted(&mut self) {
        self.count_blocks = false;
    }

    /// Sets how many lines were read, as the caller counted them (see
    /// [`LineReader::leave_blocks_uncounted`]).
    pub fn set_lines(&mut self, lines: u64) {
        self.stats.lines = lines;
    }

    /// What was seen so far.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Consumes what the last call returned and fills the reader's buffer: its length, 0
    /// at the end.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        loop {
            match self.inner.fill_buf() {
                Ok(chunk) => return Ok(chunk.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next line without its terminator (`\n` or `\r\n`); `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        if self.split.is_some() {
            return Ok(self.take_split());
        }
        if self.fill()? == 0 {
            // The end: another `fill_buf` would read again, and may be interrupted.
            return Ok(None);
        }
        // The fast path: the whole line is in the reader's buffer; borrow it. A second
        // `fill_buf` only hands back the same buffer (no read).
        let whole = memchr::memchr(b'\n', self.inner.fill_buf()?).filter(|&end| end <= LINE_CAP);
        if let Some(end) = whole {
            let chunk = self.inner.fill_buf()?;
            self.pending = end + 1;
            let line = &chunk[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.stats.lines += 1;
            if memchr::memchr(0, line).is_some() {
                self.stats.binary_lines += 1;
            }
            return Ok(Some(line));
        }
        self.gather()
    }

    /// Reads every whole line in the reader's buffer at once, or one line when none is
    /// whole there; `None` at the end. The lines are counted as [`LineReader::next_line`]
    /// counts them.
    pub fn next_block(&mut self) -> io::Result<Option<Block<'_>>> {
        if self.split.is_some() {
            return Ok(self.take_split().map(Block::Line));
        }
        if self.fill()? == 0 {
            return Ok(None);
        }
        // No line of the block may be longer than the cap.
        let whole = {
            let chunk = self.inner.fill_buf()?;
            memchr::memrchr(b'\n', &chunk[..chunk.len().min(LINE_CAP + 1)])
        };
        if let Some(last) = whole {
            let block = &self.inner.fill_buf()?[..=last];
            self.pending = block.len();
            if self.count_blocks {
                self.stats.lines += memchr::memchr_iter(b'\n', block).count() as u64;
            }
            if memchr::memchr(0, block).is_some() {
                let binary = block
                    .split(|&b| b == b'\n')
                    .filter(|line| line.contains(&0));
                self.stats.binary_lines += binary.count() as u64;
            }
            return Ok(Some(Block::Lines(block)));
        }
        Ok(self.gather()?.map(Block::Line))
    }

    /// Gathers the next line across reads into the reused buffer, cut at [`LINE_CAP`]
    /// (the rest is skipped); `None` at the end.
    fn gather(&mut self) -> io::Result<Option<&[u8]>> {
        self.buf.clear();
        let mut saw_any = false;
        let mut cut = false;
        let mut end = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                end = true;
                break;
            }
            saw_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, Some(i + 1)),
                None => (chunk.len(), None),
            };
            let room = LINE_CAP.saturating_sub(self.buf.len());
            if take > room {
                cut = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            let consumed = done.unwrap_or(take);
            self.inner.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        // The whole input is one line without `\n`: a lone CR ends its lines.
        if end && self.stats.lines == 0 && memchr::memchr(b'\r', &self.buf).is_some() {
            self.stats.truncated += u64::from(cut);
            self.split = Some(0);
            return Ok(self.take_split());
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.stats.lines += 1;
        self.stats.truncated += u64::from(cut);
        if memchr::memchr(0, &self.buf).is_some() {
            self.stats.binary_lines += 1;
        }
        Ok(Some(&self.buf))
    }
}

impl<R> LineReader<R> {
    /// The next CR-separated line of an input without `\n` (see [`LineReader::split`]).
    fn take_split(&mut self) -> Option<&[u8]> {
        let at = self.split.take()?;
        let rest = self.buf.get(at..)?;
        let end = match memchr::memchr(b'\r', rest) {
            Some(i) => {
                if at + i + 1 < self.buf.len() {
                    self.split = Some(at + i + 1);
                }
                at + i
            }
            None => self.buf.len(),
        };
        let line = &self.buf[at..end];
        self.stats.lines += 1;
        if memchr::memchr(0, line).is_some() {
            self.stats.binary_lines += 1;
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        lines_of(&mut LineReader::new(input))
    }

    fn lines_of<R: BufRead>(reader: &mut LineReader<R>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(line.to_vec());
        }
        out
    }

    #[test]
    fn strips_crlf_and_keeps_last_line_without_newline() {
        assert_eq!(
            lines(b"a\r\nb\nc"),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn caps_a_long_line_and_reads_the_next() {
        let mut input = vec![b'x'; LINE_CAP + 10];
        input.extend_from_slice(b"\nnext\n");
        let mut reader = LineReader::new(io::BufReader::with_capacity(4096, &input[..]));
        assert_eq!(reader.next_line().unwrap().unwrap().len(), LINE_CAP);
        assert_eq!(reader.next_line().unwrap().unwrap(), b"next");
        assert_eq!(reader.stats().truncated, 1);
    }

    /// A reader that is interrupted after its end (as `fill_buf` reads again there).
    struct InterruptedAtEnd(&'static [u8], bool);

    impl io::Read for InterruptedAtEnd {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                self.1 = !self.1;
                if self.1 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                return Ok(0);
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn an_interruption_after_the_end_is_retried() {
        let reader = io::BufReader::new(InterruptedAtEnd(b"a\nb\n", true));
        let mut lines = LineReader::new(reader);
        assert_eq!(lines.next_line().unwrap().unwrap(), b"a");
        assert_eq!(lines.next_line().unwrap().unwrap(), b"b");
        assert!(lines.next_line().unwrap().is_none());
    }

    /// Blocks hold the same lines as `next_line` gives, counted alike: whole lines of the
    /// buffer, a line gathered across reads, one cut at the cap, the unended last.
    #[test]
    fn blocks_hold_the_lines_next_line_gives() {
        let mut input = b"a\r\nb\0c\nd\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', LINE_CAP + 10));
        input.extend_from_slice(b"\nshort\nlast");
        let mut blocks = LineReader::new(io::BufReader::with_capacity(4096, &input[..]));
        let mut got = Vec::new();
        while let Some(block) = blocks.next_block().unwrap() {
            match block {
                Block::Lines(bytes) => {
                    assert_eq!(bytes.last(), Some(&b'\n'));
                    let body = &bytes[..bytes.len() - 1];
                    got.extend(
                        body.split(|&b| b == b'\n')
                            .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec()),
                    );
                }
                Block::Line(line) => got.push(line.to_vec()),
            }
        }
        let mut reader = LineReader::new(io::BufReader::with_capacity(4096, &input[..]));
        assert_eq!(got, lines_of(&mut reader));
        assert_eq!(blocks.stats(), reader.stats());
        assert_eq!(
            blocks.stats(),
            LineStats {
                lines: 6,
                truncated: 1,
                binary_lines: 1
            }
        );
    }

    /// A reader over a buffer larger than the cap gives no block with a longer line.
    #[test]
    fn a_block_holds_no_line_longer_than_the_cap() {
        let mut input = b"one\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', LINE_CAP + 1));
        input.extend_from_slice(b"\ntwo\n");
        let mut blocks = LineReader::new(&input[..]);
        let Some(Block::Lines(first)) = blocks.next_block().unwrap() else {
            panic!("a block of whole lines first");
        };
        assert_eq!(first, b"one\n");
        let Some(Block::Line(long)) = blocks.next_block().unwrap() else {
            panic!("the long line gathered");
        };
        assert_eq!(long.len(), LINE_CAP);
        assert_eq!(blocks.next_block().unwrap(), Some(Block::Lines(b"two\n")));
        assert_eq!(blocks.next_block().unwrap(), None);
        assert_eq!(blocks.stats().truncated, 1);
    }

    #[test]
    fn counts_lines_with_nul_bytes() {
        let mut reader = LineReader::new(&b"ok\nbi\0nary\nok\n"[..]);
        while reader.next_line().unwrap().is_some() {}
        assert_eq!(reader.stats().binary_lines, 1);
        assert_eq!(reader.stats().lines, 3);
    }

    /// Regression: a file with CR line ends and no LF kept only its last CR-separated
    /// segment.
    #[test]
    fn an_input_without_lf_is_split_at_lone_crs() {
        let expected: Vec<Vec<u8>> = vec![
            b"one".to_vec(),
            b"".to_vec(),
            b"two".to_vec(),
            b"three".to_vec(),
        ];
        assert_eq!(lines(b"one\r\rtwo\rthree\r"), expected);
        assert_eq!(lines(b"one\r\rtwo\rthree"), expected);
        let mut reader = LineReader::new(&b"a\rb\rc"[..]);
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_block().unwrap() {
            match block {
                Block::Line(line) => blocks.push(line.to_vec()),
                Block::Lines(lines) => blocks.push(lines.to_vec()),
            }
        }
        assert_eq!(blocks, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(reader.stats().lines, 3);
        // With an LF anywhere, a CR stays inside its line (a progress bar's overwrite).
        assert_eq!(
            lines(b"10%\r100%\ndone"),
            vec![b"10%\r100%".to_vec(), b"done".to_vec()]
        );
    }
}
