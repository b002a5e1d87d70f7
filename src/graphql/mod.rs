//! The GraphQL kind: documents parsed and (with a schema) validated at load time, reply paths and
//! inputs checked against the operation (`check`), variables compiled from the route's inputs and
//! checked against the schema before each call (`variables`), replies read with `errors` as the
//! authority, what a fixture expects of a GraphQL request, and the schema importer.

mod check;
pub(crate) mod fixture;
pub mod import;
pub(crate) mod model;
mod reply;
mod variables;

pub use model::{GraphqlBackend, GraphqlRoute, PartialPolicy};

use std::path::Path;
use std::sync::Arc;

use apollo_compiler::validation::Valid;
use apollo_compiler::{Schema, ast};
use serde_json::{Map, Value};

use crate::config::{Spanned, TreeKind};
use crate::diagnostic::{Diagnostic, Diagnostics, Span, did_you_mean};
use crate::kind::KindCompiled;
use crate::mapping::skeleton::{Flavour, Skeleton};
use crate::xml::template::InputRef;

pub(crate) use reply::interpret;

/// A backend-wide schema, loaded once per adapter.
pub struct GraphqlSettings {
    schema: Option<Arc<Valid<Schema>>>,
}

impl GraphqlSettings {
    /// Loads the schema named by the backend. Defects of real published schemas are warnings:
    /// what can be loaded is used to validate the queries.
    pub fn load(
        backend: &GraphqlBackend,
        adapter_file: &Path,
        errors: &mut Diagnostics,
    ) -> GraphqlSettings {
        let Some(name) = &backend.schema else {
            return GraphqlSettings { schema: None };
        };
        let path = adapter_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(&name.value);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(
                    Diagnostic::error(
                        name.span,
                        format!("cannot read schema `{}`: {e}", name.value),
                    )
                    .with_help("the path is relative to the adapter file"),
                );
                return GraphqlSettings { schema: None };
            }
        };
        let schema = match Schema::parse_and_validate(text, &path) {
            Ok(valid) => valid,
            Err(with_errors) => {
                for d in with_errors.errors.iter() {
                    let at = d
                        .line_column_range()
                        .map(|r| {
                            format!("{}:{}:{}: ", path.display(), r.start.line, r.start.column)
                        })
                        .unwrap_or_default();
                    errors.push(Diagnostic::warning(
                        name.span,
                        format!("schema defect, loaded anyway: {at}{}", d.error),
                    ));
                }
                Valid::assume_valid(with_errors.partial)
            }
        };
        GraphqlSettings {
            schema: Some(Arc::new(schema)),
        }
    }

    pub fn schema(&self) -> Option<&Valid<Schema>> {
        self.schema.as_deref()
    }
}

/// The GraphQL side of one route.
#[derive(Debug)]
pub struct GraphqlCall {
    pub query: String,
    pub operation_name: Option<String>,
    variables: Option<Skeleton>,
    pub partial: PartialPolicy,
    rules: variables::VariableRules,
}

impl GraphqlCall {
    fn variables(&self, values: &[Option<Value>]) -> Option<Value> {
        self.variables.as_ref().and_then(|v| v.render(values))
    }

    /// The JSON request body, after checking the variables against the schema (when known):
    /// a value the server would refuse is the caller's 400, and nothing is sent.
    pub fn body(&self, values: &[Option<Value>]) -> Result<Vec<u8>, crate::problem::Problem> {
        let variables = self.variables(values);
        self.rules.check(variables.as_ref())?;
        let mut body = Map::with_capacity(3);
        body.insert("query".into(), Value::String(self.query.clone()));
        if let Some(op) = &self.operation_name {
            body.insert("operationName".into(), Value::String(op.clone()));
        }
        if let Some(v) = variables {
            body.insert("variables".into(), v);
        }
        Ok(serde_json::to_vec(&Value::Object(body)).unwrap_or_default())
    }

    /// What a recorded fixture expects the backend to receive.
    pub fn expectation(&self, values: &[Option<Value>]) -> Map<String, Value> {
        let mut expect = Map::new();
        if let Some(op) = &self.operation_name {
            expect.insert("operation_name".into(), Value::String(op.clone()));
        }
        if let Some(v) = self.variables(values) {
            expect.insert("variables".into(), v);
        }
        expect
    }
}

