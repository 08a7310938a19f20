"""Start/stop ZooKeeper 3.8 (Debian package) and Aviary on loopback.

Owns: a temp dataDir + zoo.cfg per server start, the child process, and one
long-lived "control" session per server used to probe the current zxid and
to clean up between scripts. Every wait is bounded.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import zkwire

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ports  # noqa: E402  (tests/ports.py: one free-port helper for every suite)

HOST = "127.0.0.1"
DEFAULT_AVIARY = "/work/main/build/aviary-server"


def zk_classpath():
    # zookeeper.jar's manifest Class-Path names its dependencies (netty, slf4j...).
    jars = ["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar",
            "/usr/share/java/slf4j-simple.jar"]
    jars += glob.glob("/usr/share/zookeeper/lib/*.jar")
    seen, cp = set(), []
    for j in jars:
        if j not in seen and os.path.exists(j):
            seen.add(j)
            cp.append(j)
    return ":".join(cp)


def aviary_binary():
    return os.environ.get("AVIARY_SERVER", DEFAULT_AVIARY)


class Server:
    """One server process of kind "zookeeper" or "aviary"."""

    def __init__(self, kind):
        self.kind = kind
        self.proc = None
        self.dir = None
        self.port = None
        self.control = None

    def start(self, ready_timeout=30.0):
        self.dir = tempfile.mkdtemp(prefix=f"aviary-diff-{self.kind}-")
        self.port = ports.free_port()
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(f"tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir={data}\n"
                    f"clientPort={self.port}\nclientPortAddress={HOST}\n"
                    "maxClientCnxns=0\nadmin.enableServer=false\nforceSync=no\n"
                    "extendedTypesEnabled=true\n4lw.commands.whitelist=*\n")
        if self.kind == "zookeeper":
            cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                   "-cp", zk_classpath(),
                   "-Dzookeeper.extendedTypesEnabled=true",
                   "-Dzookeeper.4lw.commands.whitelist=*",
                   "-Dznode.container.checkIntervalMs=86400000",
                   "-Dzookeeper.admin.enableServer=false",
                   "-Dzookeeper.forceSync=no",
                   "org.apache.zookeeper.server.ZooKeeperServerMain", cfg]
        else:
            cmd = [aviary_binary(), cfg]
        self.log_path = os.path.join(self.dir, "server.log")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"{self.kind} exited with {self.proc.returncode}; log: {self.tail()}"
                self.stop()
                raise RuntimeError(msg)
            try:
                s = zkwire.Session(HOST, self.port, "control", timeout=2.0)
                rec = s.connect(timeout_ms=40000)
                if rec["kind"] == "connect" and rec.get("timeOut", 0) > 0:
                    self.control = s
                    return self
                s.close_socket()
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not accept a session within {ready_timeout}s")

    def tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def probe_zxid(self):
        """Last processed zxid, from the reply header of an `exists /`."""
        rec = self.control.call(zkwire.OPS["exists"], {"path": "/"}, record=False)
        if rec is None:
            raise RuntimeError(f"{self.kind}: control session lost")
        return rec["zxid"]

    def cleanup(self, creds=()):
        """Best effort: delete every node except /zookeeper (deepest first)."""
        c = self.control
        for scheme, auth in creds:
            c.call(100, {"scheme": scheme, "auth": auth.encode()}, record=False)
        if c.eof:
            return
        stack, order = ["/"], []
        while stack and len(order) < 100000:
            p = stack.pop()
            rec = c.call(8, {"path": p}, record=False)
            if rec is None or rec["err"] != "OK":
                continue
            for ch in rec["body"]["children"]:
                full = ("" if p == "/" else p) + "/" + ch
                if full != "/zookeeper":
                    order.append(full)
                    stack.append(full)
        for p in reversed(order):
            c.call(2, {"path": p, "version": -1}, record=False)
        c.log.clear()

    def stop(self):
        if self.control:
            self.control.close_socket()
            self.control = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.dir:
            self.log_file.close()
            if os.environ.get("DIFF_KEEP_DIRS") != "1":
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
