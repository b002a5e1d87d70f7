//! Rate limits: a backend's quota (outbound, with a queue or failing fast) and what each caller
//! may ask of an adapter or one of its routes (inbound, per credential, else per client address).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Answer, Ponte, Reply, StandIn, repo_path, soap11};

fn ok() -> Reply {
    Reply::xml(
        200,
        soap11(r#"<ReadResponse xmlns="urn:lab"><Ok>yes</Ok></ReadResponse>"#),
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A stand-in that notes the wall-clock millisecond each call arrived at.
async fn timed_backend() -> (StandIn, Arc<Mutex<Vec<u64>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let log = arrivals.clone();
    let backend = StandIn::start(move |_| {
        log.lock().unwrap().push(now_ms());
        ok()
    })
    .await;
    (backend, arrivals)
}

/// ponte over `tests/limits-adapters` (the harness serves with peer addresses, as `ponte
/// serve` does, so inbound limits see who calls).
async fn ponte(backend: &StandIn) -> Ponte {
    let env = HashMap::from([("LIMITS_URL".to_string(), backend.url.clone())]);
    Ponte::start(&repo_path("tests/limits-adapters"), env).await
}

fn retry_after(answer: &Answer) -> u64 {
    answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", answer.headers))
}

#[tokio::test]
async fn a_backend_quota_of_n_per_second_holds_under_50_concurrent_callers() {
    let (backend, arrivals) = timed_backend().await;
    let ponte = Arc::new(ponte(&backend).await);
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let ponte = ponte.clone();
            tokio::spawn(async move { ponte.get("/queued/read").await })
        })
        .collect();
    let mut admitted = 0;
    for call in calls {
        let answer = call.await.unwrap();
        match answer.status {
            200 => admitted += 1,
            _ => {
                answer.assert_problem(429, "rate_limited");
                assert!(retry_after(&answer) >= 1);
            }
        }
    }
    let mut per_second: BTreeMap<u64, u32> = BTreeMap::new();
    for at in arrivals.lock().unwrap().iter() {
        *per_second.entry(at / 1000).or_default() += 1;
    }
    // 10 a second; a call admitted at the very end of a second may arrive in the next one.
    assert!(
        per_second.values().all(|n| *n <= 11),
        "calls per second at the backend: {per_second:?}"
    );
    assert_eq!(
        backend.count(),
        admitted,
        "every admitted call reached the backend"
    );
    // Queued calls wait for later windows within their 3 s: more than one window's worth go.
    assert!(admitted > 10, "only {admitted} admitted: {per_second:?}");
    assert!(
        admitted < 50,
        "a 3 s budget cannot hold 50 calls at 10 a second"
    );
}

#[tokio::test]
async fn without_a_queue_a_call_over_the_quota_is_429_at_once_and_not_sent() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    for _ in 0..3 {
        assert_eq!(ponte.get("/quota/read").await.status, 200);
    }
    let started = Instant::now();
    let answer = ponte.get("/quota/read").await;
    answer.assert_problem(429, "rate_limited");
    assert!(started.elapsed() < Duration::from_millis(500));
    // The day's window ends at midnight UTC: the caller is told how long that is.
    let left_today = 86_400 - (now_ms() / 1000) % 86_400;
    assert!(retry_after(&answer).abs_diff(left_today) <= 2);
    assert_eq!(backend.count(), 3, "the refused call was not sent");
}

#[tokio::test]
async fn a_queued_call_waits_for_the_next_window_and_a_full_queue_fails_fast() {
    let (backend, arrivals) = timed_backend().await;
    let ponte = Arc::new(ponte(&backend).await);
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let ponte = ponte.clone();
            tokio::spawn(async move { ponte.get("/lone/read").await })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        let answer = call.await.unwrap();
        if answer.status != 200 {
            answer.assert_problem(429, "rate_limited");
        }
        statuses.push(answer.status);
    }
    statuses.sort_unstable();
    // One goes now, one waits in the queue of one for the next second, the third is refused.
    assert_eq!(statuses, [200, 200, 429]);
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 2);
    assert_ne!(
        arrivals[0] / 1000,
        arrivals[1] / 1000,
        "one call per second"
    );
}

fn client_from(address: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::V4(address))
        .build()
        .unwrap()
}

#[tokio::test]
async fn each_client_address_has_its_own_inbound_limit() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    let first = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let second = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let get = |client: &reqwest::Client| ponte.send(client.get(ponte.url("/guarded/read")));
    assert_eq!(get(&first).await.status, 200);
    assert_eq!(get(&first).await.status, 200);
    let refused = get(&first).await;
    refused.assert_problem(429, "rate_limited");
    assert!(retry_after(&refused) >= 1);
    // Another address is counted on its own.
    assert_eq!(get(&second).await.status, 200);
    assert_eq!(backend.count(), 3, "the refused call was not sent");
}

#[tokio::test]
async fn a_route_with_its_own_limit_counts_apart_from_the_adapters() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    let client = client_from(Ipv4Addr::new(127, 0, 0, 3));
    let get = |path: &str| ponte.send(client.get(ponte.url(path)));
    assert_eq!(get("/guarded/strict").await.status, 200);
    get("/guarded/strict")
        .await
        .assert_problem(429, "rate_limited");
    // The adapter's own limit (2 a day) is untouched by the route's calls.
    assert_eq!(get("/guarded/read").await.status, 200);
    assert_eq!(get("/guarded/read").await.status, 200);
    get("/guarded/read")
        .await
        .assert_problem(429, "rate_limited");
    assert_eq!(backend.count(), 3);
}

#[tokio::test]
async fn each_api_key_has_its_own_inbound_limit_whatever_address_it_calls_from() {
    let backend = StandIn::always(ok()).await;
    let ponte = ponte(&backend).await;
    let get = |client: &reqwest::Client, key: &str| {
        ponte.send(
            client
                .get(ponte.url("/keyed/read"))
                .header("X-Api-Key", key.to_string()),
        )
    };
    let here = client_from(Ipv4Addr::new(127, 0, 0, 4));
    let there = client_from(Ipv4Addr::new(127, 0, 0, 5));
    // One key's two calls a day, from two addresses: the third call is refused from either.
    assert_eq!(get(&here, "flows-key-0123456789").await.status, 200);
    assert_eq!(get(&there, "flows-key-0123456789").await.status, 200);
    get(&here, "flows-key-0123456789")
        .await
        .assert_problem(429, "rate_limited");
    // Another key from the same address is counted on its own.
    assert_eq!(get(&here, "crm-key-0123456789").await.status, 200);
    // A wrong key is refused by auth before it counts against anyone.
    get(&here, "not-a-key")
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(get(&there, "crm-key-0123456789").await.status, 200);
    assert_eq!(backend.count(), 4, "refused calls were not sent");
}
