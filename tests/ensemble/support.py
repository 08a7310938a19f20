"""Which member kinds the ensemble suites run, and what Aviary can do yet.

AVIARY_ENSEMBLE_KINDS (default "aviary,aviary,aviary") is the voter list of
test_ensemble.py; AVIARY_ENSEMBLE_OBSERVER (default: the first voter's kind)
the observer's kind. A test that needs an ensemble feature Aviary lacks is
skipped with the reason below when any member it starts is Aviary - never
run against something else and reported as passing.
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import ensemble

# Features of an Aviary ensemble member not wired yet, with the reason shown
# on a skip. Empty once everything works; AVIARY_ENSEMBLE_MISSING (comma
# separated names) adds to it for a quick experiment.
MISSING = {}

# Behaviour an Aviary ensemble member gets wrong today, observed by these
# tests against aviary-server (empty since 2026-11-30: every known failure was fixed). A test that
# exercises one runs anyway and is reported XFAIL (or XPASS once fixed,
# which is the signal to delete the entry) - it never counts as a pass.
KNOWN_FAILURES = {
}


def voter_kinds():
    raw = os.environ.get("AVIARY_ENSEMBLE_KINDS", "aviary,aviary,aviary")
    return [ensemble.substitute(k.strip()) for k in raw.split(",") if k.strip()]


def observer_kind():
    return ensemble.substitute(os.environ.get("AVIARY_ENSEMBLE_OBSERVER", voter_kinds()[0]))


# Features whose support aviary-server's configuration check reveals: it
# refuses to start with a setting it cannot honour.
PROBE_CFG = {"read_only": {"readonlymode.enabled": "true"}}


def _probe_aviary_ensemble(extra_cfg=None):
    """None if aviary-server accepts an ensemble zoo.cfg (+ extra_cfg) (it is
    still running after 3 s), else why not (its refusal, or that it is not
    built)."""
    try:
        binary = ensemble.aviary_binary()
    except RuntimeError as e:
        return str(e)
    root = tempfile.mkdtemp(prefix="aviary-probe-")
    ens = ensemble.Ensemble(["aviary", "aviary", "aviary"], extra_cfg=extra_cfg)
    shutil.rmtree(ens.root, ignore_errors=True)
    ens.root = root
    m = ens.members[0]
    m.workdir = root
    m.data_dir = os.path.join(root, "data")
    m.log_path = os.path.join(root, "server.log")
    cfg = m.write_config()
    proc = subprocess.Popen([binary, cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    running = proc.poll() is None
    if running:
        proc.kill()
        proc.wait()
    out = proc.stdout.read().decode("utf-8", "replace").strip().splitlines()
    shutil.rmtree(root, ignore_errors=True)
    if running:
        return None
    return "aviary-server refuses an ensemble zoo.cfg%s (exit %d): %s" % (
        " with %s" % extra_cfg if extra_cfg else "", proc.returncode,
        out[-1].strip() if out else "")


_probes = {}


def _probe(feature=None):
    if feature not in _probes:
        _probes[feature] = _probe_aviary_ensemble(PROBE_CFG.get(feature))
    return _probes[feature]


def aviary_ensemble_missing():
    return _probe(None)


def missing_reason(kinds, *features):
    """Why a test over members of `kinds` needing `features` cannot run on
    Aviary yet, or None."""
    real = [ensemble.substitute(k) for k in kinds]
    if "zookeeper" in real:
        absent = [j for j in ensemble.ZK_JARS if not os.path.exists(j)]
        if absent:
            return "Apache ZooKeeper 3.8 not installed (Debian package zookeeper): %s" % absent[0]
    if "aviary" not in real:
        return None
    why = aviary_ensemble_missing()
    if why:
        return why
    extra = [f for f in os.environ.get("AVIARY_ENSEMBLE_MISSING", "").split(",") if f]
    for f in features:
        if f in MISSING:
            return "Aviary ensemble lacks %s: %s" % (f, MISSING[f])
        if f in extra:
            return "Aviary ensemble lacks %s (AVIARY_ENSEMBLE_MISSING)" % f
        if f in PROBE_CFG and _probe(f):
            return _probe(f)
    return None


def require(kinds, *features):
    """Skips the calling test, with the precise reason, if Aviary is among
    `kinds` and lacks one of `features`."""
    why = missing_reason(kinds, *features)
    if why:
        pytest.skip(why)


def expect_failure(request, kinds, *keys):
    """Marks the running test XFAIL (not strict: XPASS once fixed) with the
    KNOWN_FAILURES reasons, if any of `kinds` is Aviary."""
    if "aviary" not in [ensemble.substitute(k) for k in kinds]:
        return
    reasons = [KNOWN_FAILURES[k] for k in keys if k in KNOWN_FAILURES]
    if reasons:
        request.node.add_marker(pytest.mark.xfail(reason="; ".join(reasons), strict=False))
