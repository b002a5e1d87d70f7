//! JSON Schemas of ponte's own file formats, generated from the model types.

use crate::config::model::AdapterFile;

/// `schemas/adapter.schema.json`, as text (pretty, with a final newline).
pub fn adapter_schema() -> String {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<AdapterFile>();
    schema.insert("title".into(), "ponte adapter".into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
