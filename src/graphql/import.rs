//! `ponte import graphql`: an adapter skeleton from a schema.
