//! JWT bearer tokens. Keys are read once at load time, each bound to the one algorithm the config
//! accepts for its kind: a token's `alg` only selects among those, so `alg: none` and an HS256
//! token signed with an RSA public key find no key.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::config::{JwtAlgorithm, JwtAuth};
use super::{Denied, Presented};
use crate::config::Spanned;
use crate::diagnostic::{Diagnostic, Diagnostics, Span};

const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(30);

pub(crate) struct JwtGuard {
    keys: Vec<JwtKey>,
    /// The validation of each accepted algorithm (its list holds that algorithm only).
    validations: HashMap<Algorithm, Validation>,
    credential_claim: String,
    scopes: Vec<String>,
}

struct JwtKey {
    /// The JWKS `kid`, when the key came from a JWKS file.
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

fn algorithm(a: JwtAlgorithm) -> Algorithm {
    match a {
        JwtAlgorithm::HS256 => Algorithm::HS256,
        JwtAlgorithm::RS256 => Algorithm::RS256,
        JwtAlgorithm::ES256 => Algorithm::ES256,
    }
}

pub(crate) fn compile(config: &JwtAuth, adapter_file: &Path, errors: &mut Diagnostics) -> JwtGuard {
    let accepted: Vec<Algorithm> = config
        .algorithms
        .value
        .iter()
        .map(|a| algorithm(a.value))
        .collect();
    if accepted.is_empty() {
        errors.push(
            Diagnostic::error(config.algorithms.span, "no algorithm is accepted")
                .with_help("list one or more of HS256, RS256, ES256"),
        );
    }
    let for_family =
        |family: AlgorithmFamily| accepted.iter().copied().find(|a| a.family() == family);
    let mut keys = Vec::new();
    if let Some(secret) = &config.secret {
        secret_key(secret, for_family(AlgorithmFamily::Hmac), &mut keys, errors);
    }
    for file in &config.public_keys {
        pem_key(file, adapter_file, &for_family, &mut keys, errors);
    }
    if let Some(file) = &config.jwks {
        jwks_keys(file, adapter_file, &for_family, &mut keys, errors);
    }
    for a in &config.algorithms.value {
        if !keys.iter().any(|k| k.algorithm == algorithm(a.value)) {
            errors.push(
                Diagnostic::error(a.span, format!("{:?} has no key", a.value)).with_help(
                    "HS256 needs `secret`; RS256 and ES256 need `public_keys` or `jwks` of that kind",
                ),
            );
        }
    }
    let skew = config
        .clock_skew
        .as_ref()
        .map_or(DEFAULT_CLOCK_SKEW, |d| d.value.0);
    let validations = accepted
        .iter()
        .map(|a| (*a, validation(*a, config, skew)))
        .collect();
    JwtGuard {
        keys,
        validations,
        credential_claim: config
            .credential_claim
            .clone()
            .unwrap_or_else(|| "sub".to_string()),
        scopes: config.scopes.clone(),
    }
}

fn validation(algorithm: Algorithm, config: &JwtAuth, skew: Duration) -> Validation {
    let mut v = Validation::new(algorithm);
    v.leeway = skew.as_secs();
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = &config.issuer {
        v.set_issuer(&[issuer]);
        required.push("iss");
    }
    if config.audience.is_empty() {
        v.validate_aud = false;
    } else {
        v.set_audience(&config.audience);
        required.push("aud");
    }
    v.set_required_spec_claims(&required);
    v
}

fn secret_key(
    secret: &Spanned<String>,
    algorithm: Option<Algorithm>,
    keys: &mut Vec<JwtKey>,
    errors: &mut Diagnostics,
) {
    let Some(algorithm) = algorithm else {
        errors.push(Diagnostic::error(
            secret.span,
            "`secret` is for HS256, which `algorithms` does not list",
        ));
        return;
    };
    if secret.value.len() < 32 {
        errors.push(
            Diagnostic::error(secret.span, "the HS256 secret is shorter than 32 bytes")
                .with_help("a shorter secret can be guessed offline from any token signed with it"),
        );
        return;
    }
    match DecodingKey::from_secret(secret.value.as_bytes()) {
        Ok(key) => keys.push(JwtKey {
            kid: None,
            algorithm,
            key,
        }),
        Err(_) => errors.push(Diagnostic::error(
            secret.span,
            "the HS256 secret is not usable",
        )),
    }
}

fn read(file: &Spanned<String>, adapter_file: &Path, errors: &mut Diagnostics) -> Option<Vec<u8>> {
    let path = adapter_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(&file.value);
    std::fs::read(&path)
        .map_err(|e| {
            errors.push(
                Diagnostic::error(file.span, format!("cannot read `{}`: {e}", file.value))
                    .with_help("the path is relative to the adapter file"),
            );
        })
        .ok()
}

fn pem_key(
    file: &Spanned<String>,
    adapter_file: &Path,
    for_family: &dyn Fn(AlgorithmFamily) -> Option<Algorithm>,
    keys: &mut Vec<JwtKey>,
    errors: &mut Diagnostics,
) {
    let Some(pem) = read(file, adapter_file, errors) else {
        return;
    };
    let Some(key) = DecodingKey::from_rsa_pem(&pem)
        .or_else(|_| DecodingKey::from_ec_pem(&pem))
        .ok()
    else {
        errors.push(
            Diagnostic::error(
                file.span,
                format!("`{}` is not a PEM RSA or EC public key", file.value),
            )
            .with_help("write the public key as `-----BEGIN PUBLIC KEY-----` PEM"),
        );
        return;
    };
    bind(None, key, file.span, for_family, keys, errors);
}

fn jwks_keys(
    file: &Spanned<String>,
    adapter_file: &Path,
    for_family: &dyn Fn(AlgorithmFamily) -> Option<Algorithm>,
    keys: &mut Vec<JwtKey>,
    errors: &mut Diagnostics,
) {
    let Some(bytes) = read(file, adapter_file, errors) else {
        return;
    };
    let set: JwkSet = match serde_json::from_slice(&bytes) {
        Ok(set) => set,
        Err(e) => {
            errors.push(Diagnostic::error(
                file.span,
                format!("`{}` is not a JWKS document: {e}", file.value),
            ));
            return;
        }
    };
    let before = keys.len();
    for jwk in &set.keys {
        // Keys of kinds the config does not accept (or cannot be used) are skipped: a JWKS
        // often publishes more than one service needs.
        if let Ok(key) = DecodingKey::from_jwk(jwk)
            && let Some(algorithm) = for_family(key.family())
        {
            keys.push(JwtKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            });
        }
    }
    if keys.len() == before {
        errors.push(Diagnostic::error(
            file.span,
            format!("`{}` has no key for the listed algorithms", file.value),
        ));
    }
}

