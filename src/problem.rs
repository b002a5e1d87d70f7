//! Errors answered to callers: RFC 9457 problem+json, never a stack trace or a backend's text
//! unless a rule maps it.
//!
//! Every situation ponte answers with an error is one `Catalog` entry: its status, `code`, title
//! and which headers it carries, in one place, so one situation always has one code and the docs
//! can list them all. Only a fault rule's answer (`Problem::mapped`) has a status and code chosen by
//! the adapter.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::faults::FaultAnswer;

/// The problems ponte itself answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    /// An input is missing or invalid (`errors` names each field).
    BadInput,
    /// The body is not JSON.
    MalformedJson,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the limit.
    BodyTooLarge,
    /// No such adapter or route, or the backend has no result (`not_found`).
    NotFound,
    /// The path exists for other methods (`Allow` lists them).
    MethodNotAllowed,
    /// The backend could not be reached.
    BackendUnreachable,
    /// The backend did not answer in time.
    BackendTimeout,
    /// Every connection to the backend stayed busy (`Retry-After`).
    BackendBusy,
    /// The backend said "not now" (429 or 503), with `Retry-After`.
    BackendUnavailable,
    /// The backend's circuit breaker is open (`Retry-After`): the call was not sent.
    CircuitOpen,
    /// The reply could not be read or does not fit the mapping.
    BadBackendReply,
    /// A SOAP fault, GraphQL error or XML error element that no rule maps.
    BackendFault,
    /// The backend refused ponte's own credentials (the caller is not at fault).
    BackendAuthFailed,
    /// No adapter is loaded.
    NotReady,
    /// The call carries no valid credential for the route (`WWW-Authenticate` names the scheme).
    Unauthorized,
    /// The credential is valid but does not allow this route.
    Forbidden,
    /// Over a rate limit: the caller's, or the backend's quota (`Retry-After`).
    RateLimited,
    /// The shared state (Redis) cannot be reached and is set to fail closed (`Retry-After`).
    StateUnavailable,
    /// The request body did not arrive within the body read timeout.
    RequestTimeout,
    /// The request target is longer than the limit.
    UriTooLong,
    /// The request headers are too many or too large.
    HeadersTooLarge,
    /// The client address holds too many connections already.
    TooManyConnections,
    /// The request could not be read (a broken body, a bad header).
    BadRequest,
}

impl Catalog {
    pub const ALL: [Catalog; 24] = [
        Catalog::BadInput,
        Catalog::MalformedJson,
        Catalog::UnsupportedMediaType,
        Catalog::BodyTooLarge,
        Catalog::NotFound,
        Catalog::MethodNotAllowed,
        Catalog::BackendUnreachable,
        Catalog::BackendTimeout,
        Catalog::BackendBusy,
        Catalog::BackendUnavailable,
        Catalog::CircuitOpen,
        Catalog::BadBackendReply,
        Catalog::BackendFault,
        Catalog::BackendAuthFailed,
        Catalog::NotReady,
        Catalog::Unauthorized,
        Catalog::Forbidden,
        Catalog::RateLimited,
        Catalog::StateUnavailable,
        Catalog::RequestTimeout,
        Catalog::UriTooLong,
        Catalog::HeadersTooLarge,
        Catalog::TooManyConnections,
        Catalog::BadRequest,
    ];

