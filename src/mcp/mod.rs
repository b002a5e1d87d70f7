//! The routes as Model Context Protocol tools at `/_ponte/mcp` (Streamable HTTP, served by the
//! official Rust SDK `rmcp`): one tool per route, named `<adapter>_<route>`, whose input schema is
//! the route's inputs. A tool call is a facade call: the arguments become the request a REST
//! caller would send, and it goes through the same router, so inbound auth, limits, the cache,
//! the engine and every observer apply to it as to any call.
//!
//! The server is stateless (no MCP session): every POST is answered on its own, from the plan
//! served at that moment, so the tools follow a reload without a reconnect.

mod request;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::request::Parts;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Map, Value};
use tower::ServiceExt;

use crate::describe::{AdapterDescription, RouteDescription, Security};
use crate::plan::{AdapterPlan, Plan, RoutePlan};
use crate::server::{AppState, RequestId, problem_response};

/// The MCP endpoint's service, to mount at `/_ponte/mcp`.
pub(crate) fn service(state: Arc<AppState>) -> StreamableHttpService<Tools, NeverSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        // One JSON answer per POST: a tool call sends no progress or notifications.
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The facade answers whatever Host it is reached by (behind a proxy, by a public name);
        // the MCP endpoint reaches nothing the facade does not, with the same credentials.
        .disable_allowed_hosts()
        .with_max_request_body_bytes(state.settings.body_limit);
    let facade = Arc::new(OnceLock::new());
    StreamableHttpService::new(
        move || {
            Ok(Tools {
                state: state.clone(),
                facade: facade.clone(),
            })
        },
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// Answers `initialize`, `tools/list`, `tools/call` and `ping` from the served plan.
pub(crate) struct Tools {
    state: Arc<AppState>,
    /// The router tool calls go through, built on first use (the router that mounts this
    /// service cannot hold itself).
    facade: Arc<OnceLock<Router>>,
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("ponte", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Each tool calls one REST facade route of ponte (a SOAP, GraphQL or XML-over-HTTP \
                 backend behind it). The result is the route's JSON answer; an error result \
                 carries the route's problem+json answer.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let served = self.state.served.load();
        let tools = served
            .published
            .description
            .adapters
            .iter()
            .flat_map(|adapter| adapter.routes.iter().map(move |route| tool(adapter, route)))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let served = self.state.served.load_full();
        let Some((_, adapter, route)) =
            routes(&served.plan).find(|(name, _, _)| *name == request.name)
        else {
            return Err(ErrorData::invalid_params(
                format!("no tool is named `{}`", request.name),
                None,
            ));
        };
        let incoming = context.extensions.get::<Parts>();
        let arguments = request.arguments.unwrap_or_default();
        let response = match request::build(adapter, route, &arguments, incoming) {
            Ok(facade_request) => {
                let facade = self
                    .facade
                    .get_or_init(|| crate::server::router(self.state.clone()));
                match facade.clone().oneshot(facade_request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
            Err(problem) => {
                let id = RequestId::of(&incoming.map(|p| p.headers.clone()).unwrap_or_default());
                problem_response(problem, &id)
            }
        };
        Ok(result(response).await.into())
    }
}

/// Every route with its tool name, in the plan's order.
fn routes(plan: &Plan) -> impl Iterator<Item = (String, &AdapterPlan, &RoutePlan)> {
    plan.adapters.iter().flat_map(|adapter| {
        adapter
            .routes
            .iter()
            .map(move |route| (tool_name(&adapter.name, &route.name), &**adapter, route))
    })
}

/// `<adapter>_<route>`, with any character a tool name may not have (`A-Z a-z 0-9 _ - .`)
/// written as `_`.
fn tool_name(adapter: &str, route: &str) -> String {
    format!("{adapter}_{route}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A route as a tool: its inputs (by caller-facing name) as the input schema, from the route's
/// description (the one the OpenAPI document and the docs page use).
fn tool(adapter: &AdapterDescription, route: &RouteDescription) -> Tool {
    let what = format!("{} {}", route.method, route.path);
    let mut description = match (&route.description, &adapter.description) {
        (Some(route_says), _) => format!("{route_says} ({what})"),
        (None, Some(adapter_says)) => format!("{adapter_says}: {what}"),
        (None, None) => format!("Calls {what}"),
    };
    if let Some(security) = &route.security {
        description.push_str(&format!(
            ". Needs {}, sent with the MCP request",
            credential(security)
        ));
    }
    let schema = match &route.arguments {
        Value::Object(schema) => schema.clone(),
        _ => Map::new(),
    };
    let mut tool = Tool::new(
        tool_name(&adapter.name, &route.name),
        crate::secrets::scrub(&description).into_owned(),
        Arc::new(schema),
    );
    tool.annotations = Some(
        ToolAnnotations::with_title(format!("{} {}", adapter.name, route.name))
            .read_only(route.method == "GET")
            // A legacy backend on the other side: the world beyond ponte.
            .open_world(true),
    );
    tool
}

/// What credential a route asks for, in words (never a key).
fn credential(security: &Security) -> String {
    match security {
        Security::ApiKey { location, name } if *location == "query" => {
            format!("an API key in the `{name}` query parameter (of the MCP URL)")
        }
        Security::ApiKey { name, .. } => format!("an API key in the `{name}` header"),
        // The signature covers the facade body, which the tool call builds: it cannot be made.
        Security::Hmac { header } => format!("an HMAC signature of the body in `{header}`"),
        Security::Jwt => "a JWT in `Authorization: Bearer`".to_string(),
    }
}

/// The facade's answer as a tool result: its JSON as text and as structured content; a problem
/// answer (any status but 2xx) is an error result carrying the problem.
async fn result(response: axum::response::Response) -> CallToolResult {
    let ok = response.status().is_success();
    // The facade already bounds what it answers (replies are bounded by `max_reply_size`).
    let bytes = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let structured = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object);
    let mut result = if ok {
        CallToolResult::success(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::error(vec![ContentBlock::text(text)])
    };
    result.structured_content = structured;
    result
}

#[cfg(test)]
mod tests {
    use super::tool_name;

    #[test]
    fn tool_names_keep_only_the_characters_mcp_allows() {
        assert_eq!(tool_name("calculator", "add"), "calculator_add");
        assert_eq!(tool_name("keys", "by-query"), "keys_by-query");
        assert_eq!(tool_name("a b", "c/d"), "a_b_c_d");
    }
}
