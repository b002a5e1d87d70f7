//! Loading a service description and everything it imports: `wsdl:import`, `xs:import` and
//! `xs:include`, with locations relative to the importing file (or URL), cycles (each file is
//! read once), and the W3C/OASIS schemas real WSDLs import by URL served from `bundled/`. An
//! import that cannot be resolved is an error naming the importing file:line:col and the missing
//! location; with `allow_missing` it is a warning and its namespace is opaque.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use super::dom::{self, Document, Node};
use super::ns;
use crate::diagnostic::{Diagnostic, Span};

/// Where a file came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    File(PathBuf),
    Url(String),
    /// One of the schemas ponte ships (by its namespace).
    Bundled(&'static str),
}

impl Location {
    pub(crate) fn display(&self) -> PathBuf {
        match self {
            Location::File(p) => p.clone(),
            Location::Url(u) => PathBuf::from(u),
            Location::Bundled(ns) => PathBuf::from(format!("<bundled {ns}>")),
        }
    }

    /// `location` written in this file, made absolute.
    pub(crate) fn join(&self, location: &str) -> Option<Location> {
        if is_url(location) {
            return Some(Location::Url(location.to_string()));
        }
        match self {
            Location::File(p) => {
                let dir = p.parent().unwrap_or(Path::new(""));
                Some(Location::File(normalize(&dir.join(location))))
            }
            Location::Url(base) => Some(Location::Url(join_url(base, location))),
            Location::Bundled(_) => None,
        }
    }
}

pub(crate) fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// `a/b/../c` -> `a/c`, without touching the file system (the file may be missing).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn join_url(base: &str, relative: &str) -> String {
    if let Some(rest) = relative.strip_prefix('/') {
        let host_end = base
            .find("://")
            .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(base.len());
        return format!("{}/{rest}", &base[..host_end]);
    }
    let dir = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |j| j + 2) => &base[..=i],
        _ => base,
    };
    let mut segments: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
    for part in relative.split('/') {
        match part {
            "." => {}
            ".." if segments.len() > 3 => {
                segments.pop();
            }
            ".." => {}
            p => segments.push(p),
        }
    }
    segments.join("/")
}

/// One loaded file.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub location: Location,
    pub doc: Document,
}

impl SourceFile {
    pub(crate) fn span(&self, node: &Node) -> Span {
        self.doc.span(node.offset)
    }

    pub(crate) fn diagnostic(&self, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.span(node), message).in_file(&self.location.display())
    }
}

/// Reads a URL's text.
pub(crate) type Fetch = dyn Fn(&str) -> Result<String, String>;

/// How files are read: the file system, and the network only for a description given as a URL.
pub(crate) struct Reader<'a> {
    pub allow_missing: bool,
    /// Remote imports that ponte does not bundle are opaque, without a word: set when ponte reads
    /// an adapter's `wsdl:` copy, whose import already warned about them (the server never uses
    /// the network for a description).
    pub remote_opaque: bool,
    pub fetch: Option<&'a Fetch>,
}

/// Every file read, the first being the one asked for.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub files: Vec<SourceFile>,
    pub warnings: Vec<Diagnostic>,
    /// Namespaces whose import could not be resolved (`allow_missing`): their types are opaque.
    pub opaque: BTreeSet<String>,
}

/// An import found in a file: where it points, the namespace it is for, and where it was written.
struct Import {
    location: Option<String>,
    namespace: Option<String>,
    offset: usize,
}

