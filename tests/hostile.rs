//! Hostile callers and hostile backends, over real sockets on 127.0.0.1: every rejection is
//! problem+json with `X-Request-Id`, carries no secret and no backend text, and ponte keeps
//! serving afterwards. Slow clients are cut; too many connections from one address are refused.

#[path = "hostile/cases.rs"]
mod cases;
mod common;
#[path = "hostile/wire.rs"]
mod wire;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cases::{Case, INTERNAL, SECRET, backend_cases, caller_cases, respond};
use common::{StandIn, repo_path};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wire::{RawAnswer, exchange, exchange_or_nothing, get, many_headers, with_headers};

struct Served {
    addr: String,
}

async fn start(connection: ponte::server::listen::ConnectionLimits) -> (Served, StandIn) {
    start_logging(connection, ponte::server::access_log::AccessLog::off()).await
}

async fn start_logging(
    connection: ponte::server::listen::ConnectionLimits,
    access_log: ponte::server::access_log::AccessLog,
) -> (Served, StandIn) {
    let backend = StandIn::start(respond).await;
    let env: HashMap<String, String> = [
        ("SHOP_URL".to_string(), backend.url.clone()),
        ("SHOP_KEY".to_string(), SECRET.to_string()),
    ]
    .into();
    let lookup = move |name: &str| env.get(name).cloned();
    let loaded = ponte::plan::load_dir(&repo_path("tests/hostile-adapters"), &lookup);
    let plan = loaded.plan.expect("the hostile adapter loads");
    let settings = ponte::server::Settings {
        request_limits: ponte::server::guard::RequestLimits {
            body_timeout: Duration::from_secs(1),
            ..Default::default()
        },
        access_log: access_log.clone(),
        ..Default::default()
    };
    let state = ponte::server::AppState::new(plan, settings).unwrap();
    let app = ponte::server::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(ponte::server::listen::serve(
        listener,
        app,
        connection,
        access_log,
        std::future::pending(),
    ));
    (Served { addr }, backend)
}

fn quick_limits() -> ponte::server::listen::ConnectionLimits {
    ponte::server::listen::ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        ..Default::default()
    }
}

