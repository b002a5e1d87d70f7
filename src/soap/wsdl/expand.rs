//! Expands schema declarations into trees of the elements that may occur (`Field`), with what
//! each may hold: how often, whether nil, its value type and facets, attributes, children. The
//! importer and `Shape` are built from these. Recursive types are cut where a type recurs on the
//! path (the element is then `open`), and an expansion has a depth and a size budget, so that
//! large descriptions stay bounded.

use std::collections::BTreeSet;

use super::dom::QName;
use super::ns::{SOAP_ENCODING, XSD};
use super::shape::{Shape, ShapeNode, ValueKind};
use super::xsd::{
    ComplexDef, Derivation, ElementDecl, Facets, GroupKind, Particle, Schemas, TypeDef, TypeRef,
};

/// How many times a type may enclose itself before the expansion stops (`open`): a category
/// shows its children, not its grandchildren's children.
const RECURSION: usize = 2;

/// A value type with its constraints.
#[derive(Debug, Clone)]
pub(crate) struct Simple {
    pub kind: ValueKind,
    /// The built-in XML Schema type it comes down to (`int`).
    pub builtin: String,
    pub facets: Facets,
}

/// One element that may occur, with everything under it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    /// Namespace on the wire; empty when unqualified.
    pub ns: String,
    /// Required: `minOccurs` of 1 or more, and not in a choice.
    pub required: bool,
    pub repeats: bool,
    pub nillable: bool,
    pub simple: Option<Simple>,
    pub attributes: Vec<(String, Simple)>,
    pub children: Vec<Field>,
    /// Other content may appear: `xs:any`, a cut recursion, an opaque or unknown type.
    pub open: bool,
    /// The named type, for comments.
    pub type_name: Option<QName>,
}

impl Field {
    fn new(name: &str, ns: &str) -> Field {
        Field {
            name: name.to_string(),
            ns: ns.to_string(),
            required: true,
            repeats: false,
            nillable: false,
            simple: None,
            attributes: Vec::new(),
            children: Vec::new(),
            open: false,
            type_name: None,
        }
    }

    pub(crate) fn shape(&self) -> Shape {
        Shape {
            children: self
                .children
                .iter()
                .map(|c| (c.name.clone(), c.shape_node()))
                .collect(),
            open: self.open,
        }
    }

    pub(crate) fn shape_node(&self) -> ShapeNode {
        ShapeNode {
            repeats: self.repeats,
            nillable: self.nillable,
            value: self.simple.as_ref().map(|s| s.kind),
            attributes: self
                .attributes
                .iter()
                .map(|(n, s)| (n.clone(), s.kind))
                .collect(),
            children: self.shape(),
        }
    }
}

pub(crate) struct Expander<'a> {
    schemas: &'a Schemas,
    opaque: &'a BTreeSet<String>,
    stack: Vec<QName>,
    budget: usize,
    max_depth: usize,
    /// Type and element names that no schema declares.
    pub unknown: BTreeSet<QName>,
}

impl<'a> Expander<'a> {
    pub(crate) fn new(
        schemas: &'a Schemas,
        opaque: &'a BTreeSet<String>,
        max_depth: usize,
    ) -> Self {
        Expander {
            schemas,
            opaque,
            stack: Vec::new(),
            budget: 20_000,
            max_depth,
            unknown: BTreeSet::new(),
        }
    }

    /// A global element.
    pub(crate) fn global(&mut self, name: &QName) -> Field {
        match self.schemas.elements.get(name) {
            Some(decl) => self.element(decl, 0),
            None => self.missing(Field::new(&name.local, &name.ns), name),
        }
    }

    /// An element of a named type (an rpc part).
    pub(crate) fn typed(&mut self, name: &str, ty: &QName) -> Field {
        let mut field = Field::new(name, "");
        self.fill_named(&mut field, ty, 0);
        field
    }

    fn missing(&mut self, mut field: Field, name: &QName) -> Field {
        if !self.opaque.contains(&name.ns) {
            self.unknown.insert(name.clone());
        }
        field.open = true;
        field
    }

