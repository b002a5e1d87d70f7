//! Reply XML -> an indexed document (`Doc`), streaming and namespace-aware. Generic: the SOAP
//! kind finds its Envelope and Body and reads the Body's content with `read_content`; the
//! XML-over-HTTP kind reads a whole document with `read_document`.
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

use super::doc::{Doc, Element};
pub use super::hints::ArrayHints;
use super::skip::Unskippable;

use crate::config::model::ValueType;

pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

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
    /// The reply is not valid text in the encoding it declares (or UTF-8 when it declares none);
    /// `encoding` is the WHATWG name of the encoding used, e.g. `windows-1252`.
    BadEncoding {
        encoding: String,
    },
    /// The reply declares a character encoding that is not known; the label is cut short.
    UnknownEncoding(String),
    Html,
    DocType,
    TooDeep(usize),
    UnknownEntity(String),
    Syntax {
        message: String,
        offset: u64,
    },
    /// The document is XML, but its root is not the one expected (`a SOAP envelope`).
    WrongRoot {
        expected: &'static str,
        root: String,
    },
    /// A part the document must have is not there (`the SOAP envelope has no Body`).
    Missing(&'static str),
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Empty => write!(f, "the reply body is empty"),
            XmlError::BadEncoding { encoding } => {
                write!(f, "the reply is not valid {encoding} text")
            }
            XmlError::UnknownEncoding(name) => write!(
                f,
                "the reply declares the unknown character encoding `{name}`"
            ),
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
            XmlError::WrongRoot { expected, root } => write!(
                f,
                "the reply is XML but not {expected} (root element `{}`)",
                bounded(root)
            ),
            XmlError::Missing(what) => f.write_str(what),
        }
    }
}

/// Backend text in a message is cut short: it is for a person, and a backend controls its length.
pub(crate) fn bounded(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An element that is kept whatever the hints say, when it appears directly in the content being
/// read (a SOAP Fault in the Body): its namespace and local name.
#[derive(Clone, Copy)]
pub struct Watched {
    pub namespaces: &'static [&'static str],
    pub local: &'static str,
}

/// Reads a whole document. Node 0 of the result stands for the document, so paths start with
/// the root element's name (`xmlcep.cep`).
pub fn read_document<'x>(
    text: &'x str,
    hints: &'x ArrayHints,
    limits: Limits,
) -> Result<Doc<'x>, XmlError> {
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = NsReader::from_str(text);
    let (doc, _) = read_content(text, &mut reader, hints, limits, Content::Document, None)?;
    Ok(doc)
}

/// What `read_content` reads: the rest of the element whose start tag was just read (at this
/// depth from the document root), or a whole document.
#[derive(Clone, Copy, PartialEq)]
pub enum Content {
    Element { depth: usize },
    Document,
}

pub fn start_reader(text: &str) -> NsReader<&[u8]> {
    NsReader::from_str(text)
}

/// Reads the next event with its element namespace; refuses a DOCTYPE.
pub fn next_resolved<'r, 'x>(
    reader: &'r mut NsReader<&'x [u8]>,
) -> Result<(Option<&'r str>, Event<'x>), XmlError> {
    let offset = reader.buffer_position();
    let (ns, event) = reader
        .read_resolved_event()
        .map_err(|e| syntax(e, offset))?;
    if let Event::DocType(d) = &event {
        return Err(doctype(d));
    }
    Ok((bound(&ns), event))
}

/// An error for text where no text may be, at the reader's position.
pub fn text_out_of_place(reader: &NsReader<&[u8]>, what: &str) -> XmlError {
    syntax_msg(what, reader.buffer_position())
}

fn bound<'a>(ns: &ResolveResult<'a>) -> Option<&'a str> {
    match ns {
        ResolveResult::Bound(n) => Some(n.0),
        _ => None,
    }
}

