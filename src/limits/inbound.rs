//! What each caller may ask of an adapter: counted per credential when inbound auth named one,
//! else per client address.

use std::sync::Arc;

use super::{Counters, Quota, Verdict};
use crate::caller::Caller;
use crate::problem::Problem;
use crate::state::SharedState;

pub(crate) struct InboundLimiter {
    quota: Quota,
    counters: Counters,
}

impl InboundLimiter {
    pub(crate) fn new(quota: &Quota, adapter: &str, shared: Option<&Arc<SharedState>>) -> Self {
        InboundLimiter {
            quota: quota.clone(),
            counters: Counters::new(shared, &format!("in:{adapter}")),
        }
    }

    pub(crate) fn quota(&self) -> &Quota {
        &self.quota
    }

    /// Counts the call against its caller; a problem when the caller is over the limit.
    pub(crate) async fn admit(&self, caller: &Caller) -> Result<(), Problem> {
        let key = match (&caller.credential, caller.address) {
            (Some(credential), _) => format!("key:{credential}"),
            (None, Some(address)) => format!("ip:{address}"),
            (None, None) => "unknown".to_string(),
        };
        match self.counters.take(&key, &self.quota).await {
            Verdict::Admitted => Ok(()),
            Verdict::Unavailable => Err(super::state_unavailable()),
            Verdict::Wait(wait) => Err(super::rate_limited(
                format!(
                    "this caller is over the adapter's rate limit; try again in {} s",
                    wait.as_secs_f64().ceil().max(1.0) as u64
                ),
                wait,
            )),
        }
    }
}

/// The inbound limiters of the served adapters, by adapter name: a new plan keeps an adapter's
/// limiter (and its counts) while its quota is unchanged.
#[derive(Default)]
pub(crate) struct Limiters {
    by_adapter: std::sync::Mutex<std::collections::HashMap<String, Arc<InboundLimiter>>>,
    shared: Option<Arc<SharedState>>,
}

impl Limiters {
    pub(crate) fn sharing(shared: Option<Arc<SharedState>>) -> Limiters {
        Limiters {
            by_adapter: Default::default(),
            shared,
        }
    }

    /// One entry per adapter of the plan, in its order.
    pub(crate) fn attach(&self, plan: &crate::plan::Plan) -> Vec<Option<Arc<InboundLimiter>>> {
        let Ok(mut by_adapter) = self.by_adapter.lock() else {
            return vec![None; plan.adapters.len()];
        };
        let mut kept = std::collections::HashMap::new();
        let attached = plan
            .adapters
            .iter()
            .map(|adapter| {
                let quota = adapter.inbound_limit.as_ref()?;
                let limiter = match by_adapter.get(&adapter.name) {
                    Some(l) if l.quota() == quota => l.clone(),
                    _ => Arc::new(InboundLimiter::new(
                        quota,
                        &adapter.name,
                        self.shared.as_ref(),
                    )),
                };
                kept.insert(adapter.name.clone(), limiter.clone());
                Some(limiter)
            })
            .collect();
        *by_adapter = kept;
        attached
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Window;

    fn caller(address: [u8; 4], credential: Option<&str>) -> Caller {
        Caller {
            address: Some(std::net::IpAddr::from(address)),
            credential: credential.map(Arc::from),
        }
    }

    #[tokio::test]
    async fn a_credential_is_limited_on_its_own_whatever_address_it_calls_from() {
        let quota = Quota {
            windows: vec![Window {
                length_ms: 86_400_000,
                limit: 1,
            }],
        };
        let limiter = InboundLimiter::new(&quota, "a", None);
        assert!(
            limiter
                .admit(&caller([10, 0, 0, 1], Some("flows")))
                .await
                .is_ok()
        );
        let again = limiter.admit(&caller([10, 0, 0, 2], Some("flows"))).await;
        assert_eq!(
            again.map_err(|p| p.code.to_string()),
            Err("rate_limited".into())
        );
        // Another key, and the address without a key, have their own counts.
        assert!(
            limiter
                .admit(&caller([10, 0, 0, 1], Some("crm")))
                .await
                .is_ok()
        );
        assert!(limiter.admit(&caller([10, 0, 0, 1], None)).await.is_ok());
    }
}
