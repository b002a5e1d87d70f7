//! The WSDL 1.1 model: messages, port types, bindings and services of every file of the
//! description (a `wsdl:import`ed file adds its own), with QName references resolved.

use std::collections::HashMap;

use super::dom::{Node, QName};
use super::load::SourceFile;
use super::ns::{self, WSDL};
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub name: String,
    /// `element=`: the part is this global element.
    pub element: Option<QName>,
    /// `type=`: the part is an element named after the part, of this type (rpc).
    pub ty: Option<QName>,
}

#[derive(Debug, Default)]
pub(crate) struct Message {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub name: String,
    pub input: Option<QName>,
    pub output: Option<QName>,
    /// Fault name and message.
    pub faults: Vec<(String, QName)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindingKind {
    Soap11,
    Soap12,
    HttpGet,
    HttpPost,
    Other,
}

impl BindingKind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            BindingKind::Soap11 => "SOAP 1.1",
            BindingKind::Soap12 => "SOAP 1.2",
            BindingKind::HttpGet => "HTTP GET",
            BindingKind::HttpPost => "HTTP POST",
            BindingKind::Other => "other",
        }
    }

    pub(crate) fn is_soap(self) -> bool {
        matches!(self, BindingKind::Soap11 | BindingKind::Soap12)
    }
}

/// What `soap:body` says of one direction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    pub encoded: bool,
    /// rpc: the namespace of the operation wrapper.
    pub namespace: Option<String>,
    /// Which message parts go in the body (all when not given).
    pub parts: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct HeaderPart {
    pub message: QName,
    pub part: String,
}

#[derive(Debug, Clone)]
pub(crate) struct BindingOperation {
    pub name: String,
    /// `None`: the attribute is missing; `Some("")`: declared empty.
    pub soap_action: Option<String>,
    pub rpc: bool,
    pub input: Body,
    pub output: Body,
    pub headers: Vec<HeaderPart>,
    /// HTTP bindings: `http:operation location`.
    pub location: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Binding {
    pub name: QName,
    pub port_type: QName,
    pub kind: BindingKind,
    pub operations: Vec<BindingOperation>,
}

#[derive(Debug, Clone)]
pub(crate) struct Port {
    pub name: String,
    pub binding: QName,
    pub address: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Service {
    pub name: String,
    pub ports: Vec<Port>,
}

#[derive(Debug, Default)]
pub(crate) struct Definitions {
    pub target_namespace: String,
    pub messages: HashMap<QName, Message>,
    pub port_types: HashMap<QName, Vec<Operation>>,
    pub bindings: Vec<Binding>,
    pub services: Vec<Service>,
}

impl Definitions {
    /// Reads every `wsdl:definitions` among the files.
    pub(crate) fn read(files: &[SourceFile], errors: &mut Vec<Diagnostic>) -> Definitions {
        let mut defs = Definitions::default();
        for (index, file) in files.iter().enumerate() {
            let root = &file.doc.root;
            if !root.is(WSDL, "definitions") {
                continue;
            }
            let tns = root.attr("targetNamespace").unwrap_or("");
            if index == 0 {
                defs.target_namespace = tns.to_string();
            }
            let mut resolve = |node: &Node, attr: &str| -> Option<QName> {
                let value = node.attr(attr)?;
                let q = node.resolve(value);
                if q.is_none() {
                    errors.push(file.diagnostic(
                        node,
                        format!(
                            "`{attr}=\"{value}\"` uses a namespace prefix that is not declared"
                        ),
                    ));
                }
                q
            };
            for m in root.children_named(WSDL, "message") {
                let Some(name) = m.attr("name") else { continue };
                let parts = m
                    .children_named(WSDL, "part")
                    .map(|p| Part {
                        name: p.attr("name").unwrap_or("").to_string(),
                        element: resolve(p, "element"),
                        ty: resolve(p, "type"),
                    })
                    .collect();
                defs.messages
                    .insert(QName::new(tns, name), Message { parts });
            }
            for pt in root.children_named(WSDL, "portType") {
                let Some(name) = pt.attr("name") else {
                    continue;
                };
                let ops = pt
                    .children_named(WSDL, "operation")
                    .map(|op| Operation {
                        name: op.attr("name").unwrap_or("").to_string(),
                        input: op.child(WSDL, "input").and_then(|i| resolve(i, "message")),
                        output: op.child(WSDL, "output").and_then(|o| resolve(o, "message")),
                        faults: op
                            .children_named(WSDL, "fault")
                            .filter_map(|f| {
                                Some((f.attr("name")?.to_string(), resolve(f, "message")?))
                            })
                            .collect(),
                    })
                    .collect();
                defs.port_types.insert(QName::new(tns, name), ops);
            }
            for b in root.children_named(WSDL, "binding") {
                let (Some(name), Some(port_type)) = (b.attr("name"), resolve(b, "type")) else {
                    continue;
                };
                defs.bindings
                    .push(binding(b, QName::new(tns, name), port_type));
            }
            for s in root.children_named(WSDL, "service") {
                let ports = s
                    .children_named(WSDL, "port")
                    .filter_map(|p| {
                        Some(Port {
                            name: p.attr("name")?.to_string(),
                            binding: resolve(p, "binding")?,
                            address: p
                                .children
                                .iter()
                                .find(|a| a.local == "address")
                                .and_then(|a| a.attr("location"))
                                .map(str::to_string),
                        })
                    })
                    .collect();
                defs.services.push(Service {
                    name: s.attr("name").unwrap_or("").to_string(),
                    ports,
                });
            }
        }
        defs
    }

