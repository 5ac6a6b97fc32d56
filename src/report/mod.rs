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

/// The JSON Schema of the `magediag/1` report, with the ndjson record (`NdjsonRecord`) and
/// whatever `generator` already holds among its definitions: what
/// `docs/magediag-1.schema.json` holds (see `commands::json_schema`), made from the types
/// that are serialized.
pub fn json_schema(mut generator: schemars::SchemaGenerator) -> serde_json::Value {
    generator.subschema_for::<render::NdjsonRecord<'static>>();
    let mut schema = generator.into_root_schema_for::<diagnosis::Report>();
    schema.insert("title".into(), diagnosis::SCHEMA.into());
    schema.to_value()
}
