//! Reply XML -> JSON, streaming and namespace-aware.
//!
//! Conventions (DESIGN.md): elements by local name, attributes as `@name`, text beside children as
//! `#text`, repeated elements (and elements the adapter marks as arrays) as JSON arrays,
//! `xsi:nil="true"` as null, `xsi:type` numbers and booleans as JSON numbers and booleans.
//! A DOCTYPE (and so any entity declaration) is refused, as is nesting deeper than a bound.

use std::fmt;

use quick_xml::NsReader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::borrow::Cow;

use serde_json::Value;

use super::doc::{Doc, Element};

use crate::config::model::ValueType;
use crate::faults::Fault;
use crate::mapping::path::{Path, Step};

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What the mapping reads of a reply: a trie of element names from the Body down, saying which
/// elements are always arrays and, when pruning, which subtrees are needed at all (the others are
/// parsed for well-formedness but never built).
#[derive(Debug, Clone)]
pub struct ArrayHints {
    /// Node 0 is the Body.
    nodes: Vec<HintNode>,
    prune: bool,
}

impl Default for ArrayHints {
    fn default() -> Self {
        ArrayHints {
            nodes: vec![HintNode::default()],
            prune: false,
        }
    }
}

#[derive(Debug, Default, Clone)]
struct HintNode {
    children: Vec<(String, usize)>,
    array: bool,
    /// Some child is always an array (so this element is always an object).
    has_array_child: bool,
    /// A path ends here: the whole subtree is needed.
    whole: bool,
}

impl ArrayHints {
    /// Every element directly followed by `[*]` in one of the paths is an array.
    pub fn from_paths<'p>(paths: impl IntoIterator<Item = &'p Path>) -> ArrayHints {
        let mut hints = ArrayHints::default();
        for path in paths {
            let mut node = 0;
            let mut element = true;
            for step in &path.steps {
                match step {
                    // `@attr` and `#text` live on the element itself: it is needed, not all below it.
                    Step::Field(name) if name.starts_with(['@', '#']) => element = false,
                    Step::Field(name) => node = hints.child_or_insert(node, name),
                    Step::Each => hints.nodes[node].array = true,
                    Step::Index(_) => {}
                }
            }
            if element {
                hints.nodes[node].whole = true;
            }
        }
        for i in 0..hints.nodes.len() {
            let has = hints.nodes[i]
                .children
                .iter()
                .any(|(_, c)| hints.nodes[*c].array);
            hints.nodes[i].has_array_child = has;
        }
        hints
    }

    /// Only what the paths reach is built; a mapping that reads everything (a JMESPath
    /// expression) must not prune.
    pub fn pruning(mut self, prune: bool) -> ArrayHints {
        self.prune = prune;
        self
    }

    /// Whether an element that no path names, under a kept element with hint `parent`, can be
    /// skipped.
    fn skips(&self, parent: Option<usize>, parent_keeps_all: bool) -> bool {
        self.prune && !parent_keeps_all && parent.is_some()
    }

    fn child_or_insert(&mut self, node: usize, name: &str) -> usize {
        if let Some(c) = self.child(node, name) {
            return c;
        }
        self.nodes.push(HintNode::default());
        let id = self.nodes.len() - 1;
        self.nodes[node].children.push((name.to_string(), id));
        id
    }

    pub(crate) fn child(&self, node: usize, name: &str) -> Option<usize> {
        self.nodes
            .get(node)?
            .children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    pub(crate) fn is_array(&self, node: Option<usize>) -> bool {
        node.is_some_and(|n| self.nodes[n].array)
    }

    /// Whether some name under `node` is always a list.
    pub(crate) fn has_array_child(&self, node: usize) -> bool {
        self.nodes[node].has_array_child
    }

    /// The names under `node` that are always lists.
    pub(crate) fn array_children(&self, node: usize) -> impl Iterator<Item = &str> + '_ {
        self.nodes[node]
            .children
            .iter()
            .filter(|(_, c)| self.nodes[*c].array)
            .map(|(name, _)| name.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 64 }
    }
}

