//! Decoding beneath the line reader, for [`crate::input::source`]: the compressed formats
//! known by their magic bytes (gzip, xz, bzip2, zstd), gzip members read one by one (so
//! that bytes after the last member are reported, not dropped or misnamed), the
//! decompression cap (`--max-decompressed` / `MAGEDIAG_MAX_DECOMPRESSED`) for all of
//! them, and text that starts with a byte order mark (UTF-16 LE/BE exported from
//! Windows, or UTF-8), transcoded to UTF-8.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use encoding_rs_io::DecodeReaderBytesBuilder;
use flate2::bufread::GzDecoder;

/// The default decompression cap: 8 GiB of text from one gzip source.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 8 << 30;

/// The environment variable that sets the decompression cap (the option wins).
pub const MAX_DECOMPRESSED_ENV: &str = "MAGEDIAG_MAX_DECOMPRESSED";

static MAX_DECOMPRESSED: AtomicU64 = AtomicU64::new(DEFAULT_MAX_DECOMPRESSED);

/// The most decompressed bytes read from one compressed source.
pub fn max_decompressed() -> u64 {
    MAX_DECOMPRESSED.load(Ordering::Relaxed)
}

/// Sets the decompression cap for every source opened afterwards.
pub fn set_max_decompressed(bytes: u64) {
    MAX_DECOMPRESSED.store(bytes, Ordering::Relaxed);
}

/// Parses a size: bytes, or a number with a `K`, `M`, `G` (binary) suffix, `KiB` etc.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size '{text}': expected a number like 512M or 8G"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("invalid size '{text}': unknown unit '{unit}'")),
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("invalid size '{text}': too large"))
}

/// A size for messages: `8 GiB`, `64 KiB`, `100 bytes`.
pub fn human_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Every gzip member of a stream, one after the other, up to the cap.
///
/// Unlike `MultiGzDecoder`, what follows the last member is checked: zero padding (as
/// tar and some rotators leave) ends the stream quietly, anything else is an error that
/// says so, after the text of every complete member was delivered.
pub struct GzipMembers<R: BufRead> {
    decoder: Option<GzDecoder<R>>,
    members: u64,
}

impl<R: BufRead> GzipMembers<R> {
    /// Starts at the first member.
    pub fn new(inner: R) -> Self {
        GzipMembers {
            decoder: Some(GzDecoder::new(inner)),
            members: 1,
        }
    }

    /// After a member ended: starts the next one, or ends the stream (`false`).
    fn next_member(&mut self) -> io::Result<bool> {
        let Some(decoder) = self.decoder.take() else {
            return Ok(false);
        };
        let mut inner = decoder.into_inner();
        loop {
            let head = match inner.fill_buf() {
                Ok(head) => head,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match head.first() {
                None => return Ok(false),
                Some(0x1f) => {
                    self.members += 1;
                    self.decoder = Some(GzDecoder::new(inner));
                    return Ok(true);
                }
                Some(0) => {
                    // Zero padding after the last member: skip it, as gzip(1) does.
                    let zeros = head.iter().take_while(|&&b| b == 0).count();
                    let all = zeros == head.len();
                    inner.consume(zeros);
                    if !all {
                        return Err(self.garbage());
                    }
                }
                Some(_) => return Err(self.garbage()),
            }
        }
    }

    fn garbage(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "trailing garbage after gzip member {} (not gzip; not read)",
                self.members
            ),
        )
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        self.decoder = None;
        match e.kind() {
            io::ErrorKind::UnexpectedEof => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("gzip data cut short in member {}", self.members),
            ),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt gzip data in member {}: {e}", self.members),
            ),
            _ => e,
        }
    }
}

/// The most bytes asked of the decoder at once. flate2 drops what it decoded in the
/// call that meets corrupt data, so small calls bound that loss to this much text.
const DECODE_CHUNK: usize = 8 << 10;

impl<R: BufRead> GzipMembers<R> {
    /// Reads decompressed bytes, moving on from member to member; no cap.
    fn read_members(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = buf.len().min(DECODE_CHUNK);
        let buf = &mut buf[..chunk];
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = match decoder.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail(e)),
            };
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.next_member() {
                Ok(true) => continue,
                Ok(false) => return Ok(0),
                Err(e) => {
                    self.decoder = None;
                    return Err(e);
                }
            }
        }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_members(buf)
    }
}

/// A compressed format magediag reads, known by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Xz,
    Bzip2,
    Zstd,
}

impl Compression {
    /// The format `head` (a stream's first 6 bytes, or all of a shorter one) starts with.
    pub fn of(head: &[u8]) -> Option<Compression> {
        let bzip2_level = head.len() > 3 && (b'1'..=b'9').contains(&head[3]);
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else if head.starts_with(b"BZh") && bzip2_level {
            Some(Compression::Bzip2)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
        }
    }

