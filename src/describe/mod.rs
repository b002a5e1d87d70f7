//! One description of every loaded route, built once from the plan (and the fixtures, for
//! examples) when a set is loaded, never per request: what the OpenAPI document, the docs page,
//! the MCP tools and the Postman export all say about a route.
//!
//! A description holds only what a caller may see: names, inputs as JSON Schema, the answer's
//! schema from the mapping, the problems the route can give, the inbound auth scheme (never its
//! keys) and examples from fixtures (without credentials). Values taken from the environment are
//! scrubbed from everything rendered from it (`Published`).

mod examples;
pub mod openapi;
pub mod page;
mod problems;
mod schema;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::config::model::InputLocation;
use crate::fixture::Case;
use crate::kind::Call;
use crate::plan::{AdapterPlan, Plan, RoutePlan};

pub use examples::Example;
pub use problems::ProblemDescription;

/// Every adapter and route of a loaded set.
#[derive(Debug, Clone, Serialize)]
pub struct Description {
    pub adapters: Vec<AdapterDescription>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdapterDescription {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `soap`, `graphql` or `http` (XML over HTTP).
    pub kind: &'static str,
    pub routes: Vec<RouteDescription>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteDescription {
    pub adapter: String,
    pub name: String,
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The facade path with `{param}` segments: `/crm/contacts/{id}`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub inputs: Vec<InputDescription>,
    /// The JSON Schema of the request body (an object of the `in: body` inputs), if it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Every input as one object schema by the caller-facing name (a tool's arguments).
    pub arguments: Value,
    /// The JSON Schema of a successful answer.
    pub response: Value,
    /// The problem+json answers the route can give, by status.
    pub problems: Vec<ProblemDescription>,
    /// Who may call it: `None` lets anyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputDescription {
    /// The name the caller uses (query or header name, path parameter, dotted body path).
    pub name: String,
    /// `path`, `query`, `header` or `body`.
    #[serde(rename = "in")]
    pub location: &'static str,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Type, enum, pattern, bounds, lengths and default as JSON Schema.
    pub schema: Value,
}

/// The inbound auth a route asks for (never its keys or secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Security {
    /// A key in a header or a query parameter.
    ApiKey {
        #[serde(rename = "in")]
        location: &'static str,
        name: String,
    },
    /// An HMAC signature of the body in a header.
    Hmac { header: String },
    /// A JWT in `Authorization: Bearer`.
    Jwt,
}

impl Security {
    /// The name of its scheme in an OpenAPI document: one per distinct scheme.
    pub fn scheme_name(&self) -> String {
        match self {
            Security::ApiKey { location, name } => format!("api_key_{location}_{name}"),
            Security::Hmac { header } => format!("hmac_{header}"),
            Security::Jwt => "jwt".to_string(),
        }
    }
}

/// How the set is served: mock mode answers calls no fixture covers with a 404.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    pub mock: bool,
}

/// Describes every route of `plan`; `cases` give the examples.
pub fn describe(plan: &Plan, cases: &[Case], mode: Mode) -> Description {
    Description {
        adapters: plan
            .adapters
            .iter()
            .map(|a| describe_adapter(a, cases, mode))
            .collect(),
    }
}

fn describe_adapter(adapter: &AdapterPlan, cases: &[Case], mode: Mode) -> AdapterDescription {
    let kind = match adapter.routes.first().map(|r| &r.call) {
        Some(Call::Graphql(_)) => "graphql",
        Some(Call::Http(_)) => "http",
        _ => "soap",
    };
    AdapterDescription {
        name: adapter.name.clone(),
        description: adapter.description.clone(),
        kind,
        routes: adapter
            .routes
            .iter()
            .map(|r| describe_route(adapter, r, cases, mode))
            .collect(),
    }
}

fn describe_route(
    adapter: &AdapterPlan,
    route: &RoutePlan,
    cases: &[Case],
    mode: Mode,
) -> RouteDescription {
    let security = route.auth.as_deref().map(crate::auth::Guard::describe);
    let inputs: Vec<InputDescription> = route
        .inputs
        .iter()
        .map(|i| InputDescription {
            name: i.external.clone(),
            location: location_name(i.location),
            required: i.required,
            description: i.description.clone(),
            schema: schema::input(i),
        })
        .collect();
    let has_body = route
        .inputs
        .iter()
        .any(|i| i.location == InputLocation::Body);
    RouteDescription {
        adapter: adapter.name.clone(),
        name: route.name.clone(),
        method: route.method.as_str(),
        path: format!("/{}{}", adapter.name, route.path),
        description: route.description.clone(),
        body: has_body.then(|| schema::body(&route.inputs)),
        arguments: schema::arguments(&route.inputs),
        response: schema::response(&route.reading.response),
        problems: problems::of_route(adapter, route, mode),
        examples: examples::of_route(adapter, route, cases),
        security,
        inputs,
    }
}

pub(crate) fn location_name(location: InputLocation) -> &'static str {
    match location {
        InputLocation::Path => "path",
        InputLocation::Query => "query",
        InputLocation::Header => "header",
        InputLocation::Body => "body",
    }
}

/// What a served set publishes about itself, rendered once per load: the OpenAPI document and
/// the docs page, with every value from the environment scrubbed.
pub struct Published {
    pub description: Arc<Description>,
    /// `/_ponte/openapi.json`
    pub openapi: String,
    /// `/` and `/_ponte/docs`
    pub page: String,
}

impl Published {
    pub fn build(plan: &Plan, cases: &[Case], mode: Mode) -> Published {
        let description = describe(plan, cases, mode);
        let secrets = crate::secrets::of_plan(plan);
        let hide = |text: String| {
            secrets
                .redact_text(&text, crate::secrets::REDACTED)
                .into_owned()
        };
        let openapi = serde_json::to_string_pretty(&openapi::document(&description))
            .unwrap_or_else(|_| "{}".to_string());
        let page = page::render(&description);
        Published {
            description: Arc::new(description),
            openapi: hide(openapi),
            page: hide(page),
        }
    }
}
