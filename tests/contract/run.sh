#!/usr/bin/env bash
# Contract fuzzing: schemathesis runs every check against /openapi.json of a
# real server (demo data), once with an admin token of Kinda and once with
# one of Boxholm, so that object-level access across organisations is
# exercised too. Prints "N passed, N failed" and writes
# target/reports/contract.json. Extended tier: CONTRACT_EXAMPLES=200.
set -euo pipefail
cd "$(dirname "$0")/../.."
examples="${CONTRACT_EXAMPLES:-25}"
venv=target/contract-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
cargo build --locked -q --bin tillit
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; true' EXIT
port=18777
root=$(pwd)
(cd "$work" && exec env TILLIT_RATE_LIMIT=0 RUST_LOG=warn "$root/target/debug/tillit" serve --demo --bind "127.0.0.1:$port" > out.txt 2> err.txt) &
server=$!
for _ in $(seq 1 120); do grep -q "Bodil Admin" "$work/out.txt" 2>/dev/null && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
kinda=$(grep "Kerstin Admin" "$work/out.txt" | awk '{print $NF}')
boxholm=$(grep "Bodil Admin" "$work/out.txt" | awk '{print $NF}')
mkdir -p target/reports
failures=0
runs=0
for token in "$kinda" "$boxholm"; do
  runs=$((runs + 1))
  log="$work/run-$runs.txt"
  if "$venv/bin/schemathesis" --config-file tests/contract/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
      --checks all --max-examples "$examples" --workers 1 --seed 20261127 \
      -H "Authorization: Bearer $token" > "$log" 2>&1; then
    :
  fi
  cp "$log" "target/reports/contract-run-$runs.txt"
  tail -n 25 "$log"
  found=$(grep -Eo '[0-9]+ (unique )?failures?' "$log" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0)
  failures=$((failures + found))
  cases=$(grep -Eo '[0-9]+ generated' "$log" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0)
  echo "{\"run\": $runs, \"cases\": $cases, \"failures\": $found}" > "target/reports/contract-$runs.json"
done
python3 - "$runs" "$failures" <<'PY'
import json, glob, sys
runs = [json.load(open(p)) for p in sorted(glob.glob("target/reports/contract-*.json"))]
summary = {"runs": runs, "cases": sum(r["cases"] for r in runs), "failures": int(sys.argv[2])}
json.dump(summary, open("target/reports/contract.json", "w"), indent=2)
print(f"contract fuzzing: {summary['cases'] - summary['failures']} passed, {summary['failures']} failed ({summary['cases']} generated cases, {len(runs)} runs)")
PY
[ "$failures" -eq 0 ]
