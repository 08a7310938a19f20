#!/usr/bin/python3
"""Ensemble rows of docs/PERFORMANCE.md: aviary-bench against a 3-node
ensemble of one kind on loopback (all sessions spread round-robin over the
three members, so reads are served by every member and writes go through
the leader's quorum).

    tests/ensemble/bench_ensemble.py --kind zookeeper [--bench build/aviary-bench]
        [--seconds 6] [--reps 3] [--workloads set,get,mixed]

ZooKeeper members run with -Xmx1000m and JVM defaults (as zkServer.sh), both
kinds with forceSync=yes and tickTime=2000. Prints one JSON line per run and
a Markdown table of medians.
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
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds * 4 + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True, choices=["zookeeper", "aviary"])
    ap.add_argument("--bench", default=os.path.join(ensemble.REPO_ROOT, "build", "aviary-bench"))
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workloads", default="set,get,mixed")
    ap.add_argument("--cfg", action="append", default=[], help="extra zoo.cfg line key=value")
    a = ap.parse_args()
    ensemble.TICK_TIME_MS = 2000
    extra = {"maxSessionTimeout": 40000}
    extra.update(kv.split("=", 1) for kv in a.cfg)
    ens = ensemble.Ensemble([a.kind] * 3, zk_jvm=["-Xmx1000m"], extra_cfg=extra)
    os.environ.setdefault("AVIARY_ZK_LOGLEVEL", "warn")
    try:
        ens.start(timeout=120)
        servers = ens.connect_string()
        run_bench(a.bench, servers, "mixed", 3, 0)  # warm-up (ZooKeeper's JIT)
        rows = []
        for w in a.workloads.split(","):
            runs = []
            for _ in range(a.reps):
                r = run_bench(a.bench, servers, w, a.seconds, 1)
                print(json.dumps(r), flush=True)
                runs.append(r)
            rows.append((w, runs))
        print("| workload | %s ops/s (median) | runs | p99 ms (median) | errors / lost sessions |" % a.kind)
        print("|---|---:|---|---:|---|")
        for w, runs in rows:
            ops = [r["ops_per_sec"] for r in runs]
            p99 = [r["latency_us"]["p99"] / 1000.0 for r in runs]
            print("| %s | %s | %s | %.2f | %d / %d |" % (
                w, "{:,.0f}".format(statistics.median(ops)), " / ".join("{:,.0f}".format(x) for x in ops),
                statistics.median(p99), sum(r["errors"] for r in runs),
                sum(r["lost_sessions"] for r in runs)))
    finally:
        ens.stop()


if __name__ == "__main__":
    main()
