//! `/_ponte/calls` (JSON), `/_ponte/calls/page` (the page that reads it) and the admin token
//! that guards the list.
//!
//! The token travels as `Authorization: Bearer <token>`; it is compared as SHA-256 digests in
//! constant time, so neither its bytes nor its length leak through timing. The page itself holds
//! no data: it asks for the token and keeps it in the tab's `sessionStorage`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::problem::{Catalog, Problem};
use crate::server::{AppState, RequestId, problem_response};

use super::Filter;

/// The admin token: only its digest is kept.
pub struct AdminToken {
    digest: [u8; 32],
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl AdminToken {
    pub fn new(token: &str) -> AdminToken {
        AdminToken {
            digest: sha256(token.as_bytes()),
        }
    }

    /// A fresh random token (32 hex digits), for a call log started without one.
    pub fn generate() -> Option<String> {
        use aws_lc_rs::rand::SecureRandom as _;
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).ok()?;
        Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether the request carries `Authorization: Bearer <this token>`.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Hashed even when absent, so a missing token takes as long as a wrong one.
        let given = sha256(presented.trim().as_bytes());
        bool::from(given.ct_eq(&self.digest)) && !presented.is_empty()
    }
}

fn refused() -> Problem {
    let mut p = Problem::unauthorized("Bearer realm=\"ponte admin\"".into());
    p.detail = "the call log needs the admin token: Authorization: Bearer <token> (serve --admin-token or PONTE_ADMIN_TOKEN)".into();
    p
}

/// `GET /_ponte/calls?adapter=&route=&status=`: the kept calls, newest first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    id: RequestId,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let Some(log) = state.call_log() else {
        return problem_response(
            Problem::of(
                Catalog::NotFound,
                "the call log is off; start ponte with --call-log (it is on with --mock)",
            ),
            &id,
        );
    };
    if !state.admin_token().is_some_and(|t| t.admits(&headers)) {
        return problem_response(refused(), &id);
    }
    let filter = Filter::of_query(uri.query().unwrap_or(""));
    let mut response = log.list(&filter).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /_ponte/calls/page`: the page (embedded; no data until the token is given).
pub async fn page() -> Response {
    let mut response = Html(include_str!("page.html")).into_response();
    let headers = response.headers_mut();
    // The page runs only its own inline script and talks only to this server.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        ),
    );
    headers.insert(
        header::HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_only_the_bearer_token() {
        let token = AdminToken::new("t0ken");
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(token.admits(&with("Bearer t0ken")));
        assert!(!token.admits(&with("Bearer t0ke")));
        assert!(!token.admits(&with("t0ken")));
        assert!(!token.admits(&HeaderMap::new()));
        assert!(!AdminToken::new("").admits(&with("Bearer ")));
    }
}
