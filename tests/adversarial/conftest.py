"""pytest fixtures for the adversarial suite (issue 6, item 20).

Each test sends one kind of hostile input to a real server it starts itself
and then proves, with `adv.Guard`, that the server
  - still answers other clients (a fresh session can write and read back),
  - lost nothing it had acknowledged (writes made before the attack are
    all still there, byte for byte),
  - kept its memory bounded (RSS sampled before and after the attack).

The servers, clients and helpers are the interop suite's (tests/interop).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import harness  # noqa: E402
import waits  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("ADVERSARIAL_TEST_TIMEOUT", "60"))

import adv  # noqa: E402

if adv.sanitized():
    # ASan keeps freed memory in a 256 MiB quarantine by default, which would
    # read as growth in the RSS bounds: keep it small for the servers started
    # here (they inherit this environment).
    os.environ["ASAN_OPTIONS"] = ":".join(
        filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=16"]))


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


@pytest.fixture
def server_factory():
    """start(extra_cfg=None) -> harness.Server; every server stopped after."""
    servers = []

    def start(extra_cfg=None, **kw):
        srv = harness.start_server(extra_cfg=extra_cfg, **kw)
        servers.append(srv)
        return srv

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def server(server_factory):
    return server_factory()
