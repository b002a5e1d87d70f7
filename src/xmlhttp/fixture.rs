//! What a contract fixture expects of an XML-over-HTTP request: the method, the path and query
//! appended to the backend URL, the form fields, or the XML body as a tree.

use serde_json::{Map, Value};

use crate::fixture::CaseBackend;
use crate::fixture::expect::{Scalars, compare};
use crate::fixture::runner::lines;
use crate::mapping::node::Node as _;
use crate::xml::reader::{ArrayHints, Limits, read_document};

/// What the stand-in received, below the adapter's base path.
pub(crate) struct Received<'a> {
    pub method: &'a str,
    /// Path and query after the backend URL.
    pub target: &'a str,
    pub body: &'a [u8],
}

/// The differences between what the stand-in received and what the case expects.
pub(crate) fn check_sent(expect: &CaseBackend, got: &Received) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(method) = &expect.method
        && !method.eq_ignore_ascii_case(got.method)
    {
        problems.push(format!(
            "backend request: method: expected {method}, got {}",
            got.method
        ));
    }
    if let Some(path) = &expect.path
        && path != got.target
    {
        problems.push(format!(
            "backend request: path: expected {path:?}, got {:?}",
            got.target
        ));
    }
    if let Some(form) = &expect.form {
        let fields: Map<String, Value> = form_urlencoded::parse(got.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        if let Err(found) = compare(form, Some(&Value::Object(fields)), "form", Scalars::AsText) {
            problems.extend(lines("backend request", found));
        }
    }
    let text = String::from_utf8_lossy(got.body);
    if let Some(body) = &expect.body {
        match read_document(&text, &ArrayHints::default(), Limits::default()) {
            Ok(doc) => {
                let actual = doc.body().to_value();
                if let Err(found) = compare(body, Some(&actual), "body", Scalars::AsText) {
                    problems.extend(lines("backend request", found));
                }
            }
            Err(e) => problems.push(format!("backend request: {e}")),
        }
    }
    crate::xml::compare::check_envelope(expect.envelope.as_ref(), &text, &mut problems);
    problems
}
