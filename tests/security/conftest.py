"""pytest fixtures shared by the security suite (SASL, TLS; issue 8).

Every test is bounded by SIGALRM (SECURITY_TEST_TIMEOUT seconds, default 90);
servers come from the interop harness (tests/interop/harness.py).
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import waits  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("SECURITY_TEST_TIMEOUT", "90"))


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield
