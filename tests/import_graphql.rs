//! `ponte import graphql`: the adapters it writes, and that they pass `ponte check` unchanged.

mod common;

use std::path::Path;

use common::{corpus, repo_path, run_ponte as ponte, run_ponte_in as ponte_in};

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

/// The lab schema (defaulted non-null arguments, list fields of input objects, a field that
/// always errors) imported with `options`.
fn import_lab(extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lab.yaml");
    let schema = repo_path("tests/graphql-check/lab.graphql");
    let mut args = vec![
        "import",
        "graphql",
        schema.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1/graphql",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = ponte(&args);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, check_err) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "the imported adapter fails check:\n{check_err}");
    (std::fs::read_to_string(out).unwrap(), stderr)
}

#[test]
fn import_keeps_defaults_of_non_null_arguments() {
    let (yaml, _) = import_lab(&[]);
    // The variable keeps the default, so leaving the input out works; the input says it too.
    assert!(
        yaml.contains("query Contacts($first: Int! = 10, $status: Status! = ACTIVE)"),
        "{yaml}"
    );
    assert!(
        yaml.contains("first:\n        in: query\n        type: integer\n        default: 10\n"),
        "{yaml}"
    );
}

#[test]
fn import_keeps_list_fields_of_input_objects() {
    let (yaml, _) = import_lab(&[]);
    // Optional and required lists of an input object, and an optional object with required
    // fields, come whole as json inputs (checked against the schema before each call).
    for (input, required) in [
        ("input_tags", false),
        ("input_labels", true),
        ("input_address", false),
    ] {
        let at = yaml
            .find(&format!("      {input}:\n"))
            .unwrap_or_else(|| panic!("{input} missing:\n{yaml}"));
        let block: String = yaml[at..]
            .lines()
            .skip(1)
            .take(5)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(block.contains("type: json"), "{input}: {block}");
        assert_eq!(
            !block.contains("required: false"),
            required,
            "{input}: {block}"
        );
    }
    assert!(
        yaml.contains("tags: $input_tags\n        labels: $input_labels"),
        "{yaml}"
    );
    assert!(yaml.contains("status: $input_status"), "{yaml}");
}

#[test]
fn import_gives_single_object_queries_not_found() {
    let (yaml, _) = import_lab(&[]);
    assert!(
        yaml.contains("      credit_score: contact.creditScore\n    not_found: contact\n"),
        "{yaml}"
    );
    // Lists and mutations have none.
    assert_eq!(yaml.matches("not_found:").count(), 1, "{yaml}");
}

#[test]
fn import_depth_and_exclude_are_reported() {
    let (yaml, stderr) = import_lab(&[]);
    assert!(yaml.contains("creditScore"), "selected by default: {yaml}");
    assert!(
        stderr.contains("0 root field(s) skipped, 1 field(s) not selected"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not selected Company.address: deeper than --depth 2"),
        "{stderr}"
    );

    let (yaml, stderr) = import_lab(&["--depth", "1", "--exclude", "Contact.creditScore"]);
    assert!(!yaml.contains("creditScore }"), "{yaml}");
    assert!(!yaml.contains("credit_score:"), "{yaml}");
    assert!(!yaml.contains("company {"), "{yaml}");
    assert!(
        stderr.contains("0 root field(s) skipped, 2 field(s) not selected"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not selected Contact.company: deeper than --depth 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not selected Contact.creditScore: excluded (--exclude)"),
        "{stderr}"
    );
    assert!(yaml.contains("# not selected Contact.creditScore: excluded"));

    let (_, stderr) = import_lab(&["--exclude", "Mutation.createContact"]);
    assert!(
        stderr.contains("imported 2 route(s); 1 root field(s) skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped mutation createContact: excluded (--exclude)"),
        "{stderr}"
    );
}

#[test]
fn import_refuses_an_exclude_that_names_no_field() {
    let schema = repo_path("tests/graphql-check/lab.graphql");
    let (code, _, stderr) = ponte(&[
        "import",
        "graphql",
        schema.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1/graphql",
        "--exclude",
        "Contact.creditScor",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr
            .contains("`Contact` has no field `creditScor` (did you mean `Contact.creditScore`?)"),
        "{stderr}"
    );
}

#[test]
fn import_to_stdout_writes_a_schema_path_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("adapters")).unwrap();
    std::fs::copy(
        repo_path("tests/graphql-check/lab.graphql"),
        dir.path().join("lab.graphql"),
    )
    .unwrap();
    // `> adapters/lab.yaml`: the path is relative to adapters/ when it exists.
    let (code, stdout, stderr) = ponte_in(
        dir.path(),
        &[
            "import",
            "graphql",
            "lab.graphql",
            "--url",
            "http://127.0.0.1:1/g",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("schema: \"../lab.graphql\""), "{stdout}");
    assert!(stderr.contains("is relative to adapters"), "{stderr}");
    std::fs::write(dir.path().join("adapters/lab.yaml"), &stdout).unwrap();
    let (code, _, stderr) = ponte_in(dir.path(), &["check", "--adapters", "adapters"]);
    assert_eq!(code, 0, "{stderr}");

    // `--relative-to` names the folder explicitly.
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let (code, stdout, _) = ponte_in(
        dir.path(),
        &[
            "import",
            "graphql",
            "lab.graphql",
            "--url",
            "http://127.0.0.1:1/g",
            "--relative-to",
            "elsewhere",
        ],
    );
    assert_eq!(code, 0);
    std::fs::write(dir.path().join("elsewhere/lab.yaml"), &stdout).unwrap();
    let (code, _, stderr) = ponte_in(dir.path(), &["check", "--adapters", "elsewhere"]);
    assert_eq!(code, 0, "{stderr}");

    // A folder that does not exist cannot anchor the path.
    let (code, _, stderr) = ponte_in(
        dir.path(),
        &[
            "import",
            "graphql",
            "lab.graphql",
            "--url",
            "http://127.0.0.1:1/g",
            "--relative-to",
            "nowhere",
        ],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("nowhere is not a folder"), "{stderr}");
}

#[test]
#[ignore = "needs PONTE_CORPUS (the shared corpus); .ci/run sets it"]
fn corpus_schemas_import_with_depth_and_exclude_and_pass_check() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("countries.yaml");
    let schema = corpus.join("graphql/countries_trevorblades.graphql");
    let (code, _, stderr) = ponte(&[
        "import",
        "graphql",
        schema.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:1/graphql",
        "-o",
        out.to_str().unwrap(),
        "--depth",
        "1",
        "--exclude",
        "Country.capital",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not selected Country.capital: excluded"),
        "{stderr}"
    );
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains("not_found: country"), "{yaml}");
    let (code, _, stderr) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
}
