#!/usr/bin/env bash
# `revtrace reattribute` over a generated history: EVENTS commerce events
# against TICKETS conversations (defaults 1,000,000 and 100,000). Prints the
# wall time, events/s and peak memory of the replay.
#
#   bench/reattribute/run.sh [EVENTS] [TICKETS]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
TICKETS="${2:-100000}"
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null; }
cargo build --release -q -p revtrace --bin revtrace
BIN=target/release/revtrace
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export REVTRACE_DATABASE_URL="sqlite://$WORK/bench.db"
COMPANY=$("$BIN" company add --name "Replay bench" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["company_id"])')
python3 bench/reattribute/generate.py "$WORK/bench.db" "$COMPANY" "$EVENTS" "$TICKETS"

measure() { # label, args…
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" reattribute "$@" > "$WORK/out"
  read -r seconds kib < "$WORK/time"
  python3 - "$label" "$seconds" "$kib" "$EVENTS" "$(cat "$WORK/out")" <<'PY'
import sys
label, seconds, kib, events, line = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"{label:<22} {seconds:7.2f} s  {events / seconds:>12,.0f} events/s  peak RSS {kib / 1024:7.0f} MiB   ({line})")
PY
}
measure "first replay" 
measure "replay, nothing new" 
measure "dry run, window 2 h" --window-hours 2 --dry-run
