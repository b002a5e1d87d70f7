//! One call log entry: the facade request, the backend request as sent, the backend reply, the
//! answer, timings and the problem with the fault text the caller was not shown. Everything
//! passes through `Names` (masking) and is cut to `MAX_PART`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::MAX_PART;
use super::mask::{MASK, Names};
use crate::engine::FinishedCall;
use crate::kind::{BackendReply, BackendRequest};

/// The status the caller was answered with.
pub fn answer_status(call: &FinishedCall) -> u16 {
    match &call.outcome.result {
        Ok(_) => 200,
        Err(problem) => problem.status,
    }
}

/// The entry as JSON text.
pub fn render(call: &FinishedCall, status: u16) -> String {
    let auth = call.route.auth.as_ref().map(|g| g.credential_names());
    let names = Names::new(
        call.plan
            .redact
            .iter()
            .map(String::as_str)
            .chain(auth.into_iter().flatten()),
    );
    let outcome = call.outcome;
    let (answer, problem) = match &outcome.result {
        Ok(body) => {
            let (body, truncated) = names.body(body, Some("application/json"), MAX_PART);
            (
                json!({"status": 200, "body": body, "truncated": truncated}),
                Value::Null,
            )
        }
        Err(problem) => {
            let mut shown = serde_json::to_value(problem).unwrap_or(Value::Null);
            shown["request_id"] = json!(call.request_id);
            (
                json!({"status": problem.status, "body": names.json(&shown)}),
                shown,
            )
        }
    };
    let entry = json!({
        "id": call.request_id,
        "at": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        "adapter": call.adapter,
        "route": call.route.name,
        "status": status,
        "request": facade_request(call, &names),
        "backend": {
            "request": outcome.sent.as_ref().map(|sent| backend_request(call, sent, &names)),
            "reply": outcome.reply.as_ref().map(|reply| backend_reply(reply, &names)),
            "attempts": outcome.attempts,
            "fixture": outcome.fixture,
        },
        "answer": answer,
        "problem": problem,
        "fault": outcome.reply.as_ref().and_then(|reply| fault_text(call, reply, &names)),
        "timings": {
            "total_ms": millis(call.elapsed),
            "backend_ms": outcome.backend_time.map(millis),
        },
    });
    // A value from the environment may hide under any name: none leaves in the entry.
    crate::secrets::scrub(&entry.to_string()).into_owned()
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

/// The facade request: method, path, query, headers and body, masked.
fn facade_request(call: &FinishedCall, names: &Names) -> Value {
    let (path, query) = match call.path_and_query.split_once('?') {
        Some((p, q)) => (p, names.form(q)),
        None => (call.path_and_query, String::new()),
    };
    let headers = names.headers(
        call.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    );
    let body = call.body.map(|b| {
        let text = serde_json::to_string_pretty(&names.json(b)).unwrap_or_default();
        super::mask::cut(crate::secrets::scrub(&text).into_owned(), MAX_PART).0
    });
    json!({
        "method": call.method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
    })
}

/// The backend request as ponte sent it: URL, headers (the adapter's own, then the route's) and
/// body. Outbound credentials are added when the request is signed; only their kind is named.
fn backend_request(call: &FinishedCall, sent: &BackendRequest, names: &Names) -> Value {
    let settings = &call.plan.backend;
    let url = target_url(settings.url.as_str(), &sent.target, names);
    let headers = names.headers(
        settings
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .chain(sent.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))),
    );
    let content_type = sent
        .headers
        .iter()
        .find(|(n, _)| n == axum::http::header::CONTENT_TYPE)
        .and_then(|(_, v)| v.to_str().ok());
    let (body, truncated) = names.body(&sent.body, content_type, MAX_PART);
    json!({
        "method": sent.method.as_str(),
        "url": url,
        "headers": headers,
        "body": body,
        "truncated": truncated,
        "signed_with": settings.auth.as_ref().map(|_| format!("backend.auth (added when sent, shown as {MASK})")),
    })
}

/// The backend URL with the route's target, its query masked.
pub(crate) fn target_url(base: &str, target: &str, names: &Names) -> String {
    if target.is_empty() {
        return crate::secrets::scrub(base).into_owned();
    }
    let joined = format!("{}{target}", base.trim_end_matches('/'));
    let shown = match joined.split_once('?') {
        Some((path, query)) => format!("{path}?{}", names.form(query)),
        None => joined,
    };
    crate::secrets::scrub(&shown).into_owned()
}

fn backend_reply(reply: &BackendReply, names: &Names) -> Value {
    let (body, truncated) = names.body(&reply.body, reply.content_type.as_deref(), MAX_PART);
    json!({
        "status": reply.status,
        "content_type": reply.content_type,
        "retry_after_s": reply.retry_after.map(|d| d.as_secs()),
        "body": body,
        "bytes": reply.body.len(),
        "truncated": truncated,
    })
}

/// A SOAP fault in the reply, whole: its code, subcodes, message and detail (the caller sees at
/// most a plain code). Other kinds' errors are in the reply body shown beside it.
fn fault_text(call: &FinishedCall, reply: &BackendReply, names: &Names) -> Option<Value> {
    let crate::kind::Call::Soap(_) = &call.route.call else {
        return None;
    };
    let text = crate::xml::charset::decode(&reply.body, reply.content_type.as_deref()).ok()?;
    let hints = &call.route.reading.hints;
    let crate::soap::reply::SoapReply::Fault(fault) =
        crate::soap::reply::read_soap(&text, hints, crate::xml::reader::Limits::default()).ok()?
    else {
        return None;
    };
    Some(json!({
        "code": fault.full_code(),
        "message": crate::secrets::scrub(&fault.message),
        "detail": fault.detail.as_ref().map(|d| names.json(d)),
    }))
}
