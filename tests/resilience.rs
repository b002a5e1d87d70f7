//! One deadline per call and honest retries: what a caller that waits 15 s and retries only GETs
//! on its own needs from a facade over a backend that fails.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Ponte, Reply, StandIn, repo_path, soap11};
use serde_json::json;

async fn flaky(backend_url: &str) -> Ponte {
    let env = HashMap::from([("FLAKY_URL".to_string(), backend_url.to_string())]);
    Ponte::start(&repo_path("tests/resilience-adapters"), env).await
}

fn ok(operation: &str) -> Reply {
    Reply::xml(
        200,
        soap11(&format!(
            r#"<{operation}Response xmlns="urn:lab"><Ok>yes</Ok></{operation}Response>"#
        )),
    )
}

/// A backend that answers `first` to the first `n` calls, then `then`.
async fn failing(n: usize, first: Reply, then: Reply) -> StandIn {
    let calls = Arc::new(AtomicUsize::new(0));
    StandIn::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) < n {
            first.clone()
        } else {
            then.clone()
        }
    })
    .await
}

#[tokio::test]
async fn a_get_is_retried_until_the_backend_answers() {
    let busy = Reply::xml(502, "bad gateway").with_type("text/plain");
    let backend = failing(2, busy, ok("Read")).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.get("/flaky/read").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"ok": "yes"}));
    assert_eq!(backend.count(), 3, "two failures and the success");
}

#[tokio::test]
async fn the_timeout_bounds_the_whole_call_retries_included() {
    let backend = StandIn::always(ok("Read").after(Duration::from_secs(3))).await;
    let ponte = flaky(&backend.url).await;
    let started = Instant::now();
    let answer = ponte.get("/flaky/read").await;
    let took = started.elapsed();
    answer.assert_problem(504, "backend_timeout");
    assert_eq!(
        answer.detail(),
        "the backend did not answer within the call's budget of 1000 ms (1 attempt(s))"
    );
    // Three attempts of 1 s each would take 3 s; the budget is the whole call's.
    assert!(took < Duration::from_millis(1800), "took {took:?}");
    assert_eq!(backend.count(), 1, "no time was left for a retry");
}

