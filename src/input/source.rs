//! Sources: stdin and files, opened as buffered byte streams; gzip (also multi-member),
//! xz, bzip2 and zstd are detected by their magic bytes, whatever the file is called, and
//! read decompressed; text with a byte order mark (UTF-16 from Windows) is transcoded
//! ([`crate::input::decode`]). A tar stream (plain or compressed) or a zip file is an
//! [`Archive`] whose members are sources of their own.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::input::archive::{self, Archive};
use crate::input::decode::{self, Compression, Prefixed};

/// Read buffer size: large enough that syscalls do not dominate.
const BUFFER: usize = 256 * 1024;
/// The least read buffer of a file, however small it is.
const LEAST_BUFFER: usize = 8 * 1024;

/// One input stream and the name it is reported under.
pub struct Source {
    /// The path as given, or `<stdin>`.
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    pub compressed: bool,
    /// Its size on disk, when it is a file (how it is read depends on it).
    pub size: Option<u64>,
    /// Whether other sources are read at the same time (a folder): each then gets one
    /// thread, the cores being busy with the others.
    pub among_others: bool,
}

/// What an input holds: one log, or an archive of them.
pub enum Opened {
    Log(Source),
    Archive(Archive),
}

/// The archive or compressed format a stream starts with, when magediag cannot read it:
/// read as text, it would be diagnosed as a log that holds nothing wrong.
fn unsupported_format(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 2] = [
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, name)| name)
}

/// Whether a stream starts as a zip file does (a local file header, or the end of an
/// empty archive).
fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

impl Source {
    /// Standard input.
    pub fn stdin() -> io::Result<Source> {
        Source::from_reader("<stdin>".into(), io::stdin())
    }

    /// A file on disk holding one log (an archive is an error: see [`Source::open_any`]).
    pub fn open(path: &Path) -> io::Result<Source> {
        one_log(Source::open_any(path)?)
    }

    /// A file on disk: a log, or an archive of logs.
    pub fn open_any(path: &Path) -> io::Result<Opened> {
        let file = File::open(path)?;
        let size = file.metadata().ok().map(|meta| meta.len());
        Source::opened_file(path, file, size)
    }

    /// An opened file of `size` bytes: a zip file is read from it by its members, any
    /// other as a stream (a pipe, such as `<(command)`, always).
    fn opened_file(path: &Path, file: File, size: Option<u64>) -> io::Result<Opened> {
        let name = path.display().to_string();
        if file.metadata().is_ok_and(|meta| meta.is_file()) {
            let mut head = [0u8; 4];
            let read = read_at_most(&file, &mut head)?;
            if is_zip(&head[..read]) {
                return Ok(Opened::Archive(archive::zip(name, file)?));
            }
        }
        // A small file gets a buffer its size: each buffer is zeroed when first filled,
        // which over a folder of small files cost more than reading them.
        let buffer = size.map_or(BUFFER, |size| {
            usize::try_from(size.saturating_add(1))
                .map_or(BUFFER, |size| size.clamp(LEAST_BUFFER, BUFFER))
        });
        let mut opened = Source::opened(name, file, buffer)?;
        if let Opened::Log(source) = &mut opened {
            source.size = size;
        }
        Ok(opened)
    }

