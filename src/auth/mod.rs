//! Inbound auth: who may call a facade. `auth:` on the adapter applies to every route; a route's
//! own `auth:` replaces it (`auth: none` opens a route). Everything a scheme needs (keys, key
//! files, JWKS) is read and checked when the adapters load; a call only verifies.
//!
//! A refused call is answered before its input is decoded and before the backend is called, with
//! one detail per scheme whatever was wrong, so a caller cannot tell which part was right.

mod api_key;
pub(crate) mod config;
mod hmac;
mod jwt;
mod keys;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName};

use crate::config::Spanned;
use crate::diagnostic::Diagnostics;
use crate::problem::Problem;

pub use config::AuthSetting;

/// A compiled `auth:` setting: the scheme with its keys, and the realm named in challenges.
pub struct Guard {
    realm: String,
    scheme: Scheme,
}

enum Scheme {
    ApiKey(api_key::ApiKeyGuard),
    Hmac(hmac::HmacGuard),
    Jwt(jwt::JwtGuard),
}

/// What a request shows to a guard.
pub(crate) struct Presented<'a> {
    pub headers: &'a HeaderMap,
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The body exactly as received.
    pub body: &'a [u8],
}

impl Presented<'_> {
    fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
    }
}

/// Why a call is refused.
pub(crate) enum Denied {
    /// No valid credential: 401.
    Unauthenticated,
    /// A valid credential that may not do this: 403.
    Forbidden,
}

/// Compiles an `auth:` setting; `None` for `auth: none` (or no setting). `adapter` names the realm.
pub fn compile(
    setting: Option<&Spanned<AuthSetting>>,
    adapter: &str,
    adapter_file: &Path,
    errors: &mut Diagnostics,
) -> Option<Arc<Guard>> {
    let setting = setting?;
    let at = setting.span;
    let scheme = match &setting.value {
        AuthSetting::None => return None,
        AuthSetting::ApiKey(c) => Scheme::ApiKey(api_key::compile(c, at, adapter_file, errors)),
        AuthSetting::Hmac(c) => Scheme::Hmac(hmac::compile(c, at, adapter_file, errors)),
        AuthSetting::Jwt(c) => Scheme::Jwt(jwt::compile(c, adapter_file, errors)),
    };
    Some(Arc::new(Guard {
        realm: adapter.to_string(),
        scheme,
    }))
}

impl Guard {
    /// The credential's name when the call may go on, else the problem to answer.
    pub(crate) fn admit(&self, request: &Presented) -> Result<Arc<str>, Problem> {
        let verdict = match &self.scheme {
            Scheme::ApiKey(g) => g.admit(request).ok_or(Denied::Unauthenticated),
            Scheme::Hmac(g) => g.admit(request).ok_or(Denied::Unauthenticated),
            Scheme::Jwt(g) => g.admit(request),
        };
        verdict.map_err(|denied| match denied {
            Denied::Unauthenticated => Problem::unauthorized(self.challenge()),
            Denied::Forbidden => Problem::forbidden(),
        })
    }

    /// The scheme as the docs show it: where the credential goes, never what it is.
    pub(crate) fn describe(&self) -> crate::describe::Security {
        use crate::describe::Security;
        match &self.scheme {
            Scheme::ApiKey(g) => {
                let (location, name) = g.place();
                Security::ApiKey {
                    location,
                    name: name.to_string(),
                }
            }
            Scheme::Hmac(g) => Security::Hmac {
                header: g.header().to_string(),
            },
            Scheme::Jwt(_) => Security::Jwt,
        }
    }

    /// Whether a valid credential may still be refused this route (403): JWT scopes.
    pub(crate) fn may_forbid(&self) -> bool {
        matches!(self.scheme, Scheme::Jwt(_))
    }

    /// Whether the guard needs the request body (the others decide before it is read).
    pub(crate) fn reads_body(&self) -> bool {
        matches!(self.scheme, Scheme::Hmac(_))
    }

    /// The header or query parameter names that carry the credential (the call log masks them).
    pub(crate) fn credential_names(&self) -> Vec<&str> {
        match &self.scheme {
            Scheme::ApiKey(g) => vec![g.place().1],
            Scheme::Hmac(g) => g.header_names(),
            Scheme::Jwt(_) => vec!["authorization"],
        }
    }

    /// The `WWW-Authenticate` value: the scheme and the realm (the adapter's name).
    fn challenge(&self) -> String {
        let scheme = match self.scheme {
            Scheme::ApiKey(_) => "ApiKey",
            Scheme::Hmac(_) => "HMAC",
            Scheme::Jwt(_) => "Bearer",
        };
        format!("{scheme} realm=\"{}\"", self.realm)
    }
}

/// A header name from the config, or an error at its position.
fn header_name(name: &Spanned<String>, errors: &mut Diagnostics) -> HeaderName {
    crate::config::header_name(name).unwrap_or_else(|error| {
        errors.push(error);
        HeaderName::from_static("x-invalid")
    })
}
