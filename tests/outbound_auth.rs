//! Outbound auth end to end: ponte signs in to stand-in backends that check the credentials
//! (basic, bearer, API key in a header or the query, OAuth 2.0 client credentials, WS-Security
//! checked by a Python implementation), and recordings keep none of them. The TLS and proxy
//! settings are in `outbound_auth/connection.rs`.

mod common;
#[path = "outbound_auth/connection.rs"]
mod connection;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Ponte, Received, Reply, StandIn, repo_path, soap11};
use serde_json::json;

/// ponte serving only `tests/outauth-adapters/<adapter>.yaml`, with this environment.
pub(crate) async fn ponte_with(adapter: &str, env: &[(&str, &str)]) -> Ponte {
    let dir = adapter_dir(adapter);
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ponte::start(dir.path(), env).await
}

/// A folder holding a copy of one test adapter (each test loads only the adapter it needs).
pub(crate) fn adapter_dir(adapter: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{adapter}.yaml");
    std::fs::copy(
        repo_path("tests/outauth-adapters").join(&file),
        dir.path().join(&file),
    )
    .unwrap();
    dir
}

fn header<'a>(got: &'a Received, name: &str) -> &'a str {
    got.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(crate) fn ok_reply() -> Reply {
    Reply::xml(200, "<r><ok>yes</ok></r>")
}

/// A backend that answers 200 when `accept` holds for the request, else 401.
async fn guarded(accept: impl Fn(&Received) -> bool + Send + Sync + 'static) -> StandIn {
    StandIn::start(move |got| {
        if accept(got) {
            ok_reply()
        } else {
            Reply::xml(401, "<error>who are you?</error>")
        }
    })
    .await
}

#[tokio::test]
async fn basic_auth_sends_user_and_password() {
    // base64("ponte:s3cret pass")
    let expected = "Basic cG9udGU6czNjcmV0IHBhc3M=";
    let backend = guarded(move |got| header(got, "authorization") == expected).await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("BACKEND_PASSWORD", "s3cret pass"),
    ];
    let answer = ponte_with("basic", &env).await.get("/basic/ping").await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(header(&backend.last(), "authorization"), expected);
}

#[tokio::test]
async fn bearer_token_is_sent_on_every_call() {
    let backend = guarded(|got| header(got, "authorization") == "Bearer tok-abc").await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("BACKEND_TOKEN", "tok-abc"),
    ];
    let ponte = ponte_with("bearer", &env).await;
    for _ in 0..2 {
        let answer = ponte.get("/bearer/ping").await;
        assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    }
    assert_eq!(backend.count(), 2);
}

#[tokio::test]
async fn api_key_goes_in_the_configured_header() {
    let backend = guarded(|got| header(got, "x-backend-key") == "k-123").await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("BACKEND_KEY", "k-123"),
    ];
    let answer = ponte_with("keyheader", &env)
        .await
        .get("/keyheader/ping")
        .await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(header(&backend.last(), "authorization"), "");
}

#[tokio::test]
async fn api_key_goes_in_the_query_encoded() {
    let backend = guarded(|got| got.uri == "/service/ping?api_key=k+1%2F2").await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("BACKEND_KEY", "k 1/2"),
    ];
    let answer = ponte_with("keyquery", &env)
        .await
        .get("/keyquery/ping")
        .await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", backend.last().uri);
}

#[tokio::test]
async fn a_backend_refusing_static_credentials_is_a_502_without_its_text() {
    let backend = guarded(|_| false).await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("BACKEND_TOKEN", "tok-old"),
    ];
    let answer = ponte_with("bearer", &env).await.get("/bearer/ping").await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    answer.assert_hides("who are you");
    answer.assert_hides("tok-old");
    assert_eq!(backend.count(), 1, "no refresh for a fixed token");
}

/// An OAuth token endpoint stand-in: checks the client credentials grant, counts requests, and
/// hands out `tok-1`, `tok-2`, ... after `delay`.
struct TokenEndpoint {
    url: String,
    issued: Arc<AtomicUsize>,
}

