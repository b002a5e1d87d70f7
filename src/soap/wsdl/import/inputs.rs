//! The request side of an imported route: typed inputs from the input message's elements
//! (required from `minOccurs`, enums, patterns, lengths, ranges), the request tree that uses
//! them, and a sample value of each for the generated fixture.

use serde_json::{Map, Value, json};

use super::names::Names;
use super::sample;
use super::yaml::Y;
use crate::soap::wsdl::expand::{Field, Simple};
use crate::soap::wsdl::shape::ValueKind;

/// How deep request trees go; deeper content is left out (listed in a comment).
const REQUEST_DEPTH: usize = 4;

pub(crate) struct Inputs {
    /// `in:` of every input: `query` (GET) or `body`.
    pub location: &'static str,
    pub declared: Y,
    pub names: Names,
    /// Every input is a scalar that occurs once: the route may be a GET.
    pub all_scalar: bool,
    pub left_out: Vec<String>,
    /// Sample values of the required inputs (and of optional ones), for fixtures.
    pub samples: Map<String, Value>,
}

impl Inputs {
    pub(crate) fn new(location: &'static str) -> Inputs {
        Inputs {
            location,
            declared: Y::map(),
            names: Names::default(),
            all_scalar: true,
            left_out: Vec::new(),
            samples: Map::new(),
        }
    }

    /// The request tree for `field` (an element of the body), declaring its inputs.
    /// `element` is how the element is written (with a prefix when in another namespace).
    pub(crate) fn tree(
        &mut self,
        field: &Field,
        element: &str,
        required: bool,
        path: &str,
        depth: usize,
    ) -> Y {
        let required = required && field.required;
        if field.repeats {
            self.all_scalar = false;
        }
        if let Some(simple) = &field.simple
            && field.children.is_empty()
        {
            return Y::Flow(json!(format!(
                "${}",
                self.input(field, simple, required, path)
            )));
        }
        if field.children.is_empty() {
            if field.open {
                self.left_out.push(format!(
                    "{path}: open content (xs:any or a type not in the schema)"
                ));
                self.all_scalar = false;
            }
            return Y::Flow(Value::Null);
        }
        if depth >= REQUEST_DEPTH {
            self.left_out
                .push(format!("{path}: deeper than {REQUEST_DEPTH} levels"));
            self.all_scalar = false;
            return Y::Flow(Value::Null);
        }
        if depth > 0 {
            self.all_scalar = false;
        }
        let mut map = Y::map();
        for child in &field.children {
            let sub = self.tree(
                child,
                &child.name,
                required,
                &format!("{path}.{}", child.name),
                depth + 1,
            );
            let entry = map.put(&child.name, sub);
            if child.repeats {
                entry.note = Some("repeats in the schema; the adapter sends one".into());
            }
        }
        let _ = element;
        map
    }

    fn input(&mut self, field: &Field, simple: &Simple, required: bool, path: &str) -> String {
        let name = self.names.claim(&super::names::snake(&field.name));
        let mut decl = Map::new();
        decl.insert("in".into(), json!(self.location));
        decl.insert("type".into(), json!(simple.kind.type_word()));
        if !required {
            decl.insert("required".into(), json!(false));
        }
        let f = &simple.facets;
        if !f.enums.is_empty() {
            let values: Vec<Value> = f
                .enums
                .iter()
                .map(|e| sample::typed(e, simple.kind))
                .collect();
            decl.insert("enum".into(), Value::Array(values));
        }
        if let Some(p) = &f.pattern
            && simple.kind == ValueKind::String
        {
            decl.insert("pattern".into(), json!(p));
        }
        if matches!(simple.kind, ValueKind::Integer | ValueKind::Number) {
            if let Some(min) = f.min {
                decl.insert("min".into(), number(min));
            }
            if let Some(max) = f.max {
                decl.insert("max".into(), number(max));
            }
        }
        if let Some(max) = f.max_length
            && simple.kind == ValueKind::String
        {
            decl.insert("max_length".into(), json!(max));
        }
        let sample = sample::input(simple);
        if required || self.samples.len() < 8 {
            self.samples.insert(name.clone(), sample);
        }
        let entry = self.declared.put(&name, Y::Flow(Value::Object(decl)));
        entry.note = Some(format!("{path}: xs:{}", simple.builtin));
        name
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}
