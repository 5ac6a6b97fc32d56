//! Bytes in, lines out: where input comes from and how it becomes byte lines.
//!
//! [`source`] opens stdin and files (gzip and UTF-16 decoded by [`decode`]), [`walk`]
//! finds the logs under a folder for `scan`, [`line`] cuts a stream into capped byte
//! lines, and [`bounded`] reads configuration files in bounded time and memory.

pub mod bounded;
pub mod decode;
pub mod line;
pub mod source;
pub mod walk;
