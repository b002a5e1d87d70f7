//! What `ponte check` knows of a GraphQL route beyond the document's validity: the response
//! paths (`response`, `each`, `not_found`) must be paths the query selects, by the names the reply
//! uses (aliases), and an optional input must not feed a variable the operation requires.
//!
//! Inline and named fragments are followed; where a selection goes through something that cannot
//! be resolved (an unknown fragment), nothing below it is reported: no false positives.

use std::collections::HashMap;

use apollo_compiler::Schema;
use apollo_compiler::ast::{self, Type};
use apollo_compiler::schema::ExtendedType;

use crate::config::{Spanned, Tree, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, PathStep, Span};
use crate::mapping::path::{Path, Step};
use crate::xml::template::InputRef;

/// What a selection set puts in the reply, by response key (the alias when there is one).
#[derive(Default, Debug)]
pub(crate) struct Selection {
    fields: HashMap<String, Selected>,
    /// Part of it could not be resolved: nothing below is reported.
    open: bool,
}

#[derive(Debug)]
enum Selected {
    /// A field without sub-selection; `Some(type)` when the schema says it is a built-in scalar
    /// or an enum (a path cannot go into it).
    Leaf(Option<String>),
    Object(Selection),
}

/// Built from an operation, the document's fragments and (when known) the schema.
pub(crate) struct Builder<'d> {
    document: &'d ast::Document,
    schema: Option<&'d Schema>,
}

impl<'d> Builder<'d> {
    pub fn new(document: &'d ast::Document, schema: Option<&'d Schema>) -> Builder<'d> {
        Builder { document, schema }
    }

    pub fn operation(&self, operation: &ast::OperationDefinition) -> Selection {
        let root = self
            .schema
            .and_then(|s| s.root_operation(operation.operation_type))
            .map(|n| n.to_string());
        let mut out = Selection::default();
        self.add(
            &operation.selection_set,
            root.as_deref(),
            &mut out,
            &mut Vec::new(),
        );
        out
    }

    fn add(
        &self,
        set: &[ast::Selection],
        parent: Option<&str>,
        out: &mut Selection,
        visiting: &mut Vec<String>,
    ) {
        for item in set {
            match item {
                ast::Selection::Field(f) => {
                    let key = f.alias.as_ref().unwrap_or(&f.name).to_string();
                    let ty = parent.and_then(|p| self.field_type(p, f.name.as_str()));
                    if f.selection_set.is_empty() {
                        let scalar = ty.filter(|t| self.is_plain_leaf(t));
                        out.fields.entry(key).or_insert(Selected::Leaf(scalar));
                        continue;
                    }
                    let entry = out
                        .fields
                        .entry(key)
                        .or_insert_with(|| Selected::Object(Selection::default()));
                    match entry {
                        Selected::Object(inner) => {
                            self.add(&f.selection_set, ty.as_deref(), inner, visiting)
                        }
                        // The same key as a leaf and as an object: the document is invalid
                        // anyway; stay silent below it.
                        Selected::Leaf(_) => {
                            *entry = Selected::Object(Selection {
                                fields: HashMap::new(),
                                open: true,
                            })
                        }
                    }
                }
                ast::Selection::InlineFragment(i) => {
                    let ty = i
                        .type_condition
                        .as_ref()
                        .map(|t| t.to_string())
                        .or(parent.map(str::to_string));
                    self.add(&i.selection_set, ty.as_deref(), out, visiting);
                }
                ast::Selection::FragmentSpread(s) => {
                    let name = s.fragment_name.as_str();
                    let fragment = self.document.definitions.iter().find_map(|d| match d {
                        ast::Definition::FragmentDefinition(f) if f.name.as_str() == name => {
                            Some(f)
                        }
                        _ => None,
                    });
                    match fragment {
                        Some(f) if !visiting.iter().any(|v| v == name) => {
                            visiting.push(name.to_string());
                            let ty = f.type_condition.to_string();
                            self.add(&f.selection_set, Some(&ty), out, visiting);
                            visiting.pop();
                        }
                        _ => out.open = true,
                    }
                }
            }
        }
    }

    fn field_type(&self, parent: &str, field: &str) -> Option<String> {
        let fields = match self.schema?.types.get(parent)? {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => return None,
        };
        fields
            .get(field)
            .map(|f| f.ty.inner_named_type().to_string())
    }

    /// Built-in scalars and enums hold no fields; a custom scalar (JSON) may.
    fn is_plain_leaf(&self, ty: &str) -> bool {
        matches!(ty, "String" | "Int" | "Float" | "Boolean" | "ID")
            || matches!(
                self.schema.and_then(|s| s.types.get(ty)),
                Some(ExtendedType::Enum(_))
            )
    }
}

