//! GraphQL replies: `errors` decide, whatever the HTTP status; partial data is an error unless the
//! route allows it; a null at `not_found` is a 404.

use serde_json::Value;

use crate::faults::{self, Fault};
use crate::problem::{Catalog, Problem};
use crate::reading::Reading;

use super::{GraphqlCall, PartialPolicy};

pub fn interpret(
    route: &Reading,
    call: &GraphqlCall,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_reply(format!(
            "the reply body is empty (HTTP {status})"
        )));
    }
    let reply: Value = serde_json::from_slice(body).map_err(|_| {
        let html = content_type.is_some_and(|c| c.starts_with("text/html"))
            || body.trim_ascii_start().starts_with(b"<");
        let what = if html { "an HTML page" } else { "not JSON" };
        Problem::bad_reply(format!(
            "the reply is {what}, not a GraphQL response (HTTP {status})"
        ))
    })?;
    let Value::Object(mut reply) = reply else {
        return Err(Problem::bad_reply(format!(
            "the reply is JSON but not a GraphQL response object (HTTP {status})"
        )));
    };
    let data = reply.remove("data").unwrap_or(Value::Null);
    let errors = match reply.remove("errors") {
        Some(Value::Array(errors)) => errors,
        _ => Vec::new(),
    };
    let partial_ok = call.partial == PartialPolicy::Allow && data.is_object();
    if !errors.is_empty() && !partial_ok {
        return Err(error_problem(route, call, &errors, status, !data.is_null()));
    }
    if !(200..300).contains(&status) {
        return Err(Problem::bad_reply(format!(
            "the backend answered HTTP {status} without GraphQL errors"
        )));
    }
    if data.is_null() {
        return Err(Problem::bad_reply("the reply has no `data`"));
    }
    route.map_reply(&data)
}

/// A GraphQL error as a fault: `extensions.code`, message, path (`contacts[0].name`).
fn as_fault(error: &Value) -> Fault {
    let code = error
        .pointer("/extensions/code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let path = error.get("path").and_then(Value::as_array).map(|segments| {
        let mut p = String::new();
        for s in segments {
            match s {
                Value::Number(n) => p.push_str(&format!("[{n}]")),
                Value::String(name) => {
                    if !p.is_empty() {
                        p.push('.');
                    }
                    p.push_str(name);
                }
                _ => {}
            }
        }
        p
    });
    Fault {
        code,
        subcodes: Vec::new(),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        detail: error.get("extensions").cloned(),
        path,
    }
}

fn error_problem(
    route: &Reading,
    call: &GraphqlCall,
    errors: &[Value],
    status: u16,
    partial: bool,
) -> Problem {
    let faults: Vec<Fault> = errors.iter().map(as_fault).collect();
    for fault in &faults {
        if let Some(a) = faults::answer(&route.faults, fault) {
            return Problem::mapped(a);
        }
    }
    // A request-level error (no `path`) refusing a variable fed by the caller's input.
    if !partial
        && let Some(p) = faults
            .iter()
            .filter(|f| f.path.is_none())
            .find_map(|f| call.rules.coercion_error(&f.code, &f.message))
    {
        return p;
    }
    let first = &faults[0];
    if matches!(first.code.as_str(), "UNAUTHENTICATED" | "FORBIDDEN") {
        return Problem::of(Catalog::BackendAuthFailed, "the backend refused ponte's credentials (the caller is not at fault); check the adapter's auth settings")
            .with("graphql_code", Value::String(first.code.clone()));
    }
    let codes: Vec<&str> = faults
        .iter()
        .map(|f| f.code.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    let what = if partial { "partial data and " } else { "" };
    // Codes and paths are the backend's text: shown only when they are plain names.
    let first_code = codes.first().and_then(|c| crate::problem::plain_code(c));
    let code = match (codes.first(), first_code) {
        (_, Some(code)) => format!("first code `{code}`"),
        (Some(_), None) => "a code that is not a plain name (it is in ponte's log)".to_string(),
        (None, _) => "without a code".to_string(),
    };
    let mut p = Problem::unmapped_fault(
        format_args!("{what}{} GraphQL error(s), {code}", faults.len()),
        status,
    );
    if let Some(code) = first_code {
        p = p.with("graphql_code", Value::String(code.to_string()));
    }
    if let Some(path) = first.path.as_deref().and_then(crate::problem::plain_code) {
        p = p.with("graphql_path", Value::String(path.to_string()));
    }
    p
}
