//! Replays the SOAP traffic captured from a real spyne server (corpus wire/spyne): ponte must send
//! what spyne received and make sense of what spyne answered. Ignored unless run with
//! `--include-ignored` and PONTE_CORPUS set, as `.ci/run` does.

mod common;

use std::collections::HashMap;

use common::{Ponte, StandIn, captured_reply, corpus, leaves, repo_path};
use serde_json::{Value, json};

async fn replay(case: &str, facade_path: &str) -> (common::Answer, String, String) {
    let dir = corpus().join("wire/spyne");
    let backend = StandIn::always(captured_reply(&dir, case, "xml")).await;
    let env = HashMap::from([("SPYNE_URL".to_string(), backend.url.clone())]);
    let ponte = Ponte::start(&repo_path("tests/corpus-adapters"), env).await;
    let answer = ponte.get(facade_path).await;
    let expected = std::fs::read_to_string(dir.join(format!("{case}.req.xml"))).unwrap();
    (answer, backend.last().body, expected)
}

fn body_leaves(xml: &str) -> Vec<(String, String, String)> {
    leaves(xml)
        .into_iter()
        .filter(|(_, name, _)| name != "Header")
        .collect()
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_soap11_consultacep_ok() {
    let (answer, sent, expected) = replay("soap11_consultacep_ok", "/spyne11/cep/01001-000").await;
    assert_eq!(body_leaves(&sent), body_leaves(&expected));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"cep": "01001000", "street": "Praça da Sé", "district": "Sé", "city": "São Paulo", "state": "SP"})
    );
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_soap12_consultacep_ok() {
    let (answer, sent, expected) = replay("soap12_consultacep_ok", "/spyne12/cep/70040010").await;
    assert_eq!(body_leaves(&sent), body_leaves(&expected));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["street"], "Esplanada dos Ministérios");
    assert_eq!(answer.json["city"], "Brasília");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_soap11_client_fault_with_dotted_subcode_maps_to_422() {
    let (answer, sent, expected) =
        replay("soap11_consultacep_fault_client", "/spyne11/cep/123").await;
    assert_eq!(body_leaves(&sent), body_leaves(&expected));
    answer.assert_problem(422, "invalid_cep");
    assert_eq!(answer.json["detail"], "CEP deve ter 8 digitos: '123'");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_soap12_client_fault_with_subcode_maps_to_422() {
    let (answer, _, _) = replay("soap12_consultacep_fault_client", "/spyne12/cep/abc").await;
    answer.assert_problem(422, "invalid_cep");
    assert_eq!(answer.json["detail"], "CEP deve ter 8 digitos: 'abc'");
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_server_faults_map_to_404_in_both_versions() {
    for (case, path) in [
        ("soap11_consultacep_fault_server", "/spyne11/cep/99999999"),
        ("soap12_consultacep_fault_server", "/spyne12/cep/99999999"),
    ] {
        let (answer, sent, expected) = replay(case, path).await;
        assert_eq!(body_leaves(&sent), body_leaves(&expected), "{case}");
        answer.assert_problem(404, "cep_not_found");
    }
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_soap11_somar_scalar_result() {
    let (answer, sent, expected) = replay("soap11_somar", "/spyne11/sum?a=2&b=40").await;
    assert_eq!(body_leaves(&sent), body_leaves(&expected));
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"result": 42}))
    );
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
async fn spyne_schema_validation_fault_is_unmapped_502() {
    let (answer, _, _) = replay("soap11_malformed", "/spyne11/sum?a=2&b=40").await;
    answer.assert_problem(502, "backend_fault");
    assert_eq!(
        answer.json["fault_code"],
        Value::String("Client.SchemaValidationError".into())
    );
    answer.assert_hides("SCHEMASV");
}
