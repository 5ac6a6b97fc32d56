//! Archives: the members of a tar stream (plain or compressed) and of a zip file, each
//! read as a log of its own, named `ARCHIVE:MEMBER` (`logs.zip:var/log/cloud.log`), with
//! its own line numbers. Only regular files are members; directories, links and
//! devices are passed over. Nothing is written to disk.
//!
//! A tar stream is read once, in order: a member's reader reads from the archive's
//! stream, and the next member starts where it ends (what it left unread is skipped).
//! A zip file is read by its central directory; each member reads its own range of the
//! file. The decompression cap applies to a compressed tar stream as a whole, and to
//! the members of a zip file together.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use crate::input::decode::{Capped, Compression, max_decompressed};
use crate::input::source::Source;

/// The size of a tar header and of the blocks a member's data is padded to.
pub const TAR_BLOCK: usize = 512;

/// The most bytes of a GNU long name or a pax header read.
const TAR_META_MAX: u64 = 1 << 20;

/// A member that could not be read, named as its source would be.
#[derive(Debug)]
pub struct MemberError {
    pub name: String,
    pub error: io::Error,
}

/// An archive: its members, one source each, in the archive's order.
pub struct Archive {
    /// The archive's own name, as given.
    pub name: String,
    members: Members,
}

enum Members {
    Tar(TarMembers),
    Zip(ZipMembers),
}

impl Archive {
    /// `tar` or `zip`.
    pub fn kind(&self) -> &'static str {
        match self.members {
            Members::Tar(_) => "tar",
            Members::Zip(_) => "zip",
        }
    }

    /// Whether the members' text comes out of compressed data as a whole (a `.tar.gz`).
    pub fn compressed(&self) -> bool {
        match &self.members {
            Members::Tar(tar) => tar.compressed,
            Members::Zip(_) => false,
        }
    }
}

impl Iterator for Archive {
    type Item = Result<Source, MemberError>;

    /// The next member; an error that leaves the rest of the archive unreadable ends it.
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.members {
            Members::Tar(tar) => tar.next_member(&self.name),
            Members::Zip(zip) => zip.next_member(&self.name),
        }
    }
}

/// The name a member's source is reported under.
fn member_name(archive: &str, member: &str) -> String {
    format!("{archive}:{member}")
}

// --- tar ---------------------------------------------------------------------------

/// Whether `head` (a stream's first 512 bytes) is a POSIX or GNU tar header: the
/// `ustar` magic and a checksum that adds up.
pub fn is_tar(head: &[u8]) -> bool {
    head.len() >= TAR_BLOCK && head[257..262] == *b"ustar" && checksum_holds(&head[..TAR_BLOCK])
}

/// Whether a header's checksum field holds the sum of its bytes (the field counted as
/// spaces).
fn checksum_holds(header: &[u8]) -> bool {
    let Some(stored) = octal(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    stored == sum
}

/// An octal number field, NUL- or space-terminated; `None` when it is not one.
fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A size field: octal, or GNU's base-256 for sizes of 8 GiB and more.
fn size_field(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut size: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            size = size.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(size);
    }
    octal(field)
}

/// A NUL-terminated name field, lossily.
fn name_field(field: &[u8]) -> String {
    let end = memchr::memchr(0, field).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The tar stream, shared by the archive and the reader of its current member.
struct TarStream {
    inner: Box<dyn Read + Send>,
    /// Which member is being read (its reader reads only while it is the current one).
    member: u64,
    /// Bytes of the current member's data not read yet, then its padding.
    left: u64,
    padding: u64,
}

impl TarStream {
    /// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end before the first.
    fn read_block(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err(cut_short()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Skips `n` bytes.
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let skipped = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        if skipped < n {
            return Err(cut_short());
        }
        Ok(())
    }

    /// Reads a member's data whole, up to [`TAR_META_MAX`] (a long name, a pax header).
    fn read_meta(&mut self, size: u64) -> io::Result<Vec<u8>> {
        if size > TAR_META_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a tar name or pax header over 1 MiB",
            ));
        }
        let mut data = vec![0; usize::try_from(size).unwrap_or(0)];
        if !self.read_block(&mut data)? && size > 0 {
            return Err(cut_short());
        }
        self.skip(padding(size))?;
        Ok(data)
    }
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "tar archive cut short")
}

