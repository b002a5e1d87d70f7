//! The namespaces a description is read by (bindings are told apart by namespace URI, never by
//! prefix), and the W3C/OASIS schemas ponte ships because real WSDLs import them by URL.

pub(crate) const WSDL: &str = "http://schemas.xmlsoap.org/wsdl/";
pub(crate) const XSD: &str = "http://www.w3.org/2001/XMLSchema";
pub(crate) const SOAP11_BINDING: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
pub(crate) const SOAP12_BINDING: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
pub(crate) const HTTP_BINDING: &str = "http://schemas.xmlsoap.org/wsdl/http/";
pub(crate) const SOAP_ENCODING: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// Namespaces that need no file: XML Schema and WSDL themselves.
pub(crate) fn is_builtin(ns: &str) -> bool {
    matches!(
        ns,
        XSD | WSDL
            | "http://www.w3.org/XML/1998/namespace"
            | "http://www.w3.org/2001/XMLSchema-instance"
    )
}

/// The bundled schemas, by target namespace: minimal, faithful versions of the parts WSDLs use.
const BUNDLED: &[(&str, &str)] = &[
    (SOAP_ENCODING, include_str!("bundled/soap-encoding.xsd")),
    (
        "http://schemas.xmlsoap.org/soap/envelope/",
        include_str!("bundled/soap11-envelope.xsd"),
    ),
    (
        "http://www.w3.org/2003/05/soap-envelope",
        include_str!("bundled/soap12-envelope.xsd"),
    ),
    (
        "http://www.w3.org/2005/05/xmlmime",
        include_str!("bundled/xmlmime.xsd"),
    ),
    (
        "http://www.w3.org/2004/08/xop/include",
        include_str!("bundled/xop.xsd"),
    ),
    (
        "http://www.w3.org/2005/08/addressing",
        include_str!("bundled/ws-addressing.xsd"),
    ),
];

/// The namespace as bundled, when ponte ships a schema for it.
pub(crate) fn bundled_namespace(ns: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == ns).map(|(n, _)| *n)
}

pub(crate) fn bundled(ns: &str) -> Option<&'static str> {
    BUNDLED
        .iter()
        .find(|(n, _)| *n == ns)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_bundled_schema_parses_and_declares_its_namespace() {
        for (ns, text) in super::BUNDLED {
            let doc = super::super::dom::parse(text).unwrap();
            assert_eq!(doc.root.attr("targetNamespace"), Some(*ns));
        }
    }
}
