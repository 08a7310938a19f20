"""pytest fixtures for the real-process ensemble suites (issue 7, item 5).

Every test starts its own ensemble (ensemble.py) on free loopback ports and
its own kazoo clients; both are stopped after the test. On a failure the
ensemble's directory (zoo.cfg, dataDirs, server.log of every member) is kept
and its path printed, and the tail of every member's log is shown.
"""

import logging
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import ensemble  # noqa: E402
import waits  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("ENSEMBLE_TEST_TIMEOUT", "120"))

# Session timeout of the test clients (s). The ensembles run tickTime=200 and
# maxSessionTimeout=8000, so a client keeps its session through an election.
SESSION_TIMEOUT_S = 8.0

logging.getLogger("kazoo").setLevel(logging.CRITICAL)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


@pytest.fixture
def make_ensemble(request):
    """make_ensemble(kinds, observers=(), **kw) -> ensemble.Ensemble, not
    yet started; stopped (and removed unless the test failed) afterwards."""
    made = []

    def make(kinds, observers=(), **kw):
        extra = dict(kw.pop("extra_cfg", {}) or {})
        extra.setdefault("maxSessionTimeout", int(SESSION_TIMEOUT_S * 1000))
        ens = ensemble.Ensemble(kinds, observers=observers, extra_cfg=extra, **kw)
        made.append(ens)
        return ens

    yield make
    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    xfailed = rep is not None and rep.skipped and hasattr(rep, "wasxfail")
    for ens in made:
        if xfailed:
            sys.stderr.write("known failure: ensemble kept in %s\n" % ens.root)
        if failed:
            for m in ens.members:
                sys.stderr.write("--- member %d (%s%s) log tail:\n%s\n" % (
                    m.sid, m.kind, ", observer" if m.observer else "", m.log_tail(4000)))
            sys.stderr.write("ensemble kept in %s\n" % ens.root)
        ens.stop(keep=failed or xfailed)


@pytest.fixture
def clients():
    """clients(hosts, **kw) -> started KazooClient; all stopped afterwards."""
    made = []

    def connect(hosts, start=True, start_timeout=30, **kw):
        kw.setdefault("timeout", SESSION_TIMEOUT_S)
        kw.setdefault("connection_retry", {"max_tries": -1, "delay": 0.05, "max_delay": 0.5})
        c = KazooClient(hosts=hosts, **kw)
        made.append(c)
        if start:
            c.start(timeout=start_timeout)
        return c

    yield connect
    for c in made:
        try:
            c.stop()
            c.close()
        except Exception:
            pass
