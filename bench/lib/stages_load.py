"""Load stages: throughput per workload (standalone, and 3-node ensembles),
latency with one request in flight, open-loop fixed rates and
latency-vs-load curves, and the read-ratio sweep. Each runs on a fresh pair
of servers (one Aviary, one ZooKeeper, side by side), with repetitions
interleaved A B B A ... and medians reported."""

import os
import time

from . import benchtool, ensembles, latency_trace, machine
from .results import KINDS, median, order

# (label, workload, extra args, target): targets from issue 10 item 3.
THROUGHPUT = [
    ("get", "get", [], ("ratio", ">=", 10)),
    ("exists", "exists", [], None),
    ("children (getChildren of 100)", "children", ["--children", 100], None),
    ("set", "set", [], ("ratio", ">=", 6)),
    ("mixed 90% reads", "mixed", ["--read-pct", 90], ("ratio", ">=", 6)),
    ("multi (4 ops)", "multi", ["--multi-ops", 4], None),
    ("create-delete", "create-delete", [], None),
    ("delete", "delete", [], None),
    ("create (growing tree)", "create", [], None),
]
ENSEMBLE = [
    ("get", "get", [], ("ratio", ">=", 5)),
    ("set", "set", [], ("ratio", ">=", 3)),
    ("mixed 90% reads", "mixed", ["--read-pct", 90], None),
]


def interleaved(ctx, stage, targets, label, workload, args, reps, info=None, trace=False):
    """Runs `workload` reps times per kind, interleaved; returns {kind:
    [result object, ...]} (a failed run is noted and left out). With
    `trace`, an Aviary started with --latency-trace adds its server-side
    decomposition of each run to the result ("server_trace")."""
    out = {k: [] for k in targets}
    secs = float(args[args.index("--seconds") + 1]) if "--seconds" in args else ctx.opts.seconds
    for rep in range(reps):
        for kind in order(rep, list(targets)):
            meta = dict(info or {}, label=label, workload=workload, rep=rep)
            trace_path = getattr(targets[kind], "trace_path", None) if trace else None
            before = latency_trace.settle_read(trace_path) if trace_path else None
            rows = None
            for attempt in (0, 1):
                try:
                    rows = benchtool.measured(ctx.bench, targets[kind], workload, args, ctx.timeout(secs))
                    break
                except benchtool.BenchError as e:
                    # Lost before anything was measured (aviary-bench's setup:
                    # e.g. an ensemble member that dropped its sessions while it
                    # resynced): run once more, after the target settles.
                    again = attempt == 0 and "setup:" in str(e)
                    stage.note("%s %s rep %d failed%s: %s" % (kind, label, rep, ", run again" if again else "", e))
                    if not again:
                        break
                    settle = getattr(targets[kind], "settle", None)
                    if settle:
                        settle()
                    else:
                        time.sleep(1)
            if rows is None:
                continue
            if trace_path:
                d = latency_trace.diff(latency_trace.settle_read(trace_path), before)
                decomposition = latency_trace.summary(d)
                tail = latency_trace.tail_split(d, 0.99)
                for r in rows:
                    r["server_trace"] = decomposition
                    if tail:
                        r["server_write_tail"] = tail
            stage.add_raw(kind, meta, rows)
            out[kind].extend(rows)
    for kind, rows in out.items():
        errs = sum(r.get("errors", 0) for r in rows)
        if errs:
            stage.note("%s %s: %d errors over %d runs" % (kind, label, errs, len(rows)))
    return out


def pick(runs, field, sub=None):
    def get(r):
        v = r.get(field)
        return v.get(sub) if sub and isinstance(v, dict) else v
    return {k: [get(r) for r in rs] for k, rs in runs.items()}


