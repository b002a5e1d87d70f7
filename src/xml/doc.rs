//! A SOAP Body read into a flat index over the reply's bytes.
//!
//! Every kept element is one entry of a `Vec`: its name and (usually) its text are slices of the
//! reply itself, children are linked by index. Nothing is hashed and almost nothing allocated.
//! Mappings read it through `Node` as the JSON that DESIGN.md's conventions describe (repeated or
//! array-hinted elements as lists, `@attr`, `#text`, `xsi:nil`, `xsi:type`); only a mapping that
//! needs a real JSON value (a JMESPath expression, a whole subtree, a fault) gets one built.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::hints::ArrayHints;
use crate::config::model::ValueType;
use crate::mapping::coerce;
use crate::mapping::node::{self, Node};
use crate::mapping::path::Step;

/// No element: the end of a sibling or child chain (the Body, index 0, is nobody's child).
const NONE: u32 = 0;

pub struct Doc<'x> {
    pub(super) elements: Vec<Element<'x>>,
    pub(super) attrs: Vec<(&'x str, Cow<'x, str>)>,
    pub(super) hints: &'x ArrayHints,
}

pub(super) struct Element<'x> {
    pub name: &'x str,
    pub text: Cow<'x, str>,
    pub first_child: u32,
    pub last_child: u32,
    pub next_sibling: u32,
    pub attrs_start: u32,
    pub attrs_end: u32,
    /// The element's node in the array hints, when a mapping path names it.
    pub hint: Option<usize>,
    pub nil: bool,
    pub ty: Option<ValueType>,
}

impl<'x> Element<'x> {
    pub fn new(name: &'x str, attrs_start: u32, hint: Option<usize>) -> Element<'x> {
        Element {
            name,
            text: Cow::Borrowed(""),
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            attrs_start,
            attrs_end: attrs_start,
            hint,
            nil: false,
            ty: None,
        }
    }

    pub fn has_attrs(&self) -> bool {
        self.attrs_end > self.attrs_start
    }
}

impl<'x> Doc<'x> {
    /// The Body: always an object, holding the reply's content.
    pub fn body(&self) -> DocNode<'_, 'x> {
        DocNode {
            doc: self,
            at: At::Element(0),
        }
    }

    /// Appends `child` under `parent`, keeping document order.
    pub(super) fn push_child(&mut self, parent: u32, child: Element<'x>) -> u32 {
        let id = self.elements.len() as u32;
        self.elements.push(child);
        let p = &mut self.elements[parent as usize];
        let last = p.last_child;
        p.last_child = id;
        if last == NONE {
            p.first_child = id;
        } else {
            self.elements[last as usize].next_sibling = id;
        }
        id
    }

    fn element(&self, id: u32) -> &Element<'x> {
        &self.elements[id as usize]
    }

    fn children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.element(id).first_child;
        std::iter::successors((first != NONE).then_some(first), move |&c| {
            let next = self.element(c).next_sibling;
            (next != NONE).then_some(next)
        })
    }

    /// Whether the hints make `name` under element `id` a list even when it occurs once or never.
    fn hinted_array(&self, id: u32, name: &str) -> bool {
        self.element(id)
            .hint
            .and_then(|h| self.hints.child(h, name))
            .is_some_and(|c| self.hints.is_array(Some(c)))
    }

    /// The hinted list names that no child of `id` carries: empty lists in the JSON view.
    fn missing_arrays(&self, id: u32) -> impl Iterator<Item = &str> + '_ {
        let hint = self.element(id).hint;
        hint.into_iter()
            .flat_map(move |h| self.hints.array_children(h))
            .filter(move |name| !self.children(id).any(|c| self.element(c).name == *name))
    }

    /// Whether the element is a JSON object (rather than null or a scalar).
    fn is_object(&self, id: u32) -> bool {
        let e = self.element(id);
        !e.nil
            && (id == 0
                || e.has_attrs()
                || e.first_child != NONE
                || e.hint.is_some_and(|h| self.hints.has_array_child(h)))
    }

    /// The non-blank text beside children or attributes, the `#text` of the JSON view.
    fn mixed_text(&self, id: u32) -> Option<&str> {
        let text: &str = &self.element(id).text;
        (id != 0 && !text.trim().is_empty()).then_some(text)
    }

    /// A scalar element's value when `xsi:type` makes it a number or boolean.
    fn typed(&self, id: u32) -> Option<Value> {
        let e = self.element(id);
        e.ty.and_then(|ty| coerce::from_text(&e.text, ty).ok())
    }

    fn get(&self, id: u32, step: &Step) -> Option<At<'_>> {
        let name = match step {
            Step::Field(name) if self.is_object(id) => name.as_str(),
            Step::Index(0) if !self.element(id).nil => return Some(At::Element(id)),
            _ => return None,
        };
        if let Some(attr) = name.strip_prefix('@') {
            let e = self.element(id);
            // The last of two attributes with one local name wins, as in a JSON object.
            return self.attrs[e.attrs_start as usize..e.attrs_end as usize]
                .iter()
                .rev()
                .find(|(local, _)| *local == attr)
                .map(|(_, value)| At::Text(value));
        }
        if name == "#text" {
            return self.mixed_text(id).map(At::Text);
        }
        let mut matching = self.children(id).filter(|&c| self.element(c).name == name);
        let Some(first) = matching.next() else {
            return self.hinted_array(id, name).then_some(At::EmptyList);
        };
        // A child carries its own hint: no second lookup by name.
        if self.hints.is_array(self.element(first).hint) || matching.next().is_some() {
            Some(At::List { first })
        } else {
            Some(At::Element(first))
        }
    }

    /// The elements of a list: `first` and its later siblings of the same name.
    fn list(&self, first: u32) -> impl Iterator<Item = u32> + '_ {
        let name = self.element(first).name;
        std::iter::successors(Some(first), move |&c| {
            let mut next = self.element(c).next_sibling;
            while next != NONE && self.element(next).name != name {
                next = self.element(next).next_sibling;
            }
            (next != NONE).then_some(next)
        })
    }

    /// An element as a JSON value (a fault, a whole subtree, a JMESPath document).
    pub(crate) fn value(&self, id: u32) -> Value {
        let e = self.element(id);
        if e.nil {
            return Value::Null;
        }
        if !self.is_object(id) {
            return self
                .typed(id)
                .unwrap_or_else(|| Value::String(e.text.to_string()));
        }
        let mut map = Map::new();
        for (local, value) in &self.attrs[e.attrs_start as usize..e.attrs_end as usize] {
            map.insert(format!("@{local}"), Value::String(value.to_string()));
        }
        // Children grouped by name in one pass, in order of first appearance.
        let mut groups: Vec<(&str, Vec<u32>)> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for child in self.children(id) {
            let name = self.element(child).name;
            match index.get(name) {
                Some(&i) => groups[i].1.push(child),
                None => {
                    index.insert(name, groups.len());
                    groups.push((name, vec![child]));
                }
            }
        }
        for (name, members) in groups {
            let array = members.len() > 1 || self.hints.is_array(self.element(members[0]).hint);
            let value = if array {
                Value::Array(members.iter().map(|&c| self.value(c)).collect())
            } else {
                self.value(members[0])
            };
            map.insert(name.to_string(), value);
        }
        for name in self.missing_arrays(id) {
            map.insert(name.to_string(), Value::Array(Vec::new()));
        }
        if let Some(text) = self.mixed_text(id) {
            map.insert("#text".to_string(), Value::String(text.to_string()));
        }
        Value::Object(map)
    }
}

