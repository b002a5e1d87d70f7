//! A small owned XML tree for description files (WSDL, XSD): elements by namespace URI and local
//! name, attributes by their written name, the namespace declarations in scope at each element
//! (QName attribute values like `element="tns:X"` are resolved against them), and each element's
//! byte offset, so that diagnostics can point at `file:line:col`.

use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::diagnostic::Span;

/// An expanded name: namespace URI and local name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct QName {
    pub ns: String,
    pub local: String,
}

impl QName {
    pub(crate) fn new(ns: &str, local: &str) -> QName {
        QName {
            ns: ns.to_string(),
            local: local.to_string(),
        }
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.local)
    }
}

/// Prefix -> namespace URI; the empty prefix is the default namespace.
type Scope = Arc<HashMap<String, String>>;

#[derive(Debug)]
pub(crate) struct Node {
    pub ns: String,
    pub local: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Byte offset of the start tag in its file.
    pub offset: usize,
    scope: Scope,
}

impl Node {
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An attribute in a namespace (`wsdl:arrayType`), whatever prefix the file gives it.
    pub(crate) fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs.iter().find_map(|(k, v)| {
            let (prefix, name) = k.split_once(':')?;
            (name == local && self.scope.get(prefix).is_some_and(|u| u == ns)).then_some(v.as_str())
        })
    }

    /// The children in namespace `ns` named `local`.
    pub(crate) fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    pub(crate) fn child(&self, ns: &str, local: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// Resolves a QName value (`tns:Add`, or `Add` in the default namespace) against the
    /// declarations in scope here. `None` names an undeclared prefix.
    pub(crate) fn resolve(&self, value: &str) -> Option<QName> {
        let value = value.trim();
        match value.split_once(':') {
            Some((prefix, local)) => Some(QName::new(self.scope.get(prefix)?, local)),
            None => Some(QName::new(
                self.scope.get("").map(String::as_str).unwrap_or(""),
                value,
            )),
        }
    }
}

/// A parsed file: its root element and where its lines start.
#[derive(Debug)]
pub(crate) struct Document {
    pub root: Node,
    line_starts: Vec<usize>,
    text: Arc<str>,
}

impl Document {
    /// Line and column (1-based, columns in characters) of a byte offset.
    pub(crate) fn span(&self, offset: usize) -> Span {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0);
        Span::at(line as u32, col as u32 + 1)
    }

    /// The file's text, as read.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// Parses a description file. The error is a message and the offset it concerns.
pub(crate) fn parse(text: &str) -> Result<Document, (String, usize)> {
    let text: Arc<str> = Arc::from(text);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let base: Scope = Arc::new(HashMap::from([(
        "xml".to_string(),
        "http://www.w3.org/XML/1998/namespace".to_string(),
    )]));
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| (format!("not well-formed XML: {e}"), offset))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(("content after the root element".into(), offset));
            }
            Event::Start(e) => {
                let scope = stack
                    .last()
                    .map(|n| n.scope.clone())
                    .unwrap_or(base.clone());
                stack.push(element(&e, scope, offset)?);
            }
            Event::Empty(e) => {
                let scope = stack
                    .last()
                    .map(|n| n.scope.clone())
                    .unwrap_or(base.clone());
                let node = element(&e, scope, offset)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(("an end tag closes nothing".into(), offset));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::DocType(_) => {
                return Err((
                    "a DOCTYPE is not accepted in a service description".into(),
                    offset,
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(("the document ends inside an element".into(), text.len()));
    }
    let Some(root) = root else {
        return Err(("the file holds no XML element".into(), 0));
    };
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    Ok(Document {
        root,
        line_starts,
        text,
    })
}

fn element(e: &BytesStart, parent: Scope, offset: usize) -> Result<Node, (String, usize)> {
    let mut attrs = Vec::new();
    let mut declared: Vec<(String, String)> = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| (format!("bad attribute: {err}"), offset))?;
        let key = attr.key.as_ref().to_string();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| (format!("bad attribute value: {err}"), offset))?
            .into_owned();
        if key == "xmlns" {
            declared.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            declared.push((prefix.to_string(), value));
        } else {
            attrs.push((key, value));
        }
    }
    let scope = if declared.is_empty() {
        parent
    } else {
        let mut map = (*parent).clone();
        map.extend(declared);
        Arc::new(map)
    };
    let name = e.name().as_ref().to_string();
    let (prefix, local) = match name.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), name),
    };
    let ns = match scope.get(&prefix) {
        Some(ns) => ns.clone(),
        None if prefix.is_empty() => String::new(),
        None => return Err((format!("undeclared namespace prefix `{prefix}`"), offset)),
    };
    Ok(Node {
        ns,
        local,
        attrs,
        children: Vec::new(),
        offset,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qname_values_resolve_against_the_declarations_in_scope() {
        let doc = parse(
            "<a xmlns='urn:d' xmlns:t='urn:t'>\n  <b xmlns:t='urn:u' ref='t:X' plain='Y'/></a>",
        )
        .unwrap();
        let b = &doc.root.children[0];
        assert_eq!(b.ns, "urn:d");
        assert_eq!(
            b.resolve(b.attr("ref").unwrap()),
            Some(QName::new("urn:u", "X"))
        );
        assert_eq!(b.resolve("Y"), Some(QName::new("urn:d", "Y")));
        assert_eq!(b.resolve("nope:Y"), None);
        assert_eq!(doc.span(b.offset), Span::at(2, 3));
    }
}
