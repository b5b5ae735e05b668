#!/usr/bin/env bash
# `GET /v1/revenue-impact` over 90 days on a store with EVENTS stored events
# (default 1,000,000; run with 10000000 for the DESIGN.md target). Prints the
# p50/p99 of sequential calls on one keep-alive connection, for the full
# report and for the daily series (which reads no visitor days).
#
# RETURNING is the share of visitors active on more than one day (default
# 0.03); their visitor days are scanned, the others' are pre-counted.
#
#   bench/report/run.sh [EVENTS] [CALLS] [RETURNING]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
CALLS="${2:-300}"
RETURNING="${3:-0.03}"
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
# KEEP=DIR keeps the generated database in DIR and reuses it on the next run.
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db"
if [ ! -s "$WORK/creds.json" ]; then
  rm -f "$WORK"/bench.db*
  "$BIN" company add --name "Report bench" --json > "$WORK/creds.json"
  COMPANY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["company_id"])' "$WORK/creds.json")
  /usr/bin/env time -f "generated in %e s" python3 bench/report/generate.py "$WORK/bench.db" "$COMPANY" "$EVENTS" "$RETURNING"
fi
SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret_key"])' "$WORK/creds.json")
ls -la "$WORK" | awk '/bench.db$/ {printf "database: %.0f MiB\n", $5 / 1048576}'

PORT=18787
RUST_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --public-rate-per-minute 0 --unknown-key-rate-per-minute 0 > "$WORK/server.log" 2>&1 &
# A first start on an older database runs its migrations first.
for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.1; done

python3 - "$PORT" "$SECRET" "$CALLS" <<'PY'
import http.client, json, statistics, sys, time
port, secret, calls = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": f"Bearer {secret}"}

def measure(label, path):
    samples = []
    for i in range(calls + 10):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if i >= 10:  # the first calls warm the page cache
            samples.append((time.perf_counter() - t) * 1000)
        assert response.status == 200, body
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"{label:<40} p50 {p(0.50):6.2f} ms   p99 {p(0.99):6.2f} ms   ({calls} calls)")
    return json.loads(body)

q = "from=2026-08-28&to=2026-11-25"
report = measure("/v1/revenue-impact, 90 days", f"/v1/revenue-impact?{q}")
measure("/v1/revenue-impact, 90 days, FAQ only", f"/v1/revenue-impact?{q}&source=FAQ")
measure("/v1/revenue-impact/daily, 90 days", f"/v1/revenue-impact/daily?{q}")
funnel = measure("/v1/funnel, 90 days", f"/v1/funnel?{q}")
print(f"  (funnel: {funnel['conversations']:,} conversations, {funnel['with_checkout']:,} with a checkout)")
m = report["metrics"]
print(f"  (orders {m['orders']:,}, checkout revenue ${m['checkout_revenue_usd']}, "
      f"visitors {m['assisted_visitors'] + m['unassisted_visitors']:,})")
PY