pub(crate) fn load(start: Location, reader: &Reader) -> Result<Loaded, Vec<Diagnostic>> {
    let mut loaded = Loaded::default();
    let mut errors = Vec::new();
    let mut seen: HashSet<Location> = HashSet::new();
    let mut queue: VecDeque<(Location, Option<(usize, usize)>)> = VecDeque::new();
    seen.insert(start.clone());
    queue.push_back((start, None));
    while let Some((location, from)) = queue.pop_front() {
        let text = match read(&location, reader) {
            Ok(t) => t,
            Err(why) => {
                let d = match from {
                    Some((file, offset)) => {
                        let f: &SourceFile = &loaded.files[file];
                        Diagnostic::error(
                            f.doc.span(offset),
                            format!(
                                "cannot read imported `{}`: {why}",
                                location.display().display()
                            ),
                        )
                        .in_file(&f.location.display())
                    }
                    None => Diagnostic::error(Span::default(), why).in_file(&location.display()),
                };
                missing(d, None, reader, &mut loaded, &mut errors);
                continue;
            }
        };
        let doc = match dom::parse(&text) {
            Ok(d) => d,
            Err((message, offset)) => {
                let at = line_col(&text, offset);
                errors.push(Diagnostic::error(at, message).in_file(&location.display()));
                continue;
            }
        };
        let index = loaded.files.len();
        let imports = imports_of(&doc.root);
        loaded.files.push(SourceFile { location, doc });
        for import in imports {
            let file = &loaded.files[index];
            match resolve(&file.location, &import, reader) {
                Resolved::Builtin => {}
                Resolved::Load(target) => {
                    if seen.insert(target.clone()) {
                        queue.push_back((target, Some((index, import.offset))));
                    }
                }
                Resolved::Remote(_) if reader.remote_opaque => {
                    loaded.opaque.extend(import.namespace);
                }
                Resolved::Missing(why) | Resolved::Remote(why) => {
                    let d = Diagnostic::error(file.doc.span(import.offset), why)
                        .in_file(&file.location.display());
                    missing(d, import.namespace, reader, &mut loaded, &mut errors);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

fn missing(
    d: Diagnostic,
    namespace: Option<String>,
    reader: &Reader,
    loaded: &mut Loaded,
    errors: &mut Vec<Diagnostic>,
) {
    if reader.allow_missing && !loaded.files.is_empty() {
        let mut w = d;
        w.severity = crate::diagnostic::Severity::Warning;
        w.message.push_str("; its types are opaque");
        loaded.warnings.push(w);
        if let Some(ns) = namespace {
            loaded.opaque.insert(ns);
        }
    } else {
        errors.push(d.with_help(
            "put the file at that location, or pass --allow-missing-imports to treat its types as opaque",
        ));
    }
}

fn line_col(text: &str, offset: usize) -> Span {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Span::at(line as u32, col as u32)
}

fn read(location: &Location, reader: &Reader) -> Result<String, String> {
    match location {
        Location::File(p) => std::fs::read(p).map_err(|e| e.to_string()).and_then(decode),
        Location::Url(u) => match reader.fetch {
            Some(fetch) => fetch(u),
            None => Err("the network is only used for a description given as a URL".into()),
        },
        Location::Bundled(ns) => ns::bundled(ns)
            .map(str::to_string)
            .ok_or_else(|| format!("no bundled schema for {ns}")),
    }
}

/// Description files are UTF-8 (with or without a byte order mark); UTF-16 is refused clearly.
fn decode(bytes: Vec<u8>) -> Result<String, String> {
    let bytes = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF])
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

fn imports_of(root: &Node) -> Vec<Import> {
    let mut out = Vec::new();
    let mut schemas: Vec<&Node> = Vec::new();
    if root.is(ns::WSDL, "definitions") {
        for i in root.children_named(ns::WSDL, "import") {
            out.push(Import {
                location: i.attr("location").map(str::to_string),
                namespace: i.attr("namespace").map(str::to_string),
                offset: i.offset,
            });
        }
        for types in root.children_named(ns::WSDL, "types") {
            schemas.extend(types.children_named(ns::XSD, "schema"));
        }
    } else if root.is(ns::XSD, "schema") {
        schemas.push(root);
    }
    for schema in schemas {
        for c in &schema.children {
            if c.ns == ns::XSD && matches!(c.local.as_str(), "import" | "include" | "redefine") {
                out.push(Import {
                    location: c.attr("schemaLocation").map(str::to_string),
                    namespace: c.attr("namespace").map(str::to_string),
                    offset: c.offset,
                });
            }
        }
    }
    out
}

enum Resolved {
    /// Nothing to read: XML Schema itself, WSDL, or an import by namespace only.
    Builtin,
    Load(Location),
    Missing(String),
    /// A remote location that is not bundled (the message says so).
    Remote(String),
}

fn resolve(from: &Location, import: &Import, reader: &Reader) -> Resolved {
    let namespace = import.namespace.as_deref();
    if namespace.is_some_and(ns::is_builtin) {
        return Resolved::Builtin;
    }
    // A schema ponte ships wins over its remote location: no import needs the network.
    if let Some(ns) = namespace.and_then(ns::bundled_namespace) {
        return Resolved::Load(Location::Bundled(ns));
    }
    let Some(location) = import.location.as_deref().filter(|l| !l.trim().is_empty()) else {
        // Declared by namespace only: the types come from another schema of the description.
        return Resolved::Builtin;
    };
    let remote_allowed = matches!(from, Location::Url(_)) && reader.fetch.is_some();
    match from.join(location.trim()) {
        Some(Location::Url(u)) if !remote_allowed => Resolved::Remote(format!(
            "import of `{u}`{} cannot be resolved: it is remote and not one of the schemas ponte bundles (SOAP encoding, SOAP envelope, xmlmime, xop, WS-Addressing)",
            namespace
                .map(|n| format!(" (namespace {n})"))
                .unwrap_or_default()
        )),
        Some(target) => Resolved::Load(target),
        None => Resolved::Missing(format!("import of `{location}` cannot be resolved")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_locations_join_like_a_browser() {
        assert_eq!(
            join_url("http://h/a/b/s.wsdl", "../x.xsd"),
            "http://h/a/x.xsd"
        );
        assert_eq!(join_url("http://h/a/s.wsdl", "/x.xsd"), "http://h/x.xsd");
        assert_eq!(
            normalize(Path::new("a/b/../../c/./d.xsd")),
            PathBuf::from("c/d.xsd")
        );
    }
}
