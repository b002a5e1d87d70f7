//! Where a backend request goes: over HTTP to the backend (through its runtime in the registry),
//! or to a source of recorded replies (`serve --mock`). The engine does not know which.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::kind::{BackendReply, BackendRequest};
use crate::problem::Problem;

use super::http::{Attempts, BackendRuntime, BackendSettings};

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

/// What the transport gave: the attempts made (one, when replayed), and the recording that
/// answered (`<adapter folder>/<case stem>`) when replayed.
pub struct Sent {
    pub attempts: Attempts,
    pub fixture: Option<String>,
}

/// One request to send, with what the transport needs to know about it.
pub struct Outgoing<'a> {
    /// The adapter and route names (a replay source looks recordings up by them).
    pub adapter: &'a str,
    pub route: &'a str,
    pub settings: &'a BackendSettings,
    pub runtime: &'a BackendRuntime,
    /// The time the whole call may take, retries included.
    pub budget: Duration,
    /// Whether the call may be repeated (retries are for idempotent routes only).
    pub idempotent: bool,
    pub values: &'a [Option<Value>],
    pub request: &'a BackendRequest,
}

impl Transport {
    pub async fn send(&self, out: Outgoing<'_>) -> Result<Sent, Problem> {
        match self {
            Transport::Live => Ok(Sent {
                attempts: out
                    .runtime
                    .send_guarded(out.settings, out.request, out.budget, out.idempotent)
                    .await,
                fixture: None,
            }),
            Transport::Replay(source) => {
                let (name, reply) = source.reply(out.adapter, out.route, out.values)?;
                Ok(Sent {
                    attempts: Attempts {
                        reply: Ok(reply),
                        elapsed: Duration::ZERO,
                        attempts: 1,
                    },
                    fixture: Some(name),
                })
            }
        }
    }
}
