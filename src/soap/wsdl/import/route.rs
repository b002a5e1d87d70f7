//! One route per SOAP operation: method and path, inputs and request tree, response mapping,
//! `arrays:` hints, fault rules for declared faults, header parts; and the sample exchange its
//! generated fixture holds.

use serde_json::{Map, Value, json};

use super::inputs::Inputs;
use super::names::kebab;
use super::response::{Response, response, sample_xml};
use super::yaml::Y;
use super::{Fixture, Target};
use crate::soap::wsdl::Direction;
use crate::soap::wsdl::definitions::BindingOperation;
use crate::soap::wsdl::expand::Field;

/// Operation names that read: `getX`, `consultaCEP`, `ListOfCountries`... (the prefix followed
/// by an uppercase letter, a digit, `_` or nothing).
const READ_PREFIXES: &[&str] = &[
    "get",
    "list",
    "find",
    "search",
    "lookup",
    "fetch",
    "query",
    "read",
    "retrieve",
    "describe",
    "consulta",
    "consultar",
    "obter",
    "buscar",
    "listar",
];

pub(crate) fn read_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    READ_PREFIXES.iter().any(|p| {
        lower.starts_with(p)
            && name[p.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

pub(crate) struct Built {
    pub route: Y,
    pub comments: Vec<String>,
    pub fixture: Fixture,
    pub left_out: Vec<String>,
}

pub(crate) fn soap_route(t: &mut Target, bop: &BindingOperation, route_name: &str) -> Built {
    let wsdl = t.wsdl;
    let op = wsdl.operation(t.binding, &bop.name);
    let input = wsdl
        .body_fields(t.binding, &bop.name, Direction::Input, 6)
        .unwrap_or_default();
    let output = wsdl
        .body_fields(t.binding, &bop.name, Direction::Output, 10)
        .unwrap_or_default();
    let mut comments = Vec::new();
    let own = super::operation_namespace(wsdl, t.binding, bop);
    t.route_namespace = (!own.is_empty() && own != t.namespace).then_some(own);
    let (get, mut inputs, tree) = request(t, bop, &input);
    let method = if get { "GET" } else { "POST" };
    let mut route = Y::map();
    route.put("method", Y::Flow(json!(method)));
    route.put("path", Y::Flow(json!(format!("/{}", kebab(&bop.name)))));
    if !inputs.declared.is_empty() {
        route.put("input", std::mem::replace(&mut inputs.declared, Y::map()));
    }
    route.put("operation", Y::Flow(json!(bop.name)));
    if let Some(ns) = &t.route_namespace {
        route.put("namespace", Y::Flow(json!(ns))).note =
            Some("this operation's elements are in another namespace than the backend's".into());
    }
    if let Some(action) = t.route_action(bop) {
        route.put("soap_action", Y::Flow(json!(action))).note =
            Some("the binding's soapAction".into());
    }
    let body_note = if bop.rpc {
        "rpc: the parts only (ponte writes the operation element)"
    } else {
        "the input message's body element"
    };
    route.put("request", tree).note = Some(body_note.into());
    let Response {
        mapping,
        expected,
        arrays,
        left_out: response_left_out,
    } = response(&output);
    let expected = if mapping.is_empty() {
        json!({"ok": true})
    } else {
        expected
    };
    if !mapping.is_empty() {
        route.put("response", mapping).note =
            Some("the output message, its wrapper flattened".into());
    } else {
        route
            .put("response", Y::Flow(json!({"ok": {"const": true}})))
            .note = Some("the reply has no content of its own".into());
    }
    if !arrays.is_empty() {
        let list = arrays.iter().map(|a| Y::Flow(json!(a))).collect();
        route.put("arrays", Y::List(list)).note = Some("elements with maxOccurs > 1".into());
    }
    if let Some(op) = op
        && !op.faults.is_empty()
    {
        let names: Vec<String> = op
            .faults
            .iter()
            .map(|(n, m)| format!("{n} ({})", m.local))
            .collect();
        let entry = route.put(
            "faults",
            Y::List(vec![Y::Flow(json!({"code": "Client", "status": 422}))]),
        );
        entry.comments.push(format!(
            "declared faults: {}; a Client (1.2: Sender) fault is the caller's, others are a 502",
            names.join(", ")
        ));
    }
    let headers = wsdl.header_fields(t.binding, &bop.name);
    if !headers.is_empty() {
        let names: Vec<String> = headers.iter().map(|h| h.name.clone()).collect();
        comments.push(format!(
            "SOAP header parts of {}: {} (send them with backend.soap.headers)",
            bop.name,
            names.join(", ")
        ));
    }
    let mut reply = String::new();
    for f in &output {
        sample_xml(f, 0, &mut reply, "");
    }
    let mut left_out = inputs.left_out.clone();
    left_out.extend(response_left_out);
    for l in &left_out {
        comments.push(format!("left out {l}"));
    }
    let fixture = fixture(
        t,
        route_name,
        method,
        &bop.name,
        inputs.samples,
        reply,
        expected,
    );
    t.route_namespace = None;
    Built {
        route,
        comments,
        fixture,
        left_out,
    }
}

/// Whether the route is a GET, its inputs, and the request tree.
fn request(t: &mut Target, bop: &BindingOperation, input: &[Field]) -> (bool, Inputs, Y) {
    // Decide GET or POST from the shape first, then declare the inputs where they go.
    let mut probe = Inputs::new("query");
    let _ = build_tree(t, bop, input, &mut probe);
    let get = read_like(&bop.name) && probe.all_scalar && probe.left_out.is_empty();
    let mut inputs = Inputs::new(if get { "query" } else { "body" });
    let tree = build_tree(t, bop, input, &mut inputs);
    (get, inputs, tree)
}

fn build_tree(t: &mut Target, bop: &BindingOperation, input: &[Field], inputs: &mut Inputs) -> Y {
    let mut tree = Y::map();
    if bop.rpc {
        for wrapper in input {
            for part in &wrapper.children {
                let sub = inputs.tree(part, &part.name, true, &part.name, 1);
                tree.put(&part.name, sub);
            }
        }
        return tree;
    }
    for f in input {
        let element = t.element_name(&f.name, &f.ns);
        let sub = inputs.tree(f, &element, true, &f.name, 0);
        tree.put(&element, sub);
    }
    tree
}

fn fixture(
    t: &Target,
    route_name: &str,
    method: &str,
    operation: &str,
    samples: Map<String, Value>,
    reply_body: String,
    expected: Value,
) -> Fixture {
    let mut path = format!("/{}/{}", t.adapter, route_path(route_name, operation));
    let mut body = None;
    if method == "GET" {
        let query: Vec<String> = samples
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(
                        &text,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                )
            })
            .collect();
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
    } else {
        body = Some(Value::Object(samples));
    }
    Fixture {
        route: route_name.to_string(),
        operation: operation.to_string(),
        method: method.to_string(),
        path,
        body,
        reply: t.envelope(&reply_body),
        expected,
    }
}

fn route_path(_route: &str, operation: &str) -> String {
    kebab(operation)
}
