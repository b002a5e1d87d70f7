//! Sending a request to a backend: deadlines per attempt, retries for idempotent routes, a cap on
//! the reply size, a bound on calls in flight. Errors never echo the backend URL (it may hold
//! credentials).
//!
//! `BackendSettings` is plain data from the plan; `BackendRuntime` holds what must outlive a plan
//! (the connection limit, and with it the calls waiting for a connection): it lives in the
//! registry (`super::registry`), so a reload does not reset it.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use bytes::Bytes;

use super::auth::connection::Connection;
use super::auth::{AuthError, Credentials, OutboundAuth};
use super::breaker::{Breaker, BreakerSettings};
use crate::kind::{BackendReply, BackendRequest};
use crate::limits::outbound::Refused;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_REPLY: usize = 10 << 20;
/// Calls in flight to one backend. A SOAP server behind a facade is often a fragile one, and
/// every call in flight holds a connection and its buffers (memory with many callers).
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 1,
            backoff: Duration::from_millis(200),
        }
    }
}

/// One client for the whole process. Its connection pools are kept per host, so every backend
/// still has its own pooled keep-alive connections; building a client per adapter instead loads
/// the TLS root store each time (most of the startup time with many adapters).
fn shared_client() -> Result<reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            client_builder()
                .no_proxy()
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        })
        .clone()
}

/// The settings every backend client has; a backend with its own TLS or proxy settings
/// (`backend.tls`, `backend.proxy`) gets a client of its own built from these.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        // Each attempt has its own deadline too; this only bounds a hanging connect.
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        // The adapter's URL is the backend: a redirect is answered as what it is (a
        // 502 naming the status), never followed with the adapter's headers to
        // wherever it points.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are ponte's, per route (`backend.retry`, idempotent routes only).
        // reqwest's own would clone every request in case it is needed.
        .retry(reqwest::retry::never())
}

/// Where and how one adapter's calls are sent: compiled once, immutable.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSettings {
    pub url: reqwest::Url,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub max_reply: usize,
    pub headers: HeaderMap,
    pub max_connections: usize,
    pub breaker: Option<BreakerSettings>,
    /// How calls sign in (`backend.auth`).
    pub auth: Option<OutboundAuth>,
    /// TLS and proxy settings (`backend.tls`, `backend.proxy`).
    pub connection: Connection,
    /// The backend's quota (`backend.rate_limit`).
    pub rate_limit: Option<crate::limits::OutboundQuota>,
}

/// The live state of one backend: the client, the calls in flight, the breaker, the OAuth token.
#[derive(Debug)]
pub struct BackendRuntime {
    client: reqwest::Client,
    in_flight: tokio::sync::Semaphore,
    max_connections: usize,
    breaker: Option<Breaker>,
    /// What the client and credentials were made for (a reload that changes them makes a new
    /// runtime).
    auth: Option<OutboundAuth>,
    connection: Connection,
    credentials: Credentials,
    /// Counts calls against the backend's quota (set by the registry, which knows where the
    /// counters live).
    limiter: Option<crate::limits::outbound::OutboundLimiter>,
}

#[derive(Debug, PartialEq)]
pub enum SendError {
    /// Over the backend's quota, and no place to wait for it: nothing was sent.
    RateLimited(Duration),
    /// The shared state (Redis) is down and fails closed: nothing was sent.
    StateUnavailable,
    /// The breaker is open: nothing was sent; it probes again after this.
    CircuitOpen(Duration),
    /// Every connection stayed busy for the whole budget: nothing was sent.
    Busy {
        limit: usize,
        waited: Duration,
    },
    /// The budget ran out before an answer came.
    Timeout,
    /// No connection could be made: the request was never sent.
    NotConnected(String),
    /// The request failed on its way; it may have reached the backend.
    Unreachable(String),
    TooLarge(usize),
    Broken(String),
    /// ponte could not sign in (the OAuth token endpoint failed): nothing was sent.
    Auth(String),
}

/// What sending gave: the last attempt's reply or error, the time all attempts took, and how
/// many there were.
#[derive(Debug)]
pub struct Attempts {
    pub reply: Result<BackendReply, SendError>,
    pub elapsed: Duration,
    pub attempts: u32,
}

/// Declared reply lengths up to this are read in one piece; larger ones chunk by chunk.
const WHOLE_READ_LIMIT: u64 = 64 * 1024;

