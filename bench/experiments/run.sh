#!/usr/bin/env bash
# `GET /v1/experiments/{key}` on a running holdout with VISITORS exposed
# visitors (default 1,000,000) over a store of EVENTS events (default
# 5,000,000: five per visitor, from bench/report/generate.py). Prints the
# p50/p99 of sequential calls, frequentist and sequential.
#
#   bench/experiments/run.sh [VISITORS] [EVENTS] [CALLS]
#   BIN=path/to/revtrace bench/experiments/run.sh   another build
set -euo pipefail
cd "$(dirname "$0")/../.."
VISITORS="${1:-1000000}"
EVENTS="${2:-5000000}"
CALLS="${3:-20}"
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p revtrace --bin revtrace
  BIN=target/release/revtrace
fi
# KEEP=DIR keeps the generated database in DIR and reuses it on the next run.
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db"
if [ ! -s "$WORK/creds.json" ]; then
  rm -f "$WORK"/bench.db*
  "$BIN" company add --name "Experiment bench" --json > "$WORK/creds.json"
  COMPANY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["company_id"])' "$WORK/creds.json")
  /usr/bin/env time -f "generated in %e s" python3 bench/report/generate.py "$WORK/bench.db" "$COMPANY" "$EVENTS" 0.03
  /usr/bin/env time -f "exposed in %e s" python3 bench/experiments/add_experiment.py "$WORK/bench.db" "$COMPANY" "$VISITORS"
fi
SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret_key"])' "$WORK/creds.json")

PORT=18788
RUST_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --public-rate-per-minute 0 --unknown-key-rate-per-minute 0 > "$WORK/server.log" 2>&1 &
for _ in $(seq 1200); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.1; done

python3 - "$PORT" "$SECRET" "$CALLS" <<'PY'
import http.client, json, sys, time
port, secret, calls = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
headers = {"Authorization": f"Bearer {secret}"}

def measure(label, path):
    samples = []
    for i in range(calls + 2):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, body
        if i >= 2:  # the first calls warm the page cache
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"{label:<48} p50 {p(0.50):8.1f} ms   p99 {p(0.99):8.1f} ms   ({calls} calls)")
    return json.loads(body)

r = measure("/v1/experiments/bench-holdout", "/v1/experiments/bench-holdout")
measure("/v1/experiments/bench-holdout?sequential=true", "/v1/experiments/bench-holdout?sequential=true")
arms = ", ".join(f"{a['name']} {a['visitors']:,} visitors / {a['orders']:,} orders" for a in r["arms"])
print(f"  ({arms}; SRM p {r['srm']['p_value']:.3g})")
PY