    /// The text of `compressed`, up to the cap ([`max_decompressed`] at this moment).
    /// Every stream or member one after the other is read (as `xz -d`, `bzip2 -d` and
    /// `zstd -d` do); corrupt or cut data is an error that names the format, after the
    /// text before it.
    pub fn decoder<R: BufRead + Send + 'static>(self, compressed: R) -> Box<dyn Read + Send> {
        let cap = max_decompressed();
        match self {
            Compression::Gzip => {
                Box::new(Capped::new(GzipMembers::new(compressed), self.name(), cap))
            }
            Compression::Xz => {
                let xz = lzma_rust2::XzReader::new(compressed, true);
                Box::new(Capped::new(Named::new(xz, self), self.name(), cap))
            }
            Compression::Bzip2 => {
                let bzip2 = bzip2::bufread::MultiBzDecoder::new(compressed);
                Box::new(Capped::new(Named::new(bzip2, self), self.name(), cap))
            }
            Compression::Zstd => {
                let zstd = ZstdFrames::new(compressed);
                Box::new(Capped::new(Named::new(zstd, self), self.name(), cap))
            }
        }
    }
}

/// A decoder whose errors name its format: "xz data cut short", "corrupt bzip2 data: …".
/// Nothing is read after the first error.
struct Named<R> {
    inner: Option<R>,
    format: Compression,
}

impl<R: Read> Named<R> {
    fn new(inner: R, format: Compression) -> Self {
        Named {
            inner: Some(inner),
            format,
        }
    }
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(0);
        };
        // Small calls bound what a decoder may drop when it meets corrupt data.
        let chunk = buf.len().min(DECODE_CHUNK);
        loop {
            match inner.read(&mut buf[..chunk]) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.inner = None;
                    let name = self.format.name();
                    return Err(match e.kind() {
                        io::ErrorKind::UnexpectedEof => io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("{name} data cut short"),
                        ),
                        _ => io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("corrupt {name} data: {e}"),
                        ),
                    });
                }
            }
        }
    }
}

