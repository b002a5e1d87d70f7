//! Outbound auth: how ponte signs in to a backend (`backend.auth`), and how it connects
//! (`backend.tls`, `backend.proxy`, in `connection`).
//!
//! The adapter keys (`config`) compile once into `OutboundAuth`, plain data in the plan. What
//! changes at run time (the OAuth token) lives in `Credentials`, owned by the backend runtime in
//! the registry, so a reload keeps a token that is still good.
//!
//! Credentials are added when a request is sent, after the engine and its observers have built
//! and seen it: the recorder of `serve --record` never sees an Authorization header or a
//! WS-Security password.

pub mod config;
pub mod connection;
pub mod oauth;
pub mod wsse;

use std::fmt;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};
use base64::Engine as _;
use bytes::Bytes;

use crate::config::model::Backend;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::kind::BackendRequest;

use oauth::{OAuthSettings, TokenCache};
use wsse::WsSecurity;

/// How every call to one backend is signed in, compiled once. `Debug` never shows a secret.
#[derive(Clone, PartialEq)]
pub enum OutboundAuth {
    /// Basic, bearer, or an API key in a header: one fixed header (marked sensitive).
    Header(HeaderName, HeaderValue),
    /// An API key in the query: name and value.
    Query(String, String),
    OAuth2(OAuthSettings),
    WsSecurity(WsSecurity),
}

impl fmt::Debug for OutboundAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundAuth::Header(name, _) => write!(f, "Header({name}: <secret>)"),
            OutboundAuth::Query(name, _) => write!(f, "Query({name}=<secret>)"),
            OutboundAuth::OAuth2(o) => write!(f, "OAuth2({:?})", o.token_url.as_str()),
            OutboundAuth::WsSecurity(_) => f.write_str("WsSecurity(<secret>)"),
        }
    }
}

/// What signing adds to one attempt.
pub(crate) struct Signed {
    pub url: reqwest::Url,
    pub header: Option<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// Why a backend could not be signed in to. The text is for the caller: it names what failed,
/// never a secret or the token endpoint's body.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// The token endpoint did not answer within the call's budget.
    Timeout,
    Failed(String),
}

/// The runtime half of outbound auth: the OAuth token cache, when the backend uses OAuth.
#[derive(Debug, Default)]
pub struct Credentials {
    tokens: TokenCache,
}

impl Credentials {
    /// The URL, extra header and body of one attempt, signed as `auth` says. An OAuth token is
    /// fetched (once for all concurrent calls) when none is fresh, within `left`.
    pub(crate) async fn sign(
        &self,
        auth: Option<&OutboundAuth>,
        client: &reqwest::Client,
        url: &reqwest::Url,
        request: &BackendRequest,
        left: Duration,
    ) -> Result<Signed, AuthError> {
        let mut signed = Signed {
            url: url.clone(),
            header: None,
            body: request.body.clone(),
        };
        match auth {
            None => {}
            Some(OutboundAuth::Header(name, value)) => {
                signed.header = Some((name.clone(), value.clone()));
            }
            Some(OutboundAuth::Query(name, value)) => {
                signed.url.query_pairs_mut().append_pair(name, value);
            }
            Some(OutboundAuth::OAuth2(settings)) => {
                let token = self.tokens.token(settings, client, left).await?;
                signed.header = Some((axum::http::header::AUTHORIZATION, token));
            }
            Some(OutboundAuth::WsSecurity(wsse)) => {
                if let Some(slot) = request.security_slot {
                    signed.body = wsse.insert(&request.body, slot);
                }
            }
        }
        Ok(signed)
    }

    /// After a 401 to a request signed and sent at `sent_at`: forgets the OAuth token if it may
    /// be the one that request carried (a newer one, fetched meanwhile by another call, is kept). True
    /// when the backend uses OAuth, so the call is worth repeating once with a new token.
    pub(crate) fn token_rejected(&self, auth: Option<&OutboundAuth>, sent_at: Instant) -> bool {
        if !matches!(auth, Some(OutboundAuth::OAuth2(_))) {
            return false;
        }
        self.tokens.forget_if_older(sent_at);
        true
    }
}

