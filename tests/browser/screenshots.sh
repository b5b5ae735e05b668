#!/usr/bin/env bash
# Regenerates docs/img: the demo store on a scratch database and a free port,
# a second, empty company for the setup page, then every page at 1280 and
# 390 px (tests/browser/screenshots.mjs). Needs Chromium and
# `npm ci --prefix tests/browser`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p revtrace --bin revtrace
bin=target/release/revtrace
work=$(mktemp -d)
trap 'kill "$demo" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" demo --file "$work/demo.db" --listen "127.0.0.1:$port" > "$work/demo.log" 2>&1 &
demo=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.5
done
key=$(awk '/^secret_key:/ {print $2}' "$work/demo.log")
new_key=$(REVTRACE_DATABASE_URL="sqlite://$work/demo.db" "$bin" company add --name "New Shop" --json \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret_key"])')
mkdir -p docs/img
node tests/browser/screenshots.mjs "http://127.0.0.1:$port/" "$key" "$new_key" docs/img
