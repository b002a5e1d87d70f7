//! API keys in a header or a query parameter, compared in constant time.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use axum::http::HeaderName;
use subtle::ConstantTimeEq;

use super::Presented;
use super::config::ApiKeyAuth;
use super::keys;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};

pub(crate) struct ApiKeyGuard {
    place: KeyPlace,
    /// SHA-256 of each key: comparing digests of equal length hides the keys' lengths too.
    keys: Vec<(Arc<str>, [u8; 32])>,
}

enum KeyPlace {
    Header(HeaderName),
    Query(String),
}

pub(crate) fn compile(
    config: &ApiKeyAuth,
    at: Span,
    adapter_file: &Path,
    errors: &mut Diagnostics,
) -> ApiKeyGuard {
    let place = match (&config.header, &config.query) {
        (Some(h), Some(q)) => {
            errors.push(
                Diagnostic::error(q.span, "give `header` or `query`, not both")
                    .with_help("a key is read from one place only"),
            );
            KeyPlace::Header(super::header_name(h, errors))
        }
        (Some(h), None) => KeyPlace::Header(super::header_name(h, errors)),
        (None, Some(q)) => KeyPlace::Query(q.value.clone()),
        (None, None) => KeyPlace::Header(HeaderName::from_static("x-api-key")),
    };
    let secrets = keys::collect_some(
        &config.keys,
        config.keys_file.as_ref(),
        at,
        adapter_file,
        "key",
        errors,
    );
    ApiKeyGuard {
        place,
        keys: secrets
            .into_iter()
            .map(|s| (s.name, sha256(&s.value)))
            .collect(),
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

impl ApiKeyGuard {
    /// The header or query parameter that carries the key.
    pub(crate) fn place_name(&self) -> &str {
        match &self.place {
            KeyPlace::Header(h) => h.as_str(),
            KeyPlace::Query(q) => q,
        }
    }

    /// The name of the key presented, if it is one of ours.
    pub(crate) fn admit(&self, request: &Presented) -> Option<Arc<str>> {
        let presented = match &self.place {
            KeyPlace::Header(name) => Cow::Borrowed(request.headers.get(name)?.as_bytes()),
            KeyPlace::Query(name) => {
                request
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| match v {
                        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                    })?
            }
        };
        if presented.is_empty() {
            return None;
        }
        let presented = sha256(&presented);
        // Every key is compared, whichever matches, so the time taken says nothing about which.
        let mut found = None;
        for (name, key) in &self.keys {
            if bool::from(key.ct_eq(&presented)) {
                found = Some(name.clone());
            }
        }
        found
    }
}
