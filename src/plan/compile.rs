//! Adapter model -> plan, checking everything that can be checked before the first call.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::http::{HeaderMap, HeaderValue};

use std::time::Duration;

use crate::backend::breaker::{BreakerSettings, FailureRatio};
use crate::backend::http::{
    BackendSettings, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REPLY, DEFAULT_TIMEOUT, RetryPolicy,
};
use crate::config::Spanned;
use crate::config::model::{Adapter, AdapterFile, Backend, BreakerConfig, HttpMethod};
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
            let mut settings = SoapSettings::compile(soap, file, &mut errors);
            settings.ws_security = a
                .backend
                .auth
                .as_ref()
                .is_some_and(|auth| auth.value.ws_security.is_some());
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

fn compile_with<'k, R: RouteKeys + std::fmt::Debug>(
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
    let mut backend = compile_backend(&model.backend, url, errors);
    let (auth, connection) = crate::backend::auth::compile_access(
        &model.backend,
        file,
        options.redirect.is_some() || options.missing_env_is_empty,
        errors,
    );
    if let Some(backend) = &mut backend {
        backend.auth = auth;
        backend.connection = connection;
    }
    let adapter_auth = crate::auth::compile(model.auth.as_ref(), &model.name.value, file, errors);
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
        let auth = match common.auth {
            Some(own) => crate::auth::compile(Some(own), &model.name.value, file, errors),
            None => adapter_auth.clone(),
        };
        let compiled = super::route::compile_route(name, &common, errors, |refs, used, errors| {
            kind(name, route, refs, used, errors)
        });
        if let (Some(mut plan), true) = (compiled, !errors.errors_since(before)) {
            plan.fingerprint = crate::cache::fingerprint(&[
                &model.name.value,
                &format!("{route:?}"),
                &format!("{:?}", model.backend),
            ]);
            let router = routers.entry(plan.method).or_default();
            if let Err(e) = router.insert(plan.path.clone(), routes.len()) {
                errors.push(Diagnostic::error(
                    common.path.span,
                    format!("route path conflicts with another route: {e}"),
                ));
            }
            plan.auth = auth;
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
        inbound_limit: compile_inbound_limit(model.rate_limit.as_ref(), errors),
        secrets: crate::secrets::Secrets::default(),
        redact: model.redact.clone(),
    })
}

/// The adapter's `rate_limit` (per caller); it has no queue: a caller over it is told at once.
pub(super) fn compile_inbound_limit(
    config: Option<&Spanned<crate::config::model::RateLimitConfig>>,
    errors: &mut Diagnostics,
) -> Option<crate::limits::Quota> {
    let config = config?;
    if let Some(queue) = &config.value.queue {
        errors.push(
            Diagnostic::error(queue.span, "`queue` is for `backend.rate_limit` only")
                .with_help("a caller over its own limit is answered 429 at once"),
        );
    }
    crate::limits::compile_quota(config, errors)
}

/// Most extra headers an adapter may send to its backend.
const MAX_BACKEND_HEADERS: usize = 100;

/// The adapter-wide backend settings: timeouts, retries, limits, headers.
fn compile_backend(
    backend: &Backend,
    url: Option<reqwest::Url>,
    errors: &mut Diagnostics,
) -> Option<BackendSettings> {
    let mut headers = HeaderMap::new();
    // A HeaderMap panics past 32,768 entries; no backend needs more than a few.
    if let Some((name, _)) = backend.headers.get_index(MAX_BACKEND_HEADERS) {
        errors.push(
            Diagnostic::error(
                name.span,
                format!("more than {MAX_BACKEND_HEADERS} backend headers"),
            )
            .with_help("send a few headers; credentials belong in backend.auth"),
        );
        return None;
    }
    for (name, value) in &backend.headers {
        let header = match crate::config::header_name(name) {
            Ok(header) => header,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        // The value is not repeated: it may be a secret.
        match HeaderValue::try_from(value.as_str()) {
            Ok(v) => {
                headers.insert(header, v);
            }
            Err(_) => errors.push(
                Diagnostic::error(
                    name.span,
                    format!(
                        "the value of header `{}` cannot be sent in HTTP",
                        name.value
                    ),
                )
                .with_help("a header value is visible text, spaces and tabs; no line breaks"),
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
    let breaker = backend.breaker.as_ref().map(|b| compile_breaker(b, errors));
    let rate_limit = backend.rate_limit.as_ref().and_then(|config| {
        let quota = crate::limits::compile_quota(config, errors)?;
        Some(crate::limits::OutboundQuota {
            quota,
            queue: config.value.queue.as_ref().map_or(0, |q| q.value),
        })
    });
    Some(BackendSettings {
        url: url?,
        timeout,
        retry,
        max_reply,
        headers,
        max_connections,
        breaker,
        auth: None,
        connection: Default::default(),
        rate_limit,
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

/// `breaker:`: consecutive failures, a failure ratio in a window, or both.
fn compile_breaker(config: &Spanned<BreakerConfig>, errors: &mut Diagnostics) -> BreakerSettings {
    let b = &config.value;
    let mut in_range = |n: Option<&Spanned<u32>>, max: u32, what: &str| {
        let n = n?;
        if n.value == 0 || n.value > max {
            errors.push(Diagnostic::error(
                n.span,
                format!("breaker {what} must be 1 to {max}"),
            ));
        }
        Some(n.value.clamp(1, max))
    };
    let failures = in_range(b.failures.as_ref(), 1000, "failures");
    let min_calls = in_range(b.min_calls.as_ref(), 100_000, "min_calls").unwrap_or(10);
    let ratio = b.failure_ratio.as_ref().map(|r| {
        if !(r.value > 0.0 && r.value <= 1.0) {
            errors.push(
                Diagnostic::error(
                    r.span,
                    "breaker failure_ratio must be above 0 and at most 1",
                )
                .with_help("e.g. 0.5: the breaker opens when half the calls in a window fail"),
            );
        }
        FailureRatio {
            ratio: r.value.clamp(f64::MIN_POSITIVE, 1.0),
            window: b
                .window
                .as_ref()
                .map_or(Duration::from_secs(60), |w| w.value.0),
            min_calls,
        }
    });
    if failures.is_none() && ratio.is_none() {
        errors.push(
            Diagnostic::error(
                config.span,
                "a breaker needs `failures`, `failure_ratio`, or both",
            )
            .with_help("e.g. breaker: { failures: 5 } opens after five failed calls in a row"),
        );
    }
    BreakerSettings {
        failures,
        ratio,
        open_for: b
            .open_for
            .as_ref()
            .map_or(Duration::from_secs(30), |d| d.value.0),
    }
}
