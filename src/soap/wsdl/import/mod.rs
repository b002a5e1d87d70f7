//! `ponte import wsdl`: from a loaded description to an adapter with one route per operation of
//! the chosen port (`route`, `inputs`, `response`), sample fixtures (`fixture`), and `--list`
//! (`list`). HTTP GET/POST bindings become XML-over-HTTP adapters (`http`). Output is
//! deterministic: operations in binding order, names claimed in that order.

pub mod cli;
mod fixture;
mod http;
mod inputs;
pub(crate) mod list;
mod names;
mod response;
mod route;
mod sample;
mod yaml;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Wsdl;
use super::definitions::{Binding, BindingKind, BindingOperation};
use names::{Names, snake};
use yaml::Y;

pub(crate) use fixture::fixture_files;

/// What the user chooses.
#[derive(Debug, Clone, Default)]
pub struct WsdlImportOptions {
    pub service: Option<String>,
    /// A port name, or a binding name (for descriptions without a `wsdl:service`).
    pub port: Option<String>,
    pub name: Option<String>,
    /// Only these operations (by name).
    pub operations: Vec<String>,
}

/// One sample exchange, written as a generated fixture.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    pub route: String,
    pub operation: String,
    pub method: String,
    /// Facade path with query.
    pub path: String,
    pub body: Option<Value>,
    /// The backend's reply body.
    pub reply: String,
    /// The facade's JSON answer.
    pub expected: Value,
}

pub struct Imported {
    pub yaml: String,
    pub name: String,
    pub routes: usize,
    pub(crate) fixtures: Vec<Fixture>,
    /// Lines for the user: what was chosen, left out, or could not be read.
    pub notes: Vec<String>,
    pub warnings: usize,
}

/// The port being imported and what the adapter settles for all routes.
pub(crate) struct Target<'a> {
    pub wsdl: &'a Wsdl,
    pub binding: &'a Binding,
    pub adapter: String,
    pub namespace: String,
    /// The route being built, when its operation's elements are in another namespace than the
    /// backend's: the route says so with `namespace:` and its elements are written unprefixed.
    pub route_namespace: Option<String>,
    /// Other namespaces used by element names: URI -> prefix.
    pub prefixes: BTreeMap<String, String>,
    /// The backend's `soap_action`, when one setting fits every operation.
    pub backend_action: Option<String>,
}

impl Target<'_> {
    /// The namespace the route being built writes its elements in.
    fn elements_namespace(&self) -> &str {
        self.route_namespace.as_deref().unwrap_or(&self.namespace)
    }

    /// `Name`, or `nsN:Name` for an element outside the route's namespace.
    pub(crate) fn element_name(&mut self, name: &str, ns: &str) -> String {
        if ns.is_empty() || ns == self.elements_namespace() {
            return name.to_string();
        }
        let next = format!("ns{}", self.prefixes.len() + 1);
        let prefix = self.prefixes.entry(ns.to_string()).or_insert(next);
        format!("{prefix}:{name}")
    }

    /// The SOAPAction ponte sends when none is set: the route's namespace and the operation.
    fn default_action(&self, operation: &str) -> String {
        default_action_in(self.elements_namespace(), operation)
    }

    /// A route's own `soap_action`, when the backend's setting does not give it.
    pub(crate) fn route_action(&self, bop: &BindingOperation) -> Option<String> {
        let action = bop.soap_action.clone().unwrap_or_default();
        (action != backend_sends(self, bop)).then_some(action)
    }

    pub(crate) fn envelope(&self, body: &str) -> String {
        let env = match self.binding.kind {
            BindingKind::Soap12 => "http://www.w3.org/2003/05/soap-envelope",
            BindingKind::Soap11 => "http://schemas.xmlsoap.org/soap/envelope/",
            _ => return format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{body}\n"),
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"{env}\"><soap:Body>{body}</soap:Body></soap:Envelope>\n"
        )
    }
}

/// The port chosen: service and port names (none without a service), binding, address.
pub(crate) struct Chosen<'a> {
    pub service: Option<&'a str>,
    pub port: Option<&'a str>,
    pub binding: &'a Binding,
    pub address: Option<&'a str>,
}

