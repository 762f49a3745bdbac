#!/usr/bin/env bash
# Browser tests: starts a real server with the demo data and drives Debian's
# headless Chromium through the pages with playwright-core (tests/browser/flow.mjs).
# Installs chromium (apt) and playwright-core (npm ci) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q chromium
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --locked -q --bin tillit
root=$(pwd)
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; true' EXIT
port=18779
(cd "$work" && exec env TILLIT_RATE_LIMIT=0 RUST_LOG=warn "$root/target/debug/tillit" serve --demo --bind "127.0.0.1:$port" > out.txt 2> err.txt) &
server=$!
for _ in $(seq 1 120); do
  grep -q "user name bodil" "$work/out.txt" 2>/dev/null && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
password=$(grep -o "demo-[0-9a-f]*" "$work/out.txt" | head -n 1)
node tests/browser/flow.mjs "http://localhost:$port" "$password"
