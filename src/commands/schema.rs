//! The JSON Schema of every JSON output (`docs/magediag-1.schema.json`): the
//! `magediag/1` report at its root, and among its definitions the ndjson record and what
//! `explain`, `rules list`, `rules signals`, `trace` and `auth` print with `--format json`.

/// The JSON Schema, made from the types that are serialized: the report at the root; the
/// other outputs as `$defs/NdjsonRecord`, `$defs/ExplainOutput`, `$defs/RulesListOutput`,
/// `$defs/RulesSignalsOutput`, `$defs/TraceOutput` and `$defs/AuthOutput`.
pub fn json_schema() -> serde_json::Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    generator.subschema_for::<super::explain::ExplainOutput<'static>>();
    generator.subschema_for::<super::rules::RulesListOutput<'static>>();
    generator.subschema_for::<super::rules::SignalsOutput<'static>>();
    generator.subschema_for::<crate::trace::TraceReport>();
    generator.subschema_for::<crate::auth::AuthReport>();
    crate::report::json_schema(generator)
}
