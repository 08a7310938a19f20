"""Fixtures for the `aviary` CLI suite (docs/CLI.md; run: /usr/bin/python3 -m pytest -q tests/cli).

- `target` / `srv`: the suite runs every test once against Aviary and once
  against Apache ZooKeeper 3.8, each started once per session with the
  interop harness (tests/interop/harness.py).
- `cli(*args, json=False, input=None)`: runs the aviary binary one-shot
  against `srv` and returns a Run (rc, out, err, and .json() for --json).
- `zk`: an independent kazoo client on the same server, to check effects.
- `base`: a fresh znode path for the test.
"""

import itertools
import json as jsonlib
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "interop"))

import harness  # noqa: E402
import waits  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402

CLI = os.environ.get("AVIARY_CLI") or os.path.join(REPO, "build", "aviary")
TEST_TIMEOUT = int(os.environ.get("CLI_TEST_TIMEOUT", "60"))
TARGETS = ["aviary", "zookeeper"]
_counter = itertools.count()
_servers = {}


def start(target):
    old = os.environ.get("AVIARY_TARGET")
    os.environ["AVIARY_TARGET"] = target
    try:
        return harness.start_server()
    finally:
        if old is None:
            del os.environ["AVIARY_TARGET"]
        else:
            os.environ["AVIARY_TARGET"] = old


def server_for(target):
    if target not in _servers:
        _servers[target] = start(target)
    return _servers[target]


def pytest_sessionfinish(session, exitstatus):
    for s in _servers.values():
        s.stop()


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


@pytest.fixture(params=TARGETS)
def target(request):
    return request.param


@pytest.fixture
def srv(target):
    return server_for(target)


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        lines = [x for x in self.out.splitlines() if x.strip()]
        assert len(lines) == 1, "expected one JSON line, got: %r" % self.out
        return jsonlib.loads(lines[0])

    def __repr__(self):
        return "Run(rc=%d, out=%r, err=%r)" % (self.rc, self.out, self.err)


def run_cli(hostport, *args, json=False, input=None, timeout=20, env=None):
    cmd = [CLI, "-server", hostport, "-timeout", "10000"] + (["--json"] if json else []) + list(args)
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=env)
    return Run(p)


@pytest.fixture
def cli(srv):
    def run(*args, **kw):
        return run_cli(srv.hostport, *args, **kw)
    return run


@pytest.fixture
def zk(srv):
    c = KazooClient(hosts=srv.hostport, timeout=10.0)
    c.start(timeout=15)
    yield c
    c.stop()
    c.close()


@pytest.fixture
def base(zk, request):
    name = "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:40]
    path = "/cli%03d_%s" % (next(_counter), name)
    zk.create(path)
    return path
