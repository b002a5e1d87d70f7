//! Runtime state of the backends, kept beside the immutable plan: when a new plan is installed
//! (a reload), each adapter keeps its runtime if its settings still fit, so calls waiting for a
//! connection and the connection limit itself survive the swap. Consulted only when a plan is
//! installed, never per request: the server keeps the runtimes beside the plan they belong to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::plan::Plan;

use super::http::BackendRuntime;

#[derive(Default)]
pub struct Registry {
    runtimes: Mutex<HashMap<String, Arc<BackendRuntime>>>,
}

impl Registry {
    /// The runtimes of `plan`'s adapters, in the plan's order. Adapters no longer in the plan
    /// are forgotten (their calls in flight keep their runtime until they finish).
    pub fn attach(&self, plan: &Plan) -> Result<Vec<Arc<BackendRuntime>>, String> {
        let mut runtimes = self
            .runtimes
            .lock()
            .map_err(|_| "the backend registry is poisoned".to_string())?;
        let mut attached = Vec::with_capacity(plan.adapters.len());
        let mut kept = HashMap::with_capacity(plan.adapters.len());
        for adapter in &plan.adapters {
            let runtime = match runtimes.get(&adapter.name) {
                Some(r) if r.fits(&adapter.backend) => r.clone(),
                _ => Arc::new(BackendRuntime::new(&adapter.backend)?),
            };
            kept.insert(adapter.name.clone(), runtime.clone());
            attached.push(runtime);
        }
        *runtimes = kept;
        Ok(attached)
    }
}
