//! ponte beside the nginx proxy floor (issue 15): the table every run prints, and the `floor`
//! role that runs only those two (the command for before/after wall-clock comparisons).

use super::{Bench, Kind, Measured, Options};
use crate::flag;

/// Prints ponte (and its variants) beside the nginx proxy floor for each reply size measured at
/// full load: req/s, p50, p99, server CPU, and ponte over the floor (throughput as a share,
/// p99 as a multiple).
pub(super) fn print_side_by_side(runs: &[Measured]) {
    print_side_by_side_at(runs, None);
}

/// The same for the runs at `rate` (`None`: at full load).
fn print_side_by_side_at(runs: &[Measured], rate: Option<f64>) {
    println!();
    println!(
        "| reply | system | req/s | p50 ms | p99 ms | CPU us/request (server) | page faults/request | req/s / nginx (target >= 85%) | p99 / nginx (target <= 2x) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for size in ["small", "large"] {
        let at_size = || {
            runs.iter()
                .filter(move |m| m.size == size && m.rate == rate)
        };
        let Some(floor) = at_size().find(|m| m.kind == Kind::Nginx) else {
            continue;
        };
        for m in at_size().filter(|m| m.kind == Kind::Nginx || m.kind.is_ponte()) {
            println!(
                "| {size} | {} | {:.0} | {:.3} | {:.3} | {:.1} | {:.2} | {:.1}% | {:.2}x |",
                m.kind.label(),
                m.load.rps,
                m.load.p50_ms,
                m.load.p99_ms,
                1000.0 * m.per_1k(m.sut_cpu),
                m.faults_per_request(),
                100.0 * m.load.rps / floor.load.rps,
                m.load.p99_ms / floor.load.p99_ms,
            );
        }
    }
}

/// `ponte-load floor [--size small|large|both] [--rounds N] [--variants] [--gen wrk] [--rate R]`:
/// nginx and ponte at full load, alternating, `--rounds` times (default 1), then the side-by-side
/// table of each round. Alternating keeps a drift of the machine from favouring one of the two.
/// `--rate R` sends R requests per second to both instead (oha), below ponte's peak: at full load
/// with a fixed number of connections, each waits behind the others, so the p99 of the slower
/// server grows with its median; at the same rate the two tails compare as tails.
/// `--variants` adds, for the small reply, ponte with its access log off, with mimalloc's default
/// settings, and with one worker thread: where the tail comes from (issue 15).
pub fn floor(args: &[String]) -> Result<(), String> {
    let bench = Bench::new(Options::parse(args)?)?;
    let sizes: &[&'static str] = match flag(args, "--size").as_deref() {
        None | Some("both") => &["small", "large"],
        Some("small") => &["small"],
        Some("large") => &["large"],
        Some(other) => return Err(format!("--size takes small, large or both, not {other}")),
    };
    let rounds: usize = flag(args, "--rounds").map_or(Ok(1), |v| {
        v.parse().map_err(|_| "--rounds takes a number".to_string())
    })?;
    let variants = args.iter().any(|a| a == "--variants");
    let rate: Option<f64> = flag(args, "--rate")
        .map(|v| {
            v.parse()
                .map_err(|_| "--rate takes requests per second".to_string())
        })
        .transpose()?;
    let c = bench.opts.connections;
    let mut all = Vec::new();
    for _ in 0..rounds {
        let mut runs = Vec::new();
        for &size in sizes {
            runs.push(bench.measure(Kind::Nginx, size, c, rate)?);
            runs.push(bench.measure(Kind::Ponte, size, c, rate)?);
            if variants && size == "small" {
                for kind in [
                    Kind::PonteNoLog,
                    Kind::PonteMimallocDefaults,
                    Kind::PonteOneWorker,
                ] {
                    runs.push(bench.measure(kind, size, c, rate)?);
                }
            }
        }
        all.push(runs);
    }
    let generator = if bench.opts.gen_wrk { "wrk" } else { "oha" };
    println!(
        "ponte vs the nginx proxy floor; {generator}, {c} connections, {} s after {} s warm-up, {}",
        bench.opts.duration,
        bench.opts.warmup,
        if bench.opts.pin {
            "servers on CPU 0, load generator on CPU 1"
        } else {
            "unpinned"
        },
    );
    for runs in &all {
        print_side_by_side_at(runs, rate);
    }
    Ok(())
}
