//! The OpenAPI 3.1 document: generated from the loaded adapters, with examples from the fixtures,
//! served at `/_ponte/openapi.json` and rebuilt when a new set is installed.

mod common;

use std::collections::HashMap;

use common::{Ponte, repo_path};
use ponte::describe::{Mode, Published};
use ponte::plan::{LoadOptions, Plan, load_dir_with};
use serde_json::{Value, json};

fn no_env(_: &str) -> Option<String> {
    None
}

/// Loads a folder of adapters offline (unset variables expand to nothing).
fn plan_of(dir: &std::path::Path) -> Plan {
    let options = LoadOptions {
        missing_env_is_empty: true,
        ..LoadOptions::default()
    };
    let loaded = load_dir_with(dir, &no_env, &options);
    loaded.plan.unwrap_or_else(|| {
        let lines: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        panic!("adapters do not load:\n{}", lines.join("\n"))
    })
}

/// The document of the bundled adapters with the bundled fixtures' examples.
fn bundled() -> Value {
    let plan = plan_of(&repo_path("adapters"));
    let (cases, _) = ponte::fixture::load(&repo_path("fixtures"), &plan);
    assert!(!cases.is_empty(), "the bundled fixtures load");
    let published = Published::build(&plan, &cases, Mode::default());
    serde_json::from_str(&published.openapi).expect("the document is JSON")
}

fn operation<'d>(doc: &'d Value, path: &str, method: &str) -> &'d Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no {method} {path} in the document");
    op
}

#[test]
fn the_document_of_the_bundled_adapters_is_stable() {
    insta::assert_snapshot!(
        "openapi_bundled",
        serde_json::to_string_pretty(&bundled()).unwrap()
    );
}

#[test]
fn the_document_lists_every_route_of_every_adapter() {
    let plan = plan_of(&repo_path("adapters"));
    let doc = bundled();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut listed = 0;
    for path in doc["paths"].as_object().unwrap().values() {
        listed += path.as_object().unwrap().len();
    }
    assert_eq!(listed, plan.route_count());
    for adapter in &plan.adapters {
        for route in &adapter.routes {
            let path = format!("/{}{}", adapter.name, route.path);
            let op = operation(&doc, &path, &route.method.as_str().to_ascii_lowercase());
            assert_eq!(
                op["operationId"],
                format!("{}.{}", adapter.name, route.name)
            );
        }
    }
}

#[test]
fn inputs_are_parameters_with_their_constraints_and_path_inputs_are_required() {
    let doc = bundled();
    let add = operation(&doc, "/calculator/add", "get");
    assert_eq!(
        add["parameters"][0],
        json!({
            "name": "a", "in": "query", "required": true,
            "schema": {"type": "integer", "minimum": -2147483648_i64, "maximum": 2147483647},
            "examples": add["parameters"][0]["examples"].clone(),
        })
    );
    let contact = operation(&doc, "/crm/contacts/{id}", "get");
    assert_eq!(contact["parameters"][0]["in"], "path");
    assert_eq!(contact["parameters"][0]["required"], true);
    let search = operation(&doc, "/crm/contacts", "get");
    let limit = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["required"], false);
    assert_eq!(
        limit["schema"],
        json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 10})
    );
    let create = operation(&doc, "/crm/contacts", "post");
    let body = &create["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], json!(["first_name", "last_name"]));
    assert_eq!(body["properties"]["first_name"]["maxLength"], 100);
}

#[test]
fn a_fault_rule_gives_its_status_and_code() {
    let doc = bundled();
    let divide = operation(&doc, "/calculator/divide", "get");
    let rejected = &divide["responses"]["422"];
    assert!(
        rejected["description"]
            .as_str()
            .unwrap()
            .contains("division_by_zero"),
        "{rejected}"
    );
    assert_eq!(
        rejected["content"]["application/problem+json"]["schema"]["allOf"][1]["properties"]["code"],
        json!({"enum": ["division_by_zero"]})
    );
    // A route without fault rules has no 422.
    assert!(operation(&doc, "/calculator/add", "get")["responses"]["422"].is_null());
}

#[test]
fn problems_are_problem_json_with_the_shared_schema() {
    let doc = bundled();
    let add = operation(&doc, "/calculator/add", "get");
    for status in ["400", "502", "503", "504"] {
        let schema = &add["responses"][status]["content"]["application/problem+json"]["schema"];
        assert_eq!(
            schema["allOf"][0]["$ref"], "#/components/schemas/Problem",
            "{status}"
        );
    }
    assert_eq!(
        add["responses"]["503"]["headers"]["Retry-After"]["$ref"],
        "#/components/headers/Retry-After"
    );
    // `not_found` gives a 404; a route without it has none (outside mock mode).
    assert!(operation(&doc, "/crm/contacts/{id}", "get")["responses"]["404"].is_object());
    assert!(add["responses"]["404"].is_null());
}

