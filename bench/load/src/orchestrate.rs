//! `ponte-load run`: starts the stand-in backend, the byte-forwarding proxy and ponte on
//! 127.0.0.1, drives each with oha at the same concurrency, reads each server's CPU time and peak
//! memory from /proc, and prints the results as Markdown.
//!
//! Options (all optional):
//!   --duration S      seconds per measurement (10)
//!   --warmup S        seconds of load before each measurement, not counted (2)
//!   --connections N   concurrent connections of every throughput run (32)
//!   --many N          connections of the held-connections run against ponte (1000)
//!   --oha PATH        the load generator (oha on PATH)
//!   --gen wrk         drive the full-load runs with wrk instead of oha (fixed-rate runs stay on
//!                     oha; wrk cannot hold a rate)
//!   --wrk PATH        wrk (wrk on PATH)
//!   --no-pin          do not pin: by default the servers share CPU 0 and oha runs on CPU 1
//!   --json FILE       also write every number as JSON to FILE

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{flag, support};

mod callgrind;
mod floor;
mod nginx;
mod wrk;

pub use callgrind::callgrind;
pub use floor::floor;

struct Options {
    duration: u64,
    warmup: u64,
    connections: usize,
    many: usize,
    oha: String,
    /// Full-load runs with wrk instead of oha.
    gen_wrk: bool,
    wrk: String,
    pin: bool,
    json: Option<PathBuf>,
    /// `--backend-server nginx`: the canned replies come from nginx instead of the axum stand-in
    /// (the issue 15 setup); `stand-in` (the default) keeps the stand-in.
    nginx_backend: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let num = |name: &str, default: u64| -> Result<u64, String> {
            flag(args, name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| format!("{name} takes a number"))
            })
        };
        Ok(Options {
            duration: num("--duration", 10)?,
            warmup: num("--warmup", 2)?,
            connections: num("--connections", 32)? as usize,
            many: num("--many", 1000)? as usize,
            oha: flag(args, "--oha").unwrap_or_else(|| "oha".into()),
            gen_wrk: match flag(args, "--gen").as_deref() {
                None | Some("oha") => false,
                Some("wrk") => true,
                Some(other) => return Err(format!("--gen takes oha or wrk, not {other}")),
            },
            wrk: flag(args, "--wrk").unwrap_or_else(|| "wrk".into()),
            pin: !args.iter().any(|a| a == "--no-pin"),
            json: flag(args, "--json").map(PathBuf::from),
            nginx_backend: match flag(args, "--backend-server").as_deref() {
                None | Some("stand-in") => false,
                Some("nginx") => true,
                Some(other) => {
                    return Err(format!(
                        "--backend-server takes stand-in or nginx, not {other}"
                    ));
                }
            },
        })
    }
}

/// A server process started by the orchestrator; killed (by its own id) when dropped.
struct Server {
    child: Child,
    addr: String,
    /// Files the server needs while it runs (nginx's configuration and logs).
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    fn start(opts: &Options, args: &[&str]) -> Result<Server, String> {
        Server::start_with(opts, args, &[])
    }

    /// Starts a role with extra environment variables.
    fn start_with(opts: &Options, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = if opts.pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        command.args(args).envs(env.iter().copied());
        Server::spawn(command, args)
    }

    /// Runs `command` (a role of this program, perhaps under another tool) until it prints
    /// `listening ADDR`.
    fn spawn(mut command: Command, args: &[&str]) -> Result<Server, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {args:?}: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let Some(addr) = line.trim().strip_prefix("listening ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{args:?} did not start"));
        };
        Ok(Server {
            addr: addr.to_string(),
            child,
            _dir: None,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    (field(11).unwrap_or(0.0) + field(12).unwrap_or(0.0)) / ticks
}

/// Minor page faults of a process so far (each a page the kernel had to map, zeroed, because the
/// allocator had given it back or never touched it).
fn minor_faults(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0.0)
}

/// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in MiB.
fn memory_mib(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// mimalloc's own defaults (ponte sets low-memory ones unless these variables are set).
const MIMALLOC_DEFAULTS: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "2"),
    ("MIMALLOC_PURGE_DELAY", "1000"),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Direct,
    Proxy,
    /// Debian's nginx as a reverse proxy: the floor not written here (issue 15).
    Nginx,
    Ponte,
    PonteNoLog,
    /// ponte with mimalloc's own defaults instead of ponte's low-memory settings
    /// (`MIMALLOC_ARENA_EAGER_COMMIT=2 MIMALLOC_PURGE_DELAY=1000`; see `src/memory.rs`).
    PonteMimallocDefaults,
    /// ponte on a runtime with one worker thread (`TOKIO_WORKER_THREADS=1`): no work stealing,
    /// no second worker competing for the CPU it is pinned to.
    PonteOneWorker,
}

