"""Everything bench/compare starts, so that it is always stopped: servers
(each in its own process group), ensembles, held aviary-bench processes,
and the work directory, removed at exit unless kept.

Only one Registry exists per run (REGISTRY); `install_handlers()` turns
SIGINT/SIGTERM/SIGHUP into a SystemExit, so the `finally` of the main
function and atexit run the cleanup on Ctrl-C and on errors alike.
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys


class Registry:
    def __init__(self):
        self.procs = []  # subprocess.Popen started with start_new_session=True
        self.ensembles = []  # tests/ensemble Ensemble objects
        self.workdir = None
        self.keep = False
        self.done = False

    def add_proc(self, proc):
        self.procs.append(proc)
        return proc

    def add_ensemble(self, ens):
        self.ensembles.append(ens)
        return ens

    def forget_ensemble(self, ens):
        if ens in self.ensembles:
            self.ensembles.remove(ens)

    def cleanup(self):
        if self.done:
            return
        self.done = True
        for ens in list(self.ensembles):
            try:
                ens.stop(keep=self.keep)
            except Exception as e:  # keep going: everything else must stop too
                print("compare: stopping an ensemble: %s" % e, file=sys.stderr)
        for p in self.procs:
            kill_group(p)
        if self.workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.workdir:
            print("compare: kept %s" % self.workdir, file=sys.stderr)


def kill_group(proc, sig=signal.SIGKILL, wait_s=10):
    """Signals the process group of `proc` (started in its own session)
    and reaps it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(timeout=wait_s)


REGISTRY = Registry()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def install_handlers():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    atexit.register(REGISTRY.cleanup)
