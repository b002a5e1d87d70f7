//! Adapter files: YAML with positions -> environment expanded -> typed model.
//!
//! Loading never stops at the first problem: every error that can be found is returned, each
//! pointing at the user's file, line and column.

pub mod de;
pub(crate) mod emit;
pub mod env;
pub mod model;
pub(crate) mod route;
pub mod tree;
pub mod yaml;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::secrets::Secrets;

pub use de::Spanned;
pub use model::{Adapter, AdapterFile};
pub use tree::{Tree, TreeKind};

/// Reads the environment through this, so tests can supply their own.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A header name an adapter gives (`backend.headers`, `auth`, `cache.vary`...), or the error
/// every one of those places reports the same way.
pub(crate) fn header_name(name: &Spanned<String>) -> Result<axum::http::HeaderName, Diagnostic> {
    axum::http::HeaderName::try_from(name.value.as_str()).map_err(|_| {
        Diagnostic::error(
            name.span,
            format!("`{}` is not an HTTP header name", name.value),
        )
        .with_help("a header name is letters, digits and `-`, without spaces or `:`")
    })
}

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The adapter files of a directory (`*.yaml`, `*.yml`), sorted by name.
pub fn adapter_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Diagnostic::error(
            Span::default(),
            format!("cannot read the adapter directory: {e}"),
        )
        .in_file(dir)
        .with_help("pass the folder that holds your adapters with --adapters DIR")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Decodes one adapter file: the model of what decoded (see `decode`), every problem, and the
/// values taken from the environment (which later diagnostics must not print either).
pub fn load_file(
    path: &Path,
    env: EnvLookup,
    missing_env_is_empty: bool,
) -> (Option<Adapter>, Vec<Diagnostic>, Secrets) {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (model, diagnostics, secrets) =
                decode_noting_secrets(&text, env, missing_env_is_empty);
            let diagnostics = diagnostics.into_iter().map(|d| d.in_file(path)).collect();
            (model, diagnostics, secrets)
        }
        Err(e) => (
            None,
            vec![
                Diagnostic::error(Span::default(), format!("cannot read file: {e}")).in_file(path),
            ],
            Secrets::default(),
        ),
    }
}

/// Decodes adapter text (no file attached to the diagnostics): the key under `backend:` chooses
/// the kind, whose route type then decodes the routes.
pub fn decode(
    text: &str,
    env: EnvLookup,
    missing_env_is_empty: bool,
) -> (Option<Adapter>, Vec<Diagnostic>) {
    let (model, diagnostics, _) = decode_noting_secrets(text, env, missing_env_is_empty);
    (model, diagnostics)
}

/// `decode`, also returning the values taken from the environment. No diagnostic quotes one.
pub(crate) fn decode_noting_secrets(
    text: &str,
    env: EnvLookup,
    missing_env_is_empty: bool,
) -> (Option<Adapter>, Vec<Diagnostic>, Secrets) {
    let mut secrets = Secrets::default();
    let (mut root, duplicates) = match yaml::parse_all(text) {
        Ok(parsed) => parsed,
        Err(d) => return (None, vec![d], secrets),
    };
    let mut errors = Diagnostics::from(duplicates);
    env::expand(
        &mut root,
        env,
        missing_env_is_empty,
        &mut errors,
        &mut secrets,
    );
    let model = match backend_kind(&root) {
        Ok("soap") => decode_kind(&mut root, &mut errors).map(Adapter::Soap),
        Ok("graphql") => decode_kind(&mut root, &mut errors).map(Adapter::Graphql),
        Ok(_) => decode_kind(&mut root, &mut errors).map(Adapter::Http),
        Err(d) => {
            errors.push(d);
            // The routes cannot be checked without a kind; everything else still is.
            decode_recovering::<AdapterFile<serde::de::IgnoredAny>>(&mut root, &mut errors);
            None
        }
    };
    errors.dedupe();
    let mut diagnostics = errors.into_vec();
    for d in &mut diagnostics {
        secrets.redact_diagnostic(d);
    }
    (model, diagnostics, secrets)
}

fn decode_kind<R>(root: &mut yaml::Yaml, errors: &mut Diagnostics) -> Option<AdapterFile<R>>
where
    R: route::RouteKeys + serde::de::DeserializeOwned,
{
    // Only keys inside `routes:` are route keys; a stray `query:` elsewhere stays "unknown".
    let routes = root.get("routes").map(|r| r.span);
    let first = errors.mark();
    let model = decode_recovering::<AdapterFile<R>>(root, errors);
    if let Some(routes) = routes {
        route::explain_misplaced::<R>(errors.since(first), routes);
    }
    model
}

