//! Routes: the keys every route has, and the macro that gives each backend kind its own route
//! type with them. A kind's keys are fields of that kind's type only, so a key used with the wrong
//! kind cannot be represented: it is an unknown key, explained by `explain_misplaced`.

use indexmap::IndexMap;

use super::de::Spanned;
use super::model::{DurationText, FaultRule, HttpMethod, Input, ResponseTree};
use crate::diagnostic::{Diagnostic, Span};

/// The keys every route has, borrowed from a kind's route type.
pub(crate) struct Common<'a> {
    pub method: &'a Spanned<HttpMethod>,
    pub path: &'a Spanned<String>,
    pub description: Option<&'a str>,
    pub input: &'a IndexMap<Spanned<String>, Input>,
    pub response: Option<&'a ResponseTree>,
    pub faults: &'a [FaultRule],
    pub timeout: Option<&'a Spanned<DurationText>>,
    pub idempotent: Option<bool>,
    pub not_found: Option<&'a Spanned<String>>,
    /// Reply paths that are always arrays (XML kinds only; empty for the others).
    pub arrays: &'a [Spanned<String>],
    /// This route's own `auth:`, replacing the adapter's.
    pub auth: Option<&'a Spanned<crate::auth::AuthSetting>>,
    pub cache: Option<&'a super::model::CacheConfig>,
    pub rate_limit: Option<&'a Spanned<super::model::RateLimitConfig>>,
    pub unavailable_status: Option<&'a Spanned<u16>>,
}

/// A kind's route type (declared with `route_type!`).
pub(crate) trait RouteKeys {
    /// The kind's name in messages ("SOAP").
    const KIND: &'static str;
    /// The keys only this kind has.
    const OWN_KEYS: &'static [&'static str];
    fn common(&self) -> Common<'_>;
}

/// Declares a kind's route type: the common keys followed by the kind's own.
macro_rules! route_type {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($kind:literal) {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
        arrays: $arrays:expr
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub method: $crate::config::Spanned<$crate::config::model::HttpMethod>,
            /// Path under the adapter's prefix; `{name}` segments are `in: path` inputs.
            pub path: $crate::config::Spanned<String>,
            #[serde(default)]
            pub description: Option<String>,
            /// Typed inputs, by the name used in the request as `$name`.
            #[serde(default)]
            pub input: indexmap::IndexMap<$crate::config::Spanned<String>, $crate::config::model::Input>,
            /// The JSON returned: keys are output fields, leaves are paths into the reply.
            #[serde(default)]
            pub response: Option<$crate::config::model::ResponseTree>,
            /// Fault rules, first match wins; an unmatched fault is a 502.
            #[serde(default)]
            pub faults: Vec<$crate::config::model::FaultRule>,
            /// Overrides the backend timeout for this route: the whole call, retries included.
            #[serde(default)]
            pub timeout: Option<$crate::config::Spanned<$crate::config::model::DurationText>>,
            /// The backend call may safely be repeated, so it is retried like a GET's.
            #[serde(default)]
            pub idempotent: Option<bool>,
            /// A path in the reply: when it is missing, null or empty, the route answers 404.
            #[serde(default)]
            pub not_found: Option<$crate::config::Spanned<String>>,
            /// Who may call this route, replacing the adapter's `auth:`; `none` opens it to anyone.
            #[serde(default)]
            pub auth: Option<$crate::config::Spanned<$crate::auth::AuthSetting>>,
            /// GET routes: keep answers for `ttl` and serve them again to calls with the same
            /// inputs (and `vary` headers). Off unless given.
            #[serde(default)]
            pub cache: Option<$crate::config::model::CacheConfig>,
            /// What each caller may ask of this route, instead of the adapter's `rate_limit`.
            #[serde(default)]
            pub rate_limit: Option<$crate::config::Spanned<$crate::config::model::RateLimitConfig>>,
            /// The status answered when the backend says "not now" (a 429 or 503 that is not
            /// retried, or outlives the deadline): 503 (the default) or 429, with `Retry-After`.
            #[serde(default)]
            pub unavailable_status: Option<$crate::config::Spanned<u16>>,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::config::route::RouteKeys for $name {
            const KIND: &'static str = $kind;
            const OWN_KEYS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn common(&self) -> $crate::config::route::Common<'_> {
                let arrays: fn(&$name) -> &[$crate::config::Spanned<String>] = $arrays;
                $crate::config::route::Common {
                    method: &self.method,
                    path: &self.path,
                    description: self.description.as_deref(),
                    input: &self.input,
                    response: self.response.as_ref(),
                    faults: &self.faults,
                    timeout: self.timeout.as_ref(),
                    idempotent: self.idempotent,
                    not_found: self.not_found.as_ref(),
                    arrays: arrays(self),
                    auth: self.auth.as_ref(),
                    cache: self.cache.as_ref(),
                    rate_limit: self.rate_limit.as_ref(),
                    unavailable_status: self.unavailable_status.as_ref(),
                }
            }
        }
    };
}
pub(crate) use route_type;

/// Every kind's own keys, to explain a key used with the wrong kind.
const KINDS: [(&str, &[&str]); 3] = [
    (
        crate::soap::SoapRoute::KIND,
        crate::soap::SoapRoute::OWN_KEYS,
    ),
    (
        crate::graphql::GraphqlRoute::KIND,
        crate::graphql::GraphqlRoute::OWN_KEYS,
    ),
    (
        crate::xmlhttp::HttpRoute::KIND,
        crate::xmlhttp::HttpRoute::OWN_KEYS,
    ),
];

/// Turns "unknown key `query`" in a SOAP adapter into "`query` is for GraphQL backends".
pub(crate) fn explain_misplaced<R: RouteKeys>(diagnostics: &mut [Diagnostic], routes: Span) {
    let in_routes = |s: Span| routes.start <= s.start && s.start <= routes.end;
    for d in diagnostics.iter_mut().filter(|d| in_routes(d.span)) {
        let Some(key) = d
            .message
            .strip_prefix("unknown key `")
            .and_then(|k| k.strip_suffix('`'))
        else {
            continue;
        };
        if R::OWN_KEYS.contains(&key) {
            continue;
        }
        let owners: Vec<&str> = KINDS
            .iter()
            .filter(|(_, keys)| keys.contains(&key))
            .map(|(kind, _)| *kind)
            .collect();
        if !owners.is_empty() {
            d.message = format!("`{key}` is for {} backends", owners.join(" and "));
            d.help = Some(format!("remove it; this adapter's backend is {}", R::KIND));
        }
    }
}
