//! Micro benchmarks of the translation path (issue 5).
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench translate
//! ```
//!
//! Groups (criterion, throughput in MiB/s of reply bytes):
//! - `reply/<size>/floor`: a bare quick-xml `NsReader` namespace-aware event loop over the reply,
//!   nothing built: the floor for any XML reader.
//! - `reply/<size>/read_soap`: reply XML -> the index of the Body that mappings read
//!   (`xml::reader::read_soap`, building an `xml::doc::Doc`).
//! - `reply/<size>/answer`: the route's response mapping over that index, written as JSON text
//!   (`Mapping::answer`).
//! - `reply/<size>/interpret`: the whole reply path, bytes -> the answer's JSON text, what the
//!   facade writes back (`Call::interpret`, charset decoding included), for a mapping that reads
//!   everything (route `countries`).
//! - `reply/<size>/interpret_part`: the same for a mapping that reads one field per country
//!   (route `codes`): the rest of the reply is skipped unread (issue 15: faster than the floor).
//! - `envelope/render`: request envelope building (`SoapCall::render`).
//! - `request/json_to_envelope`: the request side as the facade runs it: the JSON body parsed,
//!   the route's inputs decoded and validated, the envelope built (`benching::request_from_json`).
//! - `load/100_adapters`: reading, checking and compiling 100 adapter files (`plan::load_dir`).
//!
//! After the criterion groups a plain summary table is printed from a separate timing loop: MiB/s
//! of the floor and of `interpret` per size, and their ratio (target: >= 85%; `interpret_part`:
//! above 100%).
//!
//! Instruction counts (issue 15): `PONTE_BENCH_CALLS=N PONTE_BENCH_SIZE=<size>
//! PONTE_BENCH_WORK=<floor|interpret|part|request>` runs that work N times and nothing else, for
//! `valgrind --tool=callgrind` (`support/work.rs`; `bench/callgrind.sh micro` does it with the
//! same code in `ponte-load micro` and prints the table).

mod support;

use std::hint::black_box;
use std::path::Path as FsPath;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use ponte::kind::{BackendReply, Call};
use ponte::plan::RoutePlan;
use ponte::soap::{SoapReply, read_soap};
use ponte::xml::reader::Limits;
use serde_json::{Value, json};
use support::work::{SIZES, bench_plan, floor, interpret, load, reply, request, route};

const CATALOGUE: usize = 100;

fn catalogue_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..CATALOGUE {
        std::fs::write(
            dir.path().join(format!("svc{i:03}.yaml")),
            support::catalogue_adapter(i),
        )
        .expect("write adapter");
    }
    dir
}

/// Reads the reply into its index and drops it.
fn read_doc(route: &RoutePlan, xml: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(xml) else {
        return false;
    };
    matches!(
        read_soap(text, &route.reading.hints, Limits::default()),
        Ok(SoapReply::Body(_))
    )
}

/// Maps an index read beforehand: what `answer` hands to its caller to time.
type Mapped<'a> = &'a dyn Fn() -> Vec<u8>;

/// The mapping over an index read beforehand.
fn answer(route: &RoutePlan, xml: &[u8], run: &mut dyn FnMut(Mapped)) {
    let text = std::str::from_utf8(xml).expect("UTF-8");
    match read_soap(text, &route.reading.hints, Limits::default()) {
        Ok(SoapReply::Body(doc)) => run(&|| {
            route
                .reading
                .response
                .answer(doc.body())
                .expect("the reply maps")
        }),
        other => panic!("unexpected reply: {other:?}"),
    }
}

/// The route's SOAP envelope for these inputs.
fn envelope(route: &RoutePlan, values: &[Option<Value>]) -> String {
    match &route.call {
        Call::Soap(soap) => soap.render(values),
        _ => panic!("the bench route is SOAP"),
    }
}

