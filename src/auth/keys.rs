//! Named secrets (API keys, HMAC secrets) from the adapter and from a keys file, read once at load
//! time. Errors name the file and the line number, never a value.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::config::Spanned;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};

/// A secret with the name that becomes the caller's credential.
pub(crate) struct NamedSecret {
    pub name: Arc<str>,
    pub value: Vec<u8>,
}

/// The secrets written in the adapter followed by those of `file`; `what` names them in messages
/// ("key", "secret"). Empty values and repeated names are errors.
pub(crate) fn collect(
    inline: &IndexMap<Spanned<String>, Spanned<String>>,
    file: Option<&Spanned<String>>,
    adapter_file: &Path,
    what: &str,
    errors: &mut Diagnostics,
) -> Vec<NamedSecret> {
    let mut secrets: Vec<NamedSecret> = Vec::new();
    for (name, value) in inline {
        if value.value.is_empty() {
            errors.push(
                Diagnostic::error(value.span, format!("{what} `{}` is empty", name.value))
                    .with_help("set its environment variable, or remove the entry"),
            );
            continue;
        }
        secrets.push(NamedSecret {
            name: Arc::from(name.value.as_str()),
            value: value.value.as_bytes().to_vec(),
        });
    }
    if let Some(file) = file {
        read_file(file, adapter_file, what, &mut secrets, errors);
    }
    let mut seen = std::collections::HashSet::new();
    for s in &secrets {
        if !seen.insert(s.name.clone()) {
            let at = file.map_or_else(
                || inline.keys().next().map(|k| k.span).unwrap_or_default(),
                |f| f.span,
            );
            errors.push(Diagnostic::error(
                at,
                format!("{what} name `{}` is used twice", s.name),
            ));
        }
    }
    secrets
}

/// `collect`, where none at all is an error at `at` (nobody could call).
pub(crate) fn collect_some(
    inline: &IndexMap<Spanned<String>, Spanned<String>>,
    file: Option<&Spanned<String>>,
    at: Span,
    adapter_file: &Path,
    what: &str,
    errors: &mut Diagnostics,
) -> Vec<NamedSecret> {
    let before = errors.mark();
    let secrets = collect(inline, file, adapter_file, what, errors);
    if secrets.is_empty() && !errors.errors_since(before) {
        errors.push(
            Diagnostic::error(at, format!("no {what} is given, so nobody could call")).with_help(
                format!(
                    "name at least one {what}, e.g. `flows: \"${{FLOWS_{}}}\"`",
                    what.to_uppercase()
                ),
            ),
        );
    }
    secrets
}

/// Reads `name: value` lines; blank lines and lines starting with `#` are skipped.
fn read_file(
    file: &Spanned<String>,
    adapter_file: &Path,
    what: &str,
    secrets: &mut Vec<NamedSecret>,
    errors: &mut Diagnostics,
) {
    let path = adapter_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(&file.value);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(
                Diagnostic::error(file.span, format!("cannot read `{}`: {e}", file.value))
                    .with_help("the path is relative to the adapter file"),
            );
            return;
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
                secrets.push(NamedSecret {
                    name: Arc::from(name.trim()),
                    value: value.trim().as_bytes().to_vec(),
                });
            }
            _ => errors.push(
                Diagnostic::error(
                    file.span,
                    format!("line {} of `{}` is not `name: value`", i + 1, file.value),
                )
                .with_help(format!("each line names a {what}: `flows: 3f9c...`")),
            ),
        }
    }
}
