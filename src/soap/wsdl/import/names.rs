//! Names a person would choose: snake_case keys, kebab-case paths, each used once.

use std::collections::HashSet;

/// Names handed out so far in one scope.
#[derive(Debug, Default)]
pub(crate) struct Names(HashSet<String>);

impl Names {
    /// `wanted`, or `wanted_2`, `wanted_3`... when taken.
    pub(crate) fn claim(&mut self, wanted: &str) -> String {
        let base = if wanted.is_empty() { "value" } else { wanted };
        let mut name = base.to_string();
        let mut n = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }
}

pub(crate) fn snake(name: &str) -> String {
    crate::graphql::import::snake(name)
}

pub(crate) fn kebab(name: &str) -> String {
    snake(name).replace('_', "-")
}