#[derive(Debug, PartialEq)]
pub enum XmlError {
    Empty,
    NotUtf8,
    Html,
    DocType,
    TooDeep(usize),
    UnknownEntity(String),
    Syntax { message: String, offset: u64 },
    NotSoap { root: String },
    NoBody,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Empty => write!(f, "the reply body is empty"),
            XmlError::NotUtf8 => write!(f, "the reply is not UTF-8 text"),
            XmlError::Html => write!(f, "the reply is an HTML page, not XML"),
            XmlError::DocType => write!(
                f,
                "the reply contains a DOCTYPE (refused: entity declarations are unsafe)"
            ),
            XmlError::TooDeep(n) => write!(f, "the reply nests elements deeper than {n} levels"),
            XmlError::UnknownEntity(e) => write!(f, "the reply uses the undeclared entity `&{e};`"),
            XmlError::Syntax { message, offset } => write!(
                f,
                "the reply is not well-formed XML (at byte {offset}: {message})"
            ),
            XmlError::NotSoap { root } => write!(
                f,
                "the reply is XML but not a SOAP envelope (root element `{root}`)"
            ),
            XmlError::NoBody => write!(f, "the SOAP envelope has no Body"),
        }
    }
}

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
    xml: &'x [u8],
    hints: &'x ArrayHints,
    limits: Limits,
) -> Result<SoapReply<'x>, XmlError> {
    let text = std::str::from_utf8(xml).map_err(|_| XmlError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = NsReader::from_str(text);
    let mut state = Soap::BeforeEnvelope;
    loop {
        let offset = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| syntax(e, offset))?;
        let ns = bound(&ns);
        match (&state, event) {
            (_, Event::DocType(d)) => return Err(doctype(&d)),
            (Soap::BeforeEnvelope, Event::Start(e)) => {
                let local = e.local_name();
                let local = local.as_ref();
                if local != "Envelope" || !matches!(ns, Some(SOAP11_ENV | SOAP12_ENV)) {
                    return Err(not_soap(local));
                }
                state = Soap::InEnvelope;
            }
            (Soap::BeforeEnvelope, Event::Empty(e)) => {
                return Err(not_soap(e.local_name().as_ref()));
            }
            (Soap::BeforeEnvelope, Event::Text(t)) if !t.trim().is_empty() => {
                return Err(syntax_msg("text before the root element", offset));
            }
            (Soap::InEnvelope, Event::Start(e)) => {
                if e.local_name().as_ref() == "Body" {
                    let body = read_body(text, &mut reader, hints, limits)?;
                    return Ok(body);
                }
                skip(
                    &mut reader,
                    limits.max_depth.saturating_sub(1),
                    limits.max_depth,
                )?;
            }
            (Soap::InEnvelope, Event::End(_) | Event::Eof) | (Soap::BeforeEnvelope, Event::Eof) => {
                return Err(if matches!(state, Soap::InEnvelope) {
                    XmlError::NoBody
                } else {
                    syntax_msg("no root element", offset)
                });
            }
            _ => {}
        }
    }
}

enum Soap {
    BeforeEnvelope,
    InEnvelope,
}

fn bound<'a>(ns: &ResolveResult<'a>) -> Option<&'a str> {
    match ns {
        ResolveResult::Bound(n) => Some(n.0),
        _ => None,
    }
}

fn syntax(e: quick_xml::Error, offset: u64) -> XmlError {
    XmlError::Syntax {
        message: e.to_string(),
        offset,
    }
}

fn syntax_msg(message: &str, offset: u64) -> XmlError {
    XmlError::Syntax {
        message: message.to_string(),
        offset,
    }
}

fn doctype(d: &str) -> XmlError {
    if d.trim_start().to_ascii_lowercase().starts_with("html") {
        XmlError::Html
    } else {
        XmlError::DocType
    }
}

fn not_soap(root: &str) -> XmlError {
    if root.eq_ignore_ascii_case("html") {
        XmlError::Html
    } else {
        XmlError::NotSoap {
            root: root.to_string(),
        }
    }
}

