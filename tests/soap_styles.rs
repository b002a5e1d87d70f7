//! Envelope shapes beyond document/literal: rpc/literal, rpc/encoded, SOAP headers, repeated
//! elements, attributes, per-route timeouts.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Ponte, Reply, StandIn, leaf, leaves, soap11};
use serde_json::json;

async fn ponte_with(
    adapter: &str,
    backend: &StandIn,
    env: &[(&str, &str)],
) -> (Ponte, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), adapter).unwrap();
    let mut vars: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.insert("URL".into(), backend.url.clone());
    (Ponte::start(dir.path(), vars).await, dir)
}

const RPC: &str = r#"
name: rpc
backend:
  soap: { url: "${URL}", namespace: "urn:rpc", style: rpc, use: USE }
routes:
  quote:
    method: GET
    path: /quote/{symbol}
    input:
      symbol: { in: path }
      qty: { in: query, type: integer }
      when: { in: query, type: date, required: false }
    operation: GetQuote
    request: { symbol: $symbol, qty: $qty, when: $when, source: web }
    response:
      price: { from: GetQuoteResponse.return, type: number }
"#;

#[tokio::test]
async fn rpc_literal_wraps_parts_in_the_operation_element() {
    let backend = StandIn::always(Reply::xml(200, soap11(r#"<ns:GetQuoteResponse xmlns:ns="urn:rpc"><return>12.5</return></ns:GetQuoteResponse>"#))).await;
    let (ponte, _dir) = ponte_with(&RPC.replace("USE", "literal"), &backend, &[]).await;
    let answer = ponte.get("/rpc/quote/ACME?qty=3").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"price": 12.5})),
        "{}",
        answer.text
    );
    let sent = backend.last().body;
    assert_eq!(
        leaves(&sent),
        vec![
            leaf("", "symbol", "ACME"),
            leaf("", "qty", "3"),
            leaf("", "source", "web")
        ]
    );
    assert!(
        sent.contains("<tns:GetQuote><symbol>ACME</symbol>"),
        "{sent}"
    );
    assert!(!sent.contains("xsi:type"), "{sent}");
}

#[tokio::test]
async fn rpc_encoded_parts_carry_xsi_types() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<ns:GetQuoteResponse xmlns:ns="urn:rpc"><return xsi:type="xsd:double">7</return></ns:GetQuoteResponse>"#),
    ))
    .await;
    let (ponte, _dir) = ponte_with(&RPC.replace("USE", "encoded"), &backend, &[]).await;
    let answer = ponte.get("/rpc/quote/ACME?qty=3&when=2026-11-30").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"price": 7})),
        "{}",
        answer.text
    );
    let sent = backend.last().body;
    assert!(
        sent.contains(r#"soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/""#),
        "{sent}"
    );
    assert!(
        sent.contains(r#"<symbol xsi:type="xsd:string">ACME</symbol>"#),
        "{sent}"
    );
    assert!(
        sent.contains(r#"<qty xsi:type="xsd:long">3</qty>"#),
        "{sent}"
    );
    assert!(
        sent.contains(r#"<when xsi:type="xsd:date">2026-11-30</when>"#),
        "{sent}"
    );
    assert!(
        sent.contains(r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#),
        "{sent}"
    );
}

#[tokio::test]
async fn soap_headers_lists_and_attributes_from_the_adapter() {
    let adapter = r##"
name: hdr
backend:
  soap:
    url: "${URL}"
    namespace: "urn:orders"
    namespaces: { wsse: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
    headers:
      wsse:Security:
        wsse:UsernameToken:
          wsse:Username: "${ORDERS_USER}"
          wsse:Password: { "@Type": PasswordText, "#text": "${ORDERS_PASSWORD}" }
routes:
  order:
    method: POST
    path: /orders
    input:
      first: { in: body, name: items.first }
      second: { in: body, name: items.second }
      priority: { in: body, type: boolean, required: false }
    operation: PlaceOrder
    request:
      PlaceOrder:
        "@priority": $priority
        Line: [ { sku: $first }, { sku: $second } ]
    response:
      id: PlaceOrderResponse.OrderId
"##;
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(
            r#"<PlaceOrderResponse xmlns="urn:orders"><OrderId>o-1</OrderId></PlaceOrderResponse>"#,
        ),
    ))
    .await;
    let (ponte, _dir) = ponte_with(
        adapter,
        &backend,
        &[("ORDERS_USER", "svc"), ("ORDERS_PASSWORD", "s3cr&t")],
    )
    .await;
    let answer = ponte
        .post_json(
            "/hdr/orders",
            &json!({"items": {"first": "A-1", "second": "B-2"}}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"id": "o-1"})),
        "{}",
        answer.text
    );
    let sent = backend.last().body;
    let wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    assert_eq!(
        leaves(&sent),
        vec![
            leaf(wsse, "Username", "svc"),
            leaf(wsse, "Password", "s3cr&t"),
            leaf("urn:orders", "sku", "A-1"),
            leaf("urn:orders", "sku", "B-2")
        ]
    );
    assert!(
        sent.contains(r#"<wsse:Password Type="PasswordText">s3cr&amp;t</wsse:Password>"#),
        "{sent}"
    );
    assert!(
        sent.contains("<tns:PlaceOrder>"),
        "an absent optional attribute is omitted: {sent}"
    );
}

#[tokio::test]
async fn a_route_timeout_overrides_the_backend_timeout() {
    let adapter = r#"
name: slow
backend:
  soap: { url: "${URL}", namespace: "urn:slow" }
  timeout: 10s
routes:
  ping:
    method: GET
    path: /ping
    operation: Ping
    timeout: 200ms
    response: { ok: PingResponse.Ok }
"#;
    let backend = StandIn::always(
        Reply::xml(200, soap11("<PingResponse><Ok>1</Ok></PingResponse>"))
            .after(Duration::from_secs(3)),
    )
    .await;
    let (ponte, _dir) = ponte_with(adapter, &backend, &[]).await;
    let started = std::time::Instant::now();
    let answer = ponte.get("/slow/ping").await;
    answer.assert_problem(504, "backend_timeout");
    assert_eq!(
        answer.json["detail"],
        "the backend did not answer within the call's budget of 200 ms (1 attempt(s))"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
