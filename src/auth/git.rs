//! Reads a project's git index and ignore files as data: whether a file is committed or
//! ignored.
//!
//! A customer's project folder is untrusted, and running `git` inside it runs what its
//! `.git/config` names (`core.fsmonitor`, hooks, a pager, includes...). So nothing is
//! executed: the index is parsed here and `.gitignore` / `.git/info/exclude` are matched
//! with the `ignore` crate. Anything unexpected (a `.git` file pointing elsewhere, a
//! symlinked index, a split index, an unknown version) answers `None`, "cannot tell",
//! never a guess.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest index read; a bigger one is not a Magento project's.
const INDEX_CAP: u64 = 256 * 1024 * 1024;
/// The largest ignore or config file read.
const TEXT_CAP: u64 = 1024 * 1024;

/// A git work tree found above a project folder.
struct WorkTree {
    /// The folder holding `.git`.
    root: PathBuf,
    /// The `.git` folder itself.
    git_dir: PathBuf,
}

/// Finds the work tree holding `dir`: `dir` or the nearest ancestor with a `.git` folder.
///
/// A `.git` that is a file (a linked worktree or submodule) or a symlink points out of
/// the folder: it is not followed, and the answer is "no work tree we can read".
fn work_tree(dir: &Path) -> Option<WorkTree> {
    let start = fs::canonicalize(dir).ok()?;
    for root in start.ancestors() {
        let git_dir = root.join(".git");
        match fs::symlink_metadata(&git_dir) {
            Ok(meta) if meta.is_dir() => {
                return Some(WorkTree {
                    root: root.to_path_buf(),
                    git_dir,
                });
            }
            Ok(_) => return None,
            Err(_) => continue,
        }
    }
    None
}

/// Reads a regular file (never a link, FIFO or device) of at most `cap` bytes.
fn read_regular(path: &Path, cap: u64) -> Option<Vec<u8>> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() || meta.len() > cap {
        return None;
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(cap)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// The path of `dir/file` relative to the work tree's root, with `/` separators.
fn relative(tree: &WorkTree, dir: &Path, file: &str) -> Option<String> {
    let dir = fs::canonicalize(dir).ok()?;
    let rel = dir.strip_prefix(&tree.root).ok()?.join(file);
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// Returns whether `file` (relative to `dir`) is in the index; `None` outside a work tree
/// or when the index cannot be read.
pub fn is_tracked(dir: &Path, file: &str) -> Option<bool> {
    let tree = work_tree(dir)?;
    let wanted = relative(&tree, dir, file)?;
    let index = match read_regular(&tree.git_dir.join("index"), INDEX_CAP) {
        Some(bytes) => bytes,
        // A repository with nothing staged yet has no index.
        None if !tree.git_dir.join("index").exists() => return Some(false),
        None => return None,
    };
    let hash_len = hash_len(&tree.git_dir)?;
    index_has_path(&index, hash_len, wanted.as_bytes())
}

/// The object hash length of the repository: 20 for SHA-1, 32 for SHA-256.
fn hash_len(git_dir: &Path) -> Option<usize> {
    let config = read_regular(&git_dir.join("config"), TEXT_CAP).unwrap_or_default();
    let text = String::from_utf8_lossy(&config).to_ascii_lowercase();
    let sha256 = text.lines().any(|line| {
        let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        line == "objectformat=sha256"
    });
    Some(if sha256 { 32 } else { 20 })
}

/// Returns whether `bytes` (a whole index file) holds an entry for `wanted`.
///
/// The format is git's `Documentation/gitformat-index.txt`: a `DIRC` header, then
/// fixed-size stat data, the object hash, 16 bits of flags, and the path; versions 2
/// and 3 pad each entry with NULs to a multiple of 8, version 4 prefix-compresses paths.
/// `None` when the file does not parse, or is a split index whose entries live elsewhere.
fn index_has_path(bytes: &[u8], hash_len: usize, wanted: &[u8]) -> Option<bool> {
    let mut cursor = Cursor { bytes, at: 0 };
    if cursor.take(4)? != b"DIRC" {
        return None;
    }
    let version = cursor.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let entries = cursor.u32()?;
    let mut path: Vec<u8> = Vec::new();
    let mut found = false;
    for _ in 0..entries {
        let start = cursor.at;
        cursor.take(40 + hash_len)?;
        let flags = cursor.u16()?;
        if version >= 3 && flags & 0x4000 != 0 {
            cursor.u16()?;
        }
        if version == 4 {
            let strip = cursor.varint()?;
            path.truncate(path.len().checked_sub(strip)?);
            path.extend_from_slice(cursor.until_nul()?);
        } else {
            path.clear();
            path.extend_from_slice(cursor.until_nul()?);
            // The entry without the NUL that ended its path: 1 to 8 NULs pad it to a
            // multiple of 8 (git's `ondisk_ce_size`), and one of them is read already.
            let len = cursor.at - start - 1;
            let padded = (len + 8) & !7;
            cursor.take(padded - len - 1)?;
        }
        found |= path == wanted;
    }
    if split_index(&bytes[cursor.at..]) {
        return None;
    }
    Some(found)
}

/// Whether the extensions after the entries include `link` (a split index).
fn split_index(mut rest: &[u8]) -> bool {
    while rest.len() >= 8 {
        let (signature, tail) = rest.split_at(4);
        let size = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize;
        if signature == b"link" {
            return true;
        }
        match tail.get(4 + size..) {
            Some(next) => rest = next,
            None => return false,
        }
    }
    false
}

/// A bounds-checked reader over the index bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The bytes up to a NUL, which is consumed too.
    fn until_nul(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let end = memchr::memchr(0, rest)?;
        self.at += end + 1;
        Some(&rest[..end])
    }

    /// Git's offset varint (`varint.c`): each continuation adds one before shifting.
    fn varint(&mut self) -> Option<usize> {
        let mut byte = self.take(1)?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1)?[0];
            value = value.checked_add(1)?.checked_shl(7)? | usize::from(byte & 0x7f);
        }
        Some(value)
    }
}

