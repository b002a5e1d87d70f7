//! YAML text -> a syntax tree that keeps the position of every node.
//!
//! We build our own tree from parser events (instead of a ready-made loader) so that duplicate keys
//! are refused with their position, aliases are expanded under a budget (no billion laughs), and the
//! decoder downstream can point every error at the user's line and column.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

use crate::diagnostic::{Diagnostic, Pos, Span};

/// Aliases may expand a document to at most this many nodes.
const NODE_BUDGET: usize = 200_000;

/// Collections may nest at most this deep: the builder recurses once per level, and no adapter
/// needs more than a few dozen (10,000 levels used to overflow the stack).
pub(crate) const MAX_DEPTH: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub enum YamlKind {
    Null,
    /// A scalar's text; `plain` is false when it was quoted or a block scalar (always a string).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Yaml {
    pub span: Span,
    pub kind: YamlKind,
}

impl Yaml {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            YamlKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match &self.kind {
            YamlKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match &self.kind {
            YamlKind::Null => "nothing (null)",
            YamlKind::Scalar { .. } => "a scalar",
            YamlKind::Seq(_) => "a list",
            YamlKind::Map(_) => "a mapping",
        }
    }
}

fn span(s: YSpan) -> Span {
    let pos = |m: saphyr_parser::Marker| Pos {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    };
    Span {
        start: pos(s.start),
        end: pos(s.end),
    }
}

/// Parses one YAML document. An empty file is `Null`. Duplicate keys are returned beside the
/// tree (which keeps the first of them); anything else wrong ends parsing.
pub fn parse_all(text: &str) -> Result<(Yaml, Vec<Diagnostic>), Diagnostic> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
        depth: 0,
        duplicates: Vec::new(),
    };
    let root = builder.document()?;
    Ok((root, builder.duplicates))
}

