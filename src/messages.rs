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
