//! `ponte export postman`: a Postman Collection v2.1 of every route, from the route description
//! (`describe`) and the contract fixtures. One folder per adapter, one request per route, made as
//! the route's chosen example makes it; every example of the route is a saved response; a test
//! script checks the status and the body as the fixture does (exact values, `any`, `regex`,
//! `ignore`), so that `newman run` against a mock-mode ponte checks the facade as `ponte test`
//! would. The output is deterministic: the same files give the same bytes.

use serde_json::{Map, Value, json};

use crate::describe::{Description, Example, RouteDescription};
use crate::fixture::Case;
use crate::fixture::expect::Expected;

/// The Postman Collection v2.1 schema.
pub const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// The URL the requests go to unless `baseUrl` is set (`newman run --env-var baseUrl=...`).
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// The collection of every route in `description`; `cases` are the fixtures its examples came
/// from.
pub fn collection(description: &Description, cases: &[Case]) -> Value {
    let folders: Vec<Value> = description
        .adapters
        .iter()
        .map(|adapter| {
            let mut folder = json!({
                "name": adapter.name,
                "item": adapter.routes.iter().map(|r| item(r, cases)).collect::<Vec<_>>(),
            });
            if let Some(text) = &adapter.description {
                folder["description"] = json!(text);
            }
            folder
        })
        .collect();
    json!({
        "info": {
            "name": "ponte",
            "description": "Every facade route of the adapters, with examples from the contract fixtures. Set `baseUrl` to the facade's address.",
            "schema": SCHEMA,
        },
        "variable": [{"key": "baseUrl", "value": DEFAULT_BASE_URL, "type": "string"}],
        "item": folders,
    })
}

/// One route: its request (as its chosen example makes it), the examples as saved responses,
/// and the test of the chosen example's answer.
fn item(route: &RouteDescription, cases: &[Case]) -> Value {
    let chosen = choose(route, cases);
    let mut item = json!({
        "name": route.name,
        "request": request(route, chosen),
        "response": route
            .examples
            .iter()
            .map(|e| saved_response(route, e, cases))
            .collect::<Vec<_>>(),
    });
    if let Some(example) = chosen {
        item["event"] = json!([{
            "listen": "test",
            "script": {"type": "text/javascript", "exec": test_script(example, case_of(example, cases))},
        }]);
    }
    item
}

/// The example the request makes: one that mock mode answers from its own fixture (not
/// `mock: skip`), a success first, in the fixtures' order, which is also mock mode's tie-break.
fn choose<'d>(route: &'d RouteDescription, cases: &[Case]) -> Option<&'d Example> {
    let answerable = |e: &&Example| case_of(e, cases).is_none_or(|c| !c.mock.skip);
    let success = |e: &&Example| (200..300).contains(&e.status);
    route
        .examples
        .iter()
        .filter(answerable)
        .find(success)
        .or_else(|| route.examples.iter().find(answerable))
}

fn case_of<'c>(example: &Example, cases: &'c [Case]) -> Option<&'c Case> {
    cases.iter().find(|c| c.name == example.name)
}

/// The request: method, `{{baseUrl}}` URL with `:param` path variables and the query, header
/// inputs, and a JSON body, with the values of `example` (or empty ones without an example).
fn request(route: &RouteDescription, example: Option<&Example>) -> Value {
    let given = |name: &str| -> String {
        example
            .and_then(|e| e.inputs.get(name))
            .map(text)
            .unwrap_or_default()
    };
    let mut path_segments = Vec::new();
    let mut variables = Vec::new();
    for segment in route.path.trim_start_matches('/').split('/') {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let name = name.trim_start_matches('*');
                path_segments.push(format!(":{name}"));
                variables.push(json!({"key": name, "value": given(name)}));
            }
            None => path_segments.push(segment.to_string()),
        }
    }
    let query: Vec<Value> = match example {
        // The example's own query, in its order and spelling (still percent-encoded: Postman
        // sends it as written).
        Some(e) => e
            .path
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        json!({"key": k, "value": v})
                    })
                    .collect()
            })
            .unwrap_or_default(),
        None => route
            .inputs
            .iter()
            .filter(|i| i.location == "query")
            .map(|i| json!({"key": i.name, "value": "", "disabled": !i.required}))
            .collect(),
    };
    let mut raw = format!("{{{{baseUrl}}}}/{}", path_segments.join("/"));
    if !query.is_empty() {
        let pairs: Vec<String> = query
            .iter()
            .map(|q| {
                format!(
                    "{}={}",
                    q["key"].as_str().unwrap_or_default(),
                    q["value"].as_str().unwrap_or_default()
                )
            })
            .collect();
        raw = format!("{raw}?{}", pairs.join("&"));
    }
    let mut url = json!({"raw": raw, "host": ["{{baseUrl}}"], "path": path_segments});
    if !query.is_empty() {
        url["query"] = json!(query);
    }
    if !variables.is_empty() {
        url["variable"] = json!(variables);
    }
    let mut headers: Vec<Value> = route
        .inputs
        .iter()
        .filter(|i| i.location == "header")
        .filter_map(|i| {
            let value = example?.inputs.get(&i.name)?;
            Some(json!({"key": i.name, "value": text(value)}))
        })
        .collect();
    let mut request = json!({"method": route.method, "url": url});
    if let Some(text) = &route.description {
        request["description"] = json!(text);
    }
    if let Some(body) = example.and_then(|e| e.body.as_ref()) {
        headers.push(json!({"key": "Content-Type", "value": "application/json"}));
        request["body"] = json!({
            "mode": "raw",
            "raw": serde_json::to_string_pretty(body).unwrap_or_default(),
            "options": {"raw": {"language": "json"}},
        });
    }
    request["header"] = json!(headers);
    request
}

