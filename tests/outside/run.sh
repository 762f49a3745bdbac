#!/usr/bin/env bash
# An outside tool checks Tillit's audit chain: tools/verify-audit-chain.py,
# with the rfc8785 library from PyPI and no Tillit code, verifies
#  - the export of a fresh registry (tillit seed), and finds a tampered event;
#  - the export of a database made by an earlier Tillit (the upgrade fixture),
#    after the current one has opened and migrated it.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q rfc8785==0.1.4
py="$work/venv/bin/python"
cargo build --locked -q
tillit=target/debug/tillit

head_of() { "$tillit" audit head --database "$1" | "$py" -c 'import json, sys; h = json.load(sys.stdin); print("%d:%s" % (h["seq"], h["entry_hash"]))'; }

echo "== a fresh registry"
db="sqlite://$work/fresh.db"
"$tillit" seed --synthetic 40 --seed 11 --database "$db" >/dev/null 2>&1
"$tillit" audit export --database "$db" --output "$work/fresh.ndjson"
"$py" tools/verify-audit-chain.py "$work/fresh.ndjson" --head "$(head_of "$db")" > "$work/fresh.json"
grep -q '"intact": true' "$work/fresh.json"
grep '"events"' "$work/fresh.json"

echo "== one event altered"
"$py" - "$work/fresh.ndjson" "$work/tampered.ndjson" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
event = json.loads(lines[20])
event["org_slug"] = "kinda" if event["org_slug"] != "kinda" else "ydre"
lines[20] = json.dumps(event, separators=(",", ":"))
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
if "$py" tools/verify-audit-chain.py "$work/tampered.ndjson" > "$work/tampered.json"; then
  echo "the outside check did not notice an altered event" >&2
  exit 1
fi
grep -q 'seq 21: entry_hash does not match' "$work/tampered.json"

echo "== a database made by the main of 2026-12-07, upgraded"
"$py" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2], encoding="utf-8").read()); c.close()' \
  "$work/old.db" tests/fixtures/upgrade/sqlite-2026-12-07.sql
db="sqlite://$work/old.db"
"$tillit" migrate --database "$db"
"$tillit" audit export --database "$db" --output "$work/old.ndjson"
"$py" tools/verify-audit-chain.py "$work/old.ndjson" --head "$(head_of "$db")" > "$work/old.json"
grep -q '"intact": true' "$work/old.json"
grep '"events"' "$work/old.json"
echo "the outside check agrees"