/// Parses one YAML document; any problem, duplicate keys included, is an error.
#[cfg(test)]
pub fn parse(text: &str) -> Result<Yaml, Diagnostic> {
    let (root, mut duplicates) = parse_all(text)?;
    match duplicates.is_empty() {
        true => Ok(root),
        false => Err(duplicates.remove(0)),
    }
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Yaml>,
    nodes: usize,
    /// Collections open around the node being read.
    depth: usize,
    duplicates: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok((event, s))) => Ok((event, span(s))),
            Some(Err(e)) => {
                let m = e.marker();
                Err(Diagnostic::error(
                    Span::at(m.line() as u32, m.col() as u32 + 1),
                    format!("invalid YAML: {}", e.info()),
                ))
            }
            None => Err(Diagnostic::error(Span::default(), "unexpected end of YAML")),
        }
    }

    fn document(&mut self) -> Result<Yaml, Diagnostic> {
        let mut root = None;
        loop {
            let (event, at) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    if root.is_some() {
                        return Err(Diagnostic::error(at, "a file holds one YAML document")
                            .with_help(
                                "remove the second `---` document or move it to its own file",
                            ));
                    }
                    let (event, at) = self.next()?;
                    root = Some(self.node(event, at)?);
                }
                Event::StreamEnd => break,
                other => {
                    root = Some(self.node(other, at)?);
                }
            }
        }
        Ok(root.unwrap_or(Yaml {
            span: Span::at(1, 1),
            kind: YamlKind::Null,
        }))
    }

    fn count(&mut self, n: usize, at: Span) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > NODE_BUDGET {
            return Err(Diagnostic::error(
                at,
                format!("document expands to more than {NODE_BUDGET} nodes"),
            )
            .with_help("aliases that reference each other multiply; write the values out"));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, at: Span) -> Result<Yaml, Diagnostic> {
        self.count(1, at)?;
        let opens = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if opens {
            self.enter(at)?;
        }
        let built = self.build(event, at);
        if opens {
            self.depth -= 1;
        }
        built
    }

    fn enter(&mut self, at: Span) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                at,
                format!("lists and mappings nest more than {MAX_DEPTH} levels deep here"),
            )
            .with_help("flatten the structure; adapters need a few levels, not hundreds"));
        }
        Ok(())
    }

    fn build(&mut self, event: Event<'a>, at: Span) -> Result<Yaml, Diagnostic> {
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                let kind = if plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
                {
                    YamlKind::Null
                } else {
                    YamlKind::Scalar {
                        text: text.into_owned(),
                        plain,
                    }
                };
                (Yaml { span: at, kind }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end = loop {
                    let (event, at) = self.next()?;
                    match event {
                        Event::SequenceEnd => break at,
                        e => items.push(self.node(e, at)?),
                    }
                };
                let s = Span {
                    start: at.start,
                    end: end.end,
                };
                (
                    Yaml {
                        span: s,
                        kind: YamlKind::Seq(items),
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Yaml, Yaml)> = Vec::new();
                // Text keys seen so far -> their index: one lookup per key (a linear scan made
                // 90,000 keys take 9 s).
                let mut seen: HashMap<String, usize> = HashMap::new();
                let end = loop {
                    let (event, kat) = self.next()?;
                    if let Event::MappingEnd = event {
                        break kat;
                    }
                    let key = self.node(event, kat)?;
                    let (event, vat) = self.next()?;
                    let value = self.node(event, vat)?;
                    if let Some(text) = key.as_str()
                        && let Some((first, _)) = seen.get(text).map(|i| &entries[*i])
                    {
                        // Reported, and the first one kept, so the rest of the file is checked too.
                        self.duplicates.push(
                            Diagnostic::error(key.span, format!("duplicate key `{text}`"))
                                .with_help(format!(
                                    "it is already set at line {}; keep one",
                                    first.span.start.line
                                )),
                        );
                        continue;
                    }
                    if let Some(text) = key.as_str() {
                        seen.insert(text.to_string(), entries.len());
                    }
                    entries.push((key, value));
                };
                let s = Span {
                    start: at.start,
                    end: end.end,
                };
                (
                    Yaml {
                        span: s,
                        kind: YamlKind::Map(entries),
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(Diagnostic::error(at, "alias to an unknown anchor"));
                };
                self.count(size(&target), at)?;
                return Ok(Yaml {
                    span: at,
                    kind: target.kind,
                });
            }
            _ => return Err(Diagnostic::error(at, "unexpected YAML structure")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn size(node: &Yaml) -> usize {
    match &node.kind {
        YamlKind::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        YamlKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| size(k) + size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_quoting() {
        let y = parse("name: calc\nroutes:\n  add: { path: '/add' }\n").unwrap();
        let add = y.get("routes").and_then(|r| r.get("add")).unwrap();
        assert_eq!(add.span.start, Pos { line: 3, col: 8 });
        let path = add.get("path").unwrap();
        assert_eq!(
            path.kind,
            YamlKind::Scalar {
                text: "/add".into(),
                plain: false
            }
        );
    }

    #[test]
    fn refuses_duplicate_keys_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.span.start, Pos { line: 3, col: 1 });
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn bounds_alias_expansion() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&doc).unwrap_err();
        assert!(err.message.contains("more than"), "{err}");
    }

    #[test]
    fn refuses_deep_nesting_with_position_instead_of_overflowing() {
        let mut block = String::new();
        for level in 0..10_000 {
            block.push_str(&" ".repeat(level));
            block.push_str("a:\n");
        }
        let err = parse(&block).unwrap_err();
        assert!(err.message.contains("nest more than"), "{err}");
        assert_eq!(err.span.start.line as usize, MAX_DEPTH + 1);
        // Flow style: the parser's own recursion limit stops it first, also with a position.
        let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse(&flow).unwrap_err();
        assert!(err.span.is_known(), "{err}");
    }

    #[test]
    fn many_keys_are_checked_for_duplicates_quickly() {
        let mut doc: String = (0..90_000).map(|i| format!("k{i}: {i}\n")).collect();
        doc.push_str("k17: again\n");
        let started = std::time::Instant::now();
        let err = parse(&doc).unwrap_err();
        assert!(err.message.contains("duplicate key `k17`"), "{err}");
        // About 3 s in a debug build on a busy machine; the quadratic check took minutes there.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.is_known());
        assert!(err.message.starts_with("invalid YAML"));
    }
}
