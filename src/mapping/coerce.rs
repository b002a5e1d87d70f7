//! The scalar types of ponte (string, integer, number, boolean, date, datetime) and conversions to
//! them: from reply text (lenient about XML's spellings) and from caller input (strict).

use std::borrow::Cow;

use serde_json::{Number, Value};

use crate::config::model::ValueType;

/// Converts a reply value to `ty`. Empty text is `null` for every type but string.
pub fn from_reply(v: &Value, ty: ValueType) -> Result<Value, String> {
    if ty == ValueType::Json {
        return Ok(v.clone());
    }
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) => {
            if s.trim().is_empty() && ty != ValueType::String {
                return Ok(Value::Null);
            }
            from_text(s, ty)
        }
        Value::Bool(b) => match ty {
            ValueType::Boolean => Ok(Value::Bool(*b)),
            ValueType::String => Ok(Value::String(b.to_string())),
            _ => Err(format!("expected {}, got a boolean", article(ty))),
        },
        Value::Number(n) => match ty {
            ValueType::String => Ok(Value::String(n.to_string())),
            _ => from_text(&n.to_string(), ty),
        },
        Value::Object(map) => match map.get("#text") {
            Some(text) => from_reply(text, ty),
            None => Err(format!(
                "expected {}, got an element with children",
                article(ty)
            )),
        },
        Value::Array(_) => Err(format!("expected {}, got a list", article(ty))),
    }
}

/// Parses text (a query parameter, a path segment, an XML value) as `ty`.
pub fn from_text(text: &str, ty: ValueType) -> Result<Value, String> {
    let t = text.trim();
    let fail = || format!("`{}` is not {}", shorten(text), article(ty));
    match ty {
        ValueType::String => Ok(Value::String(text.to_string())),
        ValueType::Integer => {
            if let Ok(i) = t.strip_prefix('+').unwrap_or(t).parse::<i64>() {
                return Ok(Value::from(i));
            }
            // XML decimals like `42.0` or `1E3` that hold a whole number.
            match t.parse::<f64>() {
                Ok(f)
                    if f.fract() == 0.0
                        && f.abs() < 9.0e15
                        && t.chars().any(|c| c.is_ascii_digit()) =>
                {
                    Ok(Value::from(f as i64))
                }
                _ => Err(fail()),
            }
        }
        ValueType::Number => {
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Value::from(i));
            }
            let is_numeric = t
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
            match t
                .parse::<f64>()
                .ok()
                .filter(|_| is_numeric)
                .and_then(Number::from_f64)
            {
                Some(n) => Ok(Value::Number(n)),
                None => Err(fail()),
            }
        }
        ValueType::Boolean => match t {
            "true" | "1" | "True" | "TRUE" => Ok(Value::Bool(true)),
            "false" | "0" | "False" | "FALSE" => Ok(Value::Bool(false)),
            _ => Err(fail()),
        },
        ValueType::Date => {
            if is_date(t) {
                return Ok(Value::String(t[..10].to_string()));
            }
            Err(fail())
        }
        ValueType::Datetime => {
            if is_datetime(t) {
                Ok(Value::String(t.to_string()))
            } else {
                Err(fail())
            }
        }
        ValueType::Json => {
            serde_json::from_str(t).map_err(|e| format!("`{}` is not JSON: {e}", shorten(text)))
        }
    }
}

