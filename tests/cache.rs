//! The response cache: hits, misses, expiry, one backend call for concurrent misses, problems
//! kept only when a route says so, `Age` and `Cache-Control` on answers.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Answer, Ponte, Reply, StandIn, repo_path, soap11};
use serde_json::json;

fn ok() -> Reply {
    Reply::xml(
        200,
        soap11(r#"<ReadResponse xmlns="urn:lab"><Ok>yes</Ok></ReadResponse>"#),
    )
}

async fn ponte(backend: &StandIn) -> Ponte {
    let env = HashMap::from([("CACHE_URL".to_string(), backend.url.clone())]);
    Ponte::start(&repo_path("tests/cache-adapters"), env).await
}

fn header(answer: &Answer, name: &str) -> String {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name}: {:?}", answer.headers))
        .to_string()
}

#[tokio::test]
async fn a_repeated_get_is_served_from_the_cache_with_age_and_max_age() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    let first = ponte.get("/cached/read?id=1").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(header(&first, "age"), "0");
    let max_age: u64 = header(&first, "cache-control")
        .strip_prefix("max-age=")
        .and_then(|s| s.parse().ok())
        .expect("max-age=<seconds>");
    assert!((59..=60).contains(&max_age), "max-age={max_age}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = ponte.get("/cached/read?id=1").await;
    assert_eq!(second.json, json!({"ok": "yes"}));
    assert_eq!(header(&second, "age"), "1", "kept for a second");
    assert_eq!(
        header(&second, "cache-control"),
        format!("max-age={}", 60 - 1)
    );
    assert_eq!(backend.count(), 1, "the second answer came from the cache");
}

#[tokio::test]
async fn other_inputs_and_vary_headers_miss_the_cache() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    assert_eq!(ponte.get("/cached/read?id=1").await.status, 200);
    assert_eq!(ponte.get("/cached/read?id=2").await.status, 200);
    assert_eq!(backend.count(), 2, "another input, another call");
    let in_portuguese = ponte
        .client
        .get(ponte.url("/cached/read?id=1"))
        .header("accept-language", "pt-BR");
    assert_eq!(ponte.send(in_portuguese).await.status, 200);
    assert_eq!(backend.count(), 3, "another Accept-Language, another call");
    // The same input written differently is the same call: inputs are keyed decoded.
    assert_eq!(ponte.get("/cached/read?id=%31").await.status, 200);
    assert_eq!(backend.count(), 3);
}

#[tokio::test]
async fn an_answer_expires_after_its_ttl() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    assert_eq!(ponte.get("/cached/brief").await.status, 200);
    assert_eq!(ponte.get("/cached/brief").await.status, 200);
    assert_eq!(backend.count(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(ponte.get("/cached/brief").await.status, 200);
    assert_eq!(backend.count(), 2, "the kept answer expired");
}

#[tokio::test]
async fn fifty_concurrent_misses_make_one_backend_call() {
    let backend = StandIn::always(ok().after(Duration::from_millis(300))).await;
    let ponte = Arc::new(ponte(&backend).await);
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let ponte = ponte.clone();
            tokio::spawn(async move { ponte.get("/cached/read?id=7").await })
        })
        .collect();
    for call in calls {
        let answer = call.await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json, json!({"ok": "yes"}));
    }
    assert_eq!(backend.count(), 1, "one call answered all fifty");
}

/// A backend that fails its first call, then answers.
async fn failing_once() -> StandIn {
    let calls = Arc::new(AtomicUsize::new(0));
    StandIn::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::xml(500, "boom").with_type("text/plain")
        } else {
            ok()
        }
    })
    .await
}

#[tokio::test]
async fn a_problem_is_not_cached_by_default() {
    let backend = failing_once().await;
    let ponte = ponte(&backend).await;
    let failed = ponte.get("/cached/read?id=1").await;
    assert_eq!(failed.status, 502, "{}", failed.text);
    assert!(failed.headers.get("age").is_none(), "a problem is not kept");
    let answered = ponte.get("/cached/read?id=1").await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert_eq!(backend.count(), 2);
}

#[tokio::test]
async fn a_route_with_problems_true_keeps_its_problems_too() {
    let backend = failing_once().await;
    let ponte = ponte(&backend).await;
    let failed = ponte.get("/cached/stubborn").await;
    assert_eq!(failed.status, 502, "{}", failed.text);
    let again = ponte.get("/cached/stubborn").await;
    assert_eq!(again.status, 502, "the kept problem is served again");
    assert_eq!(again.json["code"], failed.json["code"]);
    assert!(again.headers.get("age").is_some());
    assert_eq!(backend.count(), 1);
}

fn load(dir: &std::path::Path, backend: &StandIn) -> ponte::plan::Plan {
    let env = HashMap::from([("CACHE_URL".to_string(), backend.url.clone())]);
    let lookup = move |name: &str| env.get(name).cloned();
    let loaded = ponte::plan::load_dir(dir, &lookup);
    loaded.plan.expect("the adapter loads")
}

#[tokio::test]
async fn a_reload_keeps_answers_of_unchanged_routes_and_never_serves_a_changed_routes_old_shape() {
    let backend = StandIn::always(ok()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cached.yaml");
    std::fs::copy(repo_path("tests/cache-adapters/cached.yaml"), &file).unwrap();
    let state = ponte::server::AppState::new(
        load(dir.path(), &backend),
        ponte::server::Settings::default(),
    )
    .unwrap();
    let app = ponte::server::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let read = || async {
        let r = client
            .get(format!("{base}/cached/read?id=1"))
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()
    };
    assert_eq!(read().await, json!({"ok": "yes"}));
    state.install(load(dir.path(), &backend)).unwrap();
    assert_eq!(read().await, json!({"ok": "yes"}));
    assert_eq!(backend.count(), 1, "an unchanged route keeps its answers");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen(
            "response: { ok: ReadResponse.Ok }\n    cache: { ttl: 60s, vary",
            "response: { fine: ReadResponse.Ok }\n    cache: { ttl: 60s, vary",
            1,
        ),
    )
    .unwrap();
    state.install(load(dir.path(), &backend)).unwrap();
    assert_eq!(
        read().await,
        json!({"fine": "yes"}),
        "the new shape, from the backend"
    );
    assert_eq!(backend.count(), 2);
}

#[test]
fn cache_on_a_post_route_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "name: bad\nbackend:\n  soap: { url: http://127.0.0.1:9/, namespace: urn:lab }\nroutes:\n  write:\n    method: POST\n    path: /write\n    operation: Write\n    response: { ok: WriteResponse.Ok }\n    cache: { ttl: 60s }\n",
    )
    .unwrap();
    let loaded = ponte::plan::load_dir(dir.path(), &|_: &str| None);
    assert!(loaded.plan.is_none());
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("bad.yaml:10:") && m.contains("`cache` is for GET routes only")),
        "{messages:?}"
    );
}
