//! JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of a route's inputs and of its answer.
//!
//! The answer's schema says no more than the mapping guarantees: a typed value may be `null`
//! (missing or blank in the reply), an untyped path may be anything the reply holds there.

use serde_json::{Map, Value, json};

use crate::config::model::{InputLocation, ValueType};
use crate::mapping::input::InputSpec;
use crate::mapping::path::Path;
use crate::mapping::response::{Field, Mapping};

/// The schema of one value of a type; `{}` (anything) for `json`.
fn of_type(ty: ValueType) -> Map<String, Value> {
    let mut s = Map::new();
    let name = match ty {
        ValueType::String => "string",
        ValueType::Integer => "integer",
        ValueType::Number => "number",
        ValueType::Boolean => "boolean",
        ValueType::Date => {
            s.insert("format".into(), json!("date"));
            "string"
        }
        // ponte takes a date-time without a zone too, which `format: date-time` refuses.
        ValueType::Datetime => {
            s.insert(
                "description".into(),
                json!("a date-time: YYYY-MM-DDThh:mm:ss with an optional zone"),
            );
            "string"
        }
        ValueType::Json => return s,
    };
    s.insert("type".into(), json!(name));
    s
}

/// Text without the control characters XML 1.0 forbids (see `mapping::input`).
const XML_TEXT: &str = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uFFFE\\uFFFF]*$";

/// Any character XML 1.0 forbids, somewhere in the text.
const XML_FORBIDDEN: &str = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uFFFE\\uFFFF]";

/// An input's schema: type, enum, pattern, bounds, length, default.
pub(super) fn input(spec: &InputSpec) -> Value {
    let mut s = of_type(spec.ty);
    let textual = matches!(
        spec.ty,
        ValueType::String | ValueType::Date | ValueType::Datetime
    );
    let numeric = matches!(spec.ty, ValueType::Integer | ValueType::Number);
    if let Some(d) = &spec.description {
        s.insert("description".into(), json!(d));
    }
    if let Some(allowed) = &spec.allowed {
        s.insert("enum".into(), json!(allowed));
    }
    match &spec.pattern {
        // Already anchored as ponte matches it: the whole value. It may allow what XML cannot
        // carry, which ponte refuses all the same.
        Some(p) if textual => {
            s.insert("pattern".into(), json!(p.as_str()));
            if !spec.strip_control {
                s.insert("not".into(), json!({"pattern": XML_FORBIDDEN}));
            }
        }
        // ponte refuses what XML 1.0 cannot carry, unless the input strips it.
        None if textual && !spec.strip_control => {
            s.insert("pattern".into(), json!(XML_TEXT));
        }
        _ => {}
    }
    if numeric {
        if let Some(min) = spec.min {
            s.insert("minimum".into(), number(min));
        }
        if let Some(max) = spec.max {
            s.insert("maximum".into(), number(max));
        }
    }
    if let Some(n) = spec.max_length
        && textual
    {
        s.insert("maxLength".into(), json!(n));
    }
    if let Some(d) = &spec.default {
        s.insert("default".into(), d.clone());
    }
    Value::Object(s)
}

/// A bound as written: `1` rather than `1.0` when it is whole.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// The JSON body: an object of the `in: body` inputs, nested along dotted names.
pub(super) fn body(inputs: &[InputSpec]) -> Value {
    let mut root = json!({"type": "object", "properties": {}});
    for spec in inputs.iter().filter(|i| i.location == InputLocation::Body) {
        let steps: Vec<&str> = spec.external.split('.').collect();
        let Some((last, parents)) = steps.split_last() else {
            continue;
        };
        let mut at = &mut root;
        for step in parents {
            if spec.required {
                require(at, step);
            }
            let properties = &mut at["properties"];
            if properties.get(*step).is_none() {
                properties[*step] = json!({"type": "object", "properties": {}});
            }
            at = &mut properties[*step];
        }
        let mut schema = input(spec);
        if spec.required {
            require(at, last);
        } else if let Some(Value::String(ty)) = schema.get("type").cloned() {
            // An optional body field may be null: ponte reads null as absent.
            schema["type"] = json!([ty, "null"]);
        }
        at["properties"][*last] = schema;
    }
    root
}

fn require(object: &mut Value, name: &str) {
    let list = object
        .as_object_mut()
        .map(|o| o.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(names)) = list
        && !names.iter().any(|n| n == name)
    {
        names.push(json!(name));
    }
}

/// Every input as one flat object by caller-facing name (a tool's arguments, a form's fields).
pub(super) fn arguments(inputs: &[InputSpec]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in inputs {
        properties.insert(spec.external.clone(), input(spec));
        if spec.required {
            required.push(json!(spec.external));
        }
    }
    let mut s = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        s["required"] = Value::Array(required);
    }
    s
}

/// The schema of a successful answer, from the response mapping.
pub(super) fn response(mapping: &Mapping) -> Value {
    match mapping {
        Mapping::Path { path, ty, .. } => path_value(path, *ty),
        Mapping::Each { fields, .. } => json!({"type": "array", "items": object(fields)}),
        Mapping::Concat(_) => json!({"type": "string"}),
        Mapping::Expr { ty, .. } => match ty {
            Some(ty) => nullable(*ty),
            None => json!({}),
        },
        Mapping::Const(value) => json!({"const": value}),
        Mapping::Object(fields) => object(fields),
        Mapping::EmbeddedXml { .. } => json!({}),
    }
}

/// A typed value may be null: the reply may lack it, or have it blank.
fn nullable(ty: ValueType) -> Value {
    let mut s = of_type(ty);
    if let Some(Value::String(name)) = s.get("type").cloned() {
        s.insert("type".into(), json!([name, "null"]));
    }
    Value::Object(s)
}

/// A path through `[*]` is always a list (empty when nothing is there).
fn path_value(path: &Path, ty: Option<ValueType>) -> Value {
    let one = match ty {
        Some(ty) => nullable(ty),
        None => json!({}),
    };
    if path.is_multi() {
        json!({"type": "array", "items": one})
    } else {
        one
    }
}

fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    for field in fields {
        properties.insert(field.name.clone(), response(&field.mapping));
    }
    let required: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}
