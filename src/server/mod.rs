//! The HTTP server: facade routes under `/<adapter>/...`, operational endpoints under `/_ponte/`.

pub mod access_log;
mod facade;
pub mod guard;
pub mod listen;
mod request_id;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::backend::http::{BackendRuntime, BackendSettings};
use crate::backend::registry::Registry;
use crate::backend::transport::Transport;
use crate::engine::CallObserver;
use crate::plan::Plan;
use crate::problem::{Catalog, Problem};

pub use request_id::RequestId;

/// Request bodies above this are refused with 413 (callers send small JSON).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

pub struct Settings {
    pub body_limit: usize,
    /// Where backend requests go: the backends, or recorded replies (`serve --mock`).
    pub transport: Transport,
    /// Who looks at finished calls (`serve --record` writes fixtures).
    pub observers: Vec<Arc<dyn CallObserver>>,
    pub access_log: access_log::AccessLog,
    /// The request header in which a caller says how long it waits, in seconds; `None` ignores
    /// any.
    pub caller_timeout_header: Option<axum::http::HeaderName>,
    /// Where replicas share rate-limit counters and cached answers (`serve --redis`); `None`
    /// keeps them in this process.
    pub shared_state: Option<crate::state::SharedStateConfig>,
    /// Total bytes of answers the response cache keeps in this process.
    pub cache_size: u64,
    /// URI and header limits and the body read timeout, checked before routing.
    pub request_limits: guard::RequestLimits,
    /// A fixtures folder whose cases give the docs and the OpenAPI document their examples.
    pub examples: Option<std::path::PathBuf>,
    /// The call log (`serve --call-log`, on in `--mock`); `None` keeps no calls.
    pub call_log: Option<Arc<crate::calls::CallLog>>,
    /// The token `/_ponte/calls` asks for; without one the call log is never shown.
    pub admin_token: Option<String>,
}

/// The header RapidPro-style flow engines send when a flow sets a webhook timeout.
pub const DEFAULT_CALLER_TIMEOUT_HEADER: &str = "x-weni-webhook-timeout";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            caller_timeout_header: Some(axum::http::HeaderName::from_static(
                DEFAULT_CALLER_TIMEOUT_HEADER,
            )),
            body_limit: DEFAULT_BODY_LIMIT,
            transport: Transport::Live,
            observers: Vec::new(),
            access_log: access_log::AccessLog::off(),
            shared_state: None,
            cache_size: crate::cache::DEFAULT_CACHE_SIZE,
            request_limits: guard::RequestLimits::default(),
            examples: None,
            call_log: None,
            admin_token: None,
        }
    }
}

/// A plan with the runtime state of its backends, index for index.
pub struct Served {
    pub plan: Plan,
    pub runtimes: Vec<Arc<BackendRuntime>>,
    /// Each adapter's inbound rate limiter, index for index.
    pub(crate) inbound: Vec<crate::limits::inbound::AdapterLimiters>,
    /// The OpenAPI document and the docs page of this plan, rendered when it was installed.
    pub published: Arc<crate::describe::Published>,
    /// Each route's metric labels, index for index.
    pub(crate) labels: Vec<Vec<crate::metrics::RouteLabels>>,
}

/// Shared by all requests. The served plan sits behind an atomic pointer: a reload swaps it
/// whole, and requests in flight finish on the plan they started with. The registry outlives
/// plans, so backends keep their runtime state across a swap.
pub struct AppState {
    pub served: ArcSwap<Served>,
    registry: Registry,
    inbound: crate::limits::inbound::Limiters,
    /// Answers of `cache:` routes; outlives plans (a changed route has other keys).
    pub(crate) cache: crate::cache::ResponseCache,
    pub settings: Settings,
    /// The outcome of the last reload, if there was one.
    last_reload: std::sync::Mutex<Option<crate::reload::ReloadStatus>>,
    pub(crate) metrics: crate::metrics::Metrics,
    admin_token: Option<crate::calls::AdminToken>,
}

impl AppState {
    pub fn new(plan: Plan, mut settings: Settings) -> Result<Arc<AppState>, String> {
        if let Some(log) = &settings.call_log {
            settings.observers.push(log.clone());
        }
        let admin_token = settings
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(crate::calls::AdminToken::new);
        let shared = match &settings.shared_state {
            Some(config) => Some(Arc::new(crate::state::SharedState::new(config)?)),
            None => None,
        };
        let registry = Registry::sharing(shared.clone());
        let runtimes = registry.attach(backends(&plan))?;
        let cache = crate::cache::ResponseCache::new(settings.cache_size, shared.clone());
        let inbound = crate::limits::inbound::Limiters::sharing(shared);
        let limiters = inbound.attach(&plan);
        crate::secrets::publish(crate::secrets::of_plan(&plan));
        let published = Arc::new(publish(&plan, &settings));
        Ok(Arc::new(AppState {
            served: ArcSwap::from_pointee(Served {
                labels: crate::metrics::RouteLabels::of_plan(&plan),
                plan,
                runtimes,
                inbound: limiters,
                published,
            }),
            registry,
            inbound,
            cache,
            settings,
            last_reload: std::sync::Mutex::default(),
            metrics: crate::metrics::Metrics::new(),
            admin_token,
        }))
    }

