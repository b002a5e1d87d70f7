//! HTTP GET/POST bindings (`http:binding verb=`): an XML-over-HTTP adapter (`backend.http`), one
//! route per operation calling `http:operation location` with the input parts as query
//! parameters (GET) or form fields (POST), and mapping the `mime:mimeXml` reply element.

use serde_json::{Map, Value, json};

use super::inputs::Inputs;
use super::names::{Names, kebab, snake};
use super::response::{response, sample_xml};
use super::yaml::Y;
use super::{Fixture, Routes};
use crate::soap::wsdl::Wsdl;
use crate::soap::wsdl::definitions::{Binding, BindingKind, BindingOperation};
use crate::soap::wsdl::dom::QName;
use crate::soap::wsdl::expand::Expander;

pub(crate) fn adapter(
    wsdl: &Wsdl,
    binding: &Binding,
    name: &str,
    url: &str,
    operations: &[&BindingOperation],
) -> (Y, Routes, Vec<Fixture>, Vec<String>) {
    let get = binding.kind == BindingKind::HttpGet;
    let mut routes = Vec::new();
    let mut fixtures = Vec::new();
    let mut names = Names::default();
    for bop in operations {
        let key = names.claim(&snake(&bop.name));
        let Some(op) = wsdl.operation(binding, &bop.name) else {
            continue;
        };
        let mut expander = Expander::new(&wsdl.schemas, &wsdl.opaque, 10);
        let parts = |m: &Option<QName>| {
            m.as_ref()
                .and_then(|m| wsdl.defs.messages.get(m))
                .map(|m| m.parts.clone())
                .unwrap_or_default()
        };
        let mut inputs = Inputs::new(if get { "query" } else { "body" });
        let mut params = Map::new();
        for part in parts(&op.input) {
            let field = match (&part.element, &part.ty) {
                (Some(e), _) => expander.global(e),
                (None, Some(t)) => expander.typed(&part.name, t),
                _ => expander.typed(
                    &part.name,
                    &QName::new(crate::soap::wsdl::ns::XSD, "string"),
                ),
            };
            if let Y::Flow(v) = inputs.tree(&field, &part.name, true, &part.name, 1) {
                params.insert(part.name.clone(), v);
            }
        }
        let output: Vec<_> = parts(&op.output)
            .iter()
            .filter_map(|p| p.element.as_ref().map(|e| expander.global(e)))
            .collect();
        let mapped = response(&output);
        let mut route = Y::map();
        route.put("method", Y::Flow(json!(if get { "GET" } else { "POST" })));
        route.put("path", Y::Flow(json!(format!("/{}", kebab(&bop.name)))));
        if !inputs.declared.is_empty() {
            route.put("input", std::mem::replace(&mut inputs.declared, Y::map()));
        }
        let mut call = Map::new();
        call.insert("method".into(), json!(if get { "GET" } else { "POST" }));
        let location = bop
            .location
            .clone()
            .unwrap_or_else(|| format!("/{}", bop.name));
        call.insert("path".into(), json!(location));
        if !params.is_empty() {
            call.insert(
                if get { "query" } else { "form" }.into(),
                Value::Object(params),
            );
        }
        route.put("call", Y::Flow(Value::Object(call))).note =
            Some("http:operation location, appended to backend.http.url".into());
        if !mapped.mapping.is_empty() {
            route.put("response", mapped.mapping).note =
                Some("the mime:mimeXml reply element; paths start at it".into());
        }
        if !mapped.arrays.is_empty() {
            let list = mapped.arrays.iter().map(|a| Y::Flow(json!(a))).collect();
            route.put("arrays", Y::List(list));
        }
        let mut reply = String::new();
        for f in &output {
            sample_xml(f, 0, &mut reply, "");
        }
        let mut path = format!("/{name}/{}", kebab(&bop.name));
        let mut body = None;
        if get {
            let q: Vec<String> = inputs
                .samples
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    )
                })
                .collect();
            if !q.is_empty() {
                path = format!("{path}?{}", q.join("&"));
            }
        } else {
            body = Some(Value::Object(inputs.samples.clone()));
        }
        fixtures.push(Fixture {
            route: key.clone(),
            operation: bop.name.clone(),
            method: if get { "GET".into() } else { "POST".into() },
            path,
            body,
            reply: format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{reply}\n"),
            expected: mapped.expected,
        });
        let comments = mapped
            .left_out
            .iter()
            .map(|l| format!("left out {l}"))
            .collect();
        routes.push((key, route, comments));
    }
    let mut backend = Y::map();
    backend.put("http", Y::Flow(json!({ "url": url }))).note =
        Some(format!("{} binding: XML over HTTP", binding.kind.label()));
    (backend, routes, fixtures, Vec::new())
}
