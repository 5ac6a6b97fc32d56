//! What magediag says on stderr, and how it words an I/O error.

use std::io::{self, Write};

use crate::mask;
use crate::report::escape;

/// An I/O error as a short reason, without Rust's `(os error N)` noise.
pub fn describe_io(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text,
    }
}

/// Whether an I/O error means the reader went away (`magediag ... | head`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes `magediag: message` to stderr, once; errors writing it are ignored.
pub fn warn(message: &str) {
    let message = mask::mask(message);
    let _ = writeln!(
        io::stderr().lock(),
        "magediag: {}",
        escape::printable(&message)
    );
}

/// Writes `magediag: message` to stderr, then `detail`'s lines as they are (each masked
/// and made printable like the message): a source line with a caret under it.
pub fn warn_with(message: &str, detail: &[String]) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "magediag: {}", escape::printable(&mask::mask(message)));
    for line in detail {
        let _ = writeln!(err, "{}", escape::printable(&mask::mask(line)));
    }
}

/// The names nearest to a mistyped `name`, nearest first, at most three: those a few
/// edits away (a quarter of the length, at least two) or that contain it.
pub fn nearest<'a>(name: &str, names: &[&'a str]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| {
            (
                crate::rule::cond::edit_distance(name.as_bytes(), n.as_bytes()),
                *n,
            )
        })
        .filter(|(d, n)| *d <= (n.len().max(name.len()) / 4).max(2) || n.contains(name))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// `" (did you mean `x`?)"` for the names nearest a mistyped one, or nothing.
pub fn did_you_mean(name: &str, names: &[&str]) -> String {
    match nearest(name, names).as_slice() {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => format!(
            " (did you mean {}?)",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}
