//! A backend's quota: calls over it wait in a bounded queue for their window when it ends within
//! the call's deadline, else they are refused at once (nothing is sent).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{Counters, OutboundQuota, Verdict};
use crate::state::SharedState;

/// Why a call was not let through to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Over the quota; a window with room starts after this.
    OverQuota(Duration),
    /// The shared counters are down and the state fails closed.
    StateUnavailable,
}

pub(crate) struct OutboundLimiter {
    settings: OutboundQuota,
    counters: Counters,
    waiting: AtomicU32,
}

impl std::fmt::Debug for OutboundLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundLimiter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Decrements the queue length when a waiting call stops waiting, however it ends.
struct InQueue<'a>(&'a AtomicU32);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl OutboundLimiter {
    pub(crate) fn new(
        settings: &OutboundQuota,
        backend: &str,
        shared: Option<&Arc<SharedState>>,
    ) -> OutboundLimiter {
        OutboundLimiter {
            settings: settings.clone(),
            counters: Counters::new(shared, &format!("out:{backend}")),
            waiting: AtomicU32::new(0),
        }
    }

    pub(crate) fn settings(&self) -> &OutboundQuota {
        &self.settings
    }

    /// Admits a call, waiting for a window with room while it ends before `deadline` and the
    /// queue has a place.
    pub(crate) async fn admit(&self, deadline: Instant) -> Result<(), Refused> {
        let mut queued: Option<InQueue> = None;
        loop {
            let wait = match self.counters.take("", &self.settings.quota).await {
                Verdict::Admitted => return Ok(()),
                Verdict::Unavailable => return Err(Refused::StateUnavailable),
                Verdict::Wait(wait) => wait,
            };
            if Instant::now() + wait >= deadline {
                return Err(Refused::OverQuota(wait));
            }
            if queued.is_none() {
                let before = self.waiting.fetch_add(1, Ordering::SeqCst);
                queued = Some(InQueue(&self.waiting));
                if before >= self.settings.queue {
                    return Err(Refused::OverQuota(wait));
                }
            }
            tokio::time::sleep(wait).await;
        }
    }
}
