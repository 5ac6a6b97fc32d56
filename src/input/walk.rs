//! Folder walking for `scan`: every regular file is a source; FIFOs, sockets and
//! devices are skipped without being opened; symlinks are followed only when asked,
//! and a loop is reported instead of walked. The order is sorted, so output is stable.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Follow symbolic links (`-L`).
    pub follow: bool,
    /// Descend at most this many levels below each root (`--max-depth`).
    pub max_depth: Option<usize>,
    /// `--glob` patterns; a leading `!` excludes.
    pub globs: Vec<String>,
}

/// Why an entry was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A FIFO, socket or device: never opened.
    Special(&'static str),
    /// A symbolic link, not followed without `-L`.
    Symlink,
    /// Excluded by `--glob`.
    Excluded,
    /// A symlink (followed with `-L`) back to a folder above it.
    Loop(PathBuf),
    /// A symlink (followed with `-L`) whose target does not exist.
    Dangling,
}

/// One thing the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A regular file to read.
    File(PathBuf),
    /// Not read, on purpose.
    Skipped(PathBuf, Skip),
    /// Could not be walked (permission, loop, vanished): reported, and the walk goes on.
    Error(PathBuf, String),
}

/// A mistake in a `--glob` pattern.
#[derive(Debug, thiserror::Error)]
#[error("invalid --glob '{pattern}': {source}")]
pub struct GlobError {
    pattern: String,
    source: globset::Error,
}

/// Include and exclude globs, matched against the path below the root and the file name.
struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    fn new(globs: &[String]) -> Result<Filter, GlobError> {
        let mut include = GlobSetBuilder::new();
        let mut exclude = GlobSetBuilder::new();
        let mut any_include = false;
        for pattern in globs {
            let (builder, text) = match pattern.strip_prefix('!') {
                Some(text) => (&mut exclude, text),
                None => {
                    any_include = true;
                    (&mut include, pattern.as_str())
                }
            };
            let glob = Glob::new(text).map_err(|source| GlobError {
                pattern: pattern.clone(),
                source,
            })?;
            builder.add(glob);
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|source| GlobError {
                pattern: globs.join(" "),
                source,
            })
        };
        Ok(Filter {
            include: if any_include {
                Some(build(include)?)
            } else {
                None
            },
            exclude: build(exclude)?,
        })
    }

    fn allows(&self, relative: &Path) -> bool {
        let name = relative.file_name().map(Path::new).unwrap_or(relative);
        let hit = |set: &GlobSet| set.is_match(relative) || set.is_match(name);
        !hit(&self.exclude) && self.include.as_ref().is_none_or(hit)
    }
}

/// Walks every root, sorted by name; never follows a loop.
pub fn walk(roots: &[PathBuf], options: &WalkOptions) -> Result<Vec<Found>, GlobError> {
    let filter = Filter::new(&options.globs)?;
    let mut found = Vec::new();
    for root in roots {
        let mut walker = WalkDir::new(root)
            .follow_links(options.follow)
            .follow_root_links(true)
            .sort_by_file_name();
        if let Some(depth) = options.max_depth {
            walker = walker.max_depth(depth);
        }
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    found.push(walk_error(root, &e));
                    continue;
                }
            };
            let path = entry.path().to_path_buf();
            let kind = entry.file_type();
            if kind.is_dir() {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap_or(&path);
            if !filter.allows(relative) && entry.depth() > 0 {
                found.push(Found::Skipped(path, Skip::Excluded));
            } else if kind.is_file() {
                found.push(Found::File(path));
            } else if kind.is_symlink() {
                found.push(Found::Skipped(path, Skip::Symlink));
            } else {
                found.push(Found::Skipped(path, Skip::Special(special_kind(&kind))));
            }
        }
    }
    Ok(found)
}

fn walk_error(root: &Path, e: &walkdir::Error) -> Found {
    let path = e.path().unwrap_or(root).to_path_buf();
    if let Some(ancestor) = e.loop_ancestor() {
        return Found::Skipped(path, Skip::Loop(ancestor.to_path_buf()));
    }
    let dangling = e.io_error().map(std::io::Error::kind) == Some(std::io::ErrorKind::NotFound)
        && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    if dangling {
        return Found::Skipped(path, Skip::Dangling);
    }
    let message = if let Some(io) = e.io_error() {
        crate::messages::describe_io(io)
    } else {
        e.to_string()
    };
    Found::Error(path, message)
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_kind: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_names_and_relative_paths_and_exclude_with_bang() {
        let filter = Filter::new(&["*.log".into(), "!old/**".into()]).unwrap();
        assert!(filter.allows(Path::new("prod/deploy.log")));
        assert!(!filter.allows(Path::new("old/deploy.log")));
        assert!(!filter.allows(Path::new("prod/notes.md")));
    }

    #[test]
    fn a_bad_glob_is_named() {
        let e = Filter::new(&["[oops".into()]).err().unwrap();
        assert!(e.to_string().contains("invalid --glob '[oops'"), "{e}");
    }
}
