//! Which elements of a reply a mapping reads, and which are always arrays: built once per route
//! from its mapping's paths, consulted by the reader for every element.

use crate::mapping::path::{Path, Step};

/// What the mapping reads of a reply: a trie of element names from the Body down, saying which
/// elements are always arrays and, when pruning, which subtrees are needed at all (the others are
/// parsed for well-formedness but never built).
#[derive(Debug, Clone)]
pub struct ArrayHints {
    /// Node 0 is the Body.
    nodes: Vec<HintNode>,
    prune: bool,
}

impl Default for ArrayHints {
    fn default() -> Self {
        ArrayHints {
            nodes: vec![HintNode::default()],
            prune: false,
        }
    }
}

#[derive(Debug, Default, Clone)]
struct HintNode {
    children: Vec<(String, usize)>,
    /// The same children by name, once there are more than a few: a linear scan is fastest for
    /// the handful a mapping usually names, but an adapter may name thousands.
    index: Option<std::collections::HashMap<String, usize>>,
    array: bool,
    /// Some child is always an array (so this element is always an object).
    has_array_child: bool,
    /// A path ends here: the whole subtree is needed.
    whole: bool,
}

/// Children of a node found by a linear scan up to this many; by a hash index beyond.
const LINEAR_CHILDREN: usize = 16;

impl ArrayHints {
    /// Every element directly followed by `[*]` in one of the paths is an array.
    pub fn from_paths<'p>(paths: impl IntoIterator<Item = &'p Path>) -> ArrayHints {
        let mut hints = ArrayHints::default();
        for path in paths {
            let mut node = 0;
            let mut element = true;
            for step in &path.steps {
                match step {
                    // `@attr` and `#text` live on the element itself: it is needed, not all below it.
                    Step::Field(name) if name.starts_with(['@', '#']) => element = false,
                    Step::Field(name) => node = hints.child_or_insert(node, name),
                    Step::Each => hints.nodes[node].array = true,
                    Step::Index(_) => {}
                }
            }
            if element {
                hints.nodes[node].whole = true;
            }
        }
        hints.refresh_array_children();
        hints
    }

    /// Recomputes which nodes have a child that is always an array (after `set_array`).
    pub(crate) fn refresh_array_children(&mut self) {
        for i in 0..self.nodes.len() {
            let has = self.nodes[i]
                .children
                .iter()
                .any(|(_, c)| self.nodes[*c].array);
            self.nodes[i].has_array_child = has;
        }
    }

    /// Makes a node's element always an array (a schema says it may repeat).
    pub(crate) fn set_array(&mut self, node: usize) {
        self.nodes[node].array = true;
    }

    /// The names under `node` and their nodes.
    pub(crate) fn named_children(&self, node: usize) -> Vec<(String, usize)> {
        self.nodes[node].children.clone()
    }

    /// Only what the paths reach is built; a mapping that reads everything (a JMESPath
    /// expression) must not prune.
    pub fn pruning(mut self, prune: bool) -> ArrayHints {
        self.prune = prune;
        self
    }

    /// Whether an element that no path names, under a kept element with hint `parent`, can be
    /// skipped.
    pub(crate) fn skips(&self, parent: Option<usize>, parent_keeps_all: bool) -> bool {
        self.prune && !parent_keeps_all && parent.is_some()
    }

    pub(crate) fn child_or_insert(&mut self, node: usize, name: &str) -> usize {
        if let Some(c) = self.child(node, name) {
            return c;
        }
        self.nodes.push(HintNode::default());
        let id = self.nodes.len() - 1;
        let parent = &mut self.nodes[node];
        parent.children.push((name.to_string(), id));
        if let Some(index) = &mut parent.index {
            index.insert(name.to_string(), id);
        } else if parent.children.len() > LINEAR_CHILDREN {
            parent.index = Some(parent.children.iter().cloned().collect());
        }
        id
    }

    pub(crate) fn child(&self, node: usize, name: &str) -> Option<usize> {
        let node = self.nodes.get(node)?;
        match &node.index {
            Some(index) => index.get(name).copied(),
            None => node
                .children
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id),
        }
    }

    /// Whether a document whose root element is `name` is one the mapping reads: the root is
    /// named by a path, or the mapping reads everything, or it names no root at all (a mapping
    /// of constants reads any document).
    pub(crate) fn reads_root(&self, name: &str) -> bool {
        !self.prune || self.nodes[0].children.is_empty() || self.child(0, name).is_some()
    }

    /// Whether a path ends at this node: everything below it is needed.
    pub(crate) fn is_whole(&self, node: usize) -> bool {
        self.nodes[node].whole
    }

    pub(crate) fn is_array(&self, node: Option<usize>) -> bool {
        node.is_some_and(|n| self.nodes[n].array)
    }

    /// Whether some name under `node` is always a list.
    pub(crate) fn has_array_child(&self, node: usize) -> bool {
        self.nodes[node].has_array_child
    }

    /// The names under `node` that are always lists.
    pub(crate) fn array_children(&self, node: usize) -> impl Iterator<Item = &str> + '_ {
        self.nodes[node]
            .children
            .iter()
            .filter(|(_, c)| self.nodes[*c].array)
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_with_thousands_of_named_children_finds_each_and_no_other() {
        let paths: Vec<Path> = (0..5000)
            .map(|i| Path::parse(&format!("Reply.F{i}")).unwrap())
            .chain([Path::parse("Reply.List[*].Item").unwrap()])
            .collect();
        let hints = ArrayHints::from_paths(&paths);
        let reply = hints.child(0, "Reply").unwrap();
        for i in [0, 15, 16, 17, 4999] {
            assert!(hints.child(reply, &format!("F{i}")).is_some(), "F{i}");
        }
        assert_eq!(hints.child(reply, "F5000"), None);
        let list = hints.child(reply, "List");
        assert!(hints.is_array(list));
    }
}
