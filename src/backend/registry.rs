//! Runtime state of the backends, kept beside the immutable plan: when a new plan is installed
//! (a reload), each adapter keeps its runtime if its settings still fit, so calls waiting for a
//! connection and the connection limit itself survive the swap. Consulted only when a plan is
//! installed, never per request: the server keeps the runtimes beside the plan they belong to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::http::{BackendRuntime, BackendSettings};

#[derive(Default)]
pub struct Registry {
    runtimes: Mutex<HashMap<String, Arc<BackendRuntime>>>,
    /// Where quotas are counted when replicas share them (else in each runtime).
    shared: Option<Arc<crate::state::SharedState>>,
}

impl Registry {
    /// A registry whose backends count their quotas in the shared state.
    pub(crate) fn sharing(shared: Option<Arc<crate::state::SharedState>>) -> Registry {
        Registry {
            runtimes: Mutex::default(),
            shared,
        }
    }

    /// The runtimes of a plan's backends (adapter name and settings, in the plan's order).
    /// Adapters no longer in the plan are forgotten (their calls in flight keep their runtime
    /// until they finish).
    pub fn attach<'p>(
        &self,
        backends: impl ExactSizeIterator<Item = (&'p str, &'p BackendSettings)>,
    ) -> Result<Vec<Arc<BackendRuntime>>, String> {
        let mut runtimes = self
            .runtimes
            .lock()
            .map_err(|_| "the backend registry is poisoned".to_string())?;
        let mut attached = Vec::with_capacity(backends.len());
        let mut kept = HashMap::with_capacity(backends.len());
        for (name, settings) in backends {
            let runtime = match runtimes.get(name) {
                Some(r) if r.fits(settings) => r.clone(),
                _ => Arc::new(BackendRuntime::new(settings, name)?.limited(
                    settings.rate_limit.as_ref().map(|quota| {
                        crate::limits::outbound::OutboundLimiter::new(
                            quota,
                            name,
                            self.shared.as_ref(),
                        )
                    }),
                )),
            };
            kept.insert(name.to_string(), runtime.clone());
            attached.push(runtime);
        }
        *runtimes = kept;
        Ok(attached)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::backend::http::RetryPolicy;

    fn settings(max_connections: usize) -> BackendSettings {
        BackendSettings {
            url: reqwest::Url::parse("http://127.0.0.1:9/").expect("URL"),
            timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            max_reply: 1 << 20,
            headers: Default::default(),
            max_connections,
            breaker: None,
            auth: None,
            connection: Default::default(),
            rate_limit: None,
        }
    }

    #[test]
    fn a_new_plan_keeps_a_backends_quota_while_its_limit_is_unchanged() {
        use crate::limits::{OutboundQuota, Quota, Window};
        let limited = |limit| BackendSettings {
            rate_limit: Some(OutboundQuota {
                quota: Quota {
                    windows: vec![Window {
                        length_ms: 1000,
                        limit,
                    }],
                },
                queue: 0,
            }),
            ..settings(4)
        };
        let registry = Registry::default();
        let (ten, five) = (limited(10), limited(5));
        let first = registry.attach([("a", &ten)].into_iter()).unwrap();
        let same = registry.attach([("a", &ten)].into_iter()).unwrap();
        assert!(Arc::ptr_eq(&first[0], &same[0]), "same quota: counts kept");
        let changed = registry.attach([("a", &five)].into_iter()).unwrap();
        assert!(
            !Arc::ptr_eq(&same[0], &changed[0]),
            "new quota: new limiter"
        );
    }

    #[test]
    fn a_new_plan_keeps_the_runtime_of_an_unchanged_backend() {
        let registry = Registry::default();
        let (a, b) = (settings(4), settings(8));
        let first = registry.attach([("a", &a), ("b", &b)].into_iter()).unwrap();
        let changed = settings(16);
        let second = registry
            .attach([("a", &a), ("b", &changed)].into_iter())
            .unwrap();
        assert!(Arc::ptr_eq(&first[0], &second[0]), "unchanged: kept");
        assert!(
            !Arc::ptr_eq(&first[1], &second[1]),
            "new limit: new runtime"
        );
        let third = registry.attach([("b", &changed)].into_iter()).unwrap();
        assert!(
            Arc::ptr_eq(&second[1], &third[0]),
            "kept by name, not position"
        );
        let fourth = registry.attach([("a", &a)].into_iter()).unwrap();
        assert!(
            !Arc::ptr_eq(&first[0], &fourth[0]),
            "a removed adapter is forgotten"
        );
    }
}