/// Reply text for `integer` or `number` whose digits an `i64`/`f64` would not keep (an
/// `xs:integer` beyond 64 bits, an `xs:decimal` with more than 15 significant digits or far from
/// 1), as JSON number text with the backend's digits exactly: `+`, leading zeros and a bare `.`
/// normalised away. `None` when the ordinary conversion keeps the value (or it is no decimal).
pub fn exact_number(text: &str, ty: ValueType) -> Option<String> {
    let t = text.trim();
    let (negative, unsigned) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = match ty {
        // An integer written with a zero fraction (`…000.00`) is that integer.
        ValueType::Integer if frac.bytes().all(|b| b == b'0') => "",
        ValueType::Integer => return None,
        _ => frac,
    };
    let trimmed = frac.trim_end_matches('0');
    let significant = if int.is_empty() {
        trimmed.trim_start_matches('0').len()
    } else {
        int.len() + trimmed.len()
    };
    // Where the decimal point is relative to the first significant digit (ryu's, and so
    // serde_json's, plain notation spans -5 < point <= 16).
    let point = if int.is_empty() {
        -((frac.len() - frac.trim_start_matches('0').len()) as i64)
    } else {
        int.len() as i64
    };
    let kept = match ty {
        // Up to 15 digits, i64 (or f64 for `42.0`) keeps them.
        ValueType::Integer => int.len() <= 15,
        _ => significant <= 15 && point > -5 && point <= 16,
    };
    if kept || significant == 0 {
        return None;
    }
    let mut out = String::with_capacity(t.len() + 2);
    if negative {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// Parses caller text (query, path, header) as `ty`: stricter than reply text. Integers are
/// plain digits with an optional `-`, numbers plain decimals; no `1e3`, `+5`, `2.0`, `inf`.
pub fn from_input_text(text: &str, ty: ValueType) -> Result<Value, String> {
    let t = text.trim();
    let plain_int = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    match ty {
        ValueType::Integer if plain_int(t) => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{}` is out of range for an integer", shorten(text))),
        ValueType::Integer => Err(format!("`{}` is not an integer", shorten(text))),
        ValueType::Number => {
            let (int, frac) = t.split_once('.').unwrap_or((t, "0"));
            if plain_int(int) && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) {
                from_text(t, ty)
            } else {
                Err(format!("`{}` is not a number", shorten(text)))
            }
        }
        ValueType::Boolean => match t {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "`{}` is not a boolean (true or false)",
                shorten(text)
            )),
        },
        _ => from_text(text, ty),
    }
}

/// Checks a caller's JSON value against `ty`: JSON numbers for numbers, strings for text.
pub fn from_json_input(v: &Value, ty: ValueType) -> Result<Value, String> {
    let got = json_kind(v);
    match (ty, v) {
        (ValueType::String, Value::String(_)) => Ok(v.clone()),
        (ValueType::Integer, Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Value::from(i)),
            None => Err(format!("`{n}` is not an integer")),
        },
        (ValueType::Number, Value::Number(_)) => Ok(v.clone()),
        (ValueType::Boolean, Value::Bool(_)) => Ok(v.clone()),
        (ValueType::Date | ValueType::Datetime, Value::String(s)) => from_text(s, ty),
        (ValueType::Json, v) => Ok(v.clone()),
        _ => Err(format!("expected {}, got {got}", article(ty))),
    }
}

pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text of a typed value as it goes into XML.
pub fn to_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        other => Cow::Owned(other.to_string()),
    }
}

pub fn article(ty: ValueType) -> &'static str {
    match ty {
        ValueType::String => "a string",
        ValueType::Integer => "an integer",
        ValueType::Number => "a number",
        ValueType::Boolean => "a boolean (true or false)",
        ValueType::Date => "a date (YYYY-MM-DD)",
        ValueType::Datetime => "a date-time (YYYY-MM-DDThh:mm:ss with an optional zone)",
        ValueType::Json => "JSON",
    }
}

fn shorten(text: &str) -> Cow<'_, str> {
    if text.chars().count() <= 40 {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{}…", text.chars().take(40).collect::<String>()))
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD`, optionally followed by an XML time zone (`Z`, `+02:00`) or a time.
fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    // Slicing below is by byte: only ASCII may be sliced (a caller's `20é€…` must not panic).
    if b.len() < 10 || !b[..10].is_ascii() {
        return false;
    }
    let (y, m, d) = (&t[0..4], &t[5..7], &t[8..10]);
    let valid = digits(y) && b[4] == b'-' && digits(m) && b[7] == b'-' && digits(d);
    let (m, d): (u32, u32) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
    let rest = &t[10..];
    valid
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && (rest.is_empty() || is_zone(rest) || (rest.starts_with('T') && is_datetime(t)))
}

fn is_zone(z: &str) -> bool {
    if !z.is_ascii() {
        return false;
    }
    let b = z.as_bytes();
    z == "Z"
        || (b.len() == 6
            && matches!(b[0], b'+' | b'-')
            && digits(&z[1..3])
            && b[3] == b':'
            && digits(&z[4..6]))
}

/// `YYYY-MM-DDThh:mm:ss[.fraction][zone]` (a space instead of `T` is accepted).
fn is_datetime(t: &str) -> bool {
    if t.len() < 19 || !t.as_bytes()[..19].is_ascii() || !is_date(&t[..10]) {
        return false;
    }
    let b = t.as_bytes();
    let time = &t[11..19];
    let tb = time.as_bytes();
    let valid_time = matches!(b[10], b'T' | b' ')
        && digits(&time[0..2])
        && tb[2] == b':'
        && digits(&time[3..5])
        && tb[5] == b':'
        && digits(&time[6..8]);
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    valid_time && (rest.is_empty() || is_zone(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_reply_text_to_types() {
        assert_eq!(from_reply(&json!("42"), ValueType::Integer), Ok(json!(42)));
        assert_eq!(
            from_reply(&json!("42.0"), ValueType::Integer),
            Ok(json!(42))
        );
        assert_eq!(
            from_reply(&json!(" 2.5 "), ValueType::Number),
            Ok(json!(2.5))
        );
        assert_eq!(from_reply(&json!("1"), ValueType::Boolean), Ok(json!(true)));
        assert_eq!(from_reply(&json!(""), ValueType::Integer), Ok(Value::Null));
        assert_eq!(
            from_reply(&json!("2024-02-29Z"), ValueType::Date),
            Ok(json!("2024-02-29"))
        );
        assert_eq!(
            from_reply(&json!("2024-02-29T10:11:12.5+01:00"), ValueType::Datetime),
            Ok(json!("2024-02-29T10:11:12.5+01:00"))
        );
        assert_eq!(
            from_reply(&json!({"@lang": "en", "#text": "7"}), ValueType::Integer),
            Ok(json!(7))
        );
    }

    #[test]
    fn refuses_what_does_not_convert() {
        assert_eq!(
            from_reply(&json!("abc"), ValueType::Integer),
            Err("`abc` is not an integer".to_string())
        );
        assert!(from_reply(&json!("NaN"), ValueType::Number).is_err());
        assert!(from_reply(&json!("2024-13-01"), ValueType::Date).is_err());
        assert!(from_reply(&json!("2024-01-01T25"), ValueType::Datetime).is_err());
        assert!(from_reply(&json!({"a": 1}), ValueType::String).is_err());
    }

    #[test]
    fn hostile_unicode_in_dates_is_refused_not_a_panic() {
        for text in [
            "20é€-01-01",
            "2024-01-0€",
            "2024-01-01T1€:00:00",
            "2024-01-01+é:00",
            "２０２４-01-01",
        ] {
            assert!(from_input_text(text, ValueType::Date).is_err(), "{text}");
            assert!(
                from_input_text(text, ValueType::Datetime).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn caller_text_is_strict() {
        assert_eq!(from_input_text("-12", ValueType::Integer), Ok(json!(-12)));
        for bad in ["2.0", "1e3", "+5", " ", "0x10"] {
            assert!(from_input_text(bad, ValueType::Integer).is_err(), "{bad}");
        }
        assert_eq!(
            from_input_text("9223372036854775808", ValueType::Integer),
            Err("`9223372036854775808` is out of range for an integer".to_string())
        );
        assert_eq!(from_input_text("2.5", ValueType::Number), Ok(json!(2.5)));
        assert!(from_input_text("inf", ValueType::Number).is_err());
        assert!(from_input_text("1", ValueType::Boolean).is_err());
    }

    #[test]
    fn numbers_beyond_i64_and_f64_keep_their_digits() {
        let int = ValueType::Integer;
        let num = ValueType::Number;
        let exact = |t: &str, ty| exact_number(t, ty);
        assert_eq!(
            exact("123456789012345678901234567890", int).as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(
            exact(" +000123456789012345678901234567890.00 ", int).as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(
            exact("-0.000000000000000000001", num).as_deref(),
            Some("-0.000000000000000000001")
        );
        assert_eq!(
            exact("12345678901234567890.1234567890", num).as_deref(),
            Some("12345678901234567890.1234567890")
        );
        // What i64 and f64 keep goes the ordinary way.
        for (t, ty) in [("42", int), ("2.50", num), ("0.0001", num)] {
            assert_eq!(exact(t, ty), None, "{t}");
        }
        for t in ["1.5.", "1e400", "abc", "", "-", "0x1F", "1.5"] {
            assert_eq!(exact(t, int), None, "{t}");
        }
    }

    #[test]
    fn json_inputs_are_strict() {
        assert_eq!(from_json_input(&json!(3), ValueType::Integer), Ok(json!(3)));
        assert_eq!(
            from_json_input(&json!("3"), ValueType::Integer),
            Err("expected an integer, got a string".to_string())
        );
        assert!(from_json_input(&json!(3.5), ValueType::Integer).is_err());
        assert!(from_json_input(&json!("2024-01-01"), ValueType::Date).is_ok());
    }
}
