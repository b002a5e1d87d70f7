#!/usr/bin/env bash
# The load benchmark of ponte (issue 5). One command, from anywhere in the repository:
#
#   bench/run.sh                        # everything, about 3 minutes after the build
#   bench/run.sh --duration 5           # options go to `ponte-load run`:
#                                       #   --duration S --warmup S --connections N --many N
#                                       #   --no-pin --oha PATH --json FILE
#   bench/run.sh profile --size large   # perf profile of ponte under load (--server proxy too)
#   bench/run.sh quick                  # only the proxies and ponte at full load (a quick check)
#   bench/run.sh floor [--size small|large|both] [--rounds N]
#                                       # only the nginx proxy floor and ponte, side by side
#                                       #   (issue 15: req/s, p50, p99 and ponte / nginx)
#   bench/run.sh ... --gen wrk          # full-load runs driven by wrk instead of oha
#   bench/run.sh ... --backend-server nginx
#                                       # the canned replies served by nginx, not the axum stand-in
#   bench/run.sh floor --backend-server nginx --gen wrk --no-pin
#                                       # the issue 15 table's setup: nothing pinned, wrk, nginx
#                                       #   serving the replies and nginx as the proxy floor
#   bench/run.sh many                   # only the 1,000 held connections (ponte, then the proxy)
#   bench/run.sh burst [--burst N]      # memory: N concurrent 9 MiB replies, and 1,000 connections,
#                                       #   per allocator setting
#
# What it does: builds the load tool in bench/load (a separate cargo project that links ponte as
# a library), installs the load generator oha with `cargo install oha --locked` when it is not on
# PATH, then starts on 127.0.0.1 only: a stand-in SOAP backend with canned ~1 KiB and ~100 KiB
# replies, a byte-forwarding proxy (written here), Debian's nginx as a reverse proxy to the same
# backend (the floor not written here; config written into a temp dir), and ponte (plan::load_dir + server::router + axum::serve, with
# the access log of `ponte serve`). It measures, at the same concurrency, (a) the backend called
# directly with SOAP, (b) the proxy, (c) ponte translating JSON -> SOAP -> JSON, for both replies;
# a fixed-rate run of (b) and (c) at half the proxy's peak; 1,000 connections held against ponte;
# and ponte's startup with 100 adapters. Each server is its own process, so CPU seconds and peak
# RSS are read per process from /proc. By default the servers share CPU 0 and oha runs on CPU 1
# (taskset), so the load generator does not take CPU from what it measures. Every run that
# measures ponte and nginx at full load ends with a table of the two side by side.
#
# Output: a Markdown report on stdout and every number as JSON in $OUT
# (default /tmp/ponte-bench.json). Needs: cargo; taskset (util-linux) for pinning; nginx and wrk
# (Debian packages, installed with apt-get when missing).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/bench/load/target}"
out="${OUT:-/tmp/ponte-bench.json}"

export PATH="$PATH:/usr/sbin:/sbin"
# Debian packages: nginx (the proxy floor) and wrk (the alternative load generator).
need_apt() { # need_apt COMMAND PACKAGE
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "bench: installing $2: apt-get install -y $2" >&2
    apt-get update >/dev/null && apt-get install -y "$2" >/dev/null
  fi
}
need_apt nginx nginx
need_apt wrk wrk

# oha drives the runs (and always the fixed-rate ones); with `--gen wrk`, wrk drives the full-load
# runs. When oha cannot be installed, the full-load runs fall back to wrk.
wrk_fallback=()
if ! command -v oha >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/oha" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "bench: installing the load generator: cargo install oha --locked" >&2
    if cargo install oha --locked >&2; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      echo "bench: oha could not be installed: full-load runs use wrk" >&2
      wrk_fallback=(--gen wrk)
    fi
  fi
fi

# 1,000 client connections plus 1,000 backend connections in one process need more than the
# usual 1,024 descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

echo "bench: building bench/load (release)" >&2
cargo build --release --quiet --manifest-path "$repo/bench/load/Cargo.toml"
tool="$CARGO_TARGET_DIR/release/ponte-load"

pin=()
if ! command -v taskset >/dev/null 2>&1; then
  echo "bench: taskset not found; running unpinned" >&2
  pin=(--no-pin)
fi

echo "bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), ponte $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet -- src 2>/dev/null || echo ' (src modified)')" >&2
case "${1:-}" in
  profile | quick | many | burst | floor)
    role="$1"
    shift
    exec "$tool" "$role" "${pin[@]}" "${wrk_fallback[@]}" "$@"
    ;;
esac
exec "$tool" run --json "$out" "${pin[@]}" "${wrk_fallback[@]}" "$@"
