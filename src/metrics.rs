//! Prometheus metrics at `/_ponte/metrics`: what the facades answered, how the backends did, and
//! the state of breakers, caches, limits and reloads.
//!
//! `prometheus-client` gives each server its own registry (no process-global recorder: two
//! servers in one process, as in the tests, count apart) and typed label sets. Labels come only
//! from the plan (adapter and route names, a status the route can answer, a fixed error kind),
//! never from what a caller sends, so the number of series stays bounded. Counters and gauges
//! are atomics; the names of each route are shared `Arc<str>`s made once per plan, so counting a
//! call allocates nothing.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::problem::Problem;

/// The names of one route as metric labels, made once per plan.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub adapter: Arc<str>,
    pub route: Arc<str>,
}

impl RouteLabels {
    /// Every route's labels, adapter by adapter and route by route (the plan's indices).
    pub fn of_plan(plan: &crate::plan::Plan) -> Vec<Vec<RouteLabels>> {
        plan.adapters
            .iter()
            .map(|a| {
                let adapter: Arc<str> = Arc::from(a.name.as_str());
                a.routes
                    .iter()
                    .map(|r| RouteLabels {
                        adapter: adapter.clone(),
                        route: Arc::from(r.name.as_str()),
                    })
                    .collect()
            })
            .collect()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    adapter: Arc<str>,
    route: Arc<str>,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    adapter: Arc<str>,
    route: Arc<str>,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AdapterLabels {
    adapter: Arc<str>,
}

type Histograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Latency buckets from 1 ms to about 33 s (doubling).
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<StatusLabels, Counter>,
    request_seconds: Histograms,
    backend_seconds: Histograms,
    backend_errors: Family<ErrorLabels, Counter>,
    retries: Family<RouteLabels, Counter>,
    cache_hits: Family<RouteLabels, Counter>,
    cache_misses: Family<RouteLabels, Counter>,
    rate_limited: Family<RouteLabels, Counter>,
    breaker: Family<AdapterLabels, Gauge>,
    reloads: Counter,
    reload_failures: Counter,
    in_flight: Gauge,
    /// The labels of calls that matched no route.
    unmatched: RouteLabels,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            backend_seconds: Family::new_with_constructor(latency_histogram),
            backend_errors: Family::default(),
            retries: Family::default(),
            cache_hits: Family::default(),
            cache_misses: Family::default(),
            rate_limited: Family::default(),
            breaker: Family::default(),
            reloads: Counter::default(),
            reload_failures: Counter::default(),
            in_flight: Gauge::default(),
            unmatched: RouteLabels {
                adapter: Arc::from(""),
                route: Arc::from(""),
            },
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "ponte_requests",
            "Facade calls answered, by adapter, route and status",
            m.requests.clone(),
        );
        r.register_with_unit(
            "ponte_request_duration",
            "Time to answer a facade call",
            Unit::Seconds,
            m.request_seconds.clone(),
        );
        r.register_with_unit(
            "ponte_backend_duration",
            "Time spent on the backend (all attempts) per call sent",
            Unit::Seconds,
            m.backend_seconds.clone(),
        );
        r.register(
            "ponte_backend_errors",
            "Backend calls that failed, by kind: fault, timeout, connect, invalid_reply, unavailable, busy, circuit_open, auth",
            m.backend_errors.clone(),
        );
        r.register(
            "ponte_backend_retries",
            "Backend attempts beyond the first",
            m.retries.clone(),
        );
        r.register(
            "ponte_cache_hits",
            "Answers of cache: routes served without calling the backend",
            m.cache_hits.clone(),
        );
        r.register(
            "ponte_cache_misses",
            "Answers of cache: routes that called the backend",
            m.cache_misses.clone(),
        );
        r.register(
            "ponte_rate_limited",
            "Calls refused with 429 rate_limited (the caller's limit or the backend's quota)",
            m.rate_limited.clone(),
        );
        r.register(
            "ponte_breaker_state",
            "Circuit breaker per backend: 0 closed, 1 half-open, 2 open",
            m.breaker.clone(),
        );
        r.register(
            "ponte_reloads",
            "Adapter reloads that swapped a new set in",
            m.reloads.clone(),
        );
        r.register(
            "ponte_reload_failures",
            "Adapter reloads refused (the previous set kept serving)",
            m.reload_failures.clone(),
        );
        r.register(
            "ponte_requests_in_flight",
            "Facade calls being answered now",
            m.in_flight.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a call in flight until the guard is dropped (also when the call is cancelled).
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// A facade call answered with `status` after `elapsed`; `route` is `None` when no route
    /// matched.
    pub fn answered(
        &self,
        route: Option<&RouteLabels>,
        status: u16,
        elapsed: Duration,
        rate_limited: bool,
    ) {
        let route = route.unwrap_or(&self.unmatched);
        self.requests
            .get_or_create(&StatusLabels {
                adapter: route.adapter.clone(),
                route: route.route.clone(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(route)
            .observe(elapsed.as_secs_f64());
        if rate_limited {
            self.rate_limited.get_or_create(route).inc();
        }
    }

    /// A call the engine made: its time on the backend, retries and error kind.
    pub fn backend_call(
        &self,
        route: &RouteLabels,
        backend_time: Option<Duration>,
        attempts: u32,
        result: &Result<Vec<u8>, Problem>,
        replied: bool,
    ) {
        if let Some(t) = backend_time {
            self.backend_seconds
                .get_or_create(route)
                .observe(t.as_secs_f64());
        }
        if attempts > 1 {
            self.retries
                .get_or_create(route)
                .inc_by(u64::from(attempts - 1));
        }
        if let Err(problem) = result
            && let Some(kind) = error_kind(problem, replied)
        {
            self.backend_errors
                .get_or_create(&ErrorLabels {
                    adapter: route.adapter.clone(),
                    route: route.route.clone(),
                    kind,
                })
                .inc();
        }
    }

    /// An answer of a `cache:` route: kept (`hit`) or fetched from the backend.
    pub fn cache(&self, route: &RouteLabels, hit: bool) {
        let family = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        family.get_or_create(route).inc();
    }

    pub fn reloaded(&self, ok: bool) {
        if ok {
            self.reloads.inc();
        } else {
            self.reload_failures.inc();
        }
    }

    /// The text exposition, with each backend's breaker state read now.
    pub fn render<'a>(
        &self,
        breakers: impl Iterator<Item = (&'a str, Option<&'static str>)>,
    ) -> String {
        for (adapter, state) in breakers {
            let Some(state) = state else { continue };
            let value = match state {
                "open" => 2,
                "half_open" => 1,
                _ => 0,
            };
            self.breaker
                .get_or_create(&AdapterLabels {
                    adapter: Arc::from(adapter),
                })
                .set(value);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// `GET /_ponte/metrics`: the OpenMetrics text format, which Prometheus scrapes (it is the
/// Prometheus text format with `# EOF` at the end and unit metadata).
pub async fn scrape(
    axum::extract::State(state): axum::extract::State<Arc<crate::server::AppState>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let served = state.served.load();
    let breakers = served
        .plan
        .adapters
        .iter()
        .zip(&served.runtimes)
        .map(|(a, r)| (a.name.as_str(), r.breaker_state()));
    let text = state.metrics.render(breakers);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Keeps a call counted as in flight while it lives.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// What kind of backend failure a problem is; `None` for answers that are not backend errors
/// (bad input, not found, a refused caller). `replied`: the backend sent a reply.
fn error_kind(problem: &Problem, replied: bool) -> Option<&'static str> {
    use crate::problem::Catalog;
    let kind = match &*problem.code {
        c if c == Catalog::BackendFault.code() => "fault",
        c if c == Catalog::BackendTimeout.code() => "timeout",
        c if c == Catalog::BackendUnreachable.code() => "connect",
        c if c == Catalog::BadBackendReply.code() => "invalid_reply",
        c if c == Catalog::BackendUnavailable.code() => "unavailable",
        c if c == Catalog::BackendBusy.code() => "busy",
        c if c == Catalog::CircuitOpen.code() => "circuit_open",
        c if c == Catalog::BackendAuthFailed.code() => "auth",
        // A fault rule's own code: the backend answered with a fault the adapter maps.
        c if replied && !Catalog::ALL.iter().any(|k| k.code() == c) => "fault",
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_and_units() {
        let m = Metrics::new();
        let route = RouteLabels {
            adapter: Arc::from("calc"),
            route: Arc::from("add"),
        };
        m.answered(Some(&route), 200, Duration::from_millis(3), false);
        m.backend_call(
            &route,
            Some(Duration::from_millis(2)),
            3,
            &Err(Problem::backend_timeout(Duration::from_secs(1), 3)),
            false,
        );
        let text = m.render(std::iter::once(("calc", Some("open"))));
        for line in [
            r#"ponte_requests_total{adapter="calc",route="add",status="200"} 1"#,
            r#"ponte_request_duration_seconds_count{adapter="calc",route="add"} 1"#,
            r#"ponte_backend_retries_total{adapter="calc",route="add"} 2"#,
            r#"ponte_backend_errors_total{adapter="calc",route="add",kind="timeout"} 1"#,
            r#"ponte_breaker_state{adapter="calc"} 2"#,
            "ponte_requests_in_flight 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
