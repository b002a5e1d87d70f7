//! The backend kinds behind one interface. The engine, the fixture runner and the recorder speak
//! to a route's `Call` only; each kind's folder (`soap/`, `graphql/`, `xmlhttp/`) owns what the
//! methods do.
//!
//! An enum rather than a trait object: the set of kinds is closed and known here, a `match` is
//! checked for exhaustiveness when a kind is added, and dispatch is a jump with no allocation
//! (the criterion benches showed no difference from calling the kind directly).

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::config::Tree;
use crate::fixture::CaseBackend;
use crate::graphql::GraphqlCall;
use crate::problem::Problem;
use crate::reading::Reading;
use crate::soap::SoapCall;
use crate::xml::reader::XmlError;
use crate::xmlhttp::HttpCall;

/// What a kind's route compiler gives back: the call, and where inputs are used (for the
/// "declared but not used" help).
pub(crate) struct KindCompiled<'r> {
    pub call: Option<Call>,
    /// The key that uses inputs (`request`, `variables`, `call`).
    pub uses_in: &'static str,
    /// The tree where a forgotten `$` may hide.
    pub literal: Option<&'r Tree>,
    /// What the reply may hold, from a schema (SOAP `backend.soap.wsdl`): arrays and types.
    pub reply_schema: Option<crate::soap::schema::ReplySchema>,
}

impl KindCompiled<'_> {
    pub fn failed<'t>(uses_in: &'static str, literal: Option<&'t Tree>) -> KindCompiled<'t> {
        KindCompiled {
            call: None,
            uses_in,
            literal,
            reply_schema: None,
        }
    }
}

/// What a route sends to its backend, compiled once.
#[derive(Debug)]
pub enum Call {
    Soap(SoapCall),
    Graphql(GraphqlCall),
    Http(HttpCall),
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct BackendRequest {
    pub method: reqwest::Method,
    /// Path and query appended to the backend URL (XML over HTTP); empty for the other kinds.
    pub target: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// SOAP with `ws_security`: the byte offset inside the envelope's `soap:Header` where the
    /// security header goes when the request is sent (`backend::auth`).
    pub security_slot: Option<usize>,
}

/// A backend's reply, read whole.
#[derive(Debug, Clone)]
pub struct BackendReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// The backend's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

static GRAPHQL_ACCEPT: HeaderValue =
    HeaderValue::from_static("application/graphql-response+json, application/json");

impl Call {
    /// The backend request for these input values. XML over HTTP refuses path inputs that would
    /// leave the base path.
    pub fn request(&self, values: &[Option<Value>]) -> Result<BackendRequest, Problem> {
        Ok(match self {
            Call::Soap(soap) => BackendRequest {
                method: reqwest::Method::POST,
                target: String::new(),
                headers: soap.headers.clone(),
                body: Bytes::from(soap.render(values)),
                security_slot: soap.security_slot,
            },
            Call::Graphql(graphql) => BackendRequest {
                method: reqwest::Method::POST,
                target: String::new(),
                headers: vec![
                    (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                    (ACCEPT, GRAPHQL_ACCEPT.clone()),
                ],
                body: Bytes::from(graphql.body(values)?),
                security_slot: None,
            },
            Call::Http(http) => BackendRequest {
                method: http.method.clone(),
                target: http.target(values)?,
                headers: http.headers.clone(),
                body: Bytes::from(http.body(values)),
                security_slot: None,
            },
        })
    }

    /// Turns a backend reply into the route's answer (JSON text).
    pub fn interpret(&self, route: &Reading, reply: &BackendReply) -> Result<Vec<u8>, Problem> {
        let ct = reply.content_type.as_deref();
        match self {
            Call::Graphql(call) => {
                crate::graphql::interpret(route, call, reply.status, ct, &reply.body)
            }
            Call::Soap(soap) => {
                let text = xml_text(reply)?;
                crate::soap::reply::interpret(route, soap, reply.status, ct, &text)
            }
            Call::Http(call) => {
                // A status rule answers before the body is read: error pages are rarely XML.
                if let Some(problem) = call.status_problem(reply.status) {
                    return Err(problem);
                }
                let text = xml_text(reply)?;
                crate::xmlhttp::interpret(route, call, reply.status, ct, &text)
            }
        }
    }

    /// Whether the route maps this backend status itself (an XML-over-HTTP `status` rule).
    pub fn maps_status(&self, status: u16) -> bool {
        match self {
            Call::Http(http) => http.status_problem(status).is_some(),
            Call::Soap(_) | Call::Graphql(_) => false,
        }
    }

    /// What a recorded fixture expects the backend to receive, from the inputs (nothing ponte
    /// sent is parsed back).
    pub fn expectation(&self, values: &[Option<Value>]) -> Map<String, Value> {
        match self {
            Call::Soap(soap) => soap.expectation(values),
            Call::Graphql(graphql) => graphql.expectation(values),
            Call::Http(http) => http.expectation(values),
        }
    }

    /// The file extension of a recorded reply.
    pub fn reply_extension(&self) -> &'static str {
        match self {
            Call::Graphql(_) => "json",
            Call::Soap(_) | Call::Http(_) => "xml",
        }
    }

    /// The differences between what a fixture's stand-in received and what the case expects.
    pub fn check_sent(&self, expect: &CaseBackend, sent: &SentRequest) -> Vec<String> {
        match self {
            Call::Soap(_) => crate::soap::fixture::check_sent(expect, &sent.headers, &sent.body),
            Call::Graphql(_) => crate::graphql::fixture::check_sent(expect, &sent.body),
            Call::Http(_) => crate::xmlhttp::fixture::check_sent(
                expect,
                &crate::xmlhttp::fixture::Received {
                    method: &sent.method,
                    target: &sent.target,
                    body: &sent.body,
                },
            ),
        }
    }
}

/// A request as a stand-in backend received it.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    /// Path and query below the adapter's base URL.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The reply as UTF-8 text, decoded from the charset it declares.
fn xml_text(reply: &BackendReply) -> Result<std::borrow::Cow<'_, str>, Problem> {
    crate::xml::charset::decode(&reply.body, reply.content_type.as_deref())
        .map_err(|e| xml_reply_problem(e, reply.status, reply.content_type.as_deref()))
}

/// A reply that could not be read as XML: says what it was (an HTML error page is common).
pub(crate) fn xml_reply_problem(e: XmlError, status: u16, content_type: Option<&str>) -> Problem {
    let detail = match (&e, content_type) {
        (XmlError::Syntax { .. }, Some(ct)) if ct.starts_with("text/html") => {
            XmlError::Html.to_string()
        }
        _ => e.to_string(),
    };
    Problem::bad_reply(format!("{detail} (HTTP {status})"))
}
