//! One pooled HTTP client per backend: deadlines per attempt, retries for idempotent routes,
//! a cap on the reply size. Errors never echo the backend URL (it may hold credentials).

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_REPLY: usize = 10 << 20;
/// Calls in flight to one backend. A SOAP server behind a facade is often a fragile one, and
/// every call in flight holds a connection and its buffers (memory with many callers).
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

#[derive(Debug, Clone, Copy)]
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
            reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(256)
                // Each attempt has its own deadline too; this only bounds a hanging connect.
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .no_proxy()
                // The adapter's URL is the backend: a redirect is answered as what it is (a
                // 502 naming the status), never followed with the adapter's headers to
                // wherever it points.
                .redirect(reqwest::redirect::Policy::none())
                // Retries are ponte's, per route (`backend.retry`, idempotent routes only).
                // reqwest's own would clone every request in case it is needed.
                .retry(reqwest::retry::never())
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        })
        .clone()
}

#[derive(Debug)]
pub struct HttpBackend {
    client: reqwest::Client,
    url: reqwest::Url,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub max_reply: usize,
    headers: HeaderMap,
    in_flight: tokio::sync::Semaphore,
    max_connections: usize,
}

/// A backend's answer, read whole (within the size cap).
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub elapsed: Duration,
    pub attempts: u32,
}

#[derive(Debug, PartialEq)]
pub enum SendError {
    /// Every connection stayed busy for the whole timeout: nothing was sent.
    Busy {
        limit: usize,
        waited: Duration,
    },
    Timeout(Duration),
    Unreachable(String),
    TooLarge(usize),
    Broken(String),
}

impl HttpBackend {
    pub fn new(
        url: reqwest::Url,
        timeout: Duration,
        retry: RetryPolicy,
        max_reply: usize,
        headers: HeaderMap,
        max_connections: usize,
    ) -> Result<HttpBackend, String> {
        Ok(HttpBackend {
            client: shared_client()?,
            url,
            timeout,
            retry,
            max_reply,
            headers,
            in_flight: tokio::sync::Semaphore::new(max_connections),
            max_connections,
        })
    }

    /// POSTs `body`; retries when `idempotent` and the backend gave no usable answer.
    pub async fn post(
        &self,
        body: Bytes,
        headers: &[(HeaderName, HeaderValue)],
        timeout: Option<Duration>,
        idempotent: bool,
    ) -> Result<Exchange, SendError> {
        let timeout = timeout.unwrap_or(self.timeout);
        let attempts = if idempotent {
            self.retry.attempts.max(1)
        } else {
            1
        };
        // One connection for all attempts. Waiting for it has its own deadline (the call's
        // timeout) and ends in `Busy`, not `Timeout`: the backend was never asked.
        let queued = Instant::now();
        // Usually a connection is free: no timer is set up for the wait then.
        let _permit = match self.in_flight.try_acquire() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout(timeout, self.in_flight.acquire()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => {
                    return Err(SendError::Unreachable(
                        "the backend is shutting down".into(),
                    ));
                }
                Err(_) => {
                    return Err(SendError::Busy {
                        limit: self.max_connections,
                        waited: queued.elapsed(),
                    });
                }
            },
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(body.clone(), headers, timeout).await;
            let retryable = match &result {
                Err(SendError::Timeout(_) | SendError::Unreachable(_)) => true,
                Ok(ex) => matches!(ex.status, 502..=504),
                Err(_) => false,
            };
            if !retryable || attempt >= attempts {
                return result.map(|mut ex| {
                    ex.elapsed = started.elapsed();
                    ex.attempts = attempt;
                    ex
                });
            }
            tokio::time::sleep(self.retry.backoff * attempt).await;
        }
    }

    async fn attempt(
        &self,
        body: Bytes,
        headers: &[(HeaderName, HeaderValue)],
        timeout: Duration,
    ) -> Result<Exchange, SendError> {
        let mut request = self.client.post(self.url.clone()).body(body);
        if !self.headers.is_empty() {
            request = request.headers(self.headers.clone());
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = match response.content_length() {
                Some(n) if n as usize > self.max_reply => {
                    return Err(SendError::TooLarge(self.max_reply));
                }
                // A declared length within the cap: read it whole (one chunk needs no copy).
                Some(_) => response.bytes().await.map_err(classify)?,
                // No length: read chunk by chunk, stopping at the cap.
                None => {
                    let mut buf = Vec::with_capacity(8192);
                    while let Some(chunk) = response.chunk().await.map_err(classify)? {
                        if buf.len() + chunk.len() > self.max_reply {
                            return Err(SendError::TooLarge(self.max_reply));
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Bytes::from(buf)
                }
            };
            if body.len() > self.max_reply {
                return Err(SendError::TooLarge(self.max_reply));
            }
            Ok(Exchange {
                status,
                content_type,
                body,
                elapsed: Duration::ZERO,
                attempts: 1,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Timeout(timeout)),
        }
    }
}

/// Describes a transport error by its cause, without the URL reqwest puts in its message.
fn classify(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout(Duration::ZERO);
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
    if e.is_connect() || e.is_request() && !e.is_body() {
        SendError::Unreachable(why)
    } else {
        SendError::Broken(why)
    }
}
