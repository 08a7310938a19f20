"""What a comparison run produced: per stage its status, its rows (one
measure for both kinds: every run's value, the medians, the ratio
Aviary / ZooKeeper, the issue's target and whether it is met) and every raw
aviary-bench object, with the stage's wall time and load average.

Rows are plain dicts so that results.json is the same structure.
"""

import os
import statistics
import time

KINDS = ("aviary", "zookeeper")


def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def order(rep, kinds=KINDS):
    """Interleaving of repetitions: A B, B A, A B, ... (A B B A A B)."""
    return list(kinds) if rep % 2 == 0 else list(kinds)[::-1]


def load_avg():
    return [round(x, 2) for x in os.getloadavg()]


class Stage:
    def __init__(self, name, title):
        self.name = name
        self.title = title
        self.status = "ok"
        self.reason = None
        self.notes = []
        self.rows = []
        self.raw = []
        self.extra = {}  # stage-specific data (curves, sweep points)
        self.started = time.time()
        self.seconds = None
        self.load = {"start": load_avg()}

    def skip(self, reason):
        self.status = "skipped"
        self.reason = reason

    def fail(self, reason):
        self.status = "failed"
        self.reason = reason

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def add_raw(self, kind, info, rows):
        for r in rows:
            self.raw.append(dict(r, kind=kind, **info))

    def row(self, measure, unit, better, runs, target=None):
        """runs: {kind: [value, ...]}; target: (applies_to, op, value) with
        applies_to "ratio" (Aviary / ZooKeeper) or "aviary" (Aviary's median)."""
        med = {k: median(runs.get(k, [])) for k in KINDS}
        ratio = med["aviary"] / med["zookeeper"] if med["aviary"] is not None and med["zookeeper"] else None
        r = {"measure": measure, "unit": unit, "better": better, "runs": {k: list(runs.get(k, [])) for k in KINDS},
             "median": med, "ratio": ratio, "target": None, "met": None}
        if target is not None:
            applies, op, value = target
            r["target"] = {"applies_to": applies, "op": op, "value": value}
            x = ratio if applies == "ratio" else med["aviary"]
            if x is not None:
                r["met"] = x >= value if op == ">=" else x <= value
        self.rows.append(r)
        return r

    def finish(self):
        self.seconds = round(time.time() - self.started, 1)
        self.load["end"] = load_avg()

    def to_json(self):
        return {"name": self.name, "title": self.title, "status": self.status, "reason": self.reason,
                "notes": self.notes, "seconds": self.seconds, "load_avg": self.load, "rows": self.rows,
                "extra": self.extra, "raw": self.raw}
