//! A tool call's arguments as the facade request a REST caller would send: path parameters in
//! the path, query inputs in the query, header inputs as headers, body inputs in a JSON body, and
//! the MCP request's own credentials (its API key header, `Authorization`) passed on.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::config::model::InputLocation;
use crate::mapping::input::FieldError;
use crate::plan::{AdapterPlan, RoutePlan};
use crate::problem::Problem;

/// Everything in a path segment but the unreserved characters is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Headers of the MCP request that describe the MCP exchange itself, not the caller: they are
/// not passed on to the facade call (which has its own body, length and media types).
const NOT_PASSED_ON: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "accept",
    "accept-encoding",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "origin",
    "last-event-id",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
];

/// The facade request for a call of `route` with `arguments` (by the inputs' caller-facing
/// names). A bad argument that the facade could not even be asked about (an unknown name, a
/// missing path parameter, a header value that is not text) is the facade's own 400 problem.
pub(super) fn build(
    adapter: &AdapterPlan,
    route: &RoutePlan,
    arguments: &Map<String, Value>,
    incoming: Option<&Parts>,
) -> Result<Request<Body>, Problem> {
    let mut errors: Vec<FieldError> = arguments
        .keys()
        .filter(|k| !route.inputs.iter().any(|i| &i.external == *k))
        .map(|k| FieldError {
            field: k.clone(),
            location: "arguments",
            problem: "is not an input of this route".to_string(),
        })
        .collect();
    let path = fill_path(&route.path, arguments, &mut errors);
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut headers = passed_on(incoming);
    let mut body = Map::new();
    for spec in &route.inputs {
        let Some(value) = arguments.get(&spec.external).filter(|v| !v.is_null()) else {
            continue;
        };
        match spec.location {
            InputLocation::Path => {}
            InputLocation::Query => {
                query.append_pair(&spec.external, &as_text(value));
            }
            InputLocation::Header => match header_pair(&spec.external, value) {
                Some((name, value)) => {
                    headers.insert(name, value);
                }
                None => errors.push(FieldError {
                    field: spec.external.clone(),
                    location: "header",
                    problem: "is not a valid header value".to_string(),
                }),
            },
            InputLocation::Body => insert_dotted(&mut body, &spec.external, value.clone()),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::bad_input(json!(errors)));
    }
    // A credential the route reads from the query (`api_key: { query: ... }`) comes with the
    // MCP endpoint's URL: `/_ponte/mcp?api_key=...`. Inputs come only from the arguments.
    for (name, value) in incoming
        .and_then(|p| p.uri.query())
        .map(|q| form_urlencoded::parse(q.as_bytes()))
        .into_iter()
        .flatten()
    {
        if !route.inputs.iter().any(|i| i.external == name) {
            query.append_pair(&name, &value);
        }
    }
    let query = query.finish();
    let uri = if query.is_empty() {
        format!("/{}{path}", adapter.name)
    } else {
        format!("/{}{path}?{query}", adapter.name)
    };
    let body = if body.is_empty() {
        Body::empty()
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Body::from(Value::Object(body).to_string())
    };
    let mut request = Request::builder()
        .method(route.method.as_str())
        .uri(uri)
        .body(body)
        .map_err(|e| {
            Problem::bad_input(
                json!([{"field": "arguments", "in": "arguments", "problem": e.to_string()}]),
            )
        })?;
    *request.headers_mut() = headers;
    // Inbound limits count a caller without a credential by its address: the MCP client's.
    if let Some(peer) = incoming.and_then(|p| {
        p.extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    }) {
        request.extensions_mut().insert(*peer);
    }
    Ok(request)
}

/// The route's path with each `{param}` replaced by its argument, percent-encoded.
fn fill_path(
    template: &str,
    arguments: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = rest[open + 1..close].trim_start_matches('*');
        match arguments.get(name).filter(|v| !v.is_null()) {
            Some(value) => out.extend(utf8_percent_encode(&as_text(value), SEGMENT)),
            None => errors.push(FieldError {
                field: name.to_string(),
                location: "path",
                problem: "required".to_string(),
            }),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A value as the text a URL or a header carries: strings as they are, other JSON as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn header_pair(name: &str, value: &Value) -> Option<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
    let value = HeaderValue::from_str(&as_text(value)).ok()?;
    Some((name, value))
}

/// The MCP request's headers that speak for the caller (credentials, request id, caller
/// timeout), for the facade call.
fn passed_on(incoming: Option<&Parts>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in incoming.map(|p| &p.headers).into_iter().flatten() {
        if !NOT_PASSED_ON.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    headers
}

/// Sets `a.b.c` in a JSON object, creating the objects on the way.
fn insert_dotted(object: &mut Map<String, Value>, path: &str, value: Value) {
    let mut keys = path.split('.').peekable();
    let mut at = object;
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            at.insert(key.to_string(), value);
            return;
        }
        let next = at
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(inner) = next else {
            return;
        };
        at = inner;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_body_paths_nest() {
        let mut body = Map::new();
        insert_dotted(&mut body, "contact.name.first", json!("Ana"));
        insert_dotted(&mut body, "contact.email", json!("a@b.c"));
        insert_dotted(&mut body, "tags", json!(["x"]));
        assert_eq!(
            Value::Object(body),
            json!({"contact": {"name": {"first": "Ana"}, "email": "a@b.c"}, "tags": ["x"]})
        );
    }

    #[test]
    fn path_parameters_are_percent_encoded_and_missing_ones_reported() {
        let mut errors = Vec::new();
        let args: Map<String, Value> = serde_json::from_value(json!({"id": "a/b c"})).unwrap();
        assert_eq!(
            fill_path("/contacts/{id}/notes", &args, &mut errors),
            "/contacts/a%2Fb%20c/notes"
        );
        assert!(errors.is_empty());
        fill_path("/x/{code}", &args, &mut errors);
        assert_eq!(errors[0].field, "code");
        assert_eq!(errors[0].problem, "required");
    }

    #[test]
    fn credentials_pass_on_and_the_mcp_exchange_headers_do_not() {
        let request = Request::builder()
            .header("x-api-key", "k1")
            .header("authorization", "Bearer t")
            .header("mcp-session-id", "s")
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let headers = passed_on(Some(&parts));
        assert_eq!(headers["x-api-key"], "k1");
        assert_eq!(headers["authorization"], "Bearer t");
        assert_eq!(headers.len(), 2, "{headers:?}");
    }
}
