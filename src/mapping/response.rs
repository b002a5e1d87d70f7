//! Response mappings: the `response:` tree compiled once into a plan that reshapes the reply.
//!
//! A leaf is, in order of preference: a path (with optional `type`/`default`), `each`+`fields`
//! for arrays of objects, `concat`, `const`, or a JMESPath `expr`. Anything else that is a
//! mapping is a nested output object. `{ from, parse: xml, fields }` reads a field that carries a
//! whole XML document as text and maps it like a reply (same limits: no DOCTYPE, bounded depth).

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::model::ValueType;
use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};

use super::coerce;
use super::node::{self, Node};
use super::path::{Path, Selected};
use crate::xml::reader::ArrayHints;

const MAPPING_KEYS: &[&str] = &[
    "from", "type", "default", "each", "fields", "concat", "expr", "const", "parse",
];
/// The keys that make a mapping object (instead of a nested output object).
const KIND_KEYS: &[&str] = &["from", "each", "concat", "expr", "const", "parse"];

pub enum Mapping {
    Path {
        path: Path,
        ty: Option<ValueType>,
        default: Option<Value>,
    },
    Each {
        /// The array's path with `[*]` appended: every element, one or none alike.
        elements: Path,
        fields: Vec<Field>,
    },
    Concat(Vec<Part>),
    Expr {
        expr: jmespath::Expression<'static>,
        ty: Option<ValueType>,
    },
    Const(Value),
    Object(Vec<Field>),
    /// A text field holding an XML document, read with its own hints and mapped by `inner`
    /// (its fields, or the whole document as JSON).
    EmbeddedXml {
        path: Path,
        hints: ArrayHints,
        inner: Option<Box<Mapping>>,
    },
}

/// One output field: its name, and the name already written as a JSON key (`"name":`).
pub struct Field {
    pub name: String,
    json_key: Vec<u8>,
    pub mapping: Mapping,
}

impl Field {
    fn new(name: String, mapping: Mapping) -> Field {
        let mut json_key = Vec::with_capacity(name.len() + 3);
        node::write_str(&name, &mut json_key);
        json_key.push(b':');
        Field {
            name,
            json_key,
            mapping,
        }
    }
}

pub enum Part {
    Text(String),
    Value(Mapping),
}

/// Collects the problems of one mapping tree and the paths it reads.
pub struct Compiler<'a> {
    pub errors: &'a mut Diagnostics,
    /// Every path read, with whether it selects through `[*]`: the XML reader turns the elements
    /// named before a `[*]` into arrays even when they occur once.
    pub paths: Vec<Path>,
    /// Set when a mapping may read anything (a JMESPath expression): nothing may be pruned.
    pub reads_everything: bool,
}

/// The position of a character inside a scalar: best effort, for plain one-line scalars.
pub fn offset_span(span: Span, offset: usize) -> Span {
    let mut s = span;
    s.start.col += offset as u32;
    s
}