/// Reads a reply body chunk by chunk into one buffer that starts at `expected` bytes and never
/// grows past `max_reply`: a reply refused at the cap has cost at most the cap, not the doubled
/// capacity a growing `Vec` would reach.
async fn read_capped(
    response: &mut reqwest::Response,
    expected: usize,
    max_reply: usize,
) -> Result<Bytes, SendError> {
    let mut buf: Vec<u8> = Vec::with_capacity(expected.min(max_reply));
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        let needed = buf.len() + chunk.len();
        if needed > max_reply {
            return Err(SendError::TooLarge(max_reply));
        }
        if needed > buf.capacity() {
            let target = (buf.capacity() * 2).max(needed).min(max_reply);
            buf.reserve_exact(target - buf.len());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Statuses that say "try again later": retried for idempotent routes.
fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl BackendRuntime {
    pub fn new(settings: &BackendSettings, name: &str) -> Result<BackendRuntime, String> {
        let client = if settings.connection.is_default() {
            shared_client()?
        } else {
            settings.connection.client(client_builder())?
        };
        Ok(BackendRuntime {
            client,
            in_flight: tokio::sync::Semaphore::new(settings.max_connections),
            max_connections: settings.max_connections,
            breaker: settings.breaker.map(|b| Breaker::new(b, name)),
            auth: settings.auth.clone(),
            connection: settings.connection.clone(),
            credentials: Credentials::default(),
            limiter: None,
        })
    }

    /// The runtime with a limiter for the backend's quota.
    pub(crate) fn limited(
        mut self,
        limiter: Option<crate::limits::outbound::OutboundLimiter>,
    ) -> Self {
        self.limiter = limiter;
        self
    }

    /// Whether this runtime still fits `settings` after a reload (else a new one is made).
    pub fn fits(&self, settings: &BackendSettings) -> bool {
        self.max_connections == settings.max_connections
            && self.breaker.as_ref().map(Breaker::settings) == settings.breaker
            && self.auth == settings.auth
            && self.connection == settings.connection
            && self.limiter.as_ref().map(|l| l.settings()) == settings.rate_limit.as_ref()
    }

    /// The breaker's state (`closed`, `open`, `half_open`), when the backend has one.
    pub fn breaker_state(&self) -> Option<&'static str> {
        self.breaker.as_ref().map(Breaker::state)
    }

    /// `send`, through the breaker when there is one: an open breaker answers at once.
    pub async fn send_guarded(
        &self,
        settings: &BackendSettings,
        request: &BackendRequest,
        budget: Duration,
        idempotent: bool,
    ) -> Attempts {
        // The quota first: a call it holds back was never sent, so the breaker does not see it;
        // the time spent waiting for a window comes out of the call's budget.
        let budget = match &self.limiter {
            Some(limiter) => {
                let started = Instant::now();
                if let Err(refused) = limiter.admit(started + budget).await {
                    let reply = Err(match refused {
                        Refused::OverQuota(wait) => SendError::RateLimited(wait),
                        Refused::StateUnavailable => SendError::StateUnavailable,
                    });
                    let elapsed = started.elapsed();
                    return Attempts {
                        reply,
                        elapsed,
                        attempts: 0,
                    };
                }
                budget.saturating_sub(started.elapsed())
            }
            None => budget,
        };
        let Some(breaker) = &self.breaker else {
            return self.send(settings, request, budget, idempotent).await;
        };
        if let Err(wait) = breaker.admit() {
            return Attempts {
                reply: Err(SendError::CircuitOpen(wait)),
                elapsed: Duration::ZERO,
                attempts: 0,
            };
        }
        let sent = self.send(settings, request, budget, idempotent).await;
        // A call that never got a connection says nothing about the backend.
        let failed = match &sent.reply {
            Ok(reply) => reply.status >= 500,
            Err(SendError::Busy { .. }) => return sent,
            Err(_) => true,
        };
        breaker.record(!failed);
        sent
    }

    /// Sends `request` within `budget`, the whole call's: waiting for a connection, every
    /// attempt and every pause between them. Each attempt gets what is left. An idempotent call
    /// is retried on no answer or a 429/502/503/504; any call is retried when no connection could
    /// be made (it never reached the backend).
    async fn send(
        &self,
        settings: &BackendSettings,
        request: &BackendRequest,
        budget: Duration,
        idempotent: bool,
    ) -> Attempts {
        let started = Instant::now();
        let deadline = started + budget;
        let done = |reply, attempts| Attempts {
            reply,
            elapsed: started.elapsed(),
            attempts,
        };
        let url = match target_url(&settings.url, &request.target) {
            Ok(url) => url,
            Err(e) => return done(Err(e), 0),
        };
        // One connection for all attempts. Waiting for it ends in `Busy`, not `Timeout`: the
        // backend was never asked. Usually one is free: no timer is set up then.
        let _permit = match self.in_flight.try_acquire() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout(budget, self.in_flight.acquire()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => {
                    let closed = SendError::NotConnected("the backend is shutting down".into());
                    return done(Err(closed), 0);
                }
                Err(_) => {
                    let busy = SendError::Busy {
                        limit: self.max_connections,
                        waited: started.elapsed(),
                    };
                    return done(Err(busy), 0);
                }
            },
        };
        let attempts = settings.retry.attempts.max(1);
        let mut attempt = 0;
        // An OAuth token the backend refuses is replaced and the call sent again, once.
        let mut refreshed = 0;
        loop {
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let (result, sent_at) = self.attempt(settings, &url, request, left).await;
            if refreshed == 0
                && matches!(&result, Ok(reply) if reply.status == 401)
                && self
                    .credentials
                    .token_rejected(settings.auth.as_ref(), sent_at)
            {
                refreshed = 1;
                continue;
            }
            let retryable = match &result {
                Err(SendError::NotConnected(_)) => true,
                Err(SendError::Timeout | SendError::Unreachable(_)) => idempotent,
                Ok(reply) => idempotent && retryable_status(reply.status),
                Err(_) => false,
            };
            if !retryable || attempt >= attempts + refreshed {
                return done(result, attempt);
            }
            // The backend's own Retry-After wins over the backoff; a pause that would not end
            // before the deadline is not taken: the caller is answered now.
            let hint = result.as_ref().ok().and_then(|r| r.retry_after);
            let pause = hint.unwrap_or_else(|| full_jitter(settings.retry.backoff, attempt));
            if Instant::now() + pause >= deadline {
                return done(result, attempt);
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// One attempt within `timeout` (signing in included), and when it was signed and sent.
    async fn attempt(
        &self,
        settings: &BackendSettings,
        url: &reqwest::Url,
        request: &BackendRequest,
        timeout: Duration,
    ) -> (Result<BackendReply, SendError>, Instant) {
        let mut sent_at = Instant::now();
        let max_reply = settings.max_reply;
        let auth = settings.auth.as_ref();
        let exchange = async {
            let signed = self
                .credentials
                .sign(auth, &self.client, url, request, timeout)
                .await
                .map_err(|e| match e {
                    AuthError::Timeout => SendError::Timeout,
                    AuthError::Failed(why) => SendError::Auth(why),
                })?;
            let mut builder = self
                .client
                .request(request.method.clone(), signed.url)
                .body(signed.body);
            if !settings.headers.is_empty() {
                builder = builder.headers(settings.headers.clone());
            }
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if let Some((name, value)) = signed.header {
                builder = builder.header(name, value);
            }
            sent_at = Instant::now();
            let mut response = builder.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after_seconds);
            let body = match response.content_length() {
                Some(n) if n as usize > max_reply => {
                    return Err(SendError::TooLarge(max_reply));
                }
                // A small declared length: read it whole (one chunk needs no copy).
                Some(n) if n <= WHOLE_READ_LIMIT => response.bytes().await.map_err(classify)?,
                // A large one: into a buffer of exactly that size, so the reply costs its size
                // once (collecting the chunks first and copying them would cost it twice).
                Some(n) => read_capped(&mut response, n as usize, max_reply).await?,
                // No length: grow as chunks come, never past the cap.
                None => read_capped(&mut response, 8192, max_reply).await?,
            };
            if body.len() > max_reply {
                return Err(SendError::TooLarge(max_reply));
            }
            Ok(BackendReply {
                status,
                content_type,
                body,
                retry_after,
            })
        };
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Timeout),
        };
        (result, sent_at)
    }
}

