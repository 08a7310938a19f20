#!/usr/bin/env python3
"""Checks the test plan of a build directory before `ctest -j2` runs it.

Every ctest test must be either RUN_SERIAL (it runs alone, as under -j1) or
labelled `parallel` (reviewed as pure CPU: no wall-clock bound, no server or
ensemble started, ports only by bind(0) inside the process; see the rule in
tests/CMakeLists.txt). A test that is neither would run beside another one
on CI's 2 cores without anyone having checked that load cannot break it, so
this fails and names it. A test that is both is refused too (contradiction).

Usage: tests/ctest_plan.py BUILD_DIR      (exit 0: plan ok; 1: listed tests)
"""

import json
import subprocess
import sys


def plan(build_dir):
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build_dir, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    tests = []
    for t in json.loads(out)["tests"]:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        tests.append((t["name"], bool(props.get("RUN_SERIAL", False)), "parallel" in props.get("LABELS", [])))
    return tests


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    tests = plan(argv[1])
    bad = [(n, "neither RUN_SERIAL nor labelled parallel") for n, s, p in tests if not s and not p]
    bad += [(n, "both RUN_SERIAL and labelled parallel") for n, s, p in tests if s and p]
    par = [n for n, s, p in tests if p and not s]
    print("ctest plan of %s: %d tests, %d may run two at a time (%s), %d run alone"
          % (argv[1], len(tests), len(par), " ".join(par), len(tests) - len(par)))
    for n, why in bad:
        print("ctest plan: %s is %s (tests/CMakeLists.txt says how to choose)" % (n, why))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
