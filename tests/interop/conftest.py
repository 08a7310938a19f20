"""pytest fixtures for the interop suite.

- `server`: one server per test session (started by harness.start_server,
  target from AVIARY_TARGET), stopped at the end.
- `fresh_server`: a private server for tests that may disturb the shared one.
- `zk`: a started KazooClient; `zk_factory(**kw)` for more; all closed after.
- `base`: a unique znode path (created) for the test to work under.
- Every test is bounded by SIGALRM (INTEROP_TEST_TIMEOUT seconds, default 30).
"""

import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import waits  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("INTEROP_TEST_TIMEOUT", "30"))
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


@pytest.fixture(scope="session")
def server():
    srv = harness.start_server()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server():
    srv = harness.start_server()
    yield srv
    srv.stop()


def make_client(srv, **kw):
    kw.setdefault("timeout", 10.0)
    c = KazooClient(hosts=srv.hostport, **kw)
    c.start(timeout=15)
    return c


@pytest.fixture
def zk_factory(server):
    clients = []

    def factory(srv=None, **kw):
        c = make_client(srv or server, **kw)
        clients.append(c)
        return c

    yield factory
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(zk_factory):
    return zk_factory()


@pytest.fixture
def base(zk, request):
    name = "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:60]
    path = "/t%03d_%s" % (next(_counter), name)
    zk.create(path)
    return path
