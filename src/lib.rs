//! ponte: REST/JSON facades over SOAP backends, driven by one mapping file per backend.
//!
//! Data flows one way: adapter files (`config`) -> a validated, compiled `plan` -> request
//! handling (`server`, `engine`), with `xml`, `soap`, `mapping` and `backend` doing the parts.

pub(crate) mod auth;
pub mod backend;
#[doc(hidden)]
pub mod benching;
pub mod cache;
pub(crate) mod caller;
pub mod calls;
pub mod cli;
pub(crate) mod config;
pub mod describe;
pub mod diagnostic;
pub mod engine;
pub mod export;
pub(crate) mod faults;
pub mod fixture;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphql;
pub mod kind;
pub(crate) mod limits;
pub(crate) mod mapping;
pub(crate) mod mcp;
pub mod memory;
pub mod metrics;
pub mod plan;
pub mod problem;
pub mod reading;
pub mod reload;
pub mod schema;
pub(crate) mod secrets;
pub mod server;
pub mod soap;
pub mod state;
pub mod xml;
pub mod xmlhttp;

#[cfg(test)]
mod fuzz_tests;
