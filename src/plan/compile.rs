//! Adapter model -> plan, checking everything that can be checked before the first call.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::backend::http::{DEFAULT_MAX_REPLY, DEFAULT_TIMEOUT, HttpBackend, RetryPolicy};
use crate::config::model::{AdapterFile, HttpMethod, InputLocation, Route};
use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Span};
use crate::mapping::input;
use crate::mapping::response::Compiler as MappingCompiler;
use crate::soap::{SoapSettings, faults};
use crate::xml::reader::ArrayHints;
use crate::xml::template::InputRef;

use super::{AdapterPlan, RoutePlan};

type Compiled = (AdapterPlan, Vec<Diagnostic>);

pub fn compile_adapter(model: &AdapterFile, file: &FsPath, options: &super::LoadOptions) -> Result<Compiled, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let warnings = Vec::new();
    check_name(&model.name, &mut errors);

    let backend = &model.backend;
    let Some(soap) = &backend.soap else {
        errors.push(
            Diagnostic::error(Span::at(1, 1), "the backend has no kind")
                .with_help("add `backend: { soap: { url: ..., namespace: ... } }`"),
        );
        return Err(errors);
    };
    let settings = SoapSettings::compile(soap, &mut errors);
    let url = match &options.redirect {
        Some(base) => base.join(&model.name.value).ok(),
        None => check_url(&soap.url, &mut errors),
    };
    let mut headers = HeaderMap::new();
    for (name, value) in &backend.headers {
        match (
            HeaderName::try_from(name.value.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                headers.insert(n, v);
            }
            _ => errors.push(
                Diagnostic::error(name.span, format!("invalid HTTP header `{}`", name.value))
                    .with_help("header names are tokens; values are visible ASCII"),
            ),
        }
    }
    let retry = match &backend.retry {
        Some(r) if r.attempts.value == 0 || r.attempts.value > 10 => {
            errors.push(Diagnostic::error(
                r.attempts.span,
                "retry attempts must be 1 to 10",
            ));
            RetryPolicy::default()
        }
        Some(r) => RetryPolicy {
            attempts: r.attempts.value,
            backoff: r
                .backoff
                .as_ref()
                .map_or(RetryPolicy::default().backoff, |b| b.value.0),
        },
        None => RetryPolicy::default(),
    };
    let timeout = backend
        .timeout
        .as_ref()
        .map_or(DEFAULT_TIMEOUT, |t| t.value.0);
    if let Some(t) = &backend.timeout
        && t.value.0.is_zero()
    {
        errors.push(Diagnostic::error(t.span, "timeout must be more than zero"));
    }
    let max_reply = backend
        .max_reply_size
        .as_ref()
        .map_or(DEFAULT_MAX_REPLY, |s| s.value.0);

    let mut routes = Vec::new();
    let mut routers: HashMap<HttpMethod, matchit::Router<usize>> = HashMap::new();
    let mut shapes: HashMap<(HttpMethod, String), (String, Span)> = HashMap::new();
    if model.routes.is_empty() {
        errors.push(
            Diagnostic::error(model.name.span, "the adapter has no routes")
                .with_help("add at least one route under `routes:`"),
        );
    }
    for (name, route) in &model.routes {
        let before = errors.len();
        let shape = check_route_path(&route.path, &mut errors);
        if let Some(shape) = &shape {
            let key = (route.method.value, shape.clone());
            if let Some((other, at)) = shapes.get(&key) {
                errors.push(
                    Diagnostic::error(
                        route.path.span,
                        format!(
                            "route `{}` has the same method and path as route `{other}` (line {})",
                            name.value, at.start.line
                        ),
                    )
                    .with_help("change the path or the method of one of them"),
                );
            } else {
                shapes.insert(key, (name.value.clone(), route.path.span));
            }
        }
        let compiled = compile_route(name, route, &settings, &mut errors);
        if let (Some(plan), true) = (compiled, errors.len() == before) {
            let router = routers.entry(plan.method).or_default();
            if let Err(e) = router.insert(plan.path.clone(), routes.len()) {
                errors.push(Diagnostic::error(
                    route.path.span,
                    format!("route path conflicts with another route: {e}"),
                ));
            }
            routes.push(plan);
        }
    }
    let backend = match url {
        Some(url) => HttpBackend::new(url, timeout, retry, max_reply, headers).map_err(|e| {
            errors.push(Diagnostic::error(soap.url.span, e));
        }),
        None => Err(()),
    };
    match backend {
        Ok(backend) if errors.is_empty() => Ok((
            AdapterPlan {
                name: model.name.value.clone(),
                description: model.description.clone(),
                file: file.to_path_buf(),
                backend,
                routes,
                routers,
            },
            warnings,
        )),
        _ => Err(errors),
    }
}