/// Returns whether `file` is ignored by the work tree's `.gitignore` files or
/// `.git/info/exclude`; `None` outside a work tree.
pub fn is_ignored(dir: &Path, file: &str) -> Option<bool> {
    let tree = work_tree(dir)?;
    let wanted = relative(&tree, dir, file)?;
    let mut builder = ignore::gitignore::GitignoreBuilder::new(&tree.root);
    add_ignore_file(&mut builder, &tree.git_dir.join("info").join("exclude"));
    // Each folder from the root down to the file's may hold a .gitignore; later
    // (deeper) files take precedence, as in git.
    let mut folder = tree.root.clone();
    add_ignore_file(&mut builder, &folder.join(".gitignore"));
    let parts: Vec<&str> = wanted.split('/').collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        folder.push(part);
        add_ignore_file(&mut builder, &folder.join(".gitignore"));
    }
    let matcher = builder.build().ok()?;
    let path = tree.root.join(&wanted);
    Some(
        matcher
            .matched_path_or_any_parents(&path, false)
            .is_ignore(),
    )
}

/// Adds the patterns of one ignore file, if it is a readable regular file.
fn add_ignore_file(builder: &mut ignore::gitignore::GitignoreBuilder, path: &Path) {
    let Some(bytes) = read_regular(path, TEXT_CAP) else {
        return;
    };
    let from = path.parent().map(Path::to_path_buf);
    for line in String::from_utf8_lossy(&bytes).lines() {
        let _ = builder.add_line(from.clone(), line);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An index entry of version 2 or 3: zeroed stat data and hash, then the path.
    fn entry(path: &str) -> Vec<u8> {
        let mut e = vec![0u8; 40 + 20];
        e.extend_from_slice(&(path.len() as u16).to_be_bytes());
        e.extend_from_slice(path.as_bytes());
        let len = e.len();
        e.resize((len + 8) & !7, 0);
        e
    }

    fn index(version: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = b"DIRC".to_vec();
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for e in entries {
            bytes.extend_from_slice(e);
        }
        bytes.extend_from_slice(&[0u8; 20]);
        bytes
    }

    #[test]
    fn a_version_2_index_is_read_entry_by_entry() {
        let bytes = index(2, &[entry("app/etc/env.php"), entry("auth.json")]);
        assert_eq!(index_has_path(&bytes, 20, b"auth.json"), Some(true));
        assert_eq!(index_has_path(&bytes, 20, b"composer.json"), Some(false));
        assert_eq!(index_has_path(&bytes, 20, b"app/etc"), Some(false));
    }

    #[test]
    fn a_version_4_index_rebuilds_prefix_compressed_paths() {
        let mut bytes = b"DIRC".to_vec();
        bytes.extend_from_slice(&4u32.to_be_bytes());
        bytes.extend_from_slice(&2u32.to_be_bytes());
        for (strip, suffix) in [(0u8, "app/auth.json"), (9, "composer.json")] {
            bytes.extend_from_slice(&[0u8; 60]);
            bytes.extend_from_slice(&0u16.to_be_bytes());
            bytes.push(strip);
            bytes.extend_from_slice(suffix.as_bytes());
            bytes.push(0);
        }
        assert_eq!(index_has_path(&bytes, 20, b"app/composer.json"), Some(true));
        assert_eq!(index_has_path(&bytes, 20, b"app/auth.json"), Some(true));
        assert_eq!(index_has_path(&bytes, 20, b"composer.json"), Some(false));
    }

    #[test]
    fn a_damaged_index_is_unknown_not_untracked() {
        let bytes = index(2, &[entry("auth.json")]);
        assert_eq!(index_has_path(&bytes[..30], 20, b"auth.json"), None);
        assert_eq!(index_has_path(b"NOPE", 20, b"auth.json"), None);
        let mut huge_count = index(2, &[]);
        huge_count[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(index_has_path(&huge_count, 20, b"auth.json"), None);
    }

    #[test]
    fn a_split_index_is_unknown() {
        let mut bytes = index(2, &[entry("composer.json")]);
        bytes.truncate(bytes.len() - 20);
        bytes.extend_from_slice(b"link");
        bytes.extend_from_slice(&20u32.to_be_bytes());
        bytes.extend_from_slice(&[0u8; 20]);
        assert_eq!(index_has_path(&bytes, 20, b"auth.json"), None);
    }
}
