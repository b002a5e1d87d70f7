//! The adapter file, as typed data. `schemas/adapter.schema.json` is generated from these types,
//! so the doc comments here are what editors show integrators.

use std::time::Duration;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use super::de::Spanned;
use super::tree::Tree;

/// One adapter: a backend and the REST routes exposed over it. `R` is the backend kind's route
/// type (`SoapRoute`, `GraphqlRoute`, `HttpRoute`), chosen by the key under `backend:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdapterFile<R> {
    /// Editor hint (`$schema`), ignored by ponte.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// URL prefix of every route: `/<name>/...`. Lowercase letters, digits, `-` and `_`.
    pub name: Spanned<String>,
    /// What this adapter is for; shown in generated docs.
    #[serde(default)]
    pub description: Option<String>,
    pub backend: Backend,
    /// Who may call this adapter's routes (a route's own `auth:` replaces it). Default: anyone.
    #[serde(default)]
    pub auth: Option<Spanned<crate::auth::AuthSetting>>,
    /// The REST routes, by name.
    pub routes: IndexMap<Spanned<String>, R>,
    /// Calls each caller may make to this adapter's routes: counted per credential (API key,
    /// JWT subject) when the call has one, else per client address. Over it: 429 `rate_limited`
    /// with `Retry-After`. Off unless given.
    #[serde(default)]
    pub rate_limit: Option<Spanned<RateLimitConfig>>,
    /// Element, field, header and query parameter names whose values the call log masks
    /// (matched by local name, any case), e.g. `[CardNumber, cpf]`. Passwords, tokens,
    /// `Authorization`, cookies, API-key headers and the inbound auth's parameter are always
    /// masked.
    #[serde(default)]
    pub redact: Vec<String>,
}

/// An adapter file of one backend kind.
#[derive(Debug)]
pub enum Adapter {
    Soap(AdapterFile<crate::soap::SoapRoute>),
    Graphql(AdapterFile<crate::graphql::GraphqlRoute>),
    Http(AdapterFile<crate::xmlhttp::HttpRoute>),
}

impl Adapter {
    pub fn name(&self) -> &Spanned<String> {
        match self {
            Adapter::Soap(a) => &a.name,
            Adapter::Graphql(a) => &a.name,
            Adapter::Http(a) => &a.name,
        }
    }
}

/// Schema-only: an adapter of any kind (editors validate against each).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum AdapterSchema {
    Soap(AdapterFile<crate::soap::SoapRoute>),
    Graphql(AdapterFile<crate::graphql::GraphqlRoute>),
    Http(AdapterFile<crate::xmlhttp::HttpRoute>),
}

