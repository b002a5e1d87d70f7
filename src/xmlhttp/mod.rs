//! The XML-over-HTTP kind: services that are neither SOAP nor JSON and answer XML to a plain GET
//! with query parameters, a form POST or an XML POST (the HTTP bindings many WSDLs declare,
//! price and deadline calculators, central-bank series, address lookups).
//!
//! A route names the backend request (`call`), maps the reply's root element with the mapping
//! language (paths start with the root's name), and turns backend statuses (`status:`) and error
//! elements in the reply (`faults` with `when:`) into answers.

pub(crate) mod fixture;
pub(crate) mod model;
mod request;

pub use model::{HttpBackend, HttpRoute};
pub use request::HttpCall;

use crate::config::Spanned;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::faults::Fault;
use crate::kind::KindCompiled;
use crate::mapping::node::Node;
use crate::mapping::path::Selected;
use crate::problem::Problem;
use crate::reading::Reading;
use crate::xml::reader::{Limits, read_document};
use crate::xml::template::InputRef;

/// Checks the backend URL: a base that route paths are appended to.
pub(crate) fn check_base_url(url: &reqwest::Url, span: &Spanned<String>) -> Option<Diagnostic> {
    (url.query().is_some() || url.fragment().is_some()).then(|| {
        Diagnostic::error(
            span.span,
            "the base URL of an http backend cannot have a query",
        )
        .with_help("put query parameters in each route's `call.query`")
    })
}

pub(crate) fn compile_route<'r>(
    route: &'r HttpRoute,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> KindCompiled<'r> {
    for rule in &route.faults {
        if rule.when.is_none() {
            errors.push(
                Diagnostic::error(rule.status.span, "this fault rule has no `when`").with_help(
                    "an XML-over-HTTP fault is an element in the reply: `when: root.erro`",
                ),
            );
        }
    }
    let call = request::compile(route, refs, used, errors);
    KindCompiled {
        call: call.map(crate::kind::Call::Http),
        uses_in: "call",
        literal: None,
        reply_schema: None,
    }
}

/// Turns a reply into the route's answer: status rules first, then the document, its error
/// elements (`when`) and the mapping.
pub(crate) fn interpret(
    route: &Reading,
    call: &HttpCall,
    status: u16,
    content_type: Option<&str>,
    text: &str,
) -> Result<Vec<u8>, Problem> {
    if let Some(problem) = call.status_problem(status) {
        return Err(problem);
    }
    if !(200..300).contains(&status) {
        return Err(Problem::bad_reply(format!(
            "the backend answered HTTP {status}; no status rule maps it"
        )));
    }
    let doc = read_document(text, &route.hints, Limits::default())
        .map_err(|e| crate::kind::xml_reply_problem(e, status, content_type))?;
    let root = doc.body();
    for rule in &route.faults {
        let Some(when) = &rule.when else { continue };
        let Some(found) = when.select(root) else {
            continue;
        };
        let message = match found {
            Selected::One(node) if node.is_null() => continue,
            Selected::One(node) => node.as_str().map(str::to_string).unwrap_or_default(),
            Selected::Many(items) if items.is_empty() => continue,
            Selected::Many(items) => items
                .first()
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string(),
        };
        let fault = Fault {
            code: String::new(),
            subcodes: Vec::new(),
            message,
            detail: None,
            path: None,
        };
        if rule.matches(&fault) {
            return Err(Problem::mapped(rule.answer(&fault)));
        }
    }
    route.map_reply(root)
}
