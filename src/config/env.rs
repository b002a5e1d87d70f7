//! `${NAME}` and `${NAME:-default}` in adapter files, taken from the environment at load time.
//!
//! Values often are secrets, so nothing here (or downstream) echoes an expanded value: errors name
//! the variable, never its content. `$${` writes a literal `${`.

use crate::diagnostic::{Diagnostic, Diagnostics};

use super::yaml::{Yaml, YamlKind};
use crate::secrets::Secrets;

/// Expands every scalar in the tree. Missing variables without a default are reported at the
/// scalar's position; expansion goes on so that all of them are reported at once. Every value
/// taken from the environment is noted in `secrets`, with where it landed.
pub fn expand(
    node: &mut Yaml,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing_is_empty: bool,
    errors: &mut Diagnostics,
    secrets: &mut Secrets,
) {
    let span = node.span;
    match &mut node.kind {
        YamlKind::Scalar { text, .. } if text.contains("${") => {
            let mut note = |name: &str, value: &str| secrets.note(name, value, span);
            match expand_value(text, lookup, missing_is_empty, &mut note) {
                Ok(expanded) => *text = expanded,
                Err(message) => {
                    errors.push(Diagnostic::error(node.span, message.0).with_help(message.1))
                }
            }
        }
        YamlKind::Seq(items) => {
            for item in items {
                expand(item, lookup, missing_is_empty, errors, secrets);
            }
        }
        YamlKind::Map(entries) => {
            for (_, value) in entries {
                expand(value, lookup, missing_is_empty, errors, secrets);
            }
        }
        _ => {}
    }
}

/// (message, help)
type ExpandError = (String, String);

/// Expands one value (the tree walk above notes secrets; this is for tests). With `missing_is_empty`, a variable that is neither set nor defaulted
/// expands to nothing (offline runs: `ponte test`, `serve --mock`) instead of being an error.
#[cfg(test)]
pub fn expand_str(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing_is_empty: bool,
) -> Result<String, ExpandError> {
    expand_value(text, lookup, missing_is_empty, &mut |_, _| {})
}

/// `expand_str`, telling `note` each variable taken from the environment and its value (defaults
/// are written in the file: they are no secret).
fn expand_value(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing_is_empty: bool,
    note: &mut dyn FnMut(&str, &str),
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body_start) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(close) = body_start.find('}') else {
            return Err((
                "unterminated `${` in value".into(),
                "close it with `}`, or write `$${` for a literal `${`".into(),
            ));
        };
        let body = &body_start[..close];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((
                format!("`${{{body}}}` is not a valid environment reference"),
                "write ${NAME} or ${NAME:-default}, NAME made of letters, digits and _".into(),
            ));
        }
        match (lookup(name).filter(|v| !v.is_empty()), default) {
            (Some(value), _) => {
                note(name, &value);
                out.push_str(&value);
            }
            (None, Some(default)) => out.push_str(default),
            (None, None) if missing_is_empty => {}
            (None, None) => {
                return Err((
                    format!("environment variable `{name}` is not set"),
                    format!("set it, or give a default: ${{{name}:-...}}"),
                ));
            }
        }
        rest = &body_start[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOST").then(|| "example.test".to_string())
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(
            expand_str("http://${HOST}/x", &env, false).unwrap(),
            "http://example.test/x"
        );
        assert_eq!(expand_str("${PORT:-8080}", &env, false).unwrap(), "8080");
        assert_eq!(expand_str("$${HOST}", &env, false).unwrap(), "${HOST}");
        assert_eq!(expand_str("cost: $5", &env, false).unwrap(), "cost: $5");
    }

    #[test]
    fn names_the_missing_variable_without_a_value() {
        let (msg, help) = expand_str("${API_TOKEN}", &env, false).unwrap_err();
        assert_eq!(expand_str("a${API_TOKEN}b", &env, true).unwrap(), "ab");
        assert_eq!(msg, "environment variable `API_TOKEN` is not set");
        assert!(help.contains("${API_TOKEN:-"));
    }
}
