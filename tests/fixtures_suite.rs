//! `ponte test`, `serve --mock` and `serve --record` as QA and flow builders use them.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use common::{Ponte, Reply, StandIn, repo_path, soap11};
use ponte::fixture::suite::{self, Suite};
use serde_json::json;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

async fn run(adapters: &Path, fixtures: &Path, filter: Option<&str>) -> Suite {
    suite::run(adapters, fixtures, filter, &env)
        .await
        .expect("test servers start")
}

fn failures(suite: &Suite) -> Vec<String> {
    suite
        .results
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .flatten()
        .cloned()
        .collect()
}

/// A scratch copy of the shipped adapters and fixtures that a test may change.
fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        for entry in walk(from) {
            let target = to.join(entry.strip_prefix(from).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &target).unwrap();
        }
    };
    let adapters = dir.path().join("adapters");
    let fixtures = dir.path().join("fixtures");
    copy(&repo_path("adapters"), &adapters);
    copy(&repo_path("fixtures"), &fixtures);
    (dir, adapters, fixtures)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test]
async fn shipped_fixtures_pass_and_cover_every_route_both_ways() {
    let suite = run(&repo_path("adapters"), &repo_path("fixtures"), None).await;
    let problems: Vec<String> = suite.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(suite.passed(), "{}", suite::report(&suite, false));

    // Every route has a success case and a failure case.
    let loaded = ponte::plan::load_dir(&repo_path("adapters"), &env);
    let plan = loaded.plan.expect("adapters load");
    let (cases, _) = ponte::fixture::load(&repo_path("fixtures"), &plan);
    let mut success = HashSet::new();
    let mut failure = HashSet::new();
    for case in &cases {
        let key = format!("{}.{}", case.adapter, case.route);
        if (200..300).contains(&case.response.status) {
            success.insert(key)
        } else {
            failure.insert(key)
        };
    }
    for adapter in &plan.adapters {
        for route in &adapter.routes {
            let key = format!("{}.{}", adapter.name, route.name);
            assert!(success.contains(&key), "no success fixture for {key}");
            assert!(failure.contains(&key), "no failure fixture for {key}");
        }
    }
}