impl Compiler<'_> {
    pub fn path(&mut self, text: &str, span: Span) -> Option<Path> {
        match Path::parse(text) {
            Ok(p) => {
                self.paths.push(p.clone());
                Some(p)
            }
            Err(e) => {
                self.errors.push(
                    Diagnostic::error(
                        offset_span(span, e.offset),
                        format!("invalid path `{text}`: {}", e.message),
                    )
                    .with_help("a path looks like `Result.Items.Item[*].Name`"),
                );
                None
            }
        }
    }

    /// Compiles the whole `response:` tree (an object of output fields).
    pub fn response(&mut self, tree: &Tree) -> Option<Mapping> {
        match &tree.kind {
            TreeKind::Map(entries) => Some(Mapping::Object(self.fields(entries)?)),
            _ => {
                self.errors.push(
                    Diagnostic::error(
                        tree.span,
                        format!(
                            "`response` must be a mapping of output fields, found {}",
                            tree.describe()
                        ),
                    )
                    .with_help("e.g. response: { result: AddResponse.AddResult }"),
                );
                None
            }
        }
    }

    pub(super) fn fields(&mut self, entries: &[(Spanned<String>, Tree)]) -> Option<Vec<Field>> {
        let mut out = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (key, value) in entries {
            match self.mapping(value) {
                Some(m) => out.push(Field::new(key.value.clone(), m)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub fn mapping(&mut self, tree: &Tree) -> Option<Mapping> {
        match &tree.kind {
            TreeKind::Str(text) => Some(Mapping::Path {
                path: self.path(text, tree.span)?,
                ty: None,
                default: None,
            }),
            TreeKind::Map(entries)
                if entries
                    .iter()
                    .any(|(k, _)| KIND_KEYS.contains(&k.value.as_str())) =>
            {
                self.mapping_object(tree, entries)
            }
            TreeKind::Map(entries) => Some(Mapping::Object(self.fields(entries)?)),
            _ => {
                self.errors.push(
                    Diagnostic::error(
                        tree.span,
                        format!("expected a path or a mapping, found {}", tree.describe()),
                    )
                    .with_help(
                        "write a path like `Result.Value`, or `{ const: ... }` for a fixed value",
                    ),
                );
                None
            }
        }
    }

    fn mapping_object(
        &mut self,
        tree: &Tree,
        entries: &[(Spanned<String>, Tree)],
    ) -> Option<Mapping> {
        let mut ok = true;
        for (k, _) in entries {
            if !MAPPING_KEYS.contains(&k.value.as_str()) {
                let help = match crate::diagnostic::did_you_mean(&k.value, MAPPING_KEYS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "a mapping object takes from/type/default, each/fields, concat, expr or const".into(),
                };
                self.errors.push(
                    Diagnostic::error(k.span, format!("unknown key `{}` in a mapping", k.value))
                        .with_help(help),
                );
                ok = false;
            }
        }
        let get = |name: &str| tree.get(name);
        let ty = match get("type") {
            Some(t) => match self.value_type(t) {
                Some(ty) => Some(ty),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        if let Some(parse) = get("parse") {
            return self.embedded(tree, parse, ty).filter(|_| ok);
        }
        let kinds: Vec<&str> = KIND_KEYS
            .iter()
            .copied()
            .filter(|k| get(k).is_some())
            .collect();
        if kinds.len() > 1 {
            self.errors.push(Diagnostic::error(
                tree.span,
                format!(
                    "a mapping takes one of from/each/concat/expr/const, found {}",
                    kinds.join(" and ")
                ),
            ));
            return None;
        }
        let mapping = match kinds.first().copied() {
            Some("from") => {
                let from = get("from")?;
                let text = self.string(from, "from")?;
                let default = get("default").map(Tree::to_json);
                let path = self.path(text, from.span)?;
                if let (Some(ty), Some(d)) = (ty, &default)
                    && let Err(e) = coerce::from_reply(d, ty)
                {
                    self.errors.push(Diagnostic::error(
                        get("default")?.span,
                        format!("default does not fit type {}: {e}", ty.as_str()),
                    ));
                    return None;
                }
                Mapping::Path { path, ty, default }
            }
            Some("each") => {
                let each = get("each")?;
                let text = self.string(each, "each")?;
                let path = self.path(text, each.span)?;
                let Some(fields) = get("fields") else {
                    self.errors.push(
                        Diagnostic::error(
                            tree.span,
                            "`each` needs `fields`: how to map every element",
                        )
                        .with_help("e.g. { each: Items.Item, fields: { name: Name } }"),
                    );
                    return None;
                };
                let TreeKind::Map(entries) = &fields.kind else {
                    self.errors.push(Diagnostic::error(
                        fields.span,
                        "`fields` must be a mapping of output fields",
                    ));
                    return None;
                };
                // Elements are mapped relative to themselves; remember the array for the reader.
                let mut list = path.clone();
                list.steps.push(super::path::Step::Each);
                self.paths.push(list);
                let mut inner = Compiler {
                    errors: self.errors,
                    paths: Vec::new(),
                    reads_everything: false,
                };
                let fields = inner.fields(entries);
                self.reads_everything |= inner.reads_everything;
                let nested = std::mem::take(&mut inner.paths);
                for p in nested {
                    let mut full = path.clone();
                    full.steps.push(super::path::Step::Each);
                    full.steps.extend(p.steps);
                    self.paths.push(full);
                }
                let mut elements = path;
                elements.steps.push(super::path::Step::Each);
                Mapping::Each {
                    elements,
                    fields: fields?,
                }
            }
            Some("concat") => {
                let items = get("concat")?;
                let TreeKind::Seq(items) = &items.kind else {
                    self.errors
                        .push(Diagnostic::error(items.span, "`concat` takes a list"));
                    return None;
                };
                let mut parts = Vec::new();
                for item in items {
                    match &item.kind {
                        TreeKind::Str(s) if Path::parse(s).is_err() => {
                            parts.push(Part::Text(s.clone()))
                        }
                        _ => parts.push(Part::Value(self.mapping(item)?)),
                    }
                }
                Mapping::Concat(parts)
            }
            Some("expr") => {
                let e = get("expr")?;
                let text = self.string(e, "expr")?;
                match jmespath::compile(text) {
                    Ok(expr) => {
                        self.reads_everything = true;
                        Mapping::Expr { expr, ty }
                    }
                    Err(err) => {
                        self.errors.push(
                            Diagnostic::error(
                                offset_span(e.span, err.offset),
                                format!("invalid JMESPath expression: {}", err.reason),
                            )
                            .with_help("see https://jmespath.org for the syntax"),
                        );
                        return None;
                    }
                }
            }
            Some("const") => Mapping::Const(get("const")?.to_json()),
            _ => return None,
        };
        ok.then_some(mapping)
    }

    pub(super) fn string<'t>(&mut self, tree: &'t Tree, key: &str) -> Option<&'t str> {
        match tree.as_str() {
            Some(s) => Some(s),
            None => {
                self.errors.push(Diagnostic::error(
                    tree.span,
                    format!("`{key}` takes a string, found {}", tree.describe()),
                ));
                None
            }
        }
    }

    fn value_type(&mut self, tree: &Tree) -> Option<ValueType> {
        const TYPES: &[&str] = &[
            "string", "integer", "number", "boolean", "date", "datetime", "json",
        ];
        let text = tree.as_str().unwrap_or_default();
        let ty = match text {
            "string" => ValueType::String,
            "integer" => ValueType::Integer,
            "number" => ValueType::Number,
            "boolean" => ValueType::Boolean,
            "date" => ValueType::Date,
            "datetime" => ValueType::Datetime,
            "json" => ValueType::Json,
            _ => {
                let help = match crate::diagnostic::did_you_mean(text, TYPES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("types are {}", TYPES.join(", ")),
                };
                self.errors.push(
                    Diagnostic::error(tree.span, format!("unknown type `{text}`")).with_help(help),
                );
                return None;
            }
        };
        Some(ty)
    }
}

/// A reply that does not fit the mapping: which output field and why.
#[derive(Debug, PartialEq)]
pub struct MapError {
    pub field: String,
    pub message: String,
}

/// Where in the answer a mapping is: output field names and list positions, spelt out only
/// when something goes wrong.
enum Seg<'m> {
    Name(&'m str),
    Index(usize),
}

fn field_name(at: &[Seg]) -> String {
    let mut field = String::new();
    for seg in at {
        match seg {
            Seg::Name(name) => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
            }
            Seg::Index(i) => {
                let _ = write!(field, "[{i}]");
            }
        }
    }
    field
}

fn fail(at: &[Seg], message: String) -> MapError {
    MapError {
        field: field_name(at),
        message,
    }
}

impl Mapping {
    /// Gives every path without a `type:` the type `type_at` knows for its full steps (from a
    /// reply schema), at load time. `concat` parts keep their text as it is.
    pub(crate) fn fill_types(
        &mut self,
        base: &[super::path::Step],
        type_at: &dyn Fn(&[super::path::Step]) -> Option<ValueType>,
    ) {
        match self {
            Mapping::Path { path, ty, .. } if ty.is_none() => {
                let steps: Vec<_> = base.iter().chain(&path.steps).cloned().collect();
                *ty = type_at(&steps);
            }
            Mapping::Each { elements, fields } => {
                let inner: Vec<_> = base.iter().chain(&elements.steps).cloned().collect();
                for f in fields {
                    f.mapping.fill_types(&inner, type_at);
                }
            }
            Mapping::Object(fields) => {
                for f in fields {
                    f.mapping.fill_types(base, type_at);
                }
            }
            _ => {}
        }
    }

    /// Reshapes `reply` into the answer, as JSON text.
    pub fn answer<'a, N: Node<'a>>(&self, reply: N) -> Result<Vec<u8>, MapError> {
        let mut out = Vec::with_capacity(256);
        self.write(reply, &mut out, &mut Vec::new())?;
        Ok(out)
    }

    /// Reshapes `reply` into the answer, as a JSON value (for tests).
    #[cfg(test)]
    pub fn apply<'a, N: Node<'a>>(&self, reply: N) -> Result<Value, MapError> {
        let json = self.answer(reply)?;
        Ok(serde_json::from_slice(&json).expect("answers are JSON"))
    }

    fn write<'a, 'm, N: Node<'a>>(
        &'m self,
        v: N,
        out: &mut Vec<u8>,
        at: &mut Vec<Seg<'m>>,
    ) -> Result<(), MapError> {
        match self {
            Mapping::Path { path, ty, default } => match path.select(v) {
                Some(Selected::One(found)) if !found.is_null() => leaf(found, *ty, out, at),
                Some(Selected::Many(items)) => {
                    out.push(b'[');
                    for (i, item) in items.into_iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        leaf(item, *ty, out, at)?;
                    }
                    out.push(b']');
                    Ok(())
                }
                _ => {
                    match default {
                        Some(d) => node::write_value(d, out),
                        None => out.extend_from_slice(b"null"),
                    }
                    Ok(())
                }
            },
            Mapping::Each { elements, fields } => {
                out.push(b'[');
                if let Some(Selected::Many(items)) = elements.select(v) {
                    for (i, item) in items.into_iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        at.push(Seg::Index(i));
                        object(fields, item, out, at)?;
                        at.pop();
                    }
                }
                out.push(b']');
                Ok(())
            }
            Mapping::Concat(parts) => {
                let mut s = String::new();
                let mut part_json = Vec::new();
                for part in parts {
                    match part {
                        Part::Text(t) => s.push_str(t),
                        Part::Value(m) => {
                            part_json.clear();
                            m.write(v, &mut part_json, at)?;
                            push_text(&part_json, &mut s);
                        }
                    }
                }
                node::write_str(&s, out);
                Ok(())
            }
            Mapping::Expr { expr, ty } => {
                let document = v.to_value();
                let result = expr
                    .search(&document)
                    .map_err(|e| fail(at, format!("expression failed: {}", e.reason)))?;
                let json = serde_json::to_value(&*result).map_err(|e| fail(at, e.to_string()))?;
                let json = match ty {
                    Some(ty) => coerce::from_reply(&json, *ty).map_err(|m| fail(at, m))?,
                    None => json,
                };
                node::write_value(&json, out);
                Ok(())
            }
            Mapping::Const(c) => {
                node::write_value(c, out);
                Ok(())
            }
            Mapping::Object(fields) => object(fields, v, out, at),
            Mapping::EmbeddedXml { path, hints, inner } => {
                super::embedded::write(path, hints, inner.as_deref(), v, out)
                    .map_err(|m| fail(at, m))
            }
        }
    }
}

