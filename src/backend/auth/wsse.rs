//! WS-Security (OASIS WSS 1.0): a `UsernameToken` with PasswordText or PasswordDigest, and an
//! optional `Timestamp`, written into the `soap:Header` of an envelope ponte rendered.
//!
//! Each attempt gets a fresh random nonce and the current time, so a retried call is not a
//! replay. Every value is escaped as it is written; nothing is concatenated unescaped.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use quick_xml::escape::escape;

use super::config::WsSecurityAuth;

const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const TOKEN_PROFILE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0";
const BASE64_BINARY: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

/// A UsernameToken's settings, compiled once.
#[derive(Clone, PartialEq)]
pub struct WsSecurity {
    username: String,
    password: String,
    digest: bool,
    timestamp: Option<Duration>,
}

impl WsSecurity {
    pub(crate) fn compile(model: &WsSecurityAuth) -> WsSecurity {
        WsSecurity {
            username: model.username.clone(),
            password: model.password.clone(),
            digest: model.digest,
            timestamp: model.timestamp.as_ref().map(|t| t.value.0),
        }
    }

    /// `envelope` with a `wsse:Security` header inserted at `slot` (a byte offset inside its
    /// `soap:Header`, chosen by the envelope compiler).
    pub(crate) fn insert(&self, envelope: &Bytes, slot: usize) -> Bytes {
        let Some((head, tail)) = envelope.split_at_checked(slot) else {
            return envelope.clone();
        };
        let header = self.header(SystemTime::now(), &fresh_nonce());
        let mut out = Vec::with_capacity(envelope.len() + header.len());
        out.extend_from_slice(head);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(tail);
        Bytes::from(out)
    }

    /// The `wsse:Security` element for a message created at `now` with this nonce.
    fn header(&self, now: SystemTime, nonce: &[u8]) -> String {
        let created = timestamp(now);
        let mut xml = String::with_capacity(1024);
        let _ = write!(
            xml,
            "<wsse:Security xmlns:wsse=\"{WSSE}\" xmlns:wsu=\"{WSU}\" soap:mustUnderstand=\"1\">"
        );
        if let Some(ttl) = self.timestamp {
            let expires = timestamp(now + ttl);
            let _ = write!(
                xml,
                "<wsu:Timestamp wsu:Id=\"TS-1\"><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>"
            );
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let (kind, password) = if self.digest {
            (
                "PasswordDigest",
                password_digest(nonce, &created, &self.password),
            )
        } else {
            ("PasswordText", self.password.clone())
        };
        let _ = write!(
            xml,
            "<wsse:UsernameToken wsu:Id=\"UT-1\"><wsse:Username>{}</wsse:Username><wsse:Password Type=\"{TOKEN_PROFILE}#{kind}\">{}</wsse:Password><wsse:Nonce EncodingType=\"{BASE64_BINARY}\">{}</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>",
            escape(self.username.as_str()),
            escape(password.as_str()),
            b64.encode(nonce),
        );
        xml
    }
}

/// Base64(SHA-1(nonce + created + password)), the UsernameToken profile's PasswordDigest.
fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(nonce);
    context.update(created.as_bytes());
    context.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(context.finish().as_ref())
}

/// 16 random bytes from the system's CSPRNG.
fn fresh_nonce() -> [u8; 16] {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut nonce = [0u8; 16];
    // The system generator does not fail on the platforms ponte runs on; if it ever did, the
    // time-based fallback still differs per call (a nonce must be unique, not secret).
    if aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut nonce)
        .is_err()
    {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        nonce = nanos.to_le_bytes();
    }
    nonce
}

/// `2026-12-01T14:05:09.123Z`: UTC with milliseconds, as WS-Security implementations expect.
fn timestamp(at: SystemTime) -> String {
    let mut micro = Vec::with_capacity(32);
    crate::server::access_log::write_timestamp(at, &mut micro);
    // `...:09.123456Z` -> `...:09.123Z`
    let text = String::from_utf8_lossy(&micro);
    match text.rsplit_once('.') {
        Some((seconds, fraction)) => format!("{seconds}.{}Z", &fraction[..3.min(fraction.len())]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wsse(digest: bool, timestamp: Option<Duration>) -> WsSecurity {
        WsSecurity {
            username: "ana&bob".into(),
            password: "p<ss".into(),
            digest,
            timestamp,
        }
    }

    #[test]
    fn the_digest_follows_the_username_token_profile() {
        // The expected value was computed apart from ponte, with Python's hashlib and base64:
        // b64encode(sha1(b64decode(nonce) + created + password)).
        let nonce = base64::engine::general_purpose::STANDARD
            .decode("kcCUOdSTnWtddTawbaHNpw==")
            .unwrap();
        let digest = password_digest(&nonce, "2003-07-16T01:24:32Z", "taadtaadpstcsm");
        assert_eq!(digest, "3yCnYVwP0G90FKo9WMDH27IPJcQ=");
    }

    #[test]
    fn values_are_escaped_and_the_timestamp_has_a_ttl() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_597_600);
        let xml = wsse(false, Some(Duration::from_secs(300))).header(at, &[1; 16]);
        assert!(
            xml.contains("<wsse:Username>ana&amp;bob</wsse:Username>"),
            "{xml}"
        );
        assert!(
            xml.contains("#PasswordText\">p&lt;ss</wsse:Password>"),
            "{xml}"
        );
        assert!(xml.contains("<wsu:Created>2025-12-01T14:00:00.000Z</wsu:Created><wsu:Expires>2025-12-01T14:05:00.000Z</wsu:Expires>"), "{xml}");
    }
}
