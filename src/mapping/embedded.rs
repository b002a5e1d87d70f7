//! `{ from: Result.Xml, parse: xml, fields: { ... } }`: a reply field that carries a whole XML
//! document as text (services that answer `<result>&lt;?xml ...&gt;</result>`), read like a reply
//! with the same limits (no DOCTYPE, bounded depth; its size is bounded by the reply's) and mapped
//! from its root element.

use crate::config::model::ValueType;
use crate::config::{Tree, TreeKind};
use crate::diagnostic::Diagnostic;
use crate::xml::reader::{ArrayHints, Limits, read_document};

use super::node::Node;
use super::path::{Path, Selected};
use super::response::{Compiler, Mapping};

impl Compiler<'_> {
    /// Compiles `parse: xml`: the fields read the embedded
    /// document from its root element, as a reply's fields do.
    pub(super) fn embedded(
        &mut self,
        tree: &Tree,
        parse: &Tree,
        ty: Option<ValueType>,
    ) -> Option<Mapping> {
        if parse.as_str() != Some("xml") {
            self.errors.push(
                Diagnostic::error(parse.span, "`parse` takes `xml`")
                    .with_help("write `parse: xml` for a field that holds an XML document as text"),
            );
            return None;
        }
        let Some(from) = tree.get("from") else {
            self.errors.push(
                Diagnostic::error(
                    tree.span,
                    "`parse: xml` needs `from`: the field holding the XML",
                )
                .with_help("e.g. { from: Result.Xml, parse: xml, fields: { id: doc.id } }"),
            );
            return None;
        };
        for key in ["each", "concat", "expr", "const", "default"] {
            if let Some(t) = tree.get(key) {
                self.errors.push(Diagnostic::error(
                    t.span,
                    format!("`{key}` cannot be used with `parse: xml`"),
                ));
                return None;
            }
        }
        if let Some(t) = ty.and(tree.get("type")) {
            self.errors.push(
                Diagnostic::error(t.span, "`type` cannot be used with `parse: xml`")
                    .with_help("give each of `fields` its own type"),
            );
            return None;
        }
        let text = self.string(from, "from")?;
        let path = self.path(text, from.span)?;
        let mut inner = Compiler {
            errors: self.errors,
            paths: Vec::new(),
            reads_everything: false,
        };
        let mapping = match tree.get("fields") {
            None => {
                inner.reads_everything = true;
                None
            }
            Some(fields) => match &fields.kind {
                TreeKind::Map(entries) => Some(Box::new(Mapping::Object(inner.fields(entries)?))),
                _ => {
                    inner.errors.push(Diagnostic::error(
                        fields.span,
                        "`fields` must be a mapping of output fields",
                    ));
                    return None;
                }
            },
        };
        let hints = ArrayHints::from_paths(&inner.paths).pruning(!inner.reads_everything);
        Some(Mapping::EmbeddedXml {
            path,
            hints,
            inner: mapping,
        })
    }
}

