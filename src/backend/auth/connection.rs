//! How ponte connects to one backend: `backend.tls` (a CA bundle of its own, a client
//! certificate) and `backend.proxy`. Files are read and checked when the adapter loads; the
//! backend runtime builds its client from the bytes kept here.
//!
//! A backend without any of these shares the process-wide client (`super::super::http`).

use std::fmt;
use std::path::Path;

use crate::config::Spanned;
use crate::config::model::Backend;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Where connections go through.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProxyChoice {
    /// Straight to the backend; `HTTPS_PROXY` and the like are ignored.
    #[default]
    Direct,
    /// Through this proxy (its URL may carry a user and password: never shown).
    Url(String),
    /// As `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` say.
    FromEnv,
}

/// The connection settings of one backend. `Debug` shows no key material.
#[derive(Clone, Default, PartialEq)]
pub struct Connection {
    /// PEM certificates trusted for this backend, instead of the system's.
    ca: Option<Vec<u8>>,
    /// PEM client certificate chain followed by its key.
    identity: Option<Vec<u8>>,
    proxy: ProxyChoice,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("own_ca", &self.ca.is_some())
            .field("client_certificate", &self.identity.is_some())
            .field(
                "proxy",
                &match self.proxy {
                    ProxyChoice::Direct => "direct",
                    ProxyChoice::Url(_) => "url",
                    ProxyChoice::FromEnv => "from_env",
                },
            )
            .finish()
    }
}

impl Connection {
    /// Whether the process-wide client (system roots, no proxy, no client certificate) fits.
    pub(crate) fn is_default(&self) -> bool {
        *self == Connection::default()
    }

    /// `base` (ponte's common client settings) with this backend's TLS and proxy settings.
    pub(crate) fn client(&self, base: reqwest::ClientBuilder) -> Result<reqwest::Client, String> {
        let mut builder = match &self.proxy {
            ProxyChoice::Direct => base.no_proxy(),
            // reqwest reads the standard variables itself unless told not to.
            ProxyChoice::FromEnv => base,
            ProxyChoice::Url(url) => {
                let proxy = reqwest::Proxy::all(url.as_str())
                    .map_err(|_| "the proxy URL is not valid".to_string())?;
                base.no_proxy().proxy(proxy)
            }
        };
        if let Some(ca) = &self.ca {
            let roots = reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|_| "ca_file holds no valid PEM certificate".to_string())?;
            // Only these: neither the system store nor SSL_CERT_FILE is consulted.
            builder = builder.tls_certs_only(roots);
        }
        if let Some(identity) = &self.identity {
            let identity = reqwest::Identity::from_pem(identity)
                .map_err(|_| "the client certificate or key is not valid PEM".to_string())?;
            builder = builder.identity(identity);
        }
        builder
            .build()
            .map_err(|_| "the TLS settings are not usable (check the certificate and key)".into())
    }
}

/// The connection settings of `backend`, with its files read (relative to `adapter_file`).
/// Every problem is a diagnostic at the key's position.
pub(crate) fn compile(
    backend: &Backend,
    adapter_file: &Path,
    base: impl Fn() -> reqwest::ClientBuilder,
    errors: &mut Diagnostics,
) -> Connection {
    let mut connection = Connection::default();
    if let Some(proxy) = &backend.proxy {
        connection.proxy = proxy_choice(proxy, errors);
    }
    let dir = adapter_file.parent().unwrap_or(Path::new("."));
    if let Some(tls) = &backend.tls {
        if let Some(ca) = &tls.ca_file {
            connection.ca = read(dir, "ca_file", ca, errors).filter(|pem| {
                let ok = reqwest::Certificate::from_pem_bundle(pem).is_ok_and(|c| !c.is_empty());
                if !ok {
                    errors.push(
                        Diagnostic::error(ca.span, "ca_file holds no PEM certificate").with_help(
                            "a CA bundle is one or more -----BEGIN CERTIFICATE----- blocks",
                        ),
                    );
                }
                ok
            });
        }
        connection.identity = identity(dir, tls, errors);
    }
    // Anything rustls refuses (a certificate that does not parse, a key of the wrong kind)
    // shows now, not on the first call.
    if !connection.is_default()
        && !errors.has_errors()
        && let Err(why) = connection.client(base())
    {
        let at = backend
            .tls
            .as_ref()
            .and_then(|t| t.client_cert_file.as_ref().or(t.ca_file.as_ref()))
            .or(backend.proxy.as_ref())
            .map(|s| s.span)
            .unwrap_or_default();
        errors.push(Diagnostic::error(at, why));
    }
    connection
}

