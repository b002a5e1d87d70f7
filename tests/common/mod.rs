//! Test harness: a stand-in backend (a real axum server on 127.0.0.1) and ponte itself, started
//! in-process on another loopback port, talking real HTTP.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// What the stand-in received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Path and query, as they arrived (still percent-encoded).
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// What the stand-in answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub delay: Duration,
    /// Other response headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn xml(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "text/xml; charset=utf-8".to_string(),
            body: body.into(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn with_type(mut self, content_type: impl Into<String>) -> Reply {
        self.content_type = content_type.into();
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(&Received) -> Reply + Send + Sync;

/// A backend stand-in: records every request and answers with `respond`.
pub struct StandIn {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl StandIn {
    pub async fn start(respond: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> StandIn {
        let received = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let log = received.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let respond = respond.clone();
                let log = log.clone();
                async move {
                    let got = Received {
                        method: method.to_string(),
                        uri: uri
                            .path_and_query()
                            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    let reply = respond(&got);
                    log.lock().unwrap().push(got);
                    if !reply.delay.is_zero() {
                        tokio::time::sleep(reply.delay).await;
                    }
                    let mut r: Response =
                        (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                    r.headers_mut()
                        .insert("content-type", reply.content_type.parse().unwrap());
                    for (name, value) in &reply.headers {
                        r.headers_mut().insert(*name, value.parse().unwrap());
                    }
                    r
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/service", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        StandIn { url, received }
    }

    /// Answers every call with the same reply.
    pub async fn always(reply: Reply) -> StandIn {
        StandIn::start(move |_| reply.clone()).await
    }

    pub fn last(&self) -> Received {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the backend received no request")
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// ponte serving the adapters of `dir`, with `env` as its environment.
pub struct Ponte {
    pub base: String,
    pub client: reqwest::Client,
}

impl Ponte {
    pub async fn start(dir: &Path, env: HashMap<String, String>) -> Ponte {
        let lookup = move |name: &str| env.get(name).cloned();
        let loaded = ponte::plan::load_dir(dir, &lookup);
        let plan = loaded.plan.unwrap_or_else(|| {
            let lines: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
            panic!("adapters do not load:\n{}", lines.join("\n"))
        });
        Ponte::serve(plan, ponte::server::Settings::default()).await
    }

    pub async fn serve(plan: ponte::plan::Plan, settings: ponte::server::Settings) -> Ponte {
        let state = ponte::server::AppState::new(plan, settings).expect("the backends start");
        Ponte::serve_state(state).await
    }

    /// Serves a state the test keeps (to install new plans into it).
    pub async fn serve_state(state: std::sync::Arc<ponte::server::AppState>) -> Ponte {
        // With the peer address, as `ponte serve` gives it (inbound limits key on it).
        let app = ponte::server::router(state)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Ponte {
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    /// ponte over the shipped adapters, every backend URL pointing at `backend`.
    pub async fn shipped(backend: &StandIn) -> Ponte {
        let env = [
            "CALCULATOR_URL",
            "CALCULATOR12_URL",
            "COUNTRYINFO_URL",
            "CORREIOS_URL",
        ]
        .into_iter()
        .map(|k| (k.to_string(), backend.url.clone()))
        .collect();
        Ponte::start(&repo_path("adapters"), env).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::read(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// A POST with a raw body of the given content type (for bodies that are not JSON).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &'static str) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request.send().await.unwrap()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A facade answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
    pub text: String,
}

impl Answer {
    async fn read(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    /// The problem's `detail` (empty when there is none).
    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or_default()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts that the answer does not repeat `secret` (a backend's own text, an address).
    pub fn assert_hides(&self, secret: &str) {
        assert!(
            !self.text.contains(secret),
            "`{secret}` leaked into the answer: {}",
            self.text
        );
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(self.json["status"], status);
        assert!(self.json["request_id"].is_string());
        assert!(
            self.json["title"].is_string()
                && self.json["type"].is_string()
                && self.json["detail"].is_string()
        );
    }
}

/// A reply captured from a real server (corpus `wire/`): status and Content-Type from
/// `NAME.resp.headers`, the bytes from `NAME.resp.EXT`.
pub fn captured_reply(dir: &Path, name: &str, ext: &str) -> Reply {
    let headers = std::fs::read_to_string(dir.join(format!("{name}.resp.headers"))).unwrap();
    let status: u16 = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = std::fs::read(dir.join(format!("{name}.resp.{ext}"))).unwrap();
    let reply = Reply::xml(status, body);
    match headers.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        key.eq_ignore_ascii_case("content-type")
            .then(|| value.trim().to_string())
    }) {
        Some(content_type) => reply.with_type(content_type),
        None => reply,
    }
}

/// A SOAP 1.1 envelope around `body`, prefixed like .NET stacks do.
pub fn soap11(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// A SOAP 1.2 envelope around `body`.
pub fn soap12(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>{body}</env:Body></env:Envelope>"#
    )
}

pub fn soap11_fault(code: &str, message: &str) -> String {
    soap11(&format!(
        "<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{message}</faultstring><detail/></soap:Fault>"
    ))
}

/// The corpus folder `PONTE_CORPUS` names. Corpus tests are `#[ignore]`d (a plain `cargo test`
/// reports them as ignored); `.ci/run` sets the variable and runs them with `--include-ignored`,
/// where a variable that is unset or names no folder fails the test.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("PONTE_CORPUS").map(PathBuf::from);
    match dir {
        Some(dir) if dir.is_dir() => dir,
        Some(dir) => panic!(
            "PONTE_CORPUS names {}, which is not a folder",
            dir.display()
        ),
        None => panic!(
            "this corpus test needs PONTE_CORPUS (e.g. PONTE_CORPUS=../shared/corpus cargo test -- --include-ignored)"
        ),
    }
}

/// The leaf elements of an XML document as (namespace URI, local name, text), in order: a
/// structural view for asserting on envelopes without caring about prefixes.
pub fn leaves(xml: &str) -> Vec<(String, String, String)> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut stack: Vec<(String, String, String, bool)> = Vec::new();
    let mut out = Vec::new();
    loop {
        let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
        let ns = match ns {
            ResolveResult::Bound(n) => n.0.to_string(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) => {
                if let Some(parent) = stack.last_mut() {
                    parent.3 = true;
                }
                stack.push((
                    ns,
                    e.local_name().as_ref().to_string(),
                    String::new(),
                    false,
                ));
            }
            Event::Empty(e) => {
                if let Some(parent) = stack.last_mut() {
                    parent.3 = true;
                }
                out.push((ns, e.local_name().as_ref().to_string(), String::new()));
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let c = match r.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("entity {other}"),
                    };
                    top.2.push(c);
                }
            }
            Event::End(_) => {
                let (ns, name, text, has_children) = stack.pop().unwrap();
                if !has_children {
                    out.push((ns, name, text));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

pub fn leaf(ns: &str, name: &str, text: &str) -> (String, String, String) {
    (ns.to_string(), name.to_string(), text.to_string())
}

/// A loopback port nobody listens on right now, for a `ponte serve` process a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the `ponte` binary with `args` in the repository: its exit code, standard output and
/// standard error.
pub fn run_ponte(args: &[&str]) -> (i32, String, String) {
    run_ponte_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// The same in `dir`. The folders ponte reads come from the arguments only, never from the
/// environment the tests run in.
pub fn run_ponte_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .current_dir(dir)
        .env_remove("PONTE_ADAPTERS")
        .env_remove("PONTE_FIXTURES")
        .output()
        .expect("ponte runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shipped calculator adapter and its fixtures, copied into `dir/adapters` and
/// `dir/fixtures` with an API key (`flows: KEY`, from a keys file) required of every caller.
pub fn guarded_calculator(dir: &Path, key: &str) {
    let adapters = dir.join("adapters");
    let fixtures = dir.join("fixtures/calculator");
    std::fs::create_dir_all(&adapters).unwrap();
    std::fs::create_dir_all(&fixtures).unwrap();
    let adapter = std::fs::read_to_string(repo_path("adapters/calculator.yaml")).unwrap();
    std::fs::write(
        adapters.join("calculator.yaml"),
        format!("{adapter}\nauth:\n  api_key: {{ keys_file: keys.txt }}\n"),
    )
    .unwrap();
    std::fs::write(adapters.join("keys.txt"), format!("flows: {key}\n")).unwrap();
    for entry in std::fs::read_dir(repo_path("fixtures/calculator")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, fixtures.join(path.file_name().unwrap())).unwrap();
    }
}

/// `ponte check --adapters DIR` with `URL` set (adapters under test name their backend
/// `${URL}`): its exit code and standard error.
pub fn check_adapters(dir: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check", "--adapters"])
        .arg(dir)
        .env("URL", "http://127.0.0.1:9/service")
        .output()
        .expect("ponte runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