    pub(crate) fn binding(&self, name: &QName) -> Option<&Binding> {
        self.bindings.iter().find(|b| &b.name == name)
    }

    pub(crate) fn operation(&self, binding: &Binding, name: &str) -> Option<&Operation> {
        self.port_types
            .get(&binding.port_type)?
            .iter()
            .find(|o| o.name == name)
    }
}

fn binding(b: &Node, name: QName, port_type: QName) -> Binding {
    let protocol = b
        .children
        .iter()
        .find(|c| c.local == "binding" && c.ns != WSDL);
    let kind = match protocol.map(|p| (p.ns.as_str(), p.attr("verb"))) {
        Some((ns::SOAP11_BINDING, _)) => BindingKind::Soap11,
        Some((ns::SOAP12_BINDING, _)) => BindingKind::Soap12,
        Some((ns::HTTP_BINDING, Some("GET"))) => BindingKind::HttpGet,
        Some((ns::HTTP_BINDING, Some("POST"))) => BindingKind::HttpPost,
        _ => BindingKind::Other,
    };
    let default_rpc = protocol.and_then(|p| p.attr("style")) == Some("rpc");
    let operations = b
        .children_named(WSDL, "operation")
        .map(|op| {
            let proto = op
                .children
                .iter()
                .find(|c| c.local == "operation" && c.ns != WSDL);
            let rpc = proto
                .and_then(|p| p.attr("style"))
                .map_or(default_rpc, |s| s == "rpc");
            let input = op.child(WSDL, "input");
            BindingOperation {
                name: op.attr("name").unwrap_or("").to_string(),
                soap_action: proto.and_then(|p| p.attr("soapAction")).map(str::to_string),
                rpc,
                input: input.map(body).unwrap_or_default(),
                output: op.child(WSDL, "output").map(body).unwrap_or_default(),
                headers: input.map(headers).unwrap_or_default(),
                location: proto.and_then(|p| p.attr("location")).map(str::to_string),
            }
        })
        .collect();
    Binding {
        name,
        port_type,
        kind,
        operations,
    }
}

fn body(direction: &Node) -> Body {
    let Some(b) = direction.children.iter().find(|c| c.local == "body") else {
        return Body::default();
    };
    Body {
        encoded: b.attr("use") == Some("encoded"),
        namespace: b.attr("namespace").map(str::to_string),
        parts: b
            .attr("parts")
            .map(|p| p.split_whitespace().map(str::to_string).collect()),
    }
}

fn headers(direction: &Node) -> Vec<HeaderPart> {
    direction
        .children
        .iter()
        .filter(|c| {
            c.local == "header" && (c.ns == ns::SOAP11_BINDING || c.ns == ns::SOAP12_BINDING)
        })
        .filter_map(|h| {
            Some(HeaderPart {
                message: h.resolve(h.attr("message")?)?,
                part: h.attr("part")?.to_string(),
            })
        })
        .collect()
}
