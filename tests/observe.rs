//! The call log (`/_ponte/calls`) and the metrics (`/_ponte/metrics`), over real HTTP against a
//! stand-in SOAP shop (`tests/observe-adapters/shop.yaml`).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{Ponte, Reply, StandIn, repo_path, soap11, soap11_fault};
use serde_json::{Value, json};

const KEY: &str = "flow-key-7f3a";
const SECRET: &str = "env-secret-42";
const TOKEN: &str = "admin-token-1";
const CARD: &str = "4111111111111111";
const HIDDEN_FAULT: &str = "ORA-00942: table or view does not exist on db7.internal";

/// The shop's stand-in: the SKU in the request picks the reply.
async fn shop() -> StandIn {
    StandIn::start(|got| {
        let body = &got.body;
        if body.contains("Sku>fault</") {
            Reply::xml(500, soap11_fault("Server", HIDDEN_FAULT))
        } else if body.contains("Sku>slow</") {
            Reply::xml(
                200,
                soap11("<GetPriceResponse><Price>1</Price></GetPriceResponse>"),
            )
            .after(Duration::from_secs(2))
        } else if body.contains("Pay>") {
            Reply::xml(200, soap11("<PayResponse><Ok>true</Ok></PayResponse>"))
        } else {
            Reply::xml(
                200,
                soap11("<GetPriceResponse><Price>12.5</Price></GetPriceResponse>"),
            )
        }
    })
    .await
}

