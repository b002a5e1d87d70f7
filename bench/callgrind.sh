#!/usr/bin/env bash
# Instructions per call of ponte and of the nginx proxy floor, counted by callgrind (issue 15):
# repeatable on a busy machine, where wall-clock figures are not.
#
#   bench/callgrind.sh                          # small reply, 2,000 calls each, ponte and nginx
#   bench/callgrind.sh --size large --requests 200
#   bench/callgrind.sh --server ponte --keep /tmp/cg   # keep the files for callgrind_annotate
#   bench/callgrind.sh --mimalloc-defaults      # ponte with mimalloc's own settings
#   bench/callgrind.sh --no-log                 # ponte without its access log
#   bench/callgrind.sh micro                    # the micro benchmark's work, per run: the bare
#                                               # quick-xml loop, reply -> JSON reading everything
#                                               # and reading one field per country, request side
#
# Each server runs twice under `valgrind --tool=callgrind` (the stand-in backend natively): once
# answering no request, once answering N; (count at N - count at 0) / N is one call, startup
# excluded. Prints a Markdown table. Needs valgrind, nginx (Debian; installed when missing) and
# oha (as bench/run.sh).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/bench/load/target}"
export PATH="$PATH:/usr/sbin:/sbin:$HOME/.cargo/bin"
for pair in valgrind:valgrind nginx:nginx; do
  if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
    echo "callgrind: installing ${pair#*:}" >&2
    apt-get update >/dev/null && apt-get install -y "${pair#*:}" >/dev/null
  fi
done

echo "callgrind: building bench/load (release)" >&2
cargo build --release --quiet --manifest-path "$repo/bench/load/Cargo.toml"
tool="$CARGO_TARGET_DIR/release/ponte-load"

# `micro`: each piece of work of the micro benchmark N times under callgrind (PONTE_BENCH_*, run
# by `ponte-load micro`: benches/support/work.rs); (count at N - count at 0) / N per run.
if [ "${1:-}" = "micro" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  count() { # count WORK SIZE N -> instructions of the whole run
    PONTE_BENCH_WORK="$1" PONTE_BENCH_SIZE="$2" PONTE_BENCH_CALLS="$3" \
      valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$tool" micro >/dev/null 2>&1
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$tmp/out" | tail -1
  }
  echo "callgrind: micro, $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet -- src 2>/dev/null || echo ' (src modified)')" >&2
  echo "| work | reply | runs | instructions per run | floor's / these (as throughput: target >= 85%, part > 100%) |"
  echo "|---|---|---|---|---|"
  for size in 1KiB 100KiB; do
    if [ "$size" = 1KiB ]; then n=500; else n=20; fi
    zero="$(count floor "$size" 0)" # setup: the adapter loaded, the reply generated
    floor=""
    for work in floor interpret part; do
      per=$(( ($(count "$work" "$size" "$n") - zero) / n ))
      [ -n "$floor" ] || floor="$per"
      echo "| $work | $size | $n | $per | $(awk -v a="$per" -v b="$floor" 'BEGIN { printf "%.1f%%", 100 * b / a }') |"
    done
  done
  zero="$(count request 1KiB 0)"
  per=$(( ($(count request 1KiB 2000) - zero) / 2000 ))
  echo "| request (JSON body -> envelope) | - | 2000 | $per | - |"
  exit 0
fi

command -v oha >/dev/null 2>&1 || cargo install oha --locked >&2
echo "callgrind: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), ponte $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet -- src 2>/dev/null || echo ' (src modified)')" >&2
exec "$tool" callgrind "$@"
