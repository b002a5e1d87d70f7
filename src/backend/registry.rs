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
                _ => Arc::new(BackendRuntime::new(settings)?),
            };
            kept.insert(name.to_string(), runtime.clone());
            attached.push(runtime);
        }
        *runtimes = kept;
        Ok(attached)
    }
}
