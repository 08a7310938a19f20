"""Aviary's server-side latency decomposition (src/server/latency_trace.h).

aviary-server started with AVIARY_LATENCY_TRACE=<file> rewrites <file> once
a second with cumulative per-phase histograms (microseconds). read() loads
one, diff() subtracts an earlier one (the phases of what ran in between),
summary() gives count / mean / p50 / p90 / p99 / p99.9 / max per phase.

The write split (w_core .. w_deliver add up to w_total per write, see
latency_trace.h): tail_split() says what the writes at or above a
percentile of w_total spent their time on (mean us per part), from the
"write_split" table (sums of each part per w_total bucket).

    python3 bench/lib/latency_trace.py after.json [before.json]
"""

import json
import os
import sys
import time

SPLIT = ("w_core", "w_pass", "w_queue", "w_write", "w_order", "w_wake", "w_apply", "w_deliver")
PHASES = ("read_total", "write_total", "core_wait", "deliver", "group_wait", "fsync", "commit_wake", "pass",
          "io_wait") + SPLIT + ("w_total",)


def read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def settle_read(path, wait_s=1.3):
    """The file after the writer has rewritten it at least once more (it
    writes once a second): what the server recorded up to now."""
    time.sleep(wait_s)
    return read(path)


def diff(after, before):
    if after is None:
        return None
    out = {}
    for name, h in after.items():
        if name == "write_split":
            prev = {r[0]: r for r in ((before or {}).get(name) or {}).get("rows", [])}
            rows = []
            for r in h.get("rows", []):
                p = prev.get(r[0])
                d = [r[0]] + [v - (p[i] if p else 0) for i, v in enumerate(r) if i > 0]
                if d[1] > 0:
                    rows.append(d)
            out[name] = {"parts": h.get("parts", list(SPLIT)), "rows": rows}
            continue
        if name == "slow_writes":  # absolute times: the reader picks the window it wants
            out[name] = h
            continue
        b = (before or {}).get(name, {})
        prev = {u: c for u, c in b.get("buckets", [])}
        buckets = [[u, c - prev.get(u, 0)] for u, c in h.get("buckets", []) if c - prev.get(u, 0) > 0]
        out[name] = {"count": h.get("count", 0) - b.get("count", 0), "sum_us": h.get("sum_us", 0) - b.get("sum_us", 0),
                     "max_us": h.get("max_us", 0), "buckets": buckets}
    return out


def percentile(h, q):
    n = sum(c for _, c in h["buckets"])
    if n == 0:
        return 0
    rank = max(1, int(q * n + 0.999999))
    seen = 0
    for upper, c in h["buckets"]:
        seen += c
        if seen >= rank:
            return min(upper, h.get("max_us", upper)) if q < 1 else upper
    return h["buckets"][-1][0]


def summary(trace):
    """{phase: {count, mean_us, p50, p90, p99, p999, max}} for phases with samples."""
    out = {}
    for name in PHASES:
        h = (trace or {}).get(name)
        if not h or h.get("count", 0) <= 0:
            continue
        n = h["count"]
        out[name] = {"count": n, "mean_us": round(h["sum_us"] / n, 1),
                     "p50": percentile(h, 0.5), "p90": percentile(h, 0.9), "p99": percentile(h, 0.99),
                     "p999": percentile(h, 0.999), "max": percentile(h, 1.0)}
    return out


def tail_split(trace, q=0.99):
    """What the writes at or above the q-quantile of w_total spent their time
    on: {"from_us": the bucket bound, "count", "mean_total_us", "parts":
    {part: mean us}}; None without a write split."""
    ws = (trace or {}).get("write_split") or {}
    rows = sorted(ws.get("rows", []))
    n = sum(r[1] for r in rows)
    if n == 0:
        return None
    rank = max(1, int(q * n + 0.999999))
    seen, start = 0, len(rows) - 1
    for i, r in enumerate(rows):
        seen += r[1]
        if seen >= rank:
            start = i
            break
    tail = rows[start:]
    count = sum(r[1] for r in tail)
    parts = ws.get("parts", list(SPLIT))
    sums = [sum(r[2 + i] for r in tail) for i in range(len(parts))]
    return {"from_us": rows[start][0], "count": count, "mean_total_us": round(sum(sums) / count, 1),
            "parts": {p: round(v / count, 1) for p, v in zip(parts, sums)}}


def format_tail(t, q=0.99):
    if not t:
        return "  (no write split)"
    return ("  writes at or above p%g of w_total (>= %d us, %d writes, mean %.0f us): " % (
        q * 100, t["from_us"], t["count"], t["mean_total_us"])
        + ", ".join("%s %.0f" % (p, v) for p, v in t["parts"].items()))


def format_summary(s):
    lines = ["  %-12s %9s %8s %8s %8s %8s %8s %8s" % ("phase (us)", "count", "mean", "p50", "p90", "p99", "p99.9",
                                                      "max")]
    for name, v in s.items():
        lines.append("  %-12s %9d %8.1f %8d %8d %8d %8d %8d" % (name, v["count"], v["mean_us"], v["p50"], v["p90"],
                                                               v["p99"], v["p999"], v["max"]))
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.path.exists(sys.argv[1]):
        raise SystemExit(__doc__)
    a = read(sys.argv[1])
    b = read(sys.argv[2]) if len(sys.argv) > 2 else None
    d = diff(a, b)
    print(format_summary(summary(d)))
    for q in (0.5, 0.9, 0.99, 0.999):
        print(format_tail(tail_split(d, q), q))