pub(crate) fn choose<'a>(
    wsdl: &'a Wsdl,
    options: &WsdlImportOptions,
) -> Result<Chosen<'a>, String> {
    let mut candidates: Vec<Chosen> = Vec::new();
    for s in &wsdl.defs.services {
        if options.service.as_ref().is_some_and(|want| *want != s.name) {
            continue;
        }
        for p in &s.ports {
            let Some(binding) = wsdl.defs.binding(&p.binding) else {
                continue;
            };
            candidates.push(Chosen {
                service: Some(&s.name),
                port: Some(&p.name),
                binding,
                address: p.address.as_deref(),
            });
        }
    }
    if wsdl.defs.services.is_empty() && options.service.is_none() {
        // No wsdl:service (ONVIF): the bindings themselves, without an address.
        candidates.extend(wsdl.defs.bindings.iter().map(|b| Chosen {
            service: None,
            port: None,
            binding: b,
            address: None,
        }));
    }
    if let Some(want) = &options.port {
        candidates.retain(|c| c.port == Some(want.as_str()) || c.binding.name.local == *want);
    }
    candidates.retain(|c| c.binding.kind != BindingKind::Other);
    candidates.sort_by_key(|c| match c.binding.kind {
        BindingKind::Soap11 => 0,
        BindingKind::Soap12 => 1,
        BindingKind::HttpGet => 2,
        BindingKind::HttpPost => 3,
        BindingKind::Other => 4,
    });
    if candidates.is_empty() {
        let mut available = Vec::new();
        for s in &wsdl.defs.services {
            for p in &s.ports {
                available.push(format!("service {} port {}", s.name, p.name));
            }
        }
        for b in &wsdl.defs.bindings {
            available.push(format!("binding {} ({})", b.name.local, b.kind.label()));
        }
        return Err(format!(
            "no SOAP or HTTP port matches{}{}; the description has: {}",
            options
                .service
                .as_ref()
                .map(|s| format!(" --service {s}"))
                .unwrap_or_default(),
            options
                .port
                .as_ref()
                .map(|p| format!(" --port {p}"))
                .unwrap_or_default(),
            if available.is_empty() {
                "nothing to import".to_string()
            } else {
                available.join(", ")
            }
        ));
    }
    Ok(candidates.remove(0))
}

/// Builds the adapter. `source` names the description in comments; `wsdl_ref` is the copy of it
/// kept beside the adapter (written as `backend.soap.wsdl` when ponte has that key).
pub fn import(
    wsdl: &Wsdl,
    options: &WsdlImportOptions,
    source: &str,
    wsdl_ref: Option<&str>,
) -> Result<Imported, String> {
    let chosen = choose(wsdl, options)?;
    let binding = chosen.binding;
    let default_name = chosen
        .service
        .map(str::to_string)
        .unwrap_or_else(|| binding.name.local.clone());
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| snake(&default_name).replace('_', "-"));
    let mut operations: Vec<&BindingOperation> = binding.operations.iter().collect();
    if !options.operations.is_empty() {
        for want in &options.operations {
            if !operations.iter().any(|o| o.name == *want) {
                let hint = crate::diagnostic::did_you_mean(
                    want,
                    operations.iter().map(|o| o.name.as_str()),
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                return Err(format!(
                    "--operations {want}: binding {} has no such operation{hint}",
                    binding.name.local
                ));
            }
        }
        operations.retain(|o| options.operations.contains(&o.name));
    }
    let mut notes = Vec::new();
    let url_var = format!("{}_URL", snake(&name).to_uppercase());
    let url = match chosen.address {
        Some(a) => format!("${{{url_var}:-{a}}}"),
        None => {
            notes.push(format!(
                "binding {} has no wsdl:service, so no address: set {url_var}",
                binding.name.local
            ));
            format!("${{{url_var}:-http://localhost/}}")
        }
    };
    let (backend, routes, fixtures, route_notes) = match binding.kind {
        BindingKind::HttpGet | BindingKind::HttpPost => {
            http::adapter(wsdl, binding, &name, &url, &operations)
        }
        _ => soap_adapter(wsdl, binding, &name, &url, &operations, wsdl_ref),
    };
    notes.extend(route_notes);
    let unknown = unknown_names(wsdl, binding, &operations);
    let warnings = wsdl.warnings.len() + unknown.len();
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `ponte import wsdl` from {}: a starting point; rename routes and fields freely.\n",
        file_name(source)
    ));
    let place = match (chosen.service, chosen.port) {
        (Some(s), Some(p)) => format!("service {s}, port {p}, "),
        _ => String::new(),
    };
    out.push_str(&format!(
        "# Imported {place}binding {} ({}): {} of {} operation(s).\n",
        binding.name.local,
        binding.kind.label(),
        routes.len(),
        binding.operations.len()
    ));
    for w in &wsdl.warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    for u in &unknown {
        out.push_str(&format!("# warning: {u}\n"));
    }
    let mut adapter = Y::map();
    adapter.put("name", Y::Flow(json!(name)));
    adapter.put(
        "description",
        Y::Flow(json!(format!(
            "Imported from {} ({}).",
            file_name(source),
            default_name
        ))),
    );
    adapter.put("backend", backend);
    let mut route_map = Y::map();
    let count = routes.len();
    for (key, built_route, comments) in routes {
        route_map.put(&key, built_route).comments = comments;
    }
    adapter.put("routes", route_map);
    adapter.write(0, &mut out);
    Ok(Imported {
        yaml: out,
        name,
        routes: count,
        fixtures,
        notes,
        warnings,
    })
}

