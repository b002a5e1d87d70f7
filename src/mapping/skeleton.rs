//! A JSON value with holes for inputs, compiled once from a tree of the adapter: GraphQL
//! variables, and what a SOAP body or an HTTP query carries (for recorded fixtures, without
//! parsing back what ponte sent).

use serde_json::{Map, Value};

use crate::config::{Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Span, did_you_mean};
use crate::xml::template::InputRef;

#[derive(Debug, Clone)]
pub enum Skeleton {
    Input(usize),
    Literal(Value),
    Object(Vec<(String, Skeleton)>),
    Array(Vec<Skeleton>),
}

/// How keys and literals of the tree become JSON.
#[derive(Clone, Copy, PartialEq)]
pub enum Flavour {
    /// Keys and values as written (GraphQL variables).
    Json,
    /// XML element trees: `prefix:Name` keys by local name, literals and empty elements as text.
    Xml,
}

/// What a compile found besides the skeleton.
#[derive(Default)]
pub struct Compiled {
    pub used: Vec<bool>,
    /// `$name` leaves that name no input, with where they are.
    pub unknown: Vec<(String, Span)>,
}

impl Skeleton {
    pub fn compile(tree: &Tree, inputs: &[InputRef], flavour: Flavour) -> (Skeleton, Compiled) {
        let mut found = Compiled {
            used: vec![false; inputs.len()],
            unknown: Vec::new(),
        };
        let skeleton = compile(tree, inputs, flavour, &mut found);
        (skeleton, found)
    }

    /// Compiles a tree where inputs are used, marking them in `used` and reporting references to
    /// inputs that are not declared.
    pub fn compile_checked(
        tree: &Tree,
        inputs: &[InputRef],
        flavour: Flavour,
        used: &mut [bool],
        errors: &mut Diagnostics,
    ) -> Skeleton {
        let (skeleton, found) = Skeleton::compile(tree, inputs, flavour);
        for (u, f) in used.iter_mut().zip(&found.used) {
            *u |= *f;
        }
        for (name, span) in found.unknown {
            let help = match did_you_mean(&name, inputs.iter().map(|i| i.name)) {
                Some(x) => format!("did you mean `${x}`?"),
                None => "declare it under `input:`, or write `$$` for a literal `$`".to_string(),
            };
            errors.push(
                Diagnostic::error(span, format!("input `{name}` is not declared")).with_help(help),
            );
        }
        skeleton
    }

    /// `None` for an absent optional input: its key is left out.
    pub fn render(&self, values: &[Option<Value>]) -> Option<Value> {
        match self {
            Skeleton::Input(i) => values.get(*i).cloned().flatten(),
            Skeleton::Literal(v) => Some(v.clone()),
            Skeleton::Object(fields) => Some(Value::Object(
                fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.render(values)?)))
                    .collect::<Map<String, Value>>(),
            )),
            Skeleton::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|i| i.render(values).unwrap_or(Value::Null))
                    .collect(),
            )),
        }
    }
}

fn compile(tree: &Tree, inputs: &[InputRef], flavour: Flavour, found: &mut Compiled) -> Skeleton {
    match &tree.kind {
        TreeKind::Map(entries) => Skeleton::Object(
            entries
                .iter()
                .filter(|(k, _)| flavour == Flavour::Json || !is_declaration(&k.value))
                .map(|(k, v)| {
                    let key = match flavour {
                        Flavour::Xml => local_key(&k.value),
                        Flavour::Json => k.value.clone(),
                    };
                    (key, compile(v, inputs, flavour, found))
                })
                .collect(),
        ),
        TreeKind::Seq(items) => Skeleton::Array(
            items
                .iter()
                .map(|i| compile(i, inputs, flavour, found))
                .collect(),
        ),
        TreeKind::Str(s) if s.starts_with('$') && !s.starts_with("$$") => {
            let name = &s[1..];
            match inputs.iter().position(|i| i.name == name) {
                Some(i) => {
                    found.used[i] = true;
                    Skeleton::Input(i)
                }
                None => {
                    found.unknown.push((name.to_string(), tree.span));
                    Skeleton::Literal(Value::Null)
                }
            }
        }
        TreeKind::Str(s) => {
            Skeleton::Literal(Value::String(s.strip_prefix('$').unwrap_or(s).to_string()))
        }
        TreeKind::Null if flavour == Flavour::Xml => {
            Skeleton::Literal(Value::String(String::new()))
        }
        _ if flavour == Flavour::Xml => Skeleton::Literal(Value::String(
            crate::mapping::coerce::to_text(&tree.to_json()).into_owned(),
        )),
        _ => Skeleton::Literal(tree.to_json()),
    }
}

/// Namespace declarations and `xsi:` attributes are not part of an element's JSON view.
fn is_declaration(key: &str) -> bool {
    key == "@xmlns" || key.starts_with("@xmlns:") || key.starts_with("@xsi:")
}

/// `tns:Add` -> `Add`; `@xsi:type` -> `@type`; `#text` stays.
fn local_key(key: &str) -> String {
    match key.strip_prefix('@') {
        Some(attr) => format!("@{}", attr.rsplit(':').next().unwrap_or(attr)),
        None => key.rsplit(':').next().unwrap_or(key).to_string(),
    }
}
