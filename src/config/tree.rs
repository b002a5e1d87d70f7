//! A free-form, positioned value: the part of an adapter file that is a tree the user shapes
//! (request envelopes, response mappings, defaults). The mapping compiler walks it.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::diagnostic::Span;

use super::de::Spanned;

#[derive(Clone, Debug, PartialEq)]
pub enum TreeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Tree>),
    Map(Vec<(Spanned<String>, Tree)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    pub span: Span,
    pub kind: TreeKind,
}

impl Tree {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            TreeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Tree> {
        match &self.kind {
            TreeKind::Map(entries) => entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as JSON (positions dropped).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            TreeKind::Null => Value::Null,
            TreeKind::Bool(b) => Value::Bool(*b),
            TreeKind::Int(i) => Value::from(*i),
            TreeKind::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            TreeKind::Str(s) => Value::String(s.clone()),
            TreeKind::Seq(items) => Value::Array(items.iter().map(Tree::to_json).collect()),
            TreeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn describe(&self) -> &'static str {
        match &self.kind {
            TreeKind::Null => "null",
            TreeKind::Bool(_) => "a boolean",
            TreeKind::Int(_) => "an integer",
            TreeKind::Float(_) => "a number",
            TreeKind::Str(_) => "a string",
            TreeKind::Seq(_) => "a list",
            TreeKind::Map(_) => "a mapping",
        }
    }
}

impl schemars::JsonSchema for Tree {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyValue".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!(true)
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<TreeKind>::deserialize(deserializer)?;
        Ok(Tree {
            span: spanned.span,
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for TreeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = TreeKind;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<TreeKind, E> {
        Ok(TreeKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<TreeKind, E> {
        Ok(TreeKind::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TreeKind, E> {
        Ok(TreeKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TreeKind, E> {
        Ok(TreeKind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TreeKind, E> {
        Ok(i64::try_from(v).map_or(TreeKind::Float(v as f64), TreeKind::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TreeKind, E> {
        Ok(TreeKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TreeKind, E> {
        Ok(TreeKind::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TreeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Tree>()? {
            items.push(item);
        }
        Ok(TreeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TreeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Tree>()?;
            entries.push((key, value));
        }
        Ok(TreeKind::Map(entries))
    }
}
