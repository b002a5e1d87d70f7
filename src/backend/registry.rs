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
}

impl Registry {
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
                _ => Arc::new(BackendRuntime::new(settings, name)?),
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
        }
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
