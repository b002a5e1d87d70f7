//! Route inputs: declared with a type and a place (path, query, header, JSON body), compiled once,
//! then decoded and validated on every call. Every bad field is reported, not just the first.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use crate::config::Spanned;
use crate::config::model::{Input, InputLocation, ValueType};
use crate::diagnostic::{Diagnostic, Diagnostics};

use super::coerce;

#[derive(Debug)]
pub struct InputSpec {
    /// The name used in the adapter (`$name`).
    pub name: String,
    pub location: InputLocation,
    /// The caller-facing name: query/header name, path parameter, or dotted JSON body path.
    pub external: String,
    pub ty: ValueType,
    pub required: bool,
    pub default: Option<Value>,
    pub allowed: Option<Vec<Value>>,
    pub pattern: Option<Regex>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub max_length: Option<usize>,
    pub description: Option<String>,
    /// Forbidden control characters are removed rather than refused.
    pub strip_control: bool,
}

/// Compiles a declared input; problems go to `errors`. The spec is returned either way, so that
/// references to the input are not reported as undeclared when only its settings are wrong.
pub fn compile(name: &Spanned<String>, input: &Input, errors: &mut Diagnostics) -> InputSpec {
    let ty = input.ty.as_ref().map_or(ValueType::String, |t| t.value);
    let location = input.location.value;
    let external = input
        .name
        .as_ref()
        .map_or_else(|| name.value.clone(), |n| n.value.clone());
    if location == InputLocation::Body && external.split('.').any(str::is_empty) {
        let span = input.name.as_ref().map_or(name.span, |n| n.span);
        errors.push(
            Diagnostic::error(span, format!("invalid body path `{external}`"))
                .with_help("write a dotted path like `customer.address.zip`"),
        );
    }
    let check = |v: &crate::config::Tree, what: &str, errors: &mut Diagnostics| -> Option<Value> {
        let json = v.to_json();
        let converted = match &json {
            Value::String(s) => coerce::from_text(s, ty),
            other => coerce::from_json_input(other, ty),
        };
        match converted {
            Ok(value) => Some(value),
            Err(e) => {
                errors.push(Diagnostic::error(
                    v.span,
                    format!("{what} does not fit type {}: {e}", ty.as_str()),
                ));
                None
            }
        }
    };
    let default = input
        .default
        .as_ref()
        .and_then(|d| check(d, "default", errors));
    let allowed = input.allowed.as_ref().map(|values| {
        values
            .iter()
            .filter_map(|v| check(v, "enum value", errors))
            .collect()
    });
    let pattern =
        input
            .pattern
            .as_ref()
            .and_then(|p| match Regex::new(&format!("^(?:{})$", p.value)) {
                Ok(r) => Some(r),
                Err(e) => {
                    errors.push(Diagnostic::error(
                        p.span,
                        format!("invalid pattern: {}", regex_reason(&e.to_string())),
                    ));
                    None
                }
            });
    if location == InputLocation::Path && (input.required == Some(false) || input.default.is_some())
    {
        errors.push(
            Diagnostic::error(
                input.location.span,
                format!("path input `{}` cannot be optional", name.value),
            )
            .with_help("a path segment is always present; use `in: query` for optional inputs"),
        );
    }
    let required = input.required.unwrap_or(input.default.is_none());
    InputSpec {
        name: name.value.clone(),
        location,
        external,
        ty,
        required,
        default,
        allowed,
        pattern,
        min: input.min,
        max: input.max,
        max_length: input.max_length,
        description: input.description.clone(),
        strip_control: input.strip_control,
    }
}

/// The last line of a regex error ("error: unclosed character class"), without the prefix.
pub fn regex_reason(s: &str) -> &str {
    let last = s.lines().last().unwrap_or(s).trim();
    last.strip_prefix("error: ").unwrap_or(last)
}

/// One bad field of a call.
#[derive(Debug, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(rename = "in")]
    pub location: &'static str,
    pub problem: String,
}

/// What a call brought, before decoding.
#[derive(Default)]
pub struct CallParts<'a> {
    pub path: HashMap<&'a str, &'a str>,
    pub query: Vec<(String, String)>,
    pub headers: Option<&'a axum::http::HeaderMap>,
    pub body: Option<&'a Value>,
}

fn location_name(l: InputLocation) -> &'static str {
    match l {
        InputLocation::Path => "path",
        InputLocation::Query => "query",
        InputLocation::Header => "header",
        InputLocation::Body => "body",
    }
}

