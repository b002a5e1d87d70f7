//! What callers get for bad requests, unknown routes, and the operational endpoints.

mod common;

use std::collections::HashMap;

use common::{Ponte, Reply, StandIn, repo_path, soap11};
use serde_json::json;

async fn lab() -> (StandIn, Ponte) {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<EchoResponse xmlns="urn:lab"><Text>ok</Text></EchoResponse>"#),
    ))
    .await;
    let env = HashMap::from([("LAB_URL".to_string(), backend.url.clone())]);
    let ponte = Ponte::start(&repo_path("tests/adapters"), env).await;
    (backend, ponte)
}

fn errors(answer: &common::Answer) -> Vec<(String, String, String)> {
    answer.json["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {}", answer.text))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().into(),
                e["in"].as_str().unwrap().into(),
                e["problem"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn e(field: &str, location: &str, problem: &str) -> (String, String, String) {
    (field.into(), location.into(), problem.into())
}

#[tokio::test]
async fn missing_and_mistyped_query_inputs_are_400_naming_each_field() {
    let backend = StandIn::always(Reply::xml(200, soap11(""))).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=two").await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(
        errors(&answer),
        vec![
            e("a", "query", "`two` is not an integer"),
            e("b", "query", "required")
        ]
    );
    assert_eq!(
        answer.json["detail"],
        "a: `two` is not an integer (and 1 more)"
    );
    assert_eq!(backend.count(), 0, "nothing reaches the backend");
}

#[tokio::test]
async fn a_query_input_given_twice_is_400() {
    let backend = StandIn::always(Reply::xml(200, soap11(""))).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=1&a=2&b=3").await;
    assert_eq!(
        errors(&answer),
        vec![e("a", "query", "given more than once")]
    );
}

#[tokio::test]
async fn path_input_failing_its_pattern_is_400() {
    let backend = StandIn::always(Reply::xml(200, soap11(""))).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/correios/cep/123").await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(
        errors(&answer),
        vec![e(
            "cep",
            "path",
            "does not match the pattern [0-9]{5}-?[0-9]{3}"
        )]
    );
}

#[tokio::test]
async fn json_body_inputs_are_typed_and_validated() {
    let (backend, ponte) = lab().await;
    let answer = ponte
        .post_json(
            "/lab/echo?mode=slow",
            &json!({"name": 5, "customer": {"age": 200}}),
        )
        .await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(
        errors(&answer),
        vec![
            e("name", "body", "expected a string, got a number"),
            e("customer.age", "body", "must be at most 150"),
            e("mode", "query", "must be one of \"fast\", \"safe\""),
        ]
    );
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn nested_body_fields_and_optional_inputs_reach_the_backend() {
    let (backend, ponte) = lab().await;
    let answer = ponte
        .post_json(
            "/lab/echo",
            &json!({"name": "Ada", "customer": {"age": 36}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let sent = backend.last().body;
    assert!(
        sent.contains("<tns:name>Ada</tns:name><tns:age>36</tns:age>"),
        "{sent}"
    );
    assert!(
        sent.contains(r#"mode="safe""#),
        "the default applies: {sent}"
    );
    assert!(
        !sent.contains("tns:tag"),
        "an absent optional input omits its element: {sent}"
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (_, ponte) = lab().await;
    let answer = ponte
        .post_raw("/lab/echo", "application/json", "{\"name\": ")
        .await;
    answer.assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let (_, ponte) = lab().await;
    let answer = ponte.post_raw("/lab/echo", "text/plain", "name=x").await;
    answer.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let (backend, ponte) = lab().await;
    let huge = json!({"name": "x".repeat(2 << 20)});
    let answer = ponte
        .send(ponte.client.post(ponte.url("/lab/echo")).json(&huge))
        .await;
    answer.assert_problem(413, "body_too_large");
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn unknown_adapter_route_and_method_are_404_404_405() {
    let (_, ponte) = lab().await;
    let answer = ponte.get("/nope/x").await;
    answer.assert_problem(404, "not_found");
    assert_eq!(answer.json["adapters"], json!(["lab"]));

    let answer = ponte.get("/lab/nothing-here").await;
    answer.assert_problem(404, "not_found");
    assert!(
        answer.json["routes"]
            .as_array()
            .unwrap()
            .contains(&json!("GET /lab/items"))
    );

    let answer = ponte
        .send(ponte.client.delete(ponte.url("/lab/items")))
        .await;
    answer.assert_problem(405, "method_not_allowed");
    assert_eq!(answer.headers["allow"], "GET, POST");
}

#[tokio::test]
async fn path_parameters_are_typed() {
    let (_, ponte) = lab().await;
    let answer = ponte.get("/lab/items/abc").await;
    assert_eq!(
        errors(&answer),
        vec![e("id", "path", "`abc` is not an integer")]
    );
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let (_, ponte) = lab().await;
    let answer = ponte
        .send(
            ponte
                .client
                .get(ponte.url("/lab/items"))
                .header("X-Request-Id", "abc-123"),
        )
        .await;
    assert_eq!(answer.headers["x-request-id"], "abc-123");

    let answer = ponte.get("/nope").await;
    let id = answer.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() >= 16, "{id}");
    assert_eq!(answer.json["request_id"], id.as_str());

    let other = ponte.get("/nope").await;
    assert_ne!(other.headers["x-request-id"].to_str().unwrap(), id);
}

#[tokio::test]
async fn health_and_ready_answer() {
    let (_, ponte) = lab().await;
    let health = ponte.get("/_ponte/health").await;
    assert_eq!(
        (health.status, health.json.clone()),
        (200, json!({"status": "ok"}))
    );
    let ready = ponte.get("/_ponte/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json["adapters"], 1);
    assert!(ready.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn operational_answers_carry_a_request_id_too() {
    let (_, ponte) = lab().await;
    let health = ponte.get("/_ponte/health").await;
    assert!(health.headers.contains_key("x-request-id"));
    let client = reqwest::Client::new();
    let wrong = ponte
        .send(
            client
                .post(ponte.url("/_ponte/health"))
                .header("x-request-id", "ops-7"),
        )
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers["x-request-id"], "ops-7");
}
