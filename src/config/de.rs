//! A serde `Deserializer` over the positioned YAML tree.
//!
//! The typed model derives `Deserialize` as usual; this deserializer makes every error carry the
//! position of the node it is about, reports unknown keys (with "did you mean") without stopping,
//! and fills `Spanned<T>` fields with their source position.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

use crate::diagnostic::{Diagnostic, Span, did_you_mean};

use super::yaml::{Yaml, YamlKind};

const SPANNED: &str = "$__ponte_spanned";
const SPANNED_FIELDS: &[&str] = &["span", "value"];

/// A value with the position it was written at.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub span: Span,
    pub value: T,
}

impl<T> Spanned<T> {
    pub fn new(span: Span, value: T) -> Self {
        Spanned { span, value }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}
impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}
impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let _: Option<String> = map.next_key()?;
                let (a, b, c, d): (u32, u32, u32, u32) = map.next_value()?;
                let _: Option<String> = map.next_key()?;
                let value = map.next_value()?;
                let span = Span {
                    start: crate::diagnostic::Pos { line: a, col: b },
                    end: crate::diagnostic::Pos { line: c, col: d },
                };
                Ok(Spanned { span, value })
            }
        }
        deserializer.deserialize_struct(SPANNED, SPANNED_FIELDS, V(PhantomData))
    }
}

/// A decoding error, with the position of the offending node when known.
#[derive(Debug)]
pub struct DeError {
    pub span: Option<Span>,
    pub message: String,
    pub help: Option<String>,
}

impl DeError {
    fn at(span: Span, message: impl Into<String>) -> DeError {
        DeError {
            span: Some(span),
            message: message.into(),
            help: None,
        }
    }

    fn or_at(mut self, span: Span) -> DeError {
        self.span.get_or_insert(span);
        self
    }

    pub fn into_diagnostic(self, fallback: Span) -> Diagnostic {
        let d = Diagnostic::error(self.span.unwrap_or(fallback), self.message);
        match self.help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for DeError {}

fn describe(u: &Unexpected) -> String {
    match u {
        Unexpected::Bool(_) => "a boolean".into(),
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer".into(),
        Unexpected::Float(_) => "a number".into(),
        Unexpected::Str(_) | Unexpected::Char(_) | Unexpected::Bytes(_) => "a string".into(),
        Unexpected::Unit | Unexpected::Option => "nothing (null)".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a mapping".into(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            span: None,
            message: msg.to_string(),
            help: None,
        }
    }
    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!("expected {exp}, found {}", describe(&unexp)))
    }
    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            Unexpected::Str(s) => format!("`{s}`"),
            Unexpected::Signed(i) => i.to_string(),
            Unexpected::Unsigned(i) => i.to_string(),
            other => describe(&other),
        };
        Self::custom(format_args!("invalid value {found}: expected {exp}"))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Self::custom(format_args!("unknown value `{variant}`"));
        e.help = Some(match did_you_mean(variant, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("expected one of {}", quoted_list(expected)),
        });
        e
    }
    fn missing_field(field: &'static str) -> Self {
        let mut e = Self::custom(format_args!("missing required key `{field}`"));
        e.help = Some(format!("add `{field}:`"));
        e
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decodes `T` from a node. Unknown keys are pushed to `notes` and skipped.
pub fn from_yaml<'a, T: Deserialize<'a>>(
    node: &'a Yaml,
    notes: &'a RefCell<Vec<Diagnostic>>,
) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, notes }).map_err(|e| e.or_at(node.span))
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Yaml,
    notes: &'a RefCell<Vec<Diagnostic>>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Yaml) -> NodeDe<'a> {
        NodeDe {
            node,
            notes: self.notes,
        }
    }

    fn scalar(&self) -> Option<(&'a str, bool)> {
        match &self.node.kind {
            YamlKind::Scalar { text, plain } => Some((text.as_str(), *plain)),
            _ => None,
        }
    }

    fn unexpected(&self) -> Unexpected<'a> {
        match &self.node.kind {
            YamlKind::Null => Unexpected::Unit,
            YamlKind::Scalar { text, .. } => Unexpected::Str(text),
            YamlKind::Seq(_) => Unexpected::Seq,
            YamlKind::Map(_) => Unexpected::Map,
        }
    }

    fn type_error(&self, exp: &dyn de::Expected) -> DeError {
        <DeError as de::Error>::invalid_type(self.unexpected(), exp).or_at(self.node.span)
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, DeError> {
        match self.scalar() {
            Some((text, _)) => text.trim().parse().map_err(|_| {
                DeError::at(self.node.span, format!("expected {what}, found `{text}`"))
            }),
            None => Err(DeError::at(
                self.node.span,
                format!("expected {what}, found {}", self.node.describe()),
            )),
        }
    }

    fn entries(&self) -> &'a [(Yaml, Yaml)] {
        match &self.node.kind {
            YamlKind::Map(entries) => entries,
            _ => &[],
        }
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident : $ty:ty, $what:literal;)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v: $ty = self.parse($what)?;
            visitor.$visit(v)
        }
    )*};
}

