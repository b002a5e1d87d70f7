//! Two ponte processes sharing state on a real Redis: one quota across both, an answer written by
//! one and served by the other, and what each does when Redis stops (fail open, fail closed).
//!
//! Needs `redis-server` (Debian package `redis-server`); without it the test says NOT RUN, and
//! fails instead when `PONTE_REQUIRE_REDIS=1` (as `.ci/run` sets).

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Reply, StandIn, free_port, soap11};

/// Kills a process this test started when the test ends, however it ends.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_server_found() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("PONTE_REQUIRE_REDIS").as_deref() != Ok("1"),
            "PONTE_REQUIRE_REDIS=1 but redis-server is not installed"
        );
        eprintln!("\n========================================================");
        eprintln!("NOT RUN: redis-server not found (apt-get install redis-server)");
        eprintln!("========================================================\n");
    }
    found
}

/// A Redis of the test's own on a free loopback port, without persistence.
fn start_redis() -> (Started, u16) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let started = Started(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let mut pong = [0u8; 7];
            if c.write_all(b"PING\r\n").is_ok() && c.read_exact(&mut pong).is_ok() {
                assert_eq!(&pong, b"+PONG\r\n");
                return (started, port);
            }
        }
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ponte serve` as its own process, sharing state on the Redis at `redis_port`.
async fn start_ponte(backend: &StandIn, redis_port: u16, on_failure: &str) -> (Started, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["serve", "--adapters", "tests/replica-adapters"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--redis", &format!("redis://127.0.0.1:{redis_port}")])
        .args(["--redis-on-failure", on_failure])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("REPLICA_URL", &backend.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ponte starts");
    let started = Started(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "ponte did not start listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (started, base)
}

async fn get(client: &reqwest::Client, url: String) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn code_of(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    json["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn two_replicas_share_one_quota_and_one_cache_and_fail_as_told_without_redis() {
    if !redis_server_found() {
        return;
    }
    let (mut redis, redis_port) = start_redis();
    let ok = Reply::xml(
        200,
        soap11(r#"<ReadResponse xmlns="urn:lab"><Ok>yes</Ok></ReadResponse>"#),
    );
    let backend = StandIn::always(ok).await;
    let (_open, open_base) = start_ponte(&backend, redis_port, "open").await;
    let (_closed, closed_base) = start_ponte(&backend, redis_port, "closed").await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // A quota of 5 a day, 20 calls at once spread over both replicas: 5 reach the backend.
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let base = if i % 2 == 0 { &open_base } else { &closed_base };
            let url = format!("{base}/shared/read");
            let client = client.clone();
            tokio::spawn(async move { get(&client, url).await })
        })
        .collect();
    let mut admitted = 0;
    for call in calls {
        let (status, _, body) = call.await.unwrap();
        match status {
            200 => admitted += 1,
            _ => assert_eq!(
                (status, code_of(&body).as_str()),
                (429, "rate_limited"),
                "{body}"
            ),
        }
    }
    assert!(
        admitted <= 5 + 1,
        "{admitted} admitted across both replicas"
    );
    assert_eq!(backend.count(), admitted);
    assert!(
        admitted >= 5,
        "the quota's 5 calls went through: {admitted}"
    );

    // An answer kept by one replica is served by the other.
    let before = backend.count();
    let (status, first, _) = get(&client, format!("{open_base}/kept/read")).await;
    assert_eq!(status, 200);
    assert_eq!(first.get("age").map(|v| v.to_str().unwrap()), Some("0"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, second, body) = get(&client, format!("{closed_base}/kept/read")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"ok":"yes"}"#);
    assert_eq!(
        backend.count(),
        before + 1,
        "the second replica did not call the backend"
    );
    assert_eq!(second.get("age").map(|v| v.to_str().unwrap()), Some("1"));

    // Redis stops: the fail-open replica serves without the quota, the fail-closed one says 503.
    redis_kill(&mut redis).expect("redis-server stops");
    let before = backend.count();
    let (status, _, body) = get(&client, format!("{open_base}/shared/read")).await;
    assert_eq!(
        status, 200,
        "fail open: served without the shared quota: {body}"
    );
    assert_eq!(backend.count(), before + 1);
    let started = Instant::now();
    let (status, headers, body) = get(&client, format!("{closed_base}/shared/read")).await;
    assert_eq!(
        (status, code_of(&body).as_str()),
        (503, "state_unavailable"),
        "{body}"
    );
    assert!(headers.get("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered without hanging"
    );
    assert_eq!(backend.count(), before + 1, "fail closed: nothing was sent");
}

/// Stops Redis (the test's own process).
fn redis_kill(redis: &mut Started) -> std::io::Result<()> {
    redis.0.kill()?;
    redis.0.wait().map(|_| ())
}
