//! What a contract fixture expects of a GraphQL request: the document (whitespace collapsed), the
//! operation name and the variables (matchers allowed).

use serde_json::Value;

use crate::fixture::CaseBackend;
use crate::fixture::expect::{Scalars, compare};

/// The differences between what the stand-in received and what the case expects.
pub(crate) fn check_sent(expect: &CaseBackend, body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    if expect.query.is_none() && expect.operation_name.is_none() && expect.variables.is_none() {
        return problems;
    }
    let Ok(sent) = serde_json::from_slice::<Value>(body) else {
        problems.push("backend request: the body sent is not JSON".into());
        return problems;
    };
    if let Some(query) = &expect.query {
        let got = sent
            .get("query")
            .and_then(Value::as_str)
            .map(crate::fixture::collapse)
            .unwrap_or_default();
        if &got != query {
            problems.push(format!(
                "backend request: query: expected {query:?}, got {got:?}"
            ));
        }
    }
    if let Some(op) = &expect.operation_name {
        let got = sent
            .get("operationName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if got != op {
            problems.push(format!(
                "backend request: operationName: expected {op:?}, got {got:?}"
            ));
        }
    }
    if let Some(vars) = &expect.variables
        && let Err(found) = compare(vars, sent.get("variables"), "variables", Scalars::Strict)
    {
        problems.extend(crate::fixture::runner::lines("backend request", found));
    }
    problems
}
