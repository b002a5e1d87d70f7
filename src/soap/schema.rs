//! `backend.soap.wsdl`: what a route's reply may hold, from the service's own schema (read once,
//! at load, with the WSDL loader). It makes replies schema-true (an element that may repeat is
//! always a JSON array, values get JSON types from their XSD types when the mapping gives none)
//! and lets `ponte check` report reply paths that no reply of the operation can have.
//!
//! Nothing here runs per request: the schema only adds array hints and types to the compiled
//! plan. Where the schema is open (`xs:any`, a recursion cut, an opaque type), nothing below is
//! reported or typed: no false positives.

use std::path::Path as FsPath;

use crate::config::model::ValueType;
use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, PathStep, Span, did_you_mean};
use crate::mapping::path::{Path, Step};
use crate::mapping::response::Mapping;
use crate::soap::wsdl::Wsdl;
use crate::soap::wsdl::shape::{Shape, ShapeNode, ValueKind};
use crate::xml::reader::ArrayHints;

/// At most this many hint nodes are added for repeating elements below a subtree that a path
/// maps whole (a deep schema must not make the hints large).
const MAX_ADDED_HINTS: usize = 10_000;

/// Loads `backend.soap.wsdl` (relative to the adapter file); a WSDL that does not load is one
/// diagnostic at the key, quoting the loader's first problems with their own positions.
pub(crate) fn load(
    key: &Spanned<String>,
    adapter: &FsPath,
    errors: &mut Diagnostics,
) -> Option<Wsdl> {
    let path = adapter
        .parent()
        .unwrap_or(FsPath::new("."))
        .join(&key.value);
    match Wsdl::load(&path) {
        Ok(wsdl) => Some(wsdl),
        Err(found) => {
            let shown: Vec<String> = found.iter().take(3).map(ToString::to_string).collect();
            let more = match found.len() {
                0..=3 => String::new(),
                n => format!(" (and {} more)", n - 3),
            };
            errors.push(
                Diagnostic::error(
                    key.span,
                    format!(
                        "the WSDL `{}` does not load: {}{more}",
                        key.value,
                        shown.join("; ")
                    ),
                )
                .with_help("`wsdl:` is a path relative to the adapter file"),
            );
            None
        }
    }
}

/// The reply of one operation, as its schema describes it.
pub(crate) struct ReplySchema {
    body: Shape,
}

impl ReplySchema {
    /// The operation's reply shape; reported at the operation when the WSDL has no such one.
    pub(crate) fn of(
        wsdl: &Wsdl,
        operation: &Spanned<String>,
        local: &str,
        errors: &mut Diagnostics,
    ) -> Option<ReplySchema> {
        if let Some(body) = wsdl.reply_shape(local) {
            return Some(ReplySchema { body });
        }
        let names: Vec<&str> = wsdl
            .defs
            .bindings
            .iter()
            .filter(|b| b.kind.is_soap())
            .flat_map(|b| b.operations.iter().map(|o| o.name.as_str()))
            .collect();
        let help = match did_you_mean(local, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "name an operation of the WSDL's SOAP binding (`ponte import wsdl --list` shows them)".into(),
        };
        errors.push(
            Diagnostic::error(
                operation.span,
                format!("the WSDL has no SOAP operation `{local}`"),
            )
            .with_help(help),
        );
        None
    }

    /// Makes the hinted elements that the schema lets repeat arrays, also below subtrees that
    /// a path maps whole.
    pub(crate) fn add_arrays(&self, hints: &mut ArrayHints) {
        let mut budget = MAX_ADDED_HINTS;
        mark(hints, 0, &self.body, false, &mut budget);
        hints.refresh_array_children();
    }

    /// Gives each path without a `type:` the JSON type of what it reaches.
    pub(crate) fn add_types(&self, mapping: &mut Mapping) {
        mapping.fill_types(&[], &|steps| self.type_at(steps));
    }

    fn type_at(&self, steps: &[Step]) -> Option<ValueType> {
        let mut shape = &self.body;
        let mut node: Option<&ShapeNode> = None;
        let mut fields = steps.iter().filter_map(|s| match s {
            Step::Field(name) => Some(name.as_str()),
            _ => None,
        });
        // A path that ends at an element which repeats selects a list: a type is for its items,
        // which only `[*]` (or an index) reaches.
        let ends_at_list = matches!(steps.last(), Some(Step::Field(_)));
        let kind = loop {
            let Some(name) = fields.next() else {
                let node = node?;
                if node.repeats && ends_at_list {
                    return None;
                }
                break node.value?;
            };
            if let Some(attr) = name.strip_prefix('@') {
                let found = node?
                    .attributes
                    .iter()
                    .find(|(n, _)| n == attr)
                    .map(|(_, k)| *k);
                break fields.next().map_or(found, |_| None)?;
            }
            if name == "#text" {
                break node?.value?;
            }
            let child = shape.child(name)?;
            node = Some(child);
            shape = &child.children;
        };
        match kind {
            ValueKind::String => None,
            ValueKind::Integer => Some(ValueType::Integer),
            ValueKind::Number => Some(ValueType::Number),
            ValueKind::Boolean => Some(ValueType::Boolean),
            ValueKind::Date => Some(ValueType::Date),
            ValueKind::DateTime => Some(ValueType::Datetime),
        }
    }

