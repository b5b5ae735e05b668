#!/usr/bin/env bash
# Assignment calls over HTTP against cart events in the same run, each for
# SECONDS (default 10) with wrk's 64 connections, on a fresh SQLite file with
# a running holdout. Prints requests/s and latency of both.
#
#   bench/experiments/assign.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-10}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db"
CREDS=$("$BIN" company add --name "Assign bench" --json)
COMPANY=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_id"])')
REVTRACE_KEY=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_key"])')
export REVTRACE_KEY
"$BIN" experiment add bench-holdout --company "$COMPANY" --holdout-pct 10 --starts-at 2026-01-01T00:00:00Z > /dev/null
RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:18191 --public-rate-per-minute 0 --unknown-key-rate-per-minute 0 &
for _ in $(seq 50); do curl -sf http://127.0.0.1:18191/readyz >/dev/null && break; sleep 0.1; done
for script in bench/experiments/assign.lua bench/ingest/mixed.lua; do
  wrk -t2 -c64 -d"${DURATION}s" --latency -s "$script" http://127.0.0.1:18191 > "$WORK/out"
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/out")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/out")
  bad=$(awk '/Non-2xx/ {print $5}' "$WORK/out")
  printf "%-36s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n" "$(basename "$script")" "$rps" "$p50" "$p99" "${bad:-0}"
done
echo "exposures stored: $(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM exposures").fetchone()[0])' "$WORK/bench.db")"
