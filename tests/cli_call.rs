//! `ponte call ADAPTER.ROUTE`: the backend request printed (--dry-run), or sent to a stand-in with
//! both sides and the answer printed.

mod common;

use std::process::{Command, Output};

use common::{Reply, StandIn, repo_path, soap11};

fn ponte_call(args: &[&str], shop_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ponte"))
        .arg("call")
        .args(args)
        .arg("--adapters")
        .arg(repo_path("tests/observe-adapters"))
        .env("SHOP_URL", shop_url)
        .env("SHOP_KEY", "flow-key-7f3a")
        .env("SHOP_SECRET", "env-secret-42")
        .env_remove("PONTE_ADAPTERS")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ponte_call_dry_run_prints_the_envelope_with_secrets_masked() {
    let out = ponte_call(
        &[
            "shop.pay",
            "--input",
            "card=4111111111111111",
            "--input",
            "amount=10",
            "--dry-run",
        ],
        "http://127.0.0.1:9/shop",
    );
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The URL came from the environment: like every such value, it is not printed.
    assert!(text.starts_with("POST ***\n"), "{text}");
    assert!(text.contains("\nsoapaction: \""), "{text}");
    assert!(text.contains("CardNumber>***</"), "{text}");
    assert!(text.contains("Amount>10</"), "{text}");
    // Pretty: one element a line, indented.
    assert!(
        text.contains("\n      <wsse:UsernameToken>***</wsse:UsernameToken>\n"),
        "{text}"
    );
    for hidden in ["4111111111111111", "literal-hunter2", "env-secret-42"] {
        assert!(!text.contains(hidden), "`{hidden}` printed: {text}");
    }
}

#[test]
fn ponte_call_with_a_bad_input_prints_the_facades_400() {
    let out = ponte_call(
        &[
            "shop.pay",
            "--input",
            "card=1",
            "--input",
            "amount=lots",
            "--dry-run",
        ],
        "http://127.0.0.1:9/shop",
    );
    let text = stdout(&out);
    assert!(!out.status.success());
    assert!(text.starts_with("HTTP 400\n"), "{text}");
    let problem: serde_json::Value = serde_json::from_str(&text["HTTP 400\n".len()..]).unwrap();
    assert_eq!(problem["code"], "bad_input");
    assert_eq!(problem["errors"][0]["field"], "amount");
}

#[tokio::test(flavor = "multi_thread")]
async fn ponte_call_sends_and_prints_both_sides_and_the_answer() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11("<GetPriceResponse><Price>12.5</Price></GetPriceResponse>"),
    ))
    .await;
    let url = backend.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        ponte_call(&["shop.price", "--input", "sku=A-1"], &url)
    })
    .await
    .unwrap();
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Sku>A-1</"), "{text}");
    assert!(text.contains("--- reply: HTTP 200"), "{text}");
    assert!(text.contains("<Price>12.5</Price>"), "{text}");
    assert!(
        text.contains("--- answer: HTTP 200\n{\n  \"price\": 12.5\n}"),
        "{text}"
    );
    assert!(backend.last().body.contains("Sku>A-1</"));
    assert!(!text.contains("env-secret-42"), "{text}");
}