impl Kind {
    fn is_ponte(self) -> bool {
        matches!(
            self,
            Kind::Ponte | Kind::PonteNoLog | Kind::PonteMimallocDefaults | Kind::PonteOneWorker
        )
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Direct => "a. backend direct (SOAP)",
            Kind::Proxy => "b. byte-forwarding proxy",
            Kind::Nginx => "b'. nginx proxy (floor)",
            Kind::Ponte => "c. ponte JSON->SOAP->JSON",
            Kind::PonteNoLog => "c'. ponte, access log off",
            Kind::PonteMimallocDefaults => "c''. ponte, mimalloc's default settings",
            Kind::PonteOneWorker => "c'''. ponte, one worker thread",
        }
    }
}

/// What one oha run did.
#[derive(Default, Clone)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    responses: u64,
    ok: u64,
    failed: u64,
}

struct Request<'a> {
    url: String,
    body: &'a Path,
    content_type: &'a str,
    soap_action: Option<&'a str>,
}

fn oha(
    opts: &Options,
    request: &Request,
    connections: usize,
    seconds: u64,
    rate: Option<f64>,
) -> Result<Load, String> {
    if opts.gen_wrk && rate.is_none() {
        return wrk::run(opts, request, connections, seconds);
    }
    let mut command = if opts.pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", &opts.oha]);
        c
    } else {
        Command::new(&opts.oha)
    };
    command.args([
        "--no-tui",
        "--output-format",
        "json",
        "-w",
        "-z",
        &format!("{seconds}s"),
        "-c",
        &connections.to_string(),
        "-m",
        "POST",
        "-T",
        request.content_type,
    ]);
    command.arg("-D").arg(request.body);
    if let Some(action) = request.soap_action {
        command.args(["-H", &format!("SOAPAction: \"{action}\"")]);
    }
    if let Some(q) = rate {
        command.args(["-q", &format!("{q:.0}"), "--latency-correction"]);
    }
    command.arg(&request.url);
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", opts.oha))?;
    if !output.status.success() {
        return Err(format!("oha failed: {}", output.status));
    }
    let v: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("oha's output is not JSON: {e}"))?;
    let num = |v: &Value| v.as_f64().unwrap_or(0.0);
    let mut load = Load {
        rps: num(&v["summary"]["requestsPerSec"]),
        p50_ms: num(&v["metrics"]["latency_ms"]["p50"]),
        p99_ms: num(&v["metrics"]["latency_ms"]["p99"]),
        p999_ms: num(&v["latencyPercentiles"]["p99.9"]) * 1000.0,
        ..Load::default()
    };
    if let Some(codes) = v["statusCodeDistribution"].as_object() {
        for (code, n) in codes {
            let n = n.as_u64().unwrap_or(0);
            load.responses += n;
            if code.starts_with('2') {
                load.ok += n;
            } else {
                load.failed += n;
            }
        }
    }
    if let Some(errors) = v["errorDistribution"].as_object() {
        for (what, n) in errors {
            eprintln!("  oha error: {what}: {n}");
            load.failed += n.as_u64().unwrap_or(0);
        }
    }
    Ok(load)
}

/// One measured configuration: its load and what the servers spent on it.
#[derive(Clone)]
struct Measured {
    name: String,
    kind: Kind,
    size: &'static str,
    connections: usize,
    rate: Option<f64>,
    load: Load,
    /// CPU seconds of the server under test (proxy or ponte; the backend itself for `Direct`).
    sut_cpu: f64,
    backend_cpu: f64,
    sut_peak_mib: f64,
    backend_peak_mib: f64,
    /// Minor page faults of the server under test during the measurement.
    sut_faults: f64,
}

impl Measured {
    fn faults_per_request(&self) -> f64 {
        self.sut_faults / (self.load.responses.max(1) as f64)
    }

    fn per_1k(&self, cpu: f64) -> f64 {
        if self.load.responses == 0 {
            0.0
        } else {
            cpu / self.load.responses as f64 * 1000.0
        }
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name, "size": self.size, "connections": self.connections,
            "rate": self.rate, "requests_per_s": self.load.rps, "p50_ms": self.load.p50_ms,
            "p99_ms": self.load.p99_ms, "p99_9_ms": self.load.p999_ms,
            "responses": self.load.responses, "ok": self.load.ok, "failed": self.load.failed,
            "sut_cpu_s": self.sut_cpu, "backend_cpu_s": self.backend_cpu,
            "sut_cpu_s_per_1k": self.per_1k(self.sut_cpu),
            "backend_cpu_s_per_1k": self.per_1k(self.backend_cpu),
            "sut_peak_rss_mib": self.sut_peak_mib, "backend_peak_rss_mib": self.backend_peak_mib,
            "sut_minor_faults_per_request": self.faults_per_request(),
        })
    }
}

