//! SOAP 1.1 / 1.2 requests: the envelope of each route compiled once into a template with slots
//! for the inputs, its SOAPAction and Content-Type, and the body as JSON for recorded fixtures.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue};
use indexmap::IndexMap;
use serde_json::Value;

use super::model::{ElementForm, SoapBackend, SoapStyle, SoapUse, SoapVersion};
use super::reply::{SOAP11_ENV, SOAP12_ENV};
use crate::config::{Spanned, Tree};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::mapping::skeleton::{Flavour, Skeleton};
use crate::xml::reader::XSI;
use crate::xml::template::{self, InputRef, NameRules, Template};

const TARGET_PREFIX: &str = "tns";
const XSD: &str = "http://www.w3.org/2001/XMLSchema";
const SOAP11_ENCODING: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// The SOAP side of one route: a ready envelope with slots for the inputs.
#[derive(Debug)]
pub struct SoapCall {
    pub action: String,
    /// `Content-Type` header value (1.2 carries the action in it).
    pub content_type: String,
    /// The HTTP headers every call of the route sends, built once.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    envelope: Template,
    /// With `ws_security`: where in the rendered envelope (inside `soap:Header`) the security
    /// header goes. Only static text comes before it, so the offset is the same for every call.
    pub security_slot: Option<usize>,
    /// The Body's content as the JSON a reader makes of it (local names, text values).
    body: Skeleton,
    /// The namespace of the Body's elements, when all are in the target namespace.
    body_namespace: Option<String>,
    /// `use: encoded`: replies may hold multiRef references (`href="#id"`), resolved before
    /// they are read.
    pub resolves_refs: bool,
}

impl SoapCall {
    pub fn render(&self, values: &[Option<Value>]) -> String {
        let mut out = String::with_capacity(512);
        self.envelope.render_into(&mut out, values);
        out
    }

    /// What a recorded fixture expects the backend to receive.
    pub fn expectation(&self, values: &[Option<Value>]) -> serde_json::Map<String, Value> {
        let mut expect = serde_json::Map::new();
        expect.insert("soap_action".into(), Value::String(self.action.clone()));
        if let Some(body) = self.body.render(values) {
            expect.insert("body".into(), body);
            if let Some(ns) = &self.body_namespace {
                expect.insert("namespace".into(), Value::String(ns.clone()));
            }
        }
        expect
    }
}

/// A route's operation, its prefix resolved.
pub struct Operation {
    /// The operation element as written in the envelope (`tns:GetQuote`, `ns:GetQuote`).
    pub element: String,
    pub local: String,
    /// The namespace of the operation element and of the default SOAPAction.
    pub namespace: String,
    /// The route's target namespace (the `tns` prefix).
    pub target: String,
}

/// Backend-wide SOAP settings, checked once.
pub struct SoapSettings {
    pub version: SoapVersion,
    pub namespace: String,
    pub style: SoapStyle,
    pub encoding: SoapUse,
    pub element_form: ElementForm,
    pub action_template: Option<String>,
    pub prefixes: IndexMap<String, String>,
    pub headers: Option<Tree>,
    /// `backend.auth.ws_security` is set: every envelope has a `soap:Header` with a slot for it.
    pub ws_security: bool,
    /// `backend.soap.wsdl`, loaded.
    pub(crate) wsdl: Option<crate::soap::wsdl::Wsdl>,
}

impl SoapSettings {
    pub fn compile(
        soap: &SoapBackend,
        file: &std::path::Path,
        errors: &mut Diagnostics,
    ) -> SoapSettings {
        let mut prefixes = IndexMap::new();
        for (prefix, uri) in &soap.namespaces {
            if matches!(
                prefix.value.as_str(),
                "soap" | "xsi" | "xsd" | TARGET_PREFIX
            ) || !template::is_xml_name(&prefix.value)
            {
                errors.push(
                    Diagnostic::error(
                        prefix.span,
                        format!("namespace prefix `{}` is reserved or invalid", prefix.value),
                    )
                    .with_help("ponte declares soap, tns, xsi and xsd itself; pick another prefix"),
                );
            }
            prefixes.insert(prefix.value.clone(), uri.value.clone());
        }
        if soap.encoding == SoapUse::Encoded && soap.style != SoapStyle::Rpc {
            errors.push(
                Diagnostic::error(soap.namespace.span, "`use: encoded` needs `style: rpc`")
                    .with_help("document/encoded is not a SOAP style in use"),
            );
        }
        SoapSettings {
            version: soap.version,
            namespace: soap.namespace.value.clone(),
            style: soap.style,
            encoding: soap.encoding,
            element_form: soap.element_form,
            action_template: soap.soap_action.as_ref().map(|a| a.value.clone()),
            prefixes,
            headers: soap.headers.as_ref().map(|h| h.0.clone()),
            ws_security: false,
            wsdl: soap
                .wsdl
                .as_ref()
                .and_then(|key| super::schema::load(key, file, errors)),
        }
    }

