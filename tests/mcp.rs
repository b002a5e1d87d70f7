//! The routes as MCP tools at `/_ponte/mcp`: JSON-RPC over real HTTP, against a mock-mode ponte
//! over the shipped adapters and fixtures. A tool call must answer exactly as the REST route does.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Answer, Ponte, guarded_calculator, repo_path};
use serde_json::{Value, json};

const FLOWS_KEY: &str = "k-mcp-0123456789abcdef";

/// A mock-mode ponte over `adapters` and `fixtures`, with its state (to reload it).
async fn mock_ponte(adapters: &Path, fixtures: &Path) -> (Ponte, Arc<ponte::server::AppState>) {
    let plan = load(adapters);
    let (cases, diagnostics) = ponte::fixture::load(fixtures, &plan);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let set = ponte::fixture::mock::MockSet::new(&plan, &cases);
    let settings = ponte::server::Settings {
        transport: ponte::backend::transport::Transport::Replay(Arc::new(set)),
        ..Default::default()
    };
    let state = ponte::server::AppState::new(plan, settings).expect("the backends start");
    let app = ponte::server::router(state.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    (Ponte { base, client }, state)
}

fn load(adapters: &Path) -> ponte::plan::Plan {
    let options = ponte::plan::LoadOptions {
        missing_env_is_empty: true,
        ..Default::default()
    };
    ponte::plan::load_dir_with(adapters, &|_: &str| None, &options)
        .plan
        .expect("adapters load")
}

async fn shipped() -> Ponte {
    mock_ponte(&repo_path("adapters"), &repo_path("fixtures"))
        .await
        .0
}

/// Sends one JSON-RPC message to `/_ponte/mcp` as an MCP client does (both media types accepted).
async fn rpc(ponte: &Ponte, message: Value, headers: &[(&str, &str)]) -> Answer {
    let mut request = ponte
        .client
        .post(ponte.url("/_ponte/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(&message);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    ponte.send(request).await
}

/// A request's `result`; fails on a JSON-RPC error.
async fn call(ponte: &Ponte, method: &str, params: Value, headers: &[(&str, &str)]) -> Value {
    let answer = rpc(
        ponte,
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
        headers,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["id"], 1, "{}", answer.text);
    assert!(answer.json.get("error").is_none(), "{}", answer.text);
    answer.json["result"].clone()
}

async fn call_tool(ponte: &Ponte, name: &str, arguments: Value, headers: &[(&str, &str)]) -> Value {
    call(
        ponte,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
        headers,
    )
    .await
}

async fn tools(ponte: &Ponte) -> Vec<Value> {
    let result = call(ponte, "tools/list", json!({}), &[]).await;
    result["tools"].as_array().cloned().unwrap_or_default()
}

fn without_request_id(mut problem: Value) -> Value {
    problem.as_object_mut().map(|p| p.remove("request_id"));
    problem
}

#[tokio::test]
async fn initialize_names_ponte_and_offers_tools() {
    let ponte = shipped().await;
    let result = call(
        &ponte,
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}
        }),
        &[],
    )
    .await;
    assert_eq!(result["protocolVersion"], "2025-06-18", "{result}");
    assert_eq!(result["serverInfo"]["name"], "ponte", "{result}");
    assert!(result["capabilities"]["tools"].is_object(), "{result}");
    let initialized = rpc(
        &ponte,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        &[],
    )
    .await;
    assert_eq!(initialized.status, 202, "{}", initialized.text);
    let pong = call(&ponte, "ping", json!({}), &[]).await;
    assert_eq!(pong, json!({}));
}

#[tokio::test]
async fn tools_list_has_one_tool_per_route_with_its_input_schema() {
    let ponte = shipped().await;
    let tools = tools(&ponte).await;
    let plan = load(&repo_path("adapters"));
    assert_eq!(tools.len(), plan.route_count());
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for adapter in &plan.adapters {
        for route in &adapter.routes {
            let name = format!("{}_{}", adapter.name, route.name);
            assert!(names.contains(&name.as_str()), "{name} in {names:?}");
        }
    }
    let add = tools
        .iter()
        .find(|t| t["name"] == "calculator_add")
        .expect("calculator_add");
    let schema = &add["inputSchema"];
    assert_eq!(schema["type"], "object", "{schema}");
    assert_eq!(schema["properties"]["a"]["type"], "integer", "{schema}");
    assert_eq!(schema["properties"]["b"]["type"], "integer", "{schema}");
    assert_eq!(schema["required"], json!(["a", "b"]), "{schema}");
    assert!(
        add["description"]
            .as_str()
            .is_some_and(|d| d.contains("GET /calculator/add")),
        "{add}"
    );
    assert_eq!(add["annotations"]["readOnlyHint"], true, "{add}");
    let create = tools.iter().find(|t| t["name"] == "crm_create").unwrap();
    assert_eq!(
        create["description"]
            .as_str()
            .unwrap_or_default()
            .split(" (")
            .next(),
        Some("Create a contact from a JSON body."),
        "{create}"
    );
    assert_eq!(
        create["inputSchema"]["required"],
        json!(["first_name", "last_name"]),
        "{create}"
    );
}