    /// The call log, when it is on.
    pub fn call_log(&self) -> Option<&crate::calls::CallLog> {
        self.settings.call_log.as_deref()
    }

    pub(crate) fn admin_token(&self) -> Option<&crate::calls::AdminToken> {
        self.admin_token.as_ref()
    }

    pub fn record_reload(&self, status: crate::reload::ReloadStatus) {
        self.metrics.reloaded(status.ok);
        if let Ok(mut last) = self.last_reload.lock() {
            *last = Some(status);
        }
    }

    /// Serves `plan` from now on; calls in flight finish on the plan they started with.
    pub fn install(&self, plan: Plan) -> Result<(), String> {
        let runtimes = self.registry.attach(backends(&plan))?;
        let inbound = self.inbound.attach(&plan);
        crate::secrets::publish(crate::secrets::of_plan(&plan));
        let published = Arc::new(publish(&plan, &self.settings));
        self.served.store(Arc::new(Served {
            labels: crate::metrics::RouteLabels::of_plan(&plan),
            plan,
            runtimes,
            inbound,
            published,
        }));
        Ok(())
    }
}

/// The OpenAPI document and docs page of `plan`, with examples from the settings' fixtures (cases
/// that do not load give no example; `ponte test` reports them). Mock mode answers calls no
/// fixture covers with a 404, so its document says so.
fn publish(plan: &Plan, settings: &Settings) -> crate::describe::Published {
    let cases = match &settings.examples {
        Some(dir) => crate::fixture::load(dir, plan).0,
        None => Vec::new(),
    };
    let mode = crate::describe::Mode {
        mock: matches!(settings.transport, Transport::Replay(_)),
    };
    crate::describe::Published::build(plan, &cases, mode)
}

/// Each adapter's name and backend settings, in the plan's order.
fn backends(plan: &Plan) -> impl ExactSizeIterator<Item = (&str, &BackendSettings)> {
    plan.adapters.iter().map(|a| (a.name.as_str(), &a.backend))
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_ponte/health", get(health))
        .route("/_ponte/ready", get(ready))
        .route("/", get(docs_page))
        .route("/_ponte/docs", get(docs_page))
        .route("/_ponte/openapi.json", get(openapi_document))
        .route("/_ponte/metrics", get(crate::metrics::scrape))
        .route("/_ponte/calls", get(crate::calls::endpoints::list))
        .route("/_ponte/calls/page", get(crate::calls::endpoints::page))
        .route_layer(axum::middleware::from_fn(request_id::layer))
        .route_service("/_ponte/mcp", crate::mcp::service(state.clone()))
        .fallback(facade::handle)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::layer,
        ))
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn ready(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    id: RequestId,
) -> Response {
    let served = state.served.load();
    let plan = &served.plan;
    if plan.adapters.is_empty() {
        return problem_response(Problem::of(Catalog::NotReady, "no adapter is loaded"), &id);
    }
    let last_reload = state.last_reload.lock().ok().and_then(|r| r.clone());
    Json(serde_json::json!({
        "status": "ready",
        "adapters": plan.adapters.len(),
        "routes": plan.route_count(),
        "version": plan.version,
        "backends": plan
            .adapters
            .iter()
            .zip(&served.runtimes)
            .filter_map(|(a, r)| Some((a.name.clone(), serde_json::json!({"breaker": r.breaker_state()?}))))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
        "last_reload": last_reload,
    }))
    .into_response()
}

/// The landing and docs page, rendered when the plan was installed.
async fn docs_page(axum::extract::State(state): axum::extract::State<Arc<AppState>>) -> Response {
    let published = state.served.load().published.clone();
    let mut response = published.page.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page runs only its own inline script and calls only this origin.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'",
        ),
    );
    response
}

/// The OpenAPI 3.1 document of the served adapters, rendered when the plan was installed.
async fn openapi_document(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> Response {
    let published = state.served.load().published.clone();
    let mut response = published.openapi.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Renders a problem as `application/problem+json`.
pub fn problem_response(mut problem: Problem, id: &RequestId) -> Response {
    problem.request_id = Some(id.0.clone());
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = serde_json::to_string(&problem).unwrap_or_default();
    // Details are built from backend replies and settings: neither may carry a secret out.
    let body = crate::secrets::scrub(&body).into_owned();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(seconds) = problem.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if !problem.allow().is_empty()
        && let Ok(v) = HeaderValue::from_str(&problem.allow().join(", "))
    {
        headers.insert(header::ALLOW, v);
    }
    if let Some(v) = problem
        .www_authenticate()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        headers.insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
