//! The GraphQL kind's part of the adapter file: `backend.graphql` and the keys of a GraphQL route.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::route::route_type;
use crate::config::{Spanned, Tree};

/// A GraphQL API.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphqlBackend {
    /// Endpoint URL; `${NAME:-default}` takes it from the environment.
    pub url: Spanned<String>,
    /// SDL file (relative to the adapter): when given, every query is validated against it.
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
}
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartialPolicy {
    Allow,
    #[default]
    Deny,
}

route_type! {
    /// One REST route over a GraphQL query or mutation.
    pub struct GraphqlRoute ("GraphQL") {
        /// The query or mutation document.
        #[serde(default)]
        pub query: Option<Spanned<String>>,
        /// A `.graphql` file (relative to the adapter) holding the document.
        #[serde(default)]
        pub query_file: Option<Spanned<String>>,
        /// Which operation of the document to run, when it holds several.
        #[serde(default)]
        pub operation_name: Option<Spanned<String>>,
        /// The variables sent, as a tree; `$input` leaves are inputs.
        #[serde(default)]
        pub variables: Option<Tree>,
        /// `deny` (default) answers an error when `errors` come with partial `data`; `allow` maps
        /// what arrived.
        #[serde(default)]
        pub partial: Option<Spanned<PartialPolicy>>,
    }
    arrays: |_| &[]
}
