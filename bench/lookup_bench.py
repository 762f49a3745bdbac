#!/usr/bin/env python3
"""Lookup under load: Tillit's /api/v1/lookup against a minimal actix-web
JSON handler (the floor), in the same run, with the server on core 0 and wrk
on core 1.

Usage: bench/lookup_bench.py DB_1K DB_100K DB_1M ...   (SQLite files made by
`tillit seed --synthetic N`). Writes target/bench/lookup.json and prints a
Markdown table. Needs wrk (apt-get install wrk) and taskset.
"""
import json, os, random, re, sqlite3, subprocess, sys, time, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TILLIT = os.path.join(ROOT, "target/release/tillit")
FLOOR = os.path.join(ROOT, "target/release/examples/floor")
OUT = os.path.join(ROOT, "target/bench")
DURATION = os.environ.get("BENCH_SECONDS", "10")
CONNECTIONS = "64"


def wait_ready(url, deadline=120):
    start = time.time()
    while time.time() - start < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.time() - start
        except Exception:
            time.sleep(0.01)
    raise RuntimeError(f"not ready: {url}")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(url, script=None, env=None, connections=CONNECTIONS):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{DURATION}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for p in ["50", "75", "90", "99"]:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value = float(m.group(1))
        lat[p] = value / 1000 if m.group(2) == "us" else value if m.group(2) == "ms" else value * 1000
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def typo(rng, word):
    chars = list(word)
    if len(chars) < 5:
        return word
    i = rng.randrange(1, len(chars) - 2)
    chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def queries(db, kind):
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute(
        "SELECT name FROM revisions WHERE publication = 'published' ORDER BY document_sha256 LIMIT 2000")]
    con.close()
    rng = random.Random(7)
    if kind == "fuzzy":
        names = [typo(rng, n) for n in names]
    elif kind == "unknown":
        # Names in no registry: nothing is found, and the question is
        # counted as demand.
        names = ["".join(rng.choice("bcdfghjklmnpqrstvxz") for _ in range(12)) for _ in names]
    path = os.path.join(OUT, f"queries-{kind}-{os.path.basename(db)}.txt")
    with open(path, "w") as f:
        for n in names:
            f.write(urllib.parse.quote(n) + "\n")
    return path


def run_floor():
    proc = subprocess.Popen(["taskset", "-c", "0", FLOOR, "127.0.0.1:18090"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready("http://127.0.0.1:18090/json")
        wrk("http://127.0.0.1:18090/json")  # warm up
        return wrk("http://127.0.0.1:18090/json")
    finally:
        proc.kill()
        proc.wait()


def start_tillit(db, log, extra_env=None, binary=TILLIT):
    env = {**os.environ, "RUST_LOG": "warn,tillit=info", "TILLIT_RATE_LIMIT": "0", **(extra_env or {})}
    started = time.time()
    proc = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--bind", "127.0.0.1:18091", "--workers", "1",
                             "--database", f"sqlite://{db}"], stdout=log, stderr=log, env=env)
    wait_ready("http://127.0.0.1:18091/api/v1/lookup?q=a&org=kinda")
    return proc, time.time() - started


def measure_kinds(db, kinds=("exact", "fuzzy")):
    """Exact and typo lookups (or `kinds`) against the server started on
    `db`, each after a warm-up run."""
    out = {}
    script = os.path.join(ROOT, "bench/lookup.lua")
    for kind in kinds:
        qfile = queries(db, kind)
        wrk("http://127.0.0.1:18091", script, {"QUERIES": qfile})  # warm up
        out[kind] = wrk("http://127.0.0.1:18091", script, {"QUERIES": qfile})
    return out


def run_tillit(db):
    """Three starts: the first builds the index from the database (and saves
    it next to it), the second loads the saved index and is measured with
    the answer cache, the third likewise without it."""
    path = os.path.join(OUT, f"serve-{os.path.basename(db)}.log")
    if os.path.exists(f"{db}.lookup"):
        os.remove(f"{db}.lookup")
    result = {}
    with open(path, "w") as log:
        proc, result["ready_build_s"] = start_tillit(db, log)
        proc.kill()
        proc.wait()
        # The saved index, with the answer cache (the default) and without
        # it (every lookup searched in the index): the 2,000 queries are
        # repeated, so after the warm-up every answer with the cache is one
        # given before.
        for suffix, extra in [("", {}), ("-nocache", {"TILLIT_LOOKUP_CACHE_MB": "0"})]:
            proc, ready = start_tillit(db, log, extra)
            result.setdefault("ready_s", ready)
            try:
                for kind, measured in measure_kinds(db).items():
                    result[kind + suffix] = measured
                result["rss_mb" + suffix] = rss_mb(proc.pid)
            finally:
                proc.kill()
                proc.wait()
    with open(path) as f:
        m = re.findall(r"lookup index: (\d+) services, about (\d+) MB, built in ([\d.]+) s", f.read())
        if m:
            services, mb, _ = m[-1]
            result.update({"services_indexed": int(services), "index_mb": int(mb)})
    return result


def main():
    os.makedirs(OUT, exist_ok=True)
    dbs = sys.argv[1:]
    floor = run_floor()
    results = {"floor": floor, "runs": {}}
    for db in dbs:
        results["runs"][os.path.basename(db)] = run_tillit(db)
    floor_again = run_floor()
    results["floor_after"] = floor_again
    with open(os.path.join(OUT, "lookup.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"floor: {floor['rps']:.0f} req/s (after: {floor_again['rps']:.0f}), p50 {floor['p50_ms']:.3f} ms, p99 {floor['p99_ms']:.3f} ms")
    print("| database | kind | req/s | ratio to floor | p50 ms | p99 ms | non-2xx | RSS MB | index MB | ready s (saved index) | ready s (rebuilt) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results["runs"].items():
        for kind in ["exact", "fuzzy", "exact-nocache", "fuzzy-nocache"]:
            k = r[kind]
            rss = r["rss_mb-nocache" if kind.endswith("-nocache") else "rss_mb"]
            print(f"| {name} | {kind} | {k['rps']:.0f} | {k['rps'] / floor['rps']:.2f} | {k['p50_ms']:.3f} | {k['p99_ms']:.3f} | "
                  f"{k['non_2xx']} | {rss:.0f} | {r.get('index_mb', '?')} | {r['ready_s']:.2f} | {r['ready_build_s']:.2f} |")


if __name__ == "__main__":
    main()