/// Skips the element whose start tag was just read (a SOAP Header, or content the mapping does
/// not read), still refusing what is refused anywhere: DOCTYPEs, nesting deeper than `room`.
fn skip(reader: &mut NsReader<&[u8]>, room: usize, limit: usize) -> Result<(), XmlError> {
    let mut depth = 1usize;
    while depth > 0 {
        let offset = reader.buffer_position();
        match reader.read_event().map_err(|e| syntax(e, offset))? {
            Event::Start(_) => {
                depth += 1;
                if depth > room {
                    return Err(XmlError::TooDeep(limit));
                }
            }
            Event::End(_) => depth -= 1,
            Event::DocType(d) => return Err(doctype(&d)),
            Event::Eof => return Err(syntax_msg("unexpected end of document", offset)),
            _ => {}
        }
    }
    Ok(())
}

/// An element being read: its index in the document and whether everything below it is needed
/// (inside a subtree that a path selects whole, or a fault).
#[derive(Clone, Copy)]
struct Open {
    id: u32,
    keeps_all: bool,
    is_fault: bool,
}

/// A slice of the reply that quick-xml handed back, as a slice of the reply itself (so that the
/// document can keep it without copying); `None` when it was built elsewhere (unescaped text).
fn anchor<'x>(input: &'x str, piece: &str) -> Option<&'x str> {
    let start = (piece.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    input
        .get(start..start + piece.len())
        .filter(|s| s.as_ptr() == piece.as_ptr())
}

fn keep<'x>(input: &'x str, piece: Cow<'_, str>) -> Cow<'x, str> {
    match anchor(input, &piece) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(piece.into_owned()),
    }
}

fn append<'x>(text: &mut Cow<'x, str>, input: &'x str, piece: &str) {
    if text.is_empty()
        && let Some(s) = anchor(input, piece)
    {
        *text = Cow::Borrowed(s);
        return;
    }
    text.to_mut().push_str(piece);
}

/// Starts element `e` under `parent`: its attributes, `xsi:nil` and `xsi:type`. `None` when the
/// element can be skipped: pruning is on, nothing below `parent` is needed whole, and no path
/// names it. A SOAP `Fault` in the Body (`soap_ns_in_body` and the name) is never skipped.
fn open<'x>(
    doc: &mut Doc<'x>,
    input: &'x str,
    e: &BytesStart,
    parent: &Open,
    soap_ns_in_body: bool,
    reader: &NsReader<&[u8]>,
) -> Result<Option<Open>, XmlError> {
    let local = e.local_name();
    let local = local.as_ref();
    let is_fault = soap_ns_in_body && local == "Fault";
    let parent_hint = doc.elements[parent.id as usize].hint;
    let hint = parent_hint.and_then(|h| doc.hints.child(h, local));
    if hint.is_none() && !is_fault && doc.hints.skips(parent_hint, parent.keeps_all) {
        return Ok(None);
    }
    let name = anchor(input, local).unwrap_or("");
    let attrs_start = doc.attrs.len() as u32;
    let mut element = Element::new(name, attrs_start, hint);
    for attr in e.attributes() {
        let attr = attr.map_err(|err| syntax_msg(&err.to_string(), reader.buffer_position()))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, attr_local) = reader.resolver().resolve_attribute(key);
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| syntax_msg(&err.to_string(), reader.buffer_position()))?;
        if bound(&ns) == Some(XSI) {
            match attr_local.as_ref() {
                "nil" => element.nil = matches!(value.trim(), "true" | "1"),
                "type" => element.ty = xsd_type(&value),
                _ => {}
            }
            continue;
        }
        let attr_name = anchor(input, attr_local.as_ref()).unwrap_or("");
        doc.attrs.push((attr_name, keep(input, value)));
    }
    element.attrs_end = doc.attrs.len() as u32;
    let keeps_all = parent.keeps_all || is_fault || hint.is_some_and(|h| doc.hints.nodes[h].whole);
    let id = doc.push_child(parent.id, element);
    Ok(Some(Open {
        id,
        keeps_all,
        is_fault,
    }))
}

