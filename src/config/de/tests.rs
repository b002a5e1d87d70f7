use super::*;
use crate::config::yaml;

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Route {
    method: Spanned<String>,
    #[serde(default)]
    timeout: Option<u32>,
    mode: Option<Mode>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Slow,
}

fn decode(text: &str) -> (Result<Route, DeError>, Vec<Diagnostic>) {
    let tree = yaml::parse(text).unwrap();
    let notes = RefCell::new(Vec::new());
    let r = from_yaml::<Route>(&tree, &notes).map_err(|e| DeError {
        span: e.span,
        message: e.message,
        help: e.help,
    });
    (r, notes.into_inner())
}

#[test]
fn spans_point_at_values() {
    let (route, notes) = decode("timeout: 3\nmethod: GET\n");
    let route = route.unwrap();
    assert!(notes.is_empty());
    assert_eq!(route.method.value, "GET");
    assert_eq!(
        (route.method.span.start.line, route.method.span.start.col),
        (2, 9)
    );
}

#[test]
fn unknown_keys_are_reported_and_skipped() {
    let (route, notes) = decode("method: GET\ntimout: 3\n");
    assert!(route.is_ok());
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].message, "unknown key `timout`");
    assert_eq!(notes[0].help.as_deref(), Some("did you mean `timeout`?"));
    assert_eq!(notes[0].span.start.line, 2);
}

#[test]
fn type_errors_point_at_the_value() {
    let (route, _) = decode("method: GET\ntimeout: soon\n");
    let err = route.unwrap_err();
    assert_eq!(err.message, "expected a whole number, found `soon`");
    assert_eq!(err.span.unwrap().start.line, 2);
}

#[test]
fn missing_keys_point_at_the_mapping() {
    let (route, _) = decode("timeout: 3\n");
    let err = route.unwrap_err();
    assert_eq!(err.message, "missing required key `method`");
}

#[test]
fn unknown_enum_values_suggest() {
    let (route, _) = decode("method: GET\nmode: fsat\n");
    let err = route.unwrap_err();
    assert_eq!(err.message, "unknown value `fsat`");
    assert_eq!(err.help.as_deref(), Some("did you mean `fast`?"));
    assert_eq!(err.span.unwrap().start.line, 2);
}
