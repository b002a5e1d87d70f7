//! Inbound auth end to end: API keys, HMAC-signed bodies and JWT bearer tokens, each accepted when
//! right and refused (401 naming the scheme, or 403) when anything is wrong, with the backend
//! stand-in never called on a refusal. Keys are generated here; no private key is committed.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Answer, Ponte, Reply, StandIn, guarded_calculator, repo_path};
use serde_json::{Value, json};

const FLOWS_KEY: &str = "flows-test-key-9f8e7d6c5b4a";
const PARTNER_KEY: &str = "partner-test-key-0123456789";
const HMAC_SECRET: &str = "hmac-test-secret-for-signing";
const JWT_SECRET: &str = "jwt-test-secret-at-least-32-bytes-long!";

fn hello() -> Reply {
    Reply::xml(200, "<hello><text>hi</text></hello>")
}

fn env(backend: &StandIn) -> HashMap<String, String> {
    HashMap::from([
        ("AUTH_URL".to_string(), backend.url.clone()),
        ("FLOWS_KEY".to_string(), FLOWS_KEY.to_string()),
        ("HMAC_SECRET".to_string(), HMAC_SECRET.to_string()),
        ("JWT_SECRET".to_string(), JWT_SECRET.to_string()),
    ])
}

async fn keyed() -> (StandIn, Ponte) {
    let backend = StandIn::always(hello()).await;
    let ponte = Ponte::start(&repo_path("tests/auth-adapters"), env(&backend)).await;
    (backend, ponte)
}

async fn get_with(ponte: &Ponte, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = ponte.client.get(ponte.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    ponte.send(request).await
}

/// A 401 problem whose challenge names `scheme`; the detail is the one every refusal has.
fn assert_refused(answer: &Answer, scheme: &str) {
    answer.assert_problem(401, "unauthorized");
    let challenge = answer
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with(&format!("{scheme} realm=")),
        "{challenge}"
    );
    assert_eq!(
        answer.detail(),
        "the call does not carry valid credentials for this route"
    );
}

// --- API keys ---

