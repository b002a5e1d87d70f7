//! `ponte-load callgrind`: instructions per call of ponte and of the nginx proxy floor, counted by
//! `valgrind --tool=callgrind` (issue 15). Instruction counts do not change with the load of the
//! machine, so they compare builds where wall-clock figures cannot.
//!
//! For each server and each request count (0, then N): the stand-in backend runs natively, the
//! server under callgrind; oha sends the requests over a few connections, then the server gets
//! SIGINT and callgrind writes its totals. The count at N minus the count at 0, over N, is one
//! call: startup, the connections' setup aside, is subtracted.
//!
//! Options: --requests N (2000), --connections C (8), --size small|large (small),
//! --server ponte|nginx|both (both), --mimalloc-defaults (ponte with mimalloc's own settings
//! instead of ponte's low-memory ones), --keep DIR (keep the callgrind files there, for
//! `callgrind_annotate`), --no-log (ponte without its access log).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Bench, Kind, MIMALLOC_DEFAULTS, Options, Server, nginx};
use crate::flag;

/// ponte's own allocator settings (src/memory.rs), set up front so that ponte does not restart
/// itself (valgrind would not follow the `exec`).
const MIMALLOC_PONTE: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

struct Counting {
    requests: u64,
    connections: usize,
    size: String,
    out_dir: PathBuf,
    mimalloc_defaults: bool,
    log: &'static str,
}

pub fn callgrind(args: &[String]) -> Result<(), String> {
    let mut opts = Options::parse(args)?;
    opts.pin = false;
    let bench = Bench::new(opts)?;
    let num = |name: &str, default: u64| -> Result<u64, String> {
        flag(args, name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name} takes a number"))
        })
    };
    let keep = flag(args, "--keep").map(PathBuf::from);
    let out_dir = keep
        .clone()
        .unwrap_or_else(|| bench.dir.path().join("callgrind"));
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let counting = Counting {
        requests: num("--requests", 2000)?.max(1),
        connections: num("--connections", 8)? as usize,
        size: flag(args, "--size").unwrap_or_else(|| "small".into()),
        out_dir,
        mimalloc_defaults: args.iter().any(|a| a == "--mimalloc-defaults"),
        log: if args.iter().any(|a| a == "--no-log") {
            "off"
        } else {
            "human"
        },
    };
    let servers: &[Kind] = match flag(args, "--server").as_deref() {
        None | Some("both") => &[Kind::Nginx, Kind::Ponte],
        Some("ponte") => &[Kind::Ponte],
        Some("nginx") => &[Kind::Nginx],
        Some(other) => return Err(format!("--server takes ponte, nginx or both, not {other}")),
    };
    let mut rows = Vec::new();
    for &kind in servers {
        let idle = count(&bench, &counting, kind, 0)?;
        let busy = count(&bench, &counting, kind, counting.requests)?;
        let per_call = busy.saturating_sub(idle) as f64 / counting.requests as f64;
        eprintln!(
            "   {}: {idle} at 0 requests, {busy} at {}",
            kind.label(),
            counting.requests
        );
        rows.push((kind, idle, busy, per_call));
    }
    println!(
        "callgrind, {} reply, {} requests over {} connections{}{}",
        counting.size,
        counting.requests,
        counting.connections,
        if counting.mimalloc_defaults {
            ", ponte with mimalloc's default settings"
        } else {
            ""
        },
        if counting.log == "off" {
            ", ponte's access log off"
        } else {
            ""
        },
    );
    println!();
    println!("| server | instructions, 0 requests | instructions, N requests | per call |");
    println!("|---|---|---|---|");
    for (kind, idle, busy, per_call) in &rows {
        println!("| {} | {idle} | {busy} | {per_call:.0} |", kind.label());
    }
    if let [(_, _, _, floor), (_, _, _, ponte)] = rows[..] {
        println!("| **ponte / nginx** | | | **{:.2}x** |", ponte / floor);
    }
    if keep.is_some() {
        println!(
            "\ncallgrind files in {} (callgrind_annotate FILE)",
            counting.out_dir.display()
        );
    }
    Ok(())
}

/// Total instructions of one server run that answered `requests` calls.
fn count(bench: &Bench, c: &Counting, kind: Kind, requests: u64) -> Result<u64, String> {
    eprintln!("-- callgrind: {} with {requests} requests", kind.label());
    let backend = Server::start(&bench.opts, &["backend"])?;
    let name = match kind {
        Kind::Nginx => "nginx",
        _ => "ponte",
    };
    let out = c
        .out_dir
        .join(format!("callgrind.{name}.{}.{requests}", c.size));
    let valgrind = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let server = match kind {
        Kind::Nginx => nginx::start_under(&bench.opts, &backend.addr, &valgrind)?,
        _ => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let adapters = bench.dir.path().join("adapters");
            let env = if c.mimalloc_defaults {
                MIMALLOC_DEFAULTS
            } else {
                MIMALLOC_PONTE
            };
            let mut command = Command::new(&valgrind[0]);
            command
                .args(&valgrind[1..])
                .arg(exe)
                .args(["ponte", "--log", c.log, "--backend", &backend.url("")])
                .arg("--adapters")
                .arg(adapters)
                .envs(env);
            Server::spawn(command, &["ponte under valgrind"])?
        }
    };
    if requests > 0 {
        let request = bench.request(kind, &c.size, &server);
        drive(&bench.opts, &request, c.connections, requests)?;
    }
    stop(server)?;
    totals(&out)
}

/// `requests` calls with oha over `connections` connections; every answer must be a success.
fn drive(
    opts: &Options,
    request: &super::Request,
    connections: usize,
    requests: u64,
) -> Result<(), String> {
    let mut command = Command::new(&opts.oha);
    command.args(["--no-tui", "--output-format", "json", "-m", "POST"]);
    command.args(["-n", &requests.to_string(), "-c", &connections.to_string()]);
    command
        .args(["-T", request.content_type, "-D"])
        .arg(request.body);
    if let Some(action) = request.soap_action {
        command.args(["-H", &format!("SOAPAction: \"{action}\"")]);
    }
    let output = command
        .arg(&request.url)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", opts.oha))?;
    let v: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("oha's output is not JSON: {e}"))?;
    let ok: u64 = v["statusCodeDistribution"]
        .as_object()
        .map(|codes| {
            codes
                .iter()
                .filter(|(code, _)| code.starts_with('2'))
                .map(|(_, n)| n.as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0);
    if ok != requests {
        return Err(format!(
            "{ok} of {requests} calls succeeded: {}",
            v["statusCodeDistribution"]
        ));
    }
    Ok(())
}

/// SIGINT, then waits for callgrind to write its file.
fn stop(mut server: Server) -> Result<(), String> {
    let pid = server.pid().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while server
        .child
        .try_wait()
        .map_err(|e| e.to_string())?
        .is_none()
    {
        if Instant::now() > deadline {
            return Err(format!("process {pid} did not stop after SIGINT"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The `totals:` (or `summary:`) line of a callgrind file: instructions executed.
fn totals(path: &std::path::Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("no callgrind file {}: {e}", path.display()))?;
    text.lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{} has no totals", path.display()))
}
