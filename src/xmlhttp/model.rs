//! The XML-over-HTTP kind's part of the adapter file: `backend.http` and the keys of its routes.

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use crate::config::model::{HttpMethod, RequestTree};
use crate::config::route::route_type;
use crate::config::{Spanned, Tree};

/// A plain HTTP service that answers XML: a GET with query parameters, a form POST, an XML POST.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpBackend {
    /// Base URL; each route's `call.path` is appended to it. `${NAME:-default}` takes it from the
    /// environment.
    pub url: Spanned<String>,
}

route_type! {
    /// One REST route over a plain HTTP request that answers XML.
    pub struct HttpRoute ("XML-over-HTTP") {
        /// The backend request.
        pub call: BackendCall,
        /// Rules on the backend's HTTP status: `"404": not_found`, or
        /// `"409": { status: 409, error: duplicate }`. Other non-2xx statuses are a 502.
        #[serde(default)]
        pub status: IndexMap<Spanned<String>, StatusRule>,
        /// Paths in the reply that are always arrays, even with one or no element.
        #[serde(default)]
        pub arrays: Vec<Spanned<String>>,
    }
    arrays: |r| &r.arrays
}

/// What the route sends to the backend.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendCall {
    /// Default GET.
    #[serde(default)]
    pub method: Option<Spanned<HttpMethod>>,
    /// Appended to the backend URL; `{input}` is replaced by the percent-encoded input, which can
    /// never add a segment, leave the base path or change the host.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Query parameters: `$input` or literal text; an absent optional input is left out.
    #[serde(default)]
    pub query: IndexMap<Spanned<String>, Tree>,
    /// A form body (`application/x-www-form-urlencoded`), like `query`.
    #[serde(default)]
    pub form: IndexMap<Spanned<String>, Tree>,
    /// An XML body, as a request tree (`@xmlns` on the root sets its namespace).
    #[serde(default)]
    pub body: Option<RequestTree>,
}

/// `not_found`, or `{ status, error, detail }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct StatusRule(pub Tree);

impl JsonSchema for StatusRule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusRule".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"const": "not_found", "description": "Answer 404 not_found."},
                {
                    "type": "object",
                    "properties": {
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "error": {"type": "string", "description": "The problem's `code`."},
                        "detail": {"type": "string", "description": "The problem's `detail`."}
                    },
                    "required": ["status"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
