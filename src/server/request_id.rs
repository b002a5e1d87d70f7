//! `X-Request-Id`: taken from the caller when sensible, generated otherwise, echoed on every answer.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

static COUNTER: AtomicU64 = AtomicU64::new(0);
/// Random per process, so ids from two instances do not collide.
static SEED: LazyLock<u64> = LazyLock::new(|| {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
});

fn generate() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A cheap mix so consecutive ids do not look sequential.
    let mixed = (n ^ *SEED)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
        ^ *SEED;
    let mut id = String::with_capacity(24);
    push_hex(&mut id, mixed, 16);
    push_hex(&mut id, u64::from(n as u32), 8);
    id
}

/// The lowest `digits` hex digits of `value` (cheaper than `format!` on every call).
fn push_hex(out: &mut String, value: u64, digits: u32) {
    for i in (0..digits).rev() {
        let nibble = ((value >> (i * 4)) & 0xf) as u32;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

fn acceptable(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_string())
}

impl RequestId {
    /// The caller's id when it is sensible, a new one otherwise.
    pub fn of(headers: &HeaderMap) -> RequestId {
        RequestId(
            headers
                .get(&X_REQUEST_ID)
                .and_then(acceptable)
                .unwrap_or_else(generate),
        )
    }

    /// Echoes the id on the answer.
    pub fn stamp(&self, response: &mut Response) {
        if let Ok(v) = HeaderValue::from_str(&self.0) {
            response.headers_mut().insert(X_REQUEST_ID.clone(), v);
        }
    }
}

/// For the operational routes; the facade handler (most calls) does the same inline, which
/// spares every call a boxed middleware future and an extensions map.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = RequestId::of(request.headers());
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    id.stamp(&mut response);
    response
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(generate())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_24_hex_digits_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
        let mut hex = String::new();
        push_hex(&mut hex, 0xab, 4);
        assert_eq!(hex, "00ab");
    }
}
