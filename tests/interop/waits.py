"""Deadline-bounded waiting helpers for the interop tests."""

import time


def wait_until(pred, timeout=10.0, interval=0.02, what="condition"):
    """Poll pred() until truthy; returns its value or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)
