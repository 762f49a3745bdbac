#!/usr/bin/env bash
# Policy evaluation: Tillit against ajv 8 in one run, pinned to one core.
# Results: target/bench/policy_eval.json
set -euo pipefail
cd "$(dirname "$0")/.."
(cd bench/peers/ajv && npm ci --no-audit --no-fund --silent)
cargo bench --locked --bench policy_eval --no-run
bin=$(ls -t target/release/deps/policy_eval-* | grep -v '\.d$' | head -n 1)
if command -v taskset >/dev/null; then taskset -c 0 "$bin" --bench; else "$bin" --bench; fi