/// The parser's message quotes the document: a backend controls how much, so it is cut short.
fn syntax(e: quick_xml::Error, offset: u64) -> XmlError {
    let message = e.to_string();
    let message = match message.char_indices().nth(96) {
        Some((i, _)) => format!("{}…", &message[..i]),
        None => message,
    };
    XmlError::Syntax { message, offset }
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

/// The document's root is not `expected`; an HTML page says so.
pub fn wrong_root(root: &str, expected: &'static str) -> XmlError {
    if root.eq_ignore_ascii_case("html") {
        XmlError::Html
    } else {
        XmlError::WrongRoot {
            expected,
            root: root.to_string(),
        }
    }
}

/// Skips the element whose start tag was just read (a SOAP Header, or content the mapping does
/// not read), still refusing what is refused anywhere: DOCTYPEs, nesting deeper than `room`.
pub fn skip(reader: &mut NsReader<&[u8]>, room: usize, limit: usize) -> Result<(), XmlError> {
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

/// Skips the element whose start tag was just read, like `skip`, without tokenising its content
/// (`super::skip`): the end tag that closes it is found by scanning the bytes, the reader is moved
/// there and reads that end tag itself (so its name is checked and its namespace scope closed).
/// Positions in errors after this come from `position`, not from the reader's own count.
fn skip_unread(
    input: &str,
    reader: &mut NsReader<&[u8]>,
    room: usize,
    limit: usize,
) -> Result<(), XmlError> {
    let rest: &[u8] = reader.get_ref();
    let base = position(input, reader);
    let end = super::skip::end_of_element(rest, room).map_err(|stop| match stop {
        Unskippable::Eof(at) => syntax_msg("unexpected end of document", base + at as u64),
        Unskippable::TooDeep => XmlError::TooDeep(limit),
        Unskippable::Mismatch(at) => syntax_msg("an end tag that does not match", base + at as u64),
        Unskippable::Declaration { at, end } => {
            let text = String::from_utf8_lossy(&rest[at + 2..end.saturating_sub(1).max(at + 2)]);
            match text.get(..7) {
                Some(word) if word.eq_ignore_ascii_case("DOCTYPE") => doctype(&text[7..]),
                _ => syntax_msg("a `<!` declaration inside an element", base + at as u64),
            }
        }
    })?;
    *reader.get_mut() = &rest[end..];
    let offset = position(input, reader);
    match reader.read_event().map_err(|e| syntax(e, offset))? {
        Event::End(_) => Ok(()),
        _ => Err(syntax_msg("expected an end tag", offset)),
    }
}

/// The reader's offset in `input`, the text it was made from (its own count leaves out what
/// `skip_unread` stepped over).
fn position(input: &str, reader: &NsReader<&[u8]>) -> u64 {
    input.len().saturating_sub(reader.get_ref().len()) as u64
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
/// names it. A watched element (a SOAP `Fault` in the Body) is never skipped.
fn open<'x>(
    doc: &mut Doc<'x>,
    input: &'x str,
    e: &BytesStart,
    parent: &Open,
    watched: bool,
    reader: &NsReader<&[u8]>,
) -> Result<Option<Open>, XmlError> {
    let qname = e.name();
    let local = local_part(qname.as_ref());
    let is_fault = watched;
    let parent_hint = doc.elements[parent.id as usize].hint;
    let hint = parent_hint.and_then(|h| doc.hints.child(h, local));
    if hint.is_none() && !is_fault && doc.hints.skips(parent_hint, parent.keeps_all) {
        return Ok(None);
    }
    let name = anchor(input, local).unwrap_or("");
    let attrs_start = doc.attrs.len() as u32;
    let mut element = Element::new(name, attrs_start, hint);
    for attr in e.attributes() {
        let attr = attr.map_err(|err| syntax_msg(&err.to_string(), position(input, reader)))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, attr_local) = reader.resolver().resolve_attribute(key);
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| syntax_msg(&err.to_string(), position(input, reader)))?;
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
    let keeps_all = parent.keeps_all || is_fault || hint.is_some_and(|h| doc.hints.is_whole(h));
    let id = doc.push_child(parent.id, element);
    Ok(Some(Open {
        id,
        keeps_all,
        is_fault,
    }))
}

/// The local part of a qualified name (`m:Item` -> `Item`). quick-xml's `local_name` looks for the
/// colon with `str::find`, whose set-up costs more than the search itself for names this short;
/// it ran for every element of a reply (about a tenth of the reply's reading, callgrind).
fn local_part(qname: &str) -> &str {
    match qname.bytes().position(|b| b == b':') {
        Some(colon) => &qname[colon + 1..],
        None => qname,
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

/// Reads `content` into a document whose node 0 stands for the enclosing element (or the
/// document). Returns the id of the first `watched` element found directly in it.
pub fn read_content<'x>(
    input: &'x str,
    reader: &mut NsReader<&'x [u8]>,
    hints: &'x ArrayHints,
    limits: Limits,
    content: Content,
    watched: Option<Watched>,
) -> Result<(Doc<'x>, Option<u32>), XmlError> {
    let mut doc = Doc {
        // About one element per 40 bytes of a typical indented reply, but no more up front
        // than a few hundred KiB: a pruned large reply may keep only a handful.
        elements: Vec::with_capacity((input.len() / 40).min(4096) + 4),
        attrs: Vec::new(),
        hints,
    };
    doc.elements.push(Element::new("", 0, Some(0)));
    // Depth counts from the document root: in a SOAP Body, Envelope (1) / Body (2) / content (3...).
    let base = match content {
        Content::Element { depth } => depth,
        Content::Document => 0,
    };
    let mut stack: Vec<Open> = vec![Open {
        id: 0,
        keeps_all: false,
        is_fault: false,
    }];
    let mut found = None;
    // Root elements seen, kept or not (a document has exactly one).
    let mut roots = 0u32;
    loop {
        let offset = position(input, reader);
        // Element namespaces matter only for a watched element at the top: below it they are
        // not resolved at all (the reader still tracks declarations, for `xsi:` attributes).
        let event = reader.read_event().map_err(|e| syntax(e, offset))?;
        let Some(&parent) = stack.last() else { break };
        let at_top = stack.len() == 1;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) if at_top && content == Content::Document => {
                roots += 1;
                if roots > 1 {
                    return Err(syntax_msg("a second root element", offset));
                }
                if !doc.hints.reads_root(e.local_name().as_ref()) {
                    return Err(wrong_root(
                        bounded(e.local_name().as_ref()),
                        "the document the mapping reads",
                    ));
                }
                match event {
                    Event::Start(e) => {
                        let opened = open(&mut doc, input, &e, &parent, false, reader)?;
                        match opened {
                            Some(opened) => stack.push(opened),
                            None => skip_unread(input, reader, limits.max_depth, limits.max_depth)?,
                        }
                    }
                    Event::Empty(e) => {
                        open(&mut doc, input, &e, &parent, false, reader)?;
                    }
                    _ => {}
                }
            }
            Event::Start(e) => {
                if stack.len() + base > limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let watch = at_top && is_watched(reader, &e, watched);
                match open(&mut doc, input, &e, &parent, watch, reader)? {
                    Some(opened) => {
                        if opened.is_fault {
                            found = found.or(Some(opened.id));
                        }
                        stack.push(opened);
                    }
                    None => skip_unread(
                        input,
                        reader,
                        limits.max_depth.saturating_sub(stack.len() + base - 1),
                        limits.max_depth,
                    )?,
                }
            }
            Event::Empty(e) => {
                let watch = at_top && is_watched(reader, &e, watched);
                if let Some(opened) = open(&mut doc, input, &e, &parent, watch, reader)?
                    && opened.is_fault
                {
                    found = found.or(Some(opened.id));
                }
            }
            Event::End(_) => {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
            }
            Event::Text(t) => {
                // Text directly in the enclosing element is never kept, nor indentation between
                // children.
                let element = &mut doc.elements[parent.id as usize];
                if !at_top
                    && ((element.first_child == 0 && !element.has_attrs())
                        || !t.trim_ascii().is_empty())
                {
                    append(&mut element.text, input, &t.xml10_content());
                } else if at_top && content == Content::Document && !t.trim_ascii().is_empty() {
                    return Err(syntax_msg("text outside the root element", offset));
                }
            }
            Event::CData(c) if !at_top => {
                let element = &mut doc.elements[parent.id as usize];
                append(&mut element.text, input, &c);
            }
            Event::GeneralRef(r) => {
                let c = resolve_entity(&r)?;
                if !at_top {
                    doc.elements[parent.id as usize].text.to_mut().push(c);
                }
            }
            Event::DocType(d) => return Err(doctype(&d)),
            Event::Eof if content == Content::Document && stack.len() == 1 && roots > 0 => break,
            Event::Eof if content == Content::Document && stack.len() == 1 => {
                return Err(syntax_msg("no root element", offset));
            }
            Event::Eof => return Err(syntax_msg("unexpected end of document", offset)),
            _ => {}
        }
    }
    Ok((doc, found))
}

fn is_watched(reader: &NsReader<&[u8]>, e: &BytesStart, watched: Option<Watched>) -> bool {
    let Some(w) = watched else { return false };
    if local_part(e.name().as_ref()) != w.local {
        return false;
    }
    bound(&reader.resolver().resolve_element(e.name()).0)
        .is_some_and(|ns| w.namespaces.contains(&ns))
}
