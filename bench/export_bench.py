#!/usr/bin/env python3
"""Compliance export against the sqlite3 command-line tool on the same
database, in the same run: wall time and peak memory, CSV and JSON.

Usage: bench/export_bench.py DB [DB ...]   (SQLite files made by `tillit seed`).
Needs sqlite3 (apt-get install sqlite3). Writes target/bench/export.json.
REPEAT=N (default 2): runs per tool and format; the best time of each is kept.
"""
import json, os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TILLIT = os.path.join(ROOT, "target/release/tillit")
OUT = os.path.join(ROOT, "target/bench")

# The peer's query: the same rows as the report's decided pairs (the latest
# decision per service and organisation, with its revision, deciding
# function, person, delegation and the rule outcomes then and now).
PEER_SQL = """
WITH cur AS (
  SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.service_id, d.org_slug ORDER BY d.decided_at DESC) AS rn FROM decisions d
), latest_eval AS (
  SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.revision_id ORDER BY e.evaluated_at DESC) AS rn FROM evaluations e
)
SELECT s.id, r.name, r.vendor, s.org_slug, r.revision, r.risk_class, c.org_slug, c.decision, c.id, c.decision_reference,
       c.decided_at, c.deciding_org_slug, o.function_name, c.decided_by, u.name, c.via_delegation_id IS NOT NULL,
       dl.decision_reference, c.rule_set_version, e1.rule_outcomes, e2.rule_set_version, e2.rule_outcomes,
       c.valid_until, c.revoked_at, c.conditions
FROM cur c
JOIN services s ON s.id = c.service_id
JOIN revisions r ON r.id = c.revision_id
JOIN organisations o ON o.slug = c.deciding_org_slug
JOIN users u ON u.id = c.decided_by
LEFT JOIN delegations dl ON dl.id = c.via_delegation_id
LEFT JOIN evaluations e1 ON e1.revision_id = c.revision_id AND e1.rule_set_version = c.rule_set_version
LEFT JOIN latest_eval e2 ON e2.revision_id = c.revision_id AND e2.rn = 1
WHERE c.rn = 1
ORDER BY s.id, c.org_slug;
"""


def timed(cmd, stdin=None, out_path=None):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS MB, bytes written)."""
    start = time.time()
    with open(out_path or os.devnull, "wb") as out:
        proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, input=stdin, stdout=out, stderr=subprocess.PIPE)
    seconds = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    size = os.path.getsize(out_path) if out_path else 0
    return seconds, rss, size


REPEAT = int(os.environ.get("REPEAT", "2"))


def warm(path):
    """Reads the database file through once, so neither tool pays for the disk."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {}
    for db in sys.argv[1:]:
        name = os.path.basename(db)
        r = {}
        for fmt, mode in [("csv", "csv"), ("json", "json")]:
            ours_path = os.path.join(OUT, f"export-{name}.{fmt}")
            peer_path = os.path.join(OUT, f"export-peer-{name}.{fmt}")
            # Warm the page cache with the whole file once for both, then run
            # the two in turn REPEAT times and keep each one's best time.
            warm(db)
            runs = []
            for _ in range(REPEAT):
                runs.append((
                    timed([TILLIT, "export", "compliance", "--format", fmt, "--database", f"sqlite://{db}",
                           "--output", ours_path]),
                    timed(["sqlite3", "-bail", "-cmd", f".mode {mode}", db], stdin=PEER_SQL.encode(),
                          out_path=peer_path)))
            t, rss, size = min((ours for ours, _ in runs), key=lambda x: x[0])
            pt, prss, psize = min((peer for _, peer in runs), key=lambda x: x[0])
            rows = lines(ours_path) - 1 if fmt == "csv" else None
            prows = lines(peer_path) - (0 if fmt == "csv" else 2) if fmt == "csv" else None
            r[fmt] = {"tillit_s": t, "tillit_rss_mb": rss, "tillit_bytes": size, "tillit_rows": rows,
                      "sqlite3_s": pt, "sqlite3_rss_mb": prss, "sqlite3_bytes": psize, "sqlite3_rows": prows,
                      "ratio": t / pt}
            os.remove(ours_path)
            os.remove(peer_path)
        results[name] = r
    with open(os.path.join(OUT, "export.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("| database | format | tillit s | sqlite3 s | ratio | tillit peak RSS MB | sqlite3 peak RSS MB | tillit rows | sqlite3 rows |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for fmt, x in r.items():
            print(f"| {name} | {fmt} | {x['tillit_s']:.2f} | {x['sqlite3_s']:.2f} | {x['ratio']:.2f} | {x['tillit_rss_mb']:.0f} | "
                  f"{x['sqlite3_rss_mb']:.0f} | {x['tillit_rows'] or ''} | {x['sqlite3_rows'] or ''} |")


if __name__ == "__main__":
    main()
