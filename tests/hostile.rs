//! Hostile callers and hostile backends, over real sockets on 127.0.0.1: every rejection is
//! problem+json with `X-Request-Id`, carries no secret and no backend text, and ponte keeps
//! serving afterwards. Slow clients are cut; too many connections from one address are refused.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Received, Reply, StandIn, repo_path, soap11, soap11_fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "sk-live-TOPSECRET-4242";
/// Text only the backend knows: no answer may carry it.
const INTERNAL: &str = "BACKEND-INTERNAL";

/// What one hostile request gets back, read from a raw socket.
struct RawAnswer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl RawAnswer {
    fn parse(bytes: &[u8]) -> Option<RawAnswer> {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let body = match headers.get("transfer-encoding") {
            Some(te) if te.contains("chunked") => dechunk(body),
            _ => body.to_string(),
        };
        Some(RawAnswer {
            status,
            headers,
            body,
        })
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Sends `bytes` and reads until ponte closes the connection (requests say `Connection: close`).
async fn exchange(addr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A peer that stops reading early (431 on a huge head) may reset the rest of the write.
    let _ = stream.write_all(bytes).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "ponte neither answered nor closed in 10 s");
    out
}

async fn exchange_or_nothing(addr: &str) -> Vec<u8> {
    match TcpStream::connect(addr).await {
        Ok(_) => exchange(addr, &get("/_ponte/health")).await,
        Err(_) => Vec::new(),
    }
}

fn request(method: &str, target: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn get(target: &str) -> Vec<u8> {
    request("GET", target, &[], b"")
}

fn json(body: &[u8]) -> Vec<u8> {
    post("application/json", body)
}

fn post(content_type: &str, body: &[u8]) -> Vec<u8> {
    request(
        "POST",
        "/shop/echo",
        &[("Content-Type", content_type.to_string())],
        body,
    )
}

fn with_headers(target: &str, headers: Vec<(&'static str, String)>) -> Vec<u8> {
    request("GET", target, &headers, b"")
}

fn many_headers(n: usize) -> Vec<(&'static str, String)> {
    (0..n).map(|_| ("X-Filler", "y".repeat(20))).collect()
}

fn nested(depth: usize) -> Vec<u8> {
    format!("{{\"name\": {}1{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

/// The backend's answer to `GET /shop/lookup?case=NAME`.
fn backend_reply(case: &str, got: &Received) -> Reply {
    let key = got
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let fault = |code: &str, text: &str| Reply::xml(500, soap11_fault(code, text));
    match case {
        "huge-fault" => fault("Server", &format!("{INTERNAL} {}", "x".repeat(2_000_000))),
        "huge-faultcode" => fault(&"C".repeat(40_000), INTERNAL),
        "long-faultstring" => fault("Server", &format!("{INTERNAL} {}", "y".repeat(50_000))),
        "secret-in-fault" => fault("Client", &format!("invalid key {key} ({INTERNAL})")),
        "secret-in-faultcode" => fault(&format!("Bad{key}"), INTERNAL),
        "stack-trace" => fault(
            "Server",
            &format!(
                "{INTERNAL}: java.lang.NullPointerException at com.bank.Core.call(Core.java:42)"
            ),
        ),
        "bad-xml" => Reply::xml(200, format!("<a><b>{INTERNAL}</a>")),
        "html-500" => Reply::xml(500, format!("<html><body>{INTERNAL} {key}</body></html>"))
            .with_type("text/html"),
        "html-200" => {
            Reply::xml(200, format!("<html><body>{INTERNAL}</body></html>")).with_type("text/html")
        }
        "doctype-entities" => Reply::xml(
            200,
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "{INTERNAL}"><!ENTITY lol2 "&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><LookupResponse><Value>&lol2;</Value></LookupResponse></soap:Body></soap:Envelope>"#
            ),
        ),
        "external-entity" => Reply::xml(
            200,
            r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><LookupResponse><Value>&x;</Value></LookupResponse></soap:Body></soap:Envelope>"#,
        ),
        "latin1-declared-utf8" => Reply::xml(
            200,
            [
                soap11("<LookupResponse><Value>S").as_bytes(),
                b"\xe3o Paulo",
                b"</Value></LookupResponse></soap:Body></soap:Envelope>",
            ]
            .concat(),
        ),
        "unknown-charset" => Reply::xml(
            200,
            [
                soap11("<LookupResponse><Value>S").as_bytes(),
                b"\xe3o",
                b"</Value></LookupResponse></soap:Body></soap:Envelope>",
            ]
            .concat(),
        )
        .with_type(format!("text/xml; charset={INTERNAL}")),
        "unknown-encoding-decl" => Reply::xml(
            200,
            format!(r#"<?xml version="1.0" encoding="{INTERNAL}"?><a/>"#),
        ),
        "truncated" => Reply::xml(
            200,
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><LookupResponse><Val"#,
        ),
        "empty-200" => Reply::xml(200, ""),
        "nul-bytes" => Reply::xml(200, vec![0u8; 512]),
        "deep-xml" => Reply::xml(
            200,
            soap11(&format!(
                "<LookupResponse>{}{}</LookupResponse>",
                "<a>".repeat(20_000),
                "</a>".repeat(20_000)
            )),
        ),
        "wide-fault-detail" => Reply::xml(
            500,
            soap11(&format!(
                "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>{INTERNAL}</faultstring><detail>{}</detail></soap:Fault>",
                "<e>x</e>".repeat(6_000)
            )),
        ),
        "status-500-empty" => Reply::xml(500, ""),
        "status-404-html" => Reply::xml(404, format!("<h1>{INTERNAL}</h1>")).with_type("text/html"),
        "status-401" => Reply::xml(401, format!("{INTERNAL} bad key {key}")),
        "status-429" => Reply::xml(429, INTERNAL).with_header("retry-after", "7"),
        "status-503" => Reply::xml(503, INTERNAL),
        "slow" => Reply::xml(
            200,
            soap11("<LookupResponse><Value>late</Value></LookupResponse>"),
        )
        .after(Duration::from_millis(1500)),
        "json-instead" => {
            Reply::xml(200, format!(r#"{{"error":"{INTERNAL}"}}"#)).with_type("application/json")
        }
        "invalid-utf8" => Reply::xml(
            200,
            [
                soap11("<LookupResponse><Value>").as_bytes(),
                b"\xff\xfe\xfd",
                b"</Value></LookupResponse></soap:Body></soap:Envelope>",
            ]
            .concat(),
        ),
        "not-an-envelope" => Reply::xml(200, format!("<Other>{INTERNAL}</Other>")),
        "fault-in-200" => Reply::xml(200, soap11_fault("Server", &format!("{INTERNAL} {key}"))),
        "redirect" => Reply::xml(302, "").with_header("location", "http://127.0.0.1:9/elsewhere"),
        _ => Reply::xml(
            200,
            soap11("<LookupResponse><Value>fine</Value></LookupResponse>"),
        ),
    }
}

fn respond(got: &Received) -> Reply {
    // The element may carry a namespace prefix: `<case>` or `<ns:case>`.
    let tag = |name: &str| -> Option<String> {
        let open = format!("{name}>");
        let start = got.body.find(&open)? + open.len();
        let end = got.body[start..].find('<')? + start;
        Some(got.body[start..end].to_string())
    };
    if let Some(case) = tag("case") {
        return backend_reply(&case, got);
    }
    let body = if got.body.contains("Item>") || got.body.contains(":Item") {
        "<ItemResponse><Name>seven</Name></ItemResponse>"
    } else if got.body.contains("Search") {
        "<SearchResponse><Hits>3</Hits></SearchResponse>"
    } else {
        "<EchoResponse><Text>ok</Text></EchoResponse>"
    };
    Reply::xml(200, soap11(body))
}

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

struct Case {
    name: &'static str,
    send: Vec<u8>,
    status: u16,
    code: Option<&'static str>,
}

fn case(name: &'static str, send: Vec<u8>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        send,
        status,
        code: Some(code),
    }
}

fn caller_cases() -> Vec<Case> {
    let long = |n: usize| format!("/shop/search?q=a&pad={}", "p".repeat(n));
    vec![
        case("unclosed JSON", json(b"{"), 400, "malformed_json"),
        case(
            "JSON without a value",
            json(br#"{"name": }"#),
            400,
            "malformed_json",
        ),
        case(
            "JSON with a trailing comma",
            json(br#"{"name": "a",}"#),
            400,
            "malformed_json",
        ),
        case(
            "JSON array instead of object",
            json(b"[1,2]"),
            400,
            "bad_input",
        ),
        case(
            "JSON string instead of object",
            json(br#""name""#),
            400,
            "bad_input",
        ),
        case(
            "JSON number instead of object",
            json(b"42"),
            400,
            "bad_input",
        ),
        case("JSON null", json(b"null"), 400, "bad_input"),
        case("empty object", json(b"{}"), 400, "bad_input"),
        case(
            "JSON nested 10,000 deep",
            json(&nested(10_000)),
            400,
            "malformed_json",
        ),
        case(
            "JSON nested 200 deep",
            json(&nested(200)),
            400,
            "malformed_json",
        ),
        case(
            "body over the limit",
            json(&vec![b' '; (1 << 20) + 10]),
            413,
            "body_too_large",
        ),
        case(
            "declared length over the limit",
            request(
                "POST",
                "/shop/echo",
                &[
                    ("Content-Type", "application/json".into()),
                    ("Content-Length", "99999999999".into()),
                ],
                b"",
            ),
            413,
            "body_too_large",
        ),
        case(
            "string too long",
            json(format!(r#"{{"name":"{}"}}"#, "n".repeat(5_000)).as_bytes()),
            400,
            "bad_input",
        ),
        case(
            "number for a string",
            json(br#"{"name": 5}"#),
            400,
            "bad_input",
        ),
        case(
            "object for a string",
            json(br#"{"name": {"a": 1}}"#),
            400,
            "bad_input",
        ),
        case(
            "list for a string",
            json(br#"{"name": ["a"]}"#),
            400,
            "bad_input",
        ),
        case(
            "null for a required string",
            json(br#"{"name": null}"#),
            400,
            "bad_input",
        ),
        case(
            "boolean for a string",
            json(br#"{"name": true}"#),
            400,
            "bad_input",
        ),
        case(
            "string for an integer",
            json(br#"{"name":"a","count":"abc"}"#),
            400,
            "bad_input",
        ),
        case(
            "fraction for an integer",
            json(br#"{"name":"a","count":1.5}"#),
            400,
            "bad_input",
        ),
        case(
            "huge integer",
            json(br#"{"name":"a","count":99999999999999999999999}"#),
            400,
            "bad_input",
        ),
        case(
            "huge exponent",
            json(br#"{"name":"a","count":1e400}"#),
            400,
            "malformed_json",
        ),
        case(
            "integer below min",
            json(br#"{"name":"a","count":-1}"#),
            400,
            "bad_input",
        ),
        case(
            "integer above max",
            json(br#"{"name":"a","count":1001}"#),
            400,
            "bad_input",
        ),
        case(
            "NUL in a string",
            json(br#"{"name":"a\u0000b"}"#),
            400,
            "bad_input",
        ),
        case(
            "control char in a string",
            json(br#"{"name":"a\u0001b"}"#),
            400,
            "bad_input",
        ),
        case(
            "escape char in a string",
            json(br#"{"name":"\u001b[31m"}"#),
            400,
            "bad_input",
        ),
        case(
            "lone surrogate",
            json(br#"{"name":"\ud800"}"#),
            400,
            "malformed_json",
        ),
        case(
            "invalid UTF-8 body",
            json(b"{\"name\":\"\xff\xfe\"}"),
            400,
            "malformed_json",
        ),
        case(
            "byte order mark",
            json(b"\xef\xbb\xbf{\"name\":\"a\"}"),
            400,
            "malformed_json",
        ),
        case(
            "text/plain body",
            post("text/plain", br#"{"name":"a"}"#),
            415,
            "unsupported_media_type",
        ),
        case(
            "XML body",
            post("application/xml", b"<name>a</name>"),
            415,
            "unsupported_media_type",
        ),
        case(
            "form body",
            post("application/x-www-form-urlencoded", b"name=a"),
            415,
            "unsupported_media_type",
        ),
        case(
            "multipart body",
            post("multipart/form-data; boundary=x", b"--x\r\n\r\na\r\n--x--"),
            415,
            "unsupported_media_type",
        ),
        case(
            "text/json body",
            post("text/json", br#"{"name":"a"}"#),
            415,
            "unsupported_media_type",
        ),
        case(
            "path input not an integer",
            get("/shop/items/abc"),
            400,
            "bad_input",
        ),
        case(
            "path input overflowing",
            get("/shop/items/99999999999999999999999999"),
            400,
            "bad_input",
        ),
        case(
            "path input with NUL",
            get("/shop/items/1%00"),
            400,
            "bad_input",
        ),
        case(
            "path input with traversal",
            get("/shop/items/..%2F..%2Fetc%2Fpasswd"),
            400,
            "bad_input",
        ),
        case(
            "traversal out of the adapter",
            get("/shop/../../etc/passwd"),
            404,
            "not_found",
        ),
        case(
            "traversal at the root",
            get("/../../etc/passwd"),
            404,
            "not_found",
        ),
        case(
            "encoded traversal",
            get("/%2e%2e/%2e%2e/etc/passwd"),
            404,
            "not_found",
        ),
        case(
            "backslash traversal",
            get("/shop/..%5C..%5Cwindows"),
            404,
            "not_found",
        ),
        case("unknown adapter", get("/nope/items/1"), 404, "not_found"),
        case("unknown route", get("/shop/nope"), 404, "not_found"),
        case("the root", get("/"), 404, "not_found"),
        case(
            "query control char",
            get("/shop/search?q=a%00b"),
            400,
            "bad_input",
        ),
        case(
            "query escape char",
            get("/shop/search?q=%1b%5b2J"),
            400,
            "bad_input",
        ),
        case(
            "query too long for the input",
            get(&format!("/shop/search?q={}", "q".repeat(300))),
            400,
            "bad_input",
        ),
        case(
            "query given twice",
            get("/shop/search?q=a&q=b"),
            400,
            "bad_input",
        ),
        case("query missing", get("/shop/search"), 400, "bad_input"),
        case(
            "query outside the enum",
            get("/shop/search?q=a&sort=sideways"),
            400,
            "bad_input",
        ),
        case(
            "wrong method",
            request("DELETE", "/shop/echo", &[], b""),
            405,
            "method_not_allowed",
        ),
        case(
            "made-up method",
            request("FOO", "/shop/echo", &[], b""),
            405,
            "method_not_allowed",
        ),
        case(
            "lowercase method",
            request("get", "/shop/items/7", &[], b""),
            405,
            "method_not_allowed",
        ),
        case(
            "TRACE",
            request("TRACE", "/shop/items/7", &[], b""),
            405,
            "method_not_allowed",
        ),
        case(
            "OPTIONS",
            request("OPTIONS", "/shop/items/7", &[], b""),
            405,
            "method_not_allowed",
        ),
        case(
            "PATCH",
            request("PATCH", "/shop/items/7", &[], b""),
            405,
            "method_not_allowed",
        ),
        case("URI of 9 KB", get(&long(9 * 1024)), 414, "uri_too_long"),
        case("URI of 20 KB", get(&long(20 * 1024)), 414, "uri_too_long"),
        case("URI of 60 KB", get(&long(60 * 1024)), 414, "uri_too_long"),
        case(
            "150 headers",
            with_headers("/shop/items/7", many_headers(150)),
            431,
            "headers_too_large",
        ),
        case(
            "900 headers",
            with_headers("/shop/items/7", many_headers(900)),
            431,
            "headers_too_large",
        ),
        case(
            "a 40 KB header",
            with_headers("/shop/items/7", vec![("X-Big", "b".repeat(40 * 1024))]),
            431,
            "headers_too_large",
        ),
        case(
            "a 500 KB header",
            with_headers("/shop/items/7", vec![("X-Big", "b".repeat(500 * 1024))]),
            431,
            "headers_too_large",
        ),
        case(
            "body shorter than declared",
            request(
                "POST",
                "/shop/echo",
                &[
                    ("Content-Type", "application/json".into()),
                    ("Content-Length", "100".into()),
                ],
                br#"{"name":"#,
            ),
            408,
            "request_timeout",
        ),
        case(
            "chunked body that never ends",
            request(
                "POST",
                "/shop/echo",
                &[
                    ("Content-Type", "application/json".into()),
                    ("Transfer-Encoding", "chunked".into()),
                ],
                b"5\r\n{\"nam\r\n",
            ),
            408,
            "request_timeout",
        ),
        case(
            "chunked body with a bad chunk size",
            request(
                "POST",
                "/shop/echo",
                &[
                    ("Content-Type", "application/json".into()),
                    ("Transfer-Encoding", "chunked".into()),
                ],
                b"zz\r\n{}\r\n0\r\n\r\n",
            ),
            400,
            "bad_request",
        ),
        case(
            "hostile request id is replaced",
            request(
                "GET",
                "/shop/nope",
                &[("X-Request-Id", "<script>alert(1)</script> and more".into())],
                b"",
            ),
            404,
            "not_found",
        ),
    ]
}

fn backend_cases() -> Vec<Case> {
    let lookup = |case: &str| get(&format!("/shop/lookup?case={case}"));
    [
        ("huge-fault", 502, "bad_backend_reply"),
        ("huge-faultcode", 502, "backend_fault"),
        ("long-faultstring", 502, "backend_fault"),
        ("secret-in-fault", 502, "backend_fault"),
        ("secret-in-faultcode", 502, "backend_fault"),
        ("stack-trace", 502, "backend_fault"),
        ("bad-xml", 502, "bad_backend_reply"),
        ("html-500", 502, "bad_backend_reply"),
        ("html-200", 502, "bad_backend_reply"),
        ("doctype-entities", 502, "bad_backend_reply"),
        ("external-entity", 502, "bad_backend_reply"),
        ("latin1-declared-utf8", 502, "bad_backend_reply"),
        ("unknown-charset", 502, "bad_backend_reply"),
        ("unknown-encoding-decl", 502, "bad_backend_reply"),
        ("truncated", 502, "bad_backend_reply"),
        ("empty-200", 502, "bad_backend_reply"),
        ("nul-bytes", 502, "bad_backend_reply"),
        ("deep-xml", 502, "bad_backend_reply"),
        ("wide-fault-detail", 502, "backend_fault"),
        ("status-500-empty", 502, "bad_backend_reply"),
        ("status-404-html", 502, "bad_backend_reply"),
        ("status-401", 502, "bad_backend_reply"),
        ("status-429", 503, "backend_unavailable"),
        ("status-503", 503, "backend_unavailable"),
        ("slow", 504, "backend_timeout"),
        ("json-instead", 502, "bad_backend_reply"),
        ("invalid-utf8", 502, "bad_backend_reply"),
        ("not-an-envelope", 502, "bad_backend_reply"),
        ("fault-in-200", 502, "backend_fault"),
        ("redirect", 502, "bad_backend_reply"),
    ]
    .into_iter()
    .map(|(name, status, code)| case(name, lookup(name), status, code))
    .collect()
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