#[tokio::test]
async fn tool_call_gives_the_answer_of_the_rest_route() {
    let ponte = shipped().await;
    let rest = ponte.get("/calculator/add?a=2&b=3").await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    let result = call_tool(&ponte, "calculator_add", json!({"a": 2, "b": 3}), &[]).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"], rest.json, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(text).ok(),
        Some(rest.json),
        "{result}"
    );
}

#[tokio::test]
async fn path_and_body_arguments_reach_the_route_as_rest_callers_send_them() {
    let ponte = shipped().await;
    let rest = ponte.get("/crm/contacts/c-1042").await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    let result = call_tool(&ponte, "crm_contact", json!({"id": "c-1042"}), &[]).await;
    assert_eq!(result["structuredContent"], rest.json, "{result}");

    let body = json!({
        "first_name": "Márcia",
        "last_name": "Gonçalves",
        "email": "marcia@cafeteria.com.br",
        "company": "Cafeteria Três Corações"
    });
    let rest = ponte.post_json("/crm/contacts", &body).await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    let result = call_tool(&ponte, "crm_create", body, &[]).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"], rest.json, "{result}");
}

#[tokio::test]
async fn a_bad_argument_is_the_facades_400_problem_as_an_error_result() {
    let ponte = shipped().await;
    let rest = ponte.get("/calculator/add?a=two&b=3").await;
    rest.assert_problem(400, "bad_input");
    let result = call_tool(&ponte, "calculator_add", json!({"a": "two", "b": 3}), &[]).await;
    assert_eq!(result["isError"], true, "{result}");
    let problem = &result["structuredContent"];
    assert!(problem["request_id"].is_string(), "{result}");
    assert_eq!(
        without_request_id(problem.clone()),
        without_request_id(rest.json),
        "{result}"
    );
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(text).ok().as_ref(),
        Some(problem),
        "{result}"
    );
}

#[tokio::test]
async fn an_argument_the_route_does_not_take_is_a_400_problem_naming_it() {
    let ponte = shipped().await;
    let result = call_tool(
        &ponte,
        "calculator_add",
        json!({"a": 2, "b": 3, "c": 4}),
        &[],
    )
    .await;
    assert_eq!(result["isError"], true, "{result}");
    let problem = &result["structuredContent"];
    assert_eq!(problem["status"], 400, "{result}");
    assert_eq!(problem["code"], "bad_input", "{result}");
    assert_eq!(
        problem["errors"],
        json!([{"field": "c", "in": "arguments", "problem": "is not an input of this route"}]),
        "{result}"
    );
}

#[tokio::test]
async fn a_missing_path_argument_is_a_400_problem_naming_it() {
    let ponte = shipped().await;
    let result = call_tool(&ponte, "crm_contact", json!({}), &[]).await;
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(
        result["structuredContent"]["errors"],
        json!([{"field": "id", "in": "path", "problem": "required"}]),
        "{result}"
    );
}

#[tokio::test]
async fn an_unknown_tool_is_an_invalid_params_error() {
    let ponte = shipped().await;
    let answer = rpc(
        &ponte,
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "nope_nothing", "arguments": {}}}),
        &[],
    )
    .await;
    assert_eq!(answer.json["error"]["code"], -32602, "{}", answer.text);
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope_nothing")),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn the_mcp_requests_credentials_are_the_tool_calls_credentials() {
    let dir = tempfile::tempdir().unwrap();
    guarded_calculator(dir.path(), FLOWS_KEY);
    let (ponte, _) = mock_ponte(&dir.path().join("adapters"), &dir.path().join("fixtures")).await;

    // Listing needs no credential: a client learns what it may call and how.
    assert_eq!(tools(&ponte).await.len(), 4);

    let refused = call_tool(&ponte, "calculator_add", json!({"a": 2, "b": 3}), &[]).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["status"], 401, "{refused}");
    assert_eq!(
        refused["structuredContent"]["code"], "unauthorized",
        "{refused}"
    );

    let wrong = call_tool(
        &ponte,
        "calculator_add",
        json!({"a": 2, "b": 3}),
        &[("X-Api-Key", "not-the-key")],
    )
    .await;
    assert_eq!(wrong["structuredContent"]["status"], 401, "{wrong}");

    let admitted = call_tool(
        &ponte,
        "calculator_add",
        json!({"a": 2, "b": 3}),
        &[("X-Api-Key", FLOWS_KEY)],
    )
    .await;
    assert_eq!(admitted["isError"], false, "{admitted}");
    assert_eq!(
        admitted["structuredContent"],
        json!({"result": 5}),
        "{admitted}"
    );
}

#[tokio::test]
async fn tools_follow_a_reload() {
    let (ponte, state) = mock_ponte(&repo_path("adapters"), &repo_path("fixtures")).await;
    assert!(
        tools(&ponte)
            .await
            .iter()
            .any(|t| t["name"] == "crm_contact")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_path("adapters/calculator.yaml"),
        dir.path().join("calculator.yaml"),
    )
    .unwrap();
    state
        .install(load(dir.path()))
        .expect("the new plan installs");
    let names: Vec<String> = tools(&ponte)
        .await
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        [
            "calculator_add",
            "calculator_subtract",
            "calculator_multiply",
            "calculator_divide"
        ]
    );
    let gone = rpc(
        &ponte,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "crm_contact", "arguments": {"id": "c-1042"}}}),
        &[],
    )
    .await;
    assert_eq!(gone.json["error"]["code"], -32602, "{}", gone.text);
}
