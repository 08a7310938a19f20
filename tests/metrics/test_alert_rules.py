"""docs/monitoring/aviary-alerts.yml: valid Prometheus rule files (promtool
when installed, else a structural check), covering what the seeds call
critical, and every metric they query is one Aviary exports (or
node_exporter's / Prometheus' own)."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from support import AviaryServer, REPO, scrape

RULES = os.path.join(REPO, "docs", "monitoring", "aviary-alerts.yml")
PROMQL_WORDS = {"rate", "irate", "increase", "max", "min", "sum", "avg", "count", "absent", "and", "or", "unless",
                "on", "by", "without", "floor", "predict_linear", "humanizePercentage", "changes", "resets",
                "max_over_time", "ignoring", "group_left", "group_right", "bool"}
# Gauges an ensemble leader exports (tests/metrics/test_ensemble_metrics.py).
ENSEMBLE_GAUGES = {"quorum_size", "leader_uptime", "learners", "synced_followers", "synced_observers",
                   "pending_syncs"}


def rules():
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [r for g in doc["groups"] for r in g["rules"]]


def metric_names(expr):
    expr = re.sub(r'"[^"]*"', "", expr)          # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)        # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)       # ranges
    return {t for t in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if t not in PROMQL_WORDS}


def test_structure_and_coverage():
    rs = rules()
    names = [r["alert"] for r in rs]
    assert len(names) == len(set(names))
    for r in rs:
        assert r["expr"].strip() and "for" in r, r["alert"]
        assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
        assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]
    exprs = " ".join(r["expr"] for r in rs)
    for needed in ("leader_uptime", "quorum_size", "election_time_count", "updatelatency", "outstanding_requests",
                   "fsynctime_sum", "node_filesystem_avail_bytes", "num_alive_connections"):
        assert needed in exprs, "no rule watches %s" % needed


def test_rules_query_metrics_aviary_exports():
    s = AviaryServer().start()
    try:
        _, families, samples = scrape(s.metrics_port)
    finally:
        s.stop()
    exported = set(families) | set(samples) | ENSEMBLE_GAUGES
    for r in rules():
        for name in metric_names(r["expr"]):
            if name == "up" or name.startswith("node_"):
                continue
            assert name in exported, "%s queries %s, which /metrics does not export" % (r["alert"], name)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_checks_the_rules():
    out = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
