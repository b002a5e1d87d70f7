//! Errors answered to callers: RFC 9457 problem+json, never a stack trace or a backend's text
//! unless a rule maps it.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    /// Stable machine-readable code (`bad_input`, `backend_timeout`, a fault rule's `error`).
    pub code: String,
    pub detail: String,
    pub request_id: Option<String>,
    /// Extra members (e.g. `errors` for bad input, `allowed` for 405).
    pub extra: Option<Box<Map<String, Value>>>,
    /// `Retry-After` seconds for 429/503.
    pub retry_after: Option<u64>,
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
            title: title(self.status),
            status: self.status,
            detail: &self.detail,
            code: &self.code,
            request_id: self.request_id.as_deref(),
            extra: self.extra.as_deref(),
        }
        .serialize(serializer)
    }
}

impl Problem {
    pub fn new(status: u16, code: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            code: code.into(),
            detail: detail.into(),
            request_id: None,
            extra: None,
            retry_after: None,
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Problem {
        self.extra
            .get_or_insert_default()
            .insert(key.to_string(), value);
        self
    }

    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.extra.as_ref().and_then(|m| m.get(key))
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
        Problem::new(400, "bad_input", detail).with("errors", errors)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(404, "not_found", detail)
    }

    pub fn backend_unreachable(detail: impl Into<String>) -> Problem {
        Problem::new(502, "backend_unreachable", detail)
    }

    pub fn backend_timeout(after: std::time::Duration) -> Problem {
        Problem::new(
            504,
            "backend_timeout",
            format!("the backend did not answer within {} ms", after.as_millis()),
        )
    }

    /// Every connection to the backend stayed busy for the call's whole timeout.
    pub fn backend_busy(limit: usize, waited: std::time::Duration) -> Problem {
        let mut p = Problem::new(
            503,
            "backend_busy",
            format!(
                "all {limit} connections to the backend stayed busy for {} ms; the call was not sent",
                waited.as_millis()
            ),
        );
        p.retry_after = Some(1);
        p
    }

    pub fn bad_reply(detail: impl Into<String>) -> Problem {
        Problem::new(502, "bad_backend_reply", detail)
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad input",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Body too large",
        415 => "Unsupported media type",
        422 => "Rejected by the backend",
        429 => "Too many requests",
        502 => "Backend error",
        503 => "Backend unavailable",
        504 => "Backend timeout",
        s if s >= 500 => "Server error",
        _ => "Request failed",
    }
}
