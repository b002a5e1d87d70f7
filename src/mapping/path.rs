//! Paths into a reply: `A.B.C`, `Items.Item[*].Name`, `Items.Item[0]`, `Item.@id`, `Note.#text`.
//!
//! Parsed and checked once at load time; evaluated against any reply `Node`.

use std::fmt;

use super::node::Node;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
    /// `[*]`: every element; a single value counts as a one-element list, a missing one as empty.
    Each,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub steps: Vec<Step>,
}

/// Why a path did not parse: message and the character offset in the path text.
#[derive(Debug, PartialEq, Eq)]
pub struct PathError {
    pub message: String,
    pub offset: usize,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let err = |offset: usize, message: &str| PathError {
            message: message.to_string(),
            offset,
        };
        if text.trim().is_empty() {
            return Err(err(0, "empty path"));
        }
        let mut steps = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut expect_name = true;
        while i < bytes.len() {
            match bytes[i] {
                b'[' => {
                    if expect_name && steps.is_empty() {
                        return Err(err(i, "a path starts with a name"));
                    }
                    let close = text[i..]
                        .find(']')
                        .ok_or_else(|| err(i, "`[` without `]`"))?
                        + i;
                    let inside = text[i + 1..close].trim();
                    if inside == "*" {
                        steps.push(Step::Each);
                    } else {
                        let n = inside
                            .parse()
                            .map_err(|_| err(i + 1, "write `[*]` or a whole number like `[0]`"))?;
                        steps.push(Step::Index(n));
                    }
                    i = close + 1;
                    expect_name = false;
                }
                b'.' => {
                    if expect_name {
                        return Err(err(i, "empty name in path (two dots, or a leading dot)"));
                    }
                    i += 1;
                    expect_name = true;
                    if i == bytes.len() {
                        return Err(err(i - 1, "path ends with a dot"));
                    }
                }
                _ => {
                    if !expect_name {
                        return Err(err(i, "expected `.` or `[` here"));
                    }
                    let end = text[i..].find(['.', '[']).map_or(text.len(), |e| e + i);
                    let name = &text[i..end];
                    if let Some(bad) = name.find(|c: char| !is_name_char(c)) {
                        return Err(err(i + bad, "unexpected character in path"));
                    }
                    steps.push(Step::Field(name.to_string()));
                    i = end;
                    expect_name = false;
                }
            }
        }
        Ok(Path { steps })
    }

    /// Whether the path selects many values (has `[*]`).
    pub fn is_multi(&self) -> bool {
        self.steps.contains(&Step::Each)
    }

    /// Evaluates against `root`. Single paths give `None` when anything on the way is missing;
    /// paths with `[*]` give a list (empty when nothing matched).
    pub fn select<'a, N: Node<'a>>(&self, root: N) -> Option<Selected<N>> {
        if !self.is_multi() {
            return eval_single(&self.steps, root).map(Selected::One);
        }
        let mut out = Vec::new();
        collect(&self.steps, root, &mut out);
        Some(Selected::Many(out))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '#' | ':')
}

pub enum Selected<N> {
    One(N),
    Many(Vec<N>),
}

fn eval_single<'a, N: Node<'a>>(steps: &[Step], mut v: N) -> Option<N> {
    for s in steps {
        v = v.get(s)?;
    }
    Some(v)
}

fn collect<'a, N: Node<'a>>(steps: &[Step], v: N, out: &mut Vec<N>) {
    let Some((first, rest)) = steps.split_first() else {
        out.push(v);
        return;
    };
    match first {
        Step::Each => v.for_each_item(&mut |item| collect(rest, item, out)),
        s => {
            if let Some(next) = v.get(s) {
                collect(rest, next, out)
            }
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::Field(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Each => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_round_trip() {
        for s in [
            "A.B.C",
            "Items.Item[*].Name",
            "Items.Item[0]",
            "A.@id",
            "A.#text",
            "a[*][*]",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_paths_with_offsets() {
        assert_eq!(Path::parse("A..B").unwrap_err().offset, 2);
        assert_eq!(Path::parse("A.B[x]").unwrap_err().offset, 4);
        assert!(Path::parse("A.B[0").is_err());
        assert!(Path::parse("A.").is_err());
        assert!(Path::parse("A B").is_err());
        assert!(Path::parse("").is_err());
    }

    #[test]
    fn projects_arrays_and_single_elements_alike() {
        let v = json!({"Items": {"Item": [{"Name": "a"}, {"Name": "b"}]}});
        let single = json!({"Items": {"Item": {"Name": "a"}}});
        let names = |v: &Value| match p("Items.Item[*].Name").select(v) {
            Some(Selected::Many(items)) => items.into_iter().cloned().collect::<Vec<_>>(),
            _ => panic!("expected many"),
        };
        assert_eq!(names(&v), vec![json!("a"), json!("b")]);
        assert_eq!(names(&single), vec![json!("a")]);
        assert_eq!(names(&json!({})), Vec::<Value>::new());
        assert!(matches!(p("Items.Item[1].Name").select(&v), Some(Selected::One(x)) if x == "b"));
        assert!(
            matches!(p("Items.Item[0].Name").select(&single), Some(Selected::One(x)) if x == "a")
        );
        assert!(p("Items.Missing").select(&v).is_none());
    }
}
