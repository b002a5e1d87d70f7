//! One translated call: decoded inputs -> backend request -> transport -> reply -> mapped JSON.
//!
//! Everything here reads the compiled plan only; any failure is a `Problem` for the caller. The
//! engine neither knows where the reply comes from (the transport) nor who looks at the finished
//! call (observers, such as the recorder of `serve --record`).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::backend::http::{BackendRuntime, SendError};
use crate::backend::transport::{Outgoing, Transport};
use crate::kind::{BackendReply, BackendRequest};
use crate::plan::{AdapterPlan, RoutePlan};
use crate::problem::Problem;

pub struct Outcome {
    /// The answer as JSON text, or why there is none.
    pub result: Result<Vec<u8>, Problem>,
    /// Time spent waiting for the backend (all attempts); `None` when nothing was sent.
    pub backend_time: Option<Duration>,
    /// What was sent (cheap: shared buffers), when the call got that far.
    pub sent: Option<BackendRequest>,
    /// What came back, when anything did.
    pub reply: Option<BackendReply>,
    /// The fixture that answered (`serve --mock`): `<adapter folder>/<case stem>`.
    pub fixture: Option<String>,
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A call to make: the route, its adapter and backend runtime, and the caller's decoded inputs.
pub struct CallTo<'a> {
    pub adapter: &'a AdapterPlan,
    pub runtime: &'a BackendRuntime,
    pub route: &'a RoutePlan,
    pub values: &'a [Option<Value>],
    pub request_id: &'a str,
}

pub async fn call(transport: &Transport, to: CallTo<'_>) -> Outcome {
    let mut request = match to.route.call.request(to.values) {
        Ok(r) => r,
        Err(problem) => {
            return Outcome {
                result: Err(problem),
                backend_time: None,
                sent: None,
                reply: None,
                fixture: None,
            };
        }
    };
    // The caller's request id travels on, so backend logs can be matched with ours.
    if let Ok(id) = HeaderValue::from_str(to.request_id) {
        request.headers.push((REQUEST_ID.clone(), id));
    }
    let out = Outgoing {
        adapter: to.adapter,
        runtime: to.runtime,
        route: to.route,
        values: to.values,
        request: &request,
    };
    let sent = match transport.send(out).await {
        Ok(sent) => sent,
        Err(problem) => {
            return Outcome {
                result: Err(problem),
                backend_time: None,
                sent: Some(request),
                reply: None,
                fixture: None,
            };
        }
    };
    let timeout = to.route.timeout.unwrap_or(to.adapter.backend.timeout);
    let (result, reply) = match sent.reply {
        Ok(reply) => (to.route.call.interpret(to.route, &reply), Some(reply)),
        Err(e) => (Err(send_problem(e, timeout)), None),
    };
    Outcome {
        result,
        backend_time: Some(sent.elapsed),
        sent: Some(request),
        reply,
        fixture: sent.fixture,
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

/// A finished call as the facade saw it, for observers.
pub struct FinishedCall<'a> {
    pub adapter: &'a str,
    pub route: &'a RoutePlan,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a Value>,
    pub values: &'a [Option<Value>],
    pub outcome: &'a Outcome,
}

/// Something that looks at every finished call (the recorder; later the call log and metrics).
/// Called after the answer is computed, on the request's task: keep it quick.
pub trait CallObserver: Send + Sync {
    fn observe(&self, call: &FinishedCall);
}
