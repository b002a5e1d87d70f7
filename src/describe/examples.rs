//! Examples from the contract fixtures: the request a case makes and the answer it expects.
//! Only declared inputs are shown (never a credential header), and only answers the fixture
//! gives exactly (a matcher like `{any: string}` is not an example).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::model::InputLocation;
use crate::fixture::Case;
use crate::fixture::expect::Expected;
use crate::plan::{AdapterPlan, RouteMatch, RoutePlan};

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// The fixture's name: `calculator/add-small`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub method: String,
    /// Path and query as the case sends them: `/calculator/add?a=2&b=3`.
    pub path: String,
    /// Each input the case gives, by caller-facing name: text for path, query and header inputs,
    /// JSON for body inputs.
    pub inputs: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The answer's status and (when the fixture gives it exactly) its body.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
}

pub(super) fn of_route(adapter: &AdapterPlan, route: &RoutePlan, cases: &[Case]) -> Vec<Example> {
    cases
        .iter()
        .filter(|c| c.adapter == adapter.name && c.route == route.name)
        .map(|case| Example {
            name: case.name.clone(),
            description: case.description.clone(),
            method: case.request.method.clone(),
            path: case.request.path.clone(),
            inputs: inputs(adapter, route, case),
            body: case.request.body.clone(),
            status: case.response.status,
            answer: case.response.body.as_ref().and_then(exact),
        })
        .collect()
}

/// The values the case gives each declared input, as the caller writes them.
fn inputs(adapter: &AdapterPlan, route: &RoutePlan, case: &Case) -> Map<String, Value> {
    let (path, query) = case
        .request
        .path
        .split_once('?')
        .unwrap_or((&case.request.path, ""));
    let rest = path
        .strip_prefix(&format!("/{}", adapter.name))
        .unwrap_or_default();
    let params = match adapter.find(
        &case.request.method,
        if rest.is_empty() { "/" } else { rest },
    ) {
        RouteMatch::Found { params, .. } => crate::mapping::input::decode_params(params),
        _ => Vec::new(),
    };
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut out = Map::new();
    // Text as the route reads it (`"2"` is the integer 2), so that examples fit the schema.
    let typed = |spec: &crate::mapping::input::InputSpec, v: Value| match &v {
        Value::String(s) => crate::mapping::coerce::from_input_text(s, spec.ty).unwrap_or(v),
        _ => v,
    };
    for spec in &route.inputs {
        let name = spec.external.as_str();
        let text = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.clone()))
        };
        let value = match spec.location {
            InputLocation::Path => text(&params),
            InputLocation::Query => text(&query),
            InputLocation::Header => case
                .request
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| Value::String(v.clone())),
            InputLocation::Body => case
                .request
                .body
                .as_ref()
                .and_then(|b| name.split('.').try_fold(b, |v, k| v.get(k)))
                .cloned(),
        };
        if let Some(v) = value {
            let v = match spec.location {
                InputLocation::Body => v,
                _ => typed(spec, v),
            };
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// The expected body as a plain value, when every part of it is exact.
fn exact(expected: &Expected) -> Option<Value> {
    match expected {
        Expected::Exact(v) => Some(v.clone()),
        Expected::Object(fields) => fields
            .iter()
            .map(|(k, v)| exact(v).map(|v| (k.clone(), v)))
            .collect::<Option<Map<String, Value>>>()
            .map(Value::Object),
        Expected::Array(items) => items
            .iter()
            .map(exact)
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array),
        Expected::Any(_) | Expected::Regex(_) | Expected::Ignore => None,
    }
}