#[tokio::test]
async fn a_changed_soap_request_fails_with_the_path_of_the_difference() {
    let (_dir, adapters, fixtures) = scratch();
    edit(
        &adapters.join("calculator.yaml"),
        "Add: { intA: $a, intB: $b }",
        "Add: { intA: $b, intB: $a }",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(suite.results.len(), 1, "{:?}", suite.diagnostics);
    assert_eq!(
        failures(&suite),
        vec![
            r#"backend request: Envelope/Body/Add/intA: expected "2", got "3""#.to_string(),
            r#"backend request: Envelope/Body/Add/intB: expected "3", got "2""#.to_string(),
        ]
    );
}

#[tokio::test]
async fn a_changed_soap_reply_mapping_fails_on_the_response() {
    let (_dir, adapters, fixtures) = scratch();
    edit(
        &adapters.join("calculator.yaml"),
        "result: { from: AddResponse.AddResult, type: integer }",
        "result: { from: AddResponse.AddResult }",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(
        failures(&suite),
        vec![r#"response: body.result: expected 5, got "5""#.to_string()]
    );
}

#[tokio::test]
async fn a_changed_fixture_fails_both_ways() {
    let (_dir, adapters, fixtures) = scratch();
    let case = fixtures.join("calculator/add-small.yaml");
    edit(&case, "body: { result: 5 }", "body: { result: 6 }");
    edit(
        &case,
        "soap_action: http://tempuri.org/Add",
        "soap_action: http://tempuri.org/Plus",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(
        failures(&suite),
        vec![
            r#"backend request: SOAP action: expected "http://tempuri.org/Plus", got "http://tempuri.org/Add""#.to_string(),
            "response: body.result: expected 6, got 5".to_string(),
        ]
    );
}

fn lab_fixtures() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("lab");
    std::fs::create_dir_all(&lab).unwrap();
    for f in walk(&repo_path("tests/fixture-cases/lab")) {
        std::fs::copy(&f, lab.join(f.file_name().unwrap())).unwrap();
    }
    (dir, lab)
}

#[tokio::test]
async fn json_bodies_envelopes_and_headers_are_checked_both_ways() {
    let (dir, lab) = lab_fixtures();
    let adapters = repo_path("tests/adapters");
    let suite = run(&adapters, dir.path(), Some("echo")).await;
    assert!(suite.passed(), "{}", suite::report(&suite, false));

    // The caller sends another name: the envelope differs, structurally and as a tree.
    edit(
        &lab.join("echo-json.yaml"),
        "body: { name: Ada, customer: { age: 36 } }",
        "body: { name: Bob, customer: { age: 36 } }",
    );
    let suite = run(&adapters, dir.path(), Some("echo")).await;
    assert_eq!(
        failures(&suite),
        vec![
            r#"backend request: Envelope/Body/Echo/name: expected "Ada", got "Bob""#.to_string(),
            r#"backend request: Envelope/Body/Echo/name: expected "Ada", got "Bob""#.to_string(),
        ]
    );

    // A JSON response that differs names the field.
    edit(&lab.join("echo-json.yaml"), "name: Bob", "name: Ada");
    edit(
        &lab.join("echo-json.yaml"),
        "count: 1, flag: true",
        "count: 2, flag: true",
    );
    let suite = run(&adapters, dir.path(), Some("echo")).await;
    assert_eq!(
        failures(&suite),
        vec!["response: body.count: expected 2, got 1".to_string()]
    );
}

#[tokio::test]
async fn a_hanging_case_fails_at_its_timeout() {
    let (dir, lab) = lab_fixtures();
    edit(
        &lab.join("items-timeout.yaml"),
        "route: lab.items",
        "route: lab.items\ntimeout: 300ms",
    );
    let started = std::time::Instant::now();
    let suite = run(
        &repo_path("tests/adapters"),
        dir.path(),
        Some("items-timeout"),
    )
    .await;
    assert_eq!(failures(&suite), vec!["timed out after 300 ms".to_string()]);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn malformed_fixtures_are_reported_at_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let calc = dir.path().join("calculator");
    std::fs::create_dir_all(&calc).unwrap();
    std::fs::write(
        calc.join("typo.yaml"),
        "route: calculator.ad\nrequest: { path: /calculator/add }\nresponse: { status: 200 }\n",
    )
    .unwrap();
    std::fs::write(
        calc.join("keys.yaml"),
        "route: calculator.add\nrequest: { path: /calculator/add }\nrespons: { status: 200 }\n",
    )
    .unwrap();
    std::fs::write(
        calc.join("files.yaml"),
        "route: calculator.add\nrequest: { path: /calculator/add }\nbackend:\n  reply: { file: missing.xml }\nresponse: { status: 200 }\n",
    )
    .unwrap();
    std::fs::write(calc.join("bad.reply.xml"), "<a><b></a>").unwrap();
    std::fs::write(
        calc.join("xml.yaml"),
        "route: calculator.add\nrequest: { path: /calculator/add }\nbackend:\n  reply: { file: bad.reply.xml }\nresponse: { status: 200 }\n",
    )
    .unwrap();
    let suite = run(&repo_path("adapters"), dir.path(), None).await;
    let lines: Vec<String> = suite
        .diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "DIR/calculator/files.yaml:4:18: cannot read `missing.xml`: No such file or directory (os error 2) (the file is looked up beside the case file)",
            "DIR/calculator/keys.yaml:1:1: missing required key `response` (add `response:`)",
            "DIR/calculator/keys.yaml:3:1: unknown key `respons` (did you mean `response`?)",
            "DIR/calculator/typo.yaml:1:8: adapter `calculator` has no route `ad` (did you mean `calculator.add`?)",
            "DIR/calculator/xml.yaml:4:18: `bad.reply.xml` is not valid XML: not well-formed XML at byte 6: ill-formed document: expected `</b>`, but `</a>` was found",
        ]
    );
    assert!(!suite.passed());
}

#[tokio::test]
async fn a_fixture_file_reports_every_error_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let calc = dir.path().join("calculator");
    std::fs::create_dir_all(&calc).unwrap();
    std::fs::write(
        calc.join("many.yaml"),
        "route: calculator.add\nrequest: { methd: GET, path: /calculator/add }\nbackend:\n  expect: { soap_acton: x }\n  reply: { status: two }\nresponse: { status: 200, bdy: {} }\ntimeout: soon\n",
    )
    .unwrap();
    let suite = run(&repo_path("adapters"), dir.path(), None).await;
    let lines: Vec<String> = suite
        .diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "DIR/calculator/many.yaml:2:12: unknown key `methd` (did you mean `method`?)",
            "DIR/calculator/many.yaml:4:13: unknown key `soap_acton` (did you mean `soap_action`?)",
            "DIR/calculator/many.yaml:5:20: expected a whole number from 0 to 65535, found `two`",
            "DIR/calculator/many.yaml:6:26: unknown key `bdy` (did you mean `body`?)",
            "DIR/calculator/many.yaml:7:10: `soon` is not a duration (write a number and a unit: 250ms, 5s, 1.5s, 2m)",
        ]
    );
    assert!(suite.results.is_empty(), "a case with problems is not run");
}

