//! Which problems of the catalog (`src/problem.rs`) a route can answer, and why: 400 when it has
//! inputs, 401/403 with inbound auth, 404 with `not_found`, one entry per fault rule, 429 with
//! limits, and the backend's 502/503/504 always.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::model::InputLocation;
use crate::plan::{AdapterPlan, RoutePlan};
use crate::problem::Catalog;

use super::Mode;

/// The problems of one status.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemDescription {
    pub status: u16,
    pub reasons: Vec<Reason>,
}

/// One problem: its `code` (`None` when a fault rule derives it from the fault) and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: Option<String>,
    pub when: String,
}

#[derive(Default)]
struct Collected(BTreeMap<u16, Vec<Reason>>);

impl Collected {
    fn add(&mut self, status: u16, code: Option<&str>, when: impl Into<String>) {
        let reason = Reason {
            code: code.map(str::to_string),
            when: when.into(),
        };
        let list = self.0.entry(status).or_default();
        if !list.contains(&reason) {
            list.push(reason);
        }
    }

    fn catalog(&mut self, kind: Catalog, when: &str) {
        self.add(kind.status(), Some(kind.code()), when);
    }
}

pub(super) fn of_route(
    adapter: &AdapterPlan,
    route: &RoutePlan,
    mode: Mode,
) -> Vec<ProblemDescription> {
    let mut c = Collected::default();
    if !route.inputs.is_empty() {
        c.catalog(
            Catalog::BadInput,
            "an input is missing or invalid (`errors` names each)",
        );
    }
    if route
        .inputs
        .iter()
        .any(|i| i.location == InputLocation::Body)
    {
        c.catalog(Catalog::MalformedJson, "the body is not JSON");
        c.catalog(
            Catalog::UnsupportedMediaType,
            "the body is not application/json",
        );
        c.catalog(Catalog::BodyTooLarge, "the body is larger than the limit");
    }
    if let Some(guard) = &route.auth {
        c.catalog(
            Catalog::Unauthorized,
            "the call carries no valid credential",
        );
        if guard.may_forbid() {
            c.catalog(
                Catalog::Forbidden,
                "the credential does not allow this route",
            );
        }
    }
    if route.reading.not_found.is_some() {
        c.catalog(
            Catalog::NotFound,
            "the backend has no result for this request",
        );
    }
    if mode.mock {
        c.catalog(
            Catalog::NotFound,
            "mock mode: no fixture makes this request",
        );
    }
    for rule in &route.reading.faults {
        c.add(
            rule.status,
            rule.error_code(),
            format!("the backend's fault matches the rule: {}", rule.condition()),
        );
    }
    if adapter.inbound_limit.is_some() || route.inbound_limit.is_some() {
        c.catalog(
            Catalog::RateLimited,
            "the caller is over its rate limit (`Retry-After`)",
        );
    }
    if adapter.backend.rate_limit.is_some() {
        c.catalog(
            Catalog::RateLimited,
            "the backend's quota is used up (`Retry-After`)",
        );
    }
    backend_problems(adapter, route, &mut c);
    c.0.into_iter()
        .map(|(status, reasons)| ProblemDescription { status, reasons })
        .collect()
}

/// What any backend call can meet.
fn backend_problems(adapter: &AdapterPlan, route: &RoutePlan, c: &mut Collected) {
    c.catalog(
        Catalog::BackendUnreachable,
        "the backend could not be reached",
    );
    c.catalog(
        Catalog::BadBackendReply,
        "the backend's reply does not fit the mapping",
    );
    c.catalog(
        Catalog::BackendFault,
        "the backend answered with a fault no rule maps",
    );
    if adapter.backend.auth.is_some() {
        c.catalog(
            Catalog::BackendAuthFailed,
            "the backend refused ponte's credentials",
        );
    }
    let unavailable = Catalog::BackendUnavailable;
    c.add(
        route.unavailable_status,
        Some(unavailable.code()),
        "the backend said \"not now\" (`Retry-After`)",
    );
    c.catalog(
        Catalog::BackendBusy,
        "every connection to the backend stayed busy",
    );
    if adapter.backend.breaker.is_some() {
        c.catalog(
            Catalog::CircuitOpen,
            "the backend's circuit breaker is open",
        );
    }
    c.catalog(
        Catalog::BackendTimeout,
        "the backend did not answer in time",
    );
}
