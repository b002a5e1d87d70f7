//! The landing and docs page at `/` and `/_ponte/docs`: every route listed, adapter text
//! escaped, and `/_ponte/` kept for ponte's own endpoints.

mod common;

use std::collections::HashMap;

use common::{Ponte, repo_path};

async fn bundled() -> Ponte {
    let env = [
        "CALCULATOR_URL",
        "CALCULATOR12_URL",
        "COUNTRYINFO_URL",
        "CORREIOS_URL",
    ]
    .into_iter()
    .map(|k| (k.to_string(), "http://127.0.0.1:9/".to_string()))
    .collect();
    let loaded = ponte::plan::load_dir(&repo_path("adapters"), &move |k: &str| {
        HashMap::<String, String>::get(&env, k).cloned()
    });
    let settings = ponte::server::Settings {
        examples: Some(repo_path("fixtures")),
        ..Default::default()
    };
    Ponte::serve(loaded.plan.expect("the bundled adapters load"), settings).await
}

#[tokio::test]
async fn the_landing_page_lists_every_bundled_route_with_a_try_it_form() {
    let ponte = bundled().await;
    let page = ponte.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    let plan = ponte::plan::load_dir(&repo_path("adapters"), &|_| None);
    for adapter in &plan.plan.unwrap().adapters {
        assert!(
            page.text.contains(&format!("id=\"a-{}\"", adapter.name)),
            "{}",
            adapter.name
        );
        for route in &adapter.routes {
            let path = format!("<code>/{}{}</code>", adapter.name, route.path);
            assert!(page.text.contains(&path), "{path} is not on the page");
            assert!(
                page.text
                    .contains(&format!("data-route=\"{}.{}\"", adapter.name, route.name)),
                "{}.{}",
                adapter.name,
                route.name
            );
        }
    }
    // The try-it form of calculator.add starts with the fixture's inputs.
    assert!(
        page.text
            .contains("<form class=\"try\" data-method=\"GET\" data-path=\"/calculator/add\">")
    );
    assert!(page.text.contains(
        "<input name=\"a\" data-in=\"query\" data-type=\"integer\" value=\"-7\" required>"
    ));
    // Nothing is fetched from elsewhere.
    for remote in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(http",
    ] {
        assert!(!page.text.contains(remote), "the page loads {remote}…");
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");

    let docs = ponte.get("/_ponte/docs").await;
    assert_eq!(docs.status, 200);
    assert_eq!(docs.text, page.text);
}

#[tokio::test]
async fn adapter_text_is_escaped_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil.yaml"),
        "name: evil\ndescription: \"<script>alert('adapter')</script>\"\nbackend:\n  http: { url: \"http://127.0.0.1:9/\" }\nroutes:\n  item:\n    method: GET\n    path: /item\n    description: \"<img src=x onerror=alert(1)> & more\"\n    input: { q: { in: query, description: \"\\\"><b>bold</b>\" } }\n    call: { path: /x, query: { q: $q } }\n    response: { name: item.name }\n",
    )
    .unwrap();
    let ponte = Ponte::start(dir.path(), HashMap::new()).await;
    let page = ponte.get("/").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains("<script>alert"), "{}", page.text);
    assert!(!page.text.contains("<img"));
    assert!(!page.text.contains("<b>bold"));
    assert!(
        page.text
            .contains("&lt;script&gt;alert(&#39;adapter&#39;)&lt;/script&gt;")
    );
    assert!(
        page.text
            .contains("&lt;img src=x onerror=alert(1)&gt; &amp; more")
    );
    assert!(page.text.contains("&quot;&gt;&lt;b&gt;bold&lt;/b&gt;"));
}

#[test]
fn an_adapter_cannot_be_named_to_shadow_the_operational_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ops.yaml"),
        "name: _ponte\nbackend:\n  http: { url: \"http://127.0.0.1:9/\" }\nroutes:\n  docs:\n    method: GET\n    path: /docs\n    call: { path: /x }\n    response: { name: item.name }\n",
    )
    .unwrap();
    let loaded = ponte::plan::load_dir(dir.path(), &|_| None);
    assert!(loaded.plan.is_none());
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("adapter name `_ponte` cannot be a URL prefix")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn unknown_paths_are_still_problem_json_404s() {
    let ponte = bundled().await;
    for path in [
        "/nowhere",
        "/_ponte/nothing",
        "/calculator/nothing",
        "/_ponte",
    ] {
        ponte.get(path).await.assert_problem(404, "not_found");
    }
}
