//! XML in both directions: reply documents to JSON, request trees to XML.

pub mod reader;
pub mod template;

#[cfg(test)]
mod tests;