/// A part of a `concat` as text, from the JSON the part wrote: a string unquoted, null as
/// nothing, anything else as its JSON text (what `coerce::to_text` gives a value, without
/// parsing numbers back).
fn push_text(json: &[u8], s: &mut String) {
    match json.first() {
        Some(b'"') => {
            if let Ok(text) = serde_json::from_slice::<String>(json) {
                s.push_str(&text);
            }
        }
        _ if json == b"null" => {}
        _ => s.push_str(&String::from_utf8_lossy(json)),
    }
}

/// One value read from the reply, converted to the mapping's type if it has one.
fn leaf<'a, N: Node<'a>>(
    found: N,
    ty: Option<ValueType>,
    out: &mut Vec<u8>,
    at: &[Seg],
) -> Result<(), MapError> {
    let ty = match ty {
        None | Some(ValueType::Json) => {
            found.write_json(out);
            return Ok(());
        }
        Some(ty) => ty,
    };
    let value = match found.as_str() {
        Some(text) if ty == ValueType::String => {
            node::write_str(text, out);
            return Ok(());
        }
        Some(text) if text.trim().is_empty() => Ok(Value::Null),
        // Digits that an i64 or f64 would lose are written as they came.
        Some(text) => match coerce::from_text(text, ty) {
            Ok(v) if !(ty == ValueType::Number && v.is_f64()) => Ok(v),
            other => match coerce::exact_number(text, ty) {
                Some(digits) => {
                    out.extend_from_slice(digits.as_bytes());
                    return Ok(());
                }
                None => other,
            },
        },
        None => coerce::from_reply(&found.to_value(), ty),
    }
    .map_err(|m| fail(at, m))?;
    node::write_value(&value, out);
    Ok(())
}