/// Writes the mapped embedded document (or the whole of it as JSON); null when the field is
/// missing or empty.
pub(super) fn write<'a, N: Node<'a>>(
    path: &Path,
    hints: &ArrayHints,
    inner: Option<&Mapping>,
    v: N,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let text = match path.select(v) {
        Some(Selected::One(found)) if !found.is_null() => found.as_str(),
        _ => None,
    };
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    let doc = read_document(text, hints, Limits::default())
        .map_err(|e| format!("the embedded XML: {e}"))?;
    match inner {
        Some(mapping) => {
            let json = mapping
                .answer(doc.body())
                .map_err(|e| format!("the embedded XML, field `{}`: {}", e.field, e.message))?;
            out.extend_from_slice(&json);
        }
        None => doc.body().write_json(out),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::{Value, json};

    use super::*;
    use crate::config::{de, yaml};
    use crate::soap::{SoapReply, read_soap};

    fn compile(text: &str) -> Result<(Mapping, ArrayHints), Vec<Diagnostic>> {
        let y = yaml::parse(text).expect("YAML");
        let notes = RefCell::new(vec![]);
        let tree: Tree = de::from_yaml(&y, &notes).expect("tree");
        let mut errors = crate::diagnostic::Diagnostics::default();
        let mut c = Compiler {
            errors: &mut errors,
            paths: vec![],
            reads_everything: false,
        };
        let m = c.response(&tree);
        let hints = ArrayHints::from_paths(&c.paths).pruning(!c.reads_everything);
        match m {
            Some(m) if errors.is_empty() => Ok((m, hints)),
            _ => Err(errors.into_vec()),
        }
    }

    const MAPPING: &str = "order: { from: R.Xml, parse: xml, fields: { id: { from: doc.id, type: integer }, items: 'doc.items.item[*]', city: doc.city } }\n";

    /// The answer for a SOAP Body (the reply bytes as a service sends them).
    fn answer_soap(mapping: &str, body: &str) -> Result<Value, String> {
        let (m, hints) = compile(mapping).map_err(|e| format!("{e:?}"))?;
        let xml = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>"#
        );
        let Ok(SoapReply::Body(doc)) = read_soap(&xml, &hints, Limits::default()) else {
            return Err("not a body".into());
        };
        let json = m.answer(doc.body()).map_err(|e| e.message)?;
        Ok(serde_json::from_slice(&json).expect("JSON"))
    }

    #[test]
    fn xml_carried_escaped_in_a_soap_field_is_mapped_by_path() {
        let body = "<R><Xml>&lt;?xml version=\"1.0\" encoding=\"ISO-8859-1\"?&gt;&lt;doc&gt;&lt;id&gt;7&lt;/id&gt;&lt;items&gt;&lt;item&gt;a&lt;/item&gt;&lt;/items&gt;&lt;city&gt;São Paulo&lt;/city&gt;&lt;/doc&gt;</Xml><Other>x</Other></R>";
        assert_eq!(
            answer_soap(MAPPING, body).unwrap(),
            json!({"order": {"id": 7, "items": ["a"], "city": "São Paulo"}})
        );
    }

    #[test]
    fn xml_carried_in_cdata_is_mapped_too() {
        let body = "<R><Xml><![CDATA[<doc><id>8</id><items><item>a</item><item>b</item></items></doc>]]></Xml></R>";
        assert_eq!(
            answer_soap(MAPPING, body).unwrap(),
            json!({"order": {"id": 8, "items": ["a", "b"], "city": null}})
        );
    }

    #[test]
    fn xml_in_a_json_string_is_mapped_and_without_fields_is_whole() {
        let (m, _) = compile("doc: { from: data.xml, parse: xml }\n").unwrap();
        let reply = json!({"data": {"xml": "<doc a=\"1\"><id>9</id></doc>"}});
        let json = m.answer(&reply).unwrap();
        let got: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(got, json!({"doc": {"doc": {"@a": "1", "id": "9"}}}));
    }

    #[test]
    fn a_missing_or_empty_embedded_field_is_null() {
        assert_eq!(
            answer_soap(MAPPING, "<R><Xml/></R>").unwrap(),
            json!({"order": null})
        );
        assert_eq!(
            answer_soap(MAPPING, "<R/>").unwrap(),
            json!({"order": null})
        );
    }

    #[test]
    fn hostile_embedded_xml_is_refused_like_a_reply() {
        let doctype = "<R><Xml>&lt;!DOCTYPE d [&lt;!ENTITY e \"boom\"&gt;]&gt;&lt;doc&gt;&amp;e;&lt;/doc&gt;</Xml></R>";
        let err = answer_soap(MAPPING, doctype).unwrap_err();
        assert!(err.contains("DOCTYPE"), "{err}");
        let deep = format!(
            "<R><Xml>&lt;doc&gt;&lt;id&gt;{}{}&lt;/id&gt;&lt;/doc&gt;</Xml></R>",
            "&lt;a&gt;".repeat(100),
            "&lt;/a&gt;".repeat(100)
        );
        let err = answer_soap(MAPPING, &deep).unwrap_err();
        assert!(err.contains("deeper than 64"), "{err}");
        let broken = "<R><Xml>&lt;doc&gt;&lt;id&gt;</Xml></R>";
        let err = answer_soap(MAPPING, broken).unwrap_err();
        assert!(
            err.starts_with("the embedded XML: the reply is not well-formed"),
            "{err}"
        );
    }

    #[test]
    fn parse_takes_xml_and_needs_from_and_no_type() {
        let errors = compile("a: { from: X, parse: json }\nb: { parse: xml }\nc: { from: X, parse: xml, type: integer }\n")
            .err()
            .expect("errors");
        let got: Vec<(u32, &str)> = errors
            .iter()
            .map(|d| (d.span.start.line, d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "`parse` takes `xml`"),
                (2, "`parse: xml` needs `from`: the field holding the XML"),
                (3, "`type` cannot be used with `parse: xml`"),
            ]
        );
    }
}
