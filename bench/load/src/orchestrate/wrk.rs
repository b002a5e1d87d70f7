//! wrk (Debian) as the load generator instead of oha (`--gen wrk`): the same request, the same
//! connections and duration, one wrk thread (it has CPU 1 to itself when pinned). wrk cannot hold
//! a fixed rate, so the fixed-rate runs always use oha.
//!
//! The numbers come from a Lua `done` hook that prints one machine-readable line, not from wrk's
//! human summary.

use std::process::{Command, Stdio};

use super::{Load, Options, Request};

/// The script: the request as wrk sends it, and the summary line.
fn script(request: &Request) -> Result<String, String> {
    let body = request.body.to_str().ok_or("temp path is not UTF-8")?;
    let mut s = String::new();
    s.push_str("wrk.method = \"POST\"\n");
    s.push_str(&format!(
        "local f = assert(io.open({body:?}, \"rb\"))\nwrk.body = f:read(\"*a\")\nf:close()\n"
    ));
    s.push_str(&format!(
        "wrk.headers[\"Content-Type\"] = {:?}\n",
        request.content_type
    ));
    if let Some(action) = request.soap_action {
        s.push_str(&format!(
            "wrk.headers[\"SOAPAction\"] = {:?}\n",
            format!("\"{action}\"")
        ));
    }
    s.push_str(
        r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk-result %d %d %d %d %d %d %d %.1f %.1f %.1f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"#,
    );
    Ok(s)
}

/// One wrk run of `seconds` at `connections`.
pub(super) fn run(
    opts: &Options,
    request: &Request,
    connections: usize,
    seconds: u64,
) -> Result<Load, String> {
    let script_path = request.body.with_extension("wrk.lua");
    std::fs::write(&script_path, script(request)?).map_err(|e| e.to_string())?;
    let mut command = if opts.pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", &opts.wrk]);
        c
    } else {
        Command::new(&opts.wrk)
    };
    let output = command
        .args(["-t", "1", "-c", &connections.to_string()])
        .args(["-d", &format!("{seconds}s"), "--timeout", "10s", "-s"])
        .arg(&script_path)
        .arg(&request.url)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", opts.wrk))?;
    if !output.status.success() {
        return Err(format!("wrk failed: {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("wrk-result "))
        .ok_or_else(|| format!("wrk printed no result line:\n{stdout}"))?;
    parse(line)
}

/// `requests duration_us connect read write status timeout p50_us p99_us p999_us`.
fn parse(line: &str) -> Result<Load, String> {
    let n: Vec<f64> = line
        .split_whitespace()
        .map(|v| v.parse::<f64>().map_err(|_| format!("wrk result `{line}`")))
        .collect::<Result<_, _>>()?;
    let [
        requests,
        micros,
        connect,
        read,
        write,
        status,
        timeout,
        p50,
        p99,
        p999,
    ] = n[..]
    else {
        return Err(format!("wrk result `{line}`"));
    };
    // `status` counts answers outside 2xx/3xx; the others are transport errors.
    let failed = (connect + read + write + status + timeout) as u64;
    Ok(Load {
        rps: requests / (micros / 1e6).max(1e-9),
        p50_ms: p50 / 1000.0,
        p99_ms: p99 / 1000.0,
        p999_ms: p999 / 1000.0,
        responses: requests as u64,
        ok: (requests - status) as u64,
        failed,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_result_line_becomes_a_load() {
        let load = super::parse("20000 10000000 0 0 0 3 0 800.0 2500.0 4000.0").unwrap();
        assert_eq!(load.rps, 2000.0);
        assert_eq!(load.p99_ms, 2.5);
        assert_eq!((load.responses, load.ok, load.failed), (20000, 19997, 3));
    }
}