    /// A file a folder scan found: opened without blocking (a file swapped for a FIFO
    /// since the walk cannot hang the scan) and, unless `follow`, without following a
    /// final symlink (one swapped in cannot lead out of the tree); the opened handle must
    /// be a regular file.
    pub fn open_found(path: &Path, follow: bool) -> io::Result<Opened> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
            options.custom_flags(libc::O_NONBLOCK | nofollow);
        }
        let file = options.open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is no longer a regular file (it changed since the folder was listed); not read",
            ));
        }
        Source::opened_file(path, file, Some(meta.len()))
    }

    /// Any reader holding one log (an archive is an error); its compression is
    /// recognised by its first bytes, a BOM by its first two or three (read in full
    /// first, however short the first reads are).
    pub fn from_reader(name: String, reader: impl Read + Send + 'static) -> io::Result<Source> {
        one_log(Source::opened(name, reader, BUFFER)?)
    }

    /// Any reader: a log, or a tar stream of them ([`Source::from_reader`]).
    pub fn from_reader_any(name: String, reader: impl Read + Send + 'static) -> io::Result<Opened> {
        Source::opened(name, reader, BUFFER)
    }

    /// A stream with a read buffer of `buffer` bytes (the text of a compressed source
    /// gets the full [`BUFFER`]): decompressed, then a tar archive or a log.
    fn opened(
        name: String,
        reader: impl Read + Send + 'static,
        buffer: usize,
    ) -> io::Result<Opened> {
        let raw = Prefixed::peek(reader, 6);
        if is_zip(raw.head()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a zip archive is read from a file, not from a stream: save it and give its path",
            ));
        }
        if let Some(format) = unsupported_format(raw.head()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("unsupported compression ({format}): decompress it first"),
            ));
        }
        let compression = Compression::of(raw.head());
        let text: Box<dyn Read + Send> = match compression {
            Some(format) => format.decoder(BufReader::with_capacity(buffer, raw)),
            None => Box::new(raw),
        };
        let text = Prefixed::peek(text, archive::TAR_BLOCK);
        if archive::is_tar(text.head()) {
            return Ok(Opened::Archive(archive::tar(name, text, compression)));
        }
        let capacity = if compression.is_some() {
            BUFFER
        } else {
            buffer
        };
        Ok(Opened::Log(Source {
            name,
            reader: decode::unicode(text, capacity),
            compressed: compression.is_some(),
            size: None,
            among_others: false,
        }))
    }
}

/// How many leading bytes decide whether a log is binary.
const BINARY_PROBE: usize = 8192;

impl Source {
    /// Whether the source is binary data rather than a log: a NUL byte in its first
    /// 8 KiB (the reader's buffer is filled, nothing is consumed).
    pub fn is_binary(&mut self) -> io::Result<bool> {
        let head = self.reader.fill_buf()?;
        Ok(memchr::memchr(0, &head[..head.len().min(BINARY_PROBE)]).is_some())
    }
}

/// The log an input holds; an archive is an error (for commands that read one log).
fn one_log(opened: Opened) -> io::Result<Source> {
    match opened {
        Opened::Log(source) => Ok(source),
        Opened::Archive(archive) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "is a {} archive: give it to `magediag` or `magediag scan`, which read each member",
                archive.kind()
            ),
        )),
    }
}

/// Reads up to `buf.len()` bytes from the start of `file` without moving its offset.
fn read_at_most(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match archive::read_at(file, &mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::input::decode::tests::gzip;

    #[test]
    fn reads_every_member_of_a_multi_member_gzip() {
        let mut data = gzip(b"first\n");
        data.extend(gzip(b"second\n"));
        let mut source = Source::from_reader("x.gz".into(), io::Cursor::new(data)).unwrap();
        let mut text = String::new();
        source.reader.read_to_string(&mut text).unwrap();
        assert!(source.compressed);
        assert_eq!(text, "first\nsecond\n");
    }

    #[test]
    fn plain_text_stays_plain() {
        let mut source =
            Source::from_reader("x.gz".into(), io::Cursor::new(b"plain\n".to_vec())).unwrap();
        let mut text = String::new();
        source.reader.read_to_string(&mut text).unwrap();
        assert!(!source.compressed);
        assert_eq!(text, "plain\n");
    }

    #[test]
    fn a_truncated_gzip_is_an_error_after_what_it_held() {
        let data = gzip(&b"line of text\n".repeat(1000));
        let cut = data[..data.len() / 2].to_vec();
        let mut source = Source::from_reader("x.gz".into(), io::Cursor::new(cut)).unwrap();
        let mut text = Vec::new();
        let result = source.reader.read_to_end(&mut text);
        assert!(result.is_err());
        assert!(!text.is_empty());
    }
}
