#!/usr/bin/env python3
"""What the lookup route costs before its search: the floor, then Tillit
(answer cache off) answering three kinds of first-asked lookups in turn on
the same server: a query that matches nothing and is too short for the typo
search (`qqx`: the route's own work, HTTP, headers, parsing, an empty
answer), exact names and names with a typo, in rounds. The difference
between the first kind and the others is what the search, the answer and
its rendering cost per request; the first kind's ratio to the floor is the
most any lookup can reach on the same stack.

Usage: bench/lookup_route.py DB...   (ROUNDS=2 by default; TILLIT_BIN picks
the binary). Needs wrk and taskset, as bench/lookup_bench.py.
"""
import os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lookup_bench as lb  # noqa: E402

KINDS = ["route", "exact", "fuzzy"]


def route_queries():
    path = os.path.join(lb.OUT, "queries-route.txt")
    with open(path, "w") as f:
        f.write("qqx\n")
    return path


def main():
    dbs = sys.argv[1:]
    rounds = int(os.environ.get("ROUNDS", "2"))
    binary = os.environ.get("TILLIT_BIN", lb.TILLIT)
    os.makedirs(lb.OUT, exist_ok=True)
    script = os.path.join(lb.ROOT, "bench/lookup.lua")
    files = {db: {"route": route_queries(), "exact": lb.queries(db, "exact"), "fuzzy": lb.queries(db, "fuzzy")}
             for db in dbs}
    floors, rows = [], {db: {k: [] for k in KINDS} for db in dbs}
    for _ in range(rounds):
        floors.append(lb.run_floor())
        for db in dbs:
            with open(os.path.join(lb.OUT, f"route-{os.path.basename(db)}.log"), "w") as log:
                proc, _ = lb.start_tillit(db, log, {"TILLIT_LOOKUP_CACHE_MB": "0"}, binary)
                try:
                    for kind in KINDS:
                        url = "http://127.0.0.1:18091"
                        lb.wrk(url, script, {"QUERIES": files[db][kind]})  # warm up
                        rows[db][kind].append(lb.wrk(url, script, {"QUERIES": files[db][kind]}))
                finally:
                    proc.kill()
                    proc.wait()
    floor = statistics.median(f["rps"] for f in floors)
    print("floor: " + ", ".join(f"{f['rps']:.0f} req/s (p99 {f['p99_ms']:.2f} ms)" for f in floors))
    print("| database | kind | req/s per round (p99 ms) | median / floor | µs per request beyond the route's own |")
    print("|---|---|---|---|---|")
    for db in dbs:
        route = statistics.median(r["rps"] for r in rows[db]["route"])
        for kind in KINDS:
            runs = rows[db][kind]
            rps = statistics.median(r["rps"] for r in runs)
            beyond = "" if kind == "route" else f"{1e6 / rps - 1e6 / route:.1f}"
            listed = ", ".join(f"{r['rps']:.0f} ({r['p99_ms']:.2f})" for r in runs)
            print(f"| {os.path.basename(db)} | {kind} | {listed} | {rps / floor:.2f} | {beyond} |")


if __name__ == "__main__":
    main()
