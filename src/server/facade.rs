//! The facade handler: `/<adapter>/<route path>` -> decode -> engine -> JSON or problem+json.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Presented;
use crate::caller::Caller;
use crate::engine::{self, CallTo, FinishedCall};
use crate::mapping::input::{self, CallParts};
use crate::plan::RouteMatch;
use crate::problem::{Catalog, Problem};

use super::access_log::Entry;
use super::{AppState, RequestId, Served, problem_response};

/// What the access log line says about one call.
#[derive(Default)]
struct Access<'a> {
    adapter: &'a str,
    route: &'a str,
    backend: Option<std::time::Duration>,
    /// The fixture that answered, in mock mode.
    fixture: Option<String>,
    /// Who called: the peer address and, once inbound auth accepted the call, its credential.
    caller: Caller,
    /// Set when the answer came through the response cache.
    freshness: Option<crate::cache::Freshness>,
    /// The route's metric labels, once a route matched.
    labels: Option<&'a crate::metrics::RouteLabels>,
    /// Whether the engine was asked (a cache route's answer was not kept).
    called: bool,
}

/// Names the fixture that produced a mock answer.
pub static FIXTURE_HEADER: header::HeaderName = header::HeaderName::from_static("x-ponte-fixture");

pub async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let _in_flight = state.metrics.in_flight();
    let id = RequestId::of(request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let served = state.served.load_full();
    let mut access = Access::default();
    let result = translate(&state, &served, request, &id.0, &mut access).await;
    let rate_limited = matches!(&result, Err(p) if p.code == Catalog::RateLimited.code());
    let mut response = match result {
        Ok(json) => json_response(json),
        Err(problem) => problem_response(problem, &id),
    };
    id.stamp(&mut response);
    if let Some(fresh) = access.freshness {
        let headers = response.headers_mut();
        headers.insert(header::AGE, HeaderValue::from(fresh.age));
        if let Ok(v) = HeaderValue::from_str(&format!("max-age={}", fresh.max_age)) {
            headers.insert(header::CACHE_CONTROL, v);
        }
    }
    if let Some(name) = &access.fixture
        && let Ok(value) = HeaderValue::from_str(name)
    {
        response.headers_mut().insert(FIXTURE_HEADER.clone(), value);
    }
    state.settings.access_log.record(&Entry {
        request_id: &id.0,
        method: method.as_str(),
        path: uri.path(),
        adapter: access.adapter,
        route: access.route,
        status: response.status().as_u16(),
        total: started.elapsed(),
        backend: access.backend,
        fixture: access.fixture.as_deref(),
    });
    state.metrics.answered(
        access.labels,
        response.status().as_u16(),
        started.elapsed(),
        rate_limited,
    );
    response
}

fn json_response(json: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, json).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn translate<'p>(
    state: &AppState,
    served: &'p Served,
    request: Request,
    request_id: &str,
    access: &mut Access<'p>,
) -> Result<Vec<u8>, Problem> {
    let plan = &served.plan;
    let path = request.uri().path();
    let trimmed = path.trim_start_matches('/');
    let (adapter_name, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, "/"),
    };
    let Some((index, adapter)) = plan.adapter_at(adapter_name) else {
        let known: Vec<&str> = plan.adapters.iter().map(|a| a.name.as_str()).collect();
        return Err(
            Problem::not_found(format!("no adapter is named `{adapter_name}`"))
                .with("adapters", json!(known)),
        );
    };
    access.adapter = &adapter.name;
    let (route, params) = match adapter.find(request.method().as_str(), rest) {
        RouteMatch::Found { route, params } => (route, params),
        RouteMatch::WrongMethod(allowed) => {
            return Err(Problem::method_not_allowed(
                request.method().as_str(),
                allowed,
            ));
        }
        RouteMatch::NotFound => {
            let routes: Vec<String> = adapter
                .routes
                .iter()
                .map(|r| format!("{} /{}{}", r.method.as_str(), adapter.name, r.path))
                .collect();
            return Err(Problem::not_found(format!(
                "adapter `{}` has no route {rest}",
                adapter.name
            ))
            .with("routes", json!(routes)));
        }
    };
    access.route = &route.name;
    let route_index = adapter
        .routes
        .iter()
        .position(|r| std::ptr::eq(r, route))
        .unwrap_or(usize::MAX);
    access.labels = served.labels.get(index).and_then(|r| r.get(route_index));

    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let decoded_params: Vec<(String, String)> = input::decode_params(params);
    let (parts, body) = request.into_parts();
    access.caller.address = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let bytes = admit_and_read(
        route,
        &parts,
        body,
        state.settings.body_limit,
        &mut access.caller,
    )
    .await?;
    // After auth, so that a caller with a credential is counted by it, wherever it calls from.
    if let Some(limiter) = served.inbound[index].for_route(route_index) {
        limiter.admit(&access.caller).await?;
    }
    let body = parse_json_body(&bytes, &parts.headers)?;

    let call_parts = CallParts {
        path: decoded_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<HashMap<_, _>>(),
        query,
        headers: Some(&parts.headers),
        body: body.as_ref(),
    };
    let values = input::decode(&route.inputs, &call_parts)
        .map_err(|errors| Problem::bad_input(json!(errors)))?;
    let runtime = &served.runtimes[index];
    let call = BackendCall {
        adapter,
        runtime,
        route,
        values: &values,
        request_id,
        parts: &parts,
        body: body.as_ref(),
    };
    let Some(policy) = &route.cache else {
        return call_backend(state, call, access).await;
    };
    let key = crate::cache::key(&adapter.name, route, policy, &values, &parts.headers);
    // Boxed: the cache's future holds the backend call's several times over (5x, measured);
    // inline, it set every call's future to 15 KiB, cached or not (see the test
    // `every_calls_future_stays_small`).
    let kept = Box::pin(
        state
            .cache
            .answer(key, policy, call_backend(state, call, access)),
    )
    .await;
    if let Some(labels) = access.labels {
        state.metrics.cache(labels, !access.called);
    }
    let kept = kept?;
    access.freshness = Some(kept.freshness());
    kept.answer.clone()
}

