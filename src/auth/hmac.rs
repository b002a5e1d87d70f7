//! HMAC signatures over the exact bytes of the request body, optionally with a signed timestamp
//! that must be recent (a replay of an old signed call is refused).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use axum::http::HeaderName;
use base64::Engine;

use super::Presented;
use super::config::{HmacAlgorithm, HmacAuth, SignatureEncoding};
use super::keys;
use crate::diagnostic::{Diagnostics, Span};

const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

pub(crate) struct HmacGuard {
    header: HeaderName,
    encoding: SignatureEncoding,
    prefix: String,
    secrets: Vec<(Arc<str>, hmac::Key)>,
    timestamp: Option<(HeaderName, Duration)>,
}

pub(crate) fn compile(
    config: &HmacAuth,
    at: Span,
    adapter_file: &Path,
    errors: &mut Diagnostics,
) -> HmacGuard {
    let algorithm = match config.algorithm.unwrap_or(HmacAlgorithm::Sha256) {
        HmacAlgorithm::Sha256 => hmac::HMAC_SHA256,
        HmacAlgorithm::Sha512 => hmac::HMAC_SHA512,
    };
    let secrets = keys::collect_some(
        &config.secrets,
        config.secrets_file.as_ref(),
        at,
        adapter_file,
        "secret",
        errors,
    );
    let header = config.header.as_ref().map_or_else(
        || HeaderName::from_static("x-signature"),
        |h| super::header_name(h, errors),
    );
    let timestamp = config.timestamp.as_ref().map(|t| {
        let header = t.header.as_ref().map_or_else(
            || HeaderName::from_static("x-timestamp"),
            |h| super::header_name(h, errors),
        );
        let tolerance = t
            .tolerance
            .as_ref()
            .map_or(DEFAULT_TOLERANCE, |d| d.value.0);
        (header, tolerance)
    });
    HmacGuard {
        header,
        encoding: config.encoding.unwrap_or(SignatureEncoding::Hex),
        prefix: config.prefix.clone().unwrap_or_default(),
        secrets: secrets
            .into_iter()
            .map(|s| (s.name, hmac::Key::new(algorithm, &s.value)))
            .collect(),
        timestamp,
    }
}

impl HmacGuard {
    /// The header that carries the signature, for the docs.
    pub(crate) fn header(&self) -> &str {
        self.header.as_str()
    }

    /// The signature header (and the timestamp header, when signed).
    pub(crate) fn header_names(&self) -> Vec<&str> {
        let mut names = vec![self.header.as_str()];
        names.extend(self.timestamp.as_ref().map(|(h, _)| h.as_str()));
        names
    }

    /// The name of the secret that signed the request, if one did and the timestamp is fresh.
    pub(crate) fn admit(&self, request: &Presented) -> Option<Arc<str>> {
        let written = request.headers.get(&self.header)?.to_str().ok()?.trim();
        let signature = self.decode(written.strip_prefix(self.prefix.as_str())?)?;
        let timestamp = match &self.timestamp {
            Some((header, tolerance)) => {
                let text = request.headers.get(header)?.to_str().ok()?.trim();
                fresh(text, *tolerance)?;
                Some(text)
            }
            None => None,
        };
        let mut found = None;
        for (name, key) in &self.secrets {
            let mut context = hmac::Context::with_key(key);
            if let Some(t) = timestamp {
                context.update(t.as_bytes());
                context.update(b".");
            }
            context.update(request.body);
            // The tags are compared in constant time; every secret is tried, whichever matches.
            let tag = context.sign();
            if subtle::ConstantTimeEq::ct_eq(tag.as_ref(), signature.as_slice()).into() {
                found = Some(name.clone());
            }
        }
        found
    }

    fn decode(&self, text: &str) -> Option<Vec<u8>> {
        match self.encoding {
            SignatureEncoding::Hex => decode_hex(text),
            SignatureEncoding::Base64 => {
                base64::engine::general_purpose::STANDARD.decode(text).ok()
            }
        }
    }
}

/// Unix seconds within `tolerance` of now, either way.
fn fresh(text: &str, tolerance: Duration) -> Option<()> {
    let then: u64 = text.parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    (now.abs_diff(then) <= tolerance.as_secs()).then_some(())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hex_of_either_case_and_refuses_the_rest() {
        assert_eq!(decode_hex("00fFa1"), Some(vec![0, 255, 161]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn a_timestamp_is_fresh_within_the_tolerance_either_way() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let tolerance = Duration::from_secs(60);
        assert!(fresh(&now.to_string(), tolerance).is_some());
        assert!(fresh(&(now + 50).to_string(), tolerance).is_some());
        assert!(fresh(&(now - 61).to_string(), tolerance).is_none());
        assert!(fresh(&(now + 61).to_string(), tolerance).is_none());
        assert!(fresh("yesterday", tolerance).is_none());
    }
}
