"""Scale stages on a large tree (default 1M znodes of 100 B under 1,000
parents): creates/s while it grows, RSS, data directory, restart to first
read, and write p99.9 while a snapshot of it is taken."""

import os
import threading
import time

from . import benchtool, zkraw
from .results import KINDS, order

PROBE_PATH = "/compare-probe"
# The INFO line each kind logs when a snapshot starts.
SNAPSHOT_LINE = {"aviary": "starting snapshot at zxid", "zookeeper": "Snapshotting: 0x"}
MIB = 1024.0 * 1024.0


def fill_args(ctx):
    o = ctx.opts
    args = ctx.load_args(warmup=0) + ["--ops", o.znodes]
    if "--parents" in ctx.bench.options:
        args += ["--parents", o.parents]
    return args


def settle(server, stable_s=2.0, timeout_s=120):
    """Waits until no snapshot is being written: no *.tmp file and the data
    directory's size unchanged for stable_s seconds."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        vdir = os.path.join(server.data_dir, "version-2")
        tmp = any(n.endswith(".tmp") for n in os.listdir(vdir)) if os.path.isdir(vdir) else False
        size = server.disk()[1]
        if size != last or tmp:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= stable_s:
            return
        time.sleep(0.1)


def settle_all(ctx, servers):
    """settle() of every server at once (--settle seconds of stability)."""
    ts = [threading.Thread(target=settle, args=(s, ctx.opts.settle)) for s in servers]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def fill(ctx, stage, server, kind):
    """Grows the tree to --znodes with aviary-bench create (the creates/s
    of the table), then writes the probe node read after each restart."""
    why = None if "--parents" in ctx.bench.options else "aviary-bench has no --parents: sequential children under one parent"
    rows = benchtool.measured(ctx.bench, server, "create", fill_args(ctx), ctx.timeout(ctx.opts.znodes / 2000.0))
    stage.add_raw(kind, {"label": "fill"}, rows)
    s = zkraw.RawSession("127.0.0.1", server.port)
    try:
        s.create(PROBE_PATH, b"probe-" + kind.encode())
    finally:
        s.close()
    return rows[-1], why


class BigTree:
    """The filled pair, shared by the znodes and snapshot stages."""

    def __init__(self, ctx, stage):
        self.pair = ctx.start_pair("znodes")
        self.fill = {}
        for kind in KINDS:  # one fill each: at 1M znodes the fills dominate the run time
            self.fill[kind], why = fill(ctx, stage, self.pair[kind], kind)
            if why:
                stage.note(why)
        settle_all(ctx, self.pair.values())
        self.nodes = {k: zkraw.node_count(self.pair[k].port) for k in KINDS}


def big_tree(ctx, stage):
    if getattr(ctx, "big", None) is None:
        ctx.big = BigTree(ctx, stage)
    return ctx.big


def close_big_tree(ctx):
    if getattr(ctx, "big", None) is not None:
        ctx.stop_pair(ctx.big.pair)
        ctx.big = None


def restart(server, probe, timeout_s=600):
    """kill -9, exec again, time until getData of the probe succeeds."""
    server.stop(hard=True)
    server.start(wait=False)
    t = zkraw.wait_first_read(server.port, PROBE_PATH, probe, time.monotonic() + timeout_s)
    if t is None:
        raise RuntimeError("%s: no first read within %d s:\n%s" % (server.kind, timeout_s, server.log_tail()))
    return t - server.exec_time


def stage_znodes(ctx, stage):
    big = big_tree(ctx, stage)
    o = ctx.opts
    pair = big.pair
    stage.extra["node_count"] = big.nodes
    stage.row("creates/s while the tree grows to %d znodes" % o.znodes, "ops/s", "higher",
              {k: [big.fill[k].get("ops_per_sec")] for k in KINDS}, ("ratio", ">=", 4))
    stage.row("RSS after the fill", "MiB", "lower", {k: [pair[k].rss() / MIB] for k in KINDS}, ("ratio", "<=", 0.2))
    disk = {k: pair[k].disk() for k in KINDS}
    stage.row("data directory (allocated)", "MiB", "lower", {k: [disk[k][0] / MIB] for k in KINDS},
              ("ratio", "<=", 1.0))
    stage.row("data directory (file lengths)", "MiB", "lower", {k: [disk[k][1] / MIB] for k in KINDS})
    times, rss = {k: [] for k in KINDS}, {k: [] for k in KINDS}
    for rep in range(o.reps):
        for kind in order(rep):
            t = restart(pair[kind], b"probe-" + kind.encode())
            times[kind].append(t)
            time.sleep(1)
            rss[kind].append(pair[kind].rss() / MIB)
            stage.add_raw(kind, {"label": "restart", "rep": rep}, [{"restart_to_first_read_s": t, "rss_mib": rss[kind][-1]}])
    stage.row("restart to first read (kill -9, exec to getData)", "s", "lower", times, ("ratio", "<=", 0.2))
    stage.row("RSS 1 s after the first read", "MiB", "lower", rss)
    settle_all(ctx, pair.values())
    stage.note("node count (srvr): " + ", ".join("%s %s" % (k, big.nodes[k]) for k in KINDS))


def snapshot_windows(o):
    """(warm-up s, steady s, snapshot s) at o.snap_rate writes/s with
    snapCount o.snap_count. Both kinds start a snapshot after a random count
    in [snapCount/2, snapCount) of txns since the last one (a restart counts
    from 0), so the warm-up (which also creates the --keys nodes) and the
    steady window stay below 0.8 x snapCount/2 txns, and the snapshot window
    runs to snapCount txns plus o.snap_tail seconds for it to finish."""
    budget = 0.8 * o.snap_count / 2 - o.keys
    warm = min(2.0, 0.2 * budget / o.snap_rate)
    steady = budget / o.snap_rate - warm
    snap = (o.snap_count - budget) / o.snap_rate + o.snap_tail
    if steady < 0.5:
        raise ValueError("--snap-count %d is too small for --keys %d at --snap-rate %d: no steady window"
                         % (o.snap_count, o.keys, o.snap_rate))
    return round(warm, 1), round(steady, 1), round(snap, 1)


def count_snapshots(server, kind, since):
    return server.log_since(since).count(SNAPSHOT_LINE[kind])


def meminfo_mib(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def write_back(stage, kind):
    """sync(): writes back the page cache's dirty data before the windows.
    The znodes stage leaves both servers' data directories dirty (~1 GB),
    and while the kernel writes that back every durable write waits behind
    it (the 2026-12-02 01:53 run: a durable 100 B write ~4 ms at p50, both
    servers' steady p99 126-147 ms), so the windows measured the page cache,
    not the snapshot."""
    dirty = meminfo_mib("Dirty") + meminfo_mib("Writeback")
    t0 = time.monotonic()
    os.sync()
    stage.note("%s: sync() before the windows wrote back %.0f MiB of dirty page cache in %.1f s"
               % (kind, dirty, time.monotonic() - t0))


def snapshot_run(ctx, stage, server, kind, windows):
    o = ctx.opts
    server.stop(hard=True)
    server.cfg["snapCount"] = o.snap_count
    server.start(timeout_s=600)
    settle(server, o.settle)
    write_back(stage, kind)
    base = ctx.load_args(warmup=0) + ["--rate", o.snap_rate]
    out = {}
    for label, secs in zip(("warm-up", "steady", "snapshot"), windows):
        off = server.log_size()
        args = list(base)
        args[args.index("--seconds") + 1] = secs
        rows = benchtool.measured(ctx.bench, server, "set", args, ctx.timeout(secs))
        rows[-1]["snapshots_started"] = count_snapshots(server, kind, off)
        stage.add_raw(kind, {"label": "snapshot " + label, "seconds": secs}, rows)
        out[label] = rows[-1]
    return out


def stage_snapshot(ctx, stage):
    why = ctx.bench.missing(None, ["--rate"])
    if why:
        stage.skip(why)
        return
    o = ctx.opts
    big = big_tree(ctx, stage)
    windows = snapshot_windows(o)
    reps = max(1, o.reps)  # each repetition restarts the server: snapCount counts from 0 again
    runs = {k: [] for k in KINDS}
    for rep in range(reps):
        for kind in order(rep):
            runs[kind].append(snapshot_run(ctx, stage, big.pair[kind], kind, windows))
    stage.note("snapCount=%d for both at %d set/s open loop, %d repetition(s) (A B, B A, ...), each after a restart: "
               "warm-up %.1f s, steady %.1f s (below snapCount/2 txns since the restart, so no snapshot can start), "
               "then %.1f s in which one starts (after a random [snapCount/2, snapCount) txns) and finishes; "
               "snapshots started per window (steady/snapshot): %s"
               % (o.snap_count, o.snap_rate, reps, windows[0], windows[1], windows[2], "; ".join(
                   "%s %s" % (k, " ".join("/".join(str(r[w]["snapshots_started"]) for w in ("steady", "snapshot"))
                                          for r in runs[k]))
                   for k in KINDS)))
    lat = {w: {k: [r[w].get("latency_us", {}) for r in runs[k]] for k in KINDS} for w in ("steady", "snapshot")}
    for q, name in (("p99", "p99"), ("p999", "p99.9")):
        stage.row("set %s steady at %d/s, %d znodes" % (name, o.snap_rate, o.znodes), "us", "lower",
                  {k: [x.get(q) for x in lat["steady"][k]] for k in KINDS})
        stage.row("set %s with a snapshot in the window" % name, "us", "lower",
                  {k: [x.get(q) for x in lat["snapshot"][k]] for k in KINDS})
    # the ratio of each repetition (its steady and snapshot windows share a restart), then their median
    stage.row("p99.9 with snapshot / steady", "x", "lower",
              {k: [ratio(b.get("p999"), a.get("p999")) for a, b in zip(lat["steady"][k], lat["snapshot"][k])]
               for k in KINDS},
              ("aviary", "<=", 2.0))


def ratio(a, b):
    return a / b if a is not None and b else None
