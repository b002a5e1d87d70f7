//! The request of an XML-over-HTTP route: method, a path template appended to the backend URL,
//! query parameters, and a form or XML body, compiled once.
//!
//! Path inputs are percent-encoded as one segment each: `/`, `?`, `#` and `%` in a value are
//! escaped, so a value can never add a segment, start a query or change the host; `.` and `..`
//! (which URL normalisation would resolve, even escaped) are refused as bad input.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::config::Tree;
use crate::config::model::HttpMethod;
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::faults::FaultAnswer;
use crate::mapping::coerce;
use crate::mapping::skeleton::{Flavour, Skeleton};
use crate::problem::Problem;
use crate::xml::template::{self, InputRef, NameRules, Template};

use super::model::HttpRoute;

/// Everything but the unreserved characters of RFC 3986.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug)]
pub struct HttpCall {
    pub method: reqwest::Method,
    path: Vec<PathPiece>,
    query: Vec<(String, Skeleton)>,
    form: Vec<(String, Skeleton)>,
    body: Option<(Template, Skeleton)>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    status: Vec<(u16, StatusAnswer)>,
}

#[derive(Debug)]
enum PathPiece {
    Static(String),
    /// An input, with its caller-facing name for errors.
    Input(usize, String),
}

#[derive(Debug)]
enum StatusAnswer {
    NotFound,
    Mapped(FaultAnswer),
}

impl HttpCall {
    /// The path and query appended to the backend URL; a path input of `.` or `..` is refused.
    pub fn target(&self, values: &[Option<Value>]) -> Result<String, Problem> {
        let mut target = String::with_capacity(64);
        for piece in &self.path {
            match piece {
                PathPiece::Static(s) => target.push_str(s),
                PathPiece::Input(i, field) => {
                    let value = values.get(*i).cloned().flatten().unwrap_or(Value::Null);
                    let text = coerce::to_text(&value);
                    if matches!(text.as_ref(), "." | "..") {
                        return Err(Problem::bad_input(json!([{
                            "field": field,
                            "in": "path",
                            "problem": "`.` and `..` are not allowed here",
                        }])));
                    }
                    target.extend(utf8_percent_encode(&text, SEGMENT));
                }
            }
        }
        let query = encode_pairs(&self.query, values);
        if !query.is_empty() {
            target.push('?');
            target.push_str(&query);
        }
        Ok(target)
    }

    /// The request body: form-encoded, XML, or none.
    pub fn body(&self, values: &[Option<Value>]) -> Vec<u8> {
        if let Some((template, _)) = &self.body {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            template.render_into(&mut out, values);
            return out.into_bytes();
        }
        encode_pairs(&self.form, values).into_bytes()
    }

    /// What a recorded fixture expects the backend to receive.
    pub fn expectation(&self, values: &[Option<Value>]) -> Map<String, Value> {
        let mut expect = Map::new();
        expect.insert("method".into(), json!(self.method.as_str()));
        if let Ok(target) = self.target(values) {
            expect.insert("path".into(), json!(target));
        }
        if !self.form.is_empty() {
            let form = self
                .form
                .iter()
                .filter_map(|(k, s)| Some((k.clone(), s.render(values)?)))
                .collect();
            expect.insert("form".into(), Value::Object(form));
        }
        if let Some(body) = self.body.as_ref().and_then(|(_, s)| s.render(values)) {
            expect.insert("body".into(), body);
        }
        expect
    }

    /// The answer a status rule gives, if one names `status`.
    pub fn status_problem(&self, status: u16) -> Option<Problem> {
        let (_, answer) = self.status.iter().find(|(s, _)| *s == status)?;
        Some(match answer {
            StatusAnswer::NotFound => Problem::not_found(format!(
                "the backend has no result for this request (HTTP {status})"
            )),
            StatusAnswer::Mapped(a) => Problem::mapped(FaultAnswer {
                status: a.status,
                code: a.code.clone(),
                detail: a.detail.clone(),
            }),
        })
    }
}

