//! `ponte call ADAPTER.ROUTE [--input k=v ...] [--body JSON] [--dry-run]`: builds the backend
//! request a route would send for these inputs and prints it (method, URL, headers with secrets
//! masked, the body pretty), or sends it and prints both sides and the answer.
//!
//! Inputs are decoded exactly as the facade decodes them (`mapping::input::decode`), so a bad
//! input prints the problem+json the facade would answer with.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::MAX_PART;
use super::mask::Names;
use crate::config::model::{InputLocation, ValueType};
use crate::engine::{self, CallTo};
use crate::plan::{AdapterPlan, RoutePlan};
use crate::problem::Problem;

/// What `ponte call` was asked.
pub struct CallArgs<'a> {
    pub adapters: &'a Path,
    pub target: &'a str,
    pub inputs: &'a [String],
    pub body: Option<&'a str>,
    pub dry_run: bool,
}

pub fn run(args: &CallArgs) -> ExitCode {
    let options = crate::plan::LoadOptions {
        // A dry run sends nothing: backend URLs and secrets need not be set.
        missing_env_is_empty: args.dry_run,
        ..crate::plan::LoadOptions::default()
    };
    let loaded = crate::plan::load_dir_with(args.adapters, &crate::config::process_env, &options);
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    let Some(plan) = loaded.plan else {
        eprintln!("error: the adapters do not load (run `ponte check`)");
        return ExitCode::FAILURE;
    };
    crate::secrets::publish(crate::secrets::of_plan(&plan));
    let Some((adapter_name, route_name)) = args.target.split_once('.') else {
        eprintln!("error: name the route as ADAPTER.ROUTE, e.g. calculator.add");
        return ExitCode::FAILURE;
    };
    let Some(adapter) = plan.adapter(adapter_name) else {
        let known: Vec<&str> = plan.adapters.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "error: no adapter is named `{adapter_name}` (there are: {})",
            known.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let Some(route) = adapter.routes.iter().find(|r| r.name == route_name) else {
        let known: Vec<&str> = adapter.routes.iter().map(|r| r.name.as_str()).collect();
        eprintln!(
            "error: adapter `{adapter_name}` has no route `{route_name}` (it has: {})",
            known.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let values = match decode_inputs(route, args.inputs, args.body) {
        Ok(values) => values,
        Err(problem) => {
            print_problem(&problem);
            return ExitCode::FAILURE;
        }
    };
    let names = Names::new(adapter.redact.iter().map(String::as_str));
    let request = match route.call.request(&values) {
        Ok(r) => r,
        Err(problem) => {
            print_problem(&problem);
            return ExitCode::FAILURE;
        }
    };
    print!("{}", show_request(adapter, &request, &names));
    if args.dry_run {
        return ExitCode::SUCCESS;
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(send(adapter, route, &values, &names)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--input k=v` (by input name) and `--body` into the parts a facade call would have.
fn decode_inputs(
    route: &RoutePlan,
    inputs: &[String],
    body: Option<&str>,
) -> Result<Vec<Option<Value>>, Problem> {
    let mut body: Option<Value> = match body {
        Some(text) => Some(serde_json::from_str(text).map_err(|e| {
            Problem::of(
                crate::problem::Catalog::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?),
        None => None,
    };
    let mut path = HashMap::new();
    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    let mut unknown = Vec::new();
    for pair in inputs {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(spec) = route
            .inputs
            .iter()
            .find(|i| i.name == key || i.external == key)
        else {
            unknown.push(serde_json::json!({
                "field": key,
                "in": "input",
                "problem": format!(
                    "the route has no such input (it has: {})",
                    route.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }));
            continue;
        };
        match spec.location {
            InputLocation::Path => {
                path.insert(spec.external.as_str(), value);
            }
            InputLocation::Query => query.push((spec.external.clone(), value.to_string())),
            InputLocation::Header => {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::try_from(spec.external.as_str()),
                    HeaderValue::from_str(value),
                ) {
                    headers.append(n, v);
                }
            }
            InputLocation::Body => {
                // Text for text inputs; else as JSON when it parses (`--input n=2` is the number 2).
                let text = || Value::String(value.into());
                let v = match spec.ty {
                    ValueType::String | ValueType::Date | ValueType::Datetime => text(),
                    _ => serde_json::from_str(value).unwrap_or_else(|_| text()),
                };
                set_path(
                    body.get_or_insert_with(|| Value::Object(Map::new())),
                    &spec.external,
                    v,
                );
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::bad_input(Value::Array(unknown)));
    }
    let parts = crate::mapping::input::CallParts {
        path,
        query,
        headers: Some(&headers),
        body: body.as_ref(),
    };
    crate::mapping::input::decode(&route.inputs, &parts)
        .map_err(|errors| Problem::bad_input(serde_json::json!(errors)))
}

/// Sets `a.b.c` in a JSON object, making the objects on the way.
fn set_path(root: &mut Value, dotted: &str, value: Value) {
    let mut at = root;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else { return };
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return;
        }
        at = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn print_problem(problem: &Problem) {
    let v = serde_json::to_value(problem).unwrap_or(Value::Null);
    println!("HTTP {}", problem.status);
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    println!("{}", crate::secrets::scrub(&text));
}

/// The request as text: the request line, headers (masked), a blank line and the body.
fn show_request(
    adapter: &AdapterPlan,
    request: &crate::kind::BackendRequest,
    names: &Names,
) -> String {
    let url = super::entry::target_url(adapter.backend.url.as_str(), &request.target, names);
    let mut out = format!("{} {url}\n", request.method);
    let headers = names.headers(
        adapter
            .backend
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .chain(
                request
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_bytes())),
            ),
    );
    if let Value::Object(map) = headers {
        for (name, value) in map {
            out.push_str(&format!("{name}: {}\n", value.as_str().unwrap_or_default()));
        }
    }
    if adapter.backend.auth.is_some() {
        out.push_str("(backend.auth signs the request when it is sent)\n");
    }
    let content_type = request
        .headers
        .iter()
        .find(|(n, _)| n == axum::http::header::CONTENT_TYPE)
        .and_then(|(_, v)| v.to_str().ok());
    out.push('\n');
    out.push_str(&pretty(&request.body, content_type, names));
    out.push('\n');
    out
}

/// A body masked and indented: XML re-indented, JSON pretty, anything else as it is.
fn pretty(body: &[u8], content_type: Option<&str>, names: &Names) -> String {
    let (text, cut) = names.body(body, content_type, usize::MAX);
    let shown = if text.trim_start().starts_with('<') {
        indent_xml(&text).unwrap_or(text)
    } else {
        text
    };
    let (mut shown, truncated) = super::mask::cut(shown, MAX_PART * 4);
    if cut || truncated {
        shown.push_str("\n... (cut)");
    }
    shown
}

/// The XML document indented two spaces a level; `None` if it does not parse.
fn indent_xml(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            event => writer.write_event(event).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// Sends the call as the facade would and prints the reply and the answer.
async fn send(
    adapter: &AdapterPlan,
    route: &RoutePlan,
    values: &[Option<Value>],
    names: &Names<'_>,
) -> ExitCode {
    let runtime = match crate::backend::http::BackendRuntime::new(&adapter.backend, &adapter.name) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let to = CallTo {
        adapter,
        runtime: &runtime,
        route,
        values,
        request_id: "ponte-call",
        caller_budget: None,
    };
    let outcome = engine::call(&crate::backend::transport::Transport::Live, to).await;
    let took = outcome
        .backend_time
        .map_or(String::new(), |t| format!(" in {} ms", t.as_millis()));
    match &outcome.reply {
        Some(reply) => {
            println!(
                "--- reply: HTTP {}{took}, {} attempt(s){}",
                reply.status,
                outcome.attempts,
                reply
                    .content_type
                    .as_deref()
                    .map_or(String::new(), |c| format!(", {c}"))
            );
            println!(
                "{}",
                pretty(&reply.body, reply.content_type.as_deref(), names)
            );
        }
        None => println!("--- no reply{took}, {} attempt(s)", outcome.attempts),
    }
    match &outcome.result {
        Ok(answer) => {
            let v: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
            println!("--- answer: HTTP 200");
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(problem) => {
            print!("--- answer: ");
            print_problem(problem);
            ExitCode::FAILURE
        }
    }
}
