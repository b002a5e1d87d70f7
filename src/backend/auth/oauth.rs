//! OAuth 2.0 client credentials (RFC 6749 section 4.4): the token is fetched when none is fresh,
//! kept until shortly before `expires_in` ends, and shared by every call to the backend.
//!
//! Concurrent calls that find no fresh token wait for one fetch: the first takes the fetch lock,
//! the others find the new token when they get it. Reading a fresh token takes only a read lock,
//! held for a clone.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use base64::Engine as _;
use serde::Deserialize;

use super::AuthError;
use super::config::{ClientAuth, OAuth2Auth};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// The largest token endpoint answer read (a token answer is a few KiB at most).
const MAX_TOKEN_REPLY: usize = 64 << 10;
/// A token is renewed this long before it expires (or at half its life, if that is shorter):
/// a call that starts with it should not arrive after it ended.
const RENEW_BEFORE: Duration = Duration::from_secs(30);

/// The token endpoint and the client's credentials, compiled once.
#[derive(Clone, PartialEq)]
pub struct OAuthSettings {
    pub token_url: reqwest::Url,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    audience: Option<String>,
    client_auth: ClientAuth,
}

impl OAuthSettings {
    pub(crate) fn compile(model: &OAuth2Auth, errors: &mut Diagnostics) -> Option<OAuthSettings> {
        let url = reqwest::Url::parse(&model.token_url.value)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        let Some(token_url) = url else {
            // The URL may hold credentials: it is not echoed.
            errors.push(
                Diagnostic::error(model.token_url.span, "`token_url` is not an http(s) URL")
                    .with_help("e.g. token_url: https://login.example.com/oauth2/token"),
            );
            return None;
        };
        Some(OAuthSettings {
            token_url,
            client_id: model.client_id.clone(),
            client_secret: model.client_secret.clone(),
            scope: model.scope.clone().filter(|s| !s.is_empty()),
            audience: model.audience.clone().filter(|s| !s.is_empty()),
            client_auth: model.client_auth,
        })
    }
}

struct Token {
    /// `Bearer <access_token>`, marked sensitive.
    header: HeaderValue,
    /// When it arrived: a request signed with it went out after this.
    fetched_at: Instant,
    /// When to fetch a new one; `None` when the endpoint gave no `expires_in` (kept until the
    /// backend refuses it).
    renew_at: Option<Instant>,
}

impl Token {
    fn is_fresh(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|at| now < at)
    }
}

/// The token of one backend, kept in its runtime (so a reload keeps it).
#[derive(Default)]
pub struct TokenCache {
    current: RwLock<Option<Arc<Token>>>,
    /// Held by the one call that fetches; the others wait for its outcome.
    fetching: tokio::sync::Mutex<Fetches>,
}

/// How many fetches were made, and how the last one failed (if it did).
#[derive(Default)]
struct Fetches {
    count: u64,
    failure: Option<AuthError>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache")
    }
}

impl TokenCache {
    fn fresh(&self) -> Option<HeaderValue> {
        let current = self.current.read().ok()?;
        let token = current.as_ref()?;
        token.is_fresh(Instant::now()).then(|| token.header.clone())
    }

    /// The `Authorization` value: the cached token while fresh, else a new one, fetched once
    /// however many calls ask at the same time, within `left`.
    pub(crate) async fn token(
        &self,
        settings: &OAuthSettings,
        client: &reqwest::Client,
        left: Duration,
    ) -> Result<HeaderValue, AuthError> {
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let deadline = Instant::now() + left;
        let before = self.fetch_count();
        let Ok(mut fetches) = tokio::time::timeout(left, self.fetching.lock()).await else {
            return Err(AuthError::Timeout);
        };
        // Another call may have fetched one while this one waited for the lock; if that fetch
        // failed, this call shares its failure instead of asking again at once.
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let fetched_meanwhile = before.is_none_or(|n| n != fetches.count);
        if fetched_meanwhile && let Some(failure) = &fetches.failure {
            return Err(failure.clone());
        }
        fetches.count += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let outcome = match tokio::time::timeout(left, fetch(settings, client)).await {
            Ok(result) => result,
            Err(_) => Err(AuthError::Timeout),
        };
        fetches.failure = outcome.as_ref().err().cloned();
        let token = outcome?;
        let header = token.header.clone();
        if let Ok(mut current) = self.current.write() {
            *current = Some(Arc::new(token));
        }
        Ok(header)
    }

