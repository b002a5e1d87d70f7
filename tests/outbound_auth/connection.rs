//! `backend.tls` and `backend.proxy`: a TLS stand-in (tokio-rustls) whose certificates come from a
//! CA generated here (rcgen), that may require a client certificate; and a forward proxy
//! stand-in on loopback.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

use crate::{adapter_dir, ponte_with};

/// A private CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ponte test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "ponte");
        let client = client_params.signed_by(&client_key, &issuer).unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("client.pem"), client.pem()).unwrap();
        std::fs::write(dir.path().join("client.key"), client_key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca_pem: ca.pem(),
            server_cert: server.der().clone(),
            server_key: rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der())
                .unwrap(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

/// What the TLS stand-in saw: completed requests (with whether a client certificate came) and
/// failed handshakes.
#[derive(Default)]
struct Seen {
    requests: Vec<bool>,
    failed_handshakes: usize,
}

/// An HTTPS backend on 127.0.0.1 answering `<r><ok>yes</ok></r>`; with `require_client_cert`,
/// only to clients with a certificate from the test CA.
async fn tls_backend(pki: &Pki, require_client_cert: bool) -> (String, Arc<Mutex<Seen>>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(pki.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/service", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    log.lock().unwrap().failed_handshakes += 1;
                    return;
                };
                let with_cert = tls.get_ref().1.peer_certificates().is_some();
                if read_head(&mut tls).await.is_none() {
                    log.lock().unwrap().failed_handshakes += 1;
                    return;
                }
                log.lock().unwrap().requests.push(with_cert);
                let _ = tls.write_all(&http_ok("<r><ok>yes</ok></r>")).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, seen)
}

/// Reads a request head (up to the blank line); `None` when the peer went away first.
async fn read_head(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn http_ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn mtls_backend_answers_with_the_client_certificate() {
    let pki = Pki::new();
    let (url, seen) = tls_backend(&pki, true).await;
    let env = [
        ("BACKEND_URL", url.as_str()),
        ("CA_FILE", &pki.path("ca.pem")),
        ("CLIENT_CERT", &pki.path("client.pem")),
        ("CLIENT_KEY", &pki.path("client.key")),
    ];
    let answer = ponte_with("mtls", &env).await.get("/mtls/ping").await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(seen.lock().unwrap().requests, vec![true]);
}

#[tokio::test]
async fn mtls_backend_without_a_client_certificate_is_a_clear_502() {
    let pki = Pki::new();
    let (url, seen) = tls_backend(&pki, true).await;
    let env = [
        ("BACKEND_URL", url.as_str()),
        ("CA_FILE", &pki.path("ca.pem")),
    ];
    let answer = ponte_with("privateca", &env)
        .await
        .get("/privateca/ping")
        .await;
    answer.assert_problem(502, "backend_unreachable");
    assert!(
        answer.detail().contains("wants a client certificate"),
        "{}",
        answer.text
    );
    answer.assert_hides("127.0.0.1");
    let seen = seen.lock().unwrap();
    assert!(seen.requests.is_empty() && seen.failed_handshakes > 0);
}

#[tokio::test]
async fn a_private_ca_is_trusted_through_ca_file_only() {
    let pki = Pki::new();
    let (url, seen) = tls_backend(&pki, false).await;
    // Without `tls`, the system roots (and SSL_CERT_FILE) do not know the CA.
    let plain = ponte_with("plain", &[("BACKEND_URL", url.as_str())]).await;
    let refused = plain.get("/plain/ping").await;
    refused.assert_problem(502, "backend_unreachable");
    assert!(
        refused.detail().contains("certificate is not trusted"),
        "{}",
        refused.text
    );
    // With `tls.ca_file`, the same server is trusted.
    let env = [
        ("BACKEND_URL", url.as_str()),
        ("CA_FILE", &pki.path("ca.pem")),
    ];
    let answer = ponte_with("privateca", &env)
        .await
        .get("/privateca/ping")
        .await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(seen.lock().unwrap().requests, vec![false]);
}

#[tokio::test]
async fn a_ca_file_that_is_not_a_certificate_is_a_diagnostic() {
    let dir = adapter_dir("privateca");
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let env = std::collections::HashMap::from([
        (
            "BACKEND_URL".to_string(),
            "https://127.0.0.1:9/".to_string(),
        ),
        ("CA_FILE".to_string(), bogus.to_string_lossy().into_owned()),
    ]);
    let lookup = move |n: &str| env.get(n).cloned();
    let loaded = ponte::plan::load_dir(dir.path(), &lookup);
    let text: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    let text = text.join("\n");
    assert!(
        text.contains("privateca.yaml:5:19: ca_file holds no PEM certificate"),
        "{text}"
    );
}

/// A forward proxy stand-in: takes absolute-URI requests and answers them itself, recording the
/// request line.
async fn forward_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let log = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut tcp).await {
                    let line = head.lines().next().unwrap_or_default().to_string();
                    log.lock().unwrap().push(line);
                    if tcp
                        .write_all(&http_ok("<r><ok>yes</ok></r>"))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, lines)
}

