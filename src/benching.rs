//! Entry points for the micro benchmarks (`benches/translate.rs`; not part of ponte's API): the
//! request side of a call as the facade runs it, for a route whose inputs are all in the body.

use serde_json::Value;

use crate::kind::BackendRequest;
use crate::mapping::input::{self, CallParts};
use crate::plan::RoutePlan;

/// A JSON body -> the route's typed inputs -> the backend request (for SOAP, the envelope): what
/// the facade does between reading the body and calling the backend.
pub fn request_from_json(route: &RoutePlan, body: &[u8]) -> Result<BackendRequest, String> {
    let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let parts = CallParts {
        body: Some(&body),
        ..CallParts::default()
    };
    let values = input::decode(&route.inputs, &parts).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.problem))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    route.call.request(&values).map_err(|p| p.detail)
}