    fn element(&mut self, decl: &ElementDecl, depth: usize) -> Field {
        let mut field = Field::new(&decl.name, &decl.ns);
        field.required = decl.occurs.min > 0;
        field.repeats = decl.occurs.repeats();
        field.nillable = decl.nillable;
        let mut ty = &decl.ty;
        if let Some(r) = &decl.reference {
            match self.schemas.elements.get(r) {
                Some(global) => {
                    field.nillable |= global.nillable;
                    ty = &global.ty;
                }
                None => return self.missing(field, r),
            }
        }
        if self.budget == 0 || depth > self.max_depth {
            field.open = true;
            return field;
        }
        self.budget -= 1;
        match ty {
            TypeRef::Named(q) => {
                let q = q.clone();
                self.fill_named(&mut field, &q, depth);
            }
            TypeRef::Inline(def) => self.fill_def(&mut field, def, depth),
            TypeRef::Any => field.open = true,
        }
        field
    }

    fn fill_named(&mut self, field: &mut Field, ty: &QName, depth: usize) {
        field.type_name = Some(ty.clone());
        if ty.ns == XSD {
            if ty.local == "anyType" {
                field.open = true;
            } else {
                field.simple = Some(builtin(&ty.local));
            }
            return;
        }
        if ty.ns == SOAP_ENCODING && ty.local == "Array" {
            field.open = true;
            return;
        }
        let schemas = self.schemas;
        let Some(def) = schemas.types.get(ty) else {
            let name = field.name.clone();
            *field = self.missing(std::mem::replace(field, Field::new(&name, "")), ty);
            return;
        };
        if self.stack.iter().filter(|t| *t == ty).count() >= RECURSION {
            // Recursion: stop here; what follows is open.
            field.open = true;
            return;
        }
        self.stack.push(ty.clone());
        self.fill_def(field, def, depth);
        self.stack.pop();
    }

    fn fill_def(&mut self, field: &mut Field, def: &TypeDef, depth: usize) {
        match def {
            TypeDef::Simple(_) => field.simple = Some(self.simple(def)),
            TypeDef::Complex(c) => self.fill_complex(field, c, depth),
        }
    }

    fn fill_complex(&mut self, field: &mut Field, def: &ComplexDef, depth: usize) {
        let schemas = self.schemas;
        if let Some(item) = &def.array_of {
            // A SOAP-encoded array: its items may have any name; "item" is the common one.
            let mut child = Field::new("item", "");
            child.required = false;
            child.repeats = true;
            self.fill_named(&mut child, item, depth + 1);
            field.children.push(child);
            field.open = true;
            return;
        }
        if let Some(base) = &def.base {
            let base_def = schemas.types.get(base);
            if def.simple_content {
                let mut simple = match base_def {
                    Some(d @ TypeDef::Simple(_)) => self.simple(d),
                    Some(TypeDef::Complex(c)) if c.simple_content => {
                        let mut tmp = Field::new("", "");
                        self.fill_complex(&mut tmp, c, depth);
                        field.attributes.extend(tmp.attributes);
                        tmp.simple.unwrap_or_else(|| builtin("string"))
                    }
                    _ if base.ns == XSD => builtin(&base.local),
                    _ => builtin("string"),
                };
                merge_facets(&mut simple.facets, &def.facets);
                field.simple = Some(simple);
            } else if def.derivation == Derivation::Extension
                || (def.derivation == Derivation::Restriction && def.particle.is_none())
            {
                match base_def {
                    Some(TypeDef::Complex(c)) if !self.stack.contains(base) => {
                        self.stack.push(base.clone());
                        self.fill_complex(field, c, depth);
                        self.stack.pop();
                    }
                    Some(_) => {}
                    None if base.ns == XSD => field.open |= base.local == "anyType",
                    None if base.ns == SOAP_ENCODING => field.open = true,
                    None => {
                        let name = field.name.clone();
                        let f = self.missing(Field::new(&name, ""), base);
                        field.open |= f.open;
                    }
                }
            }
        }
        if let Some(p) = &def.particle {
            self.particle(field, p, true, false, depth);
        }
        self.attributes(field, &def.attributes, &def.attribute_groups, 0);
    }