fn plan(backend: &StandIn) -> ponte::plan::Plan {
    let env: HashMap<String, String> = [
        ("SHOP_URL", backend.url.as_str()),
        ("SHOP_KEY", KEY),
        ("SHOP_SECRET", SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let loaded = ponte::plan::load_dir(&repo_path("tests/observe-adapters"), &move |n: &str| {
        env.get(n).cloned()
    });
    loaded
        .plan
        .unwrap_or_else(|| panic!("{:?}", loaded.diagnostics))
}

/// ponte over the shop with the call log on (keeping `per_route` calls per route).
async fn logged(backend: &StandIn, per_route: usize) -> Ponte {
    let settings = ponte::server::Settings {
        call_log: Some(Arc::new(ponte::calls::CallLog::new(per_route))),
        admin_token: Some(TOKEN.to_string()),
        ..ponte::server::Settings::default()
    };
    Ponte::serve(plan(backend), settings).await
}

async fn get(ponte: &Ponte, path: &str) -> common::Answer {
    ponte
        .send(ponte.client.get(ponte.url(path)).header("X-Shop-Key", KEY))
        .await
}

async fn calls(ponte: &Ponte, query: &str) -> (String, Vec<Value>) {
    let answer = ponte
        .send(
            ponte
                .client
                .get(ponte.url(&format!("/_ponte/calls{query}")))
                .bearer_auth(TOKEN),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let list = answer.json.as_array().cloned().expect("a JSON array");
    (answer.text, list)
}

#[tokio::test]
async fn call_log_masks_passwords_and_redacted_fields() {
    let backend = shop().await;
    let ponte = logged(&backend, 50).await;
    let paid = ponte
        .send(
            ponte
                .client
                .post(ponte.url("/shop/pay?trace=1"))
                .header("X-Shop-Key", KEY)
                .header("Authorization", "Basic dXNlcjpwYXNz")
                .header("Cookie", "session=cookie-value-9")
                .json(&json!({"card": CARD, "amount": 10})),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    // The backend did get every one of them: the log hides what was really there.
    let sent = backend.last().body;
    for there in [CARD, "literal-hunter2", SECRET] {
        assert!(sent.contains(there), "{there} not sent: {sent}");
    }
    let (text, list) = calls(&ponte, "").await;
    for hidden in [
        CARD,
        "literal-hunter2",
        SECRET,
        KEY,
        "dXNlcjpwYXNz",
        "cookie-value-9",
    ] {
        assert!(
            !text.contains(hidden),
            "`{hidden}` is in the call log: {text}"
        );
    }
    let call = &list[0];
    assert_eq!(call["route"], "pay");
    let envelope = call["backend"]["request"]["body"].as_str().unwrap();
    assert!(
        envelope.contains("CardNumber>***</") && envelope.contains("Amount>10</"),
        "{envelope}"
    );
    assert!(envelope.contains("UsernameToken>***</"), "{envelope}");
    assert_eq!(call["request"]["headers"]["x-shop-key"], "***");
    assert_eq!(call["request"]["headers"]["authorization"], "***");
    assert_eq!(call["request"]["headers"]["cookie"], "***");
    assert!(
        call["request"]["body"]
            .as_str()
            .unwrap()
            .contains(r#""card": "***""#)
    );
}

#[tokio::test]
async fn call_log_without_token_is_401() {
    let backend = shop().await;
    let ponte = logged(&backend, 50).await;
    assert_eq!(get(&ponte, "/shop/price/ok").await.status, 200);
    let bare = ponte.get("/_ponte/calls").await;
    bare.assert_problem(401, "unauthorized");
    assert!(
        bare.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let wrong = ponte
        .send(
            ponte
                .client
                .get(ponte.url("/_ponte/calls"))
                .bearer_auth("admin-token-2"),
        )
        .await;
    wrong.assert_problem(401, "unauthorized");
    assert!(!wrong.text.contains("/shop/price"), "{}", wrong.text);
    // The page holds no data; it asks for the token.
    let page = ponte.get("/_ponte/calls/page").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Admin token") && !page.text.contains("/shop/price/ok"));
}

#[tokio::test]
async fn call_log_is_off_unless_asked() {
    let backend = shop().await;
    let ponte = Ponte::serve(plan(&backend), ponte::server::Settings::default()).await;
    assert_eq!(get(&ponte, "/shop/price/ok").await.status, 200);
    let answer = ponte
        .send(
            ponte
                .client
                .get(ponte.url("/_ponte/calls"))
                .bearer_auth(TOKEN),
        )
        .await;
    answer.assert_problem(404, "not_found");
    assert!(answer.detail().contains("--call-log"), "{}", answer.text);
}

#[tokio::test]
async fn call_log_keeps_the_last_n_calls_per_route() {
    let backend = shop().await;
    let ponte = logged(&backend, 3).await;
    for sku in ["p1", "p2", "p3", "p4", "p5"] {
        assert_eq!(get(&ponte, &format!("/shop/price/{sku}")).await.status, 200);
    }
    assert_eq!(get(&ponte, "/shop/cached/c1").await.status, 200);
    let (_, list) = calls(&ponte, "").await;
    let paths: Vec<&str> = list
        .iter()
        .map(|c| c["request"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/shop/cached/c1",
            "/shop/price/p5",
            "/shop/price/p4",
            "/shop/price/p3"
        ]
    );
    let (_, only) = calls(&ponte, "?route=cached&status=200").await;
    assert_eq!(only.len(), 1);
}

#[tokio::test]
async fn call_log_entry_stays_bounded_for_a_huge_reply() {
    let filler = "x".repeat(1 << 20);
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(&format!(
            "<GetPriceResponse><Price>1</Price><Note>{filler}</Note></GetPriceResponse>"
        )),
    ))
    .await;
    let ponte = logged(&backend, 50).await;
    assert_eq!(get(&ponte, "/shop/price/big").await.status, 200);
    let (text, list) = calls(&ponte, "").await;
    assert_eq!(list[0]["backend"]["reply"]["truncated"], true);
    assert!(list[0]["backend"]["reply"]["bytes"].as_u64().unwrap() > 1 << 20);
    assert!(
        text.len() < 4 * ponte::calls::MAX_PART,
        "{} bytes",
        text.len()
    );
}

#[tokio::test]
async fn call_log_shows_the_fault_text_the_caller_did_not_see() {
    let backend = shop().await;
    let ponte = logged(&backend, 50).await;
    let answer = get(&ponte, "/shop/price/fault").await;
    answer.assert_problem(502, "backend_fault");
    answer.assert_hides("ORA-00942");
    let (_, list) = calls(&ponte, "?status=502").await;
    let call = &list[0];
    assert_eq!(call["fault"]["code"], "Server");
    assert_eq!(call["fault"]["message"], HIDDEN_FAULT);
    assert_eq!(call["problem"]["code"], "backend_fault");
    assert_eq!(call["backend"]["reply"]["status"], 500);
    assert_eq!(call["answer"]["status"], 502);
}

/// The value of one sample line of a scrape, or 0 when the series is absent.
fn sample(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_a_known_sequence_of_calls_exactly() {
    let backend = shop().await;
    let ponte = Ponte::serve(plan(&backend), ponte::server::Settings::default()).await;
    let statuses = [
        ("/shop/price/ok", 200),
        ("/shop/price/ok2", 200),
        ("/shop/price/fault", 502),
        ("/shop/price/slow", 504),
        ("/shop/cached/c1", 200),
        ("/shop/cached/c1", 200),
        ("/shop/limited", 200),
        ("/shop/limited", 429),
    ];
    for (path, status) in statuses {
        assert_eq!(get(&ponte, path).await.status, status, "{path}");
    }
    let scrape = ponte.get("/_ponte/metrics").await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape
            .content_type()
            .starts_with("application/openmetrics-text")
    );
    let text = &scrape.text;
    let expected = [
        (
            r#"ponte_requests_total{adapter="shop",route="price",status="200"}"#,
            2.0,
        ),
        (
            r#"ponte_requests_total{adapter="shop",route="price",status="502"}"#,
            1.0,
        ),
        (
            r#"ponte_requests_total{adapter="shop",route="price",status="504"}"#,
            1.0,
        ),
        (
            r#"ponte_requests_total{adapter="shop",route="cached",status="200"}"#,
            2.0,
        ),
        (
            r#"ponte_requests_total{adapter="shop",route="limited",status="200"}"#,
            1.0,
        ),
        (
            r#"ponte_requests_total{adapter="shop",route="limited",status="429"}"#,
            1.0,
        ),
        (
            r#"ponte_backend_errors_total{adapter="shop",route="price",kind="fault"}"#,
            1.0,
        ),
        (
            r#"ponte_backend_errors_total{adapter="shop",route="price",kind="timeout"}"#,
            1.0,
        ),
        (
            r#"ponte_cache_hits_total{adapter="shop",route="cached"}"#,
            1.0,
        ),
        (
            r#"ponte_cache_misses_total{adapter="shop",route="cached"}"#,
            1.0,
        ),
        (
            r#"ponte_rate_limited_total{adapter="shop",route="limited"}"#,
            1.0,
        ),
        (
            r#"ponte_request_duration_seconds_count{adapter="shop",route="price"}"#,
            4.0,
        ),
        (
            r#"ponte_backend_duration_seconds_count{adapter="shop",route="price"}"#,
            4.0,
        ),
        (
            r#"ponte_backend_duration_seconds_count{adapter="shop",route="cached"}"#,
            1.0,
        ),
        ("ponte_requests_in_flight", 0.0),
        ("ponte_reloads_total", 0.0),
    ];
    for (series, value) in expected {
        assert_eq!(sample(text, series), value, "{series} in\n{text}");
    }
    // Exactly these: no other error kind, no retry, and nothing labelled by caller input.
    let errors: f64 = text
        .lines()
        .filter(|l| l.starts_with("ponte_backend_errors_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(errors, 2.0, "{text}");
    assert!(!text.contains("ponte_backend_retries_total{"), "{text}");
    assert!(!text.contains("ok2") && !text.contains("c1"), "{text}");
}
