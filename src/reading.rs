//! What a route reads of a backend reply, compiled once from its mapping: which elements the
//! reader keeps (and which are always arrays), the fault rules, the response mapping and the
//! `not_found` path. Each kind's reply reader works from this alone, not from the route plan.

use crate::faults::CompiledRule;
use crate::mapping::node::Node;
use crate::mapping::path::Path;
use crate::mapping::response::Mapping;
use crate::problem::Problem;
use crate::xml::reader::ArrayHints;

pub struct Reading {
    pub hints: ArrayHints,
    pub response: Mapping,
    pub faults: Vec<CompiledRule>,
    pub not_found: Option<Path>,
}

impl Reading {
    /// The answer for a reply document: 404 when `not_found` finds nothing, else the mapping.
    pub fn map_reply<'a, N: Node<'a>>(&self, reply: N) -> Result<Vec<u8>, Problem> {
        self.check_found(reply)?;
        self.response.answer(reply).map_err(|e| {
            Problem::bad_reply(format!(
                "the backend reply does not fit the mapping: field `{}`: {}",
                e.field, e.message
            ))
        })
    }

    /// A 404 when the route's `not_found` path finds nothing: missing, null, or empty (an empty
    /// XML element, an empty list).
    fn check_found<'a, N: Node<'a>>(&self, reply: N) -> Result<(), Problem> {
        use crate::mapping::path::Selected;
        let Some(path) = &self.not_found else {
            return Ok(());
        };
        let missing = match path.select(reply) {
            None => true,
            Some(Selected::One(v)) => v.is_blank(),
            Some(Selected::Many(items)) => items.is_empty(),
        };
        if missing {
            return Err(Problem::not_found(format!(
                "the backend has no result for this request ({path} is empty)"
            )));
        }
        Ok(())
    }
}
