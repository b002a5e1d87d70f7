//! The adapter keys of outbound auth, TLS and proxy: `backend.auth`, `backend.tls`,
//! `backend.proxy`. Secret values come from `${ENV}`; they are compiled in `super` and never
//! echoed by a diagnostic.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::Spanned;
use crate::config::model::DurationText;

/// How ponte signs in to the backend. Exactly one of the keys.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendAuth {
    /// HTTP Basic: `Authorization: Basic base64(user:password)` on every call.
    #[serde(default)]
    pub basic: Option<Spanned<BasicAuth>>,
    /// A fixed bearer token: `Authorization: Bearer <token>` on every call.
    #[serde(default)]
    pub bearer: Option<Spanned<BearerAuth>>,
    /// An API key sent in a header or a query parameter on every call.
    #[serde(default)]
    pub api_key: Option<Spanned<ApiKeyAuth>>,
    /// OAuth 2.0 client credentials: a token is fetched from `token_url`, kept until shortly
    /// before it expires, fetched again once when the backend answers 401, and shared by
    /// concurrent calls (one fetch).
    #[serde(default)]
    pub oauth2: Option<Spanned<OAuth2Auth>>,
    /// SOAP only: a WS-Security `UsernameToken` (and optionally a `Timestamp`) in the
    /// `soap:Header` of every envelope.
    #[serde(default)]
    pub ws_security: Option<Spanned<WsSecurityAuth>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub user: String,
    /// Use `${ENV}`: the value is a secret.
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    /// Use `${ENV}`: the value is a secret.
    pub token: String,
}

/// `{ header: X-Api-Key, value: ... }` or `{ query: api_key, value: ... }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    /// The header that carries the key.
    #[serde(default)]
    pub header: Option<Spanned<String>>,
    /// The query parameter that carries the key (appended to every backend URL).
    #[serde(default)]
    pub query: Option<Spanned<String>>,
    /// Use `${ENV}`: the value is a secret.
    pub value: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Auth {
    /// The token endpoint (`https://...`). It is called through the backend's own connection
    /// settings (`tls`, `proxy`).
    pub token_url: Spanned<String>,
    pub client_id: String,
    /// Use `${ENV}`: the value is a secret.
    pub client_secret: String,
    /// Space-separated scopes asked for.
    #[serde(default)]
    pub scope: Option<String>,
    /// An `audience` parameter, for token endpoints that want one (Auth0 and others).
    #[serde(default)]
    pub audience: Option<String>,
    /// How the client authenticates to the token endpoint: `basic` (HTTP Basic, the default,
    /// as RFC 6749 recommends) or `body` (`client_id` and `client_secret` in the form).
    #[serde(default)]
    pub client_auth: ClientAuth,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    #[default]
    Basic,
    Body,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsSecurityAuth {
    pub username: String,
    /// Use `${ENV}`: the value is a secret.
    pub password: String,
    /// `true`: PasswordDigest, Base64(SHA-1(nonce + created + password)) with a fresh nonce
    /// per call. `false` (default): PasswordText (use it over TLS only).
    #[serde(default)]
    pub digest: bool,
    /// Adds a `wsu:Timestamp` valid for this long, e.g. `5m`. None unless given.
    #[serde(default)]
    pub timestamp: Option<Spanned<DurationText>>,
}

/// TLS settings of this backend's connections. Files are read when the adapter loads; relative
/// paths are relative to the adapter file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackendTls {
    /// A PEM bundle of the certificate authorities trusted for this backend, instead of the
    /// system's (`SSL_CERT_FILE` does not override it).
    #[serde(default)]
    pub ca_file: Option<Spanned<String>>,
    /// The client certificate (PEM, with its chain) presented to the backend (mTLS).
    #[serde(default)]
    pub client_cert_file: Option<Spanned<String>>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<Spanned<String>>,
}