#[test]
fn examples_come_from_the_fixtures() {
    let doc = bundled();
    let add = operation(&doc, "/calculator/add", "get");
    assert_eq!(
        add["responses"]["200"]["content"]["application/json"]["examples"]["add-small"]["value"],
        json!({"result": 5})
    );
    assert_eq!(add["parameters"][0]["examples"]["add-small"]["value"], 2);
    assert_eq!(add["parameters"][1]["examples"]["add-small"]["value"], 3);
    let create = operation(&doc, "/crm/contacts", "post");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["examples"]["create-ok"]["value"]["first_name"],
        "Márcia"
    );
}

#[test]
fn the_answer_schema_follows_the_mapping() {
    let doc = bundled();
    let add = operation(&doc, "/calculator/add", "get");
    assert_eq!(
        add["responses"]["200"]["content"]["application/json"]["schema"],
        json!({
            "type": "object",
            "properties": {"result": {"type": ["integer", "null"]}},
            "required": ["result"],
            "additionalProperties": false
        })
    );
    let search = operation(&doc, "/crm/contacts", "get");
    let answer = &search["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(answer["properties"]["contacts"]["type"], "array");
    assert_eq!(
        answer["properties"]["contacts"]["items"]["properties"]["name"],
        json!({"type": "string"})
    );
}

#[test]
fn a_route_with_auth_has_its_security_scheme() {
    let env: HashMap<&str, &str> = [
        ("AUTH_URL", "http://127.0.0.1:9/"),
        ("FLOWS_KEY", "flows-key-8c1d2e"),
        ("HMAC_SECRET", "hmac-secret-5a6b7c"),
    ]
    .into();
    let lookup = move |k: &str| env.get(k).map(|v| v.to_string());
    let plan = ponte::plan::load_dir(&repo_path("tests/auth-adapters"), &lookup)
        .plan
        .expect("the auth adapters load");
    let published = Published::build(&plan, &[], Mode::default());
    let doc: Value = serde_json::from_str(&published.openapi).unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["api_key_header_x-api-key"],
        json!({"type": "apiKey", "in": "header", "name": "x-api-key",
            "description": "An API key the adapter's `auth:` names."})
    );
    let hello = operation(&doc, "/keys/hello", "get");
    assert_eq!(hello["security"], json!([{"api_key_header_x-api-key": []}]));
    assert!(hello["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
    let by_query = operation(&doc, "/keys/by-query", "get");
    assert_eq!(by_query["security"], json!([{"api_key_query_api_key": []}]));
    assert_eq!(schemes["api_key_query_api_key"]["in"], "query");
    // `auth: none` opens the route: an empty security list, no 401.
    let open = operation(&doc, "/keys/open", "get");
    assert_eq!(open["security"], json!([]));
    assert!(open["responses"]["401"].is_null());
    let order = operation(&doc, "/signed/orders", "post");
    assert_eq!(order["security"], json!([{"hmac_x-signature": []}]));
    // The keys themselves never appear, in the document or on the page.
    for text in [&published.openapi, &published.page] {
        for secret in ["flows-key-8c1d2e", "hmac-secret-5a6b7c", "keys.txt"] {
            assert!(!text.contains(secret), "{secret} appears");
        }
    }
}

#[tokio::test]
async fn the_served_document_changes_when_a_new_set_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = |route: &str| {
        format!(
            "name: shop\nbackend:\n  http: {{ url: \"http://127.0.0.1:9/\" }}\nroutes:\n  {route}:\n    method: GET\n    path: /{route}\n    call: {{ path: /x }}\n    response: {{ name: item.name }}\n"
        )
    };
    std::fs::write(dir.path().join("shop.yaml"), adapter("item")).unwrap();
    let state = ponte::server::AppState::new(plan_of(dir.path()), Default::default()).unwrap();
    let ponte = Ponte::serve_state(state.clone()).await;
    let before = ponte.get("/_ponte/openapi.json").await;
    assert_eq!(before.status, 200);
    assert_eq!(before.content_type(), "application/json");
    assert!(before.json["paths"]["/shop/item"].is_object());

    std::fs::write(dir.path().join("shop.yaml"), adapter("basket")).unwrap();
    state.install(plan_of(dir.path())).unwrap();
    let after = ponte.get("/_ponte/openapi.json").await;
    assert!(
        after.json["paths"]["/shop/basket"].is_object(),
        "{}",
        after.text
    );
    assert!(after.json["paths"]["/shop/item"].is_null());
}

#[test]
fn values_from_the_environment_never_appear() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vault.yaml"),
        "name: vault\ndescription: \"uses ${VAULT_TOKEN}\"\nbackend:\n  http: { url: \"http://127.0.0.1:9/\" }\nroutes:\n  item:\n    method: GET\n    path: /item\n    description: \"token ${VAULT_TOKEN}\"\n    call: { path: /x }\n    response: { name: item.name }\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [("VAULT_TOKEN", "s3cr3t-t0ken")].into();
    let lookup = move |k: &str| env.get(k).map(|v| v.to_string());
    let plan = ponte::plan::load_dir(dir.path(), &lookup).plan.unwrap();
    let published = Published::build(&plan, &[], Mode::default());
    assert!(
        !published.openapi.contains("s3cr3t-t0ken"),
        "{}",
        published.openapi
    );
    assert!(!published.page.contains("s3cr3t-t0ken"));
    assert!(published.openapi.contains("token ***"));
}