#[tokio::test]
async fn junit_report_is_valid_xml() {
    let (_dir, adapters, fixtures) = scratch();
    edit(
        &fixtures.join("calculator/add-small.yaml"),
        "body: { result: 5 }",
        "body: { result: 6 }",
    );
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("junit.xml");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["test", "--filter", "calculator/add"])
        .arg("--adapters")
        .arg(&adapters)
        .arg("--fixtures")
        .arg(&fixtures)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout.lines().last().unwrap().ends_with("passed, 1 failed"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let root = ponte::xml::compare::parse(&xml).expect("JUnit XML is well-formed");
    assert_eq!(root.local, "testsuites");
    let suite = &root.children[0];
    let failed: Vec<_> = suite
        .children
        .iter()
        .filter(|c| !c.children.is_empty())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].children[0].local, "failure");
    assert!(failed[0].children[0].text.contains("expected 6, got 5"));
}

async fn mock_server(adapters: &Path, fixtures: &Path) -> Ponte {
    let options = ponte::plan::LoadOptions {
        missing_env_is_empty: true,
        ..Default::default()
    };
    let plan = ponte::plan::load_dir_with(adapters, &|_: &str| None, &options)
        .plan
        .expect("adapters load");
    let (cases, diagnostics) = ponte::fixture::load(fixtures, &plan);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let set = ponte::fixture::mock::MockSet::new(&plan, &cases);
    let settings = ponte::server::Settings {
        transport: ponte::backend::transport::Transport::Replay(std::sync::Arc::new(set)),
        ..Default::default()
    };
    Ponte::serve(plan, settings).await
}

#[tokio::test]
async fn mock_mode_answers_every_shipped_fixture_offline() {
    let ponte = mock_server(&repo_path("adapters"), &repo_path("fixtures")).await;
    let plan = ponte::plan::load_dir(&repo_path("adapters"), &env)
        .plan
        .unwrap();
    let (cases, _) = ponte::fixture::load(&repo_path("fixtures"), &plan);
    let mut answered: HashMap<String, u16> = HashMap::new();
    // Every case answers its own request, except those marked `mock: { skip: true }` (the same
    // request as another case); cases without a backend are answered by the facade itself.
    for case in cases.iter().filter(|c| !c.mock.skip) {
        let answer = ponte.send(request_of(&ponte, case)).await;
        assert_eq!(
            answer.status, case.response.status,
            "{}: {}",
            case.name, answer.text
        );
        let fixture = answer
            .headers
            .get("x-ponte-fixture")
            .and_then(|v| v.to_str().ok());
        match case.backend {
            Some(_) => assert_eq!(fixture, Some(case.name.as_str()), "{}", case.name),
            None => assert_eq!(fixture, None, "{}", case.name),
        }
        answered.insert(format!("{}.{}", case.adapter, case.route), answer.status);
    }
    for adapter in &plan.adapters {
        for route in &adapter.routes {
            let key = format!("{}.{}", adapter.name, route.name);
            assert!(
                answered.contains_key(&key),
                "mock mode did not answer {key}"
            );
        }
    }
}