/// The padding after `size` bytes of member data.
fn padding(size: u64) -> u64 {
    (TAR_BLOCK as u64 - size % TAR_BLOCK as u64) % TAR_BLOCK as u64
}

struct TarMembers {
    stream: Arc<Mutex<TarStream>>,
    compressed: bool,
    done: bool,
}

/// A tar archive read from `text` (the stream's decompressed bytes, its head read ahead).
pub fn tar(
    name: String,
    text: impl Read + Send + 'static,
    compression: Option<Compression>,
) -> Archive {
    let stream = TarStream {
        inner: Box::new(text),
        member: 0,
        left: 0,
        padding: 0,
    };
    Archive {
        name,
        members: Members::Tar(TarMembers {
            stream: Arc::new(Mutex::new(stream)),
            compressed: compression.is_some(),
            done: false,
        }),
    }
}

impl TarMembers {
    fn next_member(&mut self, archive: &str) -> Option<Result<Source, MemberError>> {
        if self.done {
            return None;
        }
        let found = self.next_file();
        let (member, name) = match found {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(error) => {
                self.done = true;
                let name = archive.to_owned();
                return Some(Err(MemberError { name, error }));
            }
        };
        let name = member_name(archive, &name);
        let reader = TarMember {
            stream: Arc::clone(&self.stream),
            member,
        };
        Some(Source::from_reader(name.clone(), reader).map_err(|error| MemberError { name, error }))
    }

    /// Moves to the next regular file: its number and name; `None` at the end.
    fn next_file(&mut self) -> io::Result<Option<(u64, String)>> {
        let mut stream = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        let rest = stream.left + stream.padding;
        stream.skip(rest)?;
        stream.left = 0;
        stream.padding = 0;
        let mut long_name: Option<String> = None;
        let mut header = [0u8; TAR_BLOCK];
        loop {
            if !stream.read_block(&mut header)? || header.iter().all(|&b| b == 0) {
                // The end: a zero block (two end an archive; what follows is padding).
                return Ok(None);
            }
            if !checksum_holds(&header) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "corrupt tar header (bad checksum); the rest was not read",
                ));
            }
            let size = size_field(&header[124..136]).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "corrupt tar header (bad size)")
            })?;
            match header[156] {
                b'0' | 0 | b'7' => {
                    let name = long_name.take().unwrap_or_else(|| ustar_name(&header));
                    stream.member += 1;
                    stream.left = size;
                    stream.padding = padding(size);
                    return Ok(Some((stream.member, name)));
                }
                b'L' => {
                    let data = stream.read_meta(size)?;
                    long_name = Some(name_field(&data));
                }
                b'x' => {
                    let data = stream.read_meta(size)?;
                    if let Some(path) = pax_path(&data) {
                        long_name = Some(path);
                    }
                }
                // Directories, links, devices, global pax headers: no log.
                _ => {
                    stream.skip(size + padding(size))?;
                    long_name = None;
                }
            }
        }
    }
}

/// A ustar header's name: its prefix field, `/`, its name field.
fn ustar_name(header: &[u8]) -> String {
    let name = name_field(&header[0..100]);
    let prefix = name_field(&header[345..500]);
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// The `path` record of a pax extended header (`LEN path=VALUE\n` records).
fn pax_path(data: &[u8]) -> Option<String> {
    let mut rest = data;
    while !rest.is_empty() {
        let space = memchr::memchr(b' ', rest)?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        let record = rest.get(space + 1..len)?;
        if let Some(value) = record.strip_prefix(b"path=") {
            let value = value.strip_suffix(b"\n").unwrap_or(value);
            return Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = &rest[len..];
    }
    None
}

/// The data of one tar member, read from the archive's stream.
struct TarMember {
    stream: Arc<Mutex<TarStream>>,
    member: u64,
}

impl Read for TarMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut stream = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        if stream.member != self.member || stream.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(stream.left).unwrap_or(usize::MAX));
        let n = stream.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(cut_short());
        }
        stream.left -= n as u64;
        Ok(n)
    }
}

