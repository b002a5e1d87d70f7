use std::path::PathBuf;

use super::Wsdl;
use super::shape::ValueKind;

fn own(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wsdl")
        .join(name)
}

#[test]
fn reply_shape_of_a_wrapped_document_operation() {
    let wsdl = Wsdl::load(&own("calc/calc.wsdl")).unwrap();
    let shape = wsdl.reply_shape("Add").unwrap();
    let response = shape.child("AddResponse").unwrap();
    let result = response.children.child("AddResult").unwrap();
    assert_eq!(result.value, Some(ValueKind::Integer));
    assert!(!result.repeats);
    assert!(wsdl.reply_shape("Nope").is_none());
}
