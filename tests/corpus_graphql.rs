//! Replays GraphQL traffic captured from real servers (corpus wire/strawberry and
//! wire/countries-graphql). Ignored unless run with
//! `--include-ignored` and PONTE_CORPUS set, as `.ci/run` does.

mod common;

use std::collections::HashMap;

use common::{Ponte, StandIn, captured_reply, corpus, repo_path};
use serde_json::{Value, json};

async fn replay(folder: &str, case: &str, path: &str) -> (common::Answer, Value, Value) {
    let dir = corpus().join("wire").join(folder);
    let backend = StandIn::always(captured_reply(&dir, case, "json")).await;
    let env = HashMap::from([("GRAPHQL_URL".to_string(), backend.url.clone())]);
    let ponte = Ponte::start(&repo_path("tests/corpus-graphql"), env).await;
    let answer = ponte.get(path).await;
    let sent: Value = serde_json::from_str(&backend.last().body).unwrap();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{case}.req.json"))).unwrap())
            .unwrap();
    (answer, sent, expected)
}

fn collapse(q: &Value) -> String {
    q.as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_contact_ok_sends_what_the_server_saw() {
    let (answer, sent, expected) =
        replay("strawberry", "contact_ok", "/strawberry/contacts/1").await;
    assert_eq!(collapse(&sent["query"]), collapse(&expected["query"]));
    assert_eq!(sent["variables"], expected["variables"]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"id": "1", "name": "Maria Silva", "email": "maria@example.com", "phone": "+5511999990000", "tags": ["vip"]})
    );
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_null_contact_is_404() {
    let (answer, _, _) = replay("strawberry", "contact_null", "/strawberry/contacts/42").await;
    answer.assert_problem(404, "not_found");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_partial_error_follows_the_route_policy() {
    let (strict, _, _) = replay(
        "strawberry",
        "partial_error",
        "/strawberry/contacts/1/score",
    )
    .await;
    strict.assert_problem(502, "backend_fault");
    assert_eq!(strict.json["graphql_path"], "contact.creditScore");
    strict.assert_hides("credit bureau");
    // Allowed partial data: what arrived is mapped, and here the contact itself is null.
    let (lenient, _, _) = replay(
        "strawberry",
        "partial_error",
        "/strawberry/contacts/1/score-or-what-we-have",
    )
    .await;
    lenient.assert_problem(404, "not_found");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_error_without_code_maps_by_message() {
    let dir = corpus().join("wire/strawberry");
    let backend = StandIn::always(captured_reply(&dir, "create_error", "json")).await;
    let env = HashMap::from([("GRAPHQL_URL".to_string(), backend.url.clone())]);
    let ponte = Ponte::start(&repo_path("tests/corpus-graphql"), env).await;
    let answer = ponte
        .post_json("/strawberry/contacts", &json!({"name": "  "}))
        .await;
    answer.assert_problem(422, "invalid_name");
    assert_eq!(answer.json["detail"], "name must not be empty");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_validation_and_syntax_errors_are_502() {
    for case in ["validation_error", "syntax_error"] {
        let (answer, _, _) = replay("strawberry", case, "/strawberry/contacts/1").await;
        answer.assert_problem(502, "backend_fault");
    }
}

/// The server refused a variable's value (`Variable '$id' has invalid value`): the caller's
/// input, so a 400 naming it, not a backend error.
#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn strawberry_variable_coercion_error_is_400() {
    let (answer, _, _) = replay("strawberry", "bad_variable_type", "/strawberry/contacts/1").await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(answer.json["errors"][0]["field"], "id", "{}", answer.text);
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn countries_ok_with_operation_name() {
    let (answer, sent, expected) =
        replay("countries-graphql", "country_ok", "/countries/countries/BR").await;
    assert_eq!(collapse(&sent["query"]), collapse(&expected["query"]));
    assert_eq!(sent["operationName"], expected["operationName"]);
    assert_eq!(sent["variables"], expected["variables"]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["capital"], "Brasília");
    assert_eq!(answer.json["languages"], json!(["Portuguese"]));
    assert_eq!(answer.json["continent"], "South America");
    assert!(answer.json["states"].as_i64().unwrap() > 20);
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn countries_null_is_404() {
    let (answer, _, _) = replay(
        "countries-graphql",
        "country_null",
        "/countries/countries/XX",
    )
    .await;
    answer.assert_problem(404, "not_found");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn countries_errors_with_400_and_200_are_both_errors() {
    let (missing, _, _) = replay(
        "countries-graphql",
        "missing_variable",
        "/countries/countries/BR/name",
    )
    .await;
    missing.assert_problem(502, "backend_fault");
    assert!(missing.detail().contains("HTTP 400"), "{}", missing.text);
    for case in [
        "validation_error_unknown_field",
        "validation_error_unknown_field_gqlresp",
    ] {
        let (answer, _, _) =
            replay("countries-graphql", case, "/countries/countries/BR/name").await;
        answer.assert_problem(502, "backend_fault");
        assert_eq!(answer.json["graphql_code"], "GRAPHQL_VALIDATION_FAILED");
    }
    let (zod, _, _) = replay(
        "countries-graphql",
        "resolver_error_zod",
        "/countries/countries/BR/name",
    )
    .await;
    zod.assert_problem(502, "backend_fault");
    assert_eq!(zod.json["graphql_code"], "VALIDATION_ERROR");
    assert_eq!(zod.json["graphql_path"], "country.name.lang");
}
