//! SOAP 1.1 encoding's references (section 5.4.1), as Axis 1 and other rpc/encoded stacks send
//! them: an accessor `<return href="#id0"/>` whose value is a `<multiRef id="id0">` element
//! beside the response element in the Body. Before the reply is read, every reference is
//! replaced by the referenced element's content (and its attributes: `xsi:type`, namespace
//! declarations), and the referenced elements leave the Body, so mapping paths see one tree.
//!
//! Only for `use: encoded`: in a literal reply an `href` attribute is data that the schema
//! defines, and is mapped as `@href`.
//!
//! Bounded: a reference back into an element being expanded (a cycle) stays an unresolved
//! `@href`; expansion deeper than the reader's depth limit, or larger than a multiple of the
//! reply, is refused; a reference to no element is refused with its id.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// At most this many references expanded one inside another.
const MAX_NESTING: usize = 64;

#[derive(Debug, PartialEq)]
pub(crate) enum RefError {
    /// `href="#id"` names no element of the Body.
    Dangling(String),
    TooDeep,
    TooLarge,
    Syntax(String),
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefError::Dangling(id) => write!(
                f,
                "the reply refers to `#{}` (a SOAP-encoded multiRef) but holds no element with that id",
                crate::xml::reader::bounded(id)
            ),
            RefError::TooDeep => write!(
                f,
                "the reply's SOAP-encoded references nest deeper than {MAX_NESTING} levels"
            ),
            RefError::TooLarge => {
                write!(
                    f,
                    "the reply's SOAP-encoded references expand beyond the size limit"
                )
            }
            RefError::Syntax(m) => write!(f, "the reply is not well-formed XML ({m})"),
        }
    }
}

/// Attributes as raw (escaped) key and value text.
type Attrs<'x> = Vec<(&'x str, &'x str)>;

/// A referenced element: its attributes (raw text, still escaped) and where its content is.
struct Target<'x> {
    attrs: Vec<(&'x str, &'x str)>,
    content: Range<usize>,
}

struct Expander<'x> {
    text: &'x str,
    targets: HashMap<&'x str, Target<'x>>,
    referenced: HashSet<&'x str>,
    limit: usize,
}

/// The reply with every reference resolved, or `None` when it has none (read it as it is).
pub(crate) fn resolve(text: &str) -> Result<Option<String>, RefError> {
    // Most encoded replies have no references at all: no second pass for them.
    if !text.contains("href") {
        return Ok(None);
    }
    let mut expander = Expander {
        text,
        targets: HashMap::new(),
        referenced: HashSet::new(),
        limit: text.len().saturating_mul(16).max(1 << 20),
    };
    expander.collect()?;
    if expander.referenced.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() * 2);
    expander.write(0..text.len(), true, &mut out, &mut Vec::new())?;
    Ok(Some(out))
}

fn syntax(e: impl fmt::Display) -> RefError {
    RefError::Syntax(crate::xml::reader::bounded(&e.to_string()).to_string())
}

/// The attributes of a start tag as raw (escaped) text, namespace declarations included.
fn raw_attrs<'x>(text: &'x str, e: &BytesStart) -> Result<Vec<(&'x str, &'x str)>, RefError> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(syntax)?;
        let key: &str = attr.key.as_ref();
        let value: &str = &attr.value;
        // Both are slices of the reply: keep them borrowed from it.
        out.push((anchor(text, key), anchor(text, value)));
    }
    Ok(out)
}

/// `piece` (a slice of `text`) as a slice with `text`'s lifetime.
fn anchor<'x>(text: &'x str, piece: &str) -> &'x str {
    let start = (piece.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    text.get(start..start + piece.len())
        .filter(|s| s.as_ptr() == piece.as_ptr())
        .unwrap_or("")
}

fn local(key: &str) -> &str {
    key.rsplit(':').next().unwrap_or(key)
}

/// The id an `href="#id"` attribute refers to.
fn reference<'a>(attrs: &[(&'a str, &'a str)]) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| *k == "href")
        .and_then(|(_, v)| v.strip_prefix('#'))
}

