"""Servers and zkCli.sh runs for the quota suite.

Starts Aviary or Apache ZooKeeper 3.8 (the Debian package) with the interop
harness's zoo.cfg and command line, explicitly per call (both run in one
test), restarts one on the same dataDir, and runs zkCli.sh scripts.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import harness  # noqa: E402
import rawzk  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import EXCEPTIONS, ZookeeperError  # noqa: E402

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
AV, ZK = "aviary", "zookeeper"
QUOTA_EXCEEDED = -125


class QuotaExceededError(ZookeeperError):
    """kazoo 2.8 has no class for QUOTAEXCEEDED (-125); its table's default
    would hide the code."""
    code = QUOTA_EXCEEDED


if QUOTA_EXCEEDED not in EXCEPTIONS:
    EXCEPTIONS[QUOTA_EXCEEDED] = QuotaExceededError


def start(target, extra_cfg=None, jvmflags=None):
    """A fresh server of `target`; `jvmflags` goes to SERVER_JVMFLAGS (read
    by Aviary as ZooKeeper's start script would pass it to the JVM; for
    ZooKeeper the -D flags are put on its java command line)."""
    props = {}
    for flag in (jvmflags or "").split():
        if flag.startswith("-D") and "=" in flag:
            k, v = flag[2:].split("=", 1)
            props[k] = v
    with harness.patched_env({"AVIARY_TARGET": target, "SERVER_JVMFLAGS": jvmflags if target == AV else None}):
        srv = harness.start_server(extra_cfg=extra_cfg, jvm_props=props)
    srv.target = target
    srv.jvmflags = jvmflags
    srv.props = props
    return srv


def restart(srv, timeout=40.0):
    """Stops `srv` and starts the same target on the same zoo.cfg and dataDir."""
    srv.stop(keep_dir=True)
    with harness.patched_env({"AVIARY_TARGET": srv.target, "SERVER_JVMFLAGS": srv.jvmflags if srv.target == AV else None}):
        logf = open(srv.log_path, "ab")
        proc = subprocess.Popen(harness.server_command(srv.cfg_path, srv.props), stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=subprocess.STDOUT, cwd=srv.workdir, start_new_session=True)
        logf.close()
    srv.proc = proc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not srv.alive():
            raise RuntimeError("restart failed: " + srv.log_tail())
        try:
            if srv.four_letter("ruok", timeout=1.0).strip() == "imok" and harness._session_handshake_ok(srv):
                return srv
        except (OSError, ValueError, rawzk.ConnectionClosed):
            pass
        time.sleep(0.1)
    raise RuntimeError("no imok after restart: " + srv.log_tail())


def client(srv):
    c = KazooClient(hosts=srv.hostport, timeout=10.0)
    c.start(timeout=15)
    return c


def zkcli(srv, script, timeout=60):
    """One zkCli.sh run fed `script` (a list of commands) on stdin; returns
    the lines of stdout + stderr that the commands printed (log lines, the
    banner and the prompt echo are dropped)."""
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = "-Dzookeeper.log.threshold=ERROR"
    work = tempfile.mkdtemp(prefix="aviary-quota-cli-")
    try:
        p = subprocess.run([ZKCLI, "-server", srv.hostport], input="\n".join(script + ["quit"]) + "\n",
                           capture_output=True, text=True, timeout=timeout, env=env, cwd=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return p.stdout, p.stderr


NOISE = re.compile(r"^(\d{4}-\d\d-\d\d |log4j|SLF4J|WATCHER::|WatchedEvent |Connecting to |Welcome to |JLine "
                   r"support|\s*$|\[zk: )")


def cli_lines(out, err):
    """The command output lines of a zkCli run, in order (stdout, then stderr)."""
    keep = []
    for line in (out + "\n" + err).splitlines():
        if not NOISE.match(line):
            keep.append(line.rstrip())
    return keep


def wait_log(srv, needle, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in srv.log_tail(400000):
            return True
        time.sleep(0.05)
    return False
