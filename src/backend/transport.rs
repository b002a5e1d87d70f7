//! Where a backend request goes: over HTTP to the backend (through its runtime in the registry),
//! or to a source of recorded replies (`serve --mock`). The engine does not know which.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::kind::{BackendReply, BackendRequest};
use crate::plan::{AdapterPlan, RoutePlan};
use crate::problem::Problem;

use super::http::{BackendRuntime, SendError};

/// Recorded replies, chosen by the call's route and inputs.
pub trait ReplaySource: Send + Sync {
    /// The reply to replay, and the name of the recording it came from.
    fn reply(
        &self,
        adapter: &str,
        route: &str,
        values: &[Option<Value>],
    ) -> Result<(String, BackendReply), Problem>;
}

#[derive(Clone, Default)]
pub enum Transport {
    /// Send to the backends.
    #[default]
    Live,
    /// Answer from recorded replies; nothing is sent.
    Replay(Arc<dyn ReplaySource>),
}

/// What sending gave: the reply, or why there is none, and the time it took.
pub struct Sent {
    pub reply: Result<BackendReply, SendError>,
    pub elapsed: Duration,
    pub attempts: u32,
    /// The recording the reply came from (`<adapter folder>/<case stem>`), when replayed.
    pub fixture: Option<String>,
}

/// One request to send, with what the transport needs to know about it.
pub struct Outgoing<'a> {
    pub adapter: &'a AdapterPlan,
    pub runtime: &'a BackendRuntime,
    pub route: &'a RoutePlan,
    pub values: &'a [Option<Value>],
    pub request: &'a BackendRequest,
}

impl Transport {
    pub async fn send(&self, out: Outgoing<'_>) -> Result<Sent, Problem> {
        match self {
            Transport::Live => {
                let timeout = out.route.timeout;
                // GraphQL mutations are not idempotent; queries over GET routes are.
                let idempotent = out.route.method.is_idempotent();
                let sent = out
                    .runtime
                    .send(&out.adapter.backend, out.request, timeout, idempotent)
                    .await;
                Ok(match sent {
                    Ok(exchange) => Sent {
                        reply: Ok(exchange.reply),
                        elapsed: exchange.elapsed,
                        attempts: exchange.attempts,
                        fixture: None,
                    },
                    Err(e) => {
                        let timeout = timeout.unwrap_or(out.adapter.backend.timeout);
                        // A call that never got a connection spent no time at the backend.
                        let elapsed = match e {
                            SendError::Busy { .. } => Duration::ZERO,
                            _ => timeout,
                        };
                        Sent {
                            reply: Err(e),
                            elapsed,
                            attempts: 1,
                            fixture: None,
                        }
                    }
                })
            }
            Transport::Replay(source) => {
                let (name, reply) = source.reply(&out.adapter.name, &out.route.name, out.values)?;
                Ok(Sent {
                    reply: Ok(reply),
                    elapsed: Duration::ZERO,
                    attempts: 1,
                    fixture: Some(name),
                })
            }
        }
    }
}
