//! Bytes in, lines out: where input comes from and how it becomes byte lines.
//!
//! [`source`] opens stdin and files (decompressed and UTF-16 decoded by [`decode`];
//! tar and zip archives split into members by [`archive`]), [`walk`] finds the logs
//! under a folder for `scan`, [`line`](mod@line) cuts a stream into capped byte lines, and
//! [`bounded`] reads configuration files in bounded time and memory.

pub mod archive;
pub mod bounded;
pub mod decode;
pub mod line;
pub mod source;
pub mod walk;