/// Percent-decodes path parameters as the router found them.
pub fn decode_params(params: Vec<(String, String)>) -> Vec<(String, String)> {
    params
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                percent_encoding::percent_decode_str(&v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

/// Decodes every input; `None` for an absent optional input without default.
pub fn decode(
    specs: &[InputSpec],
    parts: &CallParts,
) -> Result<Vec<Option<Value>>, Vec<FieldError>> {
    let mut values = Vec::with_capacity(specs.len());
    let mut errors = Vec::new();
    for spec in specs {
        let err = |problem: String| FieldError {
            field: spec.external.clone(),
            location: location_name(spec.location),
            problem,
        };
        let raw: Result<Option<Value>, String> = match spec.location {
            InputLocation::Path => Ok(parts
                .path
                .get(spec.external.as_str())
                .map(|s| Value::String((*s).to_string()))),
            InputLocation::Query => {
                let mut found = parts.query.iter().filter(|(k, _)| *k == spec.external);
                match (found.next(), found.next()) {
                    (Some(_), Some(_)) => Err("given more than once".to_string()),
                    (Some((_, v)), None) => Ok(Some(Value::String(v.clone()))),
                    _ => Ok(None),
                }
            }
            InputLocation::Header => {
                match parts.headers.and_then(|h| h.get(spec.external.as_str())) {
                    Some(v) => v
                        .to_str()
                        .map(|s| Some(Value::String(s.to_string())))
                        .map_err(|_| "header value is not visible ASCII text".to_string()),
                    None => Ok(None),
                }
            }
            InputLocation::Body => Ok(parts
                .body
                .and_then(|b| body_field(b, &spec.external))
                .cloned()),
        };
        let value = raw.and_then(|raw| match raw {
            None | Some(Value::Null) => Ok(None),
            // Text from the URL or a header is parsed; JSON body values must already have the type.
            Some(Value::String(s)) if spec.location != InputLocation::Body => {
                coerce::from_input_text(&s, spec.ty).map(Some)
            }
            Some(v) => coerce::from_json_input(&v, spec.ty).map(Some),
        });
        match value {
            Err(e) => errors.push(err(e)),
            Ok(None) if spec.required => errors.push(err("required".to_string())),
            Ok(None) => values.push(spec.default.clone()),
            Ok(Some(mut v)) => {
                if spec.strip_control {
                    strip_forbidden(&mut v);
                }
                match validate(spec, &v) {
                    Ok(()) => values.push(Some(v)),
                    Err(e) => errors.push(err(e)),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The first character XML 1.0 forbids (C0 controls but tab, line feed and carriage return;
/// U+FFFE and U+FFFF) in any text of the value: such a character cannot be sent to a backend in
/// an envelope, so the caller is told which field has it.
fn forbidden_char(v: &Value) -> Option<char> {
    let bad = |c: &char| is_forbidden(*c);
    match v {
        Value::String(s) => s.chars().find(bad),
        Value::Array(items) => items.iter().find_map(forbidden_char),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| k.chars().find(bad).or_else(|| forbidden_char(v))),
        _ => None,
    }
}

fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Removes what `forbidden_char` finds, in every string of the value (`strip_control: true`).
fn strip_forbidden(v: &mut Value) {
    match v {
        Value::String(s) if s.chars().any(is_forbidden) => s.retain(|c| !is_forbidden(c)),
        Value::Array(items) => items.iter_mut().for_each(strip_forbidden),
        Value::Object(map) => {
            let stripped: serde_json::Map<String, Value> = std::mem::take(map)
                .into_iter()
                .map(|(mut k, mut v)| {
                    k.retain(|c| !is_forbidden(c));
                    strip_forbidden(&mut v);
                    (k, v)
                })
                .collect();
            *map = stripped;
        }
        _ => {}
    }
}

fn body_field<'v>(body: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(body, |v, key| v.get(key))
}

fn validate(spec: &InputSpec, v: &Value) -> Result<(), String> {
    if let Some(c) = forbidden_char(v) {
        return Err(format!(
            "contains the control character U+{:04X}, which XML cannot carry",
            c as u32
        ));
    }
    if let Some(allowed) = &spec.allowed
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        return Err(format!("must be one of {}", list.join(", ")));
    }
    if let Value::String(s) = v {
        if let Some(max) = spec.max_length
            && s.chars().count() > max
        {
            return Err(format!("longer than {max} characters"));
        }
        if let Some(p) = &spec.pattern
            && !p.is_match(s)
        {
            return Err(format!(
                "does not match the pattern {}",
                p.as_str().trim_start_matches("^(?:").trim_end_matches(")$")
            ));
        }
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = spec.min
            && n < min
        {
            return Err(format!("must be at least {min}"));
        }
        if let Some(max) = spec.max
            && n > max
        {
            return Err(format!("must be at most {max}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, location: InputLocation, ty: ValueType, required: bool) -> InputSpec {
        InputSpec {
            name: name.into(),
            location,
            external: name.into(),
            ty,
            required,
            default: None,
            allowed: None,
            pattern: None,
            min: None,
            max: None,
            max_length: None,
            description: None,
            strip_control: false,
        }
    }

    #[test]
    fn decodes_query_path_and_nested_body_fields() {
        let mut body_spec = spec("zip", InputLocation::Body, ValueType::String, true);
        body_spec.external = "customer.address.zip".into();
        let specs = vec![
            spec("a", InputLocation::Query, ValueType::Integer, true),
            spec("id", InputLocation::Path, ValueType::String, true),
            body_spec,
            spec("opt", InputLocation::Query, ValueType::Boolean, false),
        ];
        let body = json!({"customer": {"address": {"zip": "01001-000"}}});
        let parts = CallParts {
            path: HashMap::from([("id", "7")]),
            query: vec![("a".into(), "12".into())],
            body: Some(&body),
            ..Default::default()
        };
        assert_eq!(
            decode(&specs, &parts).unwrap(),
            vec![
                Some(json!(12)),
                Some(json!("7")),
                Some(json!("01001-000")),
                None
            ]
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let mut limited = spec("code", InputLocation::Query, ValueType::String, true);
        limited.pattern = Some(Regex::new("^(?:[0-9]{8})$").unwrap());
        let specs = vec![
            spec("a", InputLocation::Query, ValueType::Integer, true),
            spec("b", InputLocation::Query, ValueType::Integer, true),
            limited,
            spec("n", InputLocation::Body, ValueType::Integer, true),
        ];
        let body = json!({"n": "3"});
        let parts = CallParts {
            query: vec![("a".into(), "x".into()), ("code".into(), "123".into())],
            body: Some(&body),
            ..Default::default()
        };
        let errors = decode(&specs, &parts).unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.problem.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "`x` is not an integer"),
                ("b", "required"),
                ("code", "does not match the pattern [0-9]{8}"),
                ("n", "expected an integer, got a string"),
            ]
        );
    }
}
