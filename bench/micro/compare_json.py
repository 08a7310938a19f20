#!/usr/bin/env python3
"""Compares two aviary-microbench JSON outputs (Google Benchmark's
--benchmark_out format) benchmark by benchmark.

Usage: compare_json.py BEFORE.json AFTER.json [--metric M] [--threshold T] [--fail]

For each benchmark in both files it prints the two figures and the speed-up
after/before (> 1: faster). The figure is items_per_second when the
benchmark reports it (ops/s), else the inverse of its time (cpu_time, or
real_time for benchmarks that run on wall-clock time). With repetitions
(--benchmark_repetitions) the median aggregate is used. A speed-up below
1 - T is marked SLOWER, above 1 + T FASTER; --fail exits 1 when any is
SLOWER. Debian's libbenchmark-dev does not ship Google Benchmark's
tools/compare.py; this is the part of it we need, with no dependency.
"""

import argparse
import json
import sys

_NS_PER = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(path):
    """{name: entry}: the median aggregate where there is one, else the run."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    runs, medians = {}, {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[b["run_name"]] = b
        else:
            runs.setdefault(b.get("run_name", b["name"]), b)
    runs.update(medians)
    return runs


def rate(entry, metric):
    """A higher-is-better figure for the entry: (value, unit label)."""
    if metric == "auto":
        if "items_per_second" in entry:
            return entry["items_per_second"], "items/s"
        metric = "real_time" if "/real_time" in entry["name"] else "cpu_time"
    if metric in ("cpu_time", "real_time"):
        ns = entry[metric] * _NS_PER[entry.get("time_unit", "ns")]
        return (1e9 / ns if ns > 0 else float("inf")), "1/s (" + metric + ")"
    return entry[metric], metric


def human(v):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--metric", default="auto",
                    help="items_per_second, bytes_per_second, cpu_time, real_time or a counter (default: auto)")
    ap.add_argument("--threshold", type=float, default=0.10, help="relative change that is flagged (default 0.10)")
    ap.add_argument("--fail", action="store_true", help="exit 1 when a benchmark is slower than the threshold")
    args = ap.parse_args()

    before, after = load(args.before), load(args.after)
    names = [n for n in after if n in before]
    if not names:
        print("no benchmark in common", file=sys.stderr)
        return 2
    width = max(len(n) for n in names)
    rows = [(n, rate(before[n], args.metric), rate(after[n], args.metric)) for n in names]
    units = {b[1] for _, b, _ in rows}
    one_unit = units.pop() if len(units) == 1 else None
    print(f"{'benchmark':<{width}}  {'before':>9}  {'after':>9}  {'after/before':>12}" +
          (f"  [{one_unit}]" if one_unit else ""))
    slower = 0
    for n, (b, unit), (a, _) in rows:
        ratio = a / b if b else float("inf")
        mark = ""
        if ratio < 1 - args.threshold:
            mark, slower = "  SLOWER", slower + 1
        elif ratio > 1 + args.threshold:
            mark = "  FASTER"
        print(f"{n:<{width}}  {human(b):>9}  {human(a):>9}  {ratio:>11.2f}x{mark}" + ("" if one_unit else f"  [{unit}]"))
    for n in before:
        if n not in after:
            print(f"{n}: only in {args.before}")
    for n in after:
        if n not in before:
            print(f"{n}: only in {args.after}")
    return 1 if args.fail and slower else 0


if __name__ == "__main__":
    sys.exit(main())
