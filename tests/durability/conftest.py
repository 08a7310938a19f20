"""pytest fixtures for the durability suite.

- `node`: a DurNode (durharness.py) on a private temporary workdir, killed
  and removed after the test (kept when DURABILITY_KEEP=1, for debugging).
- `node_factory(**kw)`: more nodes (e.g. separate_log_dir=True, extra_cfg).
- Every test is bounded by SIGALRM (DURABILITY_TEST_TIMEOUT seconds,
  default 240; the crash test scales it with its round count).
"""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import durharness  # noqa: E402
import waits  # noqa: E402  (tests/interop, put on sys.path by durharness)

TEST_TIMEOUT = int(os.environ.get("DURABILITY_TEST_TIMEOUT", "240"))


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


@pytest.fixture
def node_factory():
    nodes = []

    def factory(**kw):
        workdir = tempfile.mkdtemp(prefix="aviary-dur-")
        n = durharness.DurNode(workdir, **kw)
        nodes.append(n)
        return n

    yield factory
    for n in nodes:
        n.kill9()
        if os.environ.get("DURABILITY_KEEP") != "1":
            shutil.rmtree(n.workdir, ignore_errors=True)
        else:
            print("kept", n.workdir)


@pytest.fixture
def node(node_factory):
    return node_factory()
