//! Talking to backends over HTTP.

pub mod http;