def throughput_rows(ctx, stage, targets, table):
    for label, workload, extra, target in table:
        why = ctx.bench.missing(workload)
        if why:
            stage.note("%s: skipped, %s" % (label, why))
            continue
        args = ctx.load_args() + extra
        if workload == "delete":  # deletes what it pre-created: a count, not a duration
            args = ctx.load_args(warmup=0) + ["--ops", ctx.opts.delete_ops]
        runs = interleaved(ctx, stage, targets, label, workload, args, ctx.opts.reps)
        stage.row(label, "ops/s", "higher", pick(runs, "ops_per_sec"), target)
        if workload != "delete":  # its CPU time includes pre-creating the nodes it deletes
            stage.row("%s server CPU per op" % label, "us", "lower", pick(runs, "server_cpu_us_per_op"))
        if workload == "get":  # the load generator shares the cores: its cost per op, beside the server's
            stage.row("%s aviary-bench CPU per op" % label, "us", "lower", pick(runs, "client_cpu_us_per_op"))


def stage_throughput(ctx, stage):
    pair = ctx.start_pair("throughput", shareable=True)
    try:
        ctx.warm(pair.values())
        throughput_rows(ctx, stage, pair, THROUGHPUT)
    finally:
        ctx.stop_pair(pair)


def stage_ensemble(ctx, stage):
    with ensembles.Pair(ctx) as pair:
        ctx.warm(pair.values())
        throughput_rows(ctx, stage, pair, ENSEMBLE)
    stage.note("3 voters per kind on loopback, all six processes up together; every run's sessions are spread "
               "round-robin over the 3 members (followers forward writes to the leader)")


def low_load_io(ctx, stage):
    """aviary-bench's I/O loop for the latency and rates stages: epoll, for
    both kinds. There every reply wakes the load generator on its own, and
    its io_uring loop measured higher at depth 1 for both servers (quiet
    runs: Aviary 38 -> 52 us, ZooKeeper 97 -> 154 us get p50); io_uring
    pays off only when a pass handles many replies (the throughput
    stages)."""
    if ctx.bench.missing(None, ["--io"]):
        return []
    stage.note("aviary-bench --io epoll (its epoll loop) for both kinds: at one request in flight and at moderate "
               "open-loop rates it measured lower than the io_uring loop for both servers")
    return ["--io", "epoll"]


def reply_at(ctx, stage):
    """aviary-bench's --reply-at for the rates stage (bench/compare
    --reply-at): "arrival" times each reply by its arrival in the client's
    socket (kernel receive timestamp) and lets the generator wake only for
    its slots, for both kinds alike; "read" (when the generator read it)."""
    if getattr(ctx.opts, "reply_at", "read") == "read" or ctx.bench.missing(None, ["--reply-at"]):
        return []
    stage.note("aviary-bench --reply-at arrival for both kinds: a reply's latency ends when it arrived in the "
               "client's socket (kernel receive timestamp), still from its scheduled send; the generator wakes only "
               "for its send slots (docs/perf/aviary-bench.md)")
    return ["--reply-at", "arrival"]


def generator_placement(ctx, stage):
    """aviary-bench's --cpus / --rt-priority for the rates stage
    (bench/compare --bench-cpus / --bench-rt-priority), the same for both
    kinds: an open-loop generator that is not running when a slot comes
    sends late, and that lateness counts in the latency of the server it
    measures (docs/perf/aviary-bench.md, session 12). Leaves out what this
    aviary-bench or this machine cannot do, with a note."""
    o = ctx.opts
    cpus = str(getattr(o, "bench_cpus", "none") or "none")
    prio = int(getattr(o, "bench_rt_priority", 0) or 0)
    if cpus == "auto":
        quiet = machine.quiet_cpu()
        cpus = "none" if quiet is None else str(quiet)
    args, said = [], []
    if cpus != "none":
        why = ctx.bench.missing(None, ["--cpus"])
        if why:
            stage.note("aviary-bench not pinned (--bench-cpus %s): %s" % (cpus, why))
        else:
            args += ["--cpus", cpus]
            said.append("pinned to CPU %s (--cpus; device interrupts per CPU so far: %s)"
                        % (cpus, machine.device_interrupts()))
    if prio > 0:
        why = ctx.bench.missing(None, ["--rt-priority"])
        if why:
            stage.note("aviary-bench not SCHED_FIFO (--bench-rt-priority %d): %s" % (prio, why))
        elif os.geteuid() != 0:
            stage.note("aviary-bench not SCHED_FIFO (--bench-rt-priority %d): not root" % prio)
        else:
            args += ["--rt-priority", prio]
            said.append("SCHED_FIFO priority %d (--rt-priority)" % prio)
    stage.note("aviary-bench's load thread, both kinds alike: %s" % (
        "; ".join(said) + " for the runs up to the fixed rates (get, set; mixed up to the get rate), the normal "
        "scheduler above them" if said else "the normal scheduler, any CPU"))
    return args