struct Bench {
    opts: Options,
    ticks: f64,
    dir: tempfile::TempDir,
    envelope: PathBuf,
    json_body: PathBuf,
}

impl Bench {
    fn start_pair(&self, kind: Kind) -> Result<(Server, Option<Server>), String> {
        let backend = if self.opts.nginx_backend {
            nginx::start_backend(&self.opts)?
        } else {
            Server::start(&self.opts, &["backend"])?
        };
        let base = backend.url("");
        let adapters = self.dir.path().join("adapters");
        let adapters = adapters.to_str().ok_or("temp path is not UTF-8")?;
        let front = match kind {
            Kind::Direct => None,
            Kind::Proxy => Some(Server::start(&self.opts, &["proxy", "--backend", &base])?),
            Kind::Nginx => Some(nginx::start(&self.opts, &backend.addr)?),
            Kind::Ponte | Kind::PonteNoLog | Kind::PonteMimallocDefaults | Kind::PonteOneWorker => {
                let log = if kind == Kind::PonteNoLog {
                    "off"
                } else {
                    "human"
                };
                let env: &[(&str, &str)] = match kind {
                    Kind::PonteMimallocDefaults => &MIMALLOC_DEFAULTS,
                    Kind::PonteOneWorker => &[("TOKIO_WORKER_THREADS", "1")],
                    _ => &[],
                };
                Some(Server::start_with(
                    &self.opts,
                    &[
                        "ponte",
                        "--adapters",
                        adapters,
                        "--backend",
                        &base,
                        "--log",
                        log,
                    ],
                    env,
                )?)
            }
        };
        Ok((backend, front))
    }