impl Selection {
    /// Checks a reply path (relative to `base`, the steps of an enclosing `each`); false when it
    /// reported a problem.
    fn check(
        &self,
        base: &[Step],
        path: &Path,
        span: Span,
        what: &str,
        errors: &mut Diagnostics,
    ) -> bool {
        let steps: Vec<&Step> = base.iter().chain(&path.steps).collect();
        let mut at = self;
        let mut walked = String::new();
        for (i, step) in steps.iter().enumerate() {
            let Step::Field(name) = step else {
                // Lists: an index or `[*]` stays on the same selection.
                continue;
            };
            if at.open || name == "__typename" {
                return true;
            }
            let step = PathStep {
                walked: &walked,
                top: "the operation's top level",
            };
            match at.fields.get(name.as_str()) {
                None => {
                    let help = match step.did_you_mean(name, at.fields.keys().map(String::as_str)) {
                        Some(help) => help,
                        None => {
                            let mut keys: Vec<&str> =
                                at.fields.keys().map(String::as_str).collect();
                            keys.sort_unstable();
                            format!(
                                "the query selects {} there; add `{name}` to the query or fix the path",
                                keys.join(", ")
                            )
                        }
                    };
                    errors.push(
                        Diagnostic::error(
                            span,
                            format!(
                                "{what} `{path}`: the query does not select `{name}` in {}",
                                step.within()
                            ),
                        )
                        .with_help(help),
                    );
                    return false;
                }
                Some(Selected::Leaf(scalar)) => {
                    let deeper = steps[i + 1..].iter().any(|s| matches!(s, Step::Field(_)));
                    if let (true, Some(ty)) = (deeper, scalar) {
                        errors.push(
                            Diagnostic::error(
                                span,
                                format!(
                                    "{what} `{path}`: `{}` is a {ty}, the path cannot go into it",
                                    step.dotted(name)
                                ),
                            )
                            .with_help(format!("end the path at `{}`", step.dotted(name))),
                        );
                        return false;
                    }
                    return true;
                }
                Some(Selected::Object(inner)) => {
                    walked = step.dotted(name);
                    at = inner;
                }
            }
        }
        true
    }
}

/// Checks every reply path of a route's `response` and `not_found`.
pub(crate) fn response_paths(
    selection: &Selection,
    response: Option<&Tree>,
    not_found: Option<&Spanned<String>>,
    errors: &mut Diagnostics,
) {
    if let Some(tree) = response
        && let TreeKind::Map(entries) = &tree.kind
    {
        for (_, value) in entries {
            mapping(selection, &[], value, errors);
        }
    }
    if let Some(nf) = not_found
        && let Ok(path) = Path::parse(&nf.value)
    {
        let _ = selection.check(&[], &path, nf.span, "not_found path", errors);
    }
}