fn proxy_choice(proxy: &Spanned<String>, errors: &mut Diagnostics) -> ProxyChoice {
    if proxy.value == "from_env" {
        return ProxyChoice::FromEnv;
    }
    let valid = reqwest::Url::parse(&proxy.value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        && reqwest::Proxy::all(proxy.value.as_str()).is_ok();
    if !valid {
        // The URL may hold a password: it is not echoed.
        errors.push(
            Diagnostic::error(proxy.span, "`proxy` is neither a proxy URL nor `from_env`")
                .with_help("e.g. proxy: http://proxy.internal:3128, or proxy: from_env"),
        );
        return ProxyChoice::Direct;
    }
    ProxyChoice::Url(proxy.value.clone())
}

/// The client certificate and its key, one PEM buffer; both keys or neither.
fn identity(
    dir: &Path,
    tls: &super::config::BackendTls,
    errors: &mut Diagnostics,
) -> Option<Vec<u8>> {
    let (cert, key) = match (&tls.client_cert_file, &tls.client_key_file) {
        (None, None) => return None,
        (Some(cert), Some(key)) => (cert, key),
        (Some(only), None) | (None, Some(only)) => {
            errors.push(
                Diagnostic::error(
                    only.span,
                    "mTLS needs both client_cert_file and client_key_file",
                )
                .with_help("give the certificate (PEM) and its private key (PEM)"),
            );
            return None;
        }
    };
    let mut pem = read(dir, "client_cert_file", cert, errors)?;
    let key_pem = read(dir, "client_key_file", key, errors)?;
    if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
        errors.push(Diagnostic::error(
            cert.span,
            "client_cert_file holds no PEM certificate",
        ));
        return None;
    }
    if !contains(&key_pem, b"PRIVATE KEY-----") {
        errors.push(
            Diagnostic::error(key.span, "client_key_file holds no PEM private key")
                .with_help("PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1"),
        );
        return None;
    }
    pem.push(b'\n');
    pem.extend_from_slice(&key_pem);
    if reqwest::Identity::from_pem(&pem).is_err() {
        errors.push(Diagnostic::error(
            cert.span,
            "the client certificate and key do not load",
        ));
        return None;
    }
    Some(pem)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The file a `key` names. The error does not repeat the path: it may come from `${ENV}`, and
/// the position points at it.
fn read(
    dir: &Path,
    key: &str,
    file: &Spanned<String>,
    errors: &mut Diagnostics,
) -> Option<Vec<u8>> {
    match std::fs::read(dir.join(&file.value)) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            errors.push(
                Diagnostic::error(file.span, format!("cannot read the {key}: {}", e.kind()))
                    .with_help("relative paths are relative to the adapter file"),
            );
            None
        }
    }
}

/// What went wrong in a TLS handshake, in the words an integrator needs, when `error` (from a
/// failed connection) is a TLS failure.
pub(crate) fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rustls::{AlertDescription as Alert, Error};
    let mut cause = Some(error);
    while let Some(c) = cause {
        if let Some(tls) = rustls_error(c) {
            return Some(match tls {
                Error::InvalidCertificate(_) => {
                    "TLS: the backend's certificate is not trusted (see backend.tls.ca_file)"
                }
                Error::AlertReceived(
                    Alert::CertificateRequired
                    | Alert::BadCertificate
                    | Alert::UnknownCA
                    | Alert::CertificateUnknown
                    | Alert::AccessDenied,
                ) => {
                    "TLS: the backend wants a client certificate it accepts (see backend.tls.client_cert_file)"
                }
                _ => "the TLS handshake failed",
            });
        }
        cause = c.source();
    }
    None
}

/// `error` as a rustls error, looking through the io::Errors that wrap it (an io::Error's
/// `source` skips the error it wraps, and hyper wraps one io::Error in another).
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = error;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}