struct Replies {
    sizes: Vec<(&'static str, BackendReply)>,
}

impl Replies {
    fn new() -> Replies {
        Replies {
            sizes: SIZES.iter().map(|(label, n)| (*label, reply(*n))).collect(),
        }
    }
}

fn check(route: &RoutePlan, part: &RoutePlan, replies: &Replies) {
    let envelope = String::from_utf8(request(route).to_vec()).expect("UTF-8");
    assert!(envelope.contains("Saint Kitts &amp; Nevis &lt;islands&gt;"));
    assert!(envelope.contains(">250<"));
    for (label, reply) in &replies.sizes {
        let codes: Value = serde_json::from_slice(&interpret(part, reply)).expect("JSON");
        let codes = codes["codes"].as_array().expect("codes");
        assert_eq!(codes[0], json!({ "code": "C0000" }), "{label}");
        assert!(
            codes.len() > 1 || *label == "1KiB",
            "{label}: {}",
            codes.len()
        );
        let answer: Value = serde_json::from_slice(&interpret(route, reply)).expect("JSON");
        let countries = answer["countries"].as_array().expect("countries");
        assert!(!countries.is_empty(), "{label}: nothing mapped");
        assert_eq!(countries[0]["code"], json!("C0000"));
        assert_eq!(countries[0]["phone_code"], json!(100));
        assert_eq!(countries[0]["languages"][0]["name"], json!("English"));
        assert!(countries[0]["name"].as_str().unwrap().contains('&'));
    }
}

fn bench_replies(c: &mut Criterion, route: &RoutePlan, part: &RoutePlan, replies: &Replies) {
    let mut group = c.benchmark_group("reply");
    for (label, reply) in &replies.sizes {
        let xml = &reply.body;
        let big = xml.len() > 1 << 20;
        group.throughput(Throughput::Bytes(xml.len() as u64));
        if big {
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
        } else {
            group.sampling_mode(SamplingMode::Auto);
            group.sample_size(30);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
        }
        group.bench_with_input(BenchmarkId::new(*label, "floor"), xml, |b, xml| {
            b.iter(|| floor(black_box(xml)))
        });
        group.bench_with_input(BenchmarkId::new(*label, "read_soap"), xml, |b, xml| {
            b.iter(|| read_doc(route, black_box(xml)))
        });
        answer(route, xml, &mut |mapped| {
            group.bench_function(BenchmarkId::new(*label, "answer"), |b| {
                b.iter(|| black_box(mapped()))
            });
        });
        group.bench_with_input(BenchmarkId::new(*label, "interpret"), reply, |b, reply| {
            b.iter(|| interpret(route, black_box(reply)))
        });
        group.bench_with_input(
            BenchmarkId::new(*label, "interpret_part"),
            reply,
            |b, reply| b.iter(|| interpret(part, black_box(reply))),
        );
    }
    group.finish();
}

fn envelope_values() -> Vec<Option<Value>> {
    vec![
        Some(json!("EU")),
        Some(json!(250)),
        Some(json!("Saint Kitts & Nevis <islands>")),
    ]
}

fn bench_envelope(c: &mut Criterion, route: &RoutePlan) {
    let values = envelope_values();
    let sample = envelope(route, &values);
    assert!(sample.contains("Saint Kitts &amp; Nevis &lt;islands&gt;"));
    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Bytes(sample.len() as u64));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("render", |b| b.iter(|| envelope(route, black_box(&values))));
    group.finish();
    let mut group = c.benchmark_group("request");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("json_to_envelope", |b| b.iter(|| request(black_box(route))));
    group.finish();
}

fn bench_load(c: &mut Criterion, dir: &FsPath) {
    let bytes: u64 = std::fs::read_dir(dir)
        .expect("read catalogue")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum();
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(bytes));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(format!("{CATALOGUE}_adapters"), |b| {
        b.iter(|| load(black_box(dir)))
    });
    group.finish();
}

/// Median seconds per call of `f`, from `rounds` rounds of at least `round` each.
fn time_per_call<T>(rounds: usize, round: Duration, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..3 {
        black_box(f());
    }
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0u32;
            while n < 2 || start.elapsed() < round {
                black_box(f());
                n += 1;
            }
            start.elapsed().as_secs_f64() / f64::from(n)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[per_call.len() / 2]
}

fn mib_per_s(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / seconds / (1024.0 * 1024.0)
}

