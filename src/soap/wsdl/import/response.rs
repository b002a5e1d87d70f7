//! The reply side of an imported route: a response mapping that flattens the wrapper (leaves
//! typed from the schema, repeating elements as `each`), the `arrays:` hints for every element
//! that may repeat, and a sample reply body with the JSON the mapping makes of it.

use serde_json::{Map, Value, json};

use super::names::{Names, snake};
use super::sample;
use super::yaml::Y;
use crate::soap::wsdl::expand::Field;
use crate::soap::wsdl::shape::ValueKind;

/// How deep the mapping goes below the flattened wrapper; deeper content is listed, not mapped.
const MAP_DEPTH: usize = 3;
/// How deep `arrays:` hints and sample replies go.
const HINT_DEPTH: usize = 8;

pub(crate) struct Response {
    pub mapping: Y,
    /// The JSON the mapping gives for `sample_xml`.
    pub expected: Value,
    pub arrays: Vec<String>,
    pub left_out: Vec<String>,
}

/// The mapping for the Body's elements `fields` (paths start at their names).
pub(crate) fn response(fields: &[Field]) -> Response {
    let mut out = Response {
        mapping: Y::map(),
        expected: Value::Object(Map::new()),
        arrays: Vec::new(),
        left_out: Vec::new(),
    };
    for f in fields {
        hints(f, &f.name, 0, &mut out.arrays);
    }
    // Flatten: go down through wrappers that hold exactly one element that is not a list.
    let (start, path): (Vec<&Field>, String) = match fields {
        [one] => {
            let mut current = one;
            let mut path = one.name.clone();
            while let [only] = current.children.as_slice()
                && !only.children.is_empty()
                && !only.repeats
                && !current.open
            {
                path = format!("{path}.{}", only.name);
                current = only;
            }
            (current.children.iter().collect(), path)
        }
        many => (many.iter().collect(), String::new()),
    };
    let single_value =
        matches!(start.as_slice(), [f] if f.children.is_empty() && f.simple.is_some());
    let mut names = Names::default();
    let mut expected = Map::new();
    for f in start {
        let key = if single_value {
            "result".to_string()
        } else {
            output_key(&mut names, &f.name)
        };
        let p = join(&path, &f.name);
        match map_field(f, &p, 0, &mut out.left_out) {
            Some((y, v)) => {
                out.mapping.put(&key, y);
                expected.insert(key, v);
            }
            None => out
                .left_out
                .push(format!("{p}: not mapped (no value of its own)")),
        }
    }
    out.expected = Value::Object(expected);
    out
}

/// The words of a mapping object.
const MAPPING_KEYS: &[&str] = &[
    "from", "type", "default", "each", "fields", "concat", "expr", "const", "parse",
];

/// An output field name for element `name`: snake_case, never a word of a mapping object.
fn output_key(names: &mut Names, name: &str) -> String {
    let mut key = snake(name);
    if MAPPING_KEYS.contains(&key.as_str()) {
        key.push_str("_value");
    }
    names.claim(&key)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `path` is relative to the enclosing `each` item (or the reply root).
fn map_field(
    f: &Field,
    path: &str,
    depth: usize,
    left_out: &mut Vec<String>,
) -> Option<(Y, Value)> {
    if f.children.is_empty() {
        let simple = f.simple.as_ref()?;
        let (_, value) = sample::value(simple);
        if f.repeats {
            // A list of text: typed per item would need `each`; the values stay strings.
            let text = sample::value(simple).0;
            return Some((Y::Flow(json!(path)), json!([text])));
        }
        return Some(match simple.kind {
            ValueKind::String => (Y::Flow(json!(path)), value),
            kind => (
                Y::Flow(json!({"from": path, "type": kind.type_word()})),
                value,
            ),
        });
    }
    if depth >= MAP_DEPTH {
        left_out.push(format!(
            "{path}: deeper than {MAP_DEPTH} levels (map it by hand if needed)"
        ));
        return None;
    }
    let mut names = Names::default();
    let mut fields = Y::map();
    let mut object = Map::new();
    let relative = f.repeats;
    for c in &f.children {
        let child_path = if relative {
            c.name.clone()
        } else {
            join(path, &c.name)
        };
        if let Some((y, v)) = map_field(c, &child_path, depth + 1, left_out) {
            let key = output_key(&mut names, &c.name);
            fields.put(&key, y);
            object.insert(key, v);
        }
    }
    if fields.is_empty() {
        return None;
    }
    if f.repeats {
        let mut each = Y::map();
        each.put("each", Y::Flow(json!(path)));
        each.put("fields", fields);
        Some((each, json!([Value::Object(object)])))
    } else {
        Some((fields, Value::Object(object)))
    }
}

/// Every element below `f` that may repeat, as a path from the Body.
fn hints(f: &Field, path: &str, depth: usize, out: &mut Vec<String>) {
    if depth > HINT_DEPTH {
        return;
    }
    if f.repeats && depth > 0 && !out.iter().any(|p| p == path) {
        out.push(path.to_string());
    }
    for c in &f.children {
        hints(c, &format!("{path}.{}", c.name), depth + 1, out);
    }
}

/// A sample of `f` as XML: every element once, values from `sample::value`. `default_ns` is the
/// default namespace in scope.
pub(crate) fn sample_xml(f: &Field, depth: usize, out: &mut String, default_ns: &str) {
    if depth > HINT_DEPTH {
        return;
    }
    let name = &f.name;
    let xmlns = if f.ns != default_ns {
        format!(" xmlns=\"{}\"", escape(&f.ns))
    } else {
        String::new()
    };
    out.push_str(&format!("<{name}{xmlns}>"));
    if let Some(simple) = &f.simple
        && f.children.is_empty()
    {
        out.push_str(&escape(&sample::value(simple).0));
    }
    for c in &f.children {
        sample_xml(c, depth + 1, out, &f.ns);
    }
    out.push_str(&format!("</{name}>"));
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
