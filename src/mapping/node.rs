//! What a mapping reads: a reply document seen as JSON, whatever it is stored as.
//!
//! GraphQL replies are `serde_json::Value`s. SOAP replies are `xml::doc::Doc`s, an index over the
//! reply's bytes that is never turned into a `Value` unless a mapping needs one (a JMESPath
//! expression, a whole subtree). Both answer the same questions through `Node`, so paths, `each`
//! and the answer writer have one implementation.

use serde_json::Value;

use super::path::Step;

/// A node of a reply document, as the JSON that DESIGN.md's conventions make of it.
pub trait Node<'a>: Copy + 'a {
    /// A `Field` or `Index` step; `None` when nothing is there.
    fn get(self, step: &Step) -> Option<Self>;
    /// `[*]`: the items of a list; a single value is a one-element list, null an empty one.
    fn for_each_item(self, f: &mut dyn FnMut(Self));
    /// The text of a string node.
    fn as_str(self) -> Option<&'a str>;
    fn is_null(self) -> bool;
    /// Null, blank text, an empty object or an empty list: nothing a caller could use.
    fn is_blank(self) -> bool;
    /// Appends the node as JSON.
    fn write_json(self, out: &mut Vec<u8>);
    /// The node as an owned JSON value (for JMESPath, coercion of compound values, faults).
    fn to_value(self) -> Value;
}

impl<'a> Node<'a> for &'a Value {
    fn get(self, step: &Step) -> Option<Self> {
        match (step, self) {
            (Step::Field(name), Value::Object(map)) => map.get(name),
            (Step::Index(i), Value::Array(items)) => items.get(*i),
            // A lone element where a list was expected is element 0 of a one-element list.
            (Step::Index(0), other) if !other.is_null() => Some(other),
            _ => None,
        }
    }

    fn for_each_item(self, f: &mut dyn FnMut(Self)) {
        match self {
            Value::Array(items) => items.iter().for_each(f),
            Value::Null => {}
            single => f(single),
        }
    }

    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }

    fn is_null(self) -> bool {
        Value::is_null(self)
    }

    fn is_blank(self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }

    fn write_json(self, out: &mut Vec<u8>) {
        write_value(self, out);
    }

    fn to_value(self) -> Value {
        self.clone()
    }
}

/// Appends `value` as JSON. Writing to a `Vec` cannot fail, and a `Value` always serializes.
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(out, value);
}

/// Appends `text` as a JSON string.
pub fn write_str(text: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(out, text);
}
