//! What a contract fixture expects of a SOAP request: the SOAPAction, the Body's content as a
//! tree (by local name, values as text), or a whole envelope compared structurally.

use axum::http::HeaderMap;

use crate::fixture::CaseBackend;
use crate::fixture::expect::{Scalars, compare};
use crate::mapping::node::Node as _;
use crate::xml::reader::{ArrayHints, Limits};

use super::reply::{SoapReply, read_soap};

/// The differences between what the stand-in received and what the case expects.
pub(crate) fn check_sent(expect: &CaseBackend, headers: &HeaderMap, body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(action) = &expect.soap_action {
        let got = soap_action(headers);
        if got.as_deref() != Some(action.as_str()) {
            problems.push(format!(
                "backend request: SOAP action: expected {action:?}, got {:?}",
                got.unwrap_or_default()
            ));
        }
    }
    let text = String::from_utf8_lossy(body);
    if let Some(exp) = &expect.body {
        match read_soap(&text, &ArrayHints::default(), Limits::default()) {
            Ok(SoapReply::Body(content)) => {
                let content = content.body().to_value();
                if let Err(m) = compare(exp, Some(&content), "Envelope/Body", Scalars::AsText) {
                    problems.push(crate::fixture::runner::line("backend request", m));
                }
            }
            Ok(SoapReply::Fault(_)) => {
                problems.push("backend request: the envelope sent is a Fault".into())
            }
            Err(e) => problems.push(format!("backend request: {e}")),
        }
    }
    crate::xml::compare::check_envelope(expect.envelope.as_ref(), &text, &mut problems);
    problems
}

/// The SOAP action of a request: 1.1 `SOAPAction` header or 1.2 `action` content-type parameter.
pub fn soap_action(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("soapaction").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().trim_matches('"').to_string());
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok())?;
    ct.split(';')
        .find_map(|p| p.trim().strip_prefix("action="))
        .map(|a| a.trim_matches('"').to_string())
}
