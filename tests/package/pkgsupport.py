"""Helpers of the install and package tests: free ports, four-letter words,
waiting for a server, and the build directory the tests install from."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ensemble"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ensemble import four_letter  # noqa: E402,F401  (one copy for every suite)
from ports import free_port  # noqa: E402,F401  (tests/ports.py: one free-port helper for every suite)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("AVIARY_BUILD_DIR", os.path.join(REPO_ROOT, "build")))
EXAMPLES = os.path.join(REPO_ROOT, "conf", "examples")


def project_version():
    """The version in CMakeLists.txt's project() (the package's version)."""
    if os.environ.get("AVIARY_VERSION"):
        return os.environ["AVIARY_VERSION"]
    with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_PROJECT_VERSION:"):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no CMAKE_PROJECT_VERSION in CMakeCache.txt")


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout_s, what))


def mode_of(port):
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):].strip()
    return None


def run(cmd, **kw):
    """Runs cmd, returns CompletedProcess; raises with its output on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(cmd), p.returncode, p.stdout))
    return p


def cli_target_exists():
    """True when the build has the `aviary` CLI target (tools/cli)."""
    out = run(["ninja", "-C", BUILD_DIR, "-t", "targets", "all"]).stdout
    return re.search(r"^aviary: ", out, re.M) is not None