/// Where and how calls are sent. Exactly one of `soap`, `graphql` and `http` is set.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    #[serde(default)]
    pub soap: Option<crate::soap::SoapBackend>,
    #[serde(default)]
    pub graphql: Option<crate::graphql::GraphqlBackend>,
    #[serde(default)]
    pub http: Option<crate::xmlhttp::HttpBackend>,
    /// Time allowed for a whole backend call, retries and their pauses included, e.g. `5s`,
    /// `800ms`. Default 10s, which leaves room inside a caller that waits 15s.
    #[serde(default)]
    pub timeout: Option<Spanned<DurationText>>,
    /// Retries for idempotent routes (GET, PUT, DELETE, or `idempotent: true`) on no answer or a
    /// 429/502/503/504, with exponential backoff and full jitter, within the timeout.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// Largest reply body accepted, e.g. `5MiB`. Default 10MiB.
    #[serde(default)]
    pub max_reply_size: Option<Spanned<ByteSize>>,
    /// Most calls in flight to this backend at once (1 to 10000). Further calls wait for one to
    /// finish, within their timeout. Default 64.
    #[serde(default)]
    pub max_connections: Option<Spanned<u32>>,
    /// A circuit breaker: after `failures` failed calls in a row, or a `failure_ratio` of the
    /// calls in a `window`, calls are answered 503 at once for `open_for`, then one call probes.
    /// Off unless given.
    #[serde(default)]
    pub breaker: Option<Spanned<BreakerConfig>>,
    /// The backend's quota: calls sent per second, minute and/or day (windows aligned to the
    /// clock). A call over it waits in a queue of `queue` calls when its window ends within the
    /// call's timeout, else it is answered 429 `rate_limited` with `Retry-After`. Off unless given.
    #[serde(default)]
    pub rate_limit: Option<Spanned<RateLimitConfig>>,
    /// Extra HTTP headers sent with every backend call (values may use `${ENV}`).
    #[serde(default)]
    pub headers: IndexMap<Spanned<String>, String>,
    /// How ponte signs in to the backend: one of `basic`, `bearer`, `api_key`, `oauth2`,
    /// `ws_security` (SOAP). None unless given.
    #[serde(default)]
    pub auth: Option<Spanned<crate::backend::auth::config::BackendAuth>>,
    /// TLS for this backend: a CA bundle of its own, a client certificate (mTLS).
    #[serde(default)]
    pub tls: Option<crate::backend::auth::config::BackendTls>,
    /// An outbound proxy: a URL (`http://proxy.internal:3128`), or `from_env` to follow
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`. Without it ponte connects directly and ignores
    /// those variables.
    #[serde(default)]
    pub proxy: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed calls in a row that open the breaker (1 to 1000).
    #[serde(default)]
    pub failures: Option<Spanned<u32>>,
    /// The share of failed calls in a `window` that opens the breaker (above 0, at most 1),
    /// once the window has seen `min_calls` calls. Give this, `failures`, or both.
    #[serde(default)]
    pub failure_ratio: Option<Spanned<f64>>,
    /// The window the ratio is counted in, e.g. `60s`; it starts again when it ends. Default 60s.
    #[serde(default)]
    pub window: Option<Spanned<DurationText>>,
    /// Calls a window must have seen before the ratio counts (1 to 100000). Default 10.
    #[serde(default)]
    pub min_calls: Option<Spanned<u32>>,
    /// How long it stays open before one call probes, e.g. `30s`. Default 30s.
    #[serde(default)]
    pub open_for: Option<Spanned<DurationText>>,
}

/// A number of calls per clock-aligned window; every window given must have room for a call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default)]
    pub per_second: Option<Spanned<u32>>,
    #[serde(default)]
    pub per_minute: Option<Spanned<u32>>,
    #[serde(default)]
    pub per_day: Option<Spanned<u32>>,
    /// `backend.rate_limit` only: calls that may wait for their window at once (default 0:
    /// answer 429 at once). A call waits only when its window ends within its timeout.
    #[serde(default)]
    pub queue: Option<Spanned<u32>>,
}

/// Answers of a GET route kept for `ttl` and served again to calls with the same inputs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// How long an answer is served again, e.g. `60s`.
    pub ttl: Spanned<DurationText>,
    /// Request headers whose values are part of the cache key (e.g. `Accept-Language`).
    #[serde(default)]
    pub vary: Vec<Spanned<String>>,
    /// Cache problem answers (4xx/5xx) too. Default false: only successes are kept.
    #[serde(default)]
    pub problems: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Total attempts, including the first (1 = no retry).
    pub attempts: Spanned<u32>,
    /// The base pause before a retry, e.g. `200ms`: attempt n waits a random time up to
    /// backoff x 2^(n-1), or the backend's `Retry-After` when it fits in the time left.
    #[serde(default)]
    pub backoff: Option<Spanned<DurationText>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Methods a caller may safely repeat, so ponte may retry them.
    pub fn is_idempotent(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete)
    }
}

/// A typed input of a route.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Where the caller sends it.
    #[serde(rename = "in")]
    pub location: Spanned<InputLocation>,
    #[serde(rename = "type", default)]
    pub ty: Option<Spanned<ValueType>>,
    /// The caller-facing name when it differs: query/header name, or a dotted path in the JSON body.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Default true unless a `default` is given.
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub default: Option<Tree>,
    #[serde(default)]
    pub description: Option<String>,
    /// Allowed values.
    #[serde(rename = "enum", default)]
    pub allowed: Option<Vec<Tree>>,
    /// A regular expression the whole (string) value must match.
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Remove the control characters XML 1.0 cannot carry instead of refusing the value with
    /// 400 (default false).
    #[serde(default)]
    pub strip_control: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputLocation {
    Path,
    Query,
    Header,
    Body,
}

/// The scalar types of inputs and mapped outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    String,
    Integer,
    Number,
    Boolean,
    /// `YYYY-MM-DD`
    Date,
    /// RFC 3339 / XML `dateTime`
    Datetime,
    /// Any JSON value, passed on as it is (lists, objects): from a JSON body, or JSON text in a
    /// query parameter or header.
    Json,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Date => "date",
            ValueType::Datetime => "datetime",
            ValueType::Json => "json",
        }
    }
}

/// Maps a SOAP fault or a GraphQL error to an HTTP status. All given conditions must hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// SOAP: fault code without prefix: `Client`/`Server` (1.1) or `Sender`/`Receiver` (1.2);
    /// each matches its counterpart in the other version. GraphQL: `extensions.code`.
    #[serde(default)]
    pub code: Option<Spanned<String>>,
    /// GraphQL: the error's `path` starts with this (dotted: `contact.creditScore`).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// A subcode: the dotted tail in 1.1 (`Client.CepInvalido`) or a 1.2 `Subcode` value.
    #[serde(default)]
    pub subcode: Option<Spanned<String>>,
    /// A regular expression searched in the fault text.
    #[serde(default)]
    pub message: Option<Spanned<String>>,
    /// XML over HTTP: a reply path; the rule applies when that element is there (`xmlcep.erro`),
    /// and its text is the fault's message.
    #[serde(default)]
    pub when: Option<Spanned<String>>,
    /// HTTP status answered (400-599).
    pub status: Spanned<u16>,
    /// The `code` in the problem+json answer; default derived from the fault.
    #[serde(default)]
    pub error: Option<String>,
    /// The `detail` answered; default: the fault's text.
    #[serde(default)]
    pub detail: Option<String>,
}

/// A duration written as `250ms`, `5s`, `1.5s` or `2m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(DurationText).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration (write a number and a unit: 250ms, 5s, 1.5s, 2m)"
            ))
        })
    }
}

pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

impl JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s|m|min)$",
            "examples": ["250ms", "5s"]
        })
    }
}

/// A size written as `512KiB`, `5MiB`, `1MB` or a number of bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteSize(pub usize);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_size(&text).map(ByteSize).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a size (write e.g. 512KiB, 5MiB or 1000000)"
            ))
        })
    }
}

fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: usize = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "KiB" => 1024,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

impl JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]+ ?(B|KB|kB|KiB|MB|MiB|GiB)?$"}
            ]
        })
    }
}

/// The request tree (SOAP body or header): element names to values; `$input` leaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RequestTree(pub Tree);

impl JsonSchema for RequestTree {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RequestTree".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "XML as a tree: keys are element names (`prefix:Name` for other namespaces, `@name` for attributes, `#text` for text), values are nested trees, lists (repeated elements), `$input` references or literal text.",
            "type": "object"
        })
    }
}

/// The response tree: output field names to mappings.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct ResponseTree(pub Tree);

impl JsonSchema for ResponseTree {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ResponseTree".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mapping = generator.subschema_for::<MappingSchema>();
        json_schema!({
            "description": "Output JSON: keys are output fields; values are a path into the reply (`A.B[*].C`), a mapping object, or a nested object of such.",
            "type": "object",
            "additionalProperties": mapping
        })
    }
}

/// Schema-only type: one output value of a response mapping.
struct MappingSchema;

impl JsonSchema for MappingSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Mapping".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mapping = generator.subschema_for::<MappingSchema>();
        let types = generator.subschema_for::<ValueType>();
        json_schema!({
            "anyOf": [
                {"type": "string", "description": "A path: `Body.Item[0].Name`, `Items.Item[*].Name`."},
                {
                    "type": "object",
                    "properties": {
                        "from": {"type": "string", "description": "Path into the reply."},
                        "type": types,
                        "default": {"description": "Used when the path is missing or null."},
                        "each": {"type": "string", "description": "Path to an array; `fields` maps each element."},
                        "parse": {"const": "xml", "description": "`from` holds an XML document as text: `fields` map it from its root element."},
                        "fields": {"type": "object", "additionalProperties": mapping}
                    },
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {"concat": {"type": "array", "items": mapping}},
                    "required": ["concat"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {"expr": {"type": "string", "description": "A JMESPath expression over the reply body."}},
                    "required": ["expr"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {"const": {"description": "A fixed value."}},
                    "required": ["const"],
                    "additionalProperties": false
                },
                {"type": "object", "description": "A nested output object.", "additionalProperties": mapping}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_and_sizes() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert!(parse_duration("5").is_none());
        assert!(parse_duration("fast").is_none());
        assert_eq!(parse_size("5MiB"), Some(5 << 20));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("lots"), None);
    }
}