fn object<'a, 'm, N: Node<'a>>(
    fields: &'m [Field],
    v: N,
    out: &mut Vec<u8>,
    at: &mut Vec<Seg<'m>>,
) -> Result<(), MapError> {
    out.push(b'{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&field.json_key);
        at.push(Seg::Name(&field.name));
        field.mapping.write(v, out, at)?;
        at.pop();
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{de, yaml};
    use serde_json::json;
    use std::cell::RefCell;

    fn compile(text: &str) -> Result<Mapping, Vec<Diagnostic>> {
        let y = yaml::parse(text).unwrap();
        let notes = RefCell::new(vec![]);
        let tree: Tree = de::from_yaml(&y, &notes).unwrap();
        let mut errors = crate::diagnostic::Diagnostics::default();
        let mut c = Compiler {
            errors: &mut errors,
            paths: vec![],
            reads_everything: false,
        };
        let m = c.response(&tree);
        match m {
            Some(m) if errors.is_empty() => Ok(m),
            _ => Err(errors.into_vec()),
        }
    }

    #[test]
    fn maps_paths_types_defaults_each_concat_expr() {
        let m = compile(
            "result: { from: R.Sum, type: integer }\n\
             missing: { from: R.Nope, default: 0 }\n\
             names: R.Items.Item[*].Name\n\
             items: { each: R.Items.Item, fields: { code: Code, n: { from: N, type: number } } }\n\
             full: { concat: [R.First, ' ', R.Last] }\n\
             count: { expr: 'length(R.Items.Item)' }\n\
             fixed: { const: v1 }\n\
             nested: { sum: R.Sum }\n",
        )
        .unwrap();
        let reply = json!({"R": {"Sum": "5", "First": "Ada", "Last": "Lovelace",
            "Items": {"Item": [{"Name": "a", "Code": "A", "N": "1.5"}, {"Name": "b", "Code": "B", "N": "2"}]}}});
        assert_eq!(
            m.apply(&reply).unwrap(),
            json!({"result": 5, "missing": 0, "names": ["a", "b"],
                "items": [{"code": "A", "n": 1.5}, {"code": "B", "n": 2}],
                "full": "Ada Lovelace", "count": 2, "fixed": "v1", "nested": {"sum": "5"}})
        );
    }

    /// A SOAP reply read into its index answers exactly as its JSON does, for every kind of
    /// mapping (the index is what the facade maps; the JSON is what the conventions define).
    #[test]
    fn an_xml_reply_maps_as_its_json_does() {
        use crate::mapping::node::Node as _;
        use crate::soap::{SoapReply, read_soap};
        use crate::xml::reader::{ArrayHints, Limits};
        let m = compile(
            "result: { from: R.Sum, type: integer }\n\
             missing: { from: R.Nope, default: 0 }\n\
             names: R.Items.Item[*].Name\n\
             items: { each: R.Items.Item, fields: { code: '@code', n: { from: N, type: number }, tags: 'Tag[*]' } }\n\
             full: { concat: [R.First, ' ', R.Last] }\n\
             count: { expr: 'length(R.Items.Item)' }\n\
             fixed: { const: v1 }\n\
             whole: R.Items.Item[0]\n\
             flag: { from: R.Flag, type: boolean }\n\
             blank: { from: R.Blank, type: integer }\n\
             nested: { sum: R.Sum, nil: R.Nil }\n",
        )
        .unwrap();
        let xml = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Body><R><Sum>5</Sum><First>Ada</First><Last>Love&amp;lace</Last><Items><Item code="A"><Name>a</Name><N>1.5</N><Tag>t1</Tag></Item><Item code="B"><Name>b</Name><N>2</N></Item></Items><Flag>true</Flag><Blank> </Blank><Nil xsi:nil="true"/></R></s:Body></s:Envelope>"#;
        let hints = ArrayHints::default();
        let Ok(SoapReply::Body(doc)) = read_soap(xml, &hints, Limits::default()) else {
            panic!("the reply reads")
        };
        let json = doc.body().to_value();
        let from_doc: Value = serde_json::from_slice(&m.answer(doc.body()).unwrap()).unwrap();
        assert_eq!(from_doc, m.apply(&json).unwrap());
        assert_eq!(
            from_doc,
            json!({"result": 5, "missing": 0, "names": ["a", "b"],
                "items": [{"code": "A", "n": 1.5, "tags": ["t1"]}, {"code": "B", "n": 2, "tags": []}],
                "full": "Ada Love&lace", "count": 2, "fixed": "v1",
                "whole": {"@code": "A", "Name": "a", "N": "1.5", "Tag": "t1"},
                "flag": true, "blank": null, "nested": {"sum": "5", "nil": null}})
        );
    }

    #[test]
    fn names_the_field_that_does_not_convert() {
        let m =
            compile("items: { each: L.I, fields: { n: { from: N, type: integer } } }\n").unwrap();
        let err = m
            .apply(&json!({"L": {"I": [{"N": "1"}, {"N": "x"}]}}))
            .unwrap_err();
        assert_eq!(
            err,
            MapError {
                field: "items[1].n".into(),
                message: "`x` is not an integer".into()
            }
        );
    }

    #[test]
    fn reports_every_bad_mapping_with_position() {
        let Err(errors) = compile(
            "a: A..B\nb: { from: X, type: integr }\nc: { expr: 'foo[' }\nd: { form: X, each: Y }\n",
        ) else {
            panic!("expected errors")
        };
        let got: Vec<(u32, &str)> = errors
            .iter()
            .map(|d| (d.span.start.line, d.message.as_str()))
            .collect();
        assert_eq!(
            got[0],
            (
                1,
                "invalid path `A..B`: empty name in path (two dots, or a leading dot)"
            )
        );
        assert_eq!(got[1], (2, "unknown type `integr`"));
        assert!(
            got[2].1.starts_with("invalid JMESPath expression"),
            "{got:?}"
        );
        assert_eq!(got[3], (4, "unknown key `form` in a mapping"));
    }
}
