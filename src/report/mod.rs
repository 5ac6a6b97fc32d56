//! What a run reports: the diagnoses and their JSON contract ([`diagnosis`]), the
//! renderers, one per output format ([`render`]), the support reply that `paste` writes
//! ([`reply`]), and the escaping that keeps log text data in every format ([`escape`]).

pub mod diagnosis;
pub mod escape;
pub mod render;
pub mod reply;

/// Text cut to `max` characters, the cut marked with `…`. Cut only masked text: a secret
/// cut in two is no longer recognised by its shape.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
