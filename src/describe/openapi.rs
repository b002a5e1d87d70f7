//! The OpenAPI 3.1 document of a description, as JSON in a fixed order: adapters and routes as
//! loaded, schemes and statuses sorted. Problems are `application/problem+json` with the shared
//! `Problem` schema; examples come from 2xx fixtures only (a bad-input case is not an example of
//! a valid request).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Description, Example, ProblemDescription, RouteDescription, Security};

/// The whole document.
pub fn document(description: &Description) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemes: BTreeMap<String, Value> = BTreeMap::new();
    for route in description.adapters.iter().flat_map(|a| &a.routes) {
        if let Some(security) = &route.security {
            schemes.insert(security.scheme_name(), scheme(security));
        }
        let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        item[route.method.to_ascii_lowercase()] = operation(route);
    }
    let tags: Vec<Value> = description
        .adapters
        .iter()
        .map(|a| {
            let mut tag = json!({"name": a.name});
            if let Some(d) = &a.description {
                tag["description"] = json!(d);
            }
            tag
        })
        .collect();
    let mut components = json!({"schemas": {"Problem": problem_schema()}});
    let headers = used_headers(description);
    if !headers.is_empty() {
        components["headers"] = Value::Object(headers);
    }
    if !schemes.is_empty() {
        components["securitySchemes"] = json!(schemes);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ponte facades",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST/JSON facades over SOAP, GraphQL and XML-over-HTTP backends, generated from the loaded adapters. Errors are RFC 9457 problem+json."
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": paths,
        "components": components,
    })
}

/// The shared response headers that some problem response refers to (see `problem_response`).
fn used_headers(description: &Description) -> Map<String, Value> {
    let statuses: std::collections::BTreeSet<u16> = description
        .adapters
        .iter()
        .flat_map(|a| &a.routes)
        .flat_map(|r| &r.problems)
        .map(|p| p.status)
        .collect();
    let mut out = Map::new();
    if statuses.contains(&429) || statuses.contains(&503) {
        out.insert(
            "Retry-After".into(),
            json!({
                "description": "Seconds to wait before calling again.",
                "schema": {"type": "integer", "minimum": 0}
            }),
        );
    }
    if statuses.contains(&401) {
        out.insert(
            "WWW-Authenticate".into(),
            json!({
                "description": "The scheme and realm (the adapter) the route asks for.",
                "schema": {"type": "string"}
            }),
        );
    }
    out
}

fn scheme(security: &Security) -> Value {
    match security {
        Security::ApiKey { location, name } => json!({
            "type": "apiKey",
            "in": location,
            "name": name,
            "description": "An API key the adapter's `auth:` names."
        }),
        Security::Hmac { header } => json!({
            "type": "apiKey",
            "in": "header",
            "name": header,
            "description": "An HMAC signature of the raw request body (see the adapter's `auth: hmac`)."
        }),
        Security::Jwt => json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT"
        }),
    }
}

fn operation(route: &RouteDescription) -> Value {
    let mut op = json!({
        "operationId": format!("{}.{}", route.adapter, route.name),
        "tags": [route.adapter],
        "summary": route.description.clone().unwrap_or_else(|| format!("{}.{}", route.adapter, route.name)),
    });
    let successes: Vec<&Example> = route
        .examples
        .iter()
        .filter(|e| (200..300).contains(&e.status))
        .collect();
    let parameters: Vec<Value> = route
        .inputs
        .iter()
        .filter(|i| i.location != "body")
        .map(|i| {
            let mut p = json!({
                "name": i.name,
                "in": i.location,
                "required": i.required || i.location == "path",
                "schema": i.schema,
            });
            if let Some(d) = &i.description {
                p["description"] = json!(d);
            }
            let examples = named_examples(&successes, |e| e.inputs.get(&i.name).cloned());
            if !examples.is_empty() {
                p["examples"] = Value::Object(examples);
            }
            p
        })
        .collect();
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(body) = &route.body {
        let required = body
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty());
        let mut media = json!({"schema": body});
        let examples = named_examples(&successes, |e| e.body.clone());
        if !examples.is_empty() {
            media["examples"] = Value::Object(examples);
        }
        op["requestBody"] = json!({
            "required": required,
            "content": {"application/json": media}
        });
    }
    op["responses"] = responses(route, &successes);
    // An empty list says the route is open (rather than saying nothing).
    op["security"] = match &route.security {
        Some(security) => json!([{ security.scheme_name(): [] }]),
        None => json!([]),
    };
    op
}

/// Examples by the case's file stem (`add-small`), for those that have a value.
fn named_examples(
    cases: &[&Example],
    value: impl Fn(&Example) -> Option<Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for case in cases {
        if let Some(v) = value(case) {
            let mut example = json!({"value": v});
            if let Some(d) = &case.description {
                example["summary"] = json!(d);
            }
            out.insert(example_key(&case.name), example);
        }
    }
    out
}

fn example_key(case: &str) -> String {
    case.rsplit('/')
        .next()
        .unwrap_or(case)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn responses(route: &RouteDescription, successes: &[&Example]) -> Value {
    let mut media = json!({"schema": route.response});
    let examples = named_examples(successes, |e| e.answer.clone());
    if !examples.is_empty() {
        media["examples"] = Value::Object(examples);
    }
    let mut out = Map::new();
    out.insert(
        "200".into(),
        json!({"description": "The mapped answer.", "content": {"application/json": media}}),
    );
    for problem in &route.problems {
        out.insert(problem.status.to_string(), problem_response(problem));
    }
    Value::Object(out)
}

fn problem_response(problem: &ProblemDescription) -> Value {
    let lines: Vec<String> = problem
        .reasons
        .iter()
        .map(|r| match &r.code {
            Some(code) => format!("`{code}`: {}", r.when),
            None => format!("(code from the fault): {}", r.when),
        })
        .collect();
    let mut refined = json!({"properties": {"status": {"const": problem.status}}});
    let codes: Option<Vec<&str>> = problem.reasons.iter().map(|r| r.code.as_deref()).collect();
    if let Some(mut codes) = codes {
        codes.sort_unstable();
        codes.dedup();
        refined["properties"]["code"] = json!({"enum": codes});
    }
    let mut response = json!({
        "description": lines.join("; "),
        "content": {
            "application/problem+json": {
                "schema": {"allOf": [{"$ref": "#/components/schemas/Problem"}, refined]}
            }
        }
    });
    let mut headers = Map::new();
    if matches!(problem.status, 429 | 503) {
        headers.insert(
            "Retry-After".into(),
            json!({"$ref": "#/components/headers/Retry-After"}),
        );
    }
    if problem.status == 401 {
        headers.insert(
            "WWW-Authenticate".into(),
            json!({"$ref": "#/components/headers/WWW-Authenticate"}),
        );
    }
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    response
}

/// RFC 9457 problem details as ponte writes them.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details. Other members may be present: `errors` (bad input), `allowed` (405), `adapters`, `routes` and `covered` (404).",
        "properties": {
            "type": {"type": "string", "description": "`urn:ponte:problem:<code>`"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "Stable, machine-readable: a catalog code or a fault rule's `error`."},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Bad input: each field that is missing or invalid.",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "in": {"type": "string", "enum": ["path", "query", "header", "body"]},
                        "problem": {"type": "string"}
                    },
                    "required": ["field", "in", "problem"]
                }
            }
        },
        "required": ["type", "title", "status", "detail", "code"]
    })
}
