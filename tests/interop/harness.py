"""Launch harness shared by every interop test.

Starts one standalone server on 127.0.0.1 on a free port, in a fresh temporary
dataDir, from a generated zoo.cfg; waits until the `ruok` four-letter word
answers `imok`; stops it by killing its process group.

Target is chosen by the environment variable AVIARY_TARGET:
  aviary     (default) binary from $AVIARY_SERVER (default <repo>/build/aviary-server),
             command line: aviary-server /path/to/zoo.cfg
  zookeeper  Apache ZooKeeper 3.8 from the Debian package, run in the foreground:
             java -cp <jars> org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg

Usage:
    srv = start_server()
    try: ... srv.hostport ...
    finally: srv.stop()
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import rawzk

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

import ports  # noqa: E402  (tests/ports.py)

TICK_TIME_MS = 100
MIN_SESSION_TIMEOUT_MS = 400
MAX_SESSION_TIMEOUT_MS = 20000
# How often containers / expired TTL nodes are reaped. ZooKeeper reads this
# only as the Java system property znode.container.checkIntervalMs; Aviary
# reads the same key from zoo.cfg (ZooKeeper ignores it there).
CONTAINER_CHECK_INTERVAL_MS = 100

ZK_JARS = [
    "/usr/share/java/zookeeper.jar",  # its manifest Class-Path pulls the rest
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
]


def target():
    return os.environ.get("AVIARY_TARGET", "aviary").strip().lower()


@contextlib.contextmanager
def patched_env(env):
    """Sets (value) or removes (None) environment variables for the block,
    then restores them: how a test starts a server with a changed environment."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if v is not None})
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# A port bind() accepted a moment ago, below the kernel's ephemeral range
# (tests/ports.py): what every suite that starts servers through this
# harness (adversarial, durability, cli, security, bench, ...) uses.
free_port = ports.free_port


def four_letter(host, port, cmd, timeout=3.0):
    """Send a four-letter word and return the whole answer as str."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode("ascii"))
        s.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace")


class Server:
    def __init__(self, proc, host, port, workdir, cfg_path, log_path):
        self.proc = proc
        self.host = host
        self.port = port
        self.workdir = workdir
        self.cfg_path = cfg_path
        self.log_path = log_path

    @property
    def pid(self):
        """Process id of the server (the JVM itself for zookeeper)."""
        return self.proc.pid

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def four_letter(self, cmd, timeout=3.0):
        return four_letter(self.host, self.port, cmd, timeout)

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, keep_dir=False):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        if not keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _session_handshake_ok(srv):
    c = rawzk.RawClient(srv.host, srv.port, io_timeout=2.0)
    try:
        _timeout, session_id, _pw = c.handshake(timeout_ms=MIN_SESSION_TIMEOUT_MS * 5)
        if session_id == 0:
            return False
        c.close_session()
        return True
    finally:
        c.close()


def write_config(workdir, port, extra=None):
    data_dir = os.path.join(workdir, "data")
    os.makedirs(data_dir, exist_ok=True)
    lines = [
        "tickTime=%d" % TICK_TIME_MS,
        "minSessionTimeout=%d" % MIN_SESSION_TIMEOUT_MS,
        "maxSessionTimeout=%d" % MAX_SESSION_TIMEOUT_MS,
        "dataDir=%s" % data_dir,
        "clientPort=%d" % port,
        "clientPortAddress=127.0.0.1",
        "maxClientCnxns=0",
        "admin.enableServer=false",
        "4lw.commands.whitelist=*",
        "extendedTypesEnabled=true",
        "znode.container.checkIntervalMs=%d" % CONTAINER_CHECK_INTERVAL_MS,
    ]
    for k, v in (extra or {}).items():
        lines.append("%s=%s" % (k, v))
    cfg_path = os.path.join(workdir, "zoo.cfg")
    with open(cfg_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return cfg_path


def server_command(cfg_path, jvm_props=None):
    """jvm_props: extra Java system properties (zookeeper target only), for
    settings ZooKeeper reads only as -D flags, e.g. {"jute.maxbuffer": 10000}."""
    if target() == "zookeeper":
        java = shutil.which("java") or "/usr/bin/java"
        extra_d = ["-D%s=%s" % (k, v) for k, v in (jvm_props or {}).items()]
        return [
            java,
            "-Xmx192m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.4lw.commands.whitelist=*",
            "-Dzookeeper.admin.enableServer=false",
            "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_INTERVAL_MS,
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=%s"
            % os.environ.get("AVIARY_ZK_LOGLEVEL", "warn"),
        ] + extra_d + [
            "-cp",
            ":".join(ZK_JARS),
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            cfg_path,
        ]
    binary = os.environ.get("AVIARY_SERVER") or os.path.join(REPO_ROOT, "build", "aviary-server")
    if not os.path.exists(binary):
        raise RuntimeError("aviary-server binary not found: %s (set AVIARY_SERVER)" % binary)
    return [binary, cfg_path]


def start_server(extra_cfg=None, timeout=40.0, jvm_props=None):
    """Start a fresh server; returns a Server once `ruok` answers `imok`.
    jvm_props are passed as -D flags to ZooKeeper and ignored for Aviary."""
    workdir = tempfile.mkdtemp(prefix="aviary-interop-")
    last_err = None
    for _attempt in range(3):  # the free port may be taken between the choice and the bind
        port = free_port()
        cfg_path = write_config(workdir, port, extra_cfg)
        log_path = os.path.join(workdir, "server.log")
        logf = open(log_path, "ab")
        proc = subprocess.Popen(
            server_command(cfg_path, jvm_props),
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,  # own process group, killed as a whole
        )
        logf.close()
        srv = Server(proc, "127.0.0.1", port, workdir, cfg_path, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not srv.alive():
                last_err = "server exited with %s: %s" % (proc.returncode, srv.log_tail())
                break
            try:
                # ZooKeeper answers imok before it accepts sessions, so also
                # require a real session handshake to succeed.
                if (srv.four_letter("ruok", timeout=1.0).strip() == "imok"
                        and _session_handshake_ok(srv)):
                    return srv
            except (OSError, ValueError, rawzk.ConnectionClosed) as e:
                last_err = repr(e)
            time.sleep(0.1)
        else:
            last_err = "no imok within %.0fs: %s" % (timeout, srv.log_tail())
        srv.stop(keep_dir=True)
    shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError("could not start %s server: %s" % (target(), last_err))
