"""Failover: a 3-node ensemble of each kind with --failover-znodes znodes
under write load, kill -9 the leader, time until writes are served again.
The measurement is bench/failover.py's (the ensemble work's):
`measure(kind, znodes=..., reps=..., ...)` returns a summary with the
medians; this stage calls it for both kinds, in turn, and tabulates. It is
skipped with the reason while that module is not there."""

import importlib.util
import inspect
import os

from .results import KINDS, order

FAILOVER_PY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "failover.py"))


def load_module():
    if not os.path.exists(FAILOVER_PY):
        return None
    spec = importlib.util.spec_from_file_location("failover", FAILOVER_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def call_measure(measure, ctx, kind):
    """measure() with the keyword arguments it accepts."""
    o = ctx.opts
    want = {"znodes": o.failover_znodes, "reps": o.reps, "payload": o.payload, "parents": o.parents,
            "zk_heap": o.failover_zk_heap, "bench": o.bench, "verbose": False}
    if o.quick:  # seconds of load before and after the kill: the module's defaults are 4 and 8
        want.update(before=1.0, after=3.0)
    params = inspect.signature(measure).parameters
    return measure(kind, **{k: v for k, v in want.items() if k in params})


def stage_failover(ctx, stage):
    mod = load_module()
    if mod is None or not hasattr(mod, "measure"):
        stage.skip("bench/failover.py (the ensemble work's failover benchmark) is not there yet; nothing measured")
        return
    os.environ["AVIARY_SERVER"] = ctx.opts.aviary_server  # what the ensemble harness runs
    summary = {}
    for kind in order(0):
        summary[kind] = call_measure(mod.measure, ctx, kind)
        stage.add_raw(kind, {"label": "failover"}, summary[kind].get("runs", []))
    stage.extra["summary"] = {k: {x: v for x, v in s.items() if x != "runs"} for k, s in summary.items()}

    def runs(key):
        return {k: [r.get(key) for r in summary[k].get("runs", []) if r.get(key) is not None] for k in KINDS}

    z = ctx.opts.failover_znodes
    stage.row("first write of the new epoch after kill -9 of the leader, %d znodes" % z, "s", "lower",
              runs("first_write_s"), ("aviary", "<=", 1.0))
    stage.row("write rate back to half of before", "s", "lower", runs("half_throughput_s"))
    stage.row("write rate before the kill (bench/failover.py's load)", "ops/s", "higher", runs("rate_before_ops"))
    failed = {k: summary[k].get("failed_reps") for k in KINDS}
    if any(failed.values()):
        stage.note("repetitions with no write served again within the window: %s" % failed)
    stage.note("bench/failover.py: tickTime 2000, forceSync on, ZooKeeper -Xmx%s; write load on the two members "
               "that do not lead; clients reconnect at once to the other survivor" % ctx.opts.failover_zk_heap)
