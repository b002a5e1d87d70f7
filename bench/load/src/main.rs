//! `ponte-load`: the load benchmark of ponte (issue 5). Run it with `bench/run.sh`.
//!
//! One binary, several roles, each its own process so that CPU time and peak memory can be read
//! per process from `/proc/<pid>/{stat,status}`:
//!
//! - `ponte-load backend`: a fast stand-in SOAP backend (axum) answering `POST /small` (~1 KiB)
//!   and `POST /large` (~100 KiB) with canned replies.
//! - `ponte-load proxy --backend URL`: a minimal byte-forwarding proxy: the request body streams
//!   to the backend, the answer streams back, nothing is translated (the floor for any facade
//!   that makes two HTTP hops).
//! - `ponte-load ponte --adapters DIR --backend URL [--log human|off]`: ponte itself, through its
//!   library (`plan::load_dir` + `server::router` + `axum::serve`), with the access log of
//!   `ponte serve` (compact, level info) written to `/dev/null` unless `--log off`.
//! - `ponte-load run [options]`: the orchestrator: starts the processes above on 127.0.0.1, drives
//!   them with `oha`, and prints the results (options in `orchestrate.rs`).
//! - `ponte-load profile [--size small|large]`: ponte under the same load with `perf record`
//!   attached to its process.
//! - `ponte-load many [--many N]`: only the held-connections runs (ponte, then the proxy).
//! - `ponte-load quick [--size small|large]`: only the proxies and ponte at full load.
//! - `ponte-load floor [--size small|large|both] [--rounds N]`: only the nginx proxy floor and
//!   ponte at full load, printed side by side (issue 15). With `--backend-server nginx` the
//!   canned replies come from nginx (as in the table) instead of `ponte-load backend`.
//! - `ponte-load callgrind [--requests N] [--size small|large]`: instructions per call of ponte
//!   and of the nginx proxy under callgrind (`bench/callgrind.sh`).
//! - `ponte-load micro` with `PONTE_BENCH_*` set: one piece of the micro benchmark's work N times,
//!   for callgrind (`benches/support/work.rs`; `bench/callgrind.sh micro`).
//! - `ponte-load burst [--burst N]`: memory under N concurrent replies near the 10 MiB cap, and
//!   how much of it is given back after the burst, for several allocator settings.
//!
//! Every server binds `127.0.0.1:0` and prints `listening ADDR` on stdout once it accepts.

#[path = "../../../benches/support/mod.rs"]
mod support;