/// A normal call, answered normally.
async fn assert_still_serves(addr: &str, after: &str) {
    let answer = RawAnswer::parse(&exchange(addr, &get("/shop/items/7")).await)
        .unwrap_or_else(|| panic!("after `{after}`: no answer to a normal call"));
    assert_eq!(answer.status, 200, "after `{after}`: {}", answer.body);
    assert_eq!(answer.body, r#"{"name":"seven"}"#, "after `{after}`");
}

fn assert_problem(case: &str, answer: &RawAnswer, status: u16, code: Option<&str>) {
    assert_eq!(answer.status, status, "{case}: {}", answer.body);
    assert_eq!(
        answer.headers.get("content-type").map(String::as_str),
        Some("application/problem+json"),
        "{case}: {}",
        answer.body
    );
    let problem: serde_json::Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {}", answer.body));
    assert_eq!(problem["status"], status, "{case}");
    if let Some(code) = code {
        assert_eq!(problem["code"], code, "{case}: {}", answer.body);
    }
    let id = answer.headers.get("x-request-id");
    assert!(id.is_some(), "{case}: no X-Request-Id");
    assert_eq!(
        problem["request_id"].as_str(),
        id.map(String::as_str),
        "{case}"
    );
    assert!(
        !answer.body.contains(SECRET),
        "{case}: the secret leaked: {}",
        answer.body
    );
    assert!(
        !answer.body.contains(INTERNAL),
        "{case}: backend text leaked: {}",
        answer.body
    );
    assert!(
        answer.body.len() < 8 * 1024,
        "{case}: {} bytes",
        answer.body.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_callers_and_backends_get_bounded_problems_and_ponte_keeps_serving() {
    let (ponte, _backend) = start(quick_limits()).await;
    let cases: Vec<Case> = caller_cases().into_iter().chain(backend_cases()).collect();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    for case in cases {
        let bytes = exchange(&ponte.addr, &case.send).await;
        let answer = RawAnswer::parse(&bytes).unwrap_or_else(|| {
            panic!(
                "{}: no HTTP answer: {:?}",
                case.name,
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            )
        });
        assert_problem(case.name, &answer, case.status, case.code);
        assert_still_serves(&ponte.addr, case.name).await;
    }
}

/// Requests hyper cannot parse at all are answered by hyper itself (a bare 400, no body, which
/// ponte cannot shape); what matters is that they are refused and nothing else suffers.
#[tokio::test]
async fn unparseable_requests_are_refused_and_ponte_keeps_serving() {
    let (ponte, _backend) = start(quick_limits()).await;
    let cases: [(&str, &[u8]); 7] = [
        (
            "control chars in a header value",
            b"GET /shop/items/7 HTTP/1.1\r\nContent-Type: \x01\x02\r\n\r\n",
        ),
        ("garbage request line", b"GARBAGE\r\n\r\n"),
        (
            "space in the path",
            b"GET /shop/items /7 HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        (
            "NUL in the path",
            b"GET /shop/\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        (
            "header without a colon",
            b"GET /shop/items/7 HTTP/1.1\r\nHost x\r\n\r\n",
        ),
        (
            "bad header name",
            b"GET /shop/items/7 HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ),
        (
            "negative content length",
            b"POST /shop/echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        ),
    ];
    for (name, bytes) in cases {
        let answer = RawAnswer::parse(&exchange(&ponte.addr, bytes).await);
        if let Some(answer) = answer {
            assert_eq!(answer.status, 400, "{name}");
            assert!(!answer.body.contains(SECRET), "{name}");
        }
        assert_still_serves(&ponte.addr, name).await;
    }
    // hyper refuses a request target of 64 KiB or more itself (a fixed limit), with a bare 414.
    let huge = get(&format!("/shop/search?q={}", "q".repeat(100 * 1024)));
    let answer = RawAnswer::parse(&exchange(&ponte.addr, &huge).await).expect("an answer");
    assert_eq!(answer.status, 414);
    assert_still_serves(&ponte.addr, "a 100 KB URI").await;
}

#[tokio::test]
async fn a_client_sending_headers_a_byte_at_a_time_is_cut() {
    let (ponte, _backend) = start(quick_limits()).await;
    let mut stream = TcpStream::connect(&ponte.addr).await.unwrap();
    let started = Instant::now();
    let head = b"GET /shop/items/7 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut cut = false;
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        if stream.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await
        {
            // Closed (0), reset, or hyper's 408 on the header timeout: all cut the client.
            let _ = read;
            cut = true;
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(6), "never cut");
    }
    assert!(cut);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_still_serves(&ponte.addr, "slow headers").await;
}

#[tokio::test]
async fn a_client_sending_the_body_slowly_gets_408() {
    let (ponte, _backend) = start(quick_limits()).await;
    let mut stream = TcpStream::connect(&ponte.addr).await.unwrap();
    let started = Instant::now();
    let head = "POST /shop/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let drip = async {
        for byte in br#"{"name": "a very slow body that never quite ends...."# {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), drip).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    let answer = RawAnswer::parse(&out).expect("an answer");
    assert_problem("slow body", &answer, 408, Some("request_timeout"));
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_still_serves(&ponte.addr, "slow body").await;
}

#[tokio::test]
async fn connections_beyond_the_per_client_bound_get_429() {
    let limits = ponte::server::listen::ConnectionLimits {
        max_per_client: 3,
        header_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let (ponte, _backend) = start(limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&ponte.addr).await.unwrap();
        s.write_all(b"GET /shop/items/7 HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer =
        RawAnswer::parse(&exchange(&ponte.addr, &get("/shop/items/7")).await).expect("an answer");
    assert_problem(
        "fourth connection",
        &answer,
        429,
        Some("too_many_connections"),
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_still_serves(&ponte.addr, "the held connections closed").await;
}

#[tokio::test]
async fn sigterm_with_a_half_sent_request_exits_within_the_deadline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args([
            "serve",
            "--adapters",
            "tests/hostile-adapters",
            "--listen",
            &addr,
            "--header-timeout",
            "60s",
            "--shutdown-deadline",
            "1s",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SHOP_URL", "http://127.0.0.1:9/none")
        .env("SHOP_KEY", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ponte starts");
    // Ready once it answers: the stop signal is handled from then on.
    let deadline = Instant::now() + Duration::from_secs(20);
    while RawAnswer::parse(&exchange_or_nothing(&addr).await).is_none() {
        assert!(Instant::now() < deadline, "ponte did not start answering");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /shop/echo HTTP/1.1\r\nHost: x\r\nContent-Le")
        .await
        .unwrap();
    let mut body_half = TcpStream::connect(&addr).await.unwrap();
    body_half
        .write_all(b"POST /shop/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"na")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("ponte did not exit within 5 s of SIGTERM (deadline 1 s)");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exited.success(), "{exited:?}");
    assert!(signalled.elapsed() >= Duration::from_millis(900));
    drop((half, body_half));
}

/// The access log, shared with the test.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rejections_before_routing_are_logged_with_their_request_id() {
    use ponte::server::access_log::{AccessLog, LineFormat};
    let lines = Lines::default();
    let log = AccessLog::new(LineFormat::Json, Box::new(lines.clone()));
    let limits = ponte::server::listen::ConnectionLimits {
        max_per_client: 1,
        ..quick_limits()
    };
    let (ponte, _backend) = start_logging(limits, log.clone()).await;
    let long = get(&format!("/shop/search?q={}", "q".repeat(10_000)));
    let big = with_headers("/shop/items/7", many_headers(200));
    let mut ids = Vec::new();
    for (bytes, status) in [(long, 414), (big, 431)] {
        let answer = RawAnswer::parse(&exchange(&ponte.addr, &bytes).await).unwrap();
        assert_eq!(answer.status, status);
        ids.push((answer.headers["x-request-id"].clone(), status));
    }
    let held = TcpStream::connect(&ponte.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = RawAnswer::parse(&exchange(&ponte.addr, &get("/shop/items/7")).await).unwrap();
    assert_eq!(refused.status, 429);
    ids.push((refused.headers["x-request-id"].clone(), 429));
    drop(held);
    log.flush();
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    for (id, status) in ids {
        let line = text
            .lines()
            .find(|l| l.contains(&id))
            .unwrap_or_else(|| panic!("no log line for {status} ({id}):\n{text}"));
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["status"], status, "{line}");
    }
}

#[tokio::test]
async fn an_input_may_opt_into_stripping_control_characters() {
    let (ponte, backend) = start(quick_limits()).await;
    let answer =
        RawAnswer::parse(&exchange(&ponte.addr, &get("/shop/search?q=a&note=x%00y%01z%1b")).await)
            .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let sent = backend.last().body;
    assert!(sent.contains("note>xyz</"), "{sent}");
    // Without the opt-in, the same characters are refused, naming the field.
    let refused =
        RawAnswer::parse(&exchange(&ponte.addr, &get("/shop/search?q=x%00y")).await).unwrap();
    assert_problem("q with NUL", &refused, 400, Some("bad_input"));
    assert!(refused.body.contains(r#""field":"q""#), "{}", refused.body);
}
