//! Asks git whether a project file is committed or ignored; a missing git is not an error.

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `git <args>` in `dir` quietly; `None` if git cannot be started.
fn git_status(dir: &Path, args: &[&str]) -> Option<bool> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .map(|s| s.success())
}

/// Returns whether `dir` is inside a git work tree (`None` if git is missing).
pub fn is_work_tree(dir: &Path) -> Option<bool> {
    git_status(dir, &["rev-parse", "--is-inside-work-tree"])
}

/// Returns whether `file` (relative to `dir`) is tracked; `None` outside a work tree or without git.
pub fn is_tracked(dir: &Path, file: &str) -> Option<bool> {
    if is_work_tree(dir) != Some(true) {
        return None;
    }
    git_status(dir, &["ls-files", "--error-unmatch", "--", file])
}

/// Returns whether `file` is ignored by `.gitignore`; `None` outside a work tree or without git.
pub fn is_ignored(dir: &Path, file: &str) -> Option<bool> {
    if is_work_tree(dir) != Some(true) {
        return None;
    }
    git_status(dir, &["check-ignore", "-q", "--", file])
}