fn request_of(ponte: &Ponte, case: &ponte::fixture::Case) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(case.request.method.as_bytes()).unwrap();
    let mut request = ponte.client.request(method, ponte.url(&case.request.path));
    for (k, v) in &case.request.headers {
        request = request.header(k, v);
    }
    if let Some(body) = &case.request.body {
        request = request.json(body);
    }
    request
}

fn fixture_header(answer: &common::Answer) -> Option<&str> {
    answer
        .headers
        .get("x-ponte-fixture")
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn mock_mode_lists_what_the_fixtures_cover_when_nothing_matches() {
    let ponte = mock_server(&repo_path("adapters"), &repo_path("fixtures")).await;
    let answer = ponte.get("/calculator/add?a=1000&b=2000").await;
    answer.assert_problem(404, "not_found");
    assert!(
        answer.json["covered"]
            .as_array()
            .unwrap()
            .contains(&json!("GET /calculator/add?a=2&b=3")),
        "{}",
        answer.text
    );
    assert_eq!(fixture_header(&answer), None);
}

#[tokio::test]
async fn mock_mode_answers_only_an_exact_match() {
    let ponte = mock_server(&repo_path("adapters"), &repo_path("fixtures")).await;
    let exact = ponte.get("/calculator/add?a=2&b=3").await;
    assert_eq!((exact.status, exact.json), (200, json!({"result": 5})));
    // One input in common is not a match: no answer of another call's data.
    for path in [
        "/calculator/add?a=2&b=4",
        "/calculator/add?a=99&b=3",
        "/calculator/divide?a=10&b=2",
    ] {
        ponte.get(path).await.assert_problem(404, "not_found");
    }
    // A JSON body matches by value: another contact is not the one that already exists.
    let new = ponte
        .post_json(
            "/crm/contacts",
            &json!({"first_name": "Ana", "last_name": "Lima", "email": "ana@lima.com.br"}),
        )
        .await;
    new.assert_problem(404, "not_found");
    let same = ponte
        .post_json(
            "/crm/contacts",
            &json!({"email": "ana@souza.com.br", "last_name": "Souza", "first_name": "Ana"}),
        )
        .await;
    same.assert_problem(422, "invalid_contact");
    // Several cases make the same request: the one not marked `skip` answers.
    let countries = ponte.get("/countryinfo/countries").await;
    assert_eq!(countries.status, 200, "{}", countries.text);
    assert_eq!(countries.json["countries"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn mock_answer_names_its_fixture_in_a_header() {
    let ponte = mock_server(&repo_path("adapters"), &repo_path("fixtures")).await;
    let ok = ponte.get("/calculator/add?a=2&b=3").await;
    assert_eq!(fixture_header(&ok), Some("calculator/add-small"));
    let fault = ponte.get("/calculator/divide?a=1&b=0").await;
    fault.assert_problem(422, "division_by_zero");
    assert_eq!(fixture_header(&fault), Some("calculator/divide-by-zero"));
    let bad_input = ponte.get("/calculator/add?a=two&b=3").await;
    assert_eq!(bad_input.status, 400);
    assert_eq!(fixture_header(&bad_input), None, "no fixture answered");
}

#[tokio::test]
async fn mock_matchers_let_an_input_match_loosely() {
    let (_dir, adapters, fixtures) = scratch();
    let case = fixtures.join("calculator/add-small.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(
        &case,
        format!("{text}mock:\n  match:\n    b: {{ any: true }}\n    a: {{ regex: \"[0-9]\" }}\n"),
    )
    .unwrap();
    let ponte = mock_server(&adapters, &fixtures).await;
    let loose = ponte.get("/calculator/add?a=2&b=4").await;
    assert_eq!(
        (loose.status, loose.json.clone()),
        (200, json!({"result": 5}))
    );
    assert_eq!(fixture_header(&loose), Some("calculator/add-small"));
    // An exact match wins over a loose one.
    let exact = ponte.get("/calculator/add?a=-7&b=3").await;
    assert_eq!(fixture_header(&exact), Some("calculator/add-negative"));
    // The regex matches the whole text.
    let answer = ponte.get("/calculator/add?a=22&b=3").await;
    answer.assert_problem(404, "not_found");
    assert!(
        answer.json["covered"]
            .as_array()
            .unwrap()
            .contains(&json!("GET /calculator/add?a=2&b=3 (b: any, a: /[0-9]/)")),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn mock_fallback_fixture_answers_what_no_fixture_matches() {
    let (_dir, adapters, fixtures) = scratch();
    let case = fixtures.join("calculator/add-small.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(&case, format!("{text}mock: {{ fallback: true }}\n")).unwrap();
    let ponte = mock_server(&adapters, &fixtures).await;
    let other = ponte.get("/calculator/add?a=99&b=1").await;
    assert_eq!(
        (other.status, other.json.clone()),
        (200, json!({"result": 5}))
    );
    assert_eq!(fixture_header(&other), Some("calculator/add-small"));
    // An exact match still answers with its own fixture; other routes keep their 404.
    let exact = ponte.get("/calculator/add?a=-7&b=3").await;
    assert_eq!(fixture_header(&exact), Some("calculator/add-negative"));
    ponte
        .get("/calculator/multiply?a=9&b=9")
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn two_fallback_fixtures_of_a_route_are_a_load_error() {
    let (dir, adapters, fixtures) = scratch();
    for name in ["add-small", "add-negative"] {
        let case = fixtures.join(format!("calculator/{name}.yaml"));
        let text = std::fs::read_to_string(&case).unwrap();
        std::fs::write(&case, format!("{text}mock: {{ fallback: true }}\n")).unwrap();
    }
    let plan = ponte::plan::load_dir(&adapters, &env).plan.unwrap();
    let (_, diagnostics) = ponte::fixture::load(&fixtures, &plan);
    let lines: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "DIR/fixtures/calculator/add-small.yaml:14:19: route `calculator.add` already has a fallback case: DIR/fixtures/calculator/add-negative.yaml (mock mode answers with one fallback per route; keep one)"
        ]
    );
}

#[tokio::test]
async fn a_mock_matcher_must_name_an_input_of_the_route() {
    let (dir, adapters, fixtures) = scratch();
    let case = fixtures.join("calculator/add-small.yaml");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(
        &case,
        format!("{text}mock: {{ match: {{ bb: {{ any: true }} }} }}\n"),
    )
    .unwrap();
    let plan = ponte::plan::load_dir(&adapters, &env).plan.unwrap();
    let (_, diagnostics) = ponte::fixture::load(&fixtures, &plan);
    let lines: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "DIR/fixtures/calculator/add-small.yaml:14:18: route `calculator.add` has no input `bb` (did you mean `b`?)"
        ]
    );
}

#[tokio::test]
async fn ponte_test_with_no_selected_case_fails() {
    let suite = run(
        &repo_path("adapters"),
        &repo_path("fixtures"),
        Some("no-such-case"),
    )
    .await;
    assert!(!suite.passed());
    assert_eq!(suite.failed(), 0, "no case ran, so none failed");
    let lines: Vec<String> = suite.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("--filter `no-such-case` selects none of the")),
        "{lines:?}"
    );
    let empty = tempfile::tempdir().unwrap();
    let suite = run(&repo_path("adapters"), empty.path(), None).await;
    assert!(!suite.passed());
    assert!(
        suite.diagnostics[0]
            .to_string()
            .contains("no fixture cases found; nothing was tested"),
        "{:?}",
        suite.diagnostics
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["test", "--filter", "no-such-case"])
        .current_dir(repo_path(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("selects none of the"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_case_whose_request_reaches_another_route_fails() {
    let (dir, adapters, fixtures) = scratch();
    edit(
        &fixtures.join("calculator/add-small.yaml"),
        "route: calculator.add",
        "route: calculator.subtract",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert!(!suite.passed());
    let lines: Vec<String> = suite
        .diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines[0],
        "DIR/fixtures/calculator/add-small.yaml:2:8: the request `GET /calculator/add` reaches `calculator.add`, not `calculator.subtract` (write `route: calculator.add`, or change the request)"
    );
}

#[tokio::test]
async fn every_difference_of_a_case_is_listed() {
    let (_dir, adapters, fixtures) = scratch();
    let case = fixtures.join("calculator/add-small.yaml");
    edit(&case, "body: { result: 5 }", "body: { result: 6, note: x }");
    edit(&case, "intA: 2, intB: 3", "intA: 1, intB: 4");
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(
        failures(&suite),
        vec![
            r#"backend request: Envelope/Body/Add/intA: expected "1", got "2""#.to_string(),
            r#"backend request: Envelope/Body/Add/intB: expected "4", got "3""#.to_string(),
            "response: body.result: expected 6, got 5".to_string(),
            r#"response: body.note: missing (expected "x")"#.to_string(),
        ]
    );
}

#[tokio::test]
async fn missing_and_unexpected_fields_are_named_so() {
    let (_dir, adapters, fixtures) = scratch();
    edit(
        &fixtures.join("calculator/add-small.yaml"),
        "body: { result: 5 }",
        "body: { total: 5 }",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(
        failures(&suite),
        vec![
            "response: body.total: missing (expected 5)".to_string(),
            "response: body.result: unexpected 5".to_string(),
        ]
    );
}

#[tokio::test]
async fn a_wrong_namespace_in_the_soap_body_fails_the_case() {
    let (_dir, adapters, fixtures) = scratch();
    let adapter = adapters.join("calculator.yaml");
    edit(
        &adapter,
        "namespace: http://tempuri.org/",
        "namespace: http://tempuri.org/v2/\n    soap_action: http://tempuri.org/{operation}",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    assert_eq!(
        failures(&suite),
        vec![
            r#"backend request: Envelope/Body/Add: expected namespace "http://tempuri.org/", got "http://tempuri.org/v2/""#.to_string(),
        ]
    );
}

#[tokio::test]
async fn recorded_fixtures_replay_green_with_secrets_redacted() {
    let adapter = r#"
name: vault
backend:
  soap:
    url: "${URL}"
    namespace: "urn:vault"
    headers: { Auth: { User: svc, Password: "${VAULT_PASSWORD}" } }
routes:
  open:
    method: POST
    path: /open
    input:
      box: { in: body }
      pin: { in: body, name: access_token }
    operation: Open
    request: { Open: { box: $box, token: $pin } }
    response:
      content: OpenResponse.Content
      session: OpenResponse.SessionToken
"#;
    let adapters = tempfile::tempdir().unwrap();
    std::fs::write(adapters.path().join("vault.yaml"), adapter).unwrap();
    let backend = StandIn::always(Reply::xml(
        200,
        soap11("<OpenResponse xmlns=\"urn:vault\"><Content>gold</Content><SessionToken>s-123-secret</SessionToken></OpenResponse>"),
    ))
    .await;
    let recordings = tempfile::tempdir().unwrap();
    let vars = HashMap::from([
        ("URL".to_string(), backend.url.clone()),
        ("VAULT_PASSWORD".to_string(), "hunter2".to_string()),
    ]);
    let lookup = move |n: &str| vars.get(n).cloned();
    let plan = ponte::plan::load_dir(adapters.path(), &lookup)
        .plan
        .unwrap();
    let recorder = ponte::fixture::record::Recorder::new(recordings.path().to_path_buf(), vec![]);
    let settings = ponte::server::Settings {
        observers: vec![std::sync::Arc::new(recorder)],
        ..Default::default()
    };
    let ponte = Ponte::serve(plan, settings).await;
    let answer = ponte
        .post_json(
            "/vault/open",
            &json!({"box": "b1", "access_token": "t-999"}),
        )
        .await;
    assert_eq!(
        answer.json,
        json!({"content": "gold", "session": "s-123-secret"}),
        "{}",
        answer.text
    );
    assert!(
        backend.last().body.contains("hunter2"),
        "the live call carries the real secret"
    );

    let written: Vec<PathBuf> = walk(recordings.path());
    assert_eq!(written.len(), 2, "{written:?}");
    for file in &written {
        let text = std::fs::read_to_string(file).unwrap();
        for secret in ["hunter2", "s-123-secret", "t-999"] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {}:\n{text}",
                file.display()
            );
        }
    }
    let suite = run(adapters.path(), recordings.path(), None).await;
    assert!(suite.diagnostics.is_empty(), "{:?}", suite.diagnostics);
    assert_eq!(suite.results.len(), 1);
    assert!(suite.passed(), "{}", suite::report(&suite, false));
}

#[tokio::test]
async fn recorded_graphql_calls_replay_green() {
    let reply = r#"{"data":{"contact":{"firstName":"Ana","phone":"+55 11 4000-0000"}}}"#;
    let backend = StandIn::always(Reply::xml(200, reply).with_type("application/json")).await;
    let recordings = tempfile::tempdir().unwrap();
    let vars = HashMap::from([
        ("CRM_URL".to_string(), backend.url.clone()),
        ("CRM_TOKEN".to_string(), "s3cret".to_string()),
    ]);
    let lookup = move |n: &str| vars.get(n).cloned();
    let plan = ponte::plan::load_dir(&repo_path("tests/graphql-adapters"), &lookup)
        .plan
        .unwrap();
    let recorder = ponte::fixture::record::Recorder::new(recordings.path().to_path_buf(), vec![]);
    let settings = ponte::server::Settings {
        observers: vec![std::sync::Arc::new(recorder)],
        ..Default::default()
    };
    let ponte = Ponte::serve(plan, settings).await;
    let answer = ponte.get("/crmlab/strict/3").await;
    assert_eq!(
        answer.json,
        json!({"name": "Ana", "phone": "+55 11 4000-0000"}),
        "{}",
        answer.text
    );

    let case = std::fs::read_to_string(recordings.path().join("crmlab/strict-1.yaml")).unwrap();
    assert!(
        case.contains("variables:") && case.contains("id: \"3\""),
        "{case}"
    );
    assert!(
        recordings
            .path()
            .join("crmlab/strict-1.reply.json")
            .exists()
    );
    let suite = run(
        &repo_path("tests/graphql-adapters"),
        recordings.path(),
        None,
    )
    .await;
    assert!(suite.diagnostics.is_empty(), "{:?}", suite.diagnostics);
    assert_eq!(suite.results.len(), 1);
    assert!(suite.passed(), "{}", suite::report(&suite, false));
}

#[tokio::test]
async fn a_soap_body_without_its_namespace_is_a_warning() {
    let (dir, adapters, fixtures) = scratch();
    edit(
        &fixtures.join("calculator/add-small.yaml"),
        "    namespace: http://tempuri.org/\n",
        "",
    );
    let suite = run(&adapters, &fixtures, Some("calculator/add-small")).await;
    let lines: Vec<String> = suite
        .diagnostics
        .iter()
        .map(|d| {
            d.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "DIR/fixtures/calculator/add-small.yaml:8:11: warning: `body` compares local names only: the Body's namespace is not checked (add `namespace:` with the namespace URI the operation element must be in)"
        ]
    );
    assert!(suite.passed(), "a warning does not fail the run");
    assert_eq!(suite.results.len(), 1);
}
