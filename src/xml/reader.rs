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
use serde_json::{Map, Value};

use crate::config::model::ValueType;
use crate::faults::Fault;
use crate::mapping::coerce;
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
        hints
    }

    /// Only what the paths reach is built; a mapping that reads everything (a JMESPath
    /// expression) must not prune.
    pub fn pruning(mut self, prune: bool) -> ArrayHints {
        self.prune = prune;
        self
    }

    /// Whether an element `name` under a kept element with hint `parent` can be skipped.
    fn skips(&self, parent: Option<usize>, parent_keeps_all: bool, name: &str) -> bool {
        self.prune && !parent_keeps_all && parent.is_some_and(|p| self.child(p, name).is_none())
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

    fn child(&self, node: usize, name: &str) -> Option<usize> {
        self.nodes
            .get(node)?
            .children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    fn is_array(&self, node: Option<usize>) -> bool {
        node.is_some_and(|n| self.nodes[n].array)
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

/// A SOAP reply: the Body's content as JSON, or a fault.
#[derive(Debug, PartialEq)]
pub enum SoapReply {
    Body(Value),
    Fault(Fault),
}

/// Reads a SOAP 1.1 or 1.2 reply.
pub fn read_soap(xml: &[u8], hints: &ArrayHints, limits: Limits) -> Result<SoapReply, XmlError> {
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
                    let body = read_body(&mut reader, hints, limits)?;
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

struct Frame {
    name: String,
    hint: Option<usize>,
    /// Everything below is needed (inside a subtree a path selects whole).
    keeps_all: bool,
    map: Map<String, Value>,
    text: String,
    nil: bool,
    ty: Option<ValueType>,
    is_fault: bool,
}

impl Frame {
    fn new(
        e: &BytesStart,
        is_soap_ns: bool,
        parent: (Option<usize>, bool),
        hints: &ArrayHints,
        reader: &NsReader<&[u8]>,
    ) -> Result<Frame, XmlError> {
        let local = e.local_name();
        let name = local.as_ref().to_string();
        let hint = parent.0.and_then(|h| hints.child(h, &name));
        let is_fault = is_soap_ns && name == "Fault";
        let mut frame = Frame {
            hint,
            keeps_all: parent.1 || is_fault || hint.is_some_and(|h| hints.nodes[h].whole),
            is_fault: is_soap_ns && name == "Fault",
            name,
            map: Map::new(),
            text: String::new(),
            nil: false,
            ty: None,
        };
        for attr in e.attributes() {
            let attr =
                attr.map_err(|err| syntax_msg(&err.to_string(), reader.buffer_position()))?;
            let key = attr.key;
            if key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, local) = reader.resolver().resolve_attribute(key);
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| syntax_msg(&err.to_string(), reader.buffer_position()))?;
            if bound(&ns) == Some(XSI) {
                match local.as_ref() {
                    "nil" => frame.nil = matches!(value.trim(), "true" | "1"),
                    "type" => frame.ty = xsd_type(&value),
                    _ => {}
                }
                continue;
            }
            frame.map.insert(
                format!("@{}", local.as_ref()),
                Value::String(value.into_owned()),
            );
        }
        Ok(frame)
    }

    fn finish(mut self, hints: &ArrayHints) -> (String, Option<usize>, Value, bool) {
        // Arrays the adapter expects here are arrays even when no element came.
        if let Some(node) = self.hint
            && !self.nil
        {
            for (name, child) in &hints.nodes[node].children {
                if hints.nodes[*child].array && !self.map.contains_key(name) {
                    self.map.insert(name.clone(), Value::Array(Vec::new()));
                }
            }
        }
        let value = if self.nil {
            Value::Null
        } else if self.map.is_empty() {
            match self
                .ty
                .and_then(|ty| coerce::from_text(&self.text, ty).ok())
            {
                Some(v) => v,
                None => Value::String(self.text),
            }
        } else {
            if !self.text.trim().is_empty() {
                self.map
                    .insert("#text".to_string(), Value::String(self.text));
            }
            Value::Object(self.map)
        };
        (self.name, self.hint, value, self.is_fault)
    }
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

fn insert(map: &mut Map<String, Value>, name: String, value: Value, always_array: bool) {
    // One lookup per element: the entry decides between first, second and later occurrences.
    match map.entry(name) {
        serde_json::map::Entry::Occupied(mut seen) => match seen.get_mut() {
            Value::Array(items) if always_array || !items.is_empty() => items.push(value),
            existing => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        },
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(if always_array {
                Value::Array(vec![value])
            } else {
                value
            });
        }
    }
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

fn read_body(
    reader: &mut NsReader<&[u8]>,
    hints: &ArrayHints,
    limits: Limits,
) -> Result<SoapReply, XmlError> {
    // Depth counts from the document root: Envelope (1) / Body (2) / content (3...).
    let mut stack: Vec<Frame> = Vec::new();
    let mut body = Map::new();
    let mut fault = false;
    loop {
        let offset = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| syntax(e, offset))?;
        let is_soap_ns = stack.is_empty() && matches!(bound(&ns), Some(SOAP11_ENV | SOAP12_ENV));
        let parent = stack
            .last()
            .map_or((Some(0), false), |f| (f.hint, f.keeps_all));
        match event {
            Event::Start(e) => {
                if stack.len() + 3 > limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let local = e.local_name();
                if !(is_soap_ns && local.as_ref() == "Fault")
                    && hints.skips(parent.0, parent.1, local.as_ref())
                {
                    skip(
                        reader,
                        limits.max_depth.saturating_sub(stack.len() + 2),
                        limits.max_depth,
                    )?;
                    continue;
                }
                stack.push(Frame::new(&e, is_soap_ns, parent, hints, reader)?);
            }
            Event::Empty(e) => {
                let local = e.local_name();
                if !(is_soap_ns && local.as_ref() == "Fault")
                    && hints.skips(parent.0, parent.1, local.as_ref())
                {
                    continue;
                }
                let frame = Frame::new(&e, is_soap_ns, parent, hints, reader)?;
                place(frame, &mut stack, &mut body, &mut fault, hints);
            }
            Event::End(_) => match stack.pop() {
                Some(frame) => place(frame, &mut stack, &mut body, &mut fault, hints),
                None => break,
            },
            Event::Text(t) => {
                // Indentation between child elements is never kept: do not collect it.
                if let Some(top) = stack.last_mut()
                    && (top.map.is_empty() || !t.trim_ascii().is_empty())
                {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                let c = resolve_entity(&r)?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::DocType(d) => return Err(doctype(&d)),
            Event::Eof => return Err(syntax_msg("unexpected end of document inside Body", offset)),
            _ => {}
        }
    }
    if fault {
        return Ok(SoapReply::Fault(parse_fault(
            body.get("Fault").unwrap_or(&Value::Null),
        )));
    }
    for (name, child) in &hints.nodes[0].children {
        if hints.nodes[*child].array && !body.contains_key(name) {
            body.insert(name.clone(), Value::Array(Vec::new()));
        }
    }
    Ok(SoapReply::Body(Value::Object(body)))
}

fn place(
    frame: Frame,
    stack: &mut [Frame],
    body: &mut Map<String, Value>,
    fault: &mut bool,
    hints: &ArrayHints,
) {
    let (name, hint, value, is_fault) = frame.finish(hints);
    match stack.last_mut() {
        Some(parent) => insert(&mut parent.map, name, value, hints.is_array(hint)),
        None => {
            *fault |= is_fault;
            insert(body, name, value, hints.is_array(hint));
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
