#!/usr/bin/env bash
# Ingest throughput: revtrace serve (durable answers) against a bare axum JSON
# echo server, both driven by wrk with 64 keep-alive connections over loopback
# in the same run. Prints events/s, p50/p99, commit batch sizes (SQLite) or
# transaction attempts (PostgreSQL) and the server's peak RSS.
#
#   bench/ingest/run.sh [DURATION_SECONDS]   (default 15)
#   BACKEND=postgres bench/ingest/run.sh     a fresh schema on the PostgreSQL of
#       REVTRACE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
#       REVTRACE_PG_POOL_SIZE connections (default 16); the schema is dropped after.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-15}"
CONNECTIONS=64
THREADS=2

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)…" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p revtrace --bin revtrace
cargo build --release -q -p revtrace-server --example echo
BIN=target/release/revtrace
ECHO=target/release/examples/echo

WORK=$(mktemp -d)
SERVER_PID=""; ECHO_PID=""
BACKEND="${BACKEND:-sqlite}"
PG_BASE="${REVTRACE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
SCHEMA="revtrace_bench_$$"
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$ECHO_PID" ] && kill "$ECHO_PID" 2>/dev/null || true
  [ "$BACKEND" = postgres ] && [ -z "${KEEP:-}" ] && psql -q "$PG_BASE" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$BACKEND" in
  sqlite) export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db" ;;
  postgres)
    psql -q "$PG_BASE" -c "CREATE SCHEMA $SCHEMA" >/dev/null
    export REVTRACE_DATABASE_URL="$PG_BASE?options=-csearch_path%3D$SCHEMA"
    echo "PostgreSQL: $PG_BASE, schema $SCHEMA, pool ${REVTRACE_PG_POOL_SIZE:-16}"
    ;;
  *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac
REVTRACE_KEY=$("$BIN" company add --name "Bench store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_key"])')
export REVTRACE_KEY

# One load generator on loopback is one client address: no per-client rate limit here.
RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:18181 --public-rate-per-minute 0 --unknown-key-rate-per-minute 0 &
SERVER_PID=$!
"$ECHO" 127.0.0.1:18182 &
ECHO_PID=$!
for _ in $(seq 50); do
  curl -sf http://127.0.0.1:18181/readyz >/dev/null && curl -s -o /dev/null http://127.0.0.1:18182/ && break
  sleep 0.1
done

summarize() { # name, wrk output file
  python3 - "$1" "$2" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
def to_ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
print(f"{name:<28} {rps:>10,.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"
      + (f"   non-2xx {bad.group(1)}" if bad else "") + (f"   socket errors: {errors.group(1)}" if errors else ""))
open(path + ".rps", "w").write(str(rps))
PY
}

echo "seeding conversations (5 s of ticket upserts)…"
# Every wrk run gets its own RUN_ID so that order and ticket ids never repeat.
RUN_ID=seed wrk -t"$THREADS" -c"$CONNECTIONS" -d5s --latency -s bench/ingest/tickets.lua http://127.0.0.1:18181 > "$WORK/tickets.txt"
echo "warming up (3 s)…"
RUN_ID=warm wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/ingest/mixed.lua http://127.0.0.1:18181 > /dev/null
echo "measuring ${DURATION} s each, $CONNECTIONS connections, $THREADS wrk threads"
RUN_ID=main wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/ingest/mixed.lua http://127.0.0.1:18181 > "$WORK/revtrace.txt"
RUN_ID=echo wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/ingest/mixed.lua http://127.0.0.1:18182 > "$WORK/echo.txt"

echo
summarize "tickets (seed)" "$WORK/tickets.txt"
summarize "revtrace cart+checkout" "$WORK/revtrace.txt"
summarize "bare axum JSON echo" "$WORK/echo.txt"
python3 - "$WORK/revtrace.txt.rps" "$WORK/echo.txt.rps" <<'PY'
import sys
a, b = (float(open(p).read()) for p in sys.argv[1:3])
print(f"revtrace / echo ratio: {a / b:.2f}")
PY
curl -s http://127.0.0.1:18181/metrics | python3 -c '
import sys
v = {}
for line in sys.stdin:
    if line.startswith(("revtrace_commit_batch_size_", "revtrace_pg_transaction_attempts_")):
        k, x = line.split()
        v[k.split("{")[0]] = float(x)
n, s = v.get("revtrace_commit_batch_size_count", 0), v.get("revtrace_commit_batch_size_sum", 0)
if n:
    print(f"group commit: {int(n):,} commits, mean batch {s / n:.1f} calls")
n, s = v.get("revtrace_pg_transaction_attempts_count", 0), v.get("revtrace_pg_transaction_attempts_sum", 0)
if n:
    print(f"PostgreSQL: {int(n):,} transactions, {int(s - n):,} run again after losing a race")
'
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$SERVER_PID/status)"
if [ "$BACKEND" = postgres ]; then
  echo "events stored: $(psql -At "$REVTRACE_DATABASE_URL" -c 'select count(*) from events')"
else
  echo "events stored: $(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$WORK/bench.db")"
fi
