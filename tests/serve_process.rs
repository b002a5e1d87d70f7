//! `ponte serve` as a process: JSON access logs, and a SIGTERM that lets calls in flight finish.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Reply, StandIn, free_port, soap11};

#[tokio::test]
async fn sigterm_finishes_calls_in_flight_and_logs_json_lines() {
    let backend = StandIn::always(
        Reply::xml(200, soap11(r#"<ItemsResponse xmlns="urn:lab"><Item id="1"><Name>a</Name></Item></ItemsResponse>"#))
            .after(Duration::from_millis(200)),
    )
    .await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args([
            "serve",
            "--adapters",
            "tests/adapters",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LAB_URL", &backend.url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ponte starts");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("{base}/_ponte/health"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "ponte did not start listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/lab/items");
        async move {
            client
                .get(url)
                .header("X-Request-Id", "slow-1")
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(80)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let response = in_flight
        .await
        .unwrap()
        .expect("the call in flight is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"items":[{"id":1,"name":"a"}],"names":["a"],"tags":null}"#
    );

    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "ponte did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");

    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let access: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["request_id"] == "slow-1")
        .collect();
    assert_eq!(access.len(), 1, "one access line for the call:\n{out}");
    let line = &access[0];
    assert_eq!(line["adapter"], "lab");
    assert_eq!(line["route"], "items");
    assert_eq!(line["status"], 200);
    let backend_ms = line["backend_ms"].as_f64().unwrap();
    assert!(backend_ms >= 150.0, "{line}");
}