fn file_name(source: &str) -> &str {
    source.rsplit(['/', '\\']).next().unwrap_or(source)
}

type Routes = Vec<(String, Y, Vec<String>)>;

fn soap_adapter(
    wsdl: &Wsdl,
    binding: &Binding,
    name: &str,
    url: &str,
    operations: &[&BindingOperation],
    wsdl_ref: Option<&str>,
) -> (Y, Routes, Vec<Fixture>, Vec<String>) {
    let namespace = backend_namespace(wsdl, binding, operations);
    let mut target = Target {
        wsdl,
        binding,
        adapter: name.to_string(),
        namespace,
        route_namespace: None,
        prefixes: BTreeMap::new(),
        backend_action: None,
    };
    target.backend_action = backend_action(&target, operations);
    let mut routes = Vec::new();
    let mut fixtures = Vec::new();
    let mut notes = Vec::new();
    let mut names = Names::default();
    for bop in operations {
        let key = names.claim(&snake(&bop.name));
        let built = route::soap_route(&mut target, bop, &key);
        if !built.left_out.is_empty() {
            notes.push(format!(
                "{}: {} part(s) left out (listed in the adapter)",
                bop.name,
                built.left_out.len()
            ));
        }
        fixtures.push(built.fixture);
        routes.push((key, built.route, built.comments));
    }
    let mut soap = Y::map();
    soap.put("url", Y::Flow(json!(url))).note = Some("the port's soap:address".into());
    let version = if binding.kind == BindingKind::Soap12 {
        "1.2"
    } else {
        "1.1"
    };
    soap.put("version", Y::Flow(json!(version))).note = Some(format!(
        "binding namespace {}",
        if version == "1.2" {
            super::ns::SOAP12_BINDING
        } else {
            super::ns::SOAP11_BINDING
        }
    ));
    soap.put("namespace", Y::Flow(json!(target.namespace))).note =
        Some("the operations' message namespace".into());
    if operations.iter().all(|o| o.rpc) && !operations.is_empty() {
        soap.put("style", Y::Flow(json!("rpc"))).note = Some("soap:binding style".into());
        if operations.iter().all(|o| o.input.encoded) {
            soap.put("use", Y::Flow(json!("encoded"))).note = Some("soap:body use".into());
        }
    } else if !element_form_qualified(wsdl, binding, operations) {
        soap.put("element_form", Y::Flow(json!("unqualified"))).note =
            Some("the schema's elementFormDefault: only the operation element is qualified".into());
    }
    if let Some(action) = &target.backend_action {
        soap.put("soap_action", Y::Flow(json!(action))).note = Some(if action.is_empty() {
            "the binding declares an empty (or no) soapAction (routes that differ say theirs)"
                .into()
        } else {
            "the binding's soapAction is the operation name (routes that differ say theirs)".into()
        });
    }
    if !target.prefixes.is_empty() {
        let mut m = serde_json::Map::new();
        for (uri, prefix) in &target.prefixes {
            m.insert(prefix.clone(), json!(uri));
        }
        soap.put("namespaces", Y::Flow(Value::Object(m))).note =
            Some("operations whose elements are in another namespace".into());
    }
    if let Some(r) = &wsdl_ref {
        soap.put("wsdl", Y::Flow(json!(r))).note =
            Some("the description, copied beside the adapter: reply types and arrays".into());
    }
    let mut backend = Y::map();
    backend.put("soap", soap);
    (backend, routes, fixtures, notes)
}