/// One mapping of the `response` tree (the shapes `mapping::response` compiles; anything it
/// refuses is reported there, and skipped here).
fn mapping(selection: &Selection, base: &[Step], tree: &Tree, errors: &mut Diagnostics) {
    let path_at = |t: &Tree| t.as_str().and_then(|s| Path::parse(s).ok());
    match &tree.kind {
        TreeKind::Str(_) => {
            if let Some(p) = path_at(tree) {
                let _ = selection.check(base, &p, tree.span, "response path", errors);
            }
        }
        TreeKind::Map(entries) => {
            if let Some(from) = tree.get("from") {
                if let Some(p) = path_at(from) {
                    let _ = selection.check(base, &p, from.span, "response path", errors);
                }
            } else if let Some(each) = tree.get("each") {
                let Some(p) = path_at(each) else { return };
                if !selection.check(base, &p, each.span, "`each` path", errors) {
                    // Its fields would all repeat the same slip.
                    return;
                }
                let mut inner: Vec<Step> = base.to_vec();
                inner.extend(p.steps);
                inner.push(Step::Each);
                if let Some(TreeKind::Map(fields)) = tree.get("fields").map(|f| &f.kind) {
                    for (_, v) in fields {
                        mapping(selection, &inner, v, errors);
                    }
                }
            } else if let Some(TreeKind::Seq(items)) = tree.get("concat").map(|c| &c.kind) {
                for item in items {
                    mapping(selection, base, item, errors);
                }
            } else if ["expr", "const", "parse"]
                .iter()
                .any(|k| tree.get(k).is_some())
            {
                // JMESPath reads anything; constants read nothing.
            } else {
                for (_, v) in entries {
                    mapping(selection, base, v, errors);
                }
            }
        }
        _ => {}
    }
}

/// An optional input (no default) feeding a variable the operation requires (non-null without a
/// default), directly or as a required field of an input object (with the schema).
pub(crate) fn input_optionality(
    operation: &ast::OperationDefinition,
    variables: Option<&Tree>,
    inputs: &[InputRef],
    schema: Option<&Schema>,
    errors: &mut Diagnostics,
) {
    let Some(TreeKind::Map(entries)) = variables.map(|t| &t.kind) else {
        return;
    };
    for (key, value) in entries {
        let Some(def) = operation
            .variables
            .iter()
            .find(|v| v.name.as_str() == key.value)
        else {
            continue;
        };
        let what = format!("variable `${}: {}`", def.name, def.ty);
        feeds(
            value,
            &def.ty,
            def.default_value.is_some(),
            &what,
            inputs,
            schema,
            errors,
        );
    }
}

fn feeds(
    value: &Tree,
    ty: &Type,
    has_default: bool,
    what: &str,
    inputs: &[InputRef],
    schema: Option<&Schema>,
    errors: &mut Diagnostics,
) {
    match &value.kind {
        TreeKind::Str(s) if s.starts_with('$') && !s.starts_with("$$") => {
            let name = &s[1..];
            let Some(input) = inputs.iter().find(|i| i.name == name) else {
                return;
            };
            if ty.is_non_null() && !has_default && !input.always_present {
                errors.push(
                    Diagnostic::error(
                        value.span,
                        format!(
                            "input `{name}` is optional but feeds {what}, which the operation requires: leaving it out fails at run time"
                        ),
                    )
                    .with_help(format!(
                        "make `{name}` required (`required: true`) or give it a `default:`; or make the variable nullable or give it a default in the query (`= ...`)"
                    )),
                );
            }
        }
        TreeKind::Map(entries) if !ty.is_list() => {
            let Some(ExtendedType::InputObject(object)) =
                schema.and_then(|s| s.types.get(ty.inner_named_type()))
            else {
                return;
            };
            for (key, v) in entries {
                if let Some(field) = object.fields.get(key.value.as_str()) {
                    let inner = format!(
                        "field `{}: {}` of `{}`",
                        field.name,
                        field.ty,
                        ty.inner_named_type()
                    );
                    feeds(
                        v,
                        &field.ty,
                        field.default_value.is_some(),
                        &inner,
                        inputs,
                        schema,
                        errors,
                    );
                }
            }
        }
        _ => {}
    }
}
