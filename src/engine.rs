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
    /// Attempts made (0 when nothing was sent; more than 1 after retries).
    pub attempts: u32,
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A call to make: the route, its adapter and backend runtime, and the caller's decoded inputs.
pub struct CallTo<'a> {
    pub adapter: &'a AdapterPlan,
    pub runtime: &'a BackendRuntime,
    pub route: &'a RoutePlan,
    pub values: &'a [Option<Value>],
    pub request_id: &'a str,
    /// The time the caller said it waits (`X-Weni-Webhook-Timeout`), if it did.
    pub caller_budget: Option<Duration>,
}

/// Taken from a caller's own budget: room to send the answer back before the caller gives up.
pub const CALLER_MARGIN: Duration = Duration::from_millis(500);

impl CallTo<'_> {
    /// The whole call's budget: the route's (or backend's) timeout, or less when the caller
    /// said it waits less.
    fn budget(&self) -> Duration {
        let own = self.route.timeout.unwrap_or(self.adapter.backend.timeout);
        match self.caller_budget {
            Some(caller) => own.min(caller.saturating_sub(CALLER_MARGIN)),
            None => own,
        }
    }
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
                attempts: 0,
            };
        }
    };
    // The caller's request id travels on, so backend logs can be matched with ours.
    if let Ok(id) = HeaderValue::from_str(to.request_id) {
        request.headers.push((REQUEST_ID.clone(), id));
    }
    let budget = to.budget();
    let out = Outgoing {
        adapter: &to.adapter.name,
        route: &to.route.name,
        settings: &to.adapter.backend,
        runtime: to.runtime,
        budget,
        idempotent: to.route.idempotent,
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
                attempts: 0,
            };
        }
    };
    let fixture = sent.fixture;
    let sent = sent.attempts;
    let attempts = sent.attempts;
    let (result, reply) = match sent.reply {
        Ok(reply) => match unavailable(to.route, &reply) {
            Some(problem) => (Err(problem), Some(reply)),
            None => {
                let result = to.route.call.interpret(&to.route.reading, &reply);
                (refused_credentials(to.route, &reply, result), Some(reply))
            }
        },
        Err(e) => (Err(send_problem(e, budget, sent.attempts)), None),
    };
    Outcome {
        result,
        backend_time: Some(sent.elapsed),
        sent: Some(request),
        reply,
        fixture,
        attempts,
    }
}

/// A backend's "not now" (429 or 503) that the route's kind does not map itself: the caller
/// gets a 503 (or the route's `unavailable_status`, 429) with the backend's `Retry-After`, not a
/// 502, so it knows to come back.
fn unavailable(route: &RoutePlan, reply: &BackendReply) -> Option<Problem> {
    if !matches!(reply.status, 429 | 503) || route.call.maps_status(reply.status) {
        return None;
    }
    let seconds = reply
        .retry_after
        .map_or(1, |d| d.as_secs().clamp(1, 86_400));
    let mut problem = Problem::backend_unavailable(reply.status, seconds);
    problem.status = route.unavailable_status;
    Some(problem)
}

/// A backend's 401 or 403 that no rule of the route maps means the backend refused ponte's own
/// credentials: the caller is not at fault, and the problem says where to look (instead of "not
/// well-formed XML" for a gateway's HTML page).
fn refused_credentials(
    route: &RoutePlan,
    reply: &BackendReply,
    result: Result<Vec<u8>, Problem>,
) -> Result<Vec<u8>, Problem> {
    match result {
        Err(problem)
            if matches!(reply.status, 401 | 403)
                && !route.call.maps_status(reply.status)
                && matches!(&*problem.code, "bad_backend_reply" | "backend_fault") =>
        {
            Err(Problem::of(
                crate::problem::Catalog::BackendAuthFailed,
                format!(
                    "the backend refused ponte's credentials (HTTP {}); the caller is not at fault: check the adapter's backend.auth",
                    reply.status
                ),
            ))
        }
        other => other,
    }
}

fn send_problem(e: SendError, budget: Duration, attempts: u32) -> Problem {
    match e {
        SendError::Busy { limit, waited } => Problem::backend_busy(limit, waited),
        SendError::CircuitOpen(wait) => Problem::circuit_open(wait),
        SendError::RateLimited(wait) => crate::limits::rate_limited(
            format!(
                "the backend's quota is used up; its next window starts in {} ms and the call was not sent",
                wait.as_millis()
            ),
            wait,
        ),
        SendError::StateUnavailable => crate::limits::state_unavailable(),
        SendError::Timeout => Problem::backend_timeout(budget, attempts),
        SendError::NotConnected(why) | SendError::Unreachable(why) => {
            Problem::backend_unreachable(format!("the backend could not be reached: {why}"))
        }
        SendError::TooLarge(limit) => Problem::bad_reply(format!(
            "the backend reply is larger than the limit of {limit} bytes"
        )),
        SendError::Broken(why) => Problem::bad_reply(format!(
            "the backend connection failed while reading the reply: {why}"
        )),
        SendError::Auth(why) => Problem::of(crate::problem::Catalog::BackendAuthFailed, why),
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
    /// The caller's request id.
    pub request_id: &'a str,
    /// The route's adapter (its backend settings, its `redact` names).
    pub plan: &'a AdapterPlan,
    /// From the backend request built to the answer mapped.
    pub elapsed: Duration,
}

/// Something that looks at every finished call (the recorder; later the call log and metrics).
/// Called after the answer is computed, on the request's task: keep it quick.
pub trait CallObserver: Send + Sync {
    fn observe(&self, call: &FinishedCall);
}
