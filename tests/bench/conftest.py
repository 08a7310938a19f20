"""Fixtures of the aviary-bench smoke suite: the aviary-bench binary, one
fresh aviary-server for the whole module (started with the interop harness
on a free port, in a temporary dataDir), and run_bench(), which runs the
tool with --json and returns the parsed JSON lines of stdout."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "interop"))

import harness  # noqa: E402


def bench_binary():
    path = os.environ.get("AVIARY_BENCH") or os.path.join(REPO, "build", "aviary-bench")
    if not os.path.exists(path):
        pytest.skip("aviary-bench not built: %s" % path)
    return path


@pytest.fixture(scope="session")
def bench():
    return bench_binary()


def start_target(kind):
    """A fresh server of `kind` ("aviary" or "zookeeper") from the interop harness."""
    old = os.environ.get("AVIARY_TARGET")
    os.environ["AVIARY_TARGET"] = kind
    try:
        return harness.start_server()
    finally:
        if old is None:
            os.environ.pop("AVIARY_TARGET", None)
        else:
            os.environ["AVIARY_TARGET"] = old


@pytest.fixture(scope="module")
def server():
    srv = start_target("aviary")
    yield srv
    srv.stop()


def run_bench(hostport, *args, timeout=60, expect_rc=0):
    """Runs aviary-bench --json against hostport; returns the JSON objects of
    stdout (stdout must hold nothing else)."""
    cmd = [bench_binary(), "--servers", hostport, "--json", "--no-progress"] + [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, text=True)
    assert p.returncode == expect_rc, "rc %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def assert_clean(run):
    """The tool's correctness checks all passed for this run object."""
    assert run["ops"] > 0, run
    assert run["errors"] == 0, run
    assert run["bad_replies"] == 0, run
    assert run["lost_sessions"] == 0, run
    lat = run["latency_us"]
    for k in ("p50", "p90", "p99", "p999", "max", "mean"):
        assert k in lat, lat
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
