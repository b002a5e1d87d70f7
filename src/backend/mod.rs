//! How the engine reaches a backend: a transport (live HTTP, or replay of recorded replies) and,
//! for live calls, the registry of each backend's runtime state.

pub mod auth;
pub(crate) mod breaker;
pub(crate) mod http;
pub(crate) mod registry;
pub mod transport;