impl<'a> Deserializer<'a> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            YamlKind::Null => visitor.visit_unit(),
            YamlKind::Scalar { text, plain: true } => {
                if let Ok(i) = text.parse::<i64>() {
                    visitor.visit_i64(i)
                } else if text == "true" || text == "false" {
                    visitor.visit_bool(text == "true")
                } else if looks_like_float(text) {
                    match text.parse::<f64>() {
                        Ok(f) => visitor.visit_f64(f),
                        Err(_) => visitor.visit_str(text),
                    }
                } else {
                    visitor.visit_str(text)
                }
            }
            YamlKind::Scalar { text, plain: false } => visitor.visit_str(text),
            YamlKind::Seq(items) => visitor.visit_seq(Seq {
                de: self,
                items: items.iter(),
            }),
            YamlKind::Map(entries) => visitor.visit_map(Map {
                de: self,
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.or_at(self.node.span))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some(("true", _)) => visitor.visit_bool(true),
            Some(("false", _)) => visitor.visit_bool(false),
            _ => Err(DeError::at(self.node.span, "expected `true` or `false`")),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8: i8, "an integer";
        deserialize_i16 => visit_i16: i16, "an integer";
        deserialize_i32 => visit_i32: i32, "an integer";
        deserialize_i64 => visit_i64: i64, "an integer";
        deserialize_u8 => visit_u8: u8, "a whole number from 0 to 255";
        deserialize_u16 => visit_u16: u16, "a whole number from 0 to 65535";
        deserialize_u32 => visit_u32: u32, "a whole number";
        deserialize_u64 => visit_u64: u64, "a whole number";
        deserialize_f32 => visit_f32: f32, "a number";
        deserialize_f64 => visit_f64: f64, "a number";
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((text, _)) => visitor
                .visit_str(text)
                .map_err(|e: DeError| e.or_at(self.node.span)),
            None => Err(self.type_error(&"a string")),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            YamlKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            YamlKind::Null => visitor.visit_unit(),
            _ => Err(self.type_error(&"nothing (null)")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            YamlKind::Seq(items) => visitor
                .visit_seq(Seq {
                    de: self,
                    items: items.iter(),
                })
                .map_err(|e| e.or_at(self.node.span)),
            YamlKind::Null => visitor.visit_seq(Seq {
                de: self,
                items: [].iter(),
            }),
            _ => Err(self.type_error(&"a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            YamlKind::Map(_) | YamlKind::Null => visitor
                .visit_map(Map {
                    de: self,
                    entries: self.entries().iter(),
                    value: None,
                })
                .map_err(|e| e.or_at(self.node.span)),
            _ => Err(self.type_error(&"a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess { de: self, step: 0 });
        }
        if !matches!(self.node.kind, YamlKind::Map(_) | YamlKind::Null) {
            return Err(self.type_error(&"a mapping"));
        }
        for (key, _) in self.entries() {
            let Some(k) = key.as_str() else { continue };
            if fields.contains(&k) {
                continue;
            }
            let help = match did_you_mean(k, fields.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of {}", quoted_list(fields)),
            };
            self.notes
                .borrow_mut()
                .push(Diagnostic::error(key.span, format!("unknown key `{k}`")).with_help(help));
        }
        let known: Vec<&'a (Yaml, Yaml)> = self
            .entries()
            .iter()
            .filter(|(k, _)| k.as_str().is_some_and(|k| fields.contains(&k)))
            .collect();
        visitor
            .visit_map(Map {
                de: self,
                entries: known.into_iter(),
                value: None,
            })
            .map_err(|e| e.or_at(self.node.span))
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            // Also what is left after recovery cut out an unknown variant: worded as a missing
            // key, so that it is recognised as that cut's artifact and not reported twice.
            YamlKind::Map(entries) if entries.is_empty() => Err(DeError::at(
                self.node.span,
                format!("missing required key: one of {}", quoted_list(variants)),
            )),
            YamlKind::Scalar { text, .. } => visitor
                .visit_enum(text.as_str().into_deserializer())
                .map_err(|e: DeError| e.or_at(self.node.span)),
            YamlKind::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                visitor
                    .visit_enum(Enum {
                        key: self.child(k),
                        value: self.child(v),
                    })
                    .map_err(|e| e.or_at(k.span))
            }
            _ => Err(self.type_error(&"one of the allowed values")),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

fn looks_like_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && t.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
}

struct Seq<'a, I> {
    de: NodeDe<'a>,
    items: I,
}

impl<'a, I: Iterator<Item = &'a Yaml>> SeqAccess<'a> for Seq<'a, I> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(self.de.child(item))
                .map(Some)
                .map_err(|e| e.or_at(item.span)),
            None => Ok(None),
        }
    }
}

struct Map<'a, I> {
    de: NodeDe<'a>,
    entries: I,
    value: Option<&'a Yaml>,
}

impl<'a, I: Iterator<Item = &'a (Yaml, Yaml)>> MapAccess<'a> for Map<'a, I> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(self.de.child(k))
                    .map(Some)
                    .map_err(|e| e.or_at(k.span))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value without a key"))?;
        seed.deserialize(self.de.child(v))
            .map_err(|e| e.or_at(v.span))
    }
}

struct SpannedAccess<'a> {
    de: NodeDe<'a>,
    step: u8,
}

impl<'a> MapAccess<'a> for SpannedAccess<'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.step {
            0 | 1 => seed
                .deserialize(SPANNED_FIELDS[self.step as usize].into_deserializer())
                .map(Some),
            _ => Ok(None),
        }
    }
    fn next_value_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        self.step += 1;
        if self.step == 1 {
            let s = self.de.node.span;
            let parts = [s.start.line, s.start.col, s.end.line, s.end.col];
            seed.deserialize(de::value::SeqDeserializer::new(parts.into_iter()))
        } else {
            seed.deserialize(self.de)
        }
    }
}

struct Enum<'a> {
    key: NodeDe<'a>,
    value: NodeDe<'a>,
}

impl<'a> EnumAccess<'a> for Enum<'a> {
    type Error = DeError;
    type Variant = NodeDe<'a>;
    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'a>), DeError> {
        Ok((seed.deserialize(self.key)?, self.value))
    }
}

impl<'a> VariantAccess<'a> for NodeDe<'a> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests;
