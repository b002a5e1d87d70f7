//! `ponte check` as integrators see it, and the JSON Schema their editors use.

mod common;

use std::process::Command;

use common::run_ponte as ponte;

#[test]
fn check_accepts_the_shipped_adapters() {
    let (code, stdout, stderr) = ponte(&["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("ok: 6 adapter(s), 17 route(s)"),
        "{stdout}"
    );
}

#[test]
fn check_reports_every_problem_with_file_line_and_column() {
    let (code, stdout, stderr) = ponte(&["check", "--adapters", "tests/broken-adapters"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr);
}

#[test]
fn check_never_prints_environment_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check", "--adapters", "tests/broken-adapters"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "SECRET_BACKEND_URL_THAT_IS_NOT_SET",
            "https://user:hunter2@[bad",
        )
        .output()
        .expect("ponte runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("secrets.yaml:4:10: invalid backend URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "a secret leaked: {stderr}");
}

#[test]
fn check_on_a_missing_directory_says_so() {
    let (code, _, stderr) = ponte(&["check", "--adapters", "no/such/dir"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no/such/dir: cannot read the adapter directory"),
        "{stderr}"
    );
}

#[test]
fn adapter_schema_file_is_fresh() {
    let generated = ponte::schema::adapter_schema();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/adapter.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/adapter.schema.json is stale: run `cargo run -- schema > schemas/adapter.schema.json`"
    );
}

#[test]
fn fixture_schema_file_is_fresh() {
    let generated = ponte::schema::fixture_schema();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/fixture.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/fixture.schema.json is stale: run `cargo run -- schema fixture > schemas/fixture.schema.json`"
    );
}

/// Adapters written by a generator (or an attacker) can be huge: `check` answers with a
/// position, never a panic, and reads a very wide response mapping in linear time.
#[test]
fn check_refuses_more_backend_headers_than_a_backend_needs_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut adapter = String::from(
        "name: wide\nbackend:\n  soap: { url: http://127.0.0.1:9/x, namespace: urn:x }\n  headers:\n",
    );
    for i in 0..40_000 {
        adapter.push_str(&format!("    X-H{i}: v\n"));
    }
    adapter.push_str("routes:\n  r: { method: GET, path: /r, operation: R }\n");
    std::fs::write(dir.path().join("wide.yaml"), adapter).unwrap();
    let (code, _, stderr) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("wide.yaml:105:5: more than 100 backend headers"),
        "{stderr}"
    );
}

#[test]
fn check_accepts_a_response_mapping_of_thousands_of_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut adapter = String::from(
        "name: wide\nbackend:\n  soap: { url: http://127.0.0.1:9/x, namespace: urn:x }\nroutes:\n  r:\n    method: GET\n    path: /r\n    operation: R\n    response:\n",
    );
    for i in 0..20_000 {
        adapter.push_str(&format!("      k{i}: Reply.F{i}\n"));
    }
    std::fs::write(dir.path().join("wide.yaml"), adapter).unwrap();
    let (code, stdout, stderr) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("ok: 1 adapter(s), 1 route(s)"),
        "{stdout}"
    );
}
