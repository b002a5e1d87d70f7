//! The call log (`serve --call-log`, on in `--mock`): the last calls of each route with both
//! sides of the exchange, for the people who wire flows and cannot read ponte's log.
//!
//! Each finished call becomes one entry, masked (`mask`) and serialised once when it is kept, so
//! the store holds text of a bounded size: at most `per_route` entries per route, each at most
//! about `4 x MAX_PART` bytes. Off, nothing of this runs: the facade has no observer to call.

pub mod command;
pub mod endpoints;
mod entry;
mod mask;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::{CallObserver, FinishedCall};

pub use endpoints::AdminToken;

/// Entries kept per route unless `--call-log-size` says otherwise.
pub const DEFAULT_PER_ROUTE: usize = 50;

/// The longest body text (facade or backend, each side) kept in an entry; longer is cut and
/// marked `truncated`.
pub const MAX_PART: usize = 16 * 1024;

/// One kept call: what the list filters on, and the entry as JSON text.
struct Kept {
    seq: u64,
    adapter: String,
    route: String,
    status: u16,
    json: String,
}

/// The last calls of each route.
pub struct CallLog {
    per_route: usize,
    next: AtomicU64,
    routes: Mutex<HashMap<(String, String), VecDeque<Kept>>>,
}

/// Which calls to list (`?adapter=&route=&status=`).
#[derive(Default)]
pub struct Filter {
    pub adapter: Option<String>,
    pub route: Option<String>,
    pub status: Option<u16>,
}

impl Filter {
    /// From a query string; an unknown parameter or a status that is not a number is ignored.
    pub fn of_query(query: &str) -> Filter {
        let mut filter = Filter::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "adapter" if !v.is_empty() => filter.adapter = Some(v.into_owned()),
                "route" if !v.is_empty() => filter.route = Some(v.into_owned()),
                "status" => filter.status = v.parse().ok(),
                _ => {}
            }
        }
        filter
    }
}

impl CallLog {
    pub fn new(per_route: usize) -> CallLog {
        CallLog {
            per_route: per_route.max(1),
            next: AtomicU64::new(1),
            routes: Mutex::default(),
        }
    }

    fn keep(&self, adapter: &str, route: &str, status: u16, json: String) {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let kept = routes
            .entry((adapter.to_string(), route.to_string()))
            .or_default();
        while kept.len() >= self.per_route {
            kept.pop_front();
        }
        kept.push_back(Kept {
            seq,
            adapter: adapter.to_string(),
            route: route.to_string(),
            status,
            json,
        });
    }

    /// The kept calls that pass `filter`, newest first, as a JSON array.
    pub fn list(&self, filter: &Filter) -> String {
        let Ok(routes) = self.routes.lock() else {
            return "[]".into();
        };
        let mut picked: Vec<&Kept> = routes
            .values()
            .flatten()
            .filter(|k| filter.adapter.as_deref().is_none_or(|a| a == k.adapter))
            .filter(|k| filter.route.as_deref().is_none_or(|r| r == k.route))
            .filter(|k| filter.status.is_none_or(|s| s == k.status))
            .collect();
        picked.sort_by_key(|k| std::cmp::Reverse(k.seq));
        let mut out =
            String::with_capacity(2 + picked.iter().map(|k| k.json.len() + 1).sum::<usize>());
        out.push('[');
        for (i, k) in picked.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&k.json);
        }
        out.push(']');
        out
    }

    /// How many entries are kept and their bytes (for the memory bound and its test).
    pub fn size(&self) -> (usize, usize) {
        self.routes.lock().map_or((0, 0), |routes| {
            routes
                .values()
                .flatten()
                .fold((0, 0), |(n, bytes), k| (n + 1, bytes + k.json.len()))
        })
    }
}

impl CallObserver for CallLog {
    fn observe(&self, call: &FinishedCall) {
        let status = entry::answer_status(call);
        let json = entry::render(call, status);
        self.keep(call.adapter, &call.route.name, status, json);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::HeaderMap;

    use super::*;
    use crate::engine::Outcome;
    use crate::kind::BackendReply;

    fn shop() -> crate::plan::Plan {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/observe-adapters");
        let env = |name: &str| Some(format!("http://127.0.0.1:9/{name}"));
        crate::plan::load_dir(&dir, &env)
            .plan
            .expect("the shop loads")
    }

    #[test]
    fn memory_stays_bounded_after_100000_calls() {
        let plan = shop();
        let adapter = &plan.adapters[0];
        let log = CallLog::new(DEFAULT_PER_ROUTE);
        let headers = HeaderMap::new();
        let small = format!(
            "<Envelope><Body><Price>1</Price><Note>{}</Note></Body></Envelope>",
            "n".repeat(2000)
        );
        let huge = format!(
            "<Envelope><Body><Note>{}</Note></Body></Envelope>",
            "h".repeat(1 << 20)
        );
        for n in 0..100_000usize {
            let route = &adapter.routes[n % adapter.routes.len()];
            let body = if n % 10_000 == 0 { &huge } else { &small };
            let outcome = Outcome {
                result: Ok(b"{\"price\":1}".to_vec()),
                backend_time: Some(Duration::from_millis(3)),
                sent: None,
                reply: Some(BackendReply {
                    status: 200,
                    content_type: Some("text/xml".into()),
                    body: body.clone().into(),
                    retry_after: None,
                }),
                fixture: None,
                attempts: 1,
            };
            let path = format!("/shop/x/{n}");
            log.observe(&FinishedCall {
                adapter: &adapter.name,
                route,
                method: "GET",
                path_and_query: &path,
                headers: &headers,
                body: None,
                values: &[],
                outcome: &outcome,
                request_id: "r",
                plan: adapter,
                elapsed: Duration::from_millis(4),
            });
        }
        let (entries, bytes) = log.size();
        assert_eq!(entries, adapter.routes.len() * DEFAULT_PER_ROUTE);
        // Each entry: at most a cut reply and a small rest.
        assert!(
            bytes <= entries * (MAX_PART + 4096),
            "{bytes} bytes in {entries} entries"
        );
        let newest: serde_json::Value =
            serde_json::from_str(&log.list(&Filter::default())).unwrap();
        assert_eq!(newest[0]["request"]["path"], "/shop/x/99999");
    }
}