/// The backend URL with a route's path and query appended (XML over HTTP), or as it is. The
/// target is built from percent-encoded parts, so it cannot change the host.
fn target_url(base: &reqwest::Url, target: &str) -> Result<reqwest::Url, SendError> {
    if target.is_empty() {
        return Ok(base.clone());
    }
    let joined = format!("{}{target}", base.as_str().trim_end_matches('/'));
    reqwest::Url::parse(&joined)
        .ok()
        .filter(|u| u.host() == base.host() && u.port() == base.port())
        .ok_or_else(|| SendError::NotConnected("the request path is not a valid URL".into()))
}

/// `Retry-After: 120` (seconds). An HTTP date is rare from APIs and is not followed.
fn retry_after_seconds(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A random pause up to `base` x 2^(attempt-1): retries of many callers spread out instead of
/// arriving together (exponential backoff with full jitter).
fn full_jitter(base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(1 << (attempt - 1).min(16));
    ceiling.mul_f64(random_unit())
}

/// A number in [0, 1) that differs between calls; not for anything secret.
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Describes a transport error by its cause, without the URL reqwest puts in its message.
fn classify(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout;
    }
    if let Some(tls) = super::auth::connection::tls_failure(&e) {
        return SendError::NotConnected(tls.to_string());
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut io_kind = None;
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        cause = c.source();
    }
    let why = match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
        Some(std::io::ErrorKind::ConnectionReset) => "connection reset".to_string(),
        Some(std::io::ErrorKind::TimedOut) => "connection timed out".to_string(),
        Some(kind) => kind.to_string(),
        None if e.is_connect() => "could not connect".to_string(),
        None => "the connection failed".to_string(),
    };
    if e.is_connect() {
        SendError::NotConnected(why)
    } else if e.is_request() && !e.is_body() {
        SendError::Unreachable(why)
    } else {
        SendError::Broken(why)
    }
}
