//! What a reply element may contain according to the schema: the API the SOAP runtime reads
//! (arrays from `maxOccurs`, JSON types from XSD types, nils) without knowing XML Schema.

/// What a reply element may contain, from the schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Shape {
    /// Child elements by local name, in schema order.
    pub children: Vec<(String, ShapeNode)>,
    /// `xs:any` (or a recursion cut, or an opaque type): other children may appear.
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShapeNode {
    /// `maxOccurs` above 1 (here or on an enclosing group): always a JSON array.
    pub repeats: bool,
    pub nillable: bool,
    /// The element's text, when it has a simple type or simple content.
    pub value: Option<ValueKind>,
    /// Attributes by local name.
    pub attributes: Vec<(String, ValueKind)>,
    pub children: Shape,
}

/// The JSON a value becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    String,
    /// `xs:integer` and its kin (may exceed 64 bits: keep the digits).
    Integer,
    /// `xs:decimal`, `xs:double`, `xs:float`.
    Number,
    Boolean,
    Date,
    DateTime,
}

impl ValueKind {
    /// The ValueKind of a built-in XML Schema type (by local name).
    pub(crate) fn of_builtin(local: &str) -> ValueKind {
        match local {
            "int" | "integer" | "long" | "short" | "byte" | "nonNegativeInteger"
            | "positiveInteger" | "nonPositiveInteger" | "negativeInteger" | "unsignedLong"
            | "unsignedInt" | "unsignedShort" | "unsignedByte" => ValueKind::Integer,
            "decimal" | "double" | "float" => ValueKind::Number,
            "boolean" => ValueKind::Boolean,
            "date" => ValueKind::Date,
            "dateTime" => ValueKind::DateTime,
            _ => ValueKind::String,
        }
    }

    /// The adapter's `type:` word.
    pub(crate) fn type_word(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::Integer => "integer",
            ValueKind::Number => "number",
            ValueKind::Boolean => "boolean",
            ValueKind::Date => "date",
            ValueKind::DateTime => "datetime",
        }
    }
}

impl Shape {
    #[allow(dead_code, reason = "for the SOAP runtime's reply reading")]
    pub(crate) fn child(&self, local: &str) -> Option<&ShapeNode> {
        self.children
            .iter()
            .find(|(n, _)| n == local)
            .map(|(_, s)| s)
    }
}
