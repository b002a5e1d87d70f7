//! The pieces of work the micro benchmark times, shared with `ponte-load micro`, and the mode
//! that runs one of them N times and nothing else, so that `valgrind --tool=callgrind` counts its
//! instructions (noise on the machine does not change them; the count at N minus the count at 0,
//! over N, is one run's):
//!
//! `PONTE_BENCH_CALLS=N PONTE_BENCH_SIZE=<1KiB|100KiB|5MiB> PONTE_BENCH_WORK=<work>`, where work
//! is `floor` (a bare quick-xml event loop), `interpret` (route `countries`: reply bytes -> the
//! answer's JSON text, reading everything), `part` (route `codes`: one field per country), or
//! `request` (JSON body -> inputs -> envelope; the size is ignored).

use std::hint::black_box;
use std::path::Path;

use bytes::Bytes;
use ponte::kind::BackendReply;
use ponte::plan::{self, Plan, RoutePlan};
use quick_xml::NsReader;
use quick_xml::events::Event;

pub const SIZES: [(&str, usize); 3] = [
    ("1KiB", 1024),
    ("100KiB", 100 * 1024),
    ("5MiB", 5 * 1024 * 1024),
];
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The floor: every event of the document read with namespaces resolved, nothing kept.
pub fn floor(xml: &[u8]) -> usize {
    let mut reader = NsReader::from_reader(xml);
    let mut events = 0usize;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) => return events,
            Ok(_) => events += 1,
            Err(e) => panic!("generated XML does not parse: {e}"),
        }
    }
}

/// Loads `dir` and insists that it is valid: a benchmark of a failing load measures nothing.
pub fn load(dir: &Path) -> Plan {
    let loaded = plan::load_dir(dir, &|_: &str| None);
    match loaded.plan {
        Some(plan) => plan,
        None => {
            for d in &loaded.diagnostics {
                eprintln!("{d}");
            }
            panic!("the generated adapters do not load");
        }
    }
}

/// The bench adapter, loaded (the folder lives as long as the plan is used).
pub fn bench_plan() -> (tempfile::TempDir, Plan) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bench.yaml"),
        super::bench_adapter("bench", "BENCH_URL"),
    )
    .expect("write adapter");
    let plan = load(dir.path());
    (dir, plan)
}

/// `countries` reads everything of the reply; `codes` one field per country.
pub fn route<'p>(plan: &'p Plan, name: &str) -> &'p RoutePlan {
    plan.adapters[0]
        .routes
        .iter()
        .find(|r| r.name == name)
        .expect("the bench route")
}

/// A 200 reply of about `n` bytes.
pub fn reply(n: usize) -> BackendReply {
    BackendReply {
        status: 200,
        content_type: Some(CONTENT_TYPE.to_string()),
        body: Bytes::from(super::reply_of_size(n)),
        retry_after: None,
    }
}

/// The reply path: bytes -> the answer's JSON text.
pub fn interpret(route: &RoutePlan, reply: &BackendReply) -> Vec<u8> {
    route
        .call
        .interpret(&route.reading, reply)
        .expect("the reply maps")
}

/// The request side: JSON body -> inputs -> envelope.
pub fn request(route: &RoutePlan) -> Bytes {
    ponte::benching::request_from_json(route, super::BENCH_REQUEST_JSON.as_bytes())
        .expect("the bench body is valid")
        .body
}

/// Runs the work the environment names (see the module header); false when it names none.
pub fn count_from_env() -> bool {
    let (Some(n), Ok(size)) = (
        std::env::var("PONTE_BENCH_CALLS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok()),
        std::env::var("PONTE_BENCH_SIZE"),
    ) else {
        return false;
    };
    let work = std::env::var("PONTE_BENCH_WORK").unwrap_or_else(|_| "interpret".into());
    let Some(&(_, bytes)) = SIZES.iter().find(|(label, _)| *label == size) else {
        panic!("PONTE_BENCH_SIZE is one of 1KiB, 100KiB, 5MiB");
    };
    let (_dir, plan) = bench_plan();
    let countries = route(&plan, "countries");
    let codes = route(&plan, "codes");
    let reply = reply(bytes);
    for _ in 0..n {
        match work.as_str() {
            "floor" => {
                black_box(floor(&reply.body));
            }
            "interpret" => {
                black_box(interpret(countries, &reply));
            }
            "part" => {
                black_box(interpret(codes, &reply));
            }
            "request" => {
                black_box(request(countries));
            }
            other => panic!("PONTE_BENCH_WORK `{other}`: floor, interpret, part or request"),
        }
    }
    true
}
