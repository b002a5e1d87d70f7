//! Adapter model -> plan, checking everything that can be checked before the first call.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use std::time::Duration;

use crate::backend::breaker::BreakerSettings;
use crate::backend::http::{
    BackendSettings, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REPLY, DEFAULT_TIMEOUT, RetryPolicy,
};
use crate::config::Spanned;
use crate::config::model::{Adapter, AdapterFile, Backend, HttpMethod};
use crate::config::route::RouteKeys;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::graphql::GraphqlSettings;
use crate::soap::SoapSettings;
use crate::xml::template::InputRef;

use super::AdapterPlan;
use crate::kind::KindCompiled;

type Compiled = (AdapterPlan, Vec<Diagnostic>);

/// Compiles an adapter of any kind: the kind's settings once, then each route through the kind's
/// route compiler.
pub fn compile_adapter(
    model: &Adapter,
    file: &FsPath,
    options: &super::LoadOptions,
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut errors = Diagnostics::default();
    let compiled = match model {
        Adapter::Soap(a) => {
            let Some(soap) = &a.backend.soap else {
                return Err(errors.into_vec());
            };
            let settings = SoapSettings::compile(soap, &mut errors);
            compile_with(
                a,
                &soap.url,
                file,
                options,
                &mut errors,
                |name, route, refs, used, errors| {
                    crate::soap::compile_route(name, route, &settings, refs, used, errors)
                },
            )
        }
        Adapter::Graphql(a) => {
            let Some(graphql) = &a.backend.graphql else {
                return Err(errors.into_vec());
            };
            let settings = GraphqlSettings::load(graphql, file, &mut errors);
            compile_with(
                a,
                &graphql.url,
                file,
                options,
                &mut errors,
                |name, route, refs, used, errors| {
                    crate::graphql::compile_route(name, route, &settings, file, refs, used, errors)
                },
            )
        }
        Adapter::Http(a) => {
            let Some(http) = &a.backend.http else {
                return Err(errors.into_vec());
            };
            if let Ok(u) = reqwest::Url::parse(&http.url.value)
                && let Some(d) = crate::xmlhttp::check_base_url(&u, &http.url)
            {
                errors.push(d);
            }
            compile_with(
                a,
                &http.url,
                file,
                options,
                &mut errors,
                |_, route, refs, used, errors| {
                    crate::xmlhttp::compile_route(route, refs, used, errors)
                },
            )
        }
    };
    // Warnings (schema defects) are worth reading beside the errors too.
    match compiled {
        Some(adapter) if !errors.has_errors() => Ok((adapter, errors.into_vec())),
        _ => Err(errors.into_vec()),
    }
}

fn compile_with<'k, R: RouteKeys>(
    model: &'k AdapterFile<R>,
    url: &Spanned<String>,
    file: &FsPath,
    options: &super::LoadOptions,
    errors: &mut Diagnostics,
    mut kind: impl FnMut(
        &Spanned<String>,
        &'k R,
        &[InputRef],
        &mut [bool],
        &mut Diagnostics,
    ) -> KindCompiled<'k>,
) -> Option<AdapterPlan> {
    check_name(&model.name, errors);
    let url = match &options.redirect {
        Some(base) => base.join(&model.name.value).ok(),
        None => check_url(url, errors),
    };
    let backend = compile_backend(&model.backend, url, errors);
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
        let common = route.common();
        let before = errors.mark();
        let shape = check_route_path(common.path, errors);
        if let Some(shape) = &shape {
            let key = (common.method.value, shape.clone());
            if let Some((other, at)) = shapes.get(&key) {
                errors.push(
                    Diagnostic::error(
                        common.path.span,
                        format!(
                            "route `{}` has the same method and path as route `{other}` (line {})",
                            name.value, at.start.line
                        ),
                    )
                    .with_help("change the path or the method of one of them"),
                );
            } else {
                shapes.insert(key, (name.value.clone(), common.path.span));
            }
        }
        let compiled = super::route::compile_route(name, &common, errors, |refs, used, errors| {
            kind(name, route, refs, used, errors)
        });
        if let (Some(plan), true) = (compiled, !errors.errors_since(before)) {
            let router = routers.entry(plan.method).or_default();
            if let Err(e) = router.insert(plan.path.clone(), routes.len()) {
                errors.push(Diagnostic::error(
                    common.path.span,
                    format!("route path conflicts with another route: {e}"),
                ));
            }
            routes.push(plan);
        }
    }
    Some(AdapterPlan {
        name: model.name.value.clone(),
        description: model.description.clone(),
        file: file.to_path_buf(),
        backend: backend?,
        routes,
        routers,
        secrets: crate::secrets::Secrets::default(),
    })
}

/// The adapter-wide backend settings: timeouts, retries, limits, headers.
fn compile_backend(
    backend: &Backend,
    url: Option<reqwest::Url>,
    errors: &mut Diagnostics,
) -> Option<BackendSettings> {
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
    let max_connections = match &backend.max_connections {
        Some(n) if n.value == 0 || n.value > 10_000 => {
            errors.push(
                Diagnostic::error(n.span, "max_connections must be 1 to 10000")
                    .with_help("calls beyond it wait for a free connection; the default is 64"),
            );
            DEFAULT_MAX_CONNECTIONS
        }
        Some(n) => n.value as usize,
        None => DEFAULT_MAX_CONNECTIONS,
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
    let breaker = backend.breaker.as_ref().map(|b| {
        if b.failures.value == 0 || b.failures.value > 1000 {
            errors.push(Diagnostic::error(
                b.failures.span,
                "breaker failures must be 1 to 1000",
            ));
        }
        BreakerSettings {
            failures: b.failures.value.max(1),
            open_for: b
                .open_for
                .as_ref()
                .map_or(Duration::from_secs(30), |d| d.value.0),
        }
    });
    Some(BackendSettings {
        url: url?,
        timeout,
        retry,
        max_reply,
        headers,
        max_connections,
        breaker,
    })
}

fn check_name(name: &Spanned<String>, errors: &mut Diagnostics) {
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

fn check_url(url: &Spanned<String>, errors: &mut Diagnostics) -> Option<reqwest::Url> {
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
fn check_route_path(path: &Spanned<String>, errors: &mut Diagnostics) -> Option<String> {
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