    /// Reports every reply path of the route (`response`, `not_found`, `arrays`) that no reply
    /// of the operation can have.
    pub(crate) fn check_paths(
        &self,
        operation: &str,
        response: Option<&Tree>,
        not_found: Option<&Spanned<String>>,
        arrays: &[Spanned<String>],
        errors: &mut Diagnostics,
    ) {
        let checker = Checker {
            body: &self.body,
            operation,
        };
        if let Some(tree) = response
            && let TreeKind::Map(entries) = &tree.kind
        {
            for (_, value) in entries {
                checker.mapping(&[], value, errors);
            }
        }
        for (spanned, what) in not_found
            .into_iter()
            .map(|n| (n, "not_found path"))
            .chain(arrays.iter().map(|a| (a, "`arrays` path")))
        {
            if let Ok(path) = Path::parse(&spanned.value) {
                checker.check(&[], &path, spanned.span, what, errors);
            }
        }
    }
}

/// Marks hint node `node` (whose element the schema describes with `shape`) and its hinted
/// children; under a node a path maps whole, adds nodes for the repeating elements too.
fn mark(hints: &mut ArrayHints, node: usize, shape: &Shape, whole: bool, budget: &mut usize) {
    for (name, child) in hints.named_children(node) {
        let Some(described) = shape.child(&name) else {
            continue;
        };
        if described.repeats {
            hints.set_array(child);
        }
        let whole = whole || hints.is_whole(child);
        mark(hints, child, &described.children, whole, budget);
    }
    if !whole {
        return;
    }
    for (name, described) in &shape.children {
        if *budget == 0 || !repeats_within(described, 8) || hints.child(node, name).is_some() {
            continue;
        }
        *budget -= 1;
        let child = hints.child_or_insert(node, name);
        if described.repeats {
            hints.set_array(child);
        }
        mark(hints, child, &described.children, true, budget);
    }
}

/// Whether the element or something below it (to `depth` levels) may repeat.
fn repeats_within(node: &ShapeNode, depth: usize) -> bool {
    node.repeats
        || (depth > 0
            && node
                .children
                .children
                .iter()
                .any(|(_, c)| repeats_within(c, depth - 1)))
}

struct Checker<'s> {
    body: &'s Shape,
    operation: &'s str,
}

impl Checker<'_> {
    /// One mapping of the `response` tree (the shapes `mapping::response` compiles; what it
    /// refuses is reported there).
    fn mapping(&self, base: &[Step], tree: &Tree, errors: &mut Diagnostics) {
        let path_at = |t: &Tree| t.as_str().and_then(|s| Path::parse(s).ok());
        match &tree.kind {
            TreeKind::Str(_) => {
                if let Some(p) = path_at(tree) {
                    self.check(base, &p, tree.span, "response path", errors);
                }
            }
            TreeKind::Map(entries) => {
                if let Some(from) = tree.get("from") {
                    if let Some(p) = path_at(from) {
                        self.check(base, &p, from.span, "response path", errors);
                    }
                } else if let Some(each) = tree.get("each") {
                    let Some(p) = path_at(each) else { return };
                    if !self.check(base, &p, each.span, "`each` path", errors) {
                        return;
                    }
                    let mut inner = base.to_vec();
                    inner.extend(p.steps);
                    inner.push(Step::Each);
                    if let Some(TreeKind::Map(fields)) = tree.get("fields").map(|f| &f.kind) {
                        for (_, v) in fields {
                            self.mapping(&inner, v, errors);
                        }
                    }
                } else if let Some(TreeKind::Seq(items)) = tree.get("concat").map(|c| &c.kind) {
                    for item in items {
                        self.mapping(base, item, errors);
                    }
                } else if ["expr", "const", "parse"]
                    .iter()
                    .any(|k| tree.get(k).is_some())
                {
                    // JMESPath reads anything; constants read nothing; an embedded document
                    // is not described by the schema.
                } else {
                    for (_, v) in entries {
                        self.mapping(base, v, errors);
                    }
                }
            }
            _ => {}
        }
    }

    /// Checks a path relative to `base` (an enclosing `each`); false when it reported one.
    fn check(
        &self,
        base: &[Step],
        path: &Path,
        span: Span,
        what: &str,
        errors: &mut Diagnostics,
    ) -> bool {
        let mut shape = self.body;
        let mut simple: Option<&ShapeNode> = None;
        let mut walked = String::new();
        for step in base.iter().chain(&path.steps) {
            let Step::Field(name) = step else { continue };
            // Attributes and text are not checked: the schema's attribute wildcards are not
            // known here.
            if shape.open || name.starts_with(['@', '#']) {
                return true;
            }
            if let Some(leaf) = simple {
                let ty = leaf.value.map_or("simple value", |k| k.type_word());
                errors.push(
                    Diagnostic::error(
                        span,
                        format!("{what} `{path}`: `{walked}` is a {ty} in the reply of `{}`, the path cannot go into it", self.operation),
                    )
                    .with_help(format!("end the path at `{walked}`")),
                );
                return false;
            }
            let Some(child) = shape.child(name) else {
                let step = PathStep {
                    walked: &walked,
                    top: "the reply's Body",
                };
                let names = shape.children.iter().map(|(n, _)| n.as_str());
                let help = match step.did_you_mean(name, names.clone()) {
                    Some(help) => help,
                    None if shape.children.is_empty() => {
                        "the schema gives it no child elements".to_string()
                    }
                    None => format!(
                        "the schema allows {} there",
                        names.collect::<Vec<_>>().join(", ")
                    ),
                };
                errors.push(
                    Diagnostic::error(
                        span,
                        format!(
                            "{what} `{path}`: the reply of `{}` has no `{name}` in {}",
                            self.operation,
                            step.within()
                        ),
                    )
                    .with_help(help),
                );
                return false;
            };
            walked = if walked.is_empty() {
                name.clone()
            } else {
                format!("{walked}.{name}")
            };
            if child.children.children.is_empty() && !child.children.open && child.value.is_some() {
                simple = Some(child);
            }
            shape = &child.children;
        }
        true
    }
}
