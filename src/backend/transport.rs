//! Where a backend request goes: over HTTP to the backend (through its runtime in the registry),
//! or to a source of recorded replies (`serve --mock`). The engine does not know which.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::kind::{BackendReply, BackendRequest};
use crate::problem::Problem;

use super::http::{BackendRuntime, BackendSettings, SendError};

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
}

/// One request to send, with what the transport needs to know about it.
pub struct Outgoing<'a> {
    /// The adapter and route names (a replay source looks recordings up by them).
    pub adapter: &'a str,
    pub route: &'a str,
    pub settings: &'a BackendSettings,
    pub runtime: &'a BackendRuntime,
    /// The route's own timeout, if it has one.
    pub timeout: Option<Duration>,
    /// Whether the call may be repeated (retries are for idempotent routes only).
    pub idempotent: bool,
    pub values: &'a [Option<Value>],
    pub request: &'a BackendRequest,
}

impl Transport {
    pub async fn send(&self, out: Outgoing<'_>) -> Result<Sent, Problem> {
        match self {
            Transport::Live => {
                let timeout = out.timeout;
                let sent = out
                    .runtime
                    .send(out.settings, out.request, timeout, out.idempotent)
                    .await;
                Ok(match sent {
                    Ok(exchange) => Sent {
                        reply: Ok(exchange.reply),
                        elapsed: exchange.elapsed,
                        attempts: exchange.attempts,
                    },
                    Err(e) => {
                        let timeout = timeout.unwrap_or(out.settings.timeout);
                        // A call that never got a connection spent no time at the backend.
                        let elapsed = match e {
                            SendError::Busy { .. } => Duration::ZERO,
                            _ => timeout,
                        };
                        Sent {
                            reply: Err(e),
                            elapsed,
                            attempts: 1,
                        }
                    }
                })
            }
            Transport::Replay(source) => {
                let (_, reply) = source.reply(out.adapter, out.route, out.values)?;
                Ok(Sent {
                    reply: Ok(reply),
                    elapsed: Duration::ZERO,
                    attempts: 1,
                })
            }
        }
    }
}
