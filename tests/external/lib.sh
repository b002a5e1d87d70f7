# Shared by the external checks in tests/external/*/run.sh (sourced, not run).
#
# Each check installs its own tools into its own folder under $PONTE_TOOLS (npm --prefix, a Python
# venv), starts a ponte it owns on a free loopback port, and exits non-zero on any failure. They
# run after the Rust tests in .ci/run; one can be run alone: `tests/external/NAME/run.sh`.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PONTE_TOOLS="${PONTE_TOOLS:-$HOME/.cache/ponte-ci-tools}"
PONTE_BIN="${PONTE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/ponte}"
ARTEFACTS="${PONTE_ARTEFACTS:-$ROOT/target/artefacts}"
mkdir -p "$PONTE_TOOLS" "$ARTEFACTS"

# Installs Debian packages when a command is missing (CI machines start bare).
need_apt() { # need_apt COMMAND PACKAGE...
  local cmd="$1"; shift
  if ! command -v "$cmd" >/dev/null 2>&1; then
    apt-get update >/dev/null && apt-get install -y "$@" >/dev/null
  fi
}

# Installs npm packages into $PONTE_TOOLS/NAME (never into the repository or globally).
npm_tools() { # npm_tools NAME PACKAGE@VERSION...; prints the folder
  local dir="$PONTE_TOOLS/$1"; shift
  need_apt npm nodejs npm
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --silent "$@" >/dev/null)
  echo "$dir"
}

# Creates a Python venv at $PONTE_TOOLS/NAME with PACKAGES; prints the folder.
pip_tools() { # pip_tools NAME PACKAGE...
  local dir="$PONTE_TOOLS/$1"; shift
  need_apt python3 python3 python3-venv
  [ -x "$dir/bin/pip" ] || python3 -m venv "$dir" >/dev/null
  "$dir/bin/pip" install --quiet "$@" >/dev/null
  echo "$dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `ponte serve --mock` with the bundled adapters and fixtures plus any extra flags, waits
# until it is ready, and stops it when the script exits. Sets PONTE_URL.
ponte_start() { # ponte_start [serve flags...]
  [ -x "$PONTE_BIN" ] || (cd "$ROOT" && cargo build --locked --quiet)
  local port; port="$(free_port)"
  PONTE_URL="http://127.0.0.1:$port"
  PONTE_LOG="$(mktemp)"
  (cd "$ROOT" && exec "$PONTE_BIN" serve --mock --listen "127.0.0.1:$port" "$@") >"$PONTE_LOG" 2>&1 &
  PONTE_PID=$!
  trap 'kill "$PONTE_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if curl -fsS "$PONTE_URL/_ponte/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "ponte did not start; its log:" >&2
  cat "$PONTE_LOG" >&2
  return 1
}
