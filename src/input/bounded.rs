//! Reading a configuration file (a rule file, `auth.json`, `composer.json`,
//! `.magento.app.yaml`) in bounded time and memory.
//!
//! Such a file can come from an untrusted project folder: a FIFO named `auth.json`
//! would block the read for ever, a link to `/dev/zero` would fill memory. So the
//! file type is checked before the file is opened (and again on the opened handle, in
//! case it was swapped in between), and at most a cap is read.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// The most of a configuration file read: far above any real one.
pub const CONFIG_CAP: u64 = 16 << 20;

/// What kind of file `file_type` is, in words, when it is not a regular file.
fn special_kind(file_type: fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

fn refused(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

/// Reads the regular file at `path` (a link to one is followed) as UTF-8 text of at most
/// `cap` bytes. A FIFO, socket, device or folder is refused without being opened, and a
/// larger file is refused with its size.
pub fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    let meta = fs::metadata(path)?;
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(refused(format!("is {kind}, not a regular file; not read")));
    }
    let too_large = || {
        refused(format!(
            "is larger than {} MiB, the most read of such a file",
            cap >> 20
        ))
    };
    if meta.len() > cap {
        return Err(too_large());
    }
    let file = fs::File::open(path)?;
    if let Some(kind) = special_kind(file.metadata()?.file_type()) {
        return Err(refused(format!("is {kind}, not a regular file; not read")));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_a_large_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        fs::write(&path, "x = 1\n").unwrap();
        assert_eq!(read_text(&path, 64).unwrap(), "x = 1\n");
        let e = read_text(&path, 3).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read_text(&path, 64).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_folders_are_refused_unopened() {
        let e = read_text(Path::new("/dev/zero"), CONFIG_CAP).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(dir.path(), CONFIG_CAP).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
    }
}
