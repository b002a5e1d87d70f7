//! Errors in the user's files, reported the way compilers do: `file:line:col: what (how to fix)`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// The source range a value came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn at(line: u32, col: u32) -> Span {
        let p = Pos { line, col };
        Span { start: p, end: p }
    }

    /// A span that is not known (line 0); rendered without a position.
    pub fn is_known(&self) -> bool {
        self.start.line > 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a user's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub span: Span,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: PathBuf::new(),
            span,
            severity: Severity::Error,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn in_file(mut self, file: &Path) -> Diagnostic {
        self.file = file.to_path_buf();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.span.is_known() {
            write!(f, ":{}:{}", self.span.start.line, self.span.start.col)?;
        }
        if self.severity == Severity::Warning {
            write!(f, ": warning")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// The problems found while loading a file, in the order found: what every checking function
/// is handed instead of a bare list, so that "did this part add errors?" and "any errors at all?"
/// have one answer each.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

/// A position in a `Diagnostics`, to ask what was found after it.
#[derive(Clone, Copy)]
pub struct Mark(usize);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    /// Where the list stands now.
    pub fn mark(&self) -> Mark {
        Mark(self.list.len())
    }

    /// Whether an error was found after `mark`.
    pub fn errors_since(&self, mark: Mark) -> bool {
        self.list[mark.0..].iter().any(Diagnostic::is_error)
    }

    /// What was found after `mark`, to reword.
    pub fn since(&mut self, mark: Mark) -> &mut [Diagnostic] {
        &mut self.list[mark.0..]
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    /// Keeps the first of identical diagnostics (decoding may find one twice).
    pub fn dedupe(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.list
            .retain(|d| seen.insert((d.span, d.message.clone())));
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.list.extend(iter);
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(list: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics { list }
    }
}

/// Sorts diagnostics by file and position so that output is stable and reads top to bottom.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.span.start, &a.message).cmp(&(&b.file, b.span.start, &b.message))
    });
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A step of a dotted path (`response: a.b.c`) as a check explains it: where it was looked for,
/// the path up to it, and the likely meant path when it names nothing.
pub struct PathStep<'a> {
    /// The steps before it, dotted (`a.b`); empty at the top.
    pub walked: &'a str,
    /// What the top is called in the message (`the reply's Body`).
    pub top: &'static str,
}

impl PathStep<'_> {
    /// The path up to and including `name` (`a.b.name`).
    pub fn dotted(&self, name: &str) -> String {
        if self.walked.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.walked)
        }
    }

    /// `` `a.b` ``, or the top's name.
    pub fn within(&self) -> String {
        if self.walked.is_empty() {
            self.top.to_string()
        } else {
            format!("`{}`", self.walked)
        }
    }

    /// `` did you mean `a.b.c`? `` when one of `candidates` is close to `word`.
    pub fn did_you_mean<'c>(
        &self,
        word: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Option<String> {
        let meant = did_you_mean(word, candidates)?;
        Some(format!("did you mean `{}`?", self.dotted(meant)))
    }
}

/// Optimal string alignment distance: edits, with a swap of neighbours counting as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["response", "request", "route"];
        assert_eq!(did_you_mean("respons", keys), Some("response"));
        assert_eq!(did_you_mean("reqeust", keys), Some("request"));
        assert_eq!(did_you_mean("timeout", keys), None);
    }

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic::error(Span::at(12, 5), "unknown key `respons`")
            .with_help("did you mean `response`?")
            .in_file(Path::new("adapters/foo.yaml"));
        assert_eq!(
            d.to_string(),
            "adapters/foo.yaml:12:5: unknown key `respons` (did you mean `response`?)"
        );
    }
}
