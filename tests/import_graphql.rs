//! `ponte import graphql`: the adapters it writes, and that they pass `ponte check` unchanged.

mod common;

use std::path::Path;
use std::process::Command;

use common::{corpus, repo_path};

fn ponte(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .output()
        .expect("ponte runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Imports `schema` into a fresh folder and runs `ponte check` on it.
fn import_and_check(schema: &Path) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported.yaml");
    let (code, _, stderr) = ponte(&[
        "import",
        "graphql",
        schema.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1/graphql",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, check_err) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "the imported adapter fails ponte check:\n{check_err}"
    );
    (std::fs::read_to_string(out).unwrap(), stdout)
}

#[test]
fn imported_crm_adapter_snapshot() {
    let sdl = std::fs::read_to_string(repo_path("adapters/crm.graphql")).unwrap();
    let imported = ponte::graphql::import::import(
        &sdl,
        Path::new("crm.graphql"),
        "crm.graphql",
        "https://crm.example/graphql",
        "crm",
    )
    .unwrap();
    assert_eq!((imported.routes, imported.skipped.len()), (3, 0));
    insta::assert_snapshot!(imported.yaml);
}

#[test]
fn imported_crm_adapter_passes_check_unchanged() {
    let (yaml, stdout) = import_and_check(&repo_path("adapters/crm.graphql"));
    assert!(
        stdout.starts_with("ok: 1 adapter(s), 3 route(s)"),
        "{stdout}"
    );
    assert!(
        yaml.contains("method: POST\n    path: /create-contact"),
        "{yaml}"
    );
}

#[test]
fn a_defective_schema_is_loaded_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("defective.graphql");
    std::fs::copy(
        repo_path("tests/graphql-schemas/defective.graphql"),
        &schema,
    )
    .unwrap();
    let out = dir.path().join("boards.yaml");
    let (code, _, stderr) = ponte(&[
        "import",
        "graphql",
        schema.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1/g",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("schema: defective.graphql")
    );
    let (code, _, stderr) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: schema defect, loaded anyway"),
        "{stderr}"
    );
    assert!(
        stderr.contains("duplicate definitions for the `name` field of object type `Board`"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
fn corpus_schemas_import_and_pass_check() {
    let corpus = corpus();
    for (schema, routes) in [
        ("countries_trevorblades.graphql", 6),
        ("monday_schema.graphql", 121),
    ] {
        let (_, stdout) = import_and_check(&corpus.join("graphql").join(schema));
        assert!(
            stdout.starts_with(&format!("ok: 1 adapter(s), {routes} route(s)")),
            "{schema}: {stdout}"
        );
    }
}
