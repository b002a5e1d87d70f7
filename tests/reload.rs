//! Reload while serving: a valid edit takes effect, a broken one is refused and logged while the
//! old set keeps serving, no call fails on the way, and backends keep their runtime state.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Reply, StandIn, free_port, soap11};
use ponte::plan::LoadOptions;
use ponte::reload::{self, Source};
use ponte::server::{self, AppState, Settings};
use serde_json::{Value, json};

fn adapter(url: &str, field: &str) -> String {
    format!(
        "name: shop\nbackend:\n  soap: {{ url: \"{url}\", namespace: urn:lab }}\n  max_connections: 4\nroutes:\n  item:\n    method: GET\n    path: /item\n    operation: Item\n    response: {{ {field}: ItemResponse.Name }}\n"
    )
}

async fn serve(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, server::router(state)).await });
    base
}

#[tokio::test]
async fn a_valid_edit_takes_effect_and_a_broken_one_is_refused_while_calls_run() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<ItemResponse xmlns="urn:lab"><Name>lamp</Name></ItemResponse>"#),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, adapter(&backend.url, "name")).unwrap();
    let source = Source {
        adapters: dir.path().to_path_buf(),
        options: LoadOptions::default(),
        mocks: None,
    };
    let (loaded, _) = reload::load(&source.adapters, &source.options, None).unwrap();
    let state = AppState::new(loaded.plan, Settings::default()).unwrap();
    let base = serve(state.clone()).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let first_version = state.served.load().plan.version.clone();
    let runtime_before = state.served.load().runtimes[0].clone();

    // A bounded loop of calls runs through both reloads; every call must succeed.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = tokio::spawn({
        let (client, url) = (client.clone(), format!("{base}/shop/item"));
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        async move {
            for _ in 0..20_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::SeqCst),
                    _ => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    std::fs::write(&file, adapter(&backend.url, "title")).unwrap();
    let good = reload::reload(&source, &state);
    assert!(good.ok, "{good:?}");
    let answer: Value = client
        .get(format!("{base}/shop/item"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"title": "lamp"}), "the edit took effect");
    let second_version = state.served.load().plan.version.clone();
    assert_ne!(first_version, second_version);
    assert!(
        Arc::ptr_eq(&runtime_before, &state.served.load().runtimes[0]),
        "an unchanged backend keeps its runtime (connection limit, calls waiting)"
    );

    std::fs::write(
        &file,
        adapter(&backend.url, "title").replace("method: GET", "methd: GET"),
    )
    .unwrap();
    let broken = reload::reload(&source, &state);
    assert!(!broken.ok);
    assert!(broken.problems >= 1, "{broken:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();

    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "no call failed during the reloads"
    );
    assert!(ok.load(Ordering::SeqCst) > 10, "the loop ran");
    let ready: Value = client
        .get(format!("{base}/_ponte/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["version"],
        json!(second_version),
        "the old set keeps serving"
    );
    assert_eq!(ready["last_reload"]["ok"], json!(false));
    assert_eq!(ready["last_reload"]["problems"], json!(broken.problems));
}

/// `ponte serve` on `dir`, listening on a free port; the base URL.
fn spawn(dir: &std::path::Path, watch: bool) -> (std::process::Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ponte"));
    command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--adapters",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if watch {
        command.arg("--watch");
    }
    let child = command.spawn().expect("ponte starts");
    (child, format!("http://127.0.0.1:{port}"))
}

/// Polls `GET base/shop/item` until its answer has `field: lamp`.
async fn until_field(base: &str, field: &str) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{base}/shop/item")).send().await
            && let Ok(v) = r.json::<Value>().await
            && v[field] == "lamp"
        {
            return;
        }
        assert!(Instant::now() < deadline, "`{field}` never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sighup_reloads_a_running_process() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<ItemResponse xmlns="urn:lab"><Name>lamp</Name></ItemResponse>"#),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, adapter(&backend.url, "name")).unwrap();
    let (mut child, base) = spawn(dir.path(), false);
    until_field(&base, "name").await;
    std::fs::write(&file, adapter(&backend.url, "label")).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    until_field(&base, "label").await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not stop ponte"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn watch_reloads_when_an_adapter_file_changes() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(r#"<ItemResponse xmlns="urn:lab"><Name>lamp</Name></ItemResponse>"#),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, adapter(&backend.url, "name")).unwrap();
    let (mut child, base) = spawn(dir.path(), true);
    until_field(&base, "name").await;
    std::fs::write(&file, adapter(&backend.url, "title")).unwrap();
    until_field(&base, "title").await;
    let _ = child.kill();
    let _ = child.wait();
}