fn check_name(name: &Spanned<String>, errors: &mut Vec<Diagnostic>) {
    let n = &name.value;
    let valid = n
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        errors.push(
            Diagnostic::error(
                name.span,
                format!("adapter name `{n}` cannot be a URL prefix"),
            )
            .with_help(
                "use lowercase letters, digits, `-` and `_`, starting with a letter or digit",
            ),
        );
    }
}

fn check_url(url: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<reqwest::Url> {
    // The URL may hold credentials from the environment: say what is wrong, never echo it.
    if url.value.contains("${") {
        return None; // an environment reference that did not expand, reported already
    }
    match reqwest::Url::parse(&url.value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
        Ok(u) => {
            errors.push(Diagnostic::error(
                url.span,
                format!(
                    "backend URL must be http or https with a host (scheme is `{}`)",
                    u.scheme()
                ),
            ));
            None
        }
        Err(e) => {
            errors.push(
                Diagnostic::error(url.span, format!("invalid backend URL: {e}"))
                    .with_help("write a full URL like https://api.example.com/service"),
            );
            None
        }
    }
}

/// Checks a route path; returns its shape (`/a/{}`) for conflict detection.
fn check_route_path(path: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<String> {
    let p = &path.value;
    if !p.starts_with('/') {
        errors.push(Diagnostic::error(
            path.span,
            format!("route path `{p}` must start with `/`"),
        ));
        return None;
    }
    let mut shape = String::new();
    for segment in p.split('/').skip(1) {
        shape.push('/');
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if param.is_empty() || !param.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                errors.push(
                    Diagnostic::error(path.span, format!("invalid path parameter `{segment}`"))
                        .with_help("write `{name}` with letters, digits and `_`"),
                );
                return None;
            }
            shape.push_str("{}");
        } else if segment.contains(['{', '}', '?', '#', '*', ' ']) {
            errors.push(
                Diagnostic::error(path.span, format!("invalid path segment `{segment}`"))
                    .with_help("a whole segment is a parameter: `/items/{id}`"),
            );
            return None;
        } else {
            shape.push_str(segment);
        }
    }
    Some(shape)
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn compile_route(
    name: &Spanned<String>,
    route: &Route,
    soap: &SoapSettings,
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
    let refs: Vec<InputRef> = inputs
        .iter()
        .map(|i| InputRef {
            name: &i.name,
            ty: i.ty,
            always_present: i.required || i.default.is_some(),
        })
        .collect();
    let mut used = vec![false; refs.len()];
    // Without `request`, the body is the operation's empty wrapper element.
    let default_body;
    let body = match &route.request {
        Some(r) => Some(&r.0),
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
            Some(&default_body)
        }
    };
    let call = soap.compile_call(
        &operation.value,
        route.soap_action.as_ref(),
        body,
        &refs,
        &mut used,
        errors,
    );
    for ((input_name, _), used) in route.input.iter().zip(&used) {
        if !used {
            let help = match route
                .request
                .as_ref()
                .and_then(|r| first_literal_like(&r.0, &input_name.value))
            {
                Some(span) => format!(
                    "`{0}` at line {1} is literal text; write `${0}` to use the input",
                    input_name.value, span.start.line
                ),
                None => format!(
                    "use it in `request` as `${}`, or remove it",
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
    let hints = ArrayHints::from_paths(&mapping.paths);
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
