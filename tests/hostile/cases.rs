//! The table of hostile requests and the stand-in backend's hostile replies.

use std::time::Duration;

use super::common::{Received, Reply, soap11, soap11_fault};
use super::wire::{get, json, many_headers, nested, post, request, with_headers};

pub const SECRET: &str = "sk-live-TOPSECRET-4242";
/// Text only the backend knows: no answer may carry it.
pub const INTERNAL: &str = "BACKEND-INTERNAL";

/// What one hostile request gets back, read from a raw socket.
/// The backend's answer to `GET /shop/lookup?case=NAME`.
pub fn backend_reply(case: &str, got: &Received) -> Reply {
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

pub fn respond(got: &Received) -> Reply {
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

pub struct Case {
    pub name: &'static str,
    pub send: Vec<u8>,
    pub status: u16,
    pub code: Option<&'static str>,
}

pub fn case(name: &'static str, send: Vec<u8>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        send,
        status,
        code: Some(code),
    }
}

pub fn caller_cases() -> Vec<Case> {
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
        // `/` is the docs page (issue 13); ponte's own prefix is not an adapter.
        case("under /_ponte/", get("/_ponte/nothing"), 404, "not_found"),
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

pub fn backend_cases() -> Vec<Case> {
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
        ("status-401", 502, "backend_auth_failed"),
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
