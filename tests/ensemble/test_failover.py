"""Failover and load paths of an all-Aviary ensemble (issue 10): the
failover benchmark (bench/failover.py) end to end on a small tree, and a
leader that takes more writes in flight than its node's bound on
outstanding proposals (1000) without wedging."""

import os
import subprocess
import sys

import pytest

import ensemble

sys.path.insert(0, os.path.join(ensemble.REPO_ROOT, "bench"))
import failover  # noqa: E402


def bench_binary():
    path = os.environ.get("AVIARY_BENCH") or os.path.join(os.path.dirname(ensemble.aviary_binary()), "aviary-bench")
    if not os.path.exists(path):
        pytest.skip("aviary-bench not built: %s" % path)
    return path


def test_failover_bench_measures_a_new_epoch_write():
    """bench/failover.py on 2,000 znodes, one repetition: the survivors
    elect a leader and a write of the new epoch is acknowledged (the
    measurement counts only those), within the 10 s it waits."""
    s = failover.measure("aviary", znodes=2000, reps=1, before=2.0, after=6.0, settle=0.0,
                         bench=bench_binary(), verbose=False)
    r = s["runs"][0]
    assert r["rate_before_ops"] > 0, r
    assert r["first_write_s"] is not None and 0 < r["first_write_s"] < 6.0, r
    assert r["half_throughput_s"] is not None and r["half_throughput_s"] >= r["first_write_s"], r
    assert r["expired_sessions"] == 0, r
    assert s["failed_reps"] == 0


def test_leader_holds_proposals_beyond_its_outstanding_bound(make_ensemble):
    """64 sessions x 32 creates in flight over three members: each admits
    up to globalOutstandingLimit (1000), so the leader's own writes and the
    two followers' forwarded ones exceed the node's 1000 outstanding
    proposals. The leader holds the excess in order (it used to drop one,
    and every later proposal then had a zxid gap: the ensemble stopped
    committing for good)."""
    ens = make_ensemble(["aviary"] * 3)
    ens.start()
    n = 20000
    cmd = [bench_binary(), "--servers", ens.connect_string(), "--workload", "create", "--ops", str(n),
           "--warmup", "0", "--clients", "64", "--depth", "32", "--root", "/held", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
    assert out.returncode == 0, out.stdout[-1000:] + out.stderr[-1000:]
    assert "refused by the node" not in ens.leader().log_since(0)
    assert ens.mark() > 0  # still committing