fn default_action_in(namespace: &str, operation: &str) -> String {
    if namespace.ends_with('/') {
        format!("{namespace}{operation}")
    } else {
        format!("{namespace}/{operation}")
    }
}

/// The namespace of an operation's body elements (rpc: of its operation element); empty when
/// they are unqualified.
pub(crate) fn operation_namespace(
    wsdl: &Wsdl,
    binding: &Binding,
    bop: &BindingOperation,
) -> String {
    if bop.rpc {
        bop.input
            .namespace
            .clone()
            .unwrap_or_else(|| wsdl.defs.target_namespace.clone())
    } else {
        wsdl.body_fields(binding, &bop.name, super::Direction::Input, 1)
            .and_then(|f| f.first().map(|f| f.ns.clone()))
            .unwrap_or_default()
    }
}

/// The namespace most operations' body elements are in (ties: the first operation's).
fn backend_namespace(wsdl: &Wsdl, binding: &Binding, operations: &[&BindingOperation]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for bop in operations {
        let ns = operation_namespace(wsdl, binding, bop);
        if ns.is_empty() {
            continue;
        }
        match counts.iter_mut().find(|(n, _)| *n == ns) {
            Some((_, c)) => *c += 1,
            None => counts.push((ns, 1)),
        }
    }
    let best = counts.iter().map(|(_, c)| *c).max().unwrap_or(0);
    counts
        .into_iter()
        .find(|(_, c)| *c == best)
        .map(|(n, _)| n)
        .unwrap_or_else(|| wsdl.defs.target_namespace.clone())
}

/// The backend's `soap_action`: the setting most operations fit (`""`, the default rule, or
/// the operation name); the others get their own on their route. `None` is the default rule.
fn backend_action(t: &Target, operations: &[&BindingOperation]) -> Option<String> {
    let action = |o: &&BindingOperation| o.soap_action.clone().unwrap_or_default();
    let fits = |setting: Option<&str>| {
        operations
            .iter()
            .filter(|o| match setting {
                None => action(o) == default_action_in(&own_namespace(t, o), &o.name),
                Some("") => action(o).is_empty(),
                Some(_) => action(o) == o.name,
            })
            .count()
    };
    let candidates = [None, Some(""), Some("{operation}")];
    let best = candidates.iter().map(|c| fits(*c)).max().unwrap_or(0);
    candidates
        .into_iter()
        .find(|c| fits(*c) == best)
        .flatten()
        .map(str::to_string)
}

/// The namespace `bop`'s route writes its elements in: its own, or the backend's when its own is
/// empty.
fn own_namespace(t: &Target, bop: &BindingOperation) -> String {
    let ns = operation_namespace(t.wsdl, t.binding, bop);
    if ns.is_empty() {
        t.namespace.clone()
    } else {
        ns
    }
}

/// What the backend's setting sends for `bop` (its route's namespace set).
fn backend_sends(t: &Target, bop: &BindingOperation) -> String {
    match t.backend_action.as_deref() {
        None => t.default_action(&bop.name),
        Some("{operation}") => bop.name.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether the children of the input elements are namespace-qualified.
fn element_form_qualified(
    wsdl: &Wsdl,
    binding: &Binding,
    operations: &[&BindingOperation],
) -> bool {
    for bop in operations {
        let fields = wsdl.body_fields(binding, &bop.name, super::Direction::Input, 2);
        if let Some(child) = fields
            .iter()
            .flatten()
            .flat_map(|f| f.children.first())
            .next()
        {
            return !child.ns.is_empty();
        }
    }
    true
}

/// Types and elements the operations use that no schema declares.
fn unknown_names(wsdl: &Wsdl, binding: &Binding, operations: &[&BindingOperation]) -> Vec<String> {
    let mut unknown = std::collections::BTreeSet::new();
    for bop in operations {
        for direction in [super::Direction::Input, super::Direction::Output] {
            let mut expander = super::expand::Expander::new(&wsdl.schemas, &wsdl.opaque, 10);
            let _ = wsdl.body_fields_with(&mut expander, binding, &bop.name, direction);
            unknown.extend(expander.unknown);
        }
    }
    unknown
        .into_iter()
        .map(|q| format!("{q} is used but declared in no schema read: its content is open"))
        .collect()
}
