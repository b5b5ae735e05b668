#!/usr/bin/env bash
# A bounded schemathesis run (every check but the business rules listed in
# schemathesis.toml) against a started `revtrace serve` on a scratch SQLite
# file. Fails on any 5xx, schema violation or undocumented status.
#
#   tests/schemathesis/run.sh [path/to/revtrace]   (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${1:-${CARGO_TARGET_DIR:-target}/debug/revtrace}"
[ -x "$BIN" ] || cargo build -q -p revtrace --bin revtrace
BIN=$(realpath "$BIN")
ST_VERSION=4.32.5
if ! st --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m pip install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/schemathesis.db"
REVTRACE_SECRET=$("$BIN" company add --name "Schemathesis" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret_key"])')
export REVTRACE_SECRET
PORT=18301
# Rate limits off: schemathesis is one client sending thousands of requests.
RUST_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" \
  --public-rate-per-minute 0 --unknown-key-rate-per-minute 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

cd tests/schemathesis
# Hypothesis parses large source files to describe its strategies; on
# CPython 3.11 one parse past the AST recursion limit leaves the limit
# miscounted (cpython#106905) and later parses fail with "AST constructor
# recursion depth mismatch", which schemathesis reports as a runtime error of
# its own. A higher recursion limit keeps the first parse from failing.
run_st() {
  python3 -c 'import sys; sys.setrecursionlimit(20000)
from schemathesis.cli import schemathesis
sys.argv[0] = "st"
sys.exit(schemathesis())' run "http://127.0.0.1:$PORT/openapi.json" --no-color
}
# A run that found nothing but crashed inside the tool is run again, up to
# three runs in all; a failure (a 5xx, a schema violation, an undocumented
# status) is never retried.
for attempt in 1 2 3; do
  status=0
  run_st > "$WORK/st.log" 2>&1 || status=$?
  cat "$WORK/st.log"
  if [ "$status" -eq 0 ] || grep -q "^Failures:" "$WORK/st.log" || ! grep -q "Runtime Error" "$WORK/st.log"; then
    break
  fi
  echo "== schemathesis crashed without a failure (run $attempt of 3)"
done
if [ "$status" -ne 0 ]; then
  echo "== server log (last 50 lines)"
  tail -50 "$WORK/server.log"
fi
exit "$status"
