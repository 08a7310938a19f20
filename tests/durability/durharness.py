"""Launcher for durability tests: one server process at a time on a FIXED
workdir (dataDir, optional dataLogDir) that can be killed (-9), stopped and
restarted on the same files, with extra command-line flags (--repair) and
environment (AVIARY_FAILPOINT).

Reuses tests/interop/harness.py (config writer, 4lw probe) and rawzk.py (raw
wire client). Each start gets a fresh free port (the config is rewritten)
and its own log file, so the messages of one start can be checked alone.

    node = DurNode(tmpdir)            # tmpdir/data, tmpdir/zoo.cfg
    node.start()                      # waits for imok + a session handshake
    node.kill9(); node.start()        # same dataDir
    rc, out = node.run_to_exit()      # a start that is expected to fail
"""

import glob
import os
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "interop"))

import harness  # noqa: E402
import rawzk  # noqa: E402

OP_MULTI = 14
OP_CREATE = 1


def server_binary():
    b = os.environ.get("AVIARY_SERVER") or os.path.join(REPO_ROOT, "build", "aviary-server")
    if not os.path.exists(b):
        raise RuntimeError("aviary-server not found: %s (set AVIARY_SERVER)" % b)
    return b


def dump_binary():
    b = os.environ.get("AVIARY_DUMP") or os.path.join(os.path.dirname(server_binary()), "aviary-dump")
    if not os.path.exists(b):
        raise RuntimeError("aviary-dump not found: %s (set AVIARY_DUMP)" % b)
    return b


class DurNode:
    """One server installation (config + data dirs) started any number of times."""

    def __init__(self, workdir, separate_log_dir=False, extra_cfg=None):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.log_dir = os.path.join(workdir, "datalog") if separate_log_dir else self.data_dir
        os.makedirs(self.data_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.extra_cfg = dict(extra_cfg or {})
        if separate_log_dir:
            self.extra_cfg["dataLogDir"] = self.log_dir
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None
        self.cfg_path = None

    # -- files ---------------------------------------------------------------
    def snap_dir(self):
        return os.path.join(self.data_dir, "version-2")

    def wal_dir(self):
        return os.path.join(self.log_dir, "version-2")

    def segments(self):
        return sorted(glob.glob(os.path.join(self.wal_dir(), "log.*")), key=zxid_of)

    def snapshots(self):
        return sorted(glob.glob(os.path.join(self.snap_dir(), "snapshot.*")), key=zxid_of)

    # -- process -------------------------------------------------------------
    def _launch(self, args=(), env=None):
        self.port = harness.free_port()
        self.cfg_path = harness.write_config(self.workdir, self.port, self.extra_cfg)
        # write_config always uses <workdir>/data as dataDir, which is ours.
        self.starts += 1
        self.log_path = os.path.join(self.workdir, "server.%d.log" % self.starts)
        full_env = dict(os.environ)
        full_env.pop("AVIARY_FAILPOINT", None)
        full_env.update(env or {})
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [server_binary()] + list(args) + [self.cfg_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                cwd=self.workdir, env=full_env, start_new_session=True)

    def start(self, args=(), env=None, timeout=30.0):
        """Start and wait until it serves sessions; raises with the log if not."""
        self._launch(args, env)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                if harness.four_letter("127.0.0.1", self.port, "ruok", 1.0).strip() == "imok":
                    c = rawzk.RawClient("127.0.0.1", self.port, io_timeout=3.0)
                    try:
                        _t, sid, _pw = c.handshake(timeout_ms=2000)
                        if sid != 0:
                            c.close_session()
                            return self
                    finally:
                        c.close()
            except (OSError, ValueError, rawzk.ConnectionClosed) as e:
                last = repr(e)
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("server not ready in %.0fs (%s):\n%s" % (timeout, last, self.log()))

    def run_to_exit(self, args=(), env=None, timeout=20.0):
        """Start a server that is expected to refuse to start. Returns
        (exit code, log text); (None, log) if it was still running (killed)."""
        self._launch(args, env)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None, self.log()
        return rc, self.log()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def stop(self):
        """Graceful stop (SIGTERM), SIGKILL after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def client(self, timeout_ms=5000, io_timeout=5.0):
        c = rawzk.RawClient("127.0.0.1", self.port, io_timeout=io_timeout)
        c.handshake(timeout_ms=timeout_ms)
        return c


def zxid_of(path):
    """The zxid in a log.<hex> / snapshot.<hex> file name (-1 if none)."""
    try:
        return int(os.path.basename(path).split(".", 1)[1], 16)
    except (IndexError, ValueError):
        return -1


# -- multi (rawzk has none) ------------------------------------------------------
def _multi_header(op, done, err):
    return struct.pack(">i?i", op, done, err)


def multi_create(c, items, timeout=None):
    """items: [(path, data bytes)]. Sends one multi of persistent creates.
    Returns (top-level err, [per-op err])."""
    body = b""
    for path, data in items:
        body += _multi_header(OP_CREATE, False, -1)
        body += rawzk.j_string(path) + rawzk.j_buffer(data) + rawzk.j_acls(rawzk.OPEN_ACL_UNSAFE)
        body += rawzk.j_int(0)
    body += _multi_header(-1, True, -1)
    _zxid, err, r = c.call(OP_MULTI, body, timeout)
    results = []
    while True:
        op, done, _e = struct.unpack(">i?i", r.take(9))
        if done:
            break
        if op == -1:
            results.append(r.int())
        else:
            r.string()  # created path
            results.append(0)
    return err, results


def get_children(c, path):
    _zxid, err, r = c.call(rawzk.OP_GET_CHILDREN, rawzk.j_string(path) + rawzk.j_bool(False))
    if err != 0:
        return err, None
    n = r.int()
    return 0, [r.string() for _ in range(max(n, 0))]


def run_dump(*args, timeout=60.0, check=True):
    """Runs aviary-dump; returns CompletedProcess (text)."""
    p = subprocess.run([dump_binary()] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("aviary-dump %s failed (%d):\n%s%s"
                             % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
    return p
