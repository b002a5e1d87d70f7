//! Sample values: for fixture requests (valid for the input's constraints) and for sample replies
//! (schema-valid text, and the JSON ponte makes of it).

use serde_json::{Value, json};

use crate::soap::wsdl::expand::Simple;
use crate::soap::wsdl::shape::ValueKind;

/// Text of a value, read as `kind` (an enumeration value in an input's `enum`).
pub(crate) fn typed(text: &str, kind: ValueKind) -> Value {
    match kind {
        ValueKind::Integer => text.trim().parse::<i64>().map_or(json!(text), |i| json!(i)),
        ValueKind::Number => text.trim().parse::<f64>().map_or(json!(text), |n| json!(n)),
        ValueKind::Boolean => json!(matches!(text.trim(), "true" | "1")),
        _ => json!(text),
    }
}

/// A sample input value satisfying the input's constraints where ponte can tell.
pub(crate) fn input(simple: &Simple) -> Value {
    let (_, json) = value(simple);
    json
}

/// Sample reply text for an element of this type, and the JSON ponte gives it with its `type:`.
pub(crate) fn value(simple: &Simple) -> (String, Value) {
    let f = &simple.facets;
    if let Some(first) = f.enums.first() {
        return (first.clone(), typed(first, simple.kind));
    }
    match simple.kind {
        ValueKind::Integer => {
            let n = f
                .min
                .map_or(1, |m| (m.max(1.0)) as i64)
                .min(f.max.map_or(i64::MAX, |m| m as i64));
            (n.to_string(), json!(n))
        }
        ValueKind::Number => ("1.5".into(), json!(1.5)),
        ValueKind::Boolean => ("true".into(), json!(true)),
        ValueKind::Date => ("2024-01-31".into(), json!("2024-01-31")),
        ValueKind::DateTime => ("2024-01-31T12:00:00Z".into(), json!("2024-01-31T12:00:00Z")),
        ValueKind::String => {
            let text = string(simple);
            (text.clone(), json!(text))
        }
    }
}

/// A string for a pattern and lengths: the first of a few candidates that fits.
fn string(simple: &Simple) -> String {
    let f = &simple.facets;
    let candidates = [
        "sample",
        "A",
        "AB",
        "ABC",
        "1",
        "12",
        "01001000",
        "01001-000",
        "2024-01-31",
        "a@b.co",
        "00000000000",
        "00000000000000",
        "AA",
        "ABCD",
        "true",
        "0",
    ];
    let fits = |c: &&str| {
        let len = c.chars().count();
        f.min_length.is_none_or(|m| len >= m)
            && f.max_length.is_none_or(|m| len <= m)
            && f.pattern.as_ref().is_none_or(|p| {
                regex::Regex::new(&format!("^(?:{p})$")).is_ok_and(|r| r.is_match(c))
            })
    };
    if let Some(c) = candidates.into_iter().find(|c| fits(c)) {
        return c.to_string();
    }
    // Lengths alone: a run of `x`.
    let len = f
        .min_length
        .unwrap_or(1)
        .max(1)
        .min(f.max_length.unwrap_or(usize::MAX));
    "x".repeat(len.min(64))
}
