#!/usr/bin/env bash
# The kill -9 campaign: checkouts from 8 connections, the server killed with
# SIGKILL at a random moment, restarted, and every order answered 201 looked
# for in the database. Prints acknowledged vs stored per run and in all.
#
#   bench/crash/run.sh [RUNS]                (default 10, SQLite)
#   BACKEND=postgres bench/crash/run.sh 5    a fresh schema on
#       REVTRACE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-10}"
BACKEND="${BACKEND:-sqlite}"
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
WORK=$(mktemp -d)
PG_BASE="${REVTRACE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
SCHEMA="revtrace_crash_$$"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
  [ "$BACKEND" = postgres ] && psql -q "$PG_BASE" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
case "$BACKEND" in
  sqlite) export REVTRACE_DATABASE_URL="sqlite://$WORK/crash.db" ;;
  postgres)
    psql -q "$PG_BASE" -c "CREATE SCHEMA $SCHEMA" >/dev/null
    export REVTRACE_DATABASE_URL="$PG_BASE?options=-csearch_path%3D$SCHEMA" ;;
  *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac
CRASH_KEY=$("$BIN" company add --name "Crash store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_key"])')
export CRASH_KEY

stored_orders() {
  case "$BACKEND" in
    sqlite) python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(\"SELECT order_id FROM events WHERE cart_type = 'CHECKOUT'\")]" "$WORK/crash.db" ;;
    postgres) psql -qtA "$PG_BASE" -c "SET search_path = $SCHEMA; SELECT order_id FROM events WHERE cart_type = 'CHECKOUT'" ;;
  esac
}

total_acked=0; total_lost=0
for run in $(seq "$RUNS"); do
  RUST_LOG=error "$BIN" serve --listen 127.0.0.1:18211 --public-rate-per-minute 0 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18211/readyz >/dev/null && break; sleep 0.05; done
  RUN="$run-$$" python3 bench/crash/client.py 127.0.0.1:18211 "$WORK/acked-$run.txt" &
  CLIENT_PID=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 2.5), 2))')"
  kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  wait "$CLIENT_PID" || true
  stored_orders | sort > "$WORK/stored.txt"
  acked=$(wc -l < "$WORK/acked-$run.txt")
  lost=$(sort "$WORK/acked-$run.txt" | comm -23 - "$WORK/stored.txt" | wc -l)
  echo "run $run: $acked acknowledged, $lost of them missing"
  total_acked=$((total_acked + acked)); total_lost=$((total_lost + lost))
done
echo "$BACKEND: $RUNS kill -9 runs, $total_acked events acknowledged, $total_lost lost"
