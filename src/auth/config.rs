//! The `auth:` key of an adapter and of a route, as typed data (doc comments become the schema).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::Spanned;
use crate::config::model::DurationText;

/// Who may call: `none`, or exactly one scheme. On a route it replaces the adapter's `auth:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthSetting {
    /// Anyone may call (the default when no `auth:` is given).
    None,
    /// A key in a header or a query parameter.
    ApiKey(ApiKeyAuth),
    /// An HMAC signature of the raw request body (and optionally a timestamp) in a header.
    Hmac(HmacAuth),
    /// A JWT in `Authorization: Bearer <token>`.
    Jwt(JwtAuth),
}

/// API keys: the caller sends one of the named keys; its name becomes the caller's credential.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    /// The request header that carries the key. Default `X-Api-Key` (unless `query` is given).
    #[serde(default)]
    pub header: Option<Spanned<String>>,
    /// The query parameter that carries the key, instead of a header.
    #[serde(default)]
    pub query: Option<Spanned<String>>,
    /// Keys by name; values usually `${ENV}`.
    #[serde(default)]
    pub keys: IndexMap<Spanned<String>, Spanned<String>>,
    /// A file (relative to the adapter) of more keys: one `name: value` a line, `#` comments.
    #[serde(default)]
    pub keys_file: Option<Spanned<String>>,
}

/// HMAC signatures of the raw body; each named secret is tried, its name becomes the credential.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacAuth {
    /// The request header that carries the signature. Default `X-Signature`.
    #[serde(default)]
    pub header: Option<Spanned<String>>,
    /// `sha256` (default) or `sha512`.
    #[serde(default)]
    pub algorithm: Option<HmacAlgorithm>,
    /// How the signature is written: `hex` (default) or `base64`.
    #[serde(default)]
    pub encoding: Option<SignatureEncoding>,
    /// Text before the signature in the header, e.g. `sha256=`; default none.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Secrets by name; values usually `${ENV}`.
    #[serde(default)]
    pub secrets: IndexMap<Spanned<String>, Spanned<String>>,
    /// A file (relative to the adapter) of more secrets: one `name: value` a line.
    #[serde(default)]
    pub secrets_file: Option<Spanned<String>>,
    /// Sign a timestamp too: the signed bytes are `<timestamp>.<body>`.
    #[serde(default)]
    pub timestamp: Option<HmacTimestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    Hex,
    Base64,
}

/// The timestamp header of an HMAC-signed call: Unix seconds, within `tolerance` of ponte's clock.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacTimestamp {
    /// The request header with the Unix time in seconds. Default `X-Timestamp`.
    #[serde(default)]
    pub header: Option<Spanned<String>>,
    /// How far the timestamp may be from now, either way, e.g. `5m` (the default).
    #[serde(default)]
    pub tolerance: Option<Spanned<DurationText>>,
}

/// JWT bearer tokens. The algorithms are the config's, never the token's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtAuth {
    /// Accepted algorithms: `HS256`, `RS256`, `ES256`; each needs its key below.
    pub algorithms: Spanned<Vec<Spanned<JwtAlgorithm>>>,
    /// The HS256 shared secret, usually `${ENV}`.
    #[serde(default)]
    pub secret: Option<Spanned<String>>,
    /// PEM files (relative to the adapter) of RSA or EC public keys.
    #[serde(default)]
    pub public_keys: Vec<Spanned<String>>,
    /// A JWKS file (relative to the adapter); the token's `kid` picks the key.
    #[serde(default)]
    pub jwks: Option<Spanned<String>>,
    /// Required `iss`; not checked when absent.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Required `aud` (one of these); not checked when absent.
    #[serde(default)]
    pub audience: Vec<String>,
    /// Allowed clock difference for `exp` and `nbf`, e.g. `30s` (the default).
    #[serde(default)]
    pub clock_skew: Option<Spanned<DurationText>>,
    /// The claim whose (string) value becomes the caller's credential. Default `sub`.
    #[serde(default)]
    pub credential_claim: Option<String>,
    /// Scopes the token's `scope` claim (space separated) must all hold; a valid token without
    /// them is answered 403.
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum JwtAlgorithm {
    HS256,
    RS256,
    ES256,
}
