//! `ponte check` on GraphQL routes: reply paths against the query's selection (aliases, inline
//! and named fragments, the schema's scalars), and inputs against the variables they feed.

use std::process::Command;

fn check(dir: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["check", "--adapters", dir])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ponte runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn slips() -> String {
    let (code, stderr) = check("tests/graphql-check");
    assert_eq!(code, 1, "{stderr}");
    stderr
}

#[test]
fn check_reports_a_response_path_the_query_does_not_select() {
    let stderr = slips();
    assert!(
        stderr.contains("slips.yaml:13:13: response path `contact.nmae`: the query does not select `nmae` in `contact` (did you mean `contact.name`?)"),
        "{stderr}"
    );
    // `{ from: ... }` paths that are selected pass.
    assert!(!stderr.contains("contact.email"), "{stderr}");
}

#[test]
fn check_reports_a_not_found_path_the_query_does_not_select() {
    assert!(
        slips().contains("slips.yaml:15:16: not_found path `contact.nme`: the query does not select `nme` in `contact` (did you mean `contact.name`?)")
    );
}

#[test]
fn check_reports_each_fields_relative_to_their_elements() {
    let stderr = slips();
    assert!(
        stderr.contains("slips.yaml:21:61: response path `company.city`: the query does not select `city` in `contacts.company`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`name`: the query"), "{stderr}");
}

#[test]
fn check_reports_a_wrong_each_path_once_not_for_every_field() {
    let stderr = slips();
    assert!(
        stderr.contains("slips.yaml:67:23: `each` path `contact`: the query does not select `contact` in the operation's top level (did you mean `contacts`?)"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("slips.yaml:67:").count(), 1, "{stderr}");
}

#[test]
fn check_counts_aliases_and_fragments_as_the_reply_names_them() {
    let stderr = slips();
    // `person.fullName`, `person.email` (inline fragment), `person.status` (named fragment) pass.
    for ok in ["person.fullName", "person.email`", "person.status"] {
        assert!(!stderr.contains(ok), "{ok}: {stderr}");
    }
    assert!(
        stderr.contains("slips.yaml:36:14: response path `person.name`: the query does not select `name` in `person`"),
        "{stderr}"
    );
}

#[test]
fn check_reports_a_path_into_a_scalar_with_the_schema() {
    assert!(slips().contains(
        "slips.yaml:43:24: response path `contact.name.first`: `contact.name` is a String, the path cannot go into it"
    ));
}

#[test]
fn check_reports_an_optional_input_feeding_a_non_null_variable() {
    let stderr = slips();
    assert!(
        stderr.contains("slips.yaml:51:25: input `first` is optional but feeds variable `$first: Int!`, which the operation requires"),
        "{stderr}"
    );
    // An input with a default always has a value.
    assert!(!stderr.contains("input `status`"), "{stderr}");
}

#[test]
fn check_reports_an_optional_input_feeding_a_required_input_object_field() {
    assert!(slips().contains(
        "slips.yaml:60:33: input `name` is optional but feeds field `name: String!` of `ContactInput`"
    ));
}

#[test]
fn check_reports_exactly_the_slips() {
    assert!(slips().ends_with("error: 8 problem(s) found\n"));
}