/// `a=1&b=x%20y`: absent optional inputs are left out, a list repeats its key.
fn encode_pairs(pairs: &[(String, Skeleton)], values: &[Option<Value>]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, skeleton) in pairs {
        match skeleton.render(values) {
            None => {}
            Some(Value::Array(items)) => {
                for item in &items {
                    out.append_pair(key, &coerce::to_text(item));
                }
            }
            Some(v) => {
                out.append_pair(key, &coerce::to_text(&v));
            }
        }
    }
    out.finish()
}

pub(super) fn compile(
    route: &HttpRoute,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> Option<HttpCall> {
    let call = &route.call;
    let method = match call.method.as_ref().map_or(HttpMethod::Get, |m| m.value) {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
    };
    // Everything is compiled even when the path is wrong, to report every problem.
    let path = match &call.path {
        Some(p) => compile_path(p, refs, used, errors),
        None => Some(Vec::new()),
    };
    let mut pairs = |map: &indexmap::IndexMap<crate::config::Spanned<String>, Tree>| {
        map.iter()
            .map(|(k, v)| (k.value.clone(), leaf(v, refs, used, errors)))
            .collect::<Vec<_>>()
    };
    let query = pairs(&call.query);
    let form = pairs(&call.form);
    let mut headers = vec![(
        ACCEPT,
        HeaderValue::from_static("application/xml, text/xml;q=0.9, */*;q=0.1"),
    )];
    let body = match (&call.body, form.is_empty()) {
        (Some(tree), true) => {
            headers.push((
                CONTENT_TYPE,
                HeaderValue::from_static("application/xml; charset=utf-8"),
            ));
            Some(xml_body(&tree.0, refs, used, errors))
        }
        (Some(tree), false) => {
            errors.push(Diagnostic::error(
                tree.0.span,
                "give the body as `form` or as `body`, not both",
            ));
            None
        }
        (None, false) => {
            headers.push((
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            ));
            None
        }
        (None, true) => None,
    };
    if (body.is_some() || !form.is_empty()) && method == reqwest::Method::GET {
        let span = call.method.as_ref().map_or(route.path.span, |m| m.span);
        errors.push(
            Diagnostic::error(span, "a GET request has no body")
                .with_help("add `method: POST` to `call`, or send the values as `query`"),
        );
    }
    let status = compile_status(route, errors);
    Some(HttpCall {
        method,
        path: path?,
        query,
        form,
        body,
        headers,
        status,
    })
}

/// `/{code}/last` -> static text and input slots; `{name}` names an input.
fn compile_path(
    path: &crate::config::Spanned<String>,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> Option<Vec<PathPiece>> {
    let text = &path.value;
    if !text.starts_with('/') || text.contains(['?', '#']) || text.contains("//") {
        errors.push(
            Diagnostic::error(path.span, format!("`{text}` is not a path to append"))
                .with_help("write `/a/{input}/b`; query parameters go in `query`"),
        );
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            errors.push(Diagnostic::error(path.span, "`{` without `}` in the path"));
            return None;
        };
        pieces.push(PathPiece::Static(rest[..open].to_string()));
        let name = &rest[open + 1..close];
        match refs.iter().position(|r| r.name == name) {
            Some(i) => {
                used[i] = true;
                pieces.push(PathPiece::Input(i, name.to_string()));
            }
            None => {
                let help = match did_you_mean(name, refs.iter().map(|r| r.name)) {
                    Some(s) => format!("did you mean `{{{s}}}`?"),
                    None => "declare it under `input:`".to_string(),
                };
                errors.push(
                    Diagnostic::error(path.span, format!("input `{name}` is not declared"))
                        .with_help(help),
                );
                return None;
            }
        }
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        errors.push(Diagnostic::error(path.span, "`}` without `{` in the path"));
        return None;
    }
    pieces.push(PathPiece::Static(rest.to_string()));
    pieces.retain(|p| !matches!(p, PathPiece::Static(s) if s.is_empty()));
    Some(pieces)
}

/// A query or form value: `$input`, a list of them, or literal text.
fn leaf(tree: &Tree, refs: &[InputRef], used: &mut [bool], errors: &mut Diagnostics) -> Skeleton {
    let skeleton = Skeleton::compile_checked(tree, refs, Flavour::Json, used, errors);
    if matches!(tree.kind, crate::config::TreeKind::Map(_)) {
        errors.push(
            Diagnostic::error(tree.span, "a query or form value cannot be a mapping")
                .with_help("give `$input`, literal text, or a list of them"),
        );
    }
    skeleton
}

fn xml_body(
    tree: &Tree,
    refs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> (Template, Skeleton) {
    let no_prefixes = indexmap::IndexMap::new();
    let mut compiler = template::Compiler {
        inputs: refs,
        rules: NameRules {
            target_prefix: "",
            qualify_top: false,
            qualify_children: false,
            prefixes: &no_prefixes,
            xsi_types: false,
        },
        errors,
        used: vec![false; refs.len()],
        allow_inputs: true,
    };
    let template = compiler.compile(tree);
    for (u, b) in used.iter_mut().zip(&compiler.used) {
        *u |= *b;
    }
    (template, Skeleton::compile(tree, refs, Flavour::Xml).0)
}

/// `status: { "404": not_found, "409": { status: 409, error: duplicate } }`.
fn compile_status(route: &HttpRoute, errors: &mut Diagnostics) -> Vec<(u16, StatusAnswer)> {
    let mut rules = Vec::new();
    for (code, rule) in &route.status {
        let Some(backend_status) = code
            .value
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
        else {
            errors.push(
                Diagnostic::error(code.span, format!("`{}` is not an HTTP status", code.value))
                    .with_help("write the backend's status as a number: \"404\""),
            );
            continue;
        };
        let tree = &rule.0;
        let answer = match tree.as_str() {
            Some("not_found") => StatusAnswer::NotFound,
            Some(other) => {
                errors.push(
                    Diagnostic::error(tree.span, format!("unknown status rule `{other}`"))
                        .with_help("write `not_found`, or `{ status: 422, error: code }`"),
                );
                continue;
            }
            None => match mapped(tree, backend_status, errors) {
                Some(a) => StatusAnswer::Mapped(a),
                None => continue,
            },
        };
        rules.push((backend_status, answer));
    }
    rules
}

fn mapped(tree: &Tree, backend_status: u16, errors: &mut Diagnostics) -> Option<FaultAnswer> {
    let crate::config::TreeKind::Map(entries) = &tree.kind else {
        errors.push(Diagnostic::error(
            tree.span,
            "expected `not_found` or a mapping",
        ));
        return None;
    };
    for (k, _) in entries {
        if !matches!(k.value.as_str(), "status" | "error" | "detail") {
            errors.push(
                Diagnostic::error(k.span, format!("unknown key `{}`", k.value))
                    .with_help("expected one of `status`, `error`, `detail`"),
            );
        }
    }
    let status = match tree.get("status").map(|s| &s.kind) {
        Some(crate::config::TreeKind::Int(n)) if (400..=599).contains(n) => *n as u16,
        _ => {
            errors.push(
                Diagnostic::error(
                    tree.span,
                    "a status rule needs `status` between 400 and 599",
                )
                .with_help("e.g. { status: 422, error: rejected }"),
            );
            return None;
        }
    };
    Some(FaultAnswer {
        status,
        code: tree.get("error").and_then(Tree::as_str).map_or_else(
            || format!("backend_status_{backend_status}"),
            str::to_string,
        ),
        detail: tree.get("detail").and_then(Tree::as_str).map_or_else(
            || format!("the backend answered HTTP {backend_status}"),
            str::to_string,
        ),
    })
}