/// `backend.auth`, `backend.tls` and `backend.proxy` of one adapter, compiled. `offline` runs
/// (`ponte test`, `serve --mock`: backends are never reached, and unset variables are empty)
/// check the shape of `auth` only, sign nothing and read no certificate files.
pub(crate) fn compile_access(
    backend: &Backend,
    adapter_file: &std::path::Path,
    offline: bool,
    errors: &mut Diagnostics,
) -> (Option<OutboundAuth>, connection::Connection) {
    if !check_shape(backend, errors) || offline {
        return (None, connection::Connection::default());
    }
    let auth = compile(backend, errors);
    let connection = connection::compile(
        backend,
        adapter_file,
        crate::backend::http::client_builder,
        errors,
    );
    (auth, connection)
}

/// Whether `backend.auth` (if any) names exactly one scheme, and `ws_security` only on a SOAP
/// backend.
fn check_shape(backend: &Backend, errors: &mut Diagnostics) -> bool {
    let Some(auth) = &backend.auth else {
        return true;
    };
    let a = &auth.value;
    let given = [
        a.basic.as_ref().map(|s| s.span),
        a.bearer.as_ref().map(|s| s.span),
        a.api_key.as_ref().map(|s| s.span),
        a.oauth2.as_ref().map(|s| s.span),
        a.ws_security.as_ref().map(|s| s.span),
    ];
    if given.iter().flatten().count() != 1 {
        errors.push(
            Diagnostic::error(auth.span, "`auth` takes exactly one scheme")
                .with_help("one of basic, bearer, api_key, oauth2, ws_security"),
        );
        return false;
    }
    if let Some(wsse) = &a.ws_security
        && backend.soap.is_none()
    {
        errors.push(
            Diagnostic::error(wsse.span, "`ws_security` is for SOAP backends")
                .with_help("use basic, bearer, api_key or oauth2 for this backend"),
        );
        return false;
    }
    true
}

/// The compiled `backend.auth` (its shape checked already): values that fit in a header, a
/// token URL that is one.
fn compile(backend: &Backend, errors: &mut Diagnostics) -> Option<OutboundAuth> {
    let a = &backend.auth.as_ref()?.value;
    if let Some(basic) = &a.basic {
        let pair = format!("{}:{}", basic.value.user, basic.value.password);
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        return secret_header(
            axum::http::header::AUTHORIZATION,
            &format!("Basic {encoded}"),
            basic.span,
            errors,
        );
    }
    if let Some(bearer) = &a.bearer {
        let value = format!("Bearer {}", bearer.value.token);
        return secret_header(
            axum::http::header::AUTHORIZATION,
            &value,
            bearer.span,
            errors,
        );
    }
    if let Some(key) = &a.api_key {
        return api_key(key, errors);
    }
    if let Some(oauth) = &a.oauth2 {
        return OAuthSettings::compile(&oauth.value, errors).map(OutboundAuth::OAuth2);
    }
    let wsse = a.ws_security.as_ref()?;
    Some(OutboundAuth::WsSecurity(WsSecurity::compile(&wsse.value)))
}

fn api_key(
    key: &crate::config::Spanned<config::ApiKeyAuth>,
    errors: &mut Diagnostics,
) -> Option<OutboundAuth> {
    match (&key.value.header, &key.value.query) {
        (Some(header), None) => match crate::config::header_name(header) {
            Ok(name) => secret_header(name, &key.value.value, key.span, errors),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        (None, Some(query)) if !query.value.is_empty() => Some(OutboundAuth::Query(
            query.value.clone(),
            key.value.value.clone(),
        )),
        _ => {
            errors.push(
                Diagnostic::error(key.span, "`api_key` takes one of `header` and `query`")
                    .with_help("e.g. api_key: { header: X-Api-Key, value: \"${BACKEND_KEY}\" }"),
            );
            None
        }
    }
}

/// A header whose value is a secret: marked sensitive (never logged by the HTTP stack), and an
/// error about it never shows the value.
fn secret_header(
    name: HeaderName,
    value: &str,
    span: Span,
    errors: &mut Diagnostics,
) -> Option<OutboundAuth> {
    match HeaderValue::try_from(value) {
        Ok(mut v) => {
            v.set_sensitive(true);
            Some(OutboundAuth::Header(name, v))
        }
        Err(_) => {
            errors.push(
                Diagnostic::error(span, "the credential cannot be sent in an HTTP header")
                    .with_help("a header value is visible ASCII; check the variable it comes from"),
            );
            None
        }
    }
}
