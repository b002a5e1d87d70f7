//! One translated call: decoded inputs -> backend request -> reply -> mapped JSON.
//!
//! Everything here reads the compiled plan only; any failure is a `Problem` for the caller.

use std::time::Duration;

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use serde_json::Value;

use crate::backend::http::SendError;
use crate::faults;
use crate::plan::{AdapterPlan, Call, RoutePlan};
use crate::problem::Problem;
use crate::xml::reader::{self, Limits, SoapReply, XmlError};

pub struct Outcome {
    /// The answer as JSON text, or why there is none.
    pub result: Result<Vec<u8>, Problem>,
    /// Time spent waiting for the backend (all attempts).
    pub backend_time: Duration,
    /// What went to the backend and what came back (cheap: shared buffers), for recording.
    pub exchange: Exchange,
}

#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub sent: Bytes,
    /// Status, content type and body of the reply, when there was one.
    pub reply: Option<(u16, Option<String>, Bytes)>,
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn call(
    adapter: &AdapterPlan,
    route: &RoutePlan,
    values: &[Option<Value>],
    request_id: &str,
) -> Outcome {
    let mut headers = Vec::with_capacity(3);
    // The caller's request id travels on, so backend logs can be matched with ours.
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.push((REQUEST_ID.clone(), id));
    }
    let body = match &route.call {
        Call::Soap(soap) => {
            headers.extend(soap.headers.iter().cloned());
            Bytes::from(soap.render(values))
        }
        Call::Graphql(graphql) => {
            headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            headers.push((
                ACCEPT,
                HeaderValue::from_static("application/graphql-response+json, application/json"),
            ));
            Bytes::from(graphql.render(values))
        }
    };
    let mut record = Exchange {
        sent: body.clone(),
        reply: None,
    };
    // GraphQL mutations are not idempotent; queries over GET routes are.
    let idempotent = route.method.is_idempotent();
    let sent = adapter
        .backend
        .post(body, &headers, route.timeout, idempotent)
        .await;
    let exchange = match sent {
        Ok(exchange) => exchange,
        Err(e) => {
            let timeout = route.timeout.unwrap_or(adapter.backend.timeout);
            // A call that never got a connection spent no time at the backend.
            let backend_time = match e {
                SendError::Busy { .. } => Duration::ZERO,
                _ => timeout,
            };
            return Outcome {
                result: Err(send_problem(e, timeout)),
                backend_time,
                exchange: record,
            };
        }
    };
    let result = interpret(
        route,
        exchange.status,
        exchange.content_type.as_deref(),
        &exchange.body,
    );
    record.reply = Some((exchange.status, exchange.content_type, exchange.body));
    Outcome {
        result,
        backend_time: exchange.elapsed,
        exchange: record,
    }
}

fn send_problem(e: SendError, timeout: Duration) -> Problem {
    match e {
        SendError::Busy { limit, waited } => Problem::backend_busy(limit, waited),
        SendError::Timeout(_) => Problem::backend_timeout(timeout),
        SendError::Unreachable(why) => {
            Problem::backend_unreachable(format!("the backend could not be reached: {why}"))
        }
        SendError::TooLarge(limit) => Problem::bad_reply(format!(
            "the backend reply is larger than the limit of {limit} bytes"
        )),
        SendError::Broken(why) => Problem::bad_reply(format!(
            "the backend connection failed while reading the reply: {why}"
        )),
    }
}

/// Turns a backend reply into the route's answer (JSON text).
pub fn interpret(
    route: &RoutePlan,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, Problem> {
    match &route.call {
        Call::Soap(_) => interpret_soap(route, status, content_type, body),
        Call::Graphql(call) => crate::graphql::interpret(route, call, status, content_type, body),
    }
}

fn interpret_soap(
    route: &RoutePlan,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, Problem> {
    let reply = reader::read_soap(body, &route.hints, Limits::default())
        .map_err(|e| reply_problem(e, status, content_type))?;
    match reply {
        SoapReply::Fault(fault) => Err(match faults::answer(&route.faults, &fault) {
            Some(a) => Problem::new(a.status, a.code, a.detail),
            None => Problem::new(
                502,
                "backend_fault",
                format!("the backend answered with SOAP fault `{}` (HTTP {status}); no fault rule maps it", fault.full_code()),
            )
            .with("fault_code", Value::String(fault.full_code())),
        }),
        SoapReply::Body(body) => {
            if !(200..300).contains(&status) {
                return Err(Problem::bad_reply(format!("the backend answered HTTP {status} without a SOAP fault")));
            }
            route.check_found(body.body())?;
            route.response.answer(body.body()).map_err(|e| {
                Problem::bad_reply(format!("the backend reply does not fit the mapping: field `{}`: {}", e.field, e.message))
            })
        }
    }
}

fn reply_problem(e: XmlError, status: u16, content_type: Option<&str>) -> Problem {
    let detail = match (&e, content_type) {
        (XmlError::Syntax { .. }, Some(ct)) if ct.starts_with("text/html") => {
            XmlError::Html.to_string()
        }
        _ => e.to_string(),
    };
    Problem::bad_reply(format!("{detail} (HTTP {status})"))
}
