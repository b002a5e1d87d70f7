//! XML in both directions: reply documents to JSON, request trees to XML.

pub mod compare;
pub mod doc;
pub mod reader;
pub mod redact;
pub mod template;

#[cfg(test)]
mod tests;