    fn request<'a>(&'a self, kind: Kind, size: &str, server: &Server) -> Request<'a> {
        match kind {
            Kind::Direct | Kind::Proxy | Kind::Nginx => Request {
                url: server.url(&format!("/{size}")),
                body: &self.envelope,
                content_type: "text/xml; charset=utf-8",
                soap_action: Some(support::NS),
            },
            Kind::Ponte | Kind::PonteNoLog | Kind::PonteMimallocDefaults | Kind::PonteOneWorker => {
                Request {
                    url: server.url(&format!("/{size}/countries")),
                    body: &self.json_body,
                    content_type: "application/json",
                    soap_action: None,
                }
            }
        }
    }

    fn measure(
        &self,
        kind: Kind,
        size: &'static str,
        connections: usize,
        rate: Option<f64>,
    ) -> Result<Measured, String> {
        let name = match rate {
            Some(q) => format!("{} @ {q:.0} req/s", kind.label()),
            None => kind.label().to_string(),
        };
        eprintln!("-- {name}, {size} reply, {connections} connections");
        let (backend, front) = self.start_pair(kind)?;
        let sut = front.as_ref().unwrap_or(&backend);
        let request = self.request(kind, size, sut);
        if self.opts.warmup > 0 {
            oha(&self.opts, &request, connections, self.opts.warmup, rate)?;
        }
        let cpu_before = (
            cpu_seconds(sut.pid(), self.ticks),
            cpu_seconds(backend.pid(), self.ticks),
        );
        let faults_before = minor_faults(sut.pid());
        let load = oha(&self.opts, &request, connections, self.opts.duration, rate)?;
        let sut_faults = minor_faults(sut.pid()) - faults_before;
        let (sut_cpu, backend_cpu) = (
            cpu_seconds(sut.pid(), self.ticks) - cpu_before.0,
            cpu_seconds(backend.pid(), self.ticks) - cpu_before.1,
        );
        let measured = Measured {
            name,
            kind,
            size,
            connections,
            rate,
            load,
            sut_cpu,
            backend_cpu: if front.is_some() { backend_cpu } else { 0.0 },
            sut_peak_mib: memory_mib(sut.pid(), "VmHWM"),
            backend_peak_mib: memory_mib(backend.pid(), "VmHWM"),
            sut_faults,
        };
        eprintln!(
            "   {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} failed",
            measured.load.rps, measured.load.p50_ms, measured.load.p99_ms, measured.load.failed
        );
        Ok(measured)
    }

    /// `--many` connections against ponte (or the proxy, for comparison) for the run's duration:
    /// errors and memory over time.
    fn many_connections(&self, kind: Kind) -> Result<Value, String> {
        let n = self.opts.many;
        eprintln!(
            "-- {} with {n} connections held for {} s",
            kind.label(),
            self.opts.duration
        );
        let (backend, front) = self.start_pair(kind)?;
        let ponte = front.ok_or("no server")?;
        let request = self.request(kind, "small", &ponte);
        let rss_started = memory_mib(ponte.pid(), "VmRSS");
        oha(
            &self.opts,
            &request,
            self.opts.connections,
            self.opts.warmup.max(1),
            None,
        )?;
        std::thread::sleep(Duration::from_millis(500));
        let rss_before = memory_mib(ponte.pid(), "VmRSS");
        let hwm_before = memory_mib(ponte.pid(), "VmHWM");
        let cpu_before = cpu_seconds(ponte.pid(), self.ticks);
        let pid = ponte.pid();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut samples = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    samples.push(memory_mib(pid, "VmRSS"));
                    std::thread::sleep(Duration::from_millis(500));
                }
                samples
            })
        };
        let load = oha(&self.opts, &request, n, self.opts.duration, None)?;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let samples = sampler.join().map_err(|_| "sampler panicked")?;
        let cpu = cpu_seconds(ponte.pid(), self.ticks) - cpu_before;
        std::thread::sleep(Duration::from_secs(2));
        let rss_after = memory_mib(ponte.pid(), "VmRSS");
        let peak = memory_mib(ponte.pid(), "VmHWM");
        let sample_max = samples.iter().copied().fold(0.0, f64::max);
        eprintln!(
            "   {:.0} req/s, p99 {:.2} ms, {} failed; RSS {:.1} -> peak {:.1} -> {:.1} MiB",
            load.rps, load.p99_ms, load.failed, rss_before, peak, rss_after
        );
        drop(backend);
        Ok(json!({
            "server": kind.label(), "connections": n, "seconds": self.opts.duration, "requests_per_s": load.rps,
            "p50_ms": load.p50_ms, "p99_ms": load.p99_ms, "responses": load.responses,
            "ok": load.ok, "failed": load.failed,
            "cpu_s_per_1k": if load.responses > 0 { cpu / load.responses as f64 * 1000.0 } else { 0.0 },
            "rss_at_start_mib": rss_started, "rss_before_mib": rss_before,
            "peak_before_mib": hwm_before, "rss_max_sampled_mib": sample_max,
            "rss_samples_mib": samples, "peak_rss_mib": peak, "rss_after_mib": rss_after,
        }))
    }

    /// Startup with 100 adapters: in-process (load_dir + router) and as a process (spawn until
    /// it accepts and answers /_ponte/health).
    fn startup(&self) -> Result<Value, String> {
        eprintln!("-- startup with 100 adapters");
        let catalogue = self.dir.path().join("catalogue");
        std::fs::create_dir_all(&catalogue).map_err(|e| e.to_string())?;
        for i in 0..100 {
            std::fs::write(
                catalogue.join(format!("svc{i:03}.yaml")),
                support::catalogue_adapter(i),
            )
            .map_err(|e| e.to_string())?;
        }
        let none = |_: &str| None;
        let mut in_process = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            let loaded = ponte::plan::load_dir(&catalogue, &none);
            let plan = loaded.plan.ok_or("the catalogue does not load")?;
            let routes = plan.route_count();
            let state = ponte::server::AppState::new(plan, ponte::server::Settings::default())?;
            let router = ponte::server::router(state);
            in_process.push(started.elapsed().as_secs_f64() * 1000.0);
            drop(router);
            assert_eq!(routes, 400);
        }
        let mut process = Vec::new();
        let mut idle_rss = 0.0;
        let dir = catalogue.to_str().ok_or("temp path is not UTF-8")?;
        for _ in 0..5 {
            let started = Instant::now();
            let ponte = Server::start(
                &self.opts,
                &[
                    "ponte",
                    "--adapters",
                    dir,
                    "--backend",
                    "http://127.0.0.1:9",
                ],
            )?;
            let status = get_status(&ponte.addr, "/_ponte/ready")?;
            process.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                return Err(format!("/_ponte/ready answered {status}"));
            }
            idle_rss = memory_mib(ponte.pid(), "VmRSS");
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let first = in_process[0];
        let summary = json!({
            "adapters": 100, "routes": 400,
            "in_process_first_ms": first,
            "in_process_median_ms": median(&mut in_process),
            "in_process_ms": in_process,
            "process_to_ready_median_ms": median(&mut process),
            "process_to_ready_ms": process,
            "idle_rss_mib": idle_rss,
        });
        eprintln!("   {summary}");
        Ok(summary)
    }
}

/// A plain HTTP/1.1 GET over loopback; returns the status code.
fn get_status(addr: &str, path: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no HTTP status".to_string())
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap_or("")
        .trim()
        .to_string();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model, "memory": mem, "loadavg_at_start": load.trim(),
    })
}

