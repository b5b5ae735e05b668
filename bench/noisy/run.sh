#!/usr/bin/env bash
# Noisy neighbour: company A's secret-key ingest and report p99 alone, then
# while company B's public key is flooded by wrk (64 connections, one client
# address), in the same run on the embedded default with the default limits.
#
#   bench/noisy/run.sh [CALLS] [FLOOD_SECONDS]   (defaults 2000, 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS="${1:-2000}"
SECONDS_FLOOD="${2:-20}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/noisy.db"
VICTIM_SECRET=$("$BIN" company add --name "Victim" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret_key"])')
FLOOD_KEY=$("$BIN" company add --name "Flooded" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_key"])')
export VICTIM_SECRET FLOOD_KEY
RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:18201 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18201/readyz >/dev/null && break; sleep 0.1; done

echo "== company A alone"
python3 bench/noisy/victim.py 127.0.0.1:18201 "$CALLS"
echo "== company A while company B's public key is flooded"
wrk -t1 -c64 -d"${SECONDS_FLOOD}s" -s bench/noisy/flood.lua http://127.0.0.1:18201 > "$WORK/wrk.txt" &
WRK_PID=$!
sleep 2
python3 bench/noisy/victim.py 127.0.0.1:18201 "$CALLS"
wait "$WRK_PID"
grep -E 'Requests/sec|requests in' "$WORK/wrk.txt" | sed 's/^/flood: /'
curl -s http://127.0.0.1:18201/metrics | grep -E '^revtrace_rate_limited_total' | sed 's/^/flood: /' || true
