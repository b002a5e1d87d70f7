//! Route model -> route plan: what every route has (inputs, the response mapping, fault rules),
//! with the backend call compiled by the route's kind.

use crate::config::model::InputLocation;
use crate::config::route::Common;
use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::faults;
use crate::mapping::input;
use crate::mapping::response::Compiler as MappingCompiler;
use crate::xml::reader::ArrayHints;
use crate::xml::template::InputRef;

use super::RoutePlan;
use crate::kind::KindCompiled;
use crate::reading::Reading;

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

pub(super) fn compile_route<'r>(
    name: &Spanned<String>,
    route: &Common,
    errors: &mut Diagnostics,
    kind: impl FnOnce(&[InputRef], &mut [bool], &mut Diagnostics) -> KindCompiled<'r>,
) -> Option<RoutePlan> {
    let mut inputs = Vec::new();
    for (input_name, spec) in route.input {
        inputs.push(input::compile(input_name, spec, errors));
    }
    // Path parameters and `in: path` inputs must agree.
    let params = path_params(&route.path.value);
    for param in &params {
        let declared = route.input.iter().find(|(n, i)| {
            i.location.value == InputLocation::Path
                && i.name.as_ref().map_or(&n.value, |x| &x.value) == param
        });
        if declared.is_none() {
            errors.push(
                Diagnostic::error(
                    route.path.span,
                    format!("path parameter `{{{param}}}` is not declared as an input"),
                )
                .with_help(format!(
                    "add `input: {{ {param}: {{ in: path, type: string }} }}`"
                )),
            );
        }
    }
    for (input_name, spec) in route.input {
        let external = spec.name.as_ref().map_or(&input_name.value, |x| &x.value);
        if spec.location.value == InputLocation::Path && !params.contains(&external.as_str()) {
            errors.push(
                Diagnostic::error(
                    input_name.span,
                    format!(
                        "input `{}` is `in: path` but the path has no `{{{external}}}`",
                        input_name.value
                    ),
                )
                .with_help(format!("add `{{{external}}}` to the path, or change `in:`")),
            );
        }
    }

    let refs: Vec<InputRef> = inputs
        .iter()
        .map(|i| InputRef {
            name: &i.name,
            ty: i.ty,
            always_present: i.required || i.default.is_some(),
        })
        .collect();
    let mut used = vec![false; refs.len()];
    let KindCompiled {
        call,
        uses_in,
        literal,
        reply_schema,
    } = kind(&refs, &mut used, errors);
    for ((input_name, _), used) in route.input.iter().zip(&used) {
        if !used {
            let help = match literal.and_then(|r| first_literal_like(r, &input_name.value)) {
                Some(span) => format!(
                    "`{0}` at line {1} is literal text; write `${0}` to use the input",
                    input_name.value, span.start.line
                ),
                None => format!(
                    "use it in `{uses_in}` as `${}`, or remove it",
                    input_name.value
                ),
            };
            errors.push(
                Diagnostic::error(
                    input_name.span,
                    format!("input `{}` is declared but not used", input_name.value),
                )
                .with_help(help),
            );
        }
    }

    let mut mapping = MappingCompiler {
        errors,
        paths: Vec::new(),
        reads_everything: false,
    };
    let response = match route.response {
        Some(r) => mapping.response(&r.0),
        None => {
            mapping.errors.push(
                Diagnostic::error(name.span, format!("route `{}` has no `response` mapping", name.value))
                    .with_help("map the reply to output fields, e.g. response: { result: OpResponse.OpResult }"),
            );
            None
        }
    };
    for array in route.arrays {
        if let Some(mut p) = mapping.path(&array.value, array.span) {
            p.steps.push(crate::mapping::path::Step::Each);
            mapping.paths.push(p);
        }
    }
    let not_found = route
        .not_found
        .as_ref()
        .and_then(|nf| mapping.path(&nf.value, nf.span));
    let faults = faults::compile(route.faults, mapping.errors, &mut |when, errors| {
        let mut paths = MappingCompiler {
            errors,
            paths: Vec::new(),
            reads_everything: false,
        };
        let path = paths.path(&when.value, when.span);
        mapping.paths.extend(paths.paths);
        path
    });
    let mut hints = ArrayHints::from_paths(&mapping.paths).pruning(!mapping.reads_everything);
    let mut response = response;
    if let Some(schema) = &reply_schema {
        schema.add_arrays(&mut hints);
        if let Some(r) = response.as_mut() {
            schema.add_types(r);
        }
    }

    Some(RoutePlan {
        name: name.value.clone(),
        method: route.method.value,
        path: route.path.value.clone(),
        description: route.description.map(str::to_string),
        inputs,
        call: call?,
        reading: Reading {
            hints,
            response: response?,
            faults,
            not_found,
        },
        timeout: route.timeout.map(|t| t.value.0),
        idempotent: route
            .idempotent
            .unwrap_or_else(|| route.method.value.is_idempotent()),
        auth: None, // set by the adapter's compiler, which knows the adapter's own `auth:`
        cache: route
            .cache
            .and_then(|c| crate::cache::compile_policy(c, route.method.value, errors)),
        fingerprint: 0,
        inbound_limit: super::compile::compile_inbound_limit(route.rate_limit, errors),
        unavailable_status: unavailable_status(route.unavailable_status, errors),
    })
}

/// The status for a backend's "not now": 503 unless the route asks for 429.
fn unavailable_status(status: Option<&Spanned<u16>>, errors: &mut Diagnostics) -> u16 {
    match status {
        None => 503,
        Some(s) if matches!(s.value, 429 | 503) => s.value,
        Some(s) => {
            errors.push(
                Diagnostic::error(s.span, format!("unavailable_status {} is not 429 or 503", s.value))
                    .with_help("a backend's \"not now\" is answered 503 (the default) or 429, with Retry-After"),
            );
            503
        }
    }
}

/// Finds a leaf whose text is the input's name without `$` (a common slip).
fn first_literal_like(tree: &Tree, name: &str) -> Option<Span> {
    match &tree.kind {
        TreeKind::Str(s) if s == name => Some(tree.span),
        TreeKind::Seq(items) => items.iter().find_map(|i| first_literal_like(i, name)),
        TreeKind::Map(entries) => entries
            .iter()
            .find_map(|(_, v)| first_literal_like(v, name)),
        _ => None,
    }
}
