//! The YAML the importer writes: block maps with comments saying where each thing came from, and
//! one-line flow maps for small leaves (`{ in: query, type: integer }`). Scalars are written by
//! `config::emit`, so that ponte reads them back as the same values.

use serde_json::Value;

use crate::config::emit::{inline, yaml_key};

#[derive(Debug, Clone)]
pub(crate) enum Y {
    Map(Vec<Entry>),
    List(Vec<Y>),
    /// A scalar, or a map/list of scalars written on one line.
    Flow(Value),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub value: Y,
    /// Comment lines written above the key.
    pub comments: Vec<String>,
    /// A comment written at the end of the key's line.
    pub note: Option<String>,
}

impl Y {
    pub(crate) fn map() -> Y {
        Y::Map(Vec::new())
    }

    /// Adds `key: value`; returns the entry for comments.
    pub(crate) fn put(&mut self, key: &str, value: Y) -> &mut Entry {
        let Y::Map(entries) = self else {
            unreachable!("put on a map only")
        };
        entries.push(Entry {
            key: key.to_string(),
            value,
            comments: Vec::new(),
            note: None,
        });
        let last = entries.len() - 1;
        &mut entries[last]
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Y::Map(e) => e.is_empty(),
            Y::List(l) => l.is_empty(),
            Y::Flow(_) => false,
        }
    }

    pub(crate) fn write(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Y::Map(entries) => {
                for e in entries {
                    for c in &e.comments {
                        out.push_str(&format!("{pad}# {c}\n"));
                    }
                    out.push_str(&pad);
                    out.push_str(&yaml_key(&e.key));
                    out.push(':');
                    match &e.value {
                        Y::Flow(v) => {
                            out.push(' ');
                            out.push_str(&flow(v));
                            note(out, &e.note);
                        }
                        other if other.is_empty() => {
                            out.push_str(" {}");
                            note(out, &e.note);
                        }
                        other => {
                            note(out, &e.note);
                            other.write(indent + 2, out);
                        }
                    }
                }
            }
            Y::List(items) => {
                for item in items {
                    out.push_str(&pad);
                    out.push_str("- ");
                    match item {
                        Y::Flow(v) => {
                            out.push_str(&flow(v));
                            out.push('\n');
                        }
                        other => {
                            let mut inner = String::new();
                            other.write(indent + 2, &mut inner);
                            out.push_str(inner.trim_start());
                        }
                    }
                }
            }
            Y::Flow(v) => {
                out.push_str(&pad);
                out.push_str(&flow(v));
                out.push('\n');
            }
        }
    }
}

fn note(out: &mut String, note: &Option<String>) {
    if let Some(n) = note {
        out.push_str("  # ");
        out.push_str(n);
    }
    out.push('\n');
}

/// One line: scalars plain or quoted, maps and lists in flow style.
pub(crate) fn flow(v: &Value) -> String {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", yaml_key(k), flow(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::Array(a) if !a.is_empty() => {
            let items: Vec<String> = a.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        // Numbers written by serde_json: `1.0` stays a float.
        other => inline(other),
    }
}