    /// Status, code and title.
    pub const fn entry(self) -> (u16, &'static str, &'static str) {
        match self {
            Catalog::BadInput => (400, "bad_input", "Bad input"),
            Catalog::MalformedJson => (400, "malformed_json", "Bad input"),
            Catalog::UnsupportedMediaType => {
                (415, "unsupported_media_type", "Unsupported media type")
            }
            Catalog::BodyTooLarge => (413, "body_too_large", "Body too large"),
            Catalog::NotFound => (404, "not_found", "Not found"),
            Catalog::MethodNotAllowed => (405, "method_not_allowed", "Method not allowed"),
            Catalog::BackendUnreachable => (502, "backend_unreachable", "Backend error"),
            Catalog::BackendTimeout => (504, "backend_timeout", "Backend timeout"),
            Catalog::BackendBusy => (503, "backend_busy", "Backend unavailable"),
            Catalog::BackendUnavailable => (503, "backend_unavailable", "Backend unavailable"),
            Catalog::CircuitOpen => (503, "backend_circuit_open", "Backend unavailable"),
            Catalog::BadBackendReply => (502, "bad_backend_reply", "Backend error"),
            Catalog::BackendFault => (502, "backend_fault", "Backend error"),
            Catalog::BackendAuthFailed => (502, "backend_auth_failed", "Backend error"),
            Catalog::NotReady => (503, "not_ready", "Not ready"),
            Catalog::Unauthorized => (401, "unauthorized", "Unauthorized"),
            Catalog::Forbidden => (403, "forbidden", "Forbidden"),
            Catalog::RateLimited => (429, "rate_limited", "Too many requests"),
            Catalog::StateUnavailable => (503, "state_unavailable", "Service unavailable"),
            Catalog::RequestTimeout => (408, "request_timeout", "Request timeout"),
            Catalog::UriTooLong => (414, "uri_too_long", "URI too long"),
            Catalog::HeadersTooLarge => (431, "headers_too_large", "Headers too large"),
            Catalog::TooManyConnections => (429, "too_many_connections", "Too many connections"),
            Catalog::BadRequest => (400, "bad_request", "Bad request"),
        }
    }

    pub const fn status(self) -> u16 {
        self.entry().0
    }

    pub const fn code(self) -> &'static str {
        self.entry().1
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    /// Stable machine-readable code: a catalog code, or a fault rule's `error`.
    pub code: Cow<'static, str>,
    title: &'static str,
    pub detail: String,
    pub request_id: Option<String>,
    /// What few problems carry, boxed so that a `Result<_, Problem>` stays small.
    more: Option<Box<More>>,
}

#[derive(Debug, Clone, Default)]
struct More {
    /// Extra members (e.g. `errors` for bad input).
    extra: Map<String, Value>,
    /// `Retry-After` seconds for 429/503.
    retry_after: Option<u64>,
    /// The `Allow` header of a 405.
    allow: Vec<&'static str>,
    /// The `WWW-Authenticate` header of a 401.
    www_authenticate: Option<String>,
}

impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "type")]
            kind: String,
            title: &'static str,
            status: u16,
            detail: &'a str,
            code: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            request_id: Option<&'a str>,
            #[serde(flatten)]
            extra: Option<&'a Map<String, Value>>,
        }
        Wire {
            kind: format!("urn:ponte:problem:{}", self.code),
            title: self.title,
            status: self.status,
            detail: &self.detail,
            code: &self.code,
            request_id: self.request_id.as_deref(),
            extra: self.more.as_ref().map(|m| &m.extra),
        }
        .serialize(serializer)
    }
}

impl Problem {
    /// A problem of the catalog.
    pub fn of(kind: Catalog, detail: impl Into<String>) -> Problem {
        let (status, code, title) = kind.entry();
        Problem {
            status,
            code: Cow::Borrowed(code),
            title,
            detail: detail.into(),
            request_id: None,
            more: None,
        }
    }

    /// What a fault rule answers: its status and code are the adapter's.
    pub fn mapped(answer: FaultAnswer) -> Problem {
        Problem {
            status: answer.status,
            code: Cow::Owned(answer.code),
            title: mapped_title(answer.status),
            detail: answer.detail,
            request_id: None,
            more: None,
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Problem {
        self.more
            .get_or_insert_default()
            .extra
            .insert(key.to_string(), value);
        self
    }

    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.more.as_ref().and_then(|m| m.extra.get(key))
    }

    /// `Retry-After` in seconds, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        self.more.as_ref().and_then(|m| m.retry_after)
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Problem {
        self.more.get_or_insert_default().retry_after = Some(seconds);
        self
    }

    /// The methods a 405 names in `Allow`.
    pub fn allow(&self) -> &[&'static str] {
        self.more.as_ref().map_or(&[], |m| &m.allow)
    }

    /// Inbound auth refused the call; `challenge` is the `WWW-Authenticate` value. The detail is
    /// the same whatever was wrong, so that it never hints at which part was right.
    pub fn unauthorized(challenge: String) -> Problem {
        let mut p = Problem::of(
            Catalog::Unauthorized,
            "the call does not carry valid credentials for this route",
        );
        p.more.get_or_insert_default().www_authenticate = Some(challenge);
        p
    }

    pub fn forbidden() -> Problem {
        Problem::of(
            Catalog::Forbidden,
            "the credentials are valid but do not allow this route",
        )
    }

    /// The `WWW-Authenticate` header of a 401.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.more
            .as_ref()
            .and_then(|m| m.www_authenticate.as_deref())
    }

