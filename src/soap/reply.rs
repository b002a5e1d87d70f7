//! SOAP replies: the Envelope found, its Body read into an indexed document, a Fault in the Body
//! recognised whatever the HTTP status (many stacks send a Fault with 200), and the Body mapped.

use std::fmt;

use quick_xml::events::Event;
use serde_json::Value;

use crate::faults::{self, Fault};
use crate::problem::Problem;
use crate::reading::Reading;
use crate::xml::doc::Doc;
use crate::xml::reader::{
    self, ArrayHints, Content, Limits, Watched, XmlError, next_resolved, skip, wrong_root,
};

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";

/// A Fault directly in the Body, in either version's namespace.
const FAULT: Watched = Watched {
    namespaces: &[SOAP11_ENV, SOAP12_ENV],
    local: "Fault",
};

/// A SOAP reply: the Body's content, or a fault.
pub enum SoapReply<'x> {
    Body(Doc<'x>),
    Fault(Fault),
}

impl fmt::Debug for SoapReply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::mapping::node::Node as _;
        match self {
            SoapReply::Body(doc) => write!(f, "Body({})", doc.body().to_value()),
            SoapReply::Fault(fault) => write!(f, "Fault({fault:?})"),
        }
    }
}

/// Reads a SOAP 1.1 or 1.2 reply. Only what `hints` names is kept when they prune.
pub fn read_soap<'x>(
    text: &'x str,
    hints: &'x ArrayHints,
    limits: Limits,
) -> Result<SoapReply<'x>, XmlError> {
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = reader::start_reader(text);
    let mut in_envelope = false;
    loop {
        let (ns, event) = next_resolved(&mut reader)?;
        match (in_envelope, event) {
            (false, Event::Start(e)) => {
                let local = e.local_name();
                if local.as_ref() != "Envelope" || !matches!(ns, Some(SOAP11_ENV | SOAP12_ENV)) {
                    return Err(wrong_root(local.as_ref(), "a SOAP envelope"));
                }
                in_envelope = true;
            }
            (false, Event::Empty(e)) => {
                return Err(wrong_root(e.local_name().as_ref(), "a SOAP envelope"));
            }
            (false, Event::Text(t)) if !t.trim_ascii().is_empty() => {
                return Err(reader::text_out_of_place(
                    &reader,
                    "text before the root element",
                ));
            }
            (true, Event::Start(e)) => {
                if e.local_name().as_ref() == "Body" {
                    let content = Content::Element { depth: 2 };
                    let (doc, fault) = reader::read_content(
                        text,
                        &mut reader,
                        hints,
                        limits,
                        content,
                        Some(FAULT),
                    )?;
                    return Ok(match fault {
                        Some(id) => SoapReply::Fault(parse_fault(&doc.value(id))),
                        None => SoapReply::Body(doc),
                    });
                }
                skip(
                    &mut reader,
                    limits.max_depth.saturating_sub(1),
                    limits.max_depth,
                )?;
            }
            (true, Event::End(_) | Event::Eof) => {
                return Err(XmlError::Missing("the SOAP envelope has no Body"));
            }
            (false, Event::Eof) => {
                return Err(reader::text_out_of_place(&reader, "no root element"));
            }
            _ => {}
        }
    }
}

/// Turns a SOAP reply into the route's answer (JSON text).
pub(crate) fn interpret(
    route: &Reading,
    call: &super::SoapCall,
    status: u16,
    content_type: Option<&str>,
    text: &str,
) -> Result<Vec<u8>, Problem> {
    let resolved = match call.resolves_refs {
        true => super::multiref::resolve(text)
            .map_err(|e| Problem::bad_reply(format!("{e} (HTTP {status})")))?,
        false => None,
    };
    let text = resolved.as_deref().unwrap_or(text);
    let reply = read_soap(text, &route.hints, Limits::default())
        .map_err(|e| crate::kind::xml_reply_problem(e, status, content_type))?;
    match reply {
        SoapReply::Fault(fault) => Err(match faults::answer(&route.faults, &fault) {
            Some(a) => Problem::mapped(a),
            None => {
                // The code is the backend's text: the caller sees it only when it is a plain
                // name (what a fault rule matches on); the log has it, and the message, whole.
                let code = fault.full_code();
                tracing::warn!(fault_code = %code, fault_message = %fault.message, "unmapped SOAP fault");
                match crate::problem::plain_code(&code) {
                    Some(shown) => Problem::unmapped_fault(format!("SOAP fault `{shown}`"), status)
                        .with("fault_code", Value::String(shown.to_string())),
                    None => Problem::unmapped_fault(
                        "a SOAP fault whose code is not a plain name (it is in ponte's log)",
                        status,
                    ),
                }
            }
        }),
        SoapReply::Body(body) => {
            if !(200..300).contains(&status) {
                return Err(Problem::bad_reply(format!(
                    "the backend answered HTTP {status} without a SOAP fault"
                )));
            }
            route.map_reply(body.body())
        }
    }
}

/// The text of an element converted to JSON: a string, or `#text` of an element with attributes.
pub fn text_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(m) => m.get("#text").and_then(Value::as_str),
        Value::Array(items) => items.first().and_then(text_of),
        _ => None,
    }
}

fn strip_prefix(qname: &str) -> &str {
    qname.trim().rsplit(':').next().unwrap_or(qname)
}

fn parse_fault(f: &Value) -> Fault {
    // SOAP 1.1: faultcode / faultstring / detail.
    if let Some(code) = f.get("faultcode").and_then(text_of) {
        let mut parts = strip_prefix(code).split('.').map(str::to_string);
        return Fault {
            code: parts.next().unwrap_or_default(),
            subcodes: parts.collect(),
            message: f
                .get("faultstring")
                .and_then(text_of)
                .unwrap_or_default()
                .to_string(),
            detail: f.get("detail").cloned(),
            path: None,
        };
    }
    // SOAP 1.2: Code/Value, Code/Subcode/Value (nested), Reason/Text, Detail.
    let code = f.get("Code");
    let mut subcodes = Vec::new();
    let mut sub = code.and_then(|c| c.get("Subcode"));
    while let Some(s) = sub {
        if let Some(v) = s.get("Value").and_then(text_of) {
            subcodes.push(strip_prefix(v).to_string());
        }
        sub = s.get("Subcode");
    }
    Fault {
        code: code
            .and_then(|c| c.get("Value"))
            .and_then(text_of)
            .map(|v| strip_prefix(v).to_string())
            .unwrap_or_default(),
        subcodes,
        message: f
            .get("Reason")
            .and_then(|r| r.get("Text"))
            .and_then(text_of)
            .unwrap_or_default()
            .to_string(),
        detail: f.get("Detail").cloned(),
        path: None,
    }
}