#[tokio::test]
async fn the_callers_own_budget_shortens_the_deadline() {
    let backend = StandIn::always(ok("Read").after(Duration::from_secs(3))).await;
    let ponte = flaky(&backend.url).await;
    let started = Instant::now();
    let request = ponte
        .client
        .get(ponte.url("/flaky/read"))
        .header("X-Weni-Webhook-Timeout", "1");
    let answer = ponte.send(request).await;
    // The caller waits 1 s: ponte answers within it, keeping 500 ms to send the answer back.
    answer.assert_problem(504, "backend_timeout");
    assert_eq!(
        answer.detail(),
        "the backend did not answer within the call's budget of 500 ms (1 attempt(s))"
    );
    assert!(
        started.elapsed() < Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_backend_429_is_answered_503_with_its_retry_after() {
    let limited = Reply::xml(429, "slow down")
        .with_type("text/plain")
        .with_header("Retry-After", "30");
    let backend = StandIn::always(limited).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.post_json("/flaky/write", &json!({})).await;
    answer.assert_problem(503, "backend_unavailable");
    assert_eq!(answer.headers["retry-after"], "30");
    assert_eq!(
        answer.detail(),
        "the backend is not taking calls now (HTTP 429); retry after 30 s"
    );
    answer.assert_hides("slow down");
    assert_eq!(backend.count(), 1, "a POST is not retried");
}

#[tokio::test]
async fn a_route_may_answer_a_backends_not_now_with_429() {
    let unavailable = Reply::xml(503, "maintenance")
        .with_type("text/plain")
        .with_header("Retry-After", "7");
    let backend = StandIn::always(unavailable).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.post_json("/flaky/submit", &json!({})).await;
    answer.assert_problem(429, "backend_unavailable");
    assert_eq!(answer.headers["retry-after"], "7");
    answer.assert_hides("maintenance");
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn unavailable_status_other_than_429_or_503_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = std::fs::read_to_string(repo_path("tests/resilience-adapters/flaky.yaml"))
        .unwrap()
        .replace("unavailable_status: 429", "unavailable_status: 500");
    std::fs::write(dir.path().join("flaky.yaml"), adapter).unwrap();
    let loaded = ponte::plan::load_dir(dir.path(), &|_: &str| Some("http://127.0.0.1:9".into()));
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.plan.is_none());
    assert!(
        messages
            .iter()
            .any(|m| m.contains("flaky.yaml:30:25: unavailable_status 500 is not 429 or 503")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn a_retry_after_that_fits_the_budget_is_waited_and_retried() {
    let unavailable = Reply::xml(503, "maintenance")
        .with_type("text/plain")
        .with_header("Retry-After", "0");
    let backend = failing(1, unavailable, ok("Read")).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.get("/flaky/read").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_is_answered_at_once() {
    let unavailable = Reply::xml(503, "maintenance")
        .with_type("text/plain")
        .with_header("Retry-After", "120");
    let backend = StandIn::always(unavailable).await;
    let ponte = flaky(&backend.url).await;
    let started = Instant::now();
    let answer = ponte.get("/flaky/read").await;
    answer.assert_problem(503, "backend_unavailable");
    assert_eq!(answer.headers["retry-after"], "120");
    assert_eq!(backend.count(), 1, "120 s do not fit in a 1 s budget");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_post_that_may_have_reached_the_backend_is_not_retried() {
    let broken = Reply::xml(502, "bad gateway").with_type("text/plain");
    let backend = failing(1, broken, ok("Write")).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.post_json("/flaky/write", &json!({})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn a_post_route_marked_idempotent_is_retried() {
    let broken = Reply::xml(503, "busy").with_type("text/plain");
    let backend = failing(1, broken, ok("Upsert")).await;
    let ponte = flaky(&backend.url).await;
    let answer = ponte.post_json("/flaky/upsert", &json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 2);
}

#[tokio::test]
async fn a_backend_that_never_listens_is_502_unreachable_within_the_budget() {
    // A port nothing listens on: every attempt is refused at once, so all three are made.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/svc", listener.local_addr().unwrap());
    drop(listener);
    let ponte = flaky(&url).await;
    let answer = ponte.post_json("/flaky/write", &json!({})).await;
    answer.assert_problem(502, "backend_unreachable");
    assert!(
        answer.detail().contains("connection refused"),
        "{}",
        answer.text
    );
}

/// A backend that promises 4,000 bytes, sends the start of an envelope and closes the
/// connection: what a crashing server or a cut network looks like. Counts its calls.
async fn closing_mid_reply() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut request = vec![0u8; 16 * 1024];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 4000\r\n\r\n";
            let start = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#;
            let _ = socket.write_all(format!("{head}{start}").as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, calls)
}

#[tokio::test]
async fn a_backend_closing_mid_reply_is_502_within_the_deadline() {
    let (url, calls) = closing_mid_reply().await;
    let ponte = flaky(&url).await;
    let started = Instant::now();
    let answer = ponte.post_json("/flaky/write", &json!({})).await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(
        answer.detail().contains("failed while reading the reply"),
        "{}",
        answer.text
    );
    answer.assert_hides("soap:Body");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a POST is not sent again");
}

#[tokio::test]
async fn the_breaker_opens_answers_fast_then_probes_and_closes() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = healthy.clone();
    let backend = StandIn::start(move |_| {
        if flag.load(Ordering::SeqCst) {
            ok("Read")
        } else {
            Reply::xml(500, "<html>down</html>").with_type("text/html")
        }
    })
    .await;
    let ponte = flaky(&backend.url).await;
    let breaker = || async {
        ponte.get("/_ponte/ready").await.json["backends"]["fragile"]["breaker"].clone()
    };
    assert_eq!(breaker().await, json!("closed"));
    for _ in 0..2 {
        ponte
            .get("/fragile/read")
            .await
            .assert_problem(502, "bad_backend_reply");
    }
    assert_eq!(breaker().await, json!("open"));
    let refused = ponte.get("/fragile/read").await;
    refused.assert_problem(503, "backend_circuit_open");
    assert_eq!(refused.headers["retry-after"], "1");
    assert_eq!(backend.count(), 2, "an open breaker sends nothing");

    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(breaker().await, json!("half_open"));
    let probe = ponte.get("/fragile/read").await;
    assert_eq!(probe.status, 200, "{}", probe.text);
    assert_eq!(backend.count(), 3, "one probe");
    assert_eq!(breaker().await, json!("closed"));
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let backend = StandIn::always(Reply::xml(503, "busy").with_type("text/plain")).await;
    let ponte = flaky(&backend.url).await;
    for _ in 0..2 {
        ponte.get("/fragile/read").await;
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    ponte
        .get("/fragile/read")
        .await
        .assert_problem(503, "backend_unavailable");
    assert_eq!(backend.count(), 3, "the probe went");
    ponte
        .get("/fragile/read")
        .await
        .assert_problem(503, "backend_circuit_open");
    assert_eq!(backend.count(), 3, "open again after the failed probe");
}

#[tokio::test]
async fn the_breaker_opens_when_half_the_calls_in_its_window_failed() {
    // Every other call fails: never two in a row, but half of them.
    let calls = Arc::new(AtomicUsize::new(0));
    let backend = StandIn::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            Reply::xml(500, "<html>down</html>").with_type("text/html")
        } else {
            ok("Read")
        }
    })
    .await;
    let ponte = flaky(&backend.url).await;
    let breaker =
        || async { ponte.get("/_ponte/ready").await.json["backends"]["wobbly"]["breaker"].clone() };
    for _ in 0..5 {
        ponte.get("/wobbly/read").await;
        assert_eq!(
            breaker().await,
            json!("closed"),
            "fewer than 6 calls so far"
        );
    }
    ponte.get("/wobbly/read").await;
    assert_eq!(breaker().await, json!("open"), "3 of 6 calls failed");
    ponte
        .get("/wobbly/read")
        .await
        .assert_problem(503, "backend_circuit_open");
    assert_eq!(backend.count(), 6, "an open breaker sends nothing");
}

#[tokio::test]
async fn a_breaker_without_failures_or_a_ratio_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = std::fs::read_to_string(repo_path("tests/resilience-adapters/wobbly.yaml"))
        .unwrap()
        .replace("failure_ratio: 0.5, ", "")
        .replace("min_calls: 6", "min_calls: 0");
    std::fs::write(dir.path().join("wobbly.yaml"), adapter).unwrap();
    let loaded = ponte::plan::load_dir(dir.path(), &|_: &str| Some("http://127.0.0.1:9".into()));
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.plan.is_none());
    for expected in [
        "wobbly.yaml:9:38: breaker min_calls must be 1 to 100000",
        "wobbly.yaml:9:12: a breaker needs `failures`, `failure_ratio`, or both",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "{expected} not in {messages:?}"
        );
    }
}

#[tokio::test]
async fn the_caller_budget_header_is_the_one_configured() {
    let backend = StandIn::always(ok("Read").after(Duration::from_secs(3))).await;
    let env = HashMap::from([("FLAKY_URL".to_string(), backend.url.clone())]);
    let lookup = move |n: &str| env.get(n).cloned();
    let plan = ponte::plan::load_dir(&repo_path("tests/resilience-adapters"), &lookup)
        .plan
        .expect("adapters load");
    let settings = ponte::server::Settings {
        caller_timeout_header: Some(axum::http::HeaderName::from_static("x-budget")),
        ..Default::default()
    };
    let ponte = Ponte::serve(plan, settings).await;
    let with = |name: &'static str| ponte.client.get(ponte.url("/flaky/read")).header(name, "1");
    let answer = ponte.send(with("X-Budget")).await;
    assert_eq!(
        answer.detail(),
        "the backend did not answer within the call's budget of 500 ms (1 attempt(s))"
    );
    // The default header means nothing here: the adapter's own 1 s applies.
    let answer = ponte.send(with("X-Weni-Webhook-Timeout")).await;
    assert_eq!(
        answer.detail(),
        "the backend did not answer within the call's budget of 1000 ms (1 attempt(s))"
    );
}