    pub fn bad_input(errors: Value) -> Problem {
        let n = errors.as_array().map_or(0, Vec::len);
        let first = errors
            .get(0)
            .map(|e| {
                format!(
                    "{}: {}",
                    e["field"].as_str().unwrap_or_default(),
                    e["problem"].as_str().unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let detail = if n > 1 {
            format!("{first} (and {} more)", n - 1)
        } else {
            first
        };
        Problem::of(Catalog::BadInput, detail).with("errors", errors)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::of(Catalog::NotFound, detail)
    }

    pub fn method_not_allowed(method: &str, allow: Vec<&'static str>) -> Problem {
        let mut p = Problem::of(
            Catalog::MethodNotAllowed,
            format!("{method} is not allowed here; use {}", allow.join(" or ")),
        )
        .with("allowed", serde_json::json!(allow));
        p.more.get_or_insert_default().allow = allow;
        p
    }

    pub fn backend_unreachable(detail: impl Into<String>) -> Problem {
        Problem::of(Catalog::BackendUnreachable, detail)
    }

    /// The call's budget ran out; `attempts` were made within it.
    pub fn backend_timeout(budget: std::time::Duration, attempts: u32) -> Problem {
        Problem::of(
            Catalog::BackendTimeout,
            format!(
                "the backend did not answer within the call's budget of {} ms ({attempts} attempt(s))",
                budget.as_millis()
            ),
        )
    }

    /// The breaker is open: the backend failed repeatedly and is left alone for a while.
    pub fn circuit_open(wait: std::time::Duration) -> Problem {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        Problem::of(
            Catalog::CircuitOpen,
            format!(
                "the backend failed repeatedly; calls are paused for {seconds} s and were not sent"
            ),
        )
        .with_retry_after(seconds)
    }

    /// The backend answered 429 or 503 and no retry fitted in the budget.
    pub fn backend_unavailable(status: u16, retry_after: u64) -> Problem {
        Problem::of(
            Catalog::BackendUnavailable,
            format!(
                "the backend is not taking calls now (HTTP {status}); retry after {retry_after} s"
            ),
        )
        .with_retry_after(retry_after)
    }

    /// Every connection to the backend stayed busy for the call's whole timeout.
    pub fn backend_busy(limit: usize, waited: std::time::Duration) -> Problem {
        Problem::of(
            Catalog::BackendBusy,
            format!(
                "all {limit} connections to the backend stayed busy for {} ms; the call was not sent",
                waited.as_millis()
            ),
        )
        .with_retry_after(1)
    }

    pub fn bad_reply(detail: impl Into<String>) -> Problem {
        Problem::of(Catalog::BadBackendReply, detail)
    }
}

/// A backend's fault code as the caller may see it: only a plain name (a QName like
/// `soap:Server.Database` or a token like `BAD_USER_INPUT`: letters, digits, `_ . : -`, at most
/// 64 characters). Anything else is backend text that may carry internals; the log has it whole.
pub(crate) fn plain_code(code: &str) -> Option<&str> {
    let plain = (1..=64).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    plain.then_some(code)
}

impl Problem {
    /// A backend fault that no rule maps: `what` names it (`SOAP fault `Server``).
    pub fn unmapped_fault(what: impl std::fmt::Display, status: u16) -> Problem {
        Problem::of(
            Catalog::BackendFault,
            format!("the backend answered with {what} (HTTP {status}); no fault rule maps it"),
        )
    }
}

/// The title of an adapter-chosen status.
fn mapped_title(status: u16) -> &'static str {
    match status {
        400 => "Bad input",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        422 => "Rejected by the backend",
        429 => "Too many requests",
        502 => "Backend error",
        503 => "Backend unavailable",
        504 => "Backend timeout",
        s if s >= 500 => "Server error",
        _ => "Request failed",
    }
}
