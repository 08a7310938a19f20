#!/usr/bin/python3
"""Ensemble rows of docs/PERFORMANCE.md: aviary-bench against a 3-node
ensemble of one kind on loopback (all sessions spread round-robin over the
three members, so reads are served by every member and writes go through
the leader's quorum).

    tests/ensemble/bench_ensemble.py --kind aviary,zookeeper [--bench build/aviary-bench]
        [--seconds 6] [--reps 3] [--workloads set,get,mixed] [--rounds 1]
        [--workload-warmup 5]

--kind takes one kind or a comma-separated list: the kinds run one after
the other in the same invocation, each on a fresh ensemble (--rounds N
repeats the whole sequence, alternating its order), and the table gives
each kind's median over all its runs plus the ratio of the first kind to
the second. Each ensemble gets a 3 s mixed warm-up, then per workload an
uncounted --workload-warmup run before its --reps counted runs (each after
a 1 s warm-up of its own). ZooKeeper members run with -Xmx1000m and JVM defaults (as
zkServer.sh), both kinds with forceSync=yes and tickTime=2000. Prints one
JSON line per run and a Markdown table of medians.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ensemble  # noqa: E402


def run_bench(bench, servers, workload, seconds, warmup):
    cmd = [bench, "--servers", servers, "--workload", workload, "--seconds", str(seconds),
           "--warmup", str(warmup), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 120)
    if out.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), out.returncode, out.stderr.strip()[-2000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_kind(a, kind, extra):
    """Runs every workload a.reps times on a fresh 3-node ensemble of `kind`:
    {workload: [run, ...]}."""
    ens = ensemble.Ensemble([kind] * 3, zk_jvm=["-Xmx1000m"], extra_cfg=extra)
    out = {}
    try:
        ens.start(timeout=120)
        servers = ens.connect_string()
        run_bench(a.bench, servers, "mixed", 3, 0)  # warm-up (ZooKeeper's JIT)
        for w in a.workloads.split(","):
            if a.workload_warmup > 0:
                run_bench(a.bench, servers, w, a.workload_warmup, 0)  # not counted
            for _ in range(a.reps):
                r = run_bench(a.bench, servers, w, a.seconds, 1)
                r["kind"] = kind
                print(json.dumps(r), flush=True)
                out.setdefault(w, []).append(r)
    finally:
        ens.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True, help="zookeeper, aviary, or a comma-separated list")
    ap.add_argument("--bench", default=os.path.join(ensemble.REPO_ROOT, "build", "aviary-bench"))
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workload-warmup", type=int, default=5,
                    help="seconds of each workload run (not counted) before its reps (ZooKeeper's JIT)")
    ap.add_argument("--workloads", default="set,get,mixed")
    ap.add_argument("--cfg", action="append", default=[], help="extra zoo.cfg line key=value")
    a = ap.parse_args()
    kinds = [k.strip() for k in a.kind.split(",") if k.strip()]
    for k in kinds:
        if k not in ("zookeeper", "aviary"):
            ap.error("unknown kind %r" % k)
    ensemble.TICK_TIME_MS = 2000
    extra = {"maxSessionTimeout": 40000}
    extra.update(kv.split("=", 1) for kv in a.cfg)
    os.environ.setdefault("AVIARY_ZK_LOGLEVEL", "warn")
    results = {k: {} for k in kinds}
    for rnd in range(a.rounds):
        for kind in (kinds if rnd % 2 == 0 else kinds[::-1]):
            for w, runs in bench_kind(a, kind, extra).items():
                results[kind].setdefault(w, []).extend(runs)
    print_table(kinds, results, a.workloads.split(","))


def print_table(kinds, results, workloads):
    ratio = len(kinds) >= 2
    head = "| workload | " + " | ".join("%s ops/s (median)" % k for k in kinds)
    head += " | **%s / %s** |" % (kinds[0], kinds[1]) if ratio else " |"
    head += " runs | p99 ms (median) | errors / lost sessions |"
    print(head)
    print("|---|" + "---:|" * (len(kinds) + ratio) + "---|---:|---|")
    for w in workloads:
        med = {k: statistics.median([r["ops_per_sec"] for r in results[k][w]]) for k in kinds}
        row = "| %s | " % w + " | ".join("{:,.0f}".format(med[k]) for k in kinds) + " | "
        if ratio:
            row += "**%.2f** | " % (med[kinds[0]] / med[kinds[1]] if med[kinds[1]] else float("nan"))
        row += "; ".join(" / ".join("{:,.0f}".format(r["ops_per_sec"]) for r in results[k][w]) for k in kinds)
        row += " | " + " / ".join("%.2f" % statistics.median([r["latency_us"]["p99"] / 1000.0 for r in results[k][w]])
                                  for k in kinds)
        row += " | " + " / ".join("%d / %d" % (sum(r["errors"] for r in results[k][w]),
                                               sum(r["lost_sessions"] for r in results[k][w])) for k in kinds)
        print(row + " |")


if __name__ == "__main__":
    main()