def stage_latency(ctx, stage):
    """One session, one request in flight."""
    pair = ctx.start_pair("latency", shareable=True)
    try:
        ctx.warm(pair.values())
        io = low_load_io(ctx, stage)
        for workload, target in (("get", ("aviary", "<=", 50)), ("set", ("aviary", "<=", 200))):
            args = ctx.load_args(clients=1, depth=1) + io
            runs = interleaved(ctx, stage, pair, "%s depth 1" % workload, workload, args, ctx.opts.reps)
            stage.row("%s p50, 1 session x 1 in flight" % workload, "us", "lower",
                      pick(runs, "latency_us", "p50"), target)
            stage.row("%s p99, 1 session x 1 in flight" % workload, "us", "lower", pick(runs, "latency_us", "p99"))
    finally:
        ctx.stop_pair(pair)


def curve_rates(ctx, workload):
    """The open-loop rates of a workload's curve (multiples of its base
    rate) and the fixed rate of the table (get and set only)."""
    o = ctx.opts
    fixed = {"get": o.get_rate, "set": o.set_rate}.get(workload)
    base = fixed or o.get_rate
    mults = o.curve_mults if workload != "set" else [m for m in o.curve_mults if m <= 4]
    return sorted({max(1, int(base * m)) for m in mults} | ({fixed} if fixed else set())), fixed


def stage_rates(ctx, stage):
    """p99 / p99.9 at the fixed moderate rates (open loop), and the
    latency-vs-load curve of get, set and mixed."""
    why = ctx.bench.missing(None, ["--rate"])
    if why:
        stage.skip(why)
        return
    pair = ctx.start_pair("rates", shareable=True)
    curves = stage.extra.setdefault("curves", {})
    try:
        ctx.warm(pair.values())
        io = low_load_io(ctx, stage) + reply_at(ctx, stage)
        placed = generator_placement(ctx, stage)
        for workload in ("get", "set", "mixed"):
            rates, fixed = curve_rates(ctx, workload)
            curves[workload] = {k: [] for k in KINDS}
            for rate in rates:
                reps = ctx.opts.reps if rate == fixed else ctx.opts.curve_reps
                # Placed only up to the fixed rate (mixed: the get rate):
                # beyond, a generator that cannot keep up would take its
                # whole CPU from the servers at real-time priority.
                place = placed if rate <= (fixed or ctx.opts.get_rate) else []
                args = ctx.load_args(seconds=ctx.opts.curve_seconds) + ["--rate", rate] + io + place
                if workload == "mixed":
                    args += ["--read-pct", 90]
                runs = interleaved(ctx, stage, pair, "%s at %d/s" % (workload, rate), workload, args, reps,
                                   {"rate": rate}, trace=rate == fixed)
                for k, rs in runs.items():
                    curves[workload][k].append(curve_point(rate, rs))
                if rate == fixed:
                    target = ("ratio", "<=", 0.2) if workload == "get" else ("ratio", "<=", 1 / 3)
                    stage.row("%s p99 at %d/s (open loop)" % (workload, rate), "us", "lower",
                              pick(runs, "latency_us", "p99"), target)
                    stage.row("%s p99.9 at %d/s (open loop)" % (workload, rate), "us", "lower",
                              pick(runs, "latency_us", "p999"))
                    if any("arrival_latency_us" in r for rs in runs.values() for r in rs):
                        # The same runs, up to the reply's arrival in the
                        # client's socket (kernel receive timestamp): without
                        # the generator's own lateness in reading it.
                        stage.row("%s p99 at %d/s to the reply's arrival (open loop)" % (workload, rate), "us",
                                  "lower", {k: [r["arrival_latency_us"]["p99"] for r in rs if "arrival_latency_us" in r]
                                            for k, rs in runs.items()})
                    rate_notes(stage, workload, rate, runs)
    finally:
        ctx.stop_pair(pair)


