#!/usr/bin/env python3
"""Lookup A/B: two builds of Tillit answering first-asked questions (the
answer cache off), started in turn on the same saved index, with the floor
before and after, in one run. For a change to the index's own search, where
the machine's speed moves more between runs than the change moves the
figures.

Usage: bench/lookup_ab.py BASELINE_BIN CANDIDATE_BIN DB...   (ROUNDS=2 by
default; each round starts each build once, in turn; KINDS=exact,fuzzy by
default, `unknown` asks for names in no registry). Prints a Markdown
table with each build's req/s and p99 per round and the candidate's ratio to
the baseline. Needs wrk and taskset, as bench/lookup_bench.py.
"""
import os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lookup_bench as lb  # noqa: E402


KINDS = os.environ.get("KINDS", "exact,fuzzy").split(",")


def measure(binary, db, log):
    proc, _ = lb.start_tillit(db, log, {"TILLIT_LOOKUP_CACHE_MB": "0"}, binary)
    try:
        return lb.measure_kinds(db, KINDS)
    finally:
        proc.kill()
        proc.wait()


def main():
    baseline, candidate, *dbs = sys.argv[1:]
    rounds = int(os.environ.get("ROUNDS", "2"))
    os.makedirs(lb.OUT, exist_ok=True)
    floor = lb.run_floor()
    rows = []
    for db in dbs:
        log = open(os.path.join(lb.OUT, f"ab-{os.path.basename(db)}.log"), "w")
        if not os.path.exists(f"{db}.lookup"):
            # One first start makes the saved index both builds load.
            proc, _ = lb.start_tillit(db, log, binary=candidate)
            proc.kill()
            proc.wait()
        runs = {"baseline": [], "candidate": []}
        for _ in range(rounds):
            for name, binary in [("baseline", baseline), ("candidate", candidate)]:
                runs[name].append(measure(binary, db, log))
        for kind in KINDS:
            base = [r[kind] for r in runs["baseline"]]
            cand = [r[kind] for r in runs["candidate"]]
            ratio = statistics.median(c["rps"] for c in cand) / statistics.median(b["rps"] for b in base)
            rows.append((os.path.basename(db), kind, base, cand, ratio))
    floor_after = lb.run_floor()
    print(f"floor: {floor['rps']:.0f} req/s before, {floor_after['rps']:.0f} after")
    print("| database | kind | baseline req/s (p99 ms) | candidate req/s (p99 ms) | candidate / baseline (median req/s) |")
    print("|---|---|---|---|---|")
    fmt = lambda rs: ", ".join(f"{r['rps']:.0f} ({r['p99_ms']:.2f})" for r in rs)  # noqa: E731
    for name, kind, base, cand, ratio in rows:
        print(f"| {name} | {kind} | {fmt(base)} | {fmt(cand)} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
