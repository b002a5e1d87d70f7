//! What an imported route selects and how it maps the payload: scalar fields to a bounded depth,
//! minus the fields the user excludes; every field left out is recorded, with why.

use std::collections::BTreeMap;

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use serde_json::{Map, Value, json};

use super::{ImportOptions, snake};

/// Fields left out of selections, by `Type.field`, with why (each field once).
#[derive(Default)]
pub(super) struct LeftOut(pub BTreeMap<String, String>);

impl LeftOut {
    fn add(&mut self, owner: &str, field: &str, why: &str) {
        self.0
            .entry(format!("{owner}.{field}"))
            .or_insert_with(|| why.to_string());
    }
}

/// Selects and maps one payload type.
pub(super) struct Selector<'a> {
    pub schema: &'a Schema,
    pub options: &'a ImportOptions,
    pub left_out: &'a mut LeftOut,
}

impl Selector<'_> {
    /// The fields of an object or interface type, and the type's name.
    fn fields<'s>(
        schema: &'s Schema,
        ty: &Type,
    ) -> Option<(
        &'s str,
        &'s apollo_compiler::collections::IndexMap<
            apollo_compiler::Name,
            apollo_compiler::schema::Component<FieldDefinition>,
        >,
    )> {
        match schema.types.get(ty.inner_named_type())? {
            ExtendedType::Object(o) => Some((o.name.as_str(), &o.fields)),
            ExtendedType::Interface(i) => Some((i.name.as_str(), &i.fields)),
            _ => None,
        }
    }

    /// The fields of `owner` a selection at `depth` takes: (field, is a leaf).
    fn chosen<'f>(
        &mut self,
        owner: &str,
        fields: impl Iterator<Item = &'f FieldDefinition>,
        depth: usize,
    ) -> Vec<(&'f FieldDefinition, bool)> {
        let mut out = Vec::new();
        for f in fields {
            if f.name.starts_with("__") {
                continue;
            }
            if self.options.excludes(owner, &f.name) {
                self.left_out.add(owner, &f.name, "excluded (--exclude)");
                continue;
            }
            if f.arguments
                .iter()
                .any(|a| a.ty.is_non_null() && a.default_value.is_none())
            {
                self.left_out
                    .add(owner, &f.name, "has required arguments (select it by hand)");
                continue;
            }
            match self.schema.types.get(f.ty.inner_named_type()) {
                Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_)) => out.push((f, true)),
                Some(ExtendedType::Object(_) | ExtendedType::Interface(_)) => {
                    if depth + 1 < self.options.depth {
                        out.push((f, false));
                    } else {
                        self.left_out.add(
                            owner,
                            &f.name,
                            &format!("deeper than --depth {}", self.options.depth),
                        );
                    }
                }
                Some(ExtendedType::Union(_)) => {
                    self.left_out
                        .add(owner, &f.name, "a union (select its members by hand)")
                }
                _ => {}
            }
        }
        out
    }

    /// ` { a b c { d } }` for object types; empty for leaves.
    pub fn selection(&mut self, ty: &Type, depth: usize) -> String {
        let schema = self.schema;
        if let Some(ExtendedType::Union(_)) = schema.types.get(ty.inner_named_type()) {
            return " { __typename }".into();
        }
        let Some((owner, fields)) = Self::fields(schema, ty) else {
            return String::new();
        };
        let mut parts = Vec::new();
        for (f, leaf) in self.chosen(owner, fields.values().map(|c| &***c), depth) {
            if leaf {
                parts.push(f.name.to_string());
            } else {
                let inner = self.selection(&f.ty, depth + 1);
                if !inner.is_empty() && inner != " { __typename }" {
                    parts.push(format!("{}{inner}", f.name));
                }
            }
        }
        if parts.is_empty() {
            parts.push("__typename".into());
        }
        format!(" {{ {} }}", parts.join(" "))
    }

    /// The response mapping for a payload of type `ty` found at `path` (the same choices as
    /// `selection`, so every path is selected).
    pub fn response(&mut self, ty: &Type, path: &str, depth: usize) -> Value {
        let schema = self.schema;
        let Some((owner, fields)) = Self::fields(schema, ty) else {
            return json!({ "result": path });
        };
        let list = ty.is_list();
        let prefix = if list {
            String::new()
        } else {
            format!("{path}.")
        };
        let mut out = Map::new();
        for (f, leaf) in self.chosen(owner, fields.values().map(|c| &***c), depth) {
            let at = format!("{prefix}{}", f.name);
            if leaf {
                out.insert(snake(&f.name), json!(at));
                continue;
            }
            let nested = self.response(&f.ty, &at, depth + 1);
            let inner = nested
                .pointer("/items/fields")
                .or(Some(&nested))
                .and_then(Value::as_object);
            if inner
                .is_some_and(|o| !o.is_empty() && !o.contains_key("result") && !only_typename(o))
                && let Some(obj) = nested.as_object()
            {
                out.insert(snake(&f.name), Value::Object(obj.clone()));
            }
        }
        if out.is_empty() {
            out.insert("typename".into(), json!(format!("{prefix}__typename")));
        }
        if list {
            return json!({ "items": { "each": path, "fields": out } });
        }
        Value::Object(out)
    }
}

/// A nested object whose selection is only `__typename` is not selected by `selection`.
fn only_typename(o: &Map<String, Value>) -> bool {
    o.len() == 1 && o.contains_key("typename")
}