impl<'x> Expander<'x> {
    /// Finds the Body's children that carry an `id`, and every id referred to.
    fn collect(&mut self) -> Result<(), RefError> {
        let text = self.text;
        let mut reader = Reader::from_str(text);
        let mut depth = 0usize;
        let mut in_body = false;
        // The Body child with an id being read: its id, attributes and content start.
        let mut open: Option<(&'x str, Attrs<'x>, usize)> = None;
        loop {
            let before = reader.buffer_position() as usize;
            match reader.read_event().map_err(syntax)? {
                Event::Start(e) => {
                    depth += 1;
                    let attrs = raw_attrs(text, &e)?;
                    self.note_reference(&attrs);
                    if depth == 2 && e.local_name().as_ref() == "Body" {
                        in_body = true;
                    } else if in_body && depth == 3 {
                        let after = reader.buffer_position() as usize;
                        open = id_of(&attrs).map(|id| (id, attrs, after));
                    }
                }
                Event::Empty(e) => {
                    let attrs = raw_attrs(text, &e)?;
                    self.note_reference(&attrs);
                    if in_body
                        && depth == 2
                        && let Some(id) = id_of(&attrs)
                    {
                        let end = reader.buffer_position() as usize;
                        self.targets.insert(
                            id,
                            Target {
                                attrs,
                                content: end..end,
                            },
                        );
                    }
                }
                Event::End(_) => {
                    if in_body
                        && depth == 3
                        && let Some((id, attrs, start)) = open.take()
                    {
                        self.targets.insert(
                            id,
                            Target {
                                attrs,
                                content: start..before,
                            },
                        );
                    }
                    if depth == 2 {
                        in_body = false;
                    }
                    depth = depth.saturating_sub(1);
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    fn note_reference(&mut self, attrs: &[(&'x str, &'x str)]) {
        if let Some(id) = reference(attrs) {
            self.referenced.insert(id);
        }
    }

    /// Copies `range` of the reply to `out`, expanding references. `top`: the whole document,
    /// whose referenced Body children are left out (their content went where they are used).
    fn write(
        &self,
        range: Range<usize>,
        top: bool,
        out: &mut String,
        expanding: &mut Vec<&'x str>,
    ) -> Result<(), RefError> {
        let slice = &self.text[range];
        let mut reader = Reader::from_str(slice);
        let mut depth = 0usize;
        let mut in_body = false;
        loop {
            let before = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(syntax)?;
            let raw = &slice[before..reader.buffer_position() as usize];
            let (e, is_start) = match event {
                Event::Start(e) => (e, true),
                Event::Empty(e) => (e, false),
                Event::End(_) => {
                    if depth == 2 {
                        in_body = false;
                    }
                    depth = depth.saturating_sub(1);
                    out.push_str(raw);
                    continue;
                }
                Event::Eof => return Ok(()),
                _ => {
                    out.push_str(raw);
                    continue;
                }
            };
            let attrs = raw_attrs(self.text, &e)?;
            let body_child = top && in_body && depth == 2;
            if body_child && id_of(&attrs).is_some_and(|id| self.referenced.contains(id)) {
                if is_start {
                    reader.read_to_end(e.name()).map_err(syntax)?;
                }
                continue;
            }
            let expanded = self.element(&e, &attrs, raw, is_start, &mut reader, out, expanding)?;
            if is_start && !expanded {
                depth += 1;
                in_body |= top && depth == 2 && e.local_name().as_ref() == "Body";
            }
            if out.len() > self.limit {
                return Err(RefError::TooLarge);
            }
        }
    }

    /// An element's start tag (`raw`): copied (false), or, when it refers to a target not being
    /// expanded, replaced by the target's attributes and content, the whole element written
    /// (true). A referring element's own content (there should be none) is skipped.
    #[allow(clippy::too_many_arguments)]
    fn element(
        &self,
        e: &BytesStart,
        attrs: &[(&'x str, &'x str)],
        raw: &str,
        is_start: bool,
        reader: &mut Reader<&[u8]>,
        out: &mut String,
        expanding: &mut Vec<&'x str>,
    ) -> Result<bool, RefError> {
        let Some(id) = reference(attrs).filter(|id| !expanding.contains(id)) else {
            out.push_str(raw);
            return Ok(false);
        };
        let Some(target) = self.targets.get(id) else {
            return Err(RefError::Dangling(id.to_string()));
        };
        if expanding.len() >= MAX_NESTING {
            return Err(RefError::TooDeep);
        }
        if is_start {
            reader.read_to_end(e.name()).map_err(syntax)?;
        }
        let name = e.name().as_ref().to_string();
        out.push('<');
        out.push_str(&name);
        // The target's attributes win over the accessor's of the same name.
        let own = attrs
            .iter()
            .filter(|(k, _)| *k != "href" && !target.attrs.iter().any(|(t, _)| t == k));
        // The encoding's bookkeeping (`id`, `soapenc:root`, `soapenv:encodingStyle`) is not
        // the value's: it would turn a scalar into an object with attributes.
        let theirs = target
            .attrs
            .iter()
            .filter(|(k, _)| !matches!(local(k), "id" | "root" | "encodingStyle"));
        for (key, value) in own.chain(theirs) {
            let quote = if value.contains('"') { '\'' } else { '"' };
            out.push(' ');
            out.push_str(key);
            out.push('=');
            out.push(quote);
            out.push_str(value);
            out.push(quote);
        }
        out.push('>');
        expanding.push(id);
        self.write(target.content.clone(), false, out, expanding)?;
        expanding.pop();
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
        Ok(true)
    }
}

fn id_of<'a>(attrs: &[(&'a str, &'a str)]) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| *k == "id").map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(body: &str) -> String {
        format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
        )
    }

    #[test]
    fn references_are_replaced_by_the_referenced_content() {
        let text = env(
            r##"<r><a href="#id0"/><b href="#id1"/></r><multiRef id="id0" xsi:type="t:P" xmlns:t="urn:t"><n>x</n><c href="#id1"/></multiRef><multiRef id="id1">5</multiRef>"##,
        );
        let out = resolve(&text).unwrap().unwrap();
        assert_eq!(
            out,
            env(r#"<r><a xsi:type="t:P" xmlns:t="urn:t"><n>x</n><c>5</c></a><b>5</b></r>"#)
        );
    }

    #[test]
    fn a_cycle_stays_a_reference_and_a_dangling_one_is_an_error() {
        let text =
            env(r##"<r><a href="#id0"/></r><multiRef id="id0"><self href="#id0"/></multiRef>"##);
        assert_eq!(
            resolve(&text).unwrap().unwrap(),
            env(r##"<r><a><self href="#id0"/></a></r>"##)
        );
        let text = env(r##"<r><a href="#nope"/></r>"##);
        assert_eq!(resolve(&text), Err(RefError::Dangling("nope".into())));
    }

    #[test]
    fn exponential_sharing_is_refused_by_size() {
        // Each level refers to the next twice: 2^40 copies unless bounded.
        let mut body = String::from(r##"<r><a href="#l0"/></r>"##);
        for i in 0..40 {
            body.push_str(&format!(
                r##"<multiRef id="l{i}"><x href="#l{0}"/><y href="#l{0}"/></multiRef>"##,
                i + 1
            ));
        }
        body.push_str(r#"<multiRef id="l40">leaf</multiRef>"#);
        assert_eq!(resolve(&env(&body)), Err(RefError::TooLarge));
    }

    #[test]
    fn a_reply_without_references_is_read_as_it_is() {
        assert_eq!(resolve(&env("<r><a>1</a></r>")), Ok(None));
        assert_eq!(
            resolve(&env(r#"<r><a href="http://x">1</a></r>"#)),
            Ok(None)
        );
    }
}
