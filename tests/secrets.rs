//! Values from the environment are secrets: `check` and `serve` name the variable instead of
//! printing the value, whatever field it landed in, and `serve --record` writes none of them.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Ponte, Reply, StandIn, repo_path, soap11, soap11_fault};

/// Each variable of tests/secret-adapters/leaky.yaml and a value that does not fit its field.
const LEAKS: [(&str, &str); 7] = [
    ("LEAK_VERSION", "s3cr3t-version-XYZ"),
    ("LEAK_TIMEOUT", "s3cr3t-timeout-XYZ"),
    ("LEAK_CONNECTIONS", "s3cr3t-connections-XYZ"),
    ("LEAK_ATTEMPTS", "s3cr3t-attempts-XYZ"),
    ("LEAK_BACKOFF", "s3cr3t-backoff-XYZ"),
    ("LEAK_METHOD", "s3cr3t-method-XYZ"),
    ("LEAK_PATTERN", "s3cr3t-(pattern-XYZ"),
];

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .envs(LEAKS)
        .output()
        .expect("ponte runs");
    assert!(!out.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_no_leak(output: &str) {
    for (name, value) in LEAKS {
        assert!(!output.contains(value), "`{name}` leaked:\n{output}");
        assert!(
            !output.contains("s3cr3t"),
            "a part of a secret leaked:\n{output}"
        );
    }
}

#[test]
fn check_names_the_variable_instead_of_printing_its_value() {
    let output = run(&["check", "--adapters", "tests/secret-adapters"]);
    assert_no_leak(&output);
    for name in [
        "LEAK_VERSION",
        "LEAK_TIMEOUT",
        "LEAK_CONNECTIONS",
        "LEAK_METHOD",
    ] {
        assert!(
            output.contains(&format!("the value of ${{{name}}}"))
                || output.contains(&format!("${{{name}}}")),
            "{name} is not named:\n{output}"
        );
    }
    assert!(output.contains("leaky.yaml:9:12"), "{output}");
}

#[test]
fn serve_refusing_the_adapters_prints_no_secret_either() {
    let output = run(&[
        "serve",
        "--adapters",
        "tests/secret-adapters",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(output.contains("nothing served"), "{output}");
    assert_no_leak(&output);
}

const KEY: &str = "sk-record-TOPSECRET-9876";

#[tokio::test]
async fn recording_redacts_a_secret_the_backend_echoes() {
    let backend = StandIn::start(|got| {
        let key = got
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if got.body.contains("fault") {
            Reply::xml(
                500,
                soap11_fault("Client", &format!("key {key} is not allowed")),
            )
        } else {
            Reply::xml(
                200,
                soap11(&format!(
                    "<LookupResponse><Value>you are {key}</Value></LookupResponse>"
                )),
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("SHOP_URL".to_string(), backend.url.clone()),
        ("SHOP_KEY".to_string(), KEY.to_string()),
    ]
    .into();
    let lookup = move |name: &str| env.get(name).cloned();
    let plan = ponte::plan::load_dir(&repo_path("tests/hostile-adapters"), &lookup)
        .plan
        .expect("loads");
    let recorder = ponte::fixture::record::Recorder::new(dir.path().to_path_buf(), Vec::new());
    let settings = ponte::server::Settings {
        observers: vec![std::sync::Arc::new(recorder)],
        ..Default::default()
    };
    let ponte = Ponte::serve(plan, settings).await;
    let fault = ponte.get("/shop/lookup?case=fault").await;
    assert_eq!(fault.status, 502, "{}", fault.text);
    fault.assert_hides(KEY);
    let echoed = ponte.get("/shop/lookup?case=plain").await;
    assert_eq!(echoed.status, 200);
    assert!(backend.last().headers.get("x-api-key").is_some());

    let mut written = Vec::new();
    for entry in walk(dir.path()) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains(KEY),
            "{} holds the secret:\n{text}",
            entry.display()
        );
        written.push(text);
    }
    assert!(written.len() >= 4, "{} files recorded", written.len());
    assert!(
        written
            .iter()
            .any(|t| t.contains("key REDACTED is not allowed")
                || t.contains("key *** is not allowed")),
        "{written:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
