//! Block-style YAML for files ponte writes (recorded fixtures, imported adapters), readable and
//! read back by ponte's own reader as the same value.

use serde_json::Value;

/// Block-style YAML for a JSON value; strings are written JSON-quoted (valid YAML).
pub fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                out.push_str(&pad);
                out.push_str(&yaml_key(k));
                out.push(':');
                if is_inline(v) {
                    out.push(' ');
                    out.push_str(&inline(v));
                    out.push('\n');
                } else {
                    out.push('\n');
                    write_yaml(v, indent + 2, out);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if is_inline(item) {
                    out.push(' ');
                    out.push_str(&inline(item));
                    out.push('\n');
                } else {
                    out.push('\n');
                    write_yaml(item, indent + 2, out);
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn is_inline(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    }
}

/// A scalar (or empty collection) as one line of YAML.
pub(crate) fn inline(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        Value::String(s) if plain_ok(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a string can be written as a plain YAML scalar and read back as the same string.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
    );
    let numeric = s.parse::<f64>().is_ok()
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+');
    !reserved
        && !numeric
        && (first.is_alphanumeric() || matches!(first, '/' | '$' | '_' | '('))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t', '\r', '{', '}', '[', ']', ',', '"', '\'', '`'])
}

pub(crate) fn yaml_key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if plain {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_round_trips_through_our_reader() {
        let v = json!({"a": 1, "b": "x: y", "@id": "7", "list": [1, {"k": [true, null]}, []], "empty": {}, "nested": {"s": "é\n\"q\""}});
        let mut text = String::new();
        write_yaml(&v, 0, &mut text);
        let tree = crate::config::yaml::parse(&text).unwrap();
        let notes = std::cell::RefCell::new(vec![]);
        let back: crate::config::Tree = crate::config::de::from_yaml(&tree, &notes).unwrap();
        assert_eq!(back.to_json(), v, "{text}");
    }
}