#[tokio::test]
async fn api_key_in_the_header_reaches_the_backend() {
    let (backend, ponte) = keyed().await;
    let answer = get_with(&ponte, "/keys/hello", &[("X-Api-Key", FLOWS_KEY)]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"greeting": "hi"}));
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn api_key_from_the_keys_file_is_accepted() {
    let (backend, ponte) = keyed().await;
    let answer = get_with(&ponte, "/keys/hello", &[("X-Api-Key", PARTNER_KEY)]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn wrong_missing_or_misplaced_api_keys_are_401_and_never_reach_the_backend() {
    let (backend, ponte) = keyed().await;
    let wrong = get_with(
        &ponte,
        "/keys/hello",
        &[("X-Api-Key", "flows-test-key-0000")],
    )
    .await;
    let prefix = get_with(&ponte, "/keys/hello", &[("X-Api-Key", &FLOWS_KEY[..10])]).await;
    let empty = get_with(&ponte, "/keys/hello", &[("X-Api-Key", "")]).await;
    let missing = get_with(&ponte, "/keys/hello", &[]).await;
    let in_query = get_with(&ponte, &format!("/keys/hello?X-Api-Key={FLOWS_KEY}"), &[]).await;
    let other_header = get_with(&ponte, "/keys/hello", &[("Authorization", FLOWS_KEY)]).await;
    for answer in [&wrong, &prefix, &empty, &missing, &in_query, &other_header] {
        assert_refused(answer, "ApiKey");
        answer.assert_hides(FLOWS_KEY);
    }
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn a_route_that_reads_its_key_from_the_query_refuses_it_in_the_header() {
    let (backend, ponte) = keyed().await;
    let ok = get_with(&ponte, &format!("/keys/by-query?api_key={FLOWS_KEY}"), &[]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(backend.count(), 1);
    let in_header = get_with(&ponte, "/keys/by-query", &[("X-Api-Key", FLOWS_KEY)]).await;
    assert_refused(&in_header, "ApiKey");
    // The adapter's keys file is not this route's: the override replaces the adapter's auth.
    let partner = get_with(
        &ponte,
        &format!("/keys/by-query?api_key={PARTNER_KEY}"),
        &[],
    )
    .await;
    assert_refused(&partner, "ApiKey");
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn a_route_with_auth_none_is_open_and_operational_endpoints_are_unaffected() {
    let (backend, ponte) = keyed().await;
    let open = get_with(&ponte, "/keys/open", &[]).await;
    assert_eq!(open.status, 200, "{}", open.text);
    assert_eq!(backend.count(), 1);
    let health = get_with(&ponte, "/_ponte/health", &[]).await;
    assert_eq!(health.status, 200);
}

// --- HMAC ---

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(algorithm: hmac::Algorithm, bytes: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(algorithm, HMAC_SECRET.as_bytes());
    hmac::sign(&key, bytes).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// POSTs `body` as it is, with these headers.
async fn post_signed(
    ponte: &Ponte,
    path: &str,
    body: &'static str,
    headers: &[(&str, String)],
) -> Answer {
    let mut request = ponte
        .client
        .post(ponte.url(path))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    ponte.send(request).await
}

/// The signature header of `signed.order`: `sha256=` and the hex HMAC of `<timestamp>.<body>`.
fn order_signature(timestamp: u64, body: &str) -> String {
    let signed = format!("{timestamp}.{body}");
    format!(
        "sha256={}",
        hex(&sign(hmac::HMAC_SHA256, signed.as_bytes()))
    )
}

/// Spacing and key order a re-serialised body would lose: the signature covers these bytes.
const ORDER: &str = "{ \"item\" :\"book\" ,\n  \"note\": \"\\u00e9\" }";

#[tokio::test]
async fn hmac_over_the_exact_bytes_received_is_accepted() {
    let (backend, ponte) = keyed().await;
    let t = now();
    let answer = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[
            ("X-Signature", order_signature(t, ORDER)),
            ("X-Timestamp", t.to_string()),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 1);
    assert_eq!(backend.last().body, "item=book");
}

#[tokio::test]
async fn hmac_of_a_tampered_body_a_stale_timestamp_or_a_missing_header_is_401() {
    let (backend, ponte) = keyed().await;
    let t = now();
    let tampered = post_signed(
        &ponte,
        "/signed/orders",
        "{ \"item\" :\"boot\" ,\n  \"note\": \"\\u00e9\" }",
        &[
            ("X-Signature", order_signature(t, ORDER)),
            ("X-Timestamp", t.to_string()),
        ],
    )
    .await;
    let stale_t = t - 301;
    let stale = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[
            ("X-Signature", order_signature(stale_t, ORDER)),
            ("X-Timestamp", stale_t.to_string()),
        ],
    )
    .await;
    let future_t = t + 301;
    let future = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[
            ("X-Signature", order_signature(future_t, ORDER)),
            ("X-Timestamp", future_t.to_string()),
        ],
    )
    .await;
    // A fresh timestamp on a signature made for another one (the timestamp is signed).
    let swapped = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[
            ("X-Signature", order_signature(t - 10, ORDER)),
            ("X-Timestamp", t.to_string()),
        ],
    )
    .await;
    let no_timestamp = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[("X-Signature", order_signature(t, ORDER))],
    )
    .await;
    let no_signature = post_signed(
        &ponte,
        "/signed/orders",
        ORDER,
        &[("X-Timestamp", t.to_string())],
    )
    .await;
    for answer in [
        &tampered,
        &stale,
        &future,
        &swapped,
        &no_timestamp,
        &no_signature,
    ] {
        assert_refused(answer, "HMAC");
    }
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn a_route_may_sign_with_sha512_in_base64_without_a_timestamp() {
    let (backend, ponte) = keyed().await;
    let body = "{\"item\":\"pen\"}";
    let signature = STANDARD.encode(sign(hmac::HMAC_SHA512, body.as_bytes()));
    let ok = post_signed(
        &ponte,
        "/signed/plain",
        body,
        &[("X-Signature", signature.clone())],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(backend.count(), 1);
    // The same bytes signed with sha256, or the right signature in hex, are refused.
    let sha256 = STANDARD.encode(sign(hmac::HMAC_SHA256, body.as_bytes()));
    let wrong_algorithm =
        post_signed(&ponte, "/signed/plain", body, &[("X-Signature", sha256)]).await;
    let as_hex = hex(&sign(hmac::HMAC_SHA512, body.as_bytes()));
    let wrong_encoding =
        post_signed(&ponte, "/signed/plain", body, &[("X-Signature", as_hex)]).await;
    assert_refused(&wrong_algorithm, "HMAC");
    assert_refused(&wrong_encoding, "HMAC");
    assert_eq!(backend.count(), 1);
}

// --- JWT ---

/// Test keys, generated per run: an RSA and an EC (P-256) key pair.
struct Keys {
    rsa: rcgen::KeyPair,
    ec: rcgen::KeyPair,
}

impl Keys {
    fn generate() -> Keys {
        Keys {
            rsa: rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key"),
            ec: rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("an EC key"),
        }
    }

    /// The JWKS of the EC key, under `kid` `ec-1`.
    fn jwks(&self) -> Value {
        let point = self.ec.public_key_raw(); // 0x04 || x || y
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "ec-1", "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]})
    }
}

/// An adapter accepting HS256, RS256 (PEM file) and ES256 (JWKS file), written with its key files
/// into `dir`; route `rsa-only` accepts RS256 alone and `admin` wants the `admin` scope.
fn write_token_adapter(dir: &Path, keys: &Keys) {
    std::fs::write(dir.join("rsa.pem"), keys.rsa.public_key_pem()).unwrap();
    std::fs::write(dir.join("jwks.json"), keys.jwks().to_string()).unwrap();
    std::fs::write(
        dir.join("tokens.yaml"),
        r#"name: tokens
backend:
  http: { url: "${AUTH_URL}" }
  timeout: 2s
auth:
  jwt:
    algorithms: [HS256, RS256, ES256]
    secret: "${JWT_SECRET}"
    public_keys: [rsa.pem]
    jwks: jwks.json
    issuer: https://issuer.test
    audience: [ponte]
    clock_skew: 5s
routes:
  hello:
    method: GET
    path: /hello
    call: { path: /hello }
    response: { greeting: hello.text }
  rsa-only:
    method: GET
    path: /rsa-only
    auth:
      jwt: { algorithms: [RS256], public_keys: [rsa.pem] }
    call: { path: /hello }
    response: { greeting: hello.text }
  admin:
    method: GET
    path: /admin
    auth:
      jwt: { algorithms: [HS256], secret: "${JWT_SECRET}", scopes: [admin] }
    call: { path: /hello }
    response: { greeting: hello.text }
"#,
    )
    .unwrap();
}

async fn tokens() -> (StandIn, Ponte, Keys, tempfile::TempDir) {
    let keys = Keys::generate();
    let dir = tempfile::tempdir().unwrap();
    write_token_adapter(dir.path(), &keys);
    let backend = StandIn::always(hello()).await;
    let ponte = Ponte::start(dir.path(), env(&backend)).await;
    (backend, ponte, keys, dir)
}

/// Claims that pass: the right issuer and audience, valid for the next minute.
fn good_claims() -> Value {
    json!({"sub": "flow-42", "iss": "https://issuer.test", "aud": "ponte", "exp": now() + 60})
}

fn token(
    alg: jsonwebtoken::Algorithm,
    key: &jsonwebtoken::EncodingKey,
    kid: Option<&str>,
    claims: &Value,
) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap();
    token(jsonwebtoken::Algorithm::HS256, &key, None, claims)
}

fn rs256(keys: &Keys, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(keys.rsa.serialize_pem().as_bytes()).unwrap();
    token(jsonwebtoken::Algorithm::RS256, &key, None, claims)
}

fn es256(keys: &Keys, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(keys.ec.serialize_pem().as_bytes()).unwrap();
    token(jsonwebtoken::Algorithm::ES256, &key, Some("ec-1"), claims)
}

async fn bearer(ponte: &Ponte, path: &str, token: &str) -> Answer {
    get_with(
        ponte,
        path,
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn jwts_signed_with_each_accepted_algorithm_reach_the_backend() {
    let (backend, ponte, keys, _dir) = tokens().await;
    for token in [
        hs256(&good_claims()),
        rs256(&keys, &good_claims()),
        es256(&keys, &good_claims()),
    ] {
        let answer = bearer(&ponte, "/tokens/hello", &token).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!(backend.count(), 3);
}

#[tokio::test]
async fn expired_not_yet_valid_wrong_issuer_or_audience_jwts_are_401() {
    let (backend, ponte, keys, _dir) = tokens().await;
    let with = |key: &str, value: Value| {
        let mut claims = good_claims();
        claims[key] = value;
        claims
    };
    let mut without_exp = good_claims();
    without_exp.as_object_mut().unwrap().remove("exp");
    let refused = [
        with("exp", json!(now() - 60)),
        with("nbf", json!(now() + 60)),
        with("iss", json!("https://other.test")),
        with("aud", json!("someone-else")),
        with("sub", json!(42)),
        without_exp,
    ];
    for claims in &refused {
        for token in [hs256(claims), rs256(&keys, claims), es256(&keys, claims)] {
            let answer = bearer(&ponte, "/tokens/hello", &token).await;
            assert_refused(&answer, "Bearer");
        }
    }
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn alg_none_tampered_and_malformed_jwts_are_401() {
    let (backend, ponte, keys, _dir) = tokens().await;
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good_claims().to_string());
    let alg_none = format!("{none_header}.{payload}.");
    // A valid RS256 token whose payload is swapped for another subject.
    let genuine = rs256(&keys, &good_claims());
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(
        json!({"sub": "admin", "iss": "https://issuer.test", "aud": "ponte", "exp": now() + 60})
            .to_string(),
    );
    parts[1] = &other;
    let tampered = parts.join(".");
    for token in [alg_none.as_str(), tampered.as_str(), "not-a-jwt", ""] {
        let answer = bearer(&ponte, "/tokens/hello", token).await;
        assert_refused(&answer, "Bearer");
    }
    let basic = get_with(
        &ponte,
        "/tokens/hello",
        &[("Authorization", &format!("Basic {}", hs256(&good_claims())))],
    )
    .await;
    assert_refused(&basic, "Bearer");
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_401() {
    let (backend, ponte, keys, _dir) = tokens().await;
    let public_pem = keys.rsa.public_key_pem();
    let key = jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()).unwrap();
    let forged = token(jsonwebtoken::Algorithm::HS256, &key, None, &good_claims());
    // Where only RS256 is accepted, and where HS256 is too (with its own secret).
    for path in ["/tokens/rsa-only", "/tokens/hello"] {
        let answer = bearer(&ponte, path, &forged).await;
        assert_refused(&answer, "Bearer");
    }
    assert_eq!(backend.count(), 0);
    // The route does take a genuine RS256 token.
    let answer = bearer(&ponte, "/tokens/rsa-only", &rs256(&keys, &good_claims())).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn a_valid_jwt_without_the_required_scope_is_403() {
    let (backend, ponte, _keys, _dir) = tokens().await;
    let mut claims = good_claims();
    claims["scope"] = json!("read write");
    let answer = bearer(&ponte, "/tokens/admin", &hs256(&claims)).await;
    answer.assert_problem(403, "forbidden");
    assert_eq!(backend.count(), 0);
    claims["scope"] = json!("read admin");
    let answer = bearer(&ponte, "/tokens/admin", &hs256(&claims)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.count(), 1);
}

// --- configuration ---

#[test]
fn check_reports_auth_mistakes_at_their_position_without_printing_keys() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check", "--adapters", "tests/auth-broken-adapters"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ponte runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "schemes.yaml:6:3: unknown value `basic`",
        "schemes.yaml:12:29: cannot read `no-such-keys.txt`",
        "schemes.yaml:19:34: unknown value `none`",
        "schemes.yaml:26:29: line 2 of `bad-keys.txt` is not `name: value`",
    ] {
        assert!(stderr.contains(expected), "`{expected}` not in:\n{stderr}");
    }
    assert!(
        !stderr.contains("s3cr3t"),
        "a key file's content leaked: {stderr}"
    );
    // The unknown scheme is reported once, not again as an empty `auth:` after it was cut out.
    assert_eq!(stderr.matches("schemes.yaml:6:").count(), 1, "{stderr}");
}

// --- mock mode ---

#[tokio::test]
async fn mock_mode_checks_auth_like_the_live_server() {
    let dir = tempfile::tempdir().unwrap();
    guarded_calculator(dir.path(), FLOWS_KEY);
    let options = ponte::plan::LoadOptions {
        missing_env_is_empty: true,
        ..Default::default()
    };
    let plan = ponte::plan::load_dir_with(&dir.path().join("adapters"), &|_: &str| None, &options)
        .plan
        .expect("adapters load");
    let (cases, diagnostics) = ponte::fixture::load(&dir.path().join("fixtures"), &plan);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let set = ponte::fixture::mock::MockSet::new(&plan, &cases);
    let settings = ponte::server::Settings {
        transport: ponte::backend::transport::Transport::Replay(std::sync::Arc::new(set)),
        ..Default::default()
    };
    let ponte = Ponte::serve(plan, settings).await;
    let refused = get_with(&ponte, "/calculator/add?a=2&b=3", &[]).await;
    assert_refused(&refused, "ApiKey");
    assert!(refused.headers.get("x-ponte-fixture").is_none());
    let answer = get_with(
        &ponte,
        "/calculator/add?a=2&b=3",
        &[("X-Api-Key", FLOWS_KEY)],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"result": 5}));
}
