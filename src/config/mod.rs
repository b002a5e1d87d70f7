//! Adapter files: YAML with positions -> environment expanded -> typed model.
//!
//! Loading never stops at the first problem: every error that can be found is returned, each
//! pointing at the user's file, line and column.

pub mod de;
pub mod env;
pub mod model;
pub mod tree;
pub mod yaml;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Span};

pub use de::Spanned;
pub use model::AdapterFile;
pub use tree::{Tree, TreeKind};

/// An adapter file read and decoded, with where it came from.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub model: AdapterFile,
}

/// Reads the environment through this, so tests can supply their own.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

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

/// Decodes one adapter file. Returns the model only when there were no errors.
pub fn load_file(path: &Path, env: EnvLookup) -> (Option<AdapterFile>, Vec<Diagnostic>) {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (model, diagnostics) = decode(&text, env);
            let diagnostics = diagnostics.into_iter().map(|d| d.in_file(path)).collect();
            (model, diagnostics)
        }
        Err(e) => (
            None,
            vec![
                Diagnostic::error(Span::default(), format!("cannot read file: {e}")).in_file(path),
            ],
        ),
    }
}

/// Decodes adapter text (no file attached to the diagnostics).
pub fn decode(text: &str, env: EnvLookup) -> (Option<AdapterFile>, Vec<Diagnostic>) {
    let mut root = match yaml::parse(text) {
        Ok(root) => root,
        Err(d) => return (None, vec![d]),
    };
    let mut errors = Vec::new();
    env::expand(&mut root, env, &mut errors);
    let notes = RefCell::new(Vec::new());
    let model = match de::from_yaml::<AdapterFile>(&root, &notes) {
        Ok(model) => Some(model),
        Err(e) => {
            errors.push(e.into_diagnostic(root.span));
            collect_part_errors(&root, &notes, &mut errors);
            None
        }
    };
    errors.extend(notes.into_inner());
    dedupe(&mut errors);
    if errors.iter().any(Diagnostic::is_error) {
        (None, errors)
    } else {
        (model, errors)
    }
}

/// Decoding stops at the first hard error; decode the backend and each route on its own to find
/// the errors in the other parts too.
fn collect_part_errors(
    root: &yaml::Yaml,
    notes: &RefCell<Vec<Diagnostic>>,
    errors: &mut Vec<Diagnostic>,
) {
    if let Some(backend) = root.get("backend")
        && let Err(e) = de::from_yaml::<model::Backend>(backend, notes)
    {
        errors.push(e.into_diagnostic(backend.span));
    }
    if let Some(yaml::Yaml {
        kind: yaml::YamlKind::Map(routes),
        ..
    }) = root.get("routes")
    {
        for (_, route) in routes {
            if let Err(e) = de::from_yaml::<model::Route>(route, notes) {
                errors.push(e.into_diagnostic(route.span));
            }
        }
    }
}

fn dedupe(errors: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|d| seen.insert((d.span, d.message.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn reports_errors_from_several_routes_at_once() {
        let text = "name: calc\nbackend:\n  soap: { url: http://x, namespace: urn:x }\nroutes:\n  a:\n    method: GETT\n    path: /a\n  b:\n    method: GET\n    pth: /b\n";
        let (model, errors) = decode(text, &no_env);
        assert!(model.is_none());
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
