//! Backends that fail, lie or attack: every case answers a precise problem+json, never a 500.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Ponte, Reply, StandIn, leaves, repo_path, soap11, soap11_fault, soap12};
use serde_json::json;

async fn lab(backend_url: &str) -> Ponte {
    let env = HashMap::from([("LAB_URL".to_string(), backend_url.to_string())]);
    Ponte::start(&repo_path("tests/adapters"), env).await
}

fn echo(body: &str) -> String {
    soap11(&format!(
        r#"<EchoResponse xmlns="urn:lab">{body}</EchoResponse>"#
    ))
}

#[tokio::test]
async fn soap_fault_with_http_500_maps_to_422_by_rule() {
    let backend = StandIn::always(Reply::xml(
        500,
        soap11_fault(
            "Server",
            "System.DivideByZeroException: Attempted to divide by zero.",
        ),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/divide?a=1&b=0").await;
    answer.assert_problem(422, "division_by_zero");
    assert_eq!(answer.json["detail"], "b must not be 0");
}

#[tokio::test]
async fn soap_fault_with_http_200_maps_like_one_with_500() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11_fault("Server", "Attempted to divide by zero."),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    ponte
        .get("/calculator/divide?a=1&b=0")
        .await
        .assert_problem(422, "division_by_zero");
}

#[tokio::test]
async fn unmapped_soap_fault_is_502_naming_the_code_not_the_text() {
    let backend = StandIn::always(Reply::xml(
        500,
        soap11_fault("Server.Database", "ORA-00942: table or view does not exist"),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=1&b=2").await;
    answer.assert_problem(502, "backend_fault");
    assert_eq!(answer.json["fault_code"], "Server.Database");
    answer.assert_hides("ORA-00942");
}

#[tokio::test]
async fn soap12_fault_with_subcode_is_recognised() {
    let fault = soap12(
        r#"<env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>Arith</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Attempted to divide by zero.</env:Text></env:Reason></env:Fault>"#,
    );
    let backend = StandIn::always(Reply::xml(500, fault).with_type("application/soap+xml")).await;
    let ponte = Ponte::shipped(&backend).await;
    ponte
        .get("/calculator12/divide?a=1&b=0")
        .await
        .assert_problem(422, "division_by_zero");
}

#[tokio::test]
async fn html_error_page_is_502_saying_so() {
    let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";
    let backend = StandIn::always(Reply::xml(502, page).with_type("text/html")).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=1&b=2").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("HTML page"), "{}", answer.text);
    assert_eq!(
        backend.count(),
        2,
        "a GET route retries a 502 once (attempts: 2)"
    );
}

#[tokio::test]
async fn empty_reply_body_is_502_saying_so() {
    let backend = StandIn::always(Reply::xml(200, "")).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=1&b=2").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("empty"), "{}", answer.text);
}

#[tokio::test]
async fn xml_that_is_not_soap_is_502() {
    let backend = StandIn::always(Reply::xml(200, "<result>5</result>")).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/calculator/add?a=1&b=2").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(
        answer.detail().contains("not a SOAP envelope"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn slow_backend_is_504_after_the_timeout() {
    let backend =
        StandIn::always(Reply::xml(200, echo("<Text>late</Text>")).after(Duration::from_secs(2)))
            .await;
    let ponte = lab(&backend.url).await;
    let started = std::time::Instant::now();
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(504, "backend_timeout");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(backend.count(), 1, "POST is never retried");
}

#[tokio::test]
async fn calls_beyond_max_connections_wait_for_a_free_one() {
    let backend =
        StandIn::always(Reply::xml(200, echo("<Text>ok</Text>")).after(Duration::from_millis(100)))
            .await;
    let ponte = lab(&backend.url).await;
    let started = std::time::Instant::now();
    let body = json!({"name": "x"});
    let calls = (0..4).map(|_| ponte.post_json("/lab/echo", &body));
    let answers = futures_util::future::join_all(calls).await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!(backend.count(), 4);
    // Two at a time (lab.yaml: max_connections: 2): two rounds of 100 ms, not one.
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "four calls ran at once: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_call_that_never_gets_a_connection_is_503_backend_busy() {
    let backend = StandIn::always(
        Reply::xml(200, soap11("<ItemResponse xmlns=\"urn:lab\"/>"))
            .after(Duration::from_millis(600)),
    )
    .await;
    let ponte = lab(&backend.url).await;
    // lab.yaml: max_connections 2. Two calls with a 1 s budget hold both connections for the
    // backend's 600 ms; a third, with a 300 ms budget, waits its whole budget for one and is
    // never sent.
    let holders = futures_util::future::join_all((0..2).map(|_| ponte.get("/lab/items/1")));
    let third = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ponte.get("/lab/items").await
    };
    let (holders, busy) = tokio::join!(holders, third);
    for answer in &holders {
        assert_ne!(answer.status, 503, "{}", answer.text);
    }
    busy.assert_problem(503, "backend_busy");
    assert!(busy.detail().contains("all 2 connections"), "{}", busy.text);
    assert_eq!(busy.headers["retry-after"], "1");
    assert_eq!(backend.count(), 2, "the third call is never sent");
}

#[tokio::test]
async fn a_backend_redirect_is_502_and_not_followed() {
    let backend = StandIn::always(
        Reply::xml(302, "").with_header("location", "http://127.0.0.1:9/elsewhere"),
    )
    .await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("HTTP 302"), "{}", answer.text);
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn connection_refused_is_502() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ponte = lab(&format!("http://127.0.0.1:{port}/service")).await;
    let answer = ponte.get("/lab/items").await;
    answer.assert_problem(502, "backend_unreachable");
    assert!(answer.detail().contains("refused"), "{}", answer.text);
    answer.assert_hides(&port.to_string());
}

#[tokio::test]
async fn oversized_reply_is_502() {
    let big = format!("<Text>{}</Text>", "x".repeat(100 * 1024));
    let backend = StandIn::always(Reply::xml(200, echo(&big))).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("larger than"), "{}", answer.text);
}

#[tokio::test]
async fn doctype_and_entity_declarations_are_refused() {
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><EchoResponse xmlns="urn:lab"><Text>&lol2;</Text></EchoResponse></soap:Body></soap:Envelope>"#;
    let backend = StandIn::always(Reply::xml(200, bomb)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("DOCTYPE"), "{}", answer.text);
}

#[tokio::test]
async fn deeply_nested_reply_is_refused() {
    let deep = format!("{}x{}", "<a>".repeat(500), "</a>".repeat(500));
    let backend = StandIn::always(Reply::xml(200, echo(&deep))).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("deeper than"), "{}", answer.text);
}

#[tokio::test]
async fn reply_that_does_not_fit_the_mapping_is_502_naming_the_field() {
    let backend = StandIn::always(Reply::xml(200, echo("<Count>many</Count>"))).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(
        answer
            .detail()
            .contains("field `count`: `many` is not an integer"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn xsi_nil_entities_attributes_and_types_convert() {
    let reply = echo(
        r#"<Text>Customer &amp; Sons &lt;3 &#233;</Text><Nil xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/><Count>42</Count><Flag>1</Flag><Owner id="7" kind="person">Ada</Owner><Note><![CDATA[a <b> c]]></Note>"#,
    );
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.post_json("/lab/echo", &json!({"name": "x"})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"text": "Customer & Sons <3 é", "missing": null, "nil": null, "count": 42, "flag": true,
               "owner": {"@id": "7", "@kind": "person", "#text": "Ada"}, "note": "a <b> c"})
    );
}

#[tokio::test]
async fn hostile_input_arrives_as_text() {
    let backend = StandIn::always(Reply::xml(200, echo("<Text>ok</Text>"))).await;
    let ponte = lab(&backend.url).await;
    let hostile = "</name><evil/>&amp;\"'";
    let answer = ponte
        .send(
            ponte
                .client
                .post(ponte.url("/lab/echo?mode=fast"))
                .header("X-Tag", "<t>")
                .json(&json!({"name": hostile})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let sent = backend.last().body;
    let got = leaves(&sent);
    assert_eq!(got.len(), 2, "only name and tag: {sent}");
    assert_eq!(got[0].2, hostile);
    assert_eq!(got[1].2, "<t>");
    assert!(!sent.contains("<evil/>"));
    assert!(sent.contains(r#"mode="fast""#), "{sent}");
}

#[tokio::test]
async fn control_characters_xml_cannot_carry_are_400_naming_the_field() {
    let backend = StandIn::always(Reply::xml(200, echo("<Text>ok</Text>"))).await;
    let ponte = lab(&backend.url).await;
    for bad in ["a\u{0}b", "a\u{1}c", "x\u{1b}[31m", "\u{ffff}"] {
        let answer = ponte.post_json("/lab/echo", &json!({"name": bad})).await;
        answer.assert_problem(400, "bad_input");
        assert_eq!(answer.json["errors"][0]["field"], "name", "{}", answer.text);
        assert!(
            answer.detail().contains("which XML cannot carry"),
            "{}",
            answer.text
        );
    }
    assert_eq!(backend.count(), 0, "nothing is sent");
    // Tab, line feed and carriage return are text.
    let answer = ponte
        .post_json("/lab/echo", &json!({"name": "a\tb\r\nc"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn an_unmapped_fault_code_that_is_not_a_plain_name_is_not_shown() {
    // A code is shown to the caller only as a plain name (what a fault rule matches on); text,
    // or a name past 64 characters, is the backend's and stays in the log.
    for code in [
        format!("Server.{}", "X".repeat(50_000)),
        "Server: connection to db01.internal:5432 refused".to_string(),
    ] {
        let backend = StandIn::always(Reply::xml(500, soap11_fault(&code, "boom"))).await;
        let ponte = lab(&backend.url).await;
        let answer = ponte.get("/lab/items").await;
        answer.assert_problem(502, "backend_fault");
        assert!(answer.text.len() < 1024, "{} bytes", answer.text.len());
        assert_eq!(answer.json["fault_code"], serde_json::Value::Null);
        answer.assert_hides("Server");
        answer.assert_hides("db01");
        assert!(
            answer.detail().contains("not a plain name"),
            "{}",
            answer.text
        );
    }
}

#[tokio::test]
async fn items_map_attributes_arrays_and_missing_arrays() {
    let reply = soap11(
        r#"<ItemsResponse xmlns="urn:lab"><Item id="1"><Name>a</Name></Item><Item id="2"><Name>b</Name></Item></ItemsResponse>"#,
    );
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/items").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "names": ["a", "b"], "tags": null})
    );
}

#[tokio::test]
async fn an_array_hint_makes_present_elements_arrays() {
    let reply =
        soap11(r#"<ItemsResponse xmlns="urn:lab"><Tags><Tag>x</Tag></Tags></ItemsResponse>"#);
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/items").await;
    assert_eq!(
        answer.json,
        json!({"items": [], "names": [], "tags": ["x"]}),
        "{}",
        answer.text
    );
    let empty = StandIn::always(Reply::xml(
        200,
        soap11(r#"<ItemsResponse xmlns="urn:lab"><Tags/></ItemsResponse>"#),
    ))
    .await;
    let ponte = lab(&empty.url).await;
    assert_eq!(ponte.get("/lab/items").await.json["tags"], json!([]));
}

#[tokio::test]
async fn get_routes_retry_once_when_the_backend_is_unavailable() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let backend = StandIn::start(move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::xml(503, "busy").with_type("text/plain")
        } else {
            Reply::xml(200, soap11(r#"<ItemsResponse xmlns="urn:lab"/>"#))
        }
    })
    .await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/items").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 2);
}