def rate_notes(stage, workload, rate, runs):
    """Where the fixed rate's p99 comes from: the generator's own lateness
    (aviary-bench's send_lag_us) and, with --latency-trace, Aviary's
    server-side phases (medians over the runs)."""
    for kind, rs in runs.items():
        lag = [r["send_lag_us"]["p99"] for r in rs if "send_lag_us" in r]
        svc = [r["service_us"]["p99"] for r in rs if "service_us" in r]
        if lag:
            stage.note("%s %s at %d/s: p99 of the generator's send lag %.0f us, of the service time (sent -> reply) "
                       "%.0f us (medians)" % (kind, workload, rate, median(lag), median(svc)))
        own = [r["gen_lag_us"]["p99"] for r in rs if "gen_lag_us" in r]
        cap = [r["cap_wait_us"]["p99"] for r in rs if "cap_wait_us" in r]
        if own:
            # send lag = the generator's own lateness + the wait of a session
            # at its depth cap for a reply (the server's share)
            stage.note("%s %s at %d/s: p99 of the generator's own lateness %.0f us, of the wait at the depth cap "
                       "%.0f us (medians)" % (kind, workload, rate, median(own), median(cap)))
        rlag = [r["reply_lag_us"]["p99"] for r in rs if "reply_lag_us" in r]
        arr = [r["arrival_latency_us"]["p99"] for r in rs if "arrival_latency_us" in r]
        if rlag:
            stage.note("%s %s at %d/s: p99 of the generator's reply lag (reply in its socket -> read) %.0f us; "
                       "latency p99 up to the reply's arrival %.0f us (medians)"
                       % (kind, workload, rate, median(rlag), median(arr)))
        gen = [(r["client_cpu_s"] * 1e6 / r["ops"], r["client_context_switches"] / r["ops"]) for r in rs
               if r.get("ops") and "client_context_switches" in r]
        if gen:
            # The generator's own cost per request, driving this kind: a
            # generator that wakes more often is late more often.
            stage.note("%s %s at %d/s: aviary-bench CPU %.1f us and %.2f context switches per request (medians)"
                       % (kind, workload, rate, median([g[0] for g in gen]), median([g[1] for g in gen])))
        ctail = [r["tail_split_us"] for r in rs if r.get("tail_split_us")]
        if ctail:
            # aviary-bench's own split of its slowest 1 % of requests, of the
            # run with the median p99 (its parts add up to its mean latency).
            t = median_run(ctail, "from")
            stage.note("%s %s at %d/s: the slowest 1%% of requests of the median run (>= %.0f us, mean %.0f us), "
                       "mean us: depth-cap wait %.0f, generator's own lateness %.0f, sent -> reply arrived %.0f, "
                       "reply lag %.0f" % (kind, workload, rate, t["from"], t["latency"], t["cap_wait"], t["gen_lag"],
                                           t["to_arrival"], t["reply_lag"]))
        traces = [r["server_trace"] for r in rs if r.get("server_trace")]
        if traces:
            parts = []
            for phase in latency_trace.PHASES:
                p99 = [t[phase]["p99"] for t in traces if phase in t]
                if p99:
                    parts.append("%s %.0f" % (phase, median(p99)))
            stage.note("%s %s at %d/s, server-side p99 per phase (us, medians): %s"
                       % (kind, workload, rate, ", ".join(parts)))
        tails = [r["server_write_tail"] for r in rs if r.get("server_write_tail")]
        if tails and workload != "get":
            # The write split of the slowest 1 % of writes of the median run:
            # where their time went (the parts add up to w_total, R -> the
            # replies handed to the network).
            t = median_run(tails, "from_us")
            stage.note("%s %s at %d/s, the server's slowest 1%% of writes of the median run (w_total >= %.0f us, "
                       "mean %.0f us), mean us per part: %s"
                       % (kind, workload, rate, t["from_us"], t["mean_total_us"],
                          ", ".join("%s %.0f" % (p, t["parts"].get(p, 0)) for p in latency_trace.SPLIT)))


