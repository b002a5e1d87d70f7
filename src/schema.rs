//! JSON Schemas of ponte's own file formats, generated from the model types.

use crate::config::model::AdapterSchema;

/// `schemas/adapter.schema.json`, as text (pretty, with a final newline).
pub fn adapter_schema() -> String {
    render::<AdapterSchema>("ponte adapter")
}

/// `schemas/fixture.schema.json`.
pub fn fixture_schema() -> String {
    render::<crate::fixture::model::FixtureFile>("ponte contract fixture")
}

fn render<T: schemars::JsonSchema>(title: &str) -> String {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