mod orchestrate;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(role) = args.first() else {
        eprintln!(
            "usage: ponte-load backend | proxy | ponte | run | profile | many  (see the source header)"
        );
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let result = match role.as_str() {
        "backend" => serve(|| async { backend() }),
        "proxy" => {
            let backend = flag(rest, "--backend").unwrap_or_default();
            serve(move || async move { proxy(backend) })
        }
        "ponte" => {
            ponte::memory::restart_with_low_memory_settings();
            let adapters = PathBuf::from(flag(rest, "--adapters").unwrap_or_default());
            let backend = flag(rest, "--backend").unwrap_or_default();
            let log = flag(rest, "--log").unwrap_or_else(|| "human".into());
            let access_log = init_logging(&log);
            serve(move || async move { ponte_app(&adapters, &backend, access_log) })
        }
        "run" => orchestrate::main(rest),
        "profile" => orchestrate::profile(rest),
        "many" => orchestrate::many(rest),
        "quick" => orchestrate::quick(rest),
        "floor" => orchestrate::floor(rest),
        "callgrind" => orchestrate::callgrind(rest),
        "micro" => {
            if support::work::count_from_env() {
                Ok(())
            } else {
                Err("set PONTE_BENCH_CALLS and PONTE_BENCH_SIZE (benches/support/work.rs)".into())
            }
        }
        "burst" => orchestrate::burst(rest),
        other => Err(format!("unknown role `{other}`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ponte-load {role}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `name` in `args`.
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Serves the app that `make` builds on a multi-threaded runtime (as `ponte serve` does), on an
/// ephemeral loopback port.
fn serve<F, Fut>(make: F) -> Result<(), String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Router, String>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = make().await?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {addr}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
        drop(out);
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}

/// The `/huge` reply: just under ponte's default 10 MiB reply cap.
const HUGE_REPLY: usize = 9 * 1024 * 1024;

fn backend() -> Result<Router, String> {
    let small = Bytes::from(support::reply_of_size(1024));
    let large = Bytes::from(support::reply_of_size(100 * 1024));
    let huge = Bytes::from(support::reply_of_size(HUGE_REPLY));
    Ok(Router::new()
        .route(
            "/small",
            post(move |body: Bytes| canned(small.clone(), body)),
        )
        .route(
            "/large",
            post(move |body: Bytes| canned(large.clone(), body)),
        )
        .route("/huge", post(move |body: Bytes| canned(huge.clone(), body))))
}

async fn canned(reply: Bytes, _request: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        reply,
    )
        .into_response()
}

struct Proxy {
    client: reqwest::Client,
    backend: String,
}

fn proxy(backend: String) -> Result<Router, String> {
    // The same client settings as ponte's backend client, so the two differ only in what they do
    // with the bytes.
    let client = reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .build()
        .map_err(|e| e.to_string())?;
    let state = Arc::new(Proxy { client, backend });
    Ok(Router::new().fallback(forward).with_state(state))
}

const FORWARDED: [&str; 3] = ["content-type", "content-length", "soapaction"];

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut url = String::with_capacity(proxy.backend.len() + parts.uri.path().len());
    url.push_str(&proxy.backend);
    url.push_str(parts.uri.path());
    let mut outgoing = proxy
        .client
        .post(url)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()));
    for name in FORWARDED {
        if let Some(value) = parts.headers.get(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    match outgoing.send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status());
            for name in ["content-type", "content-length"] {
                if let Some(value) = answer.headers().get(name) {
                    response = response.header(name, value);
                }
            }
            response
                .body(Body::from_stream(answer.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// ponte, as `ponte serve` builds it: load and compile the adapters, then the router.
fn ponte_app(
    adapters: &std::path::Path,
    backend: &str,
    access_log: ponte::server::access_log::AccessLog,
) -> Result<Router, String> {
    let lookup = |name: &str| match name {
        "SMALL_URL" => Some(format!("{backend}/small")),
        "LARGE_URL" => Some(format!("{backend}/large")),
        "HUGE_URL" => Some(format!("{backend}/huge")),
        _ => None,
    };
    let loaded = ponte::plan::load_dir(adapters, &lookup);
    let Some(plan) = loaded.plan else {
        let problems: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        return Err(format!(
            "the adapters do not load:\n{}",
            problems.join("\n")
        ));
    };
    let settings = ponte::server::Settings {
        access_log,
        ..ponte::server::Settings::default()
    };
    let state = ponte::server::AppState::new(plan, settings)?;
    Ok(ponte::server::router(state))
}

/// The logging `ponte serve` sets up by default: `tracing` at level info for everything but the
/// access log, and the access log (human lines, batched), both sent to `/dev/null` so that
/// formatting and the write calls are paid but no disk is involved.
fn init_logging(mode: &str) -> ponte::server::access_log::AccessLog {
    use ponte::server::access_log::{AccessLog, LineFormat};
    let open = || std::fs::OpenOptions::new().write(true).open("/dev/null");
    if let Ok(sink) = open() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_target(false)
            .with_writer(std::sync::Mutex::new(sink))
            .compact()
            .init();
    }
    match open() {
        Ok(sink) if mode != "off" => AccessLog::new(LineFormat::Human, Box::new(sink)),
        _ => AccessLog::off(),
    }
}

/// The allocator of `ponte serve`, for every role alike (the proxy and the backend too), so that
/// the comparison is between what the servers do, not how they allocate.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
