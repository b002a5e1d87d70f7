//! Namespaces beyond one per adapter: a route's own `namespace:`, body elements in another
//! namespace by prefix, and rpc operations written `prefix:Name`.

mod common;

use std::collections::HashMap;

use common::{Ponte, Received, Reply, StandIn, soap11, soap11_fault};
use serde_json::json;

async fn ponte_with(adapter: &str, backend: &StandIn) -> (Ponte, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), adapter).unwrap();
    let vars = HashMap::from([("URL".to_string(), backend.url.clone())]);
    (Ponte::start(dir.path(), vars).await, dir)
}

/// `ponte check` over one adapter file: exit code and standard error.
fn check(adapter: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), adapter).unwrap();
    common::check_adapters(dir.path())
}

/// The namespace URI and local name of the first element in the Body of an envelope.
fn operation_element(xml: &str) -> (String, String) {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut in_body = false;
    loop {
        let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name().as_ref().to_string();
                if in_body {
                    let ns = match ns {
                        ResolveResult::Bound(n) => n.0.to_string(),
                        _ => String::new(),
                    };
                    return (ns, local);
                }
                in_body = local == "Body";
            }
            Event::Eof => panic!("no element in the Body: {xml}"),
            _ => {}
        }
    }
}

fn soap_action(got: &Received) -> String {
    got.headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A service that, like the real one, answers an operation only in the namespace it lives in
/// (and faults otherwise).
fn two_namespace_service(got: &Received) -> Reply {
    let (ns, local) = operation_element(&got.body);
    let reply = match (ns.as_str(), local.as_str()) {
        ("urn:catalog", "GetItem") => {
            r#"<c:GetItemResponse xmlns:c="urn:catalog"><c:Name>bolt</c:Name></c:GetItemResponse>"#
        }
        ("urn:stock/v2", "GetLevel") => {
            r#"<s:GetLevelResponse xmlns:s="urn:stock/v2"><s:Level>7</s:Level></s:GetLevelResponse>"#
        }
        ("urn:audit", "Trace") => {
            r#"<a:TraceResponse xmlns:a="urn:audit"><a:Id>t-1</a:Id></a:TraceResponse>"#
        }
        _ => return Reply::xml(500, soap11_fault("Client", &format!("no {local} in {ns}"))),
    };
    Reply::xml(200, soap11(reply))
}

const TWO_NAMESPACES: &str = r#"
name: shop
backend:
  soap:
    url: "${URL}"
    namespace: "urn:catalog"
    namespaces: { au: "urn:audit" }
routes:
  item:
    method: GET
    path: /items/{id}
    input: { id: { in: path } }
    operation: GetItem
    request: { GetItem: { Id: $id } }
    response: { name: GetItemResponse.Name }
  level:
    method: GET
    path: /stock/{id}
    input: { id: { in: path } }
    namespace: "urn:stock/v2"
    operation: GetLevel
    request: { GetLevel: { Id: $id } }
    response: { level: { from: GetLevelResponse.Level, type: integer } }
  trace:
    method: GET
    path: /trace/{id}
    input: { id: { in: path } }
    operation: Trace
    request: { "au:Trace": { "au:Id": $id } }
    response: { id: TraceResponse.Id }
"#;

#[tokio::test]
async fn each_route_calls_its_operation_in_its_own_namespace() {
    let backend = StandIn::start(two_namespace_service).await;
    let (ponte, _dir) = ponte_with(TWO_NAMESPACES, &backend).await;

    let item = ponte.get("/shop/items/9").await;
    assert_eq!((item.status, item.json), (200, json!({"name": "bolt"})));
    assert_eq!(soap_action(&backend.last()), "\"urn:catalog/GetItem\"");

    let level = ponte.get("/shop/stock/9").await;
    assert_eq!((level.status, level.json), (200, json!({"level": 7})));
    let sent = backend.last();
    assert_eq!(
        operation_element(&sent.body),
        ("urn:stock/v2".into(), "GetLevel".into())
    );
    // The route's namespace is also that of the body's child elements (qualified).
    assert!(
        common::leaves(&sent.body).contains(&common::leaf("urn:stock/v2", "Id", "9")),
        "{}",
        sent.body
    );
    assert_eq!(soap_action(&sent), "\"urn:stock/v2/GetLevel\"");
}

#[tokio::test]
async fn body_elements_written_with_a_declared_prefix_are_in_that_namespace() {
    let backend = StandIn::start(two_namespace_service).await;
    let (ponte, _dir) = ponte_with(TWO_NAMESPACES, &backend).await;
    let trace = ponte.get("/shop/trace/5").await;
    assert_eq!((trace.status, trace.json), (200, json!({"id": "t-1"})));
    let sent = backend.last().body;
    assert_eq!(
        common::leaves(&sent),
        vec![common::leaf("urn:audit", "Id", "5")]
    );
}

const RPC_PREFIXED: &str = r#"
name: inv
backend:
  soap:
    url: "${URL}"
    namespace: "urn:main"
    style: rpc
    namespaces: { inv: "urn:inventory" }
routes:
  item:
    method: GET
    path: /items/{id}
    input: { id: { in: path } }
    operation: OPERATION
    request: { id: $id }
    response: { name: getItemResponse.return }
"#;

#[tokio::test]
async fn a_prefixed_rpc_operation_is_an_element_of_the_prefix_namespace() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<i:getItemResponse xmlns:i="urn:inventory"><return>nut</return></i:getItemResponse>"#),
    ))
    .await;
    let (ponte, _dir) =
        ponte_with(&RPC_PREFIXED.replace("OPERATION", "inv:getItem"), &backend).await;
    let answer = ponte.get("/inv/items/3").await;
    assert_eq!((answer.status, answer.json), (200, json!({"name": "nut"})));
    let sent = backend.last();
    assert!(
        sent.body.contains("<inv:getItem><id>3</id></inv:getItem>"),
        "{}",
        sent.body
    );
    assert!(!sent.body.contains("tns:inv:"), "{}", sent.body);
    assert_eq!(
        operation_element(&sent.body),
        ("urn:inventory".into(), "getItem".into())
    );
    assert_eq!(soap_action(&sent), "\"urn:inventory/getItem\"");
}

#[test]
fn an_unknown_operation_prefix_is_a_check_error_at_its_position() {
    let (code, stderr) = check(&RPC_PREFIXED.replace("OPERATION", "invv:getItem"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("a.yaml:14:16: operation `invv:getItem`: unknown namespace prefix `invv`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `inv:getItem`?"), "{stderr}");
    let (code, stderr) = check(&RPC_PREFIXED.replace("OPERATION", "ns:getItem"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("declare it under backend.soap.namespaces"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not used"),
        "one slip, one error: {stderr}"
    );
}
