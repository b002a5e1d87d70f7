//! Checks made on every request before routing: the URI length, the size of the headers, and
//! the body read timeout. hyper's own limits are set above these (see `listen`), so ponte answers
//! with problem+json, `X-Request-Id` and an access-log line instead of hyper's bare status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::access_log::Entry;
use super::{AppState, RequestId, problem_response};
use crate::problem::{Catalog, Problem};

pub const DEFAULT_MAX_URI_LENGTH: usize = 8 * 1024;
pub const DEFAULT_MAX_HEADERS: usize = 100;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a request's head and body may be.
#[derive(Clone, Debug)]
pub struct RequestLimits {
    pub max_uri_length: usize,
    pub max_headers: usize,
    /// Names and values of all headers together.
    pub max_header_bytes: usize,
    /// The whole body must arrive within this; a slower client gets 408.
    pub body_timeout: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_uri_length: DEFAULT_MAX_URI_LENGTH,
            max_headers: DEFAULT_MAX_HEADERS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

pub async fn layer(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let limits = &state.settings.request_limits;
    if let Some(problem) = head_problem(&request, limits) {
        return reject(&state, &request, problem, started);
    }
    let request = match read_body(request, limits.body_timeout, state.settings.body_limit).await {
        Ok(request) => request,
        Err((request, problem)) => return reject(&state, &request, problem, started),
    };
    next.run(request).await
}

fn head_problem(request: &Request, limits: &RequestLimits) -> Option<Problem> {
    let uri_length = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_length > limits.max_uri_length {
        return Some(Problem::of(
            Catalog::UriTooLong,
            format!(
                "the request target has {uri_length} bytes; at most {} are accepted",
                limits.max_uri_length
            ),
        ));
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > limits.max_headers || header_bytes > limits.max_header_bytes {
        return Some(Problem::of(
            Catalog::HeadersTooLarge,
            format!(
                "at most {} headers of {} bytes together are accepted",
                limits.max_headers, limits.max_header_bytes
            ),
        ));
    }
    None
}

/// Reads the body (up to one byte past `limit`: the facade answers 413 then) within `timeout`,
/// and hands the request on with the bytes read. A request without a body passes untouched.
async fn read_body(
    request: Request,
    timeout: Duration,
    limit: usize,
) -> Result<Request, (Request, Problem)> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let no_body = http_body::Body::is_end_stream(request.body());
    // Too large by its own word: the facade refuses it without reading.
    if no_body || declared.is_some_and(|n| n > limit) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let outcome = tokio::time::timeout(timeout, read_limited(body, limit.saturating_add(1))).await;
    let problem = match outcome {
        Ok(Ok(bytes)) => return Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(())) => Problem::of(Catalog::BadRequest, "the request body could not be read"),
        Err(_) => Problem::of(
            Catalog::RequestTimeout,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f64()
            ),
        ),
    };
    Err((Request::from_parts(parts, Body::empty()), problem))
}

async fn read_limited(mut body: Body, at_most: usize) -> Result<Bytes, ()> {
    let mut bytes = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ())?;
        if let Ok(data) = frame.into_data() {
            let room = at_most - bytes.len();
            bytes.extend_from_slice(&data[..data.len().min(room)]);
            if bytes.len() >= at_most {
                break;
            }
        }
    }
    Ok(bytes.freeze())
}

/// Answers a request ponte refuses before routing, and logs it like any call.
fn reject(state: &AppState, request: &Request, problem: Problem, started: Instant) -> Response {
    let id = RequestId::of(request.headers());
    let status = problem.status;
    let mut response = problem_response(problem, &id);
    id.stamp(&mut response);
    if status == 408 || status == 400 {
        // The rest of the body may still be on its way: this connection is not reused.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let path = request.uri().path();
    let shown = &path[..path.floor_char_boundary(200)];
    state.settings.access_log.record(&Entry {
        request_id: &id.0,
        method: request.method().as_str(),
        path: shown,
        adapter: "",
        route: "",
        status,
        total: started.elapsed(),
        backend: None,
        fixture: None,
    });
    response
}
