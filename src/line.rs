//! Byte lines from any reader: CRLF stripped, length capped, NUL bytes noticed.
//!
//! The reader never holds more than [`LINE_CAP`] bytes of one line, so a 200 MB
//! line without a newline costs bounded memory: the rest of such a line is skipped
//! and counted, and the next line is read as usual.

use std::io::{self, BufRead};

use crate::gate::{Heat, LineGate};

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

/// Reads byte lines one at a time: borrowed from the reader's buffer when the whole line
/// is in it (the usual case, no copy), else gathered into a reused buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of the line last returned from the reader's buffer, consumed on the next call.
    pending: usize,
    stats: LineStats,
    /// How far into the reader's buffer the gate has searched (from the buffer's start).
    searched: usize,
    /// Where the hot lines of the searched part start, from where the buffer started
    /// when it was searched; `consumed` bytes of it were read since, and the next hot
    /// line is `hot[next_hot]`.
    hot: Vec<(usize, Heat)>,
    next_hot: usize,
    consumed: usize,
    /// Scratch for the gate (a lowercased copy).
    lower: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(256),
            pending: 0,
            stats: LineStats::default(),
            searched: 0,
            hot: Vec::new(),
            next_hot: 0,
            consumed: 0,
            lower: Vec::new(),
        }
    }

    /// What was seen so far.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Reads the next line without its terminator (`\n` or `\r\n`); `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        Ok(self.next_gated(None)?.map(|(line, _)| line))
    }

    /// Reads the next line and tells its [`Heat`] as `gate` finds it (always hot without
    /// a gate).
    ///
    /// The gate judges the reader's whole buffer of complete lines at once, when the
    /// first of them is read, so that quiet lines cost no search of their own. A line
    /// gathered across buffers is judged on its own.
    pub fn next_gated(&mut self, gate: Option<&LineGate>) -> io::Result<Option<(&[u8], Heat)>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.searched = self.searched.saturating_sub(self.pending);
            self.consumed += self.pending;
            self.pending = 0;
        }
        let available = loop {
            match self.inner.fill_buf() {
                Ok(chunk) => break chunk.len(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if available == 0 {
            // The end: another `fill_buf` would read again, and may be interrupted.
            return Ok(None);
        }
        // The fast path: the whole line is in the reader's buffer; borrow it.
        let whole = memchr::memchr(b'\n', self.inner.fill_buf()?).filter(|&end| end <= LINE_CAP);
        if let Some(end) = whole {
            // A second `fill_buf` only hands back the same buffer (no read).
            let chunk = self.inner.fill_buf()?;
            self.pending = end + 1;
            let hot = match gate {
                Some(gate) => {
                    if self.searched == 0 {
                        // Complete lines only: a literal cut at the buffer's end is not seen.
                        let complete = memchr::memrchr(b'\n', chunk).map_or(end + 1, |i| i + 1);
                        self.searched = complete;
                        self.hot.clear();
                        gate.hot_lines(&chunk[..complete], &mut self.lower, &mut self.hot);
                        self.next_hot = 0;
                        self.consumed = 0;
                    }
                    // Hot lines are where they started when the buffer was searched.
                    while self
                        .hot
                        .get(self.next_hot)
                        .is_some_and(|&(at, _)| at < self.consumed)
                    {
                        self.next_hot += 1;
                    }
                    match self.hot.get(self.next_hot) {
                        Some(&(at, heat)) if at == self.consumed => {
                            self.next_hot += 1;
                            heat
                        }
                        _ => Heat::Quiet,
                    }
                }
                None => Heat::Hot,
            };
            let line = &chunk[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.stats.lines += 1;
            if memchr::memchr(0, line).is_some() {
                self.stats.binary_lines += 1;
            }
            return Ok(Some((line, hot)));
        }
        // The line is gathered across reads: whatever was searched is consumed below.
        self.searched = 0;
        self.buf.clear();
        let mut saw_any = false;
        let mut cut = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
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
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.stats.lines += 1;
        self.stats.truncated += u64::from(cut);
        if memchr::memchr(0, &self.buf).is_some() {
            self.stats.binary_lines += 1;
        }
        let hot = gate.map_or(Heat::Hot, |gate| gate.heat(&self.buf, &mut self.lower));
        Ok(Some((&self.buf, hot)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut reader = LineReader::new(input);
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

    #[test]
    fn counts_lines_with_nul_bytes() {
        let mut reader = LineReader::new(&b"ok\nbi\0nary\nok\n"[..]);
        while reader.next_line().unwrap().is_some() {}
        assert_eq!(reader.stats().binary_lines, 1);
        assert_eq!(reader.stats().lines, 3);
    }
}
