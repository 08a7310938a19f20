"""Lines up an open-loop run's slow requests with the server's slow writes.

aviary-bench --request-log FILE writes every measured request's times
(steady clock, ns); aviary-server with AVIARY_LATENCY_TRACE=<trace> and
AVIARY_LATENCY_TRACE_SLOW_US=N notes every write slower than N us with its
arrival R (steady clock, us) and its split (src/server/latency_trace.h).
Both use CLOCK_MONOTONIC, so the two can be compared on one time axis.

    python3 bench/lib/tail_timeline.py REQUEST_LOG [TRACE_JSON] [--q 0.99] [--gap-ms 20]

Prints what the slowest requests (latency >= the q-quantile) spent their
time on, how they cluster in time (episodes: slow requests less than
--gap-ms apart), and for each episode the generator's own lateness and the
server's slow writes (count, worst, their split) in the same interval.
"""

import argparse
import json
import sys


def read_requests(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            v = [int(x) for x in line.split()]
            if len(v) >= 6:
                out.append(v)
    return out


def parts(r):
    sched, ready, queued, arrived, read, done = r[:6]
    arr = arrived if arrived > 0 else done
    return {"latency": done - sched, "cap_wait": ready - sched, "gen_lag": queued - ready,
            "to_arrival": arr - queued, "reply_lag": done - arr}


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("trace", nargs="?")
    ap.add_argument("--q", type=float, default=0.99)
    ap.add_argument("--gap-ms", type=float, default=20)
    ap.add_argument("--episodes", type=int, default=40)
    a = ap.parse_args(argv)
    reqs = read_requests(a.log)
    if not reqs:
        raise SystemExit("no requests in %s" % a.log)
    lats = sorted(r[5] - r[0] for r in reqs)
    cut = lats[min(len(lats) - 1, int(a.q * len(lats)))]
    slow = sorted((r for r in reqs if r[5] - r[0] >= cut), key=lambda r: r[0])
    t0 = min(r[0] for r in reqs)
    span_s = (max(r[0] for r in reqs) - t0) / 1e9
    print("%d requests over %.1f s; p%g latency %.0f us; p50 %.0f us" % (
        len(reqs), span_s, a.q * 100, cut / 1e3, lats[len(lats) // 2] / 1e3))
    mean = {k: sum(parts(r)[k] for r in slow) / len(slow) / 1e3 for k in parts(slow[0])}
    print("slowest %d: mean us %s" % (len(slow), ", ".join("%s %.0f" % kv for kv in mean.items())))
    # The generator's own lateness over all requests, for comparison.
    gl = sorted(parts(r)["gen_lag"] for r in reqs)
    print("gen_lag over all requests: p50 %.0f, p99 %.0f, p99.9 %.0f, max %.0f us" % (
        gl[len(gl) // 2] / 1e3, gl[int(0.99 * len(gl))] / 1e3, gl[int(0.999 * len(gl))] / 1e3, gl[-1] / 1e3))

    writes = []
    if a.trace:
        with open(a.trace) as f:
            t = json.load(f)
        sw = t.get("slow_writes") or {}
        names = (t.get("write_split") or {}).get("parts") or []
        writes = sorted(sw.get("rows", []))  # [R_us, parts..., total]
        print("server: %d slow writes noted (>= %s us), %d kept" % (sw.get("noted", 0), sw.get("min_us"), len(writes)))

    # Episodes: slow requests whose slots are less than gap apart.
    gap = a.gap_ms * 1e6
    eps = []
    for r in slow:
        if eps and r[0] - eps[-1][-1][0] <= gap:
            eps[-1].append(r)
        else:
            eps.append([r])
    print("%d episodes (slow requests < %.0f ms apart), %.1f per second" % (len(eps), a.gap_ms, len(eps) / span_s))
    print("%9s %7s %5s %8s %8s %8s %8s | %5s %8s  %s" % ("t (ms)", "len ms", "n", "max lat", "max own", "max arr",
                                                         "max rlag", "srv n", "srv max", "worst server write's split"))
    for ep in sorted(eps, key=lambda e: -len(e))[:a.episodes]:
        start, end = ep[0][0], ep[-1][5]
        ps = [parts(r) for r in ep]
        in_win = [w for w in writes if start / 1e3 - 50_000 <= w[0] <= end / 1e3]
        covered = bool(writes) and writes[0][0] <= start / 1e3  # the server keeps only its last slow writes
        worst = max(in_win, key=lambda w: w[-1]) if in_win else None
        split = ""
        if worst:
            split = ", ".join("%s %d" % (n.replace("w_", ""), v) for n, v in zip(names, worst[1:-1]) if v >= 200)
        print("%9.1f %7.1f %5d %8.0f %8.0f %8.0f %8.0f | %5d %8s  %s" % (
            (start - t0) / 1e6, (end - start) / 1e6, len(ep), max(p["latency"] for p in ps) / 1e3,
            max(p["gen_lag"] for p in ps) / 1e3, max(p["to_arrival"] for p in ps) / 1e3,
            max(p["reply_lag"] for p in ps) / 1e3, len(in_win), worst[-1] if worst else ("-" if covered else "?"),
            split if covered or in_win else "(before the oldest slow write the server kept)"))


if __name__ == "__main__":
    main(sys.argv[1:])
