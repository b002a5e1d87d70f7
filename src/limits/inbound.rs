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

/// One adapter's inbound limiters: its own, and those of routes with their own `rate_limit`.
#[derive(Clone, Default)]
pub(crate) struct AdapterLimiters {
    adapter: Option<Arc<InboundLimiter>>,
    routes: Vec<Option<Arc<InboundLimiter>>>,
}

impl AdapterLimiters {
    /// The limiter a call of route `index` counts against: the route's own, else the adapter's.
    pub(crate) fn for_route(&self, index: usize) -> Option<&InboundLimiter> {
        self.routes
            .get(index)
            .and_then(Option::as_deref)
            .or(self.adapter.as_deref())
    }
}

/// The inbound limiters of the served adapters, by adapter (and route) name: a new plan keeps a
/// limiter (and its counts) while its quota is unchanged.
#[derive(Default)]
pub(crate) struct Limiters {
    by_name: std::sync::Mutex<std::collections::HashMap<String, Arc<InboundLimiter>>>,
    shared: Option<Arc<SharedState>>,
}

impl Limiters {
    pub(crate) fn sharing(shared: Option<Arc<SharedState>>) -> Limiters {
        Limiters {
            by_name: Default::default(),
            shared,
        }
    }

    /// One entry per adapter of the plan, in its order.
    pub(crate) fn attach(&self, plan: &crate::plan::Plan) -> Vec<AdapterLimiters> {
        let Ok(mut by_name) = self.by_name.lock() else {
            return vec![AdapterLimiters::default(); plan.adapters.len()];
        };
        let mut kept = std::collections::HashMap::new();
        let mut limiter = |name: String, quota: Option<&Quota>| {
            let quota = quota?;
            let limiter = match by_name.get(&name) {
                Some(l) if l.quota() == quota => l.clone(),
                _ => Arc::new(InboundLimiter::new(quota, &name, self.shared.as_ref())),
            };
            kept.insert(name, limiter.clone());
            Some(limiter)
        };
        let attached = plan
            .adapters
            .iter()
            .map(|adapter| AdapterLimiters {
                adapter: limiter(adapter.name.clone(), adapter.inbound_limit.as_ref()),
                routes: adapter
                    .routes
                    .iter()
                    .map(|r| {
                        let name = format!("{}.{}", adapter.name, r.name);
                        limiter(name, r.inbound_limit.as_ref())
                    })
                    .collect(),
            })
            .collect();
        *by_name = kept;
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
