//! Variables checked before the call: with the schema known, a value the server would refuse
//! (a `json` input with the wrong item type, a required field left out) is the caller's 400 and
//! the backend is never called. A variable-coercion error the server reports anyway is the
//! caller's 400 too, naming the input that fed the variable.

use std::sync::Arc;

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use regex::Regex;
use serde_json::{Value, json};

use crate::config::{Tree, TreeKind};
use crate::problem::Problem;

/// What is known of a route's variables: their declared types and where inputs enter them.
#[derive(Debug, Default)]
pub(crate) struct VariableRules {
    schema: Option<Arc<Valid<Schema>>>,
    /// Name, type and whether the operation declares a default.
    defs: Vec<(String, Type, bool)>,
    /// Where inputs enter the variables: (`input.tags`, the input's caller-facing name).
    sources: Vec<(String, String)>,
}

impl VariableRules {
    pub fn new(
        schema: Option<Arc<Valid<Schema>>>,
        operation: &apollo_compiler::ast::OperationDefinition,
        variables: Option<&Tree>,
        inputs: &indexmap::IndexMap<crate::config::Spanned<String>, crate::config::model::Input>,
    ) -> VariableRules {
        let mut sources = Vec::new();
        if let Some(t) = variables {
            collect_sources(t, String::new(), &mut sources);
        }
        // Errors name inputs as the caller sends them (`in: body` paths, query names).
        for (_, name) in &mut sources {
            if let Some(external) = inputs
                .iter()
                .find(|(k, _)| k.value == *name)
                .and_then(|(_, i)| i.name.as_ref())
            {
                *name = external.value.clone();
            }
        }
        VariableRules {
            schema,
            defs: operation
                .variables
                .iter()
                .map(|v| {
                    (
                        v.name.to_string(),
                        (*v.ty).clone(),
                        v.default_value.is_some(),
                    )
                })
                .collect(),
            sources,
        }
    }

    /// The input that feeds a variable path (`input.tags[1]` -> `tags`), longest prefix first.
    fn input_for(&self, path: &str) -> Option<&str> {
        self.sources
            .iter()
            .filter(|(p, _)| {
                path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            })
            .max_by_key(|(p, _)| p.len())
            .map(|(_, name)| name.as_str())
    }

    /// A 400 for every problem of a value fed by an input; problems of literals are the
    /// adapter's, left for the server to report.
    pub fn check(&self, variables: Option<&Value>) -> Result<(), Problem> {
        let Some(schema) = &self.schema else {
            return Ok(());
        };
        let empty = serde_json::Map::new();
        let given = variables.and_then(Value::as_object).unwrap_or(&empty);
        let mut found = Vec::new();
        for (name, ty, has_default) in &self.defs {
            match given.get(name) {
                Some(v) => value(schema, ty, v, name.clone(), &mut found),
                None if ty.is_non_null() && !has_default => {
                    found.push((name.clone(), format!("is required ({ty})")))
                }
                None => {}
            }
        }
        let errors: Vec<Value> = found
            .iter()
            .filter_map(|(path, why)| {
                let input = self.input_for(path)?;
                Some(json!({"field": input, "problem": format!("`{path}` {why}")}))
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::bad_input(Value::Array(errors)))
        }
    }

    /// A GraphQL error that says a variable's value was refused, as the caller's 400.
    pub fn coercion_error(&self, code: &str, message: &str) -> Option<Problem> {
        if !matches!(
            code,
            "" | "BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED" | "BAD_REQUEST" | "VALIDATION"
        ) {
            return None;
        }
        let (path, why) = coercion_target(message)?;
        // A variable the route feeds from an input, or an argument named like one.
        let input = self
            .input_for(&path)
            .or_else(|| {
                let var = path.split(['.', '[']).next().unwrap_or_default();
                self.input_for(var)
            })?
            .to_string();
        let mut reason: String = why.chars().take(300).collect();
        if reason.is_empty() {
            reason = "invalid value".into();
        }
        Some(Problem::bad_input(json!([{
            "field": input,
            "problem": format!("the backend refused `{path}`: {reason}"),
        }])))
    }
}