    fn attributes(
        &mut self,
        field: &mut Field,
        attrs: &[super::xsd::AttrDecl],
        groups: &[QName],
        nesting: usize,
    ) {
        let schemas = self.schemas;
        for a in attrs {
            let ty = match &a.reference {
                Some(r) => schemas.attributes.get(r).map(|g| &g.ty),
                None => Some(&a.ty),
            };
            let simple = match ty {
                Some(TypeRef::Named(q)) if q.ns == XSD => builtin(&q.local),
                Some(TypeRef::Named(q)) => match schemas.types.get(q) {
                    Some(d @ TypeDef::Simple(_)) => self.simple(d),
                    _ => builtin("string"),
                },
                Some(TypeRef::Inline(d)) => self.simple(d),
                _ => builtin("string"),
            };
            if !field.attributes.iter().any(|(n, _)| *n == a.name) {
                field.attributes.push((a.name.clone(), simple));
            }
        }
        if nesting > 8 {
            return;
        }
        for g in groups {
            if let Some((attrs, more)) = schemas.attribute_groups.get(g) {
                self.attributes(field, attrs, more, nesting + 1);
            }
        }
    }

    /// Adds the elements of a particle to `field`. `required`/`repeats` carry what enclosing
    /// groups say (a choice makes its branches optional; a repeating group repeats them).
    fn particle(
        &mut self,
        field: &mut Field,
        p: &Particle,
        required: bool,
        repeats: bool,
        depth: usize,
    ) {
        let schemas = self.schemas;
        match p {
            Particle::Element(decl) => {
                let mut child = self.element(decl, depth + 1);
                child.required &= required;
                child.repeats |= repeats;
                match field.children.iter_mut().find(|c| c.name == child.name) {
                    // The same name twice in a content model: it repeats.
                    Some(existing) => existing.repeats = true,
                    None => field.children.push(child),
                }
            }
            Particle::Any => field.open = true,
            Particle::Group(kind, occurs, items) => {
                let required = required && occurs.min > 0;
                let repeats = repeats || occurs.repeats();
                let branch_required = required && *kind != GroupKind::Choice;
                for item in items {
                    self.particle(field, item, branch_required, repeats, depth);
                }
            }
            Particle::GroupRef(name, occurs) => {
                let Some(group) = schemas.groups.get(name) else {
                    field.open = true;
                    self.unknown.insert(name.clone());
                    return;
                };
                if self.stack.contains(name) {
                    field.open = true;
                    return;
                }
                self.stack.push(name.clone());
                let wrapper = Particle::Group(GroupKind::Sequence, *occurs, vec![group.clone()]);
                self.particle(field, &wrapper, required, repeats, depth);
                self.stack.pop();
            }
        }
    }

    /// A simple type down to its built-in type, facets of the most derived type first.
    fn simple(&self, def: &TypeDef) -> Simple {
        let mut facets = Facets::default();
        let mut current = def;
        for _ in 0..32 {
            let TypeDef::Simple(s) = current else { break };
            merge_facets(&mut facets, &s.facets);
            let Some(base) = &s.base else { break };
            if s.list {
                break;
            }
            if base.ns == XSD {
                let mut b = builtin(&base.local);
                b.facets = facets;
                return b;
            }
            match self.schemas.types.get(base) {
                Some(next) => current = next,
                None => break,
            }
        }
        let mut b = builtin("string");
        b.facets = facets;
        b
    }
}

/// Facets of a base type apply where the derived type says nothing.
fn merge_facets(into: &mut Facets, from: &Facets) {
    if into.enums.is_empty() {
        into.enums = from.enums.clone();
    }
    into.pattern = into.pattern.take().or_else(|| from.pattern.clone());
    into.min_length = into.min_length.or(from.min_length);
    into.max_length = into.max_length.or(from.max_length);
    into.min = into.min.or(from.min);
    into.max = into.max.or(from.max);
}

fn builtin(local: &str) -> Simple {
    let kind = ValueKind::of_builtin(local);
    let mut facets = Facets::default();
    // The ranges of the fixed-size integers, as a person would write them as input bounds.
    let range = match local {
        "int" => Some((i32::MIN as f64, i32::MAX as f64)),
        "short" => Some((i16::MIN as f64, i16::MAX as f64)),
        "byte" => Some((i8::MIN as f64, i8::MAX as f64)),
        "unsignedInt" => Some((0.0, u32::MAX as f64)),
        "unsignedShort" => Some((0.0, u16::MAX as f64)),
        "unsignedByte" => Some((0.0, u8::MAX as f64)),
        "nonNegativeInteger" | "unsignedLong" => Some((0.0, f64::NAN)),
        "positiveInteger" => Some((1.0, f64::NAN)),
        _ => None,
    };
    if let Some((min, max)) = range {
        facets.min = Some(min);
        facets.max = (!max.is_nan()).then_some(max);
    }
    Simple {
        kind,
        builtin: local.to_string(),
        facets,
    }
}