/// Every zstd frame of a stream, one after the other (`zstd -d` reads concatenated
/// frames); skippable frames are passed over.
struct ZstdFrames<R: BufRead> {
    source: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> Self {
        ZstdFrames {
            source,
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame: `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let length = u64::from(length);
                    let skipped = io::copy(&mut (&mut self.source).take(length), &mut io::sink())?;
                    if skipped < length {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::BlockDecodingStrategy;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            self.in_frame = false;
        }
    }
}

/// A decompressed stream stopped at the cap: a stream that ends exactly there is fine,
/// one more byte is an error ("… bomb?"). Nothing is read after an error.
pub struct Capped<R> {
    inner: R,
    /// What the text comes out of, for the message: `gzip`, `zip`, ….
    format: &'static str,
    /// The bytes read so far, shared by the members of one archive.
    read: Arc<AtomicU64>,
    cap: u64,
    failed: bool,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, format: &'static str, cap: u64) -> Self {
        Capped::sharing(inner, format, cap, Arc::default())
    }

    /// A reader that counts into `read`, shared with other readers: the cap is on what
    /// they read together (the members of one zip file).
    pub fn sharing(inner: R, format: &'static str, cap: u64, read: Arc<AtomicU64>) -> Self {
        Capped {
            inner,
            format,
            read,
            cap,
            failed: false,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed || buf.is_empty() {
            return Ok(0);
        }
        let read = self.read.load(Ordering::Relaxed);
        if read >= self.cap {
            let mut probe = [0u8; 1];
            let more = self
                .inner
                .read(&mut probe)
                .inspect_err(|_| self.failed = true)?;
            if more == 0 {
                return Ok(0);
            }
            self.failed = true;
            return Err(io::Error::other(format!(
                "decompressed size exceeds the {} cap ({} bomb?); the rest was not read",
                human_size(self.cap),
                self.format
            )));
        }
        let room = usize::try_from(self.cap - read).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self
            .inner
            .read(&mut buf[..want])
            .inspect_err(|_| self.failed = true)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader whose first bytes were read ahead to decide how to decode it, then given
/// back in order. The first read after the head also reads from the inner reader, so a
/// buffer above it sees a full buffer (the binary check looks at the first 8 KiB).
pub struct Prefixed<R> {
    head: Vec<u8>,
    at: usize,
    error: Option<io::Error>,
    inner: R,
}

impl<R: Read> Prefixed<R> {
    /// Reads up to `n` bytes ahead (fewer at the end); an error is kept for its turn.
    pub fn peek(mut inner: R, n: usize) -> Self {
        let mut head = vec![0; n];
        let mut filled = 0;
        let mut error = None;
        while filled < n {
            match inner.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        head.truncate(filled);
        Prefixed {
            head,
            at: 0,
            error,
            inner,
        }
    }

    /// The bytes read ahead.
    pub fn head(&self) -> &[u8] {
        &self.head
    }
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = (self.head.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            if n < buf.len() && self.error.is_none() {
                match self.inner.read(&mut buf[n..]) {
                    Ok(more) => return Ok(n + more),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => self.error = Some(e),
                }
            }
            return Ok(n);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.inner.read(buf)
    }
}

/// Transcodes text that starts with a byte order mark to UTF-8 (the BOM dropped);
/// anything else is passed through untouched.
pub fn unicode<R: Read + Send + 'static>(
    reader: Prefixed<R>,
    capacity: usize,
) -> Box<dyn BufRead + Send> {
    let head = reader.head();
    let bom = head.starts_with(&[0xff, 0xfe])
        || head.starts_with(&[0xfe, 0xff])
        || head.starts_with(&[0xef, 0xbb, 0xbf]);
    if !bom {
        return Box::new(BufReader::with_capacity(capacity, reader));
    }
    let decoder = DecodeReaderBytesBuilder::new()
        .strip_bom(true)
        .build(reader);
    Box::new(BufReader::with_capacity(capacity, decoder))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// Compresses `text` as one gzip member (also used by `source`'s tests).
    pub(crate) fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn decode(data: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut reader = GzipMembers::new(io::Cursor::new(data));
        let mut out = Vec::new();
        let error = reader.read_to_end(&mut out).err();
        (out, error)
    }

    /// Regression: flate2 drops the text of the call that meets corrupt data; with large
    /// reads that was up to 256 KiB of lines before the corruption, never diagnosed.
    #[test]
    fn corrupt_deflate_data_loses_at_most_one_chunk_before_it() {
        let text: Vec<u8> = (0..40_000)
            .flat_map(|i| format!("line {i} of a deploy log {}\n", i * 7919 % 104_729).into_bytes())
            .collect();
        let mut data = gzip(&text);
        let middle = data.len() / 2;
        data[middle] ^= 0x55;
        let mut byte_by_byte = GzipMembers::new(io::Cursor::new(data.clone()));
        let mut most = Vec::new();
        let mut one = [0u8; 1];
        while let Ok(1) = byte_by_byte.read(&mut one) {
            most.push(one[0]);
        }
        let mut big_reads =
            BufReader::with_capacity(256 << 10, GzipMembers::new(io::Cursor::new(data)));
        let mut got = Vec::new();
        assert!(big_reads.read_to_end(&mut got).is_err());
        assert!(
            got.len() + 8 * 1024 >= most.len(),
            "{} of {}",
            got.len(),
            most.len()
        );
        assert_eq!(&text[..got.len()], &got[..]);
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(human_size(8 << 30), "8 GiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }

    #[test]
    fn members_are_read_in_turn_and_zero_padding_is_quiet() {
        let mut data = gzip(b"one\n");
        data.extend(gzip(b"two\n"));
        data.extend([0u8; 512]);
        let (out, error) = decode(data);
        assert_eq!(out, b"one\ntwo\n");
        assert!(error.is_none(), "{error:?}");
    }

    #[test]
    fn trailing_garbage_is_an_error_after_the_text() {
        let mut data = gzip(b"one\n");
        data.extend(b"\0\0garbage");
        let (out, error) = decode(data);
        assert_eq!(out, b"one\n");
        let error = error.unwrap().to_string();
        assert!(
            error.contains("trailing garbage after gzip member 1"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_checksum_is_an_error() {
        let mut data = gzip(b"one\n");
        let at = data.len() - 8;
        data[at] ^= 0xff;
        let (_, error) = decode(data);
        let error = error.unwrap().to_string();
        assert!(error.contains("corrupt gzip data in member 1"), "{error}");
    }

    #[test]
    fn the_cap_stops_with_an_error_but_an_exact_fit_is_fine() {
        let capped = |n: usize| {
            let gzip = GzipMembers::new(io::Cursor::new(gzip(&vec![b'x'; n])));
            Capped::new(gzip, "gzip", 1000)
        };
        let mut out = Vec::new();
        assert!(capped(1000).read_to_end(&mut out).is_ok());
        let mut out = Vec::new();
        let error = capped(1001).read_to_end(&mut out).unwrap_err().to_string();
        assert_eq!(out.len(), 1000);
        assert!(
            error.contains("exceeds the 1000 bytes cap (gzip bomb?)"),
            "{error}"
        );
    }

    #[test]
    fn utf16_with_a_bom_becomes_utf8() {
        let mut data = vec![0xff, 0xfe];
        for unit in "ERROR: x\r\n".encode_utf16() {
            data.extend(unit.to_le_bytes());
        }
        let mut reader = unicode(Prefixed::peek(io::Cursor::new(data), 3), 64);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "ERROR: x\r\n");
    }
}