// --- zip ---------------------------------------------------------------------------

struct ZipMembers {
    file: Arc<File>,
    archive: zip::ZipArchive<FileRange>,
    next: usize,
    /// What the members decompressed so far, together (the cap is on all of them).
    decompressed: Arc<AtomicU64>,
}

/// A zip archive read from `file` by its central directory.
pub fn zip(name: String, file: File) -> io::Result<Archive> {
    let file = Arc::new(file);
    let len = file.metadata()?.len();
    let archive = zip::ZipArchive::new(FileRange::new(Arc::clone(&file), 0, len)).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt zip archive: {e}"),
        )
    })?;
    Ok(Archive {
        name,
        members: Members::Zip(ZipMembers {
            file,
            archive,
            next: 0,
            decompressed: Arc::default(),
        }),
    })
}

impl ZipMembers {
    fn next_member(&mut self, archive: &str) -> Option<Result<Source, MemberError>> {
        while self.next < self.archive.len() {
            let index = self.next;
            self.next += 1;
            match self.member(archive, index) {
                Ok(None) => continue,
                Ok(Some(source)) => return Some(Ok(source)),
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }

    /// The source of member `index`; `None` when it is no regular file.
    fn member(&mut self, archive: &str, index: usize) -> Result<Option<Source>, MemberError> {
        let failed = |name: String, error: io::Error| MemberError { name, error };
        let entry = match self.archive.by_index_raw(index) {
            Ok(entry) => entry,
            Err(e) => {
                let error = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
                return Err(failed(format!("{archive}:#{}", index + 1), error));
            }
        };
        if !entry.is_file() {
            return Ok(None);
        }
        let member = entry.name().map_or_else(
            |_| String::from_utf8_lossy(entry.name_raw()).into_owned(),
            |n| n.into_owned(),
        );
        let name = member_name(archive, &member);
        let unsupported = |why: String| io::Error::new(io::ErrorKind::Unsupported, why);
        if entry.encrypted() {
            return Err(failed(name, unsupported("encrypted; not read".into())));
        }
        let Some(start) = entry.data_start() else {
            let error = io::Error::new(io::ErrorKind::InvalidData, "corrupt zip entry");
            return Err(failed(name, error));
        };
        let range = FileRange::new(Arc::clone(&self.file), start, entry.compressed_size());
        let method = entry.compression();
        let data: Box<dyn Read + Send> = match method {
            zip::CompressionMethod::Stored => Box::new(range),
            m if m == zip::CompressionMethod::DEFLATE => Box::new(Capped::sharing(
                flate2::read::DeflateDecoder::new(range),
                "zip",
                max_decompressed(),
                Arc::clone(&self.decompressed),
            )),
            other => {
                let why = format!("compression method {other} is not supported; not read");
                return Err(failed(name, unsupported(why)));
            }
        };
        let mut source = Source::from_reader(name.clone(), data).map_err(|e| failed(name, e))?;
        source.compressed |= method != zip::CompressionMethod::Stored;
        Ok(Some(source))
    }
}

/// Reads `len` bytes of a file from `start`, at its own offset (readers of one file do
/// not move each other's).
struct FileRange {
    file: Arc<File>,
    start: u64,
    len: u64,
    at: u64,
}

impl FileRange {
    fn new(file: Arc<File>, start: u64, len: u64) -> Self {
        FileRange {
            file,
            start,
            len,
            at: 0,
        }
    }
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.at);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.file, &mut buf[..want], self.start + self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl io::Seek for FileRange {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let at = match to {
            io::SeekFrom::Start(n) => Some(n),
            io::SeekFrom::End(n) => self.len.checked_add_signed(n),
            io::SeekFrom::Current(n) => self.at.checked_add_signed(n),
        };
        let at =
            at.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.at = at;
        Ok(at)
    }
}

/// Reads from `file` at `offset`, leaving its own offset alone.
#[cfg(unix)]
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// Reads from `file` at `offset`.
#[cfg(windows)]
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A ustar header for a member of `size` bytes, of type `kind`.
    fn header(name: &str, size: usize, kind: u8) -> Vec<u8> {
        let mut h = vec![0u8; TAR_BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn entry(name: &str, kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = header(name, data.len(), kind);
        out.extend(data);
        out.resize(out.len() + padding(data.len() as u64) as usize, 0);
        out
    }

    /// The members of a tar stream as (name, text or error).
    fn members(data: Vec<u8>) -> Vec<(String, Result<String, String>)> {
        assert!(is_tar(&data));
        tar("t.tar".into(), io::Cursor::new(data), None)
            .map(|m| match m {
                Ok(mut source) => {
                    let mut text = String::new();
                    let read = source.reader.read_to_string(&mut text);
                    (source.name, read.map(|_| text).map_err(|e| e.to_string()))
                }
                Err(e) => (e.name, Err(e.error.to_string())),
            })
            .collect()
    }

    #[test]
    fn a_pax_path_names_the_next_member_and_other_entries_are_passed_over() {
        let pax = b"29 path=deep/dir/cloud.log.1\n";
        let mut data = entry("dir/", b'5', b"");
        data.extend(entry("PaxHeaders/x", b'x', pax));
        data.extend(entry("short", b'0', b"one\n"));
        data.extend(entry("link", b'2', b""));
        data.extend(entry("b.log", b'0', b"two\n"));
        data.extend([0u8; 1024]);
        assert_eq!(
            members(data),
            [
                (
                    "t.tar:deep/dir/cloud.log.1".to_owned(),
                    Ok("one\n".to_owned())
                ),
                ("t.tar:b.log".to_owned(), Ok("two\n".to_owned())),
            ]
        );
    }

    /// A member read only in part is skipped to its end: the next one starts right.
    #[test]
    fn a_member_left_unread_is_skipped() {
        let mut data = entry("a.log", b'0', &b"x\n".repeat(2000));
        data.extend(entry("b.log", b'0', b"two\n"));
        let mut archive = tar("t.tar".into(), io::Cursor::new(data), None);
        let mut first = archive.next().unwrap().unwrap();
        let mut two = [0u8; 2];
        first.reader.read_exact(&mut two).unwrap();
        let mut second = archive.next().unwrap().unwrap();
        let mut text = String::new();
        second.reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "two\n");
        // The first member's reader reads none of the next member's bytes.
        let mut rest = String::new();
        first.reader.read_to_string(&mut rest).unwrap();
        assert!(rest.len() < 4000 && !rest.contains("two"), "{rest:?}");
        assert!(archive.next().is_none());
    }

    #[test]
    fn a_cut_archive_and_a_bad_header_are_errors_after_what_was_read() {
        let mut data = entry("a.log", b'0', b"one\n");
        let whole = entry("b.log", b'0', &b"y".repeat(600));
        data.extend(&whole[..700]);
        let got = members(data);
        assert_eq!(got[0].1, Ok("one\n".to_owned()));
        assert!(
            got[1].1.as_ref().is_err_and(|e| e.contains("cut short")),
            "{got:?}"
        );
        let mut data = entry("a.log", b'0', b"one\n");
        let mut bad = header("b.log", 4, b'0');
        bad[0] = b'c';
        data.extend(bad);
        let got = members(data);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[1].1.as_ref().is_err_and(|e| e.contains("bad checksum")),
            "{got:?}"
        );
    }

    #[test]
    fn text_is_no_tar() {
        let mut text = b"[2024-01-01] INFO: ".repeat(40);
        text[257..262].copy_from_slice(b"ustar");
        assert!(!is_tar(&text), "the checksum must hold too");
        assert!(!is_tar(b"short"));
    }
}
