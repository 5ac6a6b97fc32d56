//! Sources: stdin and files, opened as buffered byte streams; gzip (also multi-member)
//! is detected by its magic bytes, whatever the file is called, and read decompressed;
//! text with a byte order mark (UTF-16 from Windows) is transcoded ([`crate::input::decode`]).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::input::decode::{self, GzipMembers, Prefixed};

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

/// The compressed or archive format a text starts with, when magediag cannot read it:
/// read as text, it would be diagnosed as a log that holds nothing wrong.
fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 6] = [
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
        (b"BZh", "bzip2"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (b"PK\x03\x04", "zip"),
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
    ];
    let bzip2_level = |h: &[u8]| h.len() > 3 && (b'1'..=b'9').contains(&h[3]);
    MAGIC
        .iter()
        .find(|(magic, name)| head.starts_with(magic) && (*name != "bzip2" || bzip2_level(head)))
        .map(|&(_, name)| name)
}

impl Source {
    /// Standard input.
    pub fn stdin() -> io::Result<Source> {
        Source::from_reader("<stdin>".into(), io::stdin())
    }

    /// A file on disk.
    pub fn open(path: &Path) -> io::Result<Source> {
        let file = File::open(path)?;
        let size = file.metadata().ok().map(|meta| meta.len());
        // A small file gets a buffer its size: each buffer is zeroed when first filled,
        // which over a folder of small files cost more than reading them.
        let buffer = size.map_or(BUFFER, |size| {
            usize::try_from(size.saturating_add(1))
                .map_or(BUFFER, |size| size.clamp(LEAST_BUFFER, BUFFER))
        });
        let mut source = Source::with_buffer(path.display().to_string(), file, buffer)?;
        source.size = size;
        Ok(source)
    }

    /// A file a folder scan found: opened without blocking (a file swapped for a FIFO
    /// since the walk cannot hang the scan) and, unless `follow`, without following a
    /// final symlink (one swapped in cannot lead out of the tree); the opened handle must
    /// be a regular file.
    pub fn open_found(path: &Path, follow: bool) -> io::Result<Source> {
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
        let size = Some(meta.len());
        let buffer = usize::try_from(meta.len().saturating_add(1))
            .map_or(BUFFER, |size| size.clamp(LEAST_BUFFER, BUFFER));
        let mut source = Source::with_buffer(path.display().to_string(), file, buffer)?;
        source.size = size;
        Ok(source)
    }

    /// Any reader; gzip is recognised by its first two bytes, a BOM by its first two or
    /// three (read in full first, however short the first reads are).
    pub fn from_reader(name: String, reader: impl Read + Send + 'static) -> io::Result<Source> {
        Source::with_buffer(name, reader, BUFFER)
    }

    /// [`Source::from_reader`] with a read buffer of `buffer` bytes (the text of a
    /// compressed source gets the full [`BUFFER`]).
    fn with_buffer(
        name: String,
        reader: impl Read + Send + 'static,
        buffer: usize,
    ) -> io::Result<Source> {
        let raw = Prefixed::peek(reader, 6);
        if let Some(format) = unsupported_compression(raw.head()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("unsupported compression ({format}): decompress it first"),
            ));
        }
        let compressed = raw.head().starts_with(&[0x1f, 0x8b]);
        let reader = if compressed {
            let gzip = GzipMembers::new(BufReader::with_capacity(buffer, raw));
            decode::unicode(Prefixed::peek(gzip, 3), BUFFER)
        } else {
            decode::unicode(raw, buffer)
        };
        Ok(Source {
            name,
            reader,
            compressed,
            size: None,
            among_others: false,
        })
    }
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