#[tokio::test]
async fn calls_go_through_the_configured_proxy() {
    let (proxy, lines) = forward_proxy().await;
    // Nothing listens at the backend address: only the proxy can answer.
    let env = [
        ("BACKEND_URL", "http://127.0.0.1:9/service"),
        ("PROXY_URL", proxy.as_str()),
    ];
    let answer = ponte_with("proxied", &env).await.get("/proxied/ping").await;
    assert_eq!(answer.json, json!({"ok": "yes"}), "{}", answer.text);
    assert_eq!(
        *lines.lock().unwrap(),
        vec!["GET http://127.0.0.1:9/service/ping HTTP/1.1".to_string()]
    );
}

#[tokio::test]
async fn proxy_from_env_follows_http_proxy_and_other_backends_ignore_it() {
    let (proxy, lines) = forward_proxy().await;
    let direct = crate::common::StandIn::always(crate::ok_reply()).await;
    let dir = adapter_dir("fromenv");
    std::fs::copy(
        crate::common::repo_path("tests/outauth-adapters/plain.yaml"),
        dir.path().join("plain.yaml"),
    )
    .unwrap();
    let (mut child, base) = serve_process(dir.path(), |command| {
        command
            .env("PROXIED_URL", "http://127.0.0.1:9/service")
            .env("BACKEND_URL", &direct.url)
            .env("HTTP_PROXY", &proxy);
        for unset in [
            "NO_PROXY",
            "no_proxy",
            "ALL_PROXY",
            "all_proxy",
            "http_proxy",
        ] {
            command.env_remove(unset);
        }
    })
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let via_proxy = client.get(format!("{base}/fromenv/ping")).send().await;
    let direct_answer = client.get(format!("{base}/plain/ping")).send().await;
    child.kill().ok();
    child.wait().ok();
    assert_eq!(via_proxy.unwrap().status(), 200);
    assert_eq!(direct_answer.unwrap().status(), 200);
    assert_eq!(
        *lines.lock().unwrap(),
        vec!["GET http://127.0.0.1:9/service/ping HTTP/1.1".to_string()],
        "only the from_env backend went through the proxy"
    );
    assert_eq!(direct.count(), 1);
}

/// `ponte serve` as a process of its own over `dir` (for settings read from the process
/// environment), once it answers; the caller kills it.
async fn serve_process(
    dir: &std::path::Path,
    env: impl FnOnce(&mut std::process::Command),
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"));
    command
        .args(["serve", "--adapters"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    env(&mut command);
    let child = command.spawn().expect("ponte starts");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while client
        .get(format!("{base}/_ponte/health"))
        .send()
        .await
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline, "ponte did not start");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child, base)
}

#[tokio::test]
async fn ssl_cert_file_does_not_override_an_adapters_ca_file() {
    let (own, other) = (Pki::new(), Pki::new());
    // The server's certificate is from `other`; the machine's SSL_CERT_FILE trusts `other`;
    // the adapter trusts only its own CA.
    let (url, seen) = tls_backend(&other, false).await;
    let dir = adapter_dir("privateca");
    std::fs::copy(
        crate::common::repo_path("tests/outauth-adapters/plain.yaml"),
        dir.path().join("plain.yaml"),
    )
    .unwrap();
    let (mut child, base) = serve_process(dir.path(), |command| {
        command
            .env("BACKEND_URL", &url)
            .env("CA_FILE", own.path("ca.pem"))
            .env("SSL_CERT_FILE", other.path("ca.pem"));
    })
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let own_ca = client.get(format!("{base}/privateca/ping")).send().await;
    let system = client.get(format!("{base}/plain/ping")).send().await;
    child.kill().ok();
    child.wait().ok();
    assert_eq!(own_ca.unwrap().status(), 502, "ca_file is the only trust");
    assert_eq!(
        system.unwrap().status(),
        200,
        "SSL_CERT_FILE is in effect for a backend without ca_file"
    );
    assert_eq!(seen.lock().unwrap().requests, vec![false]);
}
