//! Generic XML, knowing nothing of SOAP or faults: replies decoded from their charset and read
//! into an indexed document, request trees written through templates, documents compared and
//! redacted.

pub(crate) mod charset;
pub mod compare;
pub(crate) mod doc;
pub(crate) mod hints;
pub mod reader;
pub(crate) mod redact;
pub(crate) mod skip;
pub(crate) mod template;
