//! `ponte export postman`: the collection of the shipped adapters, with examples and tests from
//! the shipped fixtures (newman runs it in tests/external/postman).

mod common;

fn export(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["export", "postman"];
    all.extend_from_slice(args);
    common::run_ponte(&all)
}

#[test]
fn postman_collection_of_the_shipped_adapters() {
    let (code, stdout, stderr) = export(&[]);
    assert_eq!(code, 0, "{stderr}");
    let collection: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        collection["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    insta::assert_snapshot!("postman_shipped", stdout);
}

#[test]
fn postman_export_writes_the_same_collection_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ponte.postman_collection.json");
    let (code, stdout, stderr) = export(&["-o", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let (_, printed, _) = export(&[]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);
}

#[test]
fn postman_export_of_adapters_that_do_not_load_fails_naming_the_problem() {
    let (code, stdout, stderr) = export(&["--adapters", "tests/broken-adapters"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("tests/broken-adapters/"), "{stderr}");
    assert!(stderr.contains("do not load"), "{stderr}");
}