    fn action(&self, operation: &Operation, route_override: Option<&Spanned<String>>) -> String {
        let (namespace, local) = (operation.namespace.as_str(), operation.local.as_str());
        let template = match (route_override, &self.action_template) {
            (Some(a), _) => a.value.as_str(),
            (None, Some(t)) => t.as_str(),
            (None, None) => {
                let sep = if namespace.ends_with('/') { "" } else { "/" };
                return format!("{namespace}{sep}{local}");
            }
        };
        template
            .replace("{namespace}", namespace)
            .replace("{operation}", local)
    }

    /// The operation a route names, resolved: `prefix:Name` against `namespaces` (and `tns`, the
    /// route's own namespace). An unknown prefix or a name that is not XML is reported, and the
    /// name is taken as unprefixed so that the rest of the route is still checked.
    pub fn operation(
        &self,
        written: &Spanned<String>,
        namespace: &str,
        errors: &mut Diagnostics,
    ) -> Operation {
        let fallback = |local: &str| Operation {
            element: format!("{TARGET_PREFIX}:{local}"),
            local: local.to_string(),
            namespace: namespace.to_string(),
            target: namespace.to_string(),
        };
        let (prefix, local) = match written.value.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, written.value.as_str()),
        };
        if !template::is_xml_name(local) || prefix.is_some_and(|p| !template::is_xml_name(p)) {
            errors.push(
                Diagnostic::error(
                    written.span,
                    format!(
                        "operation `{}` is not a valid XML element name",
                        written.value
                    ),
                )
                .with_help(
                    "write the operation's name as in the WSDL, e.g. `GetQuote` or `ns:GetQuote`",
                ),
            );
            return fallback(local);
        }
        let namespace_of_route = namespace;
        let namespace = match prefix {
            None | Some(TARGET_PREFIX) => namespace.to_string(),
            Some(p) => match self.prefixes.get(p) {
                Some(uri) => uri.clone(),
                None => {
                    let help = match crate::diagnostic::did_you_mean(
                        p,
                        self.prefixes.keys().map(String::as_str),
                    ) {
                        Some(s) => format!("did you mean `{s}:{local}`?"),
                        None => format!(
                            "declare it under backend.soap.namespaces: {{ {p}: <namespace URI> }}, \
                             or give the route `namespace:` and write `operation: {local}`"
                        ),
                    };
                    errors.push(
                        Diagnostic::error(
                            written.span,
                            format!(
                                "operation `{}`: unknown namespace prefix `{p}`",
                                written.value
                            ),
                        )
                        .with_help(help),
                    );
                    return fallback(local);
                }
            },
        };
        let element = match prefix {
            Some(p) if p != TARGET_PREFIX => written.value.clone(),
            _ => format!("{TARGET_PREFIX}:{local}"),
        };
        Operation {
            element,
            local: local.to_string(),
            target: namespace_of_route.to_string(),
            namespace,
        }
    }

    /// Compiles a route's envelope; marks the inputs the body uses in `used`.
    pub fn compile_call(
        &self,
        operation: &Operation,
        action_override: Option<&Spanned<String>>,
        body: Option<&Tree>,
        inputs: &[InputRef],
        used: &mut [bool],
        errors: &mut Diagnostics,
    ) -> SoapCall {
        let namespace = operation.target.as_str();
        let rpc = self.style == SoapStyle::Rpc;
        let encoded = self.encoding == SoapUse::Encoded;
        let rules = |xsi_types, qualify_top| NameRules {
            target_prefix: TARGET_PREFIX,
            qualify_top,
            qualify_children: !rpc && self.element_form == ElementForm::Qualified,
            prefixes: &self.prefixes,
            xsi_types,
        };
        let mut body_compiler = template::Compiler {
            inputs,
            rules: rules(encoded, !rpc),
            errors,
            used: vec![false; inputs.len()],
            allow_inputs: true,
        };
        let body_xml = body.map(|b| body_compiler.compile(b)).unwrap_or_default();
        let mut body_json = body.map_or(Skeleton::Object(Vec::new()), |b| {
            Skeleton::compile(b, inputs, Flavour::Xml).0
        });
        if rpc {
            body_json = Skeleton::Object(vec![(operation.local.clone(), body_json)]);
        }
        for (u, b) in used.iter_mut().zip(&body_compiler.used) {
            *u |= *b;
        }
        let mut header_compiler = template::Compiler {
            inputs,
            rules: rules(false, true),
            errors,
            used: vec![false; inputs.len()],
            allow_inputs: false,
        };
        let header_xml = self
            .headers
            .as_ref()
            .map(|h| header_compiler.compile(h))
            .unwrap_or_default();

        let env_ns = match self.version {
            SoapVersion::V11 => SOAP11_ENV,
            SoapVersion::V12 => SOAP12_ENV,
        };
        let mut decls = vec![("soap", env_ns), (TARGET_PREFIX, namespace)];
        decls.extend(self.prefixes.iter().map(|(p, u)| (p.as_str(), u.as_str())));
        if encoded {
            decls.push(("xsi", XSI));
            decls.push(("xsd", XSD));
        }
        let open = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope{}>",
            template::namespace_declarations(&decls)
        );
        const HEADER_OPEN: &str = "<soap:Header>";
        let security_slot = self.ws_security.then(|| open.len() + HEADER_OPEN.len());
        let mut parts: Vec<template::Piece> = vec![template::Piece::Static(open)];
        if !header_xml.is_empty() || self.ws_security {
            parts.push(template::Piece::Static(HEADER_OPEN.into()));
            parts.extend(header_xml.into_pieces());
            parts.push(template::Piece::Static("</soap:Header>".into()));
        }
        parts.push(template::Piece::Static("<soap:Body>".into()));
        if rpc {
            let style = if encoded {
                format!(" soap:encodingStyle=\"{SOAP11_ENCODING}\"")
            } else {
                String::new()
            };
            let element = &operation.element;
            parts.push(template::Piece::Static(format!("<{element}{style}>")));
            parts.extend(body_xml.into_pieces());
            parts.push(template::Piece::Static(format!("</{element}>")));
        } else {
            parts.extend(body_xml.into_pieces());
        }
        parts.push(template::Piece::Static(
            "</soap:Body></soap:Envelope>".into(),
        ));

        // Top-level elements written `prefix:Name` are in another namespace.
        let in_target = |b: &Tree| match &b.kind {
            crate::config::TreeKind::Map(entries) => {
                entries.iter().all(|(k, _)| !k.value.contains(':'))
            }
            _ => true,
        };
        let body_namespace = if rpc {
            Some(operation.namespace.clone())
        } else {
            body.is_none_or(in_target).then(|| namespace.to_string())
        };
        let action = self.action(operation, action_override);
        let content_type = match self.version {
            SoapVersion::V11 => "text/xml; charset=utf-8".to_string(),
            SoapVersion::V12 if action.is_empty() => {
                "application/soap+xml; charset=utf-8".to_string()
            }
            SoapVersion::V12 => format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
        };
        let mut headers = Vec::with_capacity(2);
        if let Ok(ct) = HeaderValue::from_str(&content_type) {
            headers.push((CONTENT_TYPE, ct));
        }
        if self.version == SoapVersion::V11
            && let Ok(a) = HeaderValue::from_str(&format!("\"{action}\""))
        {
            headers.push((HeaderName::from_static("soapaction"), a));
        }
        SoapCall {
            action,
            content_type,
            headers,
            envelope: Template::from_pieces(parts),
            security_slot,
            body: body_json,
            body_namespace,
            resolves_refs: encoded,
        }
    }
}
