//! What a run reports: the diagnoses and their JSON contract ([`diagnosis`]), the
//! renderers, one per output format ([`render`]), the support reply that `paste` writes
//! ([`reply`]), and the escaping that keeps log text data in every format ([`escape`]).

pub mod diagnosis;
pub mod escape;
pub mod render;
pub mod reply;