/// `xsi:type="xsd:int"` and friends: the XML Schema built-ins that have a JSON type.
fn xsd_type(qname: &str) -> Option<ValueType> {
    let local = qname.rsplit(':').next().unwrap_or(qname);
    Some(match local {
        "int" | "integer" | "long" | "short" | "byte" | "unsignedInt" | "unsignedShort"
        | "unsignedByte" | "unsignedLong" | "nonNegativeInteger" | "positiveInteger"
        | "negativeInteger" | "nonPositiveInteger" => ValueType::Integer,
        "double" | "float" | "decimal" => ValueType::Number,
        "boolean" => ValueType::Boolean,
        _ => return None,
    })
}

/// The character of a predefined entity or character reference; anything else is undeclared.
pub(crate) fn resolve_entity(r: &BytesRef) -> Result<char, XmlError> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Ok(c);
    }
    match r.as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(XmlError::UnknownEntity(other.to_string())),
    }
}

fn read_body<'x>(
    input: &'x str,
    reader: &mut NsReader<&'x [u8]>,
    hints: &'x ArrayHints,
    limits: Limits,
) -> Result<SoapReply<'x>, XmlError> {
    let mut doc = Doc {
        // About one element per 40 bytes of a typical indented reply, but no more up front
        // than a few hundred KiB: a pruned large reply may keep only a handful.
        elements: Vec::with_capacity((input.len() / 40).min(4096) + 4),
        attrs: Vec::new(),
        hints,
    };
    doc.elements.push(Element::new("Body", 0, Some(0)));
    // Depth counts from the document root: Envelope (1) / Body (2) / content (3...).
    let mut stack: Vec<Open> = vec![Open {
        id: 0,
        keeps_all: false,
        is_fault: false,
    }];
    let mut fault = None;
    loop {
        let offset = reader.buffer_position();
        // Element namespaces matter only for a Fault directly in the Body: below it they are not
        // resolved at all (the reader still tracks declarations, for `xsi:` attributes).
        let event = reader.read_event().map_err(|e| syntax(e, offset))?;
        let Some(&parent) = stack.last() else { break };
        let at_body = stack.len() == 1;
        match event {
            Event::Start(e) => {
                if stack.len() + 2 > limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let soap_ns_in_body =
                    at_body && is_soap_ns(&reader.resolver().resolve_element(e.name()).0);
                match open(&mut doc, input, &e, &parent, soap_ns_in_body, reader)? {
                    Some(opened) => {
                        if opened.is_fault {
                            fault = fault.or(Some(opened.id));
                        }
                        stack.push(opened);
                    }
                    None => skip(
                        reader,
                        limits.max_depth.saturating_sub(stack.len() + 1),
                        limits.max_depth,
                    )?,
                }
            }
            Event::Empty(e) => {
                let soap_ns_in_body =
                    at_body && is_soap_ns(&reader.resolver().resolve_element(e.name()).0);
                if let Some(opened) = open(&mut doc, input, &e, &parent, soap_ns_in_body, reader)?
                    && opened.is_fault
                {
                    fault = fault.or(Some(opened.id));
                }
            }
            Event::End(_) => {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
            }
            Event::Text(t) => {
                // Text directly in the Body is never kept, nor indentation between children.
                let element = &mut doc.elements[parent.id as usize];
                if !at_body
                    && ((element.first_child == 0 && !element.has_attrs())
                        || !t.trim_ascii().is_empty())
                {
                    append(&mut element.text, input, &t.xml10_content());
                }
            }
            Event::CData(c) if !at_body => {
                let element = &mut doc.elements[parent.id as usize];
                append(&mut element.text, input, &c);
            }
            Event::GeneralRef(r) => {
                let c = resolve_entity(&r)?;
                if !at_body {
                    doc.elements[parent.id as usize].text.to_mut().push(c);
                }
            }
            Event::DocType(d) => return Err(doctype(&d)),
            Event::Eof => return Err(syntax_msg("unexpected end of document inside Body", offset)),
            _ => {}
        }
    }
    if let Some(id) = fault {
        let value = doc.value(id);
        return Ok(SoapReply::Fault(parse_fault(&value)));
    }
    Ok(SoapReply::Body(doc))
}

fn is_soap_ns(ns: &ResolveResult) -> bool {
    matches!(bound(ns), Some(SOAP11_ENV | SOAP12_ENV))
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
