//! What a contract fixture expects of a SOAP request: the SOAPAction, the Body's content as a
//! tree (by local name, values as text) with the namespace of its elements, or a whole envelope
//! compared structurally.
//!
//! Why `namespace:` beside `body:` rather than namespaces in the tree: the tree stays as it is
//! written and recorded (local names, as replies are mapped), and the one namespace a SOAP
//! service checks, that of the operation element, is stated once by the case. Comparing the
//! sent Body with what the route's compiled envelope would render for the same inputs would
//! compare ponte with itself: a wrong adapter `namespace:` would render wrong both times and pass.

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
                if let Err(found) = compare(exp, Some(&content), "Envelope/Body", Scalars::AsText) {
                    problems.extend(crate::fixture::runner::lines("backend request", found));
                }
            }
            Ok(SoapReply::Fault(_)) => {
                problems.push("backend request: the envelope sent is a Fault".into())
            }
            Err(e) => problems.push(format!("backend request: {e}")),
        }
    }
    if let Some(namespace) = &expect.namespace {
        check_namespace(namespace, &text, &mut problems);
    }
    crate::xml::compare::check_envelope(expect.envelope.as_ref(), &text, &mut problems);
    problems
}

/// Every element directly in the Body (the operation element) must be in `namespace`.
fn check_namespace(namespace: &str, text: &str, problems: &mut Vec<String>) {
    let envelope = match crate::xml::compare::parse(text) {
        Ok(e) => e,
        Err(e) => return problems.push(format!("backend request: {e}")),
    };
    let Some(body) = envelope.children.iter().find(|c| c.local == "Body") else {
        return problems.push("backend request: the envelope sent has no Body".into());
    };
    if body.children.is_empty() {
        problems.push(format!(
            "backend request: Envelope/Body: missing (expected an element in namespace {namespace:?})"
        ));
    }
    for element in body.children.iter().filter(|c| c.ns != namespace) {
        problems.push(format!(
            "backend request: Envelope/Body/{}: expected namespace {namespace:?}, got {:?}",
            element.local, element.ns
        ));
    }
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