fn summary(route: &RoutePlan, part: &RoutePlan, replies: &Replies, catalogue: &FsPath) {
    const ROUNDS: usize = 5;
    let round = Duration::from_millis(250);
    println!();
    println!("== summary (own timing loop: median of {ROUNDS} rounds of >= 250 ms) ==");
    println!(
        "{:<8} {:>9} {:>11} {:>13} {:>13} {:>13} {:>15} {:>15}",
        "reply",
        "bytes",
        "floor MiB/s",
        "read_soap",
        "answer us",
        "interpret",
        "interpret/floor",
        "part/floor"
    );
    for (label, reply) in &replies.sizes {
        let xml = &reply.body;
        let t_floor = time_per_call(ROUNDS, round, || floor(xml));
        let t_read = time_per_call(ROUNDS, round, || read_doc(route, xml));
        let mut t_answer = 0.0;
        answer(route, xml, &mut |mapped| {
            t_answer = time_per_call(ROUNDS, round, mapped);
        });
        let t_interpret = time_per_call(ROUNDS, round, || interpret(route, reply));
        let t_part = time_per_call(ROUNDS, round, || interpret(part, reply));
        let n = xml.len();
        println!(
            "{:<8} {:>9} {:>11.1} {:>13.1} {:>13.1} {:>13.1} {:>14.1}% {:>14.1}%",
            label,
            n,
            mib_per_s(n, t_floor),
            mib_per_s(n, t_read),
            t_answer * 1e6,
            mib_per_s(n, t_interpret),
            100.0 * t_floor / t_interpret,
            100.0 * t_floor / t_part,
        );
    }
    println!(
        "(read_soap and interpret in MiB/s of reply XML; interpret ends with the answer's JSON text; targets: interpret/floor >= 85%, part/floor > 100%)"
    );
    let t_request = time_per_call(ROUNDS, round, || request(route));
    println!(
        "request side (JSON body -> inputs -> envelope): {:.0} ns per call",
        t_request * 1e9
    );
    let values = envelope_values();
    let t_env = time_per_call(ROUNDS, round, || envelope(route, &values));
    println!(
        "envelope render: {:.0} ns per envelope ({} bytes)",
        t_env * 1e9,
        envelope(route, &values).len()
    );
    assert_eq!(load(catalogue).adapters.len(), CATALOGUE);
    let mut loads: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            black_box(load(catalogue));
            start.elapsed().as_secs_f64()
        })
        .collect();
    loads.sort_by(f64::total_cmp);
    println!(
        "load_dir of {CATALOGUE} adapters: median {:.1} ms, min {:.1} ms, max {:.1} ms (7 runs; target < 200 ms)",
        loads[loads.len() / 2] * 1e3,
        loads[0] * 1e3,
        loads[loads.len() - 1] * 1e3,
    );
}

fn main() {
    // `PONTE_BENCH_CALLS=N ...`: one piece of work N times, for callgrind (support/work.rs).
    if support::work::count_from_env() {
        return;
    }
    let (_dir, plan) = bench_plan();
    let part = route(&plan, "codes");
    let route = route(&plan, "countries");
    let replies = Replies::new();
    check(route, part, &replies);
    let catalogue = catalogue_dir();

    let mut c = Criterion::default().configure_from_args();
    bench_replies(&mut c, route, part, &replies);
    bench_envelope(&mut c, route);
    bench_load(&mut c, catalogue.path());
    c.final_summary();

    if wants_summary() {
        summary(route, part, &replies, catalogue.path());
    }
}

/// The plain table runs with `cargo bench` and no filter, or with the filter `summary`; not
/// under `cargo test --benches` (no `--bench`), `--profile-time` or another filter.
fn wants_summary() -> bool {
    // Criterion options that take a value (the value is not a filter).
    const WITH_VALUE: &[&str] = &[
        "--baseline",
        "--baseline-lenient",
        "--color",
        "--confidence-level",
        "--load-baseline",
        "--measurement-time",
        "--noise-threshold",
        "--nresamples",
        "--output-format",
        "--plotting-backend",
        "--profile-time",
        "--sample-size",
        "--save-baseline",
        "--significance-level",
        "--warm-up-time",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--profile-time") {
        return false;
    }
    let mut filters = Vec::new();
    let mut skip_value = false;
    for arg in &args {
        if skip_value {
            skip_value = false;
        } else if arg.starts_with('-') {
            skip_value = WITH_VALUE.contains(&arg.as_str());
        } else {
            filters.push(arg.as_str());
        }
    }
    filters.is_empty() || filters == ["summary"]
}