/// `(variable path, reason)` of a coercion message: graphql-js / Apollo ("Variable \"$input\" got
/// invalid value 3 at \"input.tags[0]\"; String cannot represent..."), async-graphql ("Invalid
/// value for argument \"input.tags\", expected type \"[String!]\""), and the like.
fn coercion_target(message: &str) -> Option<(String, String)> {
    static PATTERNS: std::sync::OnceLock<[Regex; 2]> = std::sync::OnceLock::new();
    let [variable, argument] = PATTERNS.get_or_init(|| {
        [
            Regex::new(r#"(?i)variable\s+["'`]?\$([A-Za-z_][A-Za-z0-9_]*)["'`]?\s+(?:got|has|of|with|expected|must|is)?\s*(.*?(?:invalid|cannot\s+represent|expected|unknown\s+field|not\s+defined|must\s+not\s+be\s+null|failed\s+to\s+parse)[\s\S]*)$"#)
                .expect("a constant pattern"),
            Regex::new(r#"(?i)invalid value for argument\s+["'`]([A-Za-z_][A-Za-z0-9_.\[\]]*)["'`],?\s*([\s\S]*)$"#)
                .expect("a constant pattern"),
        ]
    });
    // A variable the route did not send is the adapter's slip, not the caller's.
    if message.contains("not provided") {
        return None;
    }
    if let Some(c) = variable.captures(message) {
        let mut path = c.get(1)?.as_str().to_string();
        // `at "input.tags[0]"` names the place inside the variable.
        static AT: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        let at = AT.get_or_init(|| {
            Regex::new(r#"\bat\s+["'`]([A-Za-z_][A-Za-z0-9_.\[\]]*)["'`]"#)
                .expect("a constant pattern")
        });
        if let Some(inner) = at.captures(message).and_then(|c| c.get(1))
            && inner.as_str().split(['.', '[']).next() == Some(path.as_str())
        {
            path = inner.as_str().to_string();
        }
        return Some((path, c.get(2).map_or("", |m| m.as_str()).trim().to_string()));
    }
    let c = argument.captures(message)?;
    Some((
        c.get(1)?.as_str().to_string(),
        c.get(2).map_or("", |m| m.as_str()).trim().to_string(),
    ))
}

fn is_i32(v: &Value) -> bool {
    match v.as_i64() {
        Some(n) => i32::try_from(n).is_ok(),
        None => v.as_f64().is_some_and(|f| {
            f.fract() == 0.0 && f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX)
        }),
    }
}

fn collect_sources(tree: &Tree, path: String, out: &mut Vec<(String, String)>) {
    match &tree.kind {
        TreeKind::Str(s) if s.starts_with('$') && !s.starts_with("$$") => {
            out.push((path, s[1..].to_string()))
        }
        TreeKind::Map(entries) => {
            for (k, v) in entries {
                let p = if path.is_empty() {
                    k.value.clone()
                } else {
                    format!("{path}.{}", k.value)
                };
                collect_sources(v, p, out);
            }
        }
        TreeKind::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_sources(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn describe(v: &Value) -> String {
    let text = v.to_string();
    let short: String = text.chars().take(40).collect();
    let what = match v {
        Value::Null => return "null".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    format!("{what} ({short})")
}

/// Input coercion as the GraphQL spec defines it, for values that come as JSON.
fn value(schema: &Schema, ty: &Type, v: &Value, path: String, out: &mut Vec<(String, String)>) {
    if v.is_null() {
        if ty.is_non_null() {
            out.push((path, format!("must not be null ({ty})")));
        }
        return;
    }
    if let Type::List(inner) | Type::NonNullList(inner) = ty {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    value(schema, inner, item, format!("{path}[{i}]"), out);
                }
            }
            // A single value stands for a one-item list.
            single => value(schema, inner, single, path, out),
        }
        return;
    }
    let name = ty.inner_named_type().as_str();
    let expected = |out: &mut Vec<(String, String)>| {
        out.push((path.clone(), format!("must be {name}, got {}", describe(v))))
    };
    match name {
        // JSON has one number type: `1.0` is the integer 1, as servers read it.
        "Int" if !is_i32(v) => expected(out),
        "Float" if !v.is_number() => expected(out),
        "String" if !v.is_string() => expected(out),
        "Boolean" if !v.is_boolean() => expected(out),
        "ID" if !(v.is_string() || v.is_i64() || v.is_u64()) => expected(out),
        "Int" | "Float" | "String" | "Boolean" | "ID" => {}
        _ => match schema.types.get(name) {
            Some(ExtendedType::Enum(e)) if v.as_str().is_none_or(|s| !e.values.contains_key(s)) => {
                let mut names: Vec<&str> = e.values.keys().map(|k| k.as_str()).collect();
                names.truncate(12);
                out.push((
                    path,
                    format!(
                        "must be one of {} ({name}), got {}",
                        names.join(", "),
                        describe(v)
                    ),
                ));
            }
            Some(ExtendedType::InputObject(object)) => {
                let Some(fields) = v.as_object() else {
                    expected(out);
                    return;
                };
                for key in fields.keys() {
                    if !object.fields.contains_key(key.as_str()) {
                        let known: Vec<&str> = object.fields.keys().map(|k| k.as_str()).collect();
                        let hint = match crate::diagnostic::did_you_mean(key, known.iter().copied())
                        {
                            Some(s) => format!(" (did you mean `{s}`?)"),
                            None => String::new(),
                        };
                        out.push((
                            format!("{path}.{key}"),
                            format!("is not a field of {name}{hint}"),
                        ));
                    }
                }
                for (fname, field) in &object.fields {
                    let at = format!("{path}.{fname}");
                    match fields.get(fname.as_str()) {
                        Some(fv) => value(schema, &field.ty, fv, at, out),
                        None if field.ty.is_non_null() && field.default_value.is_none() => {
                            out.push((at, format!("is required ({})", field.ty)))
                        }
                        None => {}
                    }
                }
            }
            // Custom scalars take any JSON; an unknown type is the schema's problem.
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{coercion_target, value};
    use apollo_compiler::Schema;
    use apollo_compiler::ast::Type;
    use serde_json::json;

    #[test]
    fn values_are_coerced_as_the_spec_says() {
        let schema = Schema::parse_and_validate(
            "type Query { a: Int }\nenum S { ON OFF }\ninput I { n: Int!, s: S = ON, tags: [String!] }",
            "s.graphql",
        )
        .unwrap();
        let ty = Type::Named(apollo_compiler::name!("I")).non_null();
        let problems = |v: serde_json::Value| {
            let mut out = Vec::new();
            value(&schema, &ty, &v, "input".into(), &mut out);
            out
        };
        assert!(problems(json!({"n": 1.0, "tags": "one"})).is_empty());
        assert_eq!(
            problems(json!({"s": "UP", "tag": []})),
            vec![
                (
                    "input.tag".to_string(),
                    "is not a field of I (did you mean `tags`?)".to_string()
                ),
                ("input.n".to_string(), "is required (Int!)".to_string()),
                (
                    "input.s".to_string(),
                    "must be one of ON, OFF (S), got a string (\"UP\")".to_string()
                ),
            ]
        );
        assert_eq!(
            problems(json!({"n": 3_000_000_000_i64})),
            vec![(
                "input.n".to_string(),
                "must be Int, got a number (3000000000)".to_string()
            )]
        );
    }

    #[test]
    fn reads_the_variable_of_coercion_messages() {
        assert_eq!(
            coercion_target(
                "Variable \"$input\" got invalid value 3 at \"input.tags[0]\"; String cannot represent a non string value: 3"
            )
            .map(|(p, _)| p),
            Some("input.tags[0]".to_string())
        );
        assert_eq!(
            coercion_target(
                "Invalid value for argument \"input.tags\", expected type \"[String!]\""
            )
            .map(|(p, _)| p),
            Some("input.tags".to_string())
        );
        assert_eq!(
            coercion_target("Cannot query field \"nome\" on type \"Contact\"."),
            None
        );
    }
}
