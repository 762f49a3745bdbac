#!/usr/bin/env bash
# Re-evaluation after a rule change: copies a seeded database, changes one
# policy (a new check in R2), and times `tillit policies reload`, with peak
# memory. Against the CPU floor: the same documents parsed and evaluated
# (bench/policy_eval.rs measures µs per document on this machine).
# Usage: bench/reevaluate_bench.sh DB   (TILLIT_BIN picks the binary; default the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
db="$1"
bin="${TILLIT_BIN:-./target/release/tillit}"
work=$(mktemp -d ${TILLIT_BENCH_TMP:+-p $TILLIT_BENCH_TMP})
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/db.sqlite"
# Start with the copy in the page cache and nothing else: a 1M database is
# about 12 GB, and the source and its copy may not fit in memory together.
sync
if [ -w /proc/sys/vm/drop_caches ]; then echo 1 > /proc/sys/vm/drop_caches; fi
cat "$work/db.sqlite" > /dev/null
mkdir "$work/policies"
cp policies/*.json "$work/policies/"
python3 - "$work/policies/r2-transparency.policy.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["$defs"]["R2.5"] = {
  "x-tillit-check": {"id": "R2.5", "message": {"sv": "Utbildningsmaterial saknas.", "en": "Training material is missing."}},
  "if": {"properties": {"ai_literacy": {"properties": {"training_required": {"const": True}}}}},
  "then": {"properties": {"ai_literacy": {"properties": {"training_material_url": {"$ref": "#/$defs/nonEmptyText"}}}}}}
d["allOf"].append({"$ref": "#/$defs/R2.5"})
json.dump(d, open(p, "w"), indent=2)
PY
# Migrate first so that the timing covers the re-evaluation only.
"$bin" migrate --database "sqlite://$work/db.sqlite" > /dev/null
${TILLIT_BENCH_WRAP:-} /usr/bin/time -v "$bin" policies reload --policies "$work/policies" --database "sqlite://$work/db.sqlite" \
  2> "$work/time.txt" > "$work/job.json" || { cat "$work/time.txt"; exit 1; }
grep -E "Elapsed|Maximum resident|User time|System time|Percent of CPU|File system outputs" "$work/time.txt"
cat "$work/job.json"
