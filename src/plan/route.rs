//! Route model -> route plan: inputs, the backend call (SOAP envelope or GraphQL document), the
//! response mapping and the fault rules.

use std::path::Path as FsPath;

use crate::config::model::{InputLocation, Route};
use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Span};
use crate::faults;
use crate::mapping::input;
use crate::mapping::response::Compiler as MappingCompiler;
use crate::soap::{SoapCall, SoapSettings};
use crate::xml::reader::ArrayHints;
use crate::xml::template::InputRef;

use super::compile::Kind;
use super::{Call, RoutePlan};

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

pub(super) fn compile_route(
    name: &Spanned<String>,
    route: &Route,
    kind: &Kind,
    file: &FsPath,
    errors: &mut Vec<Diagnostic>,
) -> Option<RoutePlan> {
    let mut inputs = Vec::new();
    for (input_name, spec) in &route.input {
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
    for (input_name, spec) in &route.input {
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
    let call = match kind {
        Kind::Soap(soap) => {
            misplaced(route, false, errors);
            Call::Soap(soap_call(name, route, soap, &refs, &mut used, errors)?)
        }
        Kind::Graphql(settings) => {
            misplaced(route, true, errors);
            Call::Graphql(crate::graphql::compile_call(
                name, route, settings, file, &refs, &mut used, errors,
            )?)
        }
    };
    let where_used = if matches!(kind, Kind::Soap(_)) {
        "request"
    } else {
        "variables"
    };
    for ((input_name, _), used) in route.input.iter().zip(&used) {
        if !used {
            let literal = route
                .request
                .as_ref()
                .map(|r| &r.0)
                .or(route.variables.as_ref());
            let help = match literal.and_then(|r| first_literal_like(r, &input_name.value)) {
                Some(span) => format!(
                    "`{0}` at line {1} is literal text; write `${0}` to use the input",
                    input_name.value, span.start.line
                ),
                None => format!(
                    "use it in `{where_used}` as `${}`, or remove it",
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
    let response = match &route.response {
        Some(r) => mapping.response(&r.0),
        None => {
            mapping.errors.push(
                Diagnostic::error(name.span, format!("route `{}` has no `response` mapping", name.value))
                    .with_help("map the reply to output fields, e.g. response: { result: OpResponse.OpResult }"),
            );
            None
        }
    };
    for array in &route.arrays {
        if let Some(mut p) = mapping.path(&array.value, array.span) {
            p.steps.push(crate::mapping::path::Step::Each);
            mapping.paths.push(p);
        }
    }
    let not_found = route
        .not_found
        .as_ref()
        .and_then(|nf| mapping.path(&nf.value, nf.span));
    let hints = ArrayHints::from_paths(&mapping.paths).pruning(!mapping.reads_everything);
    let faults = faults::compile(&route.faults, errors);

    Some(RoutePlan {
        name: name.value.clone(),
        method: route.method.value,
        path: route.path.value.clone(),
        description: route.description.clone(),
        inputs,
        call,
        hints,
        response: response?,
        faults,
        timeout: route.timeout.as_ref().map(|t| t.value.0),
        not_found,
    })
}

/// Keys that belong to the other backend kind are reported, not silently ignored.
fn misplaced(route: &Route, graphql: bool, errors: &mut Vec<Diagnostic>) {
    let report = |errors: &mut Vec<Diagnostic>, span: Span, key: &str, kind: &str| {
        errors.push(
            Diagnostic::error(span, format!("`{key}` is for {kind} backends"))
                .with_help("remove it; this adapter's backend is of the other kind"),
        );
    };
    if graphql {
        if let Some(o) = &route.operation {
            report(errors, o.span, "operation", "SOAP");
        }
        if let Some(r) = &route.request {
            report(errors, r.0.span, "request", "SOAP");
        }
        if let Some(a) = &route.soap_action {
            report(errors, a.span, "soap_action", "SOAP");
        }
        if let Some(a) = route.arrays.first() {
            report(errors, a.span, "arrays", "SOAP (XML)");
        }
    } else {
        for (key, span) in [
            ("query", route.query.as_ref().map(|q| q.span)),
            ("query_file", route.query_file.as_ref().map(|q| q.span)),
            (
                "operation_name",
                route.operation_name.as_ref().map(|q| q.span),
            ),
            ("variables", route.variables.as_ref().map(|q| q.span)),
            ("partial", route.partial.as_ref().map(|q| q.span)),
        ] {
            if let Some(span) = span {
                report(errors, span, key, "GraphQL");
            }
        }
    }
}

fn soap_call(
    name: &Spanned<String>,
    route: &Route,
    soap: &SoapSettings,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Vec<Diagnostic>,
) -> Option<SoapCall> {
    let Some(operation) = &route.operation else {
        errors.push(
            Diagnostic::error(
                name.span,
                format!("route `{}` names no SOAP `operation`", name.value),
            )
            .with_help("add `operation: <OperationName>` from the WSDL"),
        );
        return None;
    };
    if let Some(action) = &route.soap_action
        && action.value.contains(['"', '\r', '\n'])
    {
        errors.push(Diagnostic::error(
            action.span,
            "soap_action cannot contain quotes or line breaks",
        ));
    }
    // Without `request`, the body is the operation's empty wrapper element.
    let default_body;
    let body = match &route.request {
        Some(r) => &r.0,
        None => {
            default_body = Tree {
                span: operation.span,
                kind: TreeKind::Map(vec![(
                    operation.clone(),
                    Tree {
                        span: operation.span,
                        kind: TreeKind::Null,
                    },
                )]),
            };
            &default_body
        }
    };
    Some(soap.compile_call(
        &operation.value,
        route.soap_action.as_ref(),
        Some(body),
        refs,
        used,
        errors,
    ))
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