impl Bench {
    /// The temporary folder with the bench adapters, the SOAP envelope and the JSON body.
    fn new(opts: Options) -> Result<Bench, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let adapters = dir.path().join("adapters");
        std::fs::create_dir_all(&adapters).map_err(|e| e.to_string())?;
        for (name, var) in [
            ("small", "SMALL_URL"),
            ("large", "LARGE_URL"),
            ("huge", "HUGE_URL"),
        ] {
            // The 9 MiB replies take seconds to map when 64 arrive at once.
            let mut adapter = support::bench_adapter(name, var);
            if name == "huge" {
                adapter = adapter.replace("timeout: 5s", "timeout: 60s");
            }
            std::fs::write(adapters.join(format!("{name}.yaml")), adapter)
                .map_err(|e| e.to_string())?;
        }
        // The envelope the direct and proxied runs post is the one ponte sends for the JSON body.
        let loaded = ponte::plan::load_dir(&adapters, &|_: &str| None);
        let plan = loaded.plan.ok_or("the bench adapters do not load")?;
        let input: Value =
            serde_json::from_str(support::BENCH_REQUEST_JSON).map_err(|e| e.to_string())?;
        let values: Vec<Option<Value>> = ["continent", "limit", "name"]
            .iter()
            .map(|k| input.get(k).cloned())
            .collect();
        let envelope = dir.path().join("envelope.xml");
        let request = plan.adapters[0].routes[0]
            .call
            .request(&values)
            .map_err(|p| p.detail)?;
        std::fs::write(&envelope, &request.body).map_err(|e| e.to_string())?;
        let json_body = dir.path().join("request.json");
        std::fs::write(&json_body, support::BENCH_REQUEST_JSON).map_err(|e| e.to_string())?;
        Ok(Bench {
            ticks: clock_ticks(),
            opts,
            dir,
            envelope,
            json_body,
        })
    }
}

