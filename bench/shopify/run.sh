#!/usr/bin/env bash
# Signed Shopify orders/paid deliveries against revtrace serve on SQLite
# (durable, group commit): HMAC check, dedupe, fingerprint from a line-item
# property, attribution, order and line item stored. wrk, 64 keep-alive
# connections, loopback. Prints deliveries/s, p50/p99, orders stored and the
# server's peak RSS.
#
#   bench/shopify/run.sh [DURATION_SECONDS]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-15}"
CONNECTIONS=64
export THREADS=2
SECRET="shpss_bench_0123456789"
export SHOP="bench-store.myshopify.com"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)…" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
WORK=$(mktemp -d)
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db"
CREDS=$("$BIN" company add --name "Shopify bench" --json)
COMPANY=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["company_id"])' "$CREDS")
export REVTRACE_KEY=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["company_key"])' "$CREDS")
"$BIN" shopify connect --company "$COMPANY" --shop "$SHOP" --secret "$SECRET" > /dev/null
COUNT=$(( DURATION * 12000 ))
echo "signing $COUNT deliveries…"
python3 bench/shopify/generate.py "$WORK/deliveries.tsv" "$SECRET" "$COUNT"
export DELIVERIES="$WORK/deliveries.tsv"

RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:18191 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18191/readyz >/dev/null && break; sleep 0.1; done

echo "seeding conversations (5 s of ticket upserts)…"
RUN_ID=seed wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s bench/ingest/tickets.lua http://127.0.0.1:18191 > /dev/null
echo "measuring ${DURATION} s, $CONNECTIONS connections, $THREADS wrk threads"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/shopify/deliveries.lua http://127.0.0.1:18191 > "$WORK/wrk.txt"

python3 - "$WORK/wrk.txt" "$WORK/bench.db" "$DURATION" <<'PY'
import re, sqlite3, sys
text = open(sys.argv[1]).read()
def to_ms(v):
    n, unit = re.match(r"([\d.]+)(\w+)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
db = sqlite3.connect(sys.argv[2])
orders = db.execute("SELECT count(*) FROM events WHERE source_category = 'SHOPIFY'").fetchone()[0]
attributed = db.execute("SELECT count(*) FROM events WHERE source_category = 'SHOPIFY' AND attributed").fetchone()[0]
deliveries = db.execute("SELECT count(*) FROM shopify_deliveries").fetchone()[0]
print(f"orders/paid deliveries   {rps:>10,.0f} /s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"
      + (f"   non-2xx {bad.group(1)}" if bad else ""))
print(f"orders stored {orders:,} ({attributed:,} attributed), deliveries recorded {deliveries:,}, "
      f"{orders / float(sys.argv[3]):,.0f} new orders/s")
PY
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$SERVER_PID/status)"
