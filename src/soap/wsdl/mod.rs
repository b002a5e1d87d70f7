//! WSDL 1.1 and XML Schema: loading a service description with everything it imports (`load`,
//! `dom`, `ns`), its schema model (`xsd`) and WSDL model (`definitions`), the element trees the
//! schema allows (`expand`, `shape`), and `ponte import wsdl` built on them (`import`).

pub(crate) mod definitions;
pub(crate) mod dom;
pub(crate) mod expand;
pub(crate) mod import;
pub(crate) mod load;
pub(crate) mod ns;
pub(crate) mod shape;
pub(crate) mod xsd;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use definitions::{Binding, BindingKind, Definitions, Operation};
use dom::QName;
use expand::{Expander, Field};
use load::{Location, SourceFile};
use shape::Shape;
use xsd::Schemas;

use crate::diagnostic::Diagnostic;

/// How deep reply shapes go before they are cut (`open`).
const SHAPE_DEPTH: usize = 12;

/// A loaded service description.
#[derive(Debug)]
pub(crate) struct Wsdl {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) defs: Definitions,
    pub(crate) schemas: Schemas,
    /// Namespaces whose schemas could not be found (`--allow-missing-imports`).
    pub(crate) opaque: BTreeSet<String>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Wsdl {
    /// Loads an adapter's `wsdl:` copy and the files it imports. No network: a remote import
    /// that ponte does not bundle leaves its namespace opaque (the import warned about it); a
    /// missing local file is an error.
    pub(crate) fn load(path: &Path) -> Result<Wsdl, Vec<Diagnostic>> {
        Wsdl::load_from(
            Location::File(path.to_path_buf()),
            &load::Reader {
                allow_missing: false,
                remote_opaque: true,
                fetch: None,
            },
        )
    }

    pub(crate) fn load_from(
        start: Location,
        reader: &load::Reader,
    ) -> Result<Wsdl, Vec<Diagnostic>> {
        let loaded = load::load(start, reader)?;
        let mut errors = Vec::new();
        let first = &loaded.files[0].doc.root;
        if !first.is(ns::WSDL, "definitions") {
            return Err(vec![loaded.files[0].diagnostic(
                first,
                format!(
                    "this is not a WSDL 1.1 description: the root element is `{}` in `{}` (expected `definitions` in {})",
                    first.local, first.ns, ns::WSDL
                ),
            )]);
        }
        let defs = Definitions::read(&loaded.files, &mut errors);
        let schemas = read_schemas(&loaded.files);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Wsdl {
            files: loaded.files,
            defs,
            schemas,
            opaque: loaded.opaque,
            warnings: loaded.warnings,
        })
    }

    /// What the reply's SOAP Body may contain for `operation` (a prefix is ignored): for a
    /// document operation its part elements, for an rpc one the `<operation>Response` wrapper
    /// with the parts inside. `None` when no SOAP binding has the operation.
    #[allow(
        dead_code,
        reason = "the API the SOAP runtime reads reply schemas with (backend.soap.wsdl)"
    )]
    pub(crate) fn reply_shape(&self, operation: &str) -> Option<Shape> {
        let local = operation.rsplit(':').next().unwrap_or(operation);
        let binding = self.soap_binding_with(local)?;
        let body = self.body_fields(binding, local, Direction::Output, SHAPE_DEPTH)?;
        let mut shape = Shape::default();
        for f in &body {
            shape.children.push((f.name.clone(), f.shape_node()));
        }
        Some(shape)
    }

    /// The SOAP binding that has `operation`: SOAP 1.1 before 1.2, then file order.
    pub(crate) fn soap_binding_with(&self, operation: &str) -> Option<&Binding> {
        let mut bindings: Vec<&Binding> = self
            .defs
            .bindings
            .iter()
            .filter(|b| b.kind.is_soap() && b.operations.iter().any(|o| o.name == operation))
            .collect();
        bindings.sort_by_key(|b| b.kind != BindingKind::Soap11);
        bindings.first().copied()
    }

    pub(crate) fn operation(&self, binding: &Binding, name: &str) -> Option<&Operation> {
        self.defs.operation(binding, name)
    }

    /// The elements the Body holds in one direction: the part elements (document) or one
    /// wrapper named after the operation holding the parts (rpc).
    pub(crate) fn body_fields(
        &self,
        binding: &Binding,
        operation: &str,
        direction: Direction,
        depth: usize,
    ) -> Option<Vec<Field>> {
        let mut expander = Expander::new(&self.schemas, &self.opaque, depth);
        self.body_fields_with(&mut expander, binding, operation, direction)
    }

    pub(crate) fn body_fields_with(
        &self,
        expander: &mut Expander,
        binding: &Binding,
        operation: &str,
        direction: Direction,
    ) -> Option<Vec<Field>> {
        let bop = binding.operations.iter().find(|o| o.name == operation)?;
        let op = self.operation(binding, operation)?;
        let (message, body) = match direction {
            Direction::Input => (op.input.as_ref(), &bop.input),
            Direction::Output => (op.output.as_ref(), &bop.output),
        };
        let parts = message
            .and_then(|m| self.defs.messages.get(m))
            .map(|m| m.parts.clone())
            .unwrap_or_default();
        let header_parts: Vec<&str> = bop
            .headers
            .iter()
            .filter(|h| Some(&h.message) == message)
            .map(|h| h.part.as_str())
            .collect();
        let fields: Vec<Field> = parts
            .iter()
            .filter(|p| match &body.parts {
                Some(listed) => listed.contains(&p.name),
                None => !header_parts.contains(&p.name.as_str()),
            })
            .map(|p| match (&p.element, &p.ty) {
                (Some(e), _) => expander.global(e),
                (None, Some(t)) => expander.typed(&p.name, t),
                (None, None) => expander.typed(&p.name, &QName::new(ns::XSD, "string")),
            })
            .collect();
        if !bop.rpc {
            return Some(fields);
        }
        let suffix = match direction {
            Direction::Input => "",
            Direction::Output => "Response",
        };
        let namespace = body.namespace.clone().unwrap_or_default();
        let mut wrapper = expand::Field {
            children: fields,
            ..expander.typed(
                &format!("{operation}{suffix}"),
                &QName::new(ns::XSD, "anyType"),
            )
        };
        wrapper.open = false;
        wrapper.ns = namespace;
        Some(vec![wrapper])
    }

    /// The header part elements of an operation's input.
    pub(crate) fn header_fields(&self, binding: &Binding, operation: &str) -> Vec<Field> {
        let Some(bop) = binding.operations.iter().find(|o| o.name == operation) else {
            return Vec::new();
        };
        let mut expander = Expander::new(&self.schemas, &self.opaque, 4);
        bop.headers
            .iter()
            .filter_map(|h| {
                let part = self
                    .defs
                    .messages
                    .get(&h.message)?
                    .parts
                    .iter()
                    .find(|p| p.name == h.part)?;
                Some(match (&part.element, &part.ty) {
                    (Some(e), _) => expander.global(e),
                    (None, Some(t)) => expander.typed(&part.name, t),
                    _ => return None,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Input,
    Output,
}

/// Every `xs:schema` of every file, an included schema without a target namespace taking its
/// includer's.
fn read_schemas(files: &[SourceFile]) -> Schemas {
    let mut schemas = Schemas::default();
    let mut chameleon: HashMap<&Location, String> = HashMap::new();
    let mut found: Vec<(&dom::Node, usize)> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let root = &file.doc.root;
        if root.is(ns::XSD, "schema") {
            found.push((root, i));
        } else if root.is(ns::WSDL, "definitions") {
            for types in root.children_named(ns::WSDL, "types") {
                found.extend(types.children_named(ns::XSD, "schema").map(|s| (s, i)));
            }
        }
    }
    let mut includes = Vec::new();
    for (schema, i) in &found {
        let tns = schema.attr("targetNamespace").unwrap_or("");
        for inc in schema.children_named(ns::XSD, "include") {
            if let Some(target) = inc
                .attr("schemaLocation")
                .and_then(|l| files[*i].location.join(l))
            {
                includes.push((target, tns.to_string()));
            }
        }
    }
    for (target, tns) in &includes {
        chameleon.entry(target).or_insert_with(|| tns.clone());
    }
    for (schema, i) in found {
        let tns = match schema.attr("targetNamespace") {
            Some(t) => t.to_string(),
            None => chameleon
                .get(&files[i].location)
                .cloned()
                .unwrap_or_default(),
        };
        schemas.add(schema, &tns);
    }
    schemas
}

#[cfg(test)]
mod tests;