/// What one backend call needs from the request.
struct BackendCall<'p, 'r> {
    adapter: &'p crate::plan::AdapterPlan,
    runtime: &'p crate::backend::http::BackendRuntime,
    route: &'p crate::plan::RoutePlan,
    values: &'r [Option<Value>],
    request_id: &'r str,
    parts: &'r axum::http::request::Parts,
    body: Option<&'r Value>,
}

/// Calls the backend through the engine and lets the observers see the finished call.
async fn call_backend<'p>(
    state: &AppState,
    call: BackendCall<'p, '_>,
    access: &mut Access<'p>,
) -> Result<Vec<u8>, Problem> {
    let BackendCall {
        adapter,
        runtime,
        route,
        values,
        request_id,
        parts,
        body,
    } = call;
    let to = CallTo {
        adapter,
        runtime,
        route,
        values,
        request_id,
        caller_budget: caller_budget(
            state.settings.caller_timeout_header.as_ref(),
            &parts.headers,
        ),
    };
    let began = Instant::now();
    let outcome = engine::call(&state.settings.transport, to).await;
    access.called = true;
    if let Some(labels) = access.labels {
        state.metrics.backend_call(
            labels,
            outcome.backend_time,
            outcome.attempts,
            &outcome.result,
            outcome.reply.is_some(),
        );
    }
    access.backend = outcome.backend_time;
    access.fixture.clone_from(&outcome.fixture);
    if !state.settings.observers.is_empty() {
        let finished = FinishedCall {
            adapter: &adapter.name,
            route,
            method: parts.method.as_str(),
            path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
            headers: &parts.headers,
            body,
            values,
            outcome: &outcome,
            request_id,
            plan: adapter,
            elapsed: began.elapsed(),
        };
        for observer in &state.settings.observers {
            observer.observe(&finished);
        }
    }
    outcome.result
}

/// How long the caller said it waits, in seconds, in the header the settings name
/// (`X-Weni-Webhook-Timeout: 10` by default, as RapidPro-style flow engines send when a flow sets
/// a timeout); a value that is not a positive number is ignored.
fn caller_budget(
    name: Option<&axum::http::HeaderName>,
    headers: &axum::http::HeaderMap,
) -> Option<std::time::Duration> {
    let seconds: f64 = headers.get(name?)?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0)
        .then(|| std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Inbound auth, and the body as received. A guard that decides on the headers refuses a call
/// before its body is read; an HMAC guard needs the body's exact bytes.
async fn admit_and_read(
    route: &crate::plan::RoutePlan,
    parts: &axum::http::request::Parts,
    body: Body,
    limit: usize,
    caller: &mut Caller,
) -> Result<axum::body::Bytes, Problem> {
    let Some(guard) = &route.auth else {
        return read_body(body, &parts.headers, limit).await;
    };
    let mut presented = Presented {
        headers: &parts.headers,
        query: parts.uri.query(),
        body: &[],
    };
    if !guard.reads_body() {
        caller.credential = Some(guard.admit(&presented)?);
        return read_body(body, &parts.headers, limit).await;
    }
    let bytes = read_body(body, &parts.headers, limit).await?;
    presented.body = &bytes;
    caller.credential = Some(guard.admit(&presented)?);
    Ok(bytes)
}

/// Reads the body within the limit, as received.
async fn read_body(
    body: Body,
    headers: &axum::http::HeaderMap,
    limit: usize,
) -> Result<axum::body::Bytes, Problem> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))
}

/// A non-empty body must be JSON.
fn parse_json_body(
    bytes: &[u8],
    headers: &axum::http::HeaderMap,
) -> Result<Option<Value>, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !(ct.starts_with("application/json") || ct.contains("+json"))
    {
        return Err(Problem::of(
            Catalog::UnsupportedMediaType,
            format!("the body must be JSON (Content-Type application/json), not `{ct}`"),
        ));
    }
    serde_json::from_slice(bytes).map(Some).map_err(|e| {
        Problem::of(
            Catalog::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

fn too_large(limit: usize) -> Problem {
    Problem::of(
        Catalog::BodyTooLarge,
        format!("the request body is larger than {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future an async handler returns, without calling it.
    fn future_size<F, Fut>(_handler: F) -> usize
    where
        F: FnOnce(State<Arc<AppState>>, Request) -> Fut,
    {
        std::mem::size_of::<Fut>()
    }

    /// axum boxes the handler's future for every request, and the whole of it is copied into
    /// the box: a branch that only some routes take (the response cache, whose future held the
    /// backend call's many times over) made every call's future 15 KiB. Such branches are boxed
    /// where they are taken.
    #[test]
    fn every_calls_future_stays_small() {
        let size = future_size(handle);
        assert!(size <= 8 * 1024, "the facade's future is {size} bytes");
    }
}