/// Which backend kind the file declares: `soap`, `graphql` or `http`, exactly one.
fn backend_kind(root: &yaml::Yaml) -> Result<&'static str, Diagnostic> {
    const KINDS: [&str; 3] = ["soap", "graphql", "http"];
    let backend = root.get("backend");
    let present: Vec<&'static str> = KINDS
        .into_iter()
        .filter(|k| backend.and_then(|b| b.get(k)).is_some())
        .collect();
    let at = backend.map_or(Span::at(1, 1), |b| b.span);
    match present.as_slice() {
        [one] => Ok(one),
        [] => Err(Diagnostic::error(at, "the backend has no kind").with_help(
            "add `soap: { url: ..., namespace: ... }`, `graphql: { url: ... }` or `http: { url: ... }` under `backend:`",
        )),
        many => Err(Diagnostic::error(
            at,
            format!("the backend has several kinds: {}", many.join(", ")),
        )
        .with_help("an adapter talks to one backend; split it in several files")),
    }
}

/// Decodes `T` from a positioned YAML tree, finding every error rather than the first.
///
/// Serde stops at the first hard error, so after each one the offending node is cut out of the
/// tree and decoding runs again; unknown keys are collected without stopping. The value of what
/// remains is returned even when there were errors, so that later checks can report theirs.
pub(crate) fn decode_recovering<T: serde::de::DeserializeOwned>(
    root: &mut yaml::Yaml,
    errors: &mut Diagnostics,
) -> Option<T> {
    let notes = RefCell::new(Vec::new());
    let mut pruned_in: Vec<Span> = Vec::new();
    let mut model = None;
    for _ in 0..MAX_RECOVERIES {
        match de::from_yaml::<T>(root, &notes) {
            Ok(m) => {
                model = Some(m);
                break;
            }
            Err(e) => {
                let span = e.span.unwrap_or(root.span);
                // A key we cut out is now missing: that is our doing, not the user's.
                let artifact =
                    e.message.starts_with("missing required key") && pruned_in.contains(&span);
                if !artifact {
                    errors.push(e.into_diagnostic(root.span));
                }
                match prune(root, span) {
                    Some(parent) => pruned_in.push(parent),
                    None => break,
                }
            }
        }
    }
    errors.extend(notes.into_inner());
    errors.dedupe();
    model
}

const MAX_RECOVERIES: usize = 200;

/// Removes the map entry or list item whose key or value sits at `span`; returns the span of the
/// collection it was removed from.
fn prune(node: &mut yaml::Yaml, span: Span) -> Option<Span> {
    let here = node.span;
    match &mut node.kind {
        yaml::YamlKind::Map(entries) => {
            if let Some(i) = entries
                .iter()
                .position(|(k, v)| v.span == span || k.span == span)
            {
                entries.remove(i);
                return Some(here);
            }
            entries.iter_mut().find_map(|(_, v)| prune(v, span))
        }
        yaml::YamlKind::Seq(items) => {
            if let Some(i) = items.iter().position(|v| v.span == span) {
                items.remove(i);
                return Some(here);
            }
            items.iter_mut().find_map(|v| prune(v, span))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_key_of_another_kind_is_explained_only_inside_routes() {
        let text = "name: calc\nquery: x\nbackend:\n  soap: { url: http://x, namespace: urn:x }\nroutes:\n  a:\n    method: GET\n    path: /a\n    query: y\n    operation: A\n    response: { r: R }\n";
        let (_, errors) = decode(text, &no_env, false);
        let lines: Vec<String> = errors
            .iter()
            .map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.message))
            .collect();
        assert_eq!(
            lines,
            vec![
                "2:1 unknown key `query`".to_string(),
                "9:5 `query` is for GraphQL backends".to_string(),
            ]
        );
    }

    #[test]
    fn reports_errors_from_several_routes_at_once() {
        let text = "name: calc\nbackend:\n  soap: { url: http://x, namespace: urn:x }\nroutes:\n  a:\n    method: GETT\n    path: /a\n  b:\n    method: GET\n    pth: /b\n";
        let (_, errors) = decode(text, &no_env, false);
        let lines: Vec<String> = errors
            .iter()
            .map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.message))
            .collect();
        assert!(
            lines.contains(&"6:13 unknown value `GETT`".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"10:5 unknown key `pth`".to_string()),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("missing required key `path`")),
            "{lines:?}"
        );
    }
}
