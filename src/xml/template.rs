//! Request trees -> XML, compiled once.
//!
//! The adapter writes the XML it wants as a tree (`Add: { intA: $a }`). At load time the tree is
//! checked (element names, namespace prefixes, declared inputs) and turned into a list of pieces:
//! fixed markup, written and escaped once, and slots for input values. At call time the pieces are
//! joined and every input value is escaped, so no input can change the document's structure.

use std::fmt::Write as _;

use indexmap::IndexMap;
use quick_xml::escape::escape;
use serde_json::Value;

use crate::config::model::ValueType;
use crate::config::{Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Span, did_you_mean};
use crate::mapping::coerce;

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Static(String),
    /// The escaped text of input `n`.
    Value(usize),
    /// Pieces written only when input `n` has a value (optional inputs omit their element).
    IfPresent(usize, Vec<Piece>),
}

/// A compiled XML fragment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    pub fn render_into(&self, out: &mut String, values: &[Option<Value>]) {
        render(&self.pieces, out, values);
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    pub fn from_pieces(pieces: Vec<Piece>) -> Template {
        Template {
            pieces: merge(pieces),
        }
    }

    pub fn into_pieces(self) -> Vec<Piece> {
        self.pieces
    }
}

fn render(pieces: &[Piece], out: &mut String, values: &[Option<Value>]) {
    for piece in pieces {
        match piece {
            Piece::Static(s) => out.push_str(s),
            Piece::Value(i) => {
                if let Some(Some(v)) = values.get(*i) {
                    out.push_str(&escape(coerce::to_text(v)));
                }
            }
            Piece::IfPresent(i, inner) => {
                if matches!(values.get(*i), Some(Some(_))) {
                    render(inner, out, values);
                }
            }
        }
    }
}

/// One input as the template sees it.
pub struct InputRef<'a> {
    pub name: &'a str,
    pub ty: ValueType,
    /// False when the input may be absent (optional without default).
    pub always_present: bool,
}

/// How element names are qualified.
pub struct NameRules<'a> {
    /// Prefix of the target namespace (declared by the caller of `compile`).
    pub target_prefix: &'a str,
    /// Whether top-level elements are in the target namespace (document style: yes; rpc parts
    /// inside the operation wrapper: no).
    pub qualify_top: bool,
    /// Whether elements below the top level are in the target namespace.
    pub qualify_children: bool,
    /// Known prefixes (`wsse`, …) usable in keys as `prefix:Name`.
    pub prefixes: &'a IndexMap<String, String>,
    /// rpc/encoded: leaf elements carry `xsi:type`.
    pub xsi_types: bool,
}

pub struct Compiler<'a> {
    pub inputs: &'a [InputRef<'a>],
    pub rules: NameRules<'a>,
    pub errors: &'a mut Diagnostics,
    /// Which inputs the tree used.
    pub used: Vec<bool>,
    /// Whether inputs may be referenced at all (backend-wide headers cannot).
    pub allow_inputs: bool,
}

impl Compiler<'_> {
    /// Compiles a tree whose keys are top-level elements.
    pub fn compile(&mut self, tree: &Tree) -> Template {
        let mut pieces = Vec::new();
        match &tree.kind {
            TreeKind::Map(entries) => {
                for (key, value) in entries {
                    self.element(&key.value, key.span, value, 0, &mut pieces);
                }
            }
            TreeKind::Null => {}
            _ => self.errors.push(
                Diagnostic::error(
                    tree.span,
                    format!("expected a mapping of elements, found {}", tree.describe()),
                )
                .with_help("e.g. request: { Add: { intA: $a, intB: $b } }"),
            ),
        }
        Template {
            pieces: merge(pieces),
        }
    }

    fn qualified(&mut self, key: &str, span: Span, depth: usize) -> Option<String> {
        let (prefix, local) = match key.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, key),
        };
        if !is_xml_name(local) || prefix.is_some_and(|p| !is_xml_name(p)) {
            self.errors.push(
                Diagnostic::error(span, format!("`{key}` is not a valid XML element name"))
                    .with_help(
                        "names start with a letter or `_` and hold letters, digits, `_`, `-`, `.`",
                    ),
            );
            return None;
        }
        match prefix {
            Some(p)
                if p == self.rules.target_prefix
                    || p == "xsi"
                    || self.rules.prefixes.contains_key(p) =>
            {
                Some(key.to_string())
            }
            Some(p) => {
                let help = match did_you_mean(p, self.rules.prefixes.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it under backend.soap.namespaces: {{ {p}: <namespace URI> }}"
                    ),
                };
                self.errors.push(
                    Diagnostic::error(span, format!("unknown namespace prefix `{p}`"))
                        .with_help(help),
                );
                None
            }
            None if (depth == 0 && self.rules.qualify_top)
                || (depth > 0 && self.rules.qualify_children) =>
            {
                Some(format!("{}:{local}", self.rules.target_prefix))
            }
            None => Some(local.to_string()),
        }
    }

    fn element(&mut self, key: &str, span: Span, value: &Tree, depth: usize, out: &mut Vec<Piece>) {
        if let TreeKind::Seq(items) = &value.kind {
            for item in items {
                self.element(key, span, item, depth, out);
            }
            return;
        }
        let Some(name) = self.qualified(key, span, depth) else {
            return;
        };
        let mut attrs = Vec::new();
        let mut content = Vec::new();
        let mut guard = None;
        match &value.kind {
            TreeKind::Map(entries) => {
                for (k, v) in entries {
                    if let Some(attr) = k.value.strip_prefix('@') {
                        self.attribute(attr, k.span, v, &mut attrs);
                    } else if k.value == "#text" {
                        self.text(v, &mut content);
                    } else {
                        self.element(&k.value, k.span, v, depth + 1, &mut content);
                    }
                }
            }
            _ => {
                if let Some((input, ty)) = self.leaf(value, &mut content) {
                    if !self.inputs[input].always_present {
                        guard = Some(input);
                    }
                    if self.rules.xsi_types {
                        attrs.push(Piece::Static(format!(" xsi:type=\"xsd:{}\"", xsd_name(ty))));
                    }
                } else if self.rules.xsi_types && !matches!(value.kind, TreeKind::Null) {
                    attrs.push(Piece::Static(" xsi:type=\"xsd:string\"".into()));
                }
            }
        }
        let mut pieces = vec![Piece::Static(format!("<{name}"))];
        pieces.extend(attrs);
        if content.is_empty() {
            pieces.push(Piece::Static("/>".into()));
        } else {
            pieces.push(Piece::Static(">".into()));
            pieces.extend(content);
            pieces.push(Piece::Static(format!("</{name}>")));
        }
        match guard {
            Some(input) => out.push(Piece::IfPresent(input, merge(pieces))),
            None => out.extend(pieces),
        }
    }

    fn attribute(&mut self, name: &str, span: Span, value: &Tree, out: &mut Vec<Piece>) {
        if !is_xml_name(name.rsplit(':').next().unwrap_or(name)) {
            self.errors.push(Diagnostic::error(
                span,
                format!("`@{name}` is not a valid attribute name"),
            ));
            return;
        }
        let mut inner = vec![Piece::Static(format!(" {name}=\""))];
        let leaf = self.leaf(value, &mut inner);
        inner.push(Piece::Static("\"".into()));
        match leaf {
            Some((input, _)) if !self.inputs[input].always_present => {
                out.push(Piece::IfPresent(input, merge(inner)))
            }
            _ => out.extend(inner),
        }
    }

    fn text(&mut self, value: &Tree, out: &mut Vec<Piece>) {
        if let Some((input, _)) = self.leaf(value, out)
            && !self.inputs[input].always_present
        {
            // Text of an absent optional input is simply empty.
            if let Some(Piece::Value(i)) = out.pop() {
                out.push(Piece::IfPresent(i, vec![Piece::Value(i)]));
            }
        }
    }

    /// A scalar: `$input` (returns its index and type) or literal text.
    fn leaf(&mut self, value: &Tree, out: &mut Vec<Piece>) -> Option<(usize, ValueType)> {
        let literal = match &value.kind {
            TreeKind::Str(s) => {
                if let Some(name) = s.strip_prefix('$').filter(|n| !n.starts_with('$')) {
                    return self.input(name, value.span, out);
                }
                s.strip_prefix('$').map_or(s.clone(), str::to_string)
            }
            TreeKind::Null => String::new(),
            TreeKind::Bool(b) => b.to_string(),
            TreeKind::Int(i) => i.to_string(),
            TreeKind::Float(f) => f.to_string(),
            TreeKind::Seq(_) | TreeKind::Map(_) => {
                self.errors.push(Diagnostic::error(
                    value.span,
                    format!("expected text or `$input` here, found {}", value.describe()),
                ));
                return None;
            }
        };
        if !literal.is_empty() {
            out.push(Piece::Static(escape(literal.as_str()).into_owned()));
        }
        None
    }

    fn input(
        &mut self,
        name: &str,
        span: Span,
        out: &mut Vec<Piece>,
    ) -> Option<(usize, ValueType)> {
        if !self.allow_inputs {
            self.errors.push(
                Diagnostic::error(
                    span,
                    format!("`${name}`: backend headers cannot use route inputs"),
                )
                .with_help("use ${ENV_VAR} for credentials; write `$$` for a literal `$`"),
            );
            return None;
        }
        match self.inputs.iter().position(|i| i.name == name) {
            Some(i) => {
                self.used[i] = true;
                out.push(Piece::Value(i));
                Some((i, self.inputs[i].ty))
            }
            None => {
                let help = match did_you_mean(name, self.inputs.iter().map(|i| i.name)) {
                    Some(s) => format!("did you mean `${s}`?"),
                    None => format!(
                        "declare it under `input:` (e.g. {name}: {{ in: query, type: string }}), or write `$$` for a literal `$`"
                    ),
                };
                self.errors.push(
                    Diagnostic::error(span, format!("input `{name}` is not declared"))
                        .with_help(help),
                );
                None
            }
        }
    }
}

/// Joins neighbouring static pieces.
fn merge(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(Piece::Static(a)), Piece::Static(b)) => a.push_str(&b),
            (_, p) => out.push(p),
        }
    }
    out
}

pub fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn xsd_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::String => "string",
        ValueType::Integer => "long",
        ValueType::Number => "double",
        ValueType::Boolean => "boolean",
        ValueType::Date => "date",
        ValueType::Datetime => "dateTime",
        ValueType::Json => "string",
    }
}

/// Writes `xmlns` declarations for the envelope's root element.
pub fn namespace_declarations(decls: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (prefix, uri) in decls {
        let _ = write!(s, " xmlns:{prefix}=\"{}\"", escape(*uri));
    }
    s
}