/// `ponte-load profile [--server ponte|proxy] [--size small|large] [--duration S]
/// [--perf-data FILE] [--stat]`: the server under load with `perf record` attached to its process
/// (call graphs from DWARF), or with `--stat` `perf stat` counting system calls and context
/// switches.
pub fn profile(args: &[String]) -> Result<(), String> {
    let opts = Options::parse(args)?;
    let size = flag(args, "--size").unwrap_or_else(|| "small".into());
    let data = flag(args, "--perf-data").unwrap_or_else(|| format!("/tmp/ponte-{size}.perf.data"));
    let kind = match flag(args, "--server").as_deref() {
        None | Some("ponte") => Kind::Ponte,
        Some("proxy") => Kind::Proxy,
        Some("nginx") => Kind::Nginx,
        Some(other) => return Err(format!("--server takes ponte, proxy or nginx, not {other}")),
    };
    let bench = Bench::new(opts)?;
    let (_backend, front) = bench.start_pair(kind)?;
    let ponte = front.ok_or("no server")?;
    let request = bench.request(kind, &size, &ponte);
    let c = bench.opts.connections;
    oha(&bench.opts, &request, c, bench.opts.warmup.max(1), None)?;
    let seconds = bench.opts.duration;
    // `--stat`: count system calls and context switches instead of sampling call graphs.
    let stat = args.iter().any(|a| a == "--stat");
    let mut perf = Command::new("perf");
    if stat {
        perf.args([
            "stat",
            "-e",
            "raw_syscalls:sys_enter,context-switches,task-clock",
        ]);
    } else {
        perf.args([
            "record",
            "-F",
            "999",
            "--call-graph",
            "dwarf,16384",
            "-o",
            &data,
        ]);
    }
    let mut perf = perf
        .arg("-p")
        .arg(ponte.pid().to_string())
        .args(["--", "sleep", &seconds.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run perf: {e}"))?;
    let load = oha(&bench.opts, &request, c, seconds + 1, None)?;
    let status = perf.wait().map_err(|e| e.to_string())?;
    if stat {
        eprintln!(
            "{} {size}: {:.0} req/s; divide the counts above by {:.0} requests ({seconds} s)",
            kind.label(),
            load.rps,
            load.rps * seconds as f64
        );
    } else {
        eprintln!(
            "{size}: {:.0} req/s during the profile; perf {status}; data in {data}\n\
             summarise with: perf report -i {data} --no-children --stdio -g none --percent-limit 1",
            load.rps
        );
    }
    Ok(())
}

/// `ponte-load many [--many N] [--duration S]`: only the held-connections runs (ponte, then the
/// proxy), printed as JSON.
pub fn many(args: &[String]) -> Result<(), String> {
    let bench = Bench::new(Options::parse(args)?)?;
    for kind in [Kind::Ponte, Kind::PonteMimallocDefaults, Kind::Proxy] {
        println!("{}", bench.many_connections(kind)?);
    }
    Ok(())
}

/// `ponte-load quick [--size small|large]`: only the proxy and ponte at full load, for checking
/// a change quickly (the full run is `ponte-load run`).
pub fn quick(args: &[String]) -> Result<(), String> {
    let bench = Bench::new(Options::parse(args)?)?;
    let size: &'static str = match flag(args, "--size").as_deref() {
        None | Some("small") => "small",
        Some("large") => "large",
        Some(other) => return Err(format!("--size takes small or large, not {other}")),
    };
    let c = bench.opts.connections;
    let nginx = bench.measure(Kind::Nginx, size, c, None)?;
    let proxy = bench.measure(Kind::Proxy, size, c, None)?;
    let ponte = bench.measure(Kind::Ponte, size, c, None)?;
    let no_log = bench.measure(Kind::PonteNoLog, size, c, None)?;
    for m in [&nginx, &proxy, &ponte, &no_log] {
        println!(
            "{:<28} {size}: {:>8.0} req/s ({:>5.1}% of the proxy), p99 {:.3} ms, server CPU {:.1} us/request",
            m.kind.label(),
            m.load.rps,
            100.0 * m.load.rps / proxy.load.rps,
            m.load.p99_ms,
            1000.0 * m.per_1k(m.sut_cpu),
        );
    }
    floor::print_side_by_side(&[nginx, proxy, ponte, no_log]);
    Ok(())
}

pub fn main(args: &[String]) -> Result<(), String> {
    let bench = Bench::new(Options::parse(args)?)?;
    let machine = machine();
    eprintln!("machine: {machine}");
    let startup = bench.startup()?;

    let c = bench.opts.connections;
    let mut runs = Vec::new();
    for size in ["small", "large"] {
        for kind in [Kind::Direct, Kind::Nginx, Kind::Proxy, Kind::Ponte] {
            runs.push(bench.measure(kind, size, c, None)?);
        }
    }
    runs.push(bench.measure(Kind::PonteNoLog, "small", c, None)?);
    runs.push(bench.measure(Kind::PonteMimallocDefaults, "small", c, None)?);
    let peak_proxy = runs
        .iter()
        .find(|m| m.kind == Kind::Proxy && m.size == "small")
        .map_or(0.0, |m| m.load.rps);
    let half = (peak_proxy / 2.0).max(1.0);
    let half_proxy = bench.measure(Kind::Proxy, "small", c, Some(half))?;
    let half_ponte = bench.measure(Kind::Ponte, "small", c, Some(half))?;
    runs.push(half_proxy.clone());
    runs.push(half_ponte.clone());
    // The same comparison at half of ponte's own peak, where neither server is saturated.
    let peak_ponte = runs
        .iter()
        .find(|m| m.kind == Kind::Ponte && m.size == "small")
        .map_or(0.0, |m| m.load.rps);
    let half_own = (peak_ponte / 2.0).max(1.0);
    let own_proxy = bench.measure(Kind::Proxy, "small", c, Some(half_own))?;
    let own_ponte = bench.measure(Kind::Ponte, "small", c, Some(half_own))?;
    runs.push(own_proxy.clone());
    runs.push(own_ponte.clone());
    let many = bench.many_connections(Kind::Ponte)?;
    let many_low = bench.many_connections(Kind::PonteMimallocDefaults)?;
    let many_proxy = bench.many_connections(Kind::Proxy)?;

    let find = |kind: Kind, size: &str| {
        runs.iter()
            .find(|m| m.kind == kind && m.size == size && m.rate.is_none())
            .cloned()
            .ok_or_else(|| format!("missing run {size}"))
    };
    let mut ratios = BTreeMap::new();
    for size in ["small", "large"] {
        let (b, c) = (find(Kind::Proxy, size)?, find(Kind::Ponte, size)?);
        ratios.insert(
            format!("{size}_throughput_c_over_b"),
            json!(c.load.rps / b.load.rps),
        );
        ratios.insert(
            format!("{size}_cpu_per_1k_c_over_b"),
            json!(c.per_1k(c.sut_cpu) / b.per_1k(b.sut_cpu)),
        );
    }
    ratios.insert(
        "half_rate_p99_c_minus_b_ms".into(),
        json!(half_ponte.load.p99_ms - half_proxy.load.p99_ms),
    );
    ratios.insert(
        "half_ponte_rate_p99_c_minus_b_ms".into(),
        json!(own_ponte.load.p99_ms - own_proxy.load.p99_ms),
    );
    let report = json!({
        "machine": machine,
        "options": { "duration_s": bench.opts.duration, "warmup_s": bench.opts.warmup,
            "connections": c, "many": bench.opts.many, "pinned": bench.opts.pin },
        "startup": startup,
        "runs": runs.iter().map(Measured::json).collect::<Vec<_>>(),
        "many_connections": many,
        "many_connections_low_memory": many_low,
        "many_connections_proxy": many_proxy,
        "ratios": ratios,
    });
    if let Some(path) = &bench.opts.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    print_markdown(&report, &runs);
    floor::print_side_by_side(&runs);
    Ok(())
}

fn print_markdown(report: &Value, runs: &[Measured]) {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    println!("## Load benchmark results\n");
    println!("machine: {}", report["machine"]);
    println!("options: {}\n", report["options"]);
    println!(
        "| run | reply | conns | req/s | p50 ms | p99 ms | p99.9 ms | failed | CPU s/1k (server) | CPU s/1k (backend) | peak RSS server MiB | peak RSS backend MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for m in runs {
        println!(
            "| {} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {:.4} | {} | {:.1} | {:.1} |",
            m.name,
            m.size,
            m.connections,
            m.load.rps,
            m.load.p50_ms,
            m.load.p99_ms,
            m.load.p999_ms,
            m.load.failed,
            m.per_1k(m.sut_cpu),
            if m.kind == Kind::Direct {
                "-".to_string()
            } else {
                format!("{:.4}", m.per_1k(m.backend_cpu))
            },
            m.sut_peak_mib,
            m.backend_peak_mib,
        );
    }
    let r = &report["ratios"];
    println!();
    println!(
        "c/b throughput: small {:.1}%, large {:.1}%   (target small >= 80%)",
        100.0 * f(&r["small_throughput_c_over_b"]),
        100.0 * f(&r["large_throughput_c_over_b"])
    );
    println!(
        "c/b server CPU per request: small {:.2}x, large {:.2}x",
        f(&r["small_cpu_per_1k_c_over_b"]),
        f(&r["large_cpu_per_1k_c_over_b"])
    );
    println!(
        "p99 at half the proxy's peak, ponte minus proxy: {:+.3} ms   (target <= +1 ms)",
        f(&r["half_rate_p99_c_minus_b_ms"])
    );
    println!(
        "p99 at half of ponte's own peak, ponte minus proxy: {:+.3} ms",
        f(&r["half_ponte_rate_p99_c_minus_b_ms"])
    );
    for (key, target) in [
        ("many_connections", "   (target peak < 50 MiB, no errors)"),
        ("many_connections_low_memory", ""),
        ("many_connections_proxy", ""),
    ] {
        let m = &report[key];
        println!(
            "{} connections for {} s, {}: {:.0} req/s, p99 {:.2} ms, {} failed of {}; RSS before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB{target}",
            m["connections"],
            m["seconds"],
            m["server"].as_str().unwrap_or("?"),
            f(&m["requests_per_s"]),
            f(&m["p99_ms"]),
            m["failed"],
            m["responses"],
            f(&m["rss_before_mib"]),
            f(&m["peak_rss_mib"]),
            f(&m["rss_after_mib"]),
        );
    }
    let s = &report["startup"];
    println!(
        "startup with 100 adapters (400 routes): load_dir + router {:.1} ms median (first {:.1} ms); process start to ready {:.1} ms median; idle RSS {:.1} MiB   (target < 200 ms)",
        f(&s["in_process_median_ms"]),
        f(&s["in_process_first_ms"]),
        f(&s["process_to_ready_median_ms"]),
        f(&s["idle_rss_mib"]),
    );
}

/// `ponte-load burst [--burst N] [--many N] [--duration S]`: for each allocator setting, (1) N
/// concurrent calls whose replies are just under the 10 MiB cap, twice, with RSS before, at the
/// peak, and 1 s / 3 s after the burst, and (2) `--many` connections held for `--duration` seconds
/// (peak and after). Printed as JSON lines, then a table.
pub fn burst(args: &[String]) -> Result<(), String> {
    let opts = Options::parse(args)?;
    let n = flag(args, "--burst").map_or(Ok(64), |v| {
        v.parse::<usize>()
            .map_err(|_| "--burst takes a number".to_string())
    })?;
    let bench = Bench::new(opts)?;
    let settings: [(&str, &[(&str, &str)]); 4] = [
        ("ponte's defaults (eager commit 0, purge delay 0)", &[]),
        (
            "mimalloc's defaults (eager commit 2, purge delay 1000)",
            &MIMALLOC_DEFAULTS,
        ),
        (
            "only purge delay 0",
            &[("MIMALLOC_ARENA_EAGER_COMMIT", "2")],
        ),
        ("only eager commit 0", &[("MIMALLOC_PURGE_DELAY", "1000")]),
    ];
    let mut rows = Vec::new();
    for (label, env) in settings {
        let burst = bench.burst_once(label, env, n)?;
        let many = bench.many_with(label, env)?;
        println!("{burst}");
        println!("{many}");
        rows.push((label, burst, many));
    }
    println!();
    println!(
        "| allocator setting | {n} x 9 MiB: RSS before | peak | 1 s after | 3 s after | 1,000 connections: peak | 2 s after | failed |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    for (label, b, m) in rows {
        println!(
            "| {label} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} |",
            f(&b["rss_before_mib"]),
            f(&b["peak_rss_mib"]),
            f(&b["rss_1s_after_mib"]),
            f(&b["rss_3s_after_mib"]),
            f(&m["peak_rss_mib"]),
            f(&m["rss_after_mib"]),
            m["failed"],
        );
    }
    Ok(())
}

impl Bench {
    fn start_ponte(&self, env: &[(&str, &str)]) -> Result<(Server, Server), String> {
        let backend = Server::start(&self.opts, &["backend"])?;
        let base = backend.url("");
        let adapters = self.dir.path().join("adapters");
        let adapters = adapters.to_str().ok_or("temp path is not UTF-8")?;
        let args = [
            "ponte",
            "--adapters",
            adapters,
            "--backend",
            &base,
            "--log",
            "human",
        ];
        let ponte = Server::start_with(&self.opts, &args, env)?;
        Ok((backend, ponte))
    }

    /// `n` concurrent calls to the huge route, two rounds; memory read from /proc.
    fn burst_once(&self, label: &str, env: &[(&str, &str)], n: usize) -> Result<Value, String> {
        eprintln!("-- {label}: {n} concurrent replies of 9 MiB, two rounds");
        let (backend, ponte) = self.start_ponte(env)?;
        let url = ponte.url("/huge/countries");
        let body = std::fs::read(&self.json_body).map_err(|e| e.to_string())?;
        let rss_before = memory_mib(ponte.pid(), "VmRSS");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let statuses = runtime.block_on(async {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            for _ in 0..2 {
                let mut calls = tokio::task::JoinSet::new();
                for _ in 0..n {
                    let request = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone());
                    calls.spawn(async move {
                        match request.send().await {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let _ = r.bytes().await;
                                status
                            }
                            Err(_) => 0,
                        }
                    });
                }
                while let Some(status) = calls.join_next().await {
                    statuses.push(status.unwrap_or(0));
                }
            }
            statuses
        });
        let peak = memory_mib(ponte.pid(), "VmHWM");
        std::thread::sleep(Duration::from_secs(1));
        let after_1s = memory_mib(ponte.pid(), "VmRSS");
        std::thread::sleep(Duration::from_secs(2));
        let after_3s = memory_mib(ponte.pid(), "VmRSS");
        let ok = statuses.iter().filter(|s| **s == 200).count();
        let mut by_status = BTreeMap::new();
        for s in &statuses {
            *by_status.entry(*s).or_insert(0u32) += 1;
        }
        eprintln!(
            "   statuses {by_status:?} (0 = no answer); RSS {rss_before:.1} -> peak {peak:.1} -> {after_1s:.1} (1 s) -> {after_3s:.1} MiB (3 s)"
        );
        drop(backend);
        Ok(json!({
            "setting": label, "concurrent": n, "reply_bytes": 9 * 1024 * 1024, "rounds": 2,
            "answered_200": ok, "calls": statuses.len(),
            "statuses": by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "rss_before_mib": rss_before, "peak_rss_mib": peak,
            "rss_1s_after_mib": after_1s, "rss_3s_after_mib": after_3s,
        }))
    }

    /// `--many` connections held against ponte started with `env`.
    fn many_with(&self, label: &str, env: &[(&str, &str)]) -> Result<Value, String> {
        let n = self.opts.many;
        eprintln!("-- {label}: {n} connections for {} s", self.opts.duration);
        let (backend, ponte) = self.start_ponte(env)?;
        let request = self.request(Kind::Ponte, "small", &ponte);
        let load = oha(&self.opts, &request, n, self.opts.duration, None)?;
        let peak = memory_mib(ponte.pid(), "VmHWM");
        std::thread::sleep(Duration::from_secs(2));
        let after = memory_mib(ponte.pid(), "VmRSS");
        eprintln!(
            "   {:.0} req/s, {} failed; peak {peak:.1} -> {after:.1} MiB",
            load.rps, load.failed
        );
        drop(backend);
        Ok(json!({
            "setting": label, "connections": n, "requests_per_s": load.rps,
            "failed": load.failed, "peak_rss_mib": peak, "rss_after_mib": after,
        }))
    }
}
