//! The response cache (issue 11, part 5): GET routes with `cache:` keep their answers for `ttl`.
//!
//! A key is the adapter, the route, the route's fingerprint (a changed route never serves answers
//! of its old shape) and the decoded inputs, plus the `vary` headers. Concurrent misses of one
//! key make one backend call (moka's `try_get_with`); the others wait for it. Answers live in
//! this process, bounded in bytes; with shared state they are also written to Redis, where other
//! replicas find them. Problems are kept only when the route says `problems: true` (and then only
//! in this process).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName};
use serde_json::Value;

use crate::limits::now_ms;
use crate::problem::Problem;
use crate::state::SharedState;

/// Total bytes of cached answers, unless `serve --cache-size` says otherwise.
pub const DEFAULT_CACHE_SIZE: u64 = 64 << 20;

/// A route's `cache:`, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePolicy {
    pub ttl: Duration,
    pub vary: Vec<HeaderName>,
    pub problems: bool,
}

/// A kept answer and when it was made (wall clock, so replicas agree on its age).
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub answer: Result<Vec<u8>, Problem>,
    stored_at_ms: u64,
    ttl: Duration,
}

impl Kept {
    fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.stored_at_ms))
    }

    fn left(&self) -> Duration {
        self.ttl.saturating_sub(self.age())
    }

    /// `Age` and `Cache-Control: max-age` for the answer, in whole seconds.
    pub(crate) fn freshness(&self) -> Freshness {
        // Whole seconds that add up to the TTL, as a shared cache would count them.
        let age = self.age().as_secs();
        Freshness {
            age,
            max_age: self.ttl.as_secs().saturating_sub(age),
        }
    }

    /// Redis value: stored-at and TTL in milliseconds (8 bytes each), then the JSON body.
    fn encode(&self, body: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16 + body.len());
        bytes.extend_from_slice(&self.stored_at_ms.to_be_bytes());
        bytes.extend_from_slice(&(self.ttl.as_millis() as u64).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Kept> {
        let stored_at_ms = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let ttl = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
        Some(Kept {
            answer: Ok(bytes[16..].to_vec()),
            stored_at_ms,
            ttl: Duration::from_millis(ttl),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Freshness {
    pub age: u64,
    pub max_age: u64,
}

/// Each entry expires when its own TTL (counted from when it was made) runs out.
struct TimeLeft;

impl moka::Expiry<String, Arc<Kept>> for TimeLeft {
    fn expire_after_create(&self, _: &String, kept: &Arc<Kept>, _: Instant) -> Option<Duration> {
        Some(kept.left())
    }
}

pub(crate) struct ResponseCache {
    local: moka::future::Cache<String, Arc<Kept>>,
    shared: Option<Arc<SharedState>>,
}

/// Why an answer is not kept: it is passed on to every call that waited for it.
struct NotKept(Problem);

impl ResponseCache {
    pub(crate) fn new(max_bytes: u64, shared: Option<Arc<SharedState>>) -> ResponseCache {
        let local = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, kept: &Arc<Kept>| {
                let body = kept.answer.as_ref().map_or(512, Vec::len);
                u32::try_from(key.len() + body + 64).unwrap_or(u32::MAX)
            })
            .expire_after(TimeLeft)
            .build();
        ResponseCache { local, shared }
    }

    /// The answer under `key`: kept, found in the shared state, or made by `fetch` (once for
    /// all concurrent calls with that key). `Err` is a problem that was not kept.
    pub(crate) async fn answer<F>(
        &self,
        key: String,
        policy: &CachePolicy,
        fetch: F,
    ) -> Result<Arc<Kept>, Problem>
    where
        F: Future<Output = Result<Vec<u8>, Problem>>,
    {
        let shared = self.shared.as_deref();
        let shared_key = key.clone();
        let made = self
            .local
            .try_get_with(key, async move {
                if let Some(state) = shared {
                    match state.get(&shared_key).await {
                        Ok(Some(bytes)) => {
                            if let Some(kept) = Kept::decode(&bytes).filter(|k| !k.left().is_zero())
                            {
                                return Ok(Arc::new(kept));
                            }
                        }
                        Ok(None) => {}
                        Err(()) if state.fails_closed() => {
                            return Err(NotKept(crate::limits::state_unavailable()));
                        }
                        Err(()) => {}
                    }
                }
                let answer = match fetch.await {
                    Err(problem) if !policy.problems => return Err(NotKept(problem)),
                    answer => answer,
                };
                let kept = Kept {
                    answer,
                    stored_at_ms: now_ms(),
                    ttl: policy.ttl,
                };
                if let (Some(state), Ok(body)) = (shared, &kept.answer) {
                    state.set(&shared_key, &kept.encode(body), policy.ttl).await;
                }
                Ok(Arc::new(kept))
            })
            .await;
        made.map_err(|not_kept| not_kept.0.clone())
    }
}

/// The cache key of a call: adapter, route, the route's fingerprint, the decoded inputs and the
/// `vary` headers' values.
pub(crate) fn key(
    adapter: &str,
    route: &crate::plan::RoutePlan,
    policy: &CachePolicy,
    values: &[Option<Value>],
    headers: &HeaderMap,
) -> String {
    let inputs = serde_json::to_string(values).unwrap_or_default();
    let mut key = format!(
        "{adapter}/{}/{:016x}/{inputs}",
        route.name, route.fingerprint
    );
    for name in &policy.vary {
        key.push('\n');
        key.push_str(name.as_str());
        key.push('=');
        for value in headers.get_all(name) {
            key.push_str(&String::from_utf8_lossy(value.as_bytes()));
            key.push(',');
        }
    }
    key
}

/// Checks a route's `cache:`: GET routes only, a TTL of at least a second, header names.
pub(crate) fn compile_policy(
    config: &crate::config::model::CacheConfig,
    method: crate::config::model::HttpMethod,
    errors: &mut crate::diagnostic::Diagnostics,
) -> Option<CachePolicy> {
    use crate::diagnostic::Diagnostic;
    if method != crate::config::model::HttpMethod::Get {
        errors.push(
            Diagnostic::error(config.ttl.span, "`cache` is for GET routes only")
                .with_help("answers of calls that change something are never served again"),
        );
        return None;
    }
    if config.ttl.value.0 < Duration::from_secs(1) {
        errors.push(Diagnostic::error(
            config.ttl.span,
            "a cache `ttl` must be at least 1s",
        ));
        return None;
    }
    let mut vary = Vec::new();
    for name in &config.vary {
        match crate::config::header_name(name) {
            Ok(header) => vary.push(header),
            Err(error) => errors.push(error),
        }
    }
    Some(CachePolicy {
        ttl: config.ttl.value.0,
        vary,
        problems: config.problems,
    })
}

/// FNV-1a over the parts: the same settings give the same number in every replica and build.
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}