impl TokenEndpoint {
    async fn start(delay: Duration, status: u16) -> TokenEndpoint {
        let issued = Arc::new(AtomicUsize::new(0));
        let count = issued.clone();
        let endpoint = StandIn::start(move |got| {
            // base64("ponte-client:cs%2Fsecret"): the secret is form-encoded (RFC 6749 2.3.1).
            let client_ok =
                header(got, "authorization") == "Basic cG9udGUtY2xpZW50OmNzJTJGc2VjcmV0";
            let form_ok = got.body.contains("grant_type=client_credentials")
                && got.body.contains("scope=orders.read")
                && got.body.contains("audience=https%3A%2F%2Fapi.example.com");
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            if !client_ok || !form_ok {
                return Reply::xml(400, r#"{"error":"invalid_client"}"#)
                    .with_type("application/json");
            }
            let body = if status == 200 {
                format!(r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3600}}"#)
            } else {
                r#"{"error":"server_error","detail":"db password hunter2 rejected"}"#.to_string()
            };
            Reply::xml(status, body)
                .with_type("application/json")
                .after(delay)
        })
        .await;
        TokenEndpoint {
            url: endpoint.url,
            issued,
        }
    }

    fn count(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

async fn oauth_ponte(backend: &StandIn, tokens: &TokenEndpoint) -> Ponte {
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("TOKEN_URL", tokens.url.as_str()),
        ("CLIENT_SECRET", "cs/secret"),
    ];
    ponte_with("oauth", &env).await
}

#[tokio::test]
async fn oauth_token_is_fetched_once_for_50_concurrent_calls() {
    let tokens = TokenEndpoint::start(Duration::from_millis(300), 200).await;
    let backend = guarded(|got| header(got, "authorization") == "Bearer tok-1").await;
    let ponte = oauth_ponte(&backend, &tokens).await;
    let calls = (0..50).map(|_| ponte.get("/oauth/ping"));
    let answers = futures_util::future::join_all(calls).await;
    for answer in &answers {
        assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    }
    assert_eq!(tokens.count(), 1, "one token request for all 50 calls");
    assert_eq!(backend.count(), 50);
    // Later calls reuse the cached token.
    ponte.get("/oauth/ping").await;
    assert_eq!(tokens.count(), 1);
}

#[tokio::test]
async fn oauth_token_refused_with_401_is_refreshed_once() {
    let tokens = TokenEndpoint::start(Duration::ZERO, 200).await;
    // tok-1 is refused (revoked early); tok-2 works.
    let backend = guarded(|got| header(got, "authorization") == "Bearer tok-2").await;
    let ponte = oauth_ponte(&backend, &tokens).await;
    let answer = ponte.get("/oauth/ping").await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(tokens.count(), 2, "one refresh");
    assert_eq!(backend.count(), 2, "the call was sent again once");

    // A backend that refuses every token: one refresh per call, then the 401 is answered.
    let refusing = guarded(|_| false).await;
    let ponte = oauth_ponte(&refusing, &tokens).await;
    let before = tokens.count();
    let answer = ponte.get("/oauth/ping").await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert_eq!(tokens.count() - before, 2, "a token, then one refresh");
    assert_eq!(refusing.count(), 2, "no loop of refreshes");
}

#[tokio::test]
async fn oauth_token_endpoint_failure_is_backend_auth_failed_without_its_body() {
    let tokens = TokenEndpoint::start(Duration::ZERO, 500).await;
    let backend = StandIn::always(ok_reply()).await;
    let ponte = oauth_ponte(&backend, &tokens).await;
    let answer = ponte.get("/oauth/ping").await;
    answer.assert_problem(502, "backend_auth_failed");
    assert!(answer.detail().contains("500"), "{}", answer.text);
    answer.assert_hides("hunter2");
    answer.assert_hides("cs/secret");
    assert_eq!(backend.count(), 0, "nothing is sent without a token");
}

#[tokio::test]
async fn concurrent_calls_share_one_failed_token_fetch() {
    let tokens = TokenEndpoint::start(Duration::from_millis(300), 500).await;
    let backend = StandIn::always(ok_reply()).await;
    let ponte = oauth_ponte(&backend, &tokens).await;
    let calls = (0..20).map(|_| ponte.get("/oauth/ping"));
    for answer in futures_util::future::join_all(calls).await {
        answer.assert_problem(502, "backend_auth_failed");
    }
    assert_eq!(
        tokens.count(),
        1,
        "the failure is shared, not repeated by each call"
    );
    // A later call asks again.
    ponte.get("/oauth/ping").await;
    assert_eq!(tokens.count(), 2);
}

#[tokio::test]
async fn oauth_token_endpoint_shares_the_call_deadline() {
    // The adapter's timeout is 3s; the token endpoint takes 10s.
    let tokens = TokenEndpoint::start(Duration::from_secs(10), 200).await;
    let backend = StandIn::always(ok_reply()).await;
    let ponte = oauth_ponte(&backend, &tokens).await;
    let started = std::time::Instant::now();
    let answer = ponte.get("/oauth/ping").await;
    answer.assert_problem(504, "backend_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

fn read_reply() -> Reply {
    Reply::xml(
        200,
        soap11(r#"<ReadResponse xmlns="urn:lab"><Ok>yes</Ok></ReadResponse>"#),
    )
}

fn python3() -> std::process::Command {
    let mut command = std::process::Command::new("python3");
    command.arg(repo_path("tests/outauth-adapters/check_wsse.py"));
    command
}

#[tokio::test]
async fn ws_security_digest_checks_out_in_an_independent_implementation() {
    let backend = StandIn::always(read_reply()).await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("WSSE_PASSWORD", "pa<ss&word"),
    ];
    let ponte = ponte_with("wsse", &env).await;
    for _ in 0..3 {
        let answer = ponte.get("/wsse/read").await;
        assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    }
    let envelopes = tempfile::tempdir().unwrap();
    let mut command = python3();
    command.args(["ponte", "pa<ss&word", "300"]);
    for (i, got) in backend.received.lock().unwrap().iter().enumerate() {
        let path = envelopes.path().join(format!("{i}.xml"));
        std::fs::write(&path, &got.body).unwrap();
        command.arg(path);
    }
    let output = command
        .output()
        .expect("python3 runs (.ci/run installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(stdout.trim(), "ok 3");
    // The route's own body is still there, after the header.
    assert!(
        backend.last().body.contains("<tns:Id>7</tns:Id>"),
        "{}",
        backend.last().body
    );
}

#[tokio::test]
async fn ws_security_joins_the_soap_headers_of_a_soap_12_envelope() {
    let reply = common::soap12(r#"<ReadResponse xmlns="urn:lab"><Ok>yes</Ok></ReadResponse>"#);
    let backend = StandIn::always(Reply::xml(200, reply).with_type("application/soap+xml")).await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("WSSE_PASSWORD", "p&ss"),
    ];
    let answer = ponte_with("wsse12", &env).await.get("/wsse12/read").await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    let wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    // Well-formed (leaves() parses it), the password text escaped and read back whole.
    let leaves = common::leaves(&backend.last().body);
    for expected in [
        common::leaf(wsse, "Username", "ponte"),
        common::leaf(wsse, "Password", "p&ss"),
        common::leaf("urn:h", "Session", "s-1"),
    ] {
        assert!(leaves.contains(&expected), "{expected:?} not in {leaves:?}");
    }
    let body = backend.last().body;
    let header = body.find("<soap:Header>").expect("a soap:Header");
    assert!(
        header < body.find("wsse:Security").unwrap()
            && body.find("wsse:Security") < body.find("<soap:Body>")
    );
}

#[tokio::test]
async fn the_python_checker_catches_a_wrong_digest() {
    // The checker itself must be able to fail: a wrong password does not verify.
    let backend = StandIn::always(read_reply()).await;
    let env = [
        ("BACKEND_URL", backend.url.as_str()),
        ("WSSE_PASSWORD", "right"),
    ];
    ponte_with("wsse", &env).await.get("/wsse/read").await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), backend.last().body).unwrap();
    let mut command = python3();
    let output = command
        .args(["ponte", "wrong", "300"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("does not match"));
}

/// ponte over one test adapter with a recorder (`serve --record`) writing into `recordings`.
async fn recording(adapter: &str, vars: &[(&str, &str)], recordings: &std::path::Path) -> Ponte {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dir = adapter_dir(adapter);
    let lookup = move |n: &str| vars.get(n).cloned();
    let plan = ponte::plan::load_dir(dir.path(), &lookup).plan.unwrap();
    let recorder = ponte::fixture::record::Recorder::new(recordings.to_path_buf(), vec![]);
    let settings = ponte::server::Settings {
        observers: vec![Arc::new(recorder)],
        ..Default::default()
    };
    Ponte::serve(plan, settings).await
}

/// Every file under `dir`, as text.
fn all_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else {
            text.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    text
}

#[tokio::test]
async fn recordings_keep_no_outbound_credentials() {
    let recordings = tempfile::tempdir().unwrap();
    let soap = StandIn::always(read_reply()).await;
    let env = [
        ("BACKEND_URL", soap.url.as_str()),
        ("WSSE_PASSWORD", "wsse-pass-42"),
    ];
    let answer = recording("wsse", &env, recordings.path())
        .await
        .get("/wsse/read")
        .await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert!(soap.last().body.contains("wsse:UsernameToken"));

    let http = StandIn::always(ok_reply()).await;
    let env = [
        ("BACKEND_URL", http.url.as_str()),
        ("BACKEND_PASSWORD", "basic-pass-42"),
    ];
    let answer = recording("basic", &env, recordings.path())
        .await
        .get("/basic/ping")
        .await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert!(header(&http.last(), "authorization").starts_with("Basic "));

    let case = std::fs::read_to_string(recordings.path().join("wsse/read-1.yaml")).unwrap();
    assert!(case.contains("soap_action"), "{case}");
    assert!(recordings.path().join("basic/ping-1.yaml").exists());
    // Compared in lower case: a header name may be written either way.
    let written = all_text(recordings.path()).to_lowercase();
    // base64("ponte:basic-pass-42") is what the Authorization header carried.
    for secret in [
        "UsernameToken",
        "Security",
        "Nonce",
        "wsse-pass-42",
        "Authorization",
        "cG9udGU6YmFzaWMtcGFzcy00Mg==",
        "basic-pass-42",
    ] {
        assert!(
            !written.contains(&secret.to_lowercase()),
            "`{secret}` in the recordings:\n{written}"
        );
    }
}

#[tokio::test]
async fn ws_security_on_a_non_soap_backend_is_a_check_error_at_its_position() {
    let loaded =
        ponte::plan::load_dir(&repo_path("tests/outauth-adapters/broken"), &|_: &str| None);
    let lines: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    let text = lines.join("\n");
    assert!(
        text.contains("restwsse.yaml:6:18: `ws_security` is for SOAP backends"),
        "{text}"
    );
    assert!(loaded.plan.is_none());
}

#[tokio::test]
async fn a_missing_ca_file_is_a_diagnostic_at_its_position() {
    let loaded =
        ponte::plan::load_dir(&repo_path("tests/outauth-adapters/broken"), &|_: &str| None);
    let lines: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    let text = lines.join("\n");
    assert!(
        text.contains("nocafile.yaml:5:19: cannot read the ca_file"),
        "{text}"
    );
}

#[tokio::test]
async fn a_reload_keeps_the_oauth_token_until_the_credentials_change() {
    let tokens = TokenEndpoint::start(Duration::ZERO, 200).await;
    let backend = StandIn::always(ok_reply()).await;
    let dir = adapter_dir("oauth");
    let load = |secret: &str| {
        let vars: HashMap<String, String> = HashMap::from([
            ("BACKEND_URL".into(), backend.url.clone()),
            ("TOKEN_URL".into(), tokens.url.clone()),
            ("CLIENT_SECRET".into(), secret.into()),
        ]);
        let lookup = move |n: &str| vars.get(n).cloned();
        ponte::plan::load_dir(dir.path(), &lookup).plan.unwrap()
    };
    let state = ponte::server::AppState::new(load("cs/secret"), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth/ping", listener.local_addr().unwrap());
    let app = ponte::server::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let call = || async { client.get(&url).send().await.unwrap().status().as_u16() };

    assert_eq!(call().await, 200);
    state.install(load("cs/secret")).unwrap();
    assert_eq!(call().await, 200);
    assert_eq!(tokens.count(), 1, "the same credentials keep their token");
    // Other credentials: the token endpoint refuses them (a new fetch was made, not the old
    // token reused).
    state.install(load("another secret")).unwrap();
    assert_eq!(call().await, 502);
    assert_eq!(tokens.count(), 2);
}

#[tokio::test]
async fn offline_runs_load_adapters_whose_credentials_are_not_set() {
    // `ponte test` and `serve --mock` never reach a backend: unset variables are empty, and
    // neither a token URL nor a certificate file is needed.
    let options = ponte::plan::LoadOptions {
        missing_env_is_empty: true,
        ..Default::default()
    };
    for adapter in ["oauth", "mtls", "wsse"] {
        let dir = adapter_dir(adapter);
        let url = |name: &str| (name == "BACKEND_URL").then(|| "http://127.0.0.1:9".to_string());
        let loaded = ponte::plan::load_dir_with(dir.path(), &url, &options);
        let text: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(loaded.plan.is_some(), "{adapter}: {text:?}");
    }
    // A live load of the same adapter without its variables is refused.
    let dir = adapter_dir("oauth");
    let url = |name: &str| (name == "BACKEND_URL").then(|| "http://127.0.0.1:9".to_string());
    assert!(ponte::plan::load_dir(dir.path(), &url).plan.is_none());
}