def median_run(items, key):
    """The item whose `key` is the median (the lower middle of an even count)."""
    ranked = sorted(items, key=lambda x: x[key])
    return ranked[(len(ranked) - 1) // 2]


def curve_point(rate, runs):
    lat = [r.get("latency_us", {}) for r in runs]
    return {"rate": rate, "runs": len(runs),
            "rate_achieved": median([r.get("rate_achieved", r.get("ops_per_sec")) for r in runs]),
            "p50_us": median([x.get("p50") for x in lat]), "p99_us": median([x.get("p99") for x in lat]),
            "p999_us": median([x.get("p999") for x in lat]), "late": median([r.get("late") for r in runs])}


def sweep_steps(ctx):
    step = ctx.opts.sweep_step
    return list(range(0, 101, step)) + ([100] if 100 % step else [])


def stage_sweep(ctx, stage):
    """Throughput vs read ratio, 1 KB values (the ZooKeeper paper's figure).
    With --workload sweep when aviary-bench has it, else one mixed run per
    read percentage."""
    pair = ctx.start_pair("sweep", shareable=True)
    points = stage.extra.setdefault("sweep", {k: {} for k in KINDS})
    secs = ctx.opts.sweep_seconds
    native = ctx.bench.missing("sweep", ["--sweep-step"]) is None
    try:
        ctx.warm(pair.values())
        for rep in range(ctx.opts.reps):
            for kind in order(rep):
                rows = sweep_once(ctx, stage, pair[kind], kind, rep, secs, native)
                for r in rows:
                    points[kind].setdefault(int(r["read_pct"]), []).append(r.get("ops_per_sec"))
    finally:
        ctx.stop_pair(pair)
    if not native:
        stage.note("aviary-bench has no sweep workload: one `mixed --read-pct P` run per step")
    for pct in sorted(set(points["aviary"]) | set(points["zookeeper"])):
        stage.row("%d%% reads, 1 KB values" % pct, "ops/s", "higher",
                  {k: points[k].get(pct, []) for k in KINDS})
    stage.extra["sweep"] = {k: {str(p): v for p, v in pts.items()} for k, pts in points.items()}


def sweep_once(ctx, stage, target, kind, rep, secs, native):
    args = ctx.load_args(payload=1024, seconds=secs, warmup=ctx.opts.sweep_warmup)
    if native:
        args += ["--sweep-step", ctx.opts.sweep_step]
        try:
            rows = benchtool.measured(ctx.bench, target, "sweep", args, ctx.timeout(secs * 12 + 10))
        except benchtool.BenchError as e:
            stage.note("%s sweep rep %d failed: %s" % (kind, rep, e))
            return []
        rows = [r for r in rows if "read_pct" in r]
    else:
        rows = []
        for pct in sweep_steps(ctx):
            try:
                got = benchtool.measured(ctx.bench, target, "mixed", args + ["--read-pct", pct], ctx.timeout(secs))
            except benchtool.BenchError as e:
                stage.note("%s sweep %d%% rep %d failed: %s" % (kind, pct, rep, e))
                continue
            for r in got:
                r["read_pct"] = pct
            rows += got
    stage.add_raw(kind, {"label": "sweep", "rep": rep}, rows)
    return rows