/// Compiles a route's document and variables; marks the inputs the variables use.
pub(crate) fn compile_route<'r>(
    name: &Spanned<String>,
    route: &'r GraphqlRoute,
    settings: &GraphqlSettings,
    adapter_file: &Path,
    inputs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> KindCompiled<'r> {
    crate::faults::refuse_when(&route.faults, "GraphQL", errors);
    let call = compile_call(name, route, settings, adapter_file, inputs, used, errors);
    KindCompiled {
        call: call.map(crate::kind::Call::Graphql),
        uses_in: "variables",
        literal: route.variables.as_ref(),
        reply_schema: None,
    }
}

fn compile_call(
    name: &Spanned<String>,
    route: &GraphqlRoute,
    settings: &GraphqlSettings,
    adapter_file: &Path,
    inputs: &[InputRef],
    used: &mut [bool],
    errors: &mut Diagnostics,
) -> Option<GraphqlCall> {
    let (text, span, block) = match (&route.query, &route.query_file) {
        (Some(q), None) => (q.value.clone(), q.span, true),
        (None, Some(file)) => {
            let path = adapter_file
                .parent()
                .unwrap_or(Path::new("."))
                .join(&file.value);
            match std::fs::read_to_string(&path) {
                Ok(t) => (t, file.span, false),
                Err(e) => {
                    errors.push(
                        Diagnostic::error(file.span, format!("cannot read `{}`: {e}", file.value))
                            .with_help("the path is relative to the adapter file"),
                    );
                    return None;
                }
            }
        }
        (Some(q), Some(_)) => {
            errors.push(Diagnostic::error(
                q.span,
                "give the document as `query` or as `query_file`, not both",
            ));
            return None;
        }
        (None, None) => {
            errors.push(
                Diagnostic::error(
                    name.span,
                    format!("route `{}` has no GraphQL `query`", name.value),
                )
                .with_help("add `query: |` with the query or mutation document"),
            );
            return None;
        }
    };
    let at = |line: usize, column: usize| -> (Span, String) {
        (
            inside_query(span, block.then_some(adapter_file), line, column),
            format!("query {line}:{column}"),
        )
    };
    let document = match ast::Document::parse(text.clone(), "query.graphql") {
        Ok(d) => d,
        Err(with_errors) => {
            for d in with_errors.errors.iter() {
                let (s, pos) = d
                    .line_column_range()
                    .map_or((span, "query".into()), |r| at(r.start.line, r.start.column));
                errors.push(Diagnostic::error(
                    s,
                    format!("GraphQL syntax: {} ({pos})", d.error),
                ));
            }
            return None;
        }
    };
    let before = errors.mark();
    if let Some(schema) = settings.schema() {
        if let Err(with_errors) = document.to_executable_validate(schema) {
            for d in with_errors.errors.iter() {
                let (s, pos) = d
                    .line_column_range()
                    .map_or((span, "query".into()), |r| at(r.start.line, r.start.column));
                errors.push(Diagnostic::error(
                    s,
                    format!("GraphQL: {} ({pos})", d.error),
                ));
            }
        }
    } else if let Err(list) = document.validate_standalone_executable() {
        for d in list.iter() {
            let (s, pos) = d
                .line_column_range()
                .map_or((span, "query".into()), |r| at(r.start.line, r.start.column));
            errors.push(Diagnostic::error(
                s,
                format!("GraphQL: {} ({pos})", d.error),
            ));
        }
    }

    let operations: Vec<&ast::OperationDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| d.as_operation_definition().map(|n| &**n))
        .collect();
    let operation = match (&route.operation_name, operations.as_slice()) {
        (None, [single]) => *single,
        (None, _) => {
            errors.push(
                Diagnostic::error(span, "the document holds several operations")
                    .with_help("name the one to run with `operation_name:`"),
            );
            return None;
        }
        (Some(op), _) => match operations
            .iter()
            .find(|o| o.name.as_ref().is_some_and(|n| n.as_str() == op.value))
        {
            Some(o) => o,
            None => {
                let names: Vec<&str> = operations
                    .iter()
                    .filter_map(|o| o.name.as_ref().map(|n| n.as_str()))
                    .collect();
                let help = match did_you_mean(&op.value, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the document's operations are {}", names.join(", ")),
                };
                errors.push(
                    Diagnostic::error(
                        op.span,
                        format!("the document has no operation `{}`", op.value),
                    )
                    .with_help(help),
                );
                return None;
            }
        },
    };

    // Paths and inputs are checked against a document that is valid, to report each slip once.
    if !errors.errors_since(before) {
        let schema = settings.schema().map(|s| &**s);
        let selection = check::Builder::new(&document, schema).operation(operation);
        check::response_paths(
            &selection,
            route.response.as_ref().map(|r| &r.0),
            route.not_found.as_ref(),
            errors,
        );
        check::input_optionality(operation, route.variables.as_ref(), inputs, schema, errors);
    }

    let variables = route
        .variables
        .as_ref()
        .map(|t| Skeleton::compile_checked(t, inputs, Flavour::Json, used, errors));
    // Provided variables must be declared, and required ones provided.
    let provided: Vec<(&str, Span)> = match route.variables.as_ref().map(|t| &t.kind) {
        Some(TreeKind::Map(entries)) => entries
            .iter()
            .map(|(k, _)| (k.value.as_str(), k.span))
            .collect(),
        _ => Vec::new(),
    };
    for (var, s) in &provided {
        if !operation.variables.iter().any(|v| v.name.as_str() == *var) {
            let declared: Vec<&str> = operation
                .variables
                .iter()
                .map(|v| v.name.as_str())
                .collect();
            let help = match did_you_mean(var, declared.iter().copied()) {
                Some(x) => format!("did you mean `{x}`?"),
                None => format!("declare it in the operation: query(${var}: ...)"),
            };
            errors.push(
                Diagnostic::error(
                    *s,
                    format!("variable `{var}` is not declared by the operation"),
                )
                .with_help(help),
            );
        }
    }
    for def in &operation.variables {
        let required = def.ty.is_non_null() && def.default_value.is_none();
        if required && !provided.iter().any(|(v, _)| *v == def.name.as_str()) {
            let s = route.variables.as_ref().map_or(span, |t| t.span);
            errors.push(
                Diagnostic::error(s, format!("the operation requires variable `${}` ({}) but the route does not provide it", def.name, def.ty))
                    .with_help(format!("add `variables: {{ {}: $some_input }}`", def.name)),
            );
        }
    }
    let rules = variables::VariableRules::new(
        settings.schema.clone(),
        operation,
        route.variables.as_ref(),
        &route.input,
    );
    Some(GraphqlCall {
        rules,
        query: text,
        operation_name: route.operation_name.as_ref().map(|o| o.value.clone()),
        variables,
        partial: route
            .partial
            .as_ref()
            .map_or(PartialPolicy::Deny, |p| p.value),
    })
}

/// Where a position inside an inline query lies in the adapter file. The value's span starts at
/// its first character: the opening quote of a quoted scalar, the first content line of a block
/// scalar (`query: |`), whose indentation is then read from the file (only to report an error).
fn inside_query(span: Span, adapter_file: Option<&Path>, line: usize, column: usize) -> Span {
    let Some(file) = adapter_file.filter(|_| span.start.line > 0) else {
        return span;
    };
    let Some(first) = std::fs::read_to_string(file).ok().and_then(|t| {
        t.lines()
            .nth(span.start.line as usize - 1)
            .map(str::to_string)
    }) else {
        return span;
    };
    let start = first.chars().nth(span.start.col as usize - 1);
    let mut s = span;
    s.start.line += line as u32 - 1;
    s.start.col = match start {
        // Quoted or plain on the key's line: columns count from the value's start.
        Some('"' | '\'') if line == 1 => span.start.col + column as u32,
        Some(_) if line == 1 && first[..first.len().min(span.start.col as usize)].contains(':') => {
            span.start.col + column as u32 - 1
        }
        // A block scalar: its content is indented like its first line.
        _ => (first.len() - first.trim_start().len() + column) as u32,
    };
    s
}
