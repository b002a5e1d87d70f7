//! The XML Schema model: global elements, types, groups and attribute groups of every schema in
//! the description, by expanded name, as owned data. Local elements carry their namespace already
//! decided (`form` / `elementFormDefault`); includes without a target namespace take the
//! includer's (read by the caller, which passes the effective target namespace).

use std::collections::HashMap;

use super::dom::{Node, QName};
use super::ns::{self, XSD};

/// How many times an element may occur; `None` is unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Occurs {
    pub min: u32,
    pub max: Option<u32>,
}

impl Occurs {
    pub(crate) const ONCE: Occurs = Occurs {
        min: 1,
        max: Some(1),
    };

    pub(crate) fn repeats(&self) -> bool {
        self.max != Some(1) && self.max != Some(0)
    }

    fn of(node: &Node) -> Occurs {
        let min = node
            .attr("minOccurs")
            .and_then(|m| m.trim().parse().ok())
            .unwrap_or(1);
        let max = match node.attr("maxOccurs").map(str::trim) {
            Some("unbounded") => None,
            Some(m) => Some(m.parse().unwrap_or(1)),
            None => Some(1),
        };
        Occurs { min, max }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum TypeRef {
    Named(QName),
    Inline(Box<TypeDef>),
    /// No type given: `xs:anyType`.
    Any,
}

#[derive(Debug, Clone)]
pub(crate) struct ElementDecl {
    pub name: String,
    /// The element's namespace on the wire; empty when unqualified.
    pub ns: String,
    pub ty: TypeRef,
    pub occurs: Occurs,
    pub nillable: bool,
    /// `ref="tns:X"`: the global element stands here (its own name and type).
    pub reference: Option<QName>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Facets {
    pub enums: Vec<String>,
    pub pattern: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimpleDef {
    /// The type it restricts (or lists, or unites: read as text).
    pub base: Option<QName>,
    pub facets: Facets,
    pub list: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derivation {
    None,
    Extension,
    Restriction,
}

#[derive(Debug, Clone)]
pub(crate) struct ComplexDef {
    pub base: Option<QName>,
    pub derivation: Derivation,
    /// The base is a simple type: text content with attributes.
    pub simple_content: bool,
    pub particle: Option<Particle>,
    pub attributes: Vec<AttrDecl>,
    pub attribute_groups: Vec<QName>,
    /// `wsdl:arrayType="tns:Item[]"` on a `soapenc:Array` restriction: the item type.
    pub array_of: Option<QName>,
    pub facets: Facets,
}

#[derive(Debug, Clone)]
pub(crate) enum TypeDef {
    Simple(SimpleDef),
    Complex(ComplexDef),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupKind {
    Sequence,
    All,
    Choice,
}

#[derive(Debug, Clone)]
pub(crate) enum Particle {
    Element(ElementDecl),
    Any,
    Group(GroupKind, Occurs, Vec<Particle>),
    GroupRef(QName, Occurs),
}

#[derive(Debug, Clone)]
pub(crate) struct AttrDecl {
    pub name: String,
    pub ty: TypeRef,
    pub reference: Option<QName>,
}

/// Every schema of the description.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    pub elements: HashMap<QName, ElementDecl>,
    pub types: HashMap<QName, TypeDef>,
    pub groups: HashMap<QName, Particle>,
    pub attribute_groups: HashMap<QName, (Vec<AttrDecl>, Vec<QName>)>,
    pub attributes: HashMap<QName, AttrDecl>,
    /// Schema-level `elementFormDefault` by target namespace (the first one read wins).
    pub qualified: HashMap<String, bool>,
}

/// The settings of the `xs:schema` being read.
struct Ctx<'a> {
    tns: &'a str,
    qualified: bool,
}

impl Schemas {
    /// Adds the declarations of one `xs:schema` element; `tns` is its effective target namespace.
    pub(crate) fn add(&mut self, schema: &Node, tns: &str) {
        let qualified = schema.attr("elementFormDefault") == Some("qualified");
        self.qualified.entry(tns.to_string()).or_insert(qualified);
        let ctx = Ctx { tns, qualified };
        for c in schema.children.iter().filter(|c| c.ns == XSD) {
            let Some(name) = c.attr("name") else { continue };
            let qname = QName::new(tns, name);
            match c.local.as_str() {
                "element" => {
                    let mut decl = element(c, &ctx, true);
                    decl.occurs = Occurs::ONCE;
                    self.elements.entry(qname).or_insert(decl);
                }
                "complexType" => {
                    self.types
                        .entry(qname)
                        .or_insert_with(|| TypeDef::Complex(complex(c, &ctx)));
                }
                "simpleType" => {
                    self.types
                        .entry(qname)
                        .or_insert_with(|| TypeDef::Simple(simple(c)));
                }
                "group" => {
                    if let Some(p) = c.children.iter().find_map(|g| particle(g, &ctx)) {
                        self.groups.entry(qname).or_insert(p);
                    }
                }
                "attributeGroup" => {
                    let group = attributes(c, &ctx);
                    self.attribute_groups.entry(qname).or_insert(group);
                }
                "attribute" => {
                    self.attributes.entry(qname).or_insert(AttrDecl {
                        name: name.to_string(),
                        ty: type_ref(c, &ctx),
                        reference: None,
                    });
                }
                _ => {}
            }
        }
    }
}

fn element(node: &Node, ctx: &Ctx, global: bool) -> ElementDecl {
    let reference = node.attr("ref").and_then(|r| node.resolve(r));
    let name = match (&reference, node.attr("name")) {
        (_, Some(n)) => n.to_string(),
        (Some(r), None) => r.local.clone(),
        (None, None) => String::new(),
    };
    let qualified = match node.attr("form") {
        Some(f) => f == "qualified",
        None => global || ctx.qualified,
    };
    let ns = match &reference {
        Some(r) => r.ns.clone(),
        None if qualified => ctx.tns.to_string(),
        None => String::new(),
    };
    ElementDecl {
        name,
        ns,
        ty: type_ref(node, ctx),
        occurs: Occurs::of(node),
        nillable: node.attr("nillable").is_some_and(|n| n.trim() == "true"),
        reference,
    }
}

fn type_ref(node: &Node, ctx: &Ctx) -> TypeRef {
    if let Some(t) = node.attr("type").and_then(|t| node.resolve(t)) {
        return TypeRef::Named(t);
    }
    for c in node.children.iter().filter(|c| c.ns == XSD) {
        match c.local.as_str() {
            "complexType" => return TypeRef::Inline(Box::new(TypeDef::Complex(complex(c, ctx)))),
            "simpleType" => return TypeRef::Inline(Box::new(TypeDef::Simple(simple(c)))),
            _ => {}
        }
    }
    TypeRef::Any
}

fn particle(node: &Node, ctx: &Ctx) -> Option<Particle> {
    if node.ns != XSD {
        return None;
    }
    let occurs = Occurs::of(node);
    let kind = match node.local.as_str() {
        "element" => return Some(Particle::Element(element(node, ctx, false))),
        "any" => return Some(Particle::Any),
        "group" => {
            return node
                .attr("ref")
                .and_then(|r| node.resolve(r))
                .map(|r| Particle::GroupRef(r, occurs));
        }
        "sequence" => GroupKind::Sequence,
        "all" => GroupKind::All,
        "choice" => GroupKind::Choice,
        _ => return None,
    };
    let items = node
        .children
        .iter()
        .filter_map(|c| particle(c, ctx))
        .collect();
    Some(Particle::Group(kind, occurs, items))
}

/// The attributes and attribute group references directly under `node`.
fn attributes(node: &Node, ctx: &Ctx) -> (Vec<AttrDecl>, Vec<QName>) {
    let mut attrs = Vec::new();
    let mut groups = Vec::new();
    for c in node.children.iter().filter(|c| c.ns == XSD) {
        match c.local.as_str() {
            "attribute" if c.attr("use") != Some("prohibited") => {
                let reference = c.attr("ref").and_then(|r| c.resolve(r));
                let name = match (&reference, c.attr("name")) {
                    (_, Some(n)) => n.to_string(),
                    (Some(r), None) => r.local.clone(),
                    _ => continue,
                };
                attrs.push(AttrDecl {
                    name,
                    ty: type_ref(c, ctx),
                    reference,
                });
            }
            "attributeGroup" => groups.extend(c.attr("ref").and_then(|r| c.resolve(r))),
            _ => {}
        }
    }
    (attrs, groups)
}

fn complex(node: &Node, ctx: &Ctx) -> ComplexDef {
    let mut def = ComplexDef {
        base: None,
        derivation: Derivation::None,
        simple_content: false,
        particle: None,
        attributes: Vec::new(),
        attribute_groups: Vec::new(),
        array_of: None,
        facets: Facets::default(),
    };
    let content = node
        .children
        .iter()
        .find(|c| c.ns == XSD && matches!(c.local.as_str(), "complexContent" | "simpleContent"));
    let body = match content {
        Some(content) => {
            def.simple_content = content.local == "simpleContent";
            let derived = content
                .children
                .iter()
                .find(|c| c.ns == XSD && matches!(c.local.as_str(), "extension" | "restriction"));
            let Some(derived) = derived else { return def };
            def.derivation = if derived.local == "extension" {
                Derivation::Extension
            } else {
                Derivation::Restriction
            };
            def.base = derived.attr("base").and_then(|b| derived.resolve(b));
            def.facets = facets(derived);
            def.array_of = array_type(derived);
            derived
        }
        None => node,
    };
    def.particle = body.children.iter().find_map(|c| particle(c, ctx));
    let (attrs, groups) = attributes(body, ctx);
    def.attributes = attrs;
    def.attribute_groups = groups;
    def
}

/// `<attribute ref="soapenc:arrayType" wsdl:arrayType="tns:Item[]"/>` -> `tns:Item`.
fn array_type(derived: &Node) -> Option<QName> {
    derived
        .children_named(XSD, "attribute")
        .find_map(|a| a.attr_ns(ns::WSDL, "arrayType").map(|v| (a, v)))
        .and_then(|(a, v)| {
            let item = v.trim().split('[').next().unwrap_or("");
            a.resolve(item)
        })
}

fn simple(node: &Node) -> SimpleDef {
    for c in node.children.iter().filter(|c| c.ns == XSD) {
        match c.local.as_str() {
            "restriction" => {
                let base = c.attr("base").and_then(|b| c.resolve(b)).or_else(|| {
                    // An inline base type: read its base.
                    c.child(XSD, "simpleType").and_then(|s| simple(s).base)
                });
                return SimpleDef {
                    base,
                    facets: facets(c),
                    list: false,
                };
            }
            "list" => {
                return SimpleDef {
                    base: c.attr("itemType").and_then(|t| c.resolve(t)),
                    facets: Facets::default(),
                    list: true,
                };
            }
            _ => {}
        }
    }
    // A union, or nothing readable: text.
    SimpleDef {
        base: Some(QName::new(XSD, "string")),
        facets: Facets::default(),
        list: false,
    }
}

fn facets(restriction: &Node) -> Facets {
    let mut f = Facets::default();
    let mut patterns = Vec::new();
    for c in restriction.children.iter().filter(|c| c.ns == XSD) {
        let Some(v) = c.attr("value") else { continue };
        let number = || v.trim().parse::<f64>().ok();
        let size = || v.trim().parse::<usize>().ok();
        match c.local.as_str() {
            "enumeration" => f.enums.push(v.to_string()),
            "pattern" => patterns.push(v.to_string()),
            "length" => {
                f.min_length = size();
                f.max_length = size();
            }
            "minLength" => f.min_length = size(),
            "maxLength" => f.max_length = size(),
            "minInclusive" => f.min = number(),
            "maxInclusive" => f.max = number(),
            _ => {}
        }
    }
    // Several patterns in one restriction: any of them (XSD's rule).
    f.pattern = match patterns.len() {
        0 => None,
        1 => patterns.pop(),
        _ => Some(
            patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|"),
        ),
    };
    f
}