/// Where a `DocNode` points: an element, a list of same-named siblings, or a piece of text.
#[derive(Clone, Copy)]
enum At<'d> {
    Element(u32),
    List { first: u32 },
    EmptyList,
    Text(&'d str),
}

#[derive(Clone, Copy)]
pub struct DocNode<'d, 'x> {
    doc: &'d Doc<'x>,
    at: At<'d>,
}

impl<'d, 'x: 'd> Node<'d> for DocNode<'d, 'x> {
    fn get(self, step: &Step) -> Option<Self> {
        let at = match (self.at, step) {
            (At::Element(id), step) => self.doc.get(id, step)?,
            (At::List { first }, Step::Index(i)) => At::Element(self.doc.list(first).nth(*i)?),
            (At::Text(t), Step::Index(0)) => At::Text(t),
            _ => return None,
        };
        Some(DocNode { at, ..self })
    }

    fn for_each_item(self, f: &mut dyn FnMut(Self)) {
        match self.at {
            At::List { first } => {
                for id in self.doc.list(first) {
                    f(DocNode {
                        at: At::Element(id),
                        ..self
                    })
                }
            }
            At::EmptyList => {}
            At::Element(id) if self.doc.element(id).nil => {}
            _ => f(self),
        }
    }

    fn as_str(self) -> Option<&'d str> {
        match self.at {
            At::Text(t) => Some(t),
            At::Element(id) if !self.doc.is_object(id) && self.doc.typed(id).is_none() => {
                let e = self.doc.element(id);
                (!e.nil).then_some(&*e.text)
            }
            _ => None,
        }
    }

    fn is_null(self) -> bool {
        matches!(self.at, At::Element(id) if self.doc.element(id).nil)
    }

    fn is_blank(self) -> bool {
        match self.at {
            At::Text(t) => t.trim().is_empty(),
            At::EmptyList => true,
            At::List { .. } => false,
            At::Element(id) => {
                let doc = self.doc;
                let e = doc.element(id);
                if e.nil {
                    true
                } else if doc.is_object(id) {
                    // An object is empty only when it has no key at all.
                    !e.has_attrs()
                        && e.first_child == NONE
                        && doc.missing_arrays(id).next().is_none()
                        && doc.mixed_text(id).is_none()
                } else {
                    doc.typed(id).is_none() && e.text.trim().is_empty()
                }
            }
        }
    }

    fn write_json(self, out: &mut Vec<u8>) {
        match self.as_str() {
            Some(text) => node::write_str(text, out),
            None => node::write_value(&Node::to_value(self), out),
        }
    }

    fn to_value(self) -> Value {
        match self.at {
            At::Element(id) => self.doc.value(id),
            At::List { first } => {
                Value::Array(self.doc.list(first).map(|c| self.doc.value(c)).collect())
            }
            At::EmptyList => Value::Array(Vec::new()),
            At::Text(t) => Value::String(t.to_string()),
        }
    }
}
