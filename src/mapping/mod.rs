//! The mapping language: typed inputs, paths into replies, and response reshaping.

pub mod coerce;
mod embedded;
pub mod input;
pub mod node;
pub mod path;
pub mod response;
pub mod skeleton;
