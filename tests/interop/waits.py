"""Deadline-bounded waiting helpers for the interop tests."""

import contextlib
import signal
import time


class TestTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TestTimeout in the main thread if the body runs past `seconds`."""
    def on_alarm(_sig, _frame):
        raise TestTimeout("test exceeded %ds" % seconds)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


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
