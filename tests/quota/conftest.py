"""Every quota test is bounded by SIGALRM (QUOTA_TEST_TIMEOUT seconds, default 150)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

import waits  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("QUOTA_TEST_TIMEOUT", "150"))


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield
