//! The facade handler: `/<adapter>/<route path>` -> decode -> engine -> JSON or problem+json.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine;
use crate::mapping::input::{self, CallParts};
use crate::plan::RouteMatch;
use crate::problem::Problem;

use super::access_log::Entry;
use super::{AppState, Mode, RequestId, problem_response};
use crate::fixture::record::RecordedCall;

/// What the access log line says about one call.
#[derive(Default)]
struct Access<'a> {
    adapter: &'a str,
    route: &'a str,
    backend: Option<std::time::Duration>,
}

pub async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let id = RequestId::of(request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let plan = state.plan.load_full();
    let mut access = Access::default();
    let result = translate(&state, &plan, request, &id.0, &mut access).await;
    let mut response = match result {
        Ok(json) => json_response(json),
        Err(problem) => problem_response(problem, &id),
    };
    id.stamp(&mut response);
    state.settings.access_log.record(&Entry {
        request_id: &id.0,
        method: method.as_str(),
        path: uri.path(),
        adapter: access.adapter,
        route: access.route,
        status: response.status().as_u16(),
        total: started.elapsed(),
        backend: access.backend,
    });
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
    plan: &'p crate::plan::Plan,
    request: Request,
    request_id: &str,
    access: &mut Access<'p>,
) -> Result<Vec<u8>, Problem> {
    let path = request.uri().path();
    let trimmed = path.trim_start_matches('/');
    let (adapter_name, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, "/"),
    };
    let Some(adapter) = plan.adapter(adapter_name) else {
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
            return Err(Problem::new(
                405,
                "method_not_allowed",
                format!(
                    "{} is not allowed here; use {}",
                    request.method(),
                    allowed.join(" or ")
                ),
            )
            .with("allowed", json!(allowed)));
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

    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let decoded_params: Vec<(String, String)> = input::decode_params(params);
    let (parts, body) = request.into_parts();
    let body = read_json_body(body, &parts.headers, state.settings.body_limit).await?;

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
    match &state.settings.mode {
        Mode::Mock(fixtures) => {
            let (_, reply) = fixtures.reply(&adapter.name, &route.name, &values)?;
            engine::interpret(route, reply.status, Some(reply.content_type()), &reply.body)
        }
        Mode::Live => {
            let outcome = engine::call(adapter, route, &values, request_id).await;
            access.backend = Some(outcome.backend_time);
            outcome.result
        }
        Mode::Record(recorder) => {
            let outcome = engine::call(adapter, route, &values, request_id).await;
            access.backend = Some(outcome.backend_time);
            let call = RecordedCall {
                adapter: &adapter.name,
                route,
                method: parts.method.as_str(),
                path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
                headers: &parts.headers,
                body: body.as_ref(),
                exchange: &outcome.exchange,
            };
            match recorder.record(&call) {
                Ok(Some(path)) => tracing::info!("recorded {}", path.display()),
                Ok(None) => tracing::warn!("not recorded: the backend gave no reply to replay"),
                Err(e) => tracing::error!("recording failed: {e}"),
            }
            outcome.result
        }
    }
}

/// Reads the body within the limit; a non-empty body must be JSON.
async fn read_json_body(
    body: Body,
    headers: &axum::http::HeaderMap,
    limit: usize,
) -> Result<Option<Value>, Problem> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !(ct.starts_with("application/json") || ct.contains("+json"))
    {
        return Err(Problem::new(
            415,
            "unsupported_media_type",
            format!("the body must be JSON (Content-Type application/json), not `{ct}`"),
        ));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Problem::new(
            400,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        413,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}
