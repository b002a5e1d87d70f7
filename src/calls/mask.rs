//! What the call log hides: values of sensitive headers, query parameters, JSON fields and XML
//! elements (by name), then every value ponte took from the environment (`secrets`), whatever
//! name it hides under. Bodies are masked whole, then cut to size: cutting first could leave an
//! XML document that no longer parses and so could not be masked.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// What a masked value shows.
pub const MASK: &str = "***";

/// The names masked in one call: the always-masked ones, the adapter's `redact` names and the
/// inbound auth's header or query parameter.
pub struct Names<'a> {
    extra: Vec<&'a str>,
}

impl<'a> Names<'a> {
    pub fn new(extra: impl IntoIterator<Item = &'a str>) -> Names<'a> {
        Names {
            extra: extra.into_iter().collect(),
        }
    }

    /// Whether a value under this name (a header, parameter, field or element's local name) is
    /// masked.
    pub fn masks(&self, name: &str) -> bool {
        crate::xml::redact::is_sensitive(name, &self.extra)
    }

    fn extra_owned(&self) -> Vec<String> {
        self.extra.iter().map(|s| s.to_string()).collect()
    }

    /// Header name/value pairs as a JSON object, sensitive values masked.
    pub fn headers<'h>(&self, headers: impl Iterator<Item = (&'h str, &'h [u8])>) -> Value {
        let mut out = Map::new();
        for (name, value) in headers {
            let shown = if self.masks(name) {
                MASK.to_string()
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            match out.get_mut(name) {
                Some(Value::String(before)) => {
                    before.push_str(", ");
                    before.push_str(&shown);
                }
                _ => {
                    out.insert(name.to_string(), Value::String(shown));
                }
            }
        }
        Value::Object(out)
    }

    /// A query string or form body with sensitive values masked.
    pub fn form(&self, query: &str) -> String {
        let pairs = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| {
            let v = if self.masks(&k) {
                Cow::Borrowed(MASK)
            } else {
                v
            };
            (k, v)
        });
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// A JSON value with the values of sensitive members masked, at any depth.
    pub fn json(&self, v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if self.masks(k) {
                            Value::String(MASK.into())
                        } else {
                            self.json(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.json(i)).collect()),
            other => other.clone(),
        }
    }

    /// A body as text, masked by what it is (JSON, XML or a form), then cut to `limit` bytes.
    /// Returns the text and whether it was cut.
    pub fn body(&self, bytes: &[u8], content_type: Option<&str>, limit: usize) -> (String, bool) {
        let text = String::from_utf8_lossy(bytes);
        let trimmed = text.trim_start();
        let masked = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => serde_json::to_string_pretty(&self.json(&v)).unwrap_or_default(),
                Err(_) => text.into_owned(),
            }
        } else if trimmed.starts_with('<') {
            // Elements by local name; the library's own list plus ours.
            let mut names = self.extra_owned();
            names.extend(["cookie", "signature", "Password"].map(String::from));
            crate::xml::redact::redact(&text, &names).replace(crate::xml::redact::REDACTED, MASK)
        } else if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
            self.form(&text)
        } else {
            text.into_owned()
        };
        let masked = crate::secrets::scrub(&masked).into_owned();
        cut(masked, limit)
    }
}

/// The text cut to at most `limit` bytes, on a character boundary.
pub fn cut(mut text: String, limit: usize) -> (String, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_by_name_in_headers_forms_json_and_xml() {
        let names = Names::new(["CardNumber", "key"]);
        assert!(names.masks("X-Api-Key") && names.masks("Cookie") && names.masks("wsse:Password"));
        assert!(!names.masks("Content-Type") && !names.masks("SOAPAction"));
        assert_eq!(names.form("a=1&key=abc&b=2"), "a=1&key=***&b=2");
        let json = names.json(&serde_json::json!({"x": {"cardnumber": "4111", "n": 1}}));
        assert_eq!(
            json,
            serde_json::json!({"x": {"cardnumber": "***", "n": 1}})
        );
        let (xml, cut) = names.body(
            b"<a><s:CardNumber>4111</s:CardNumber><Pass><wsse:Password>p</wsse:Password></Pass></a>",
            None,
            1000,
        );
        assert!(!cut);
        assert!(!xml.contains("4111") && !xml.contains(">p<"), "{xml}");
    }

    #[test]
    fn cuts_on_a_character_boundary() {
        assert_eq!(cut("aé".to_string(), 2), ("a".to_string(), true));
        assert_eq!(cut("abc".to_string(), 3), ("abc".to_string(), false));
    }
}