    /// The number of fetches so far, when no fetch is running (else `None`: this call waits
    /// for that fetch's outcome).
    fn fetch_count(&self) -> Option<u64> {
        self.fetching.try_lock().ok().map(|f| f.count)
    }

    /// Forgets the token if it arrived before `sent_at`, so it may be the one a refused request
    /// carried; a token that arrived later is newer than that one and is kept.
    pub(crate) fn forget_if_older(&self, sent_at: Instant) {
        if let Ok(mut current) = self.current.write()
            && current.as_ref().is_some_and(|t| t.fetched_at <= sent_at)
        {
            *current = None;
        }
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

fn failed(why: &str) -> AuthError {
    AuthError::Failed(format!("ponte could not get an access token: {why}"))
}

/// The token request: a client credentials grant, the client authenticated as configured.
fn token_request(
    settings: &OAuthSettings,
    client: &reqwest::Client,
) -> Result<reqwest::RequestBuilder, AuthError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &settings.scope {
        form.append_pair("scope", scope);
    }
    if let Some(audience) = &settings.audience {
        form.append_pair("audience", audience);
    }
    let mut request = client
        .post(settings.token_url.clone())
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(axum::http::header::ACCEPT, "application/json");
    match settings.client_auth {
        ClientAuth::Basic => {
            // RFC 6749 2.3.1: the id and secret are form-encoded before they are joined.
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!(
                "{}:{}",
                encode(&settings.client_id),
                encode(&settings.client_secret)
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            let mut value =
                HeaderValue::try_from(value).map_err(|_| failed("bad client credentials"))?;
            value.set_sensitive(true);
            request = request.header(axum::http::header::AUTHORIZATION, value);
        }
        ClientAuth::Body => {
            form.append_pair("client_id", &settings.client_id);
            form.append_pair("client_secret", &settings.client_secret);
        }
    }
    Ok(request.body(form.finish()))
}

/// One token request. Errors name the status or what was wrong with the answer, never its body
/// (a token endpoint may echo the client's credentials).
async fn fetch(settings: &OAuthSettings, client: &reqwest::Client) -> Result<Token, AuthError> {
    let request = token_request(settings, client)?;
    let sent = Instant::now();
    let mut response = request
        .send()
        .await
        .map_err(|_| failed("the token endpoint could not be reached"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(&format!(
            "the token endpoint answered {}",
            status.as_u16()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| failed("the token endpoint's answer broke off"))?
    {
        if body.len() + chunk.len() > MAX_TOKEN_REPLY {
            return Err(failed("the token endpoint's answer is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    let reply: TokenReply = serde_json::from_slice(&body)
        .map_err(|_| failed("the token endpoint's answer has no access_token"))?;
    let mut header = HeaderValue::try_from(format!("Bearer {}", reply.access_token))
        .map_err(|_| failed("the access token cannot be sent in a header"))?;
    header.set_sensitive(true);
    let renew_at = reply.expires_in.map(|secs| {
        let life = Duration::from_secs(secs);
        sent + life.saturating_sub(RENEW_BEFORE.min(life / 2))
    });
    Ok(Token {
        header,
        fetched_at: Instant::now(),
        renew_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_before_it_expires() {
        let now = Instant::now();
        let token = |renew_at| Token {
            header: HeaderValue::from_static("Bearer t"),
            fetched_at: now,
            renew_at,
        };
        assert!(token(None).is_fresh(now + Duration::from_secs(86_400)));
        assert!(token(Some(now + Duration::from_secs(5))).is_fresh(now));
        assert!(!token(Some(now)).is_fresh(now + Duration::from_millis(1)));
    }
}
