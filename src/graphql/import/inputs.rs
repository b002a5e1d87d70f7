//! The inputs of an imported route: scalar arguments and fields of input objects become typed
//! inputs (with the schema's defaults); lists and objects deeper than the depth bound come whole
//! as `json` inputs, which are checked against the schema before every call. No field is dropped.

use apollo_compiler::Schema;
use apollo_compiler::ast::{self, Type};
use apollo_compiler::schema::ExtendedType;
use serde_json::{Map, Value, json};

use super::snake;

pub(super) struct Inputs<'a> {
    pub inputs: &'a mut Map<String, Value>,
    pub location: &'static str,
    /// How deep input objects are flattened into separate inputs.
    pub depth: usize,
}

/// A GraphQL default as the JSON an input's `default:` takes, when it is a plain scalar.
pub(super) fn json_default(value: &ast::Value) -> Option<Value> {
    match value {
        ast::Value::Int(i) => i.try_to_i32().ok().map(Value::from),
        ast::Value::Float(f) => f.try_to_f64().ok().map(Value::from),
        ast::Value::String(s) => Some(json!(s)),
        ast::Value::Boolean(b) => Some(json!(b)),
        ast::Value::Enum(e) => Some(json!(e.as_str())),
        _ => None,
    }
}

impl Inputs<'_> {
    fn key(&self, name: &str) -> String {
        let mut key = snake(name);
        while self.inputs.contains_key(&key) {
            key.push('_');
        }
        key
    }

    /// The caller-facing name: the body path for body inputs, else the input's name.
    fn external(&self, name: &str, body_path: &str) -> String {
        if self.location == "body" {
            body_path.to_string()
        } else {
            name.to_string()
        }
    }

    /// An input taking a whole value as JSON, checked against `ty` before the call.
    pub fn json(&mut self, name: &str, body_path: &str, ty: &Type, required: bool) -> Value {
        let key = self.key(name);
        let external = self.external(name, body_path);
        let mut input = Map::new();
        input.insert("in".into(), json!(self.location));
        input.insert("type".into(), json!("json"));
        if key != external {
            input.insert("name".into(), json!(external));
        }
        if !required {
            input.insert("required".into(), json!(false));
        }
        input.insert(
            "description".into(),
            json!(format!(
                "JSON of GraphQL type `{ty}`, checked against the schema before the call"
            )),
        );
        self.inputs.insert(key.clone(), Value::Object(input));
        json!(format!("${key}"))
    }

    /// The variables template for a value of type `ty`, declaring the inputs it needs.
    #[allow(clippy::too_many_arguments)]
    pub fn value(
        &mut self,
        schema: &Schema,
        name: &str,
        ty: &Type,
        body_path: &str,
        required: bool,
        default: Option<&ast::Value>,
        depth: usize,
    ) -> Value {
        if ty.is_list() {
            return self.json(name, body_path, ty, required);
        }
        match schema.types.get(ty.inner_named_type()) {
            // An optional object with required fields comes whole: as separate inputs, its
            // fields would be sent (and refused) whenever the caller leaves some out.
            Some(ExtendedType::InputObject(object))
                if depth < self.depth
                    && (required
                        || !object
                            .fields
                            .values()
                            .any(|f| f.ty.is_non_null() && f.default_value.is_none())) =>
            {
                let mut fields = Map::new();
                for f in object.fields.values() {
                    let field_required =
                        required && f.ty.is_non_null() && f.default_value.is_none();
                    let input = format!("{}_{}", snake(name), snake(&f.name));
                    let v = self.value(
                        schema,
                        &input,
                        &f.ty,
                        &format!("{body_path}.{}", f.name),
                        field_required,
                        f.default_value.as_deref(),
                        depth + 1,
                    );
                    fields.insert(f.name.to_string(), v);
                }
                Value::Object(fields)
            }
            Some(ExtendedType::InputObject(_)) => self.json(name, body_path, ty, required),
            other => {
                let mut input = Map::new();
                input.insert("in".into(), json!(self.location));
                let scalar = match ty.inner_named_type().as_str() {
                    "Int" => "integer",
                    "Float" => "number",
                    "Boolean" => "boolean",
                    _ => "string",
                };
                input.insert("type".into(), json!(scalar));
                let external = self.external(name, body_path);
                let key = self.key(name);
                if external != key {
                    input.insert("name".into(), json!(external));
                }
                match default.and_then(json_default) {
                    Some(d) => {
                        input.insert("default".into(), d);
                    }
                    None if !required => {
                        input.insert("required".into(), json!(false));
                    }
                    None => {}
                }
                if let Some(ExtendedType::Enum(e)) = other {
                    input.insert(
                        "enum".into(),
                        Value::Array(e.values.keys().map(|v| json!(v.as_str())).collect()),
                    );
                }
                self.inputs.insert(key.clone(), Value::Object(input));
                json!(format!("${key}"))
            }
        }
    }
}