/// An example as a saved response: its request and the answer the fixture expects (matchers
/// shown as `<any string>`, `<matches /.../>`).
fn saved_response(route: &RouteDescription, example: &Example, cases: &[Case]) -> Value {
    let body = match (
        &example.answer,
        case_of(example, cases).and_then(|c| c.response.body.as_ref()),
    ) {
        (Some(exact), _) => Some(exact.clone()),
        (None, Some(expected)) => Some(shown(expected)),
        (None, None) => None,
    };
    let problem = !(200..300).contains(&example.status);
    let content_type = if problem {
        "application/problem+json"
    } else {
        "application/json"
    };
    json!({
        "name": example.name,
        "originalRequest": request(route, Some(example)),
        "status": reason(example.status),
        "code": example.status,
        "_postman_previewlanguage": "json",
        "header": [{"key": "Content-Type", "value": content_type}],
        "body": body.map(|b| serde_json::to_string_pretty(&b).unwrap_or_default()).unwrap_or_default(),
    })
}

/// The test: the status, then the body against the fixture's expectation.
fn test_script(example: &Example, case: Option<&Case>) -> Vec<String> {
    let expected = match (case.and_then(|c| c.response.body.as_ref()), &example.answer) {
        (Some(expected), _) => Some(matcher(expected)),
        (None, Some(exact)) => Some(json!({"exact": exact})),
        (None, None) => None,
    };
    let mut lines = vec![
        format!("// The answer of fixture {}.", example.name),
        format!(
            "pm.test('status is {}', function () {{ pm.response.to.have.status({}); }});",
            example.status, example.status
        ),
    ];
    if let Some(expected) = expected {
        lines.push(format!("const expected = {};", expected));
        lines.extend(FITS.lines().map(str::to_string));
        lines.push(
            "pm.test('body is the fixture\\'s', function () { fits(pm.response.json(), expected, 'body'); });"
                .to_string(),
        );
    }
    lines
}

/// Checks a value against a matcher tree, as `ponte test` compares answers: objects have exactly
/// the expected keys, arrays the expected length.
const FITS: &str = r#"function fits(actual, want, at) {
  if ('exact' in want) { pm.expect(actual, at).to.eql(want.exact); return; }
  if ('ignore' in want) { return; }
  pm.expect(actual, at).to.not.equal(undefined);
  if ('any' in want) {
    const kinds = { any: function () { return true; }, string: function (v) { return typeof v === 'string'; }, number: function (v) { return typeof v === 'number'; }, integer: function (v) { return Number.isInteger(v); }, boolean: function (v) { return typeof v === 'boolean'; }, array: Array.isArray, object: function (v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }, 'null': function (v) { return v === null; } };
    pm.expect(kinds[want.any](actual), at + ' is any ' + want.any).to.equal(true);
    return;
  }
  if ('regex' in want) { pm.expect(String(actual), at).to.match(new RegExp(want.regex)); return; }
  if ('object' in want) {
    pm.expect(actual, at).to.be.an('object');
    pm.expect(Object.keys(actual).sort(), at + ' keys').to.eql(Object.keys(want.object).filter(function (k) { return !('ignore' in want.object[k]) || k in actual; }).sort());
    Object.keys(want.object).forEach(function (k) { fits(actual[k], want.object[k], at + '.' + k); });
    return;
  }
  pm.expect(actual, at).to.be.an('array');
  pm.expect(actual.length, at + ' length').to.equal(want.array.length);
  want.array.forEach(function (w, i) { fits(actual[i], w, at + '[' + i + ']'); });
}"#;

/// The fixture's expectation as data the test script reads.
fn matcher(expected: &Expected) -> Value {
    match expected {
        Expected::Exact(v) => json!({"exact": v}),
        Expected::Any(kind) => json!({"any": kind}),
        Expected::Regex(r) => json!({"regex": r.as_str()}),
        Expected::Ignore => json!({"ignore": true}),
        Expected::Object(fields) => json!({
            "object": fields.iter().map(|(k, v)| (k.clone(), matcher(v))).collect::<Map<_, _>>()
        }),
        Expected::Array(items) => json!({"array": items.iter().map(matcher).collect::<Vec<_>>()}),
    }
}

/// The fixture's expectation as an example body: matchers as words.
fn shown(expected: &Expected) -> Value {
    match expected {
        Expected::Exact(v) => v.clone(),
        Expected::Any(kind) => json!(format!("<any {kind}>")),
        Expected::Regex(r) => json!(format!(
            "<matches /{}/>",
            r.as_str().trim_start_matches("^(?:").trim_end_matches(")$")
        )),
        Expected::Ignore => json!("<anything>"),
        Expected::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !matches!(v, Expected::Ignore))
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect(),
        ),
        Expected::Array(items) => Value::Array(items.iter().map(shown).collect()),
    }
}

/// A value as a URL or header carries it.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