/// Binds a public key to the accepted algorithm of its family.
fn bind(
    kid: Option<String>,
    key: DecodingKey,
    at: Span,
    for_family: &dyn Fn(AlgorithmFamily) -> Option<Algorithm>,
    keys: &mut Vec<JwtKey>,
    errors: &mut Diagnostics,
) {
    match for_family(key.family()) {
        Some(algorithm) => keys.push(JwtKey {
            kid,
            algorithm,
            key,
        }),
        None => errors.push(Diagnostic::error(
            at,
            format!(
                "this {:?} key fits no algorithm that `algorithms` lists",
                key.family()
            ),
        )),
    }
}

impl JwtGuard {
    /// The credential claim of a valid bearer token.
    pub(crate) fn admit(&self, request: &Presented) -> Result<Arc<str>, Denied> {
        let claims = self.verify(request).ok_or(Denied::Unauthenticated)?;
        let credential = match claims.get(&self.credential_claim) {
            Some(Value::String(s)) if !s.is_empty() => Arc::from(s.as_str()),
            _ => return Err(Denied::Unauthenticated),
        };
        let granted: Vec<&str> = claims
            .get("scope")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        if self.scopes.iter().all(|s| granted.contains(&s.as_str())) {
            Ok(credential)
        } else {
            Err(Denied::Forbidden)
        }
    }

    /// The claims of a token that one of our keys signed and whose times, issuer and audience hold.
    fn verify(&self, request: &Presented) -> Option<Map<String, Value>> {
        let value = request.headers.get(axum::http::header::AUTHORIZATION)?;
        let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        let header = jsonwebtoken::decode_header(token).ok()?;
        let validation = self.validations.get(&header.alg)?;
        self.keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| match (&k.kid, &header.kid) {
                (Some(ours), Some(theirs)) => ours == theirs,
                _ => true,
            })
            .find_map(|k| {
                jsonwebtoken::decode::<Map<String, Value>>(token, &k.key, validation).ok()
            })
            .map(|data| data.claims)
    }
}
