"""Standalone servers of both kinds on loopback, configured alike: Aviary
(build/aviary-server) and Apache ZooKeeper 3.8 from the Debian package,
started with java as tools/bench/run_compare.sh and tests/ensemble/ensemble.py
start it (ZooKeeperServerMain, the package's jars, -Xmx1000m as zkServer.sh's
default heap, JVM defaults otherwise), logging at INFO through log4j 1.2
(the package's binding) into the server's own log file.

Both get the same zoo.cfg keys: tickTime=2000, forceSync=yes (fsync before
every ACK), a free 127.0.0.1 client port, no AdminServer, every 4lw. A zoo.cfg
key ZooKeeper does not know (forceSync, snapCount) becomes the system property
zookeeper.<key>, which is where it reads them.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time

from . import procs, zkraw
from .ensemble_harness import ensemble, ports

ZK_JAR = "/usr/share/java/zookeeper.jar"
# The manifest of zookeeper.jar names its other dependencies (Class-Path).
ZK_CLASSPATH = [ZK_JAR, "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar",
                "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"]
LOG4J_PROPERTIES = """\
# Written by bench/compare: ZooKeeper's own pattern (conf/log4j.properties), INFO, to stdout (server.log).
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Threshold=INFO
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
"""


def ensure_zookeeper():
    """Checks that the Debian package's jars and java are there; installs the
    package with apt-get when missing and running as root. Returns its version."""
    missing = [j for j in ZK_CLASSPATH if not os.path.exists(j)]
    if missing or not shutil.which("java"):
        if os.geteuid() != 0:
            raise SystemExit("compare: Apache ZooKeeper is missing (%s): run `apt-get install zookeeper "
                             "liblog4j1.2-java libslf4j-java` as root or scripts/setup" % ", ".join(missing or ["java"]))
        print("compare: installing zookeeper with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y", "zookeeper", "liblog4j1.2-java", "libslf4j-java"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    return zookeeper_version()


def zookeeper_version():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "zookeeper"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def write_log4j(workdir):
    path = os.path.join(workdir, "log4j.properties")
    with open(path, "w") as f:
        f.write(LOG4J_PROPERTIES)
    return path


def zk_jvm_args(workdir, opts):
    """JVM options of every ZooKeeper this run starts (standalone and ensemble)."""
    return (["-Xmx%s" % opts.zk_heap] + opts.zk_jvm.split()
            + ["-Dlog4j.configuration=file:%s" % write_log4j(workdir)])


# Below the kernel's ephemeral range and never one handed out before in this
# run (tests/ports.py): bind(0)'s ports are also the source ports of the
# load generator's thousands of connections.
free_port = ports.free_port


def rss_bytes(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    """utime + stime of the whole process (every thread) so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def dir_size(path):
    """(allocated bytes, apparent bytes) of every file under path: log
    segments are preallocated, so what the disk holds (st_blocks) and the
    files' lengths differ."""
    alloc = apparent = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            alloc += st.st_blocks * 512
            apparent += st.st_size
    return alloc, apparent


class Server:
    """One standalone server: kind 'aviary' or 'zookeeper'. start() writes
    zoo.cfg and waits until a getData("/") succeeds."""

    def __init__(self, kind, root, opts, cfg=None):
        self.kind = kind
        self.opts = opts
        self.dir = os.path.join(root, kind)
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        self.port = free_port()
        self.cfg = dict(cfg or {})
        self.proc = None
        self.exec_time = None  # monotonic time of the last exec
        # Aviary with --latency-trace: the file its per-phase histograms go to.
        self.trace_path = (os.path.join(self.dir, "latency-trace.json")
                           if kind == "aviary" and getattr(opts, "latency_trace", False) else None)

    def write_config(self):
        os.makedirs(self.data_dir, exist_ok=True)
        keys = {"tickTime": 2000, "dataDir": self.data_dir, "clientPort": self.port,
                "clientPortAddress": "127.0.0.1", "maxClientCnxns": 0, "admin.enableServer": "false",
                "4lw.commands.whitelist": "*", "forceSync": "yes"}
        if self.kind == "aviary":
            keys["aviary.logLevel"] = "info"
        keys.update(self.cfg)
        path = os.path.join(self.dir, "zoo.cfg")
        with open(path, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in keys.items()))
        return path

    def command(self, cfg_path):
        if self.kind == "aviary":
            return [self.opts.aviary_server, cfg_path]
        return (["java"] + zk_jvm_args(self.dir, self.opts)
                + ["-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
                   "-cp", ":".join(ZK_CLASSPATH), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg_path])

    def start(self, wait=True, timeout_s=180):
        """Execs the server; with wait, until it serves (wait_started)."""
        self._exec()
        if wait:
            self.wait_started(timeout_s)
        return self

    def wait_started(self, timeout_s=180):
        """Waits until the server started by start(wait=False) serves. A
        port taken by someone else between free_port() and the bind is
        retried on a new port (twice)."""
        for attempt in range(3):
            try:
                self.wait_serving(timeout_s)
                return self
            except RuntimeError:
                if attempt == 2 or self.proc.poll() is None or not self._bind_failed():
                    raise
                self.port = free_port()
                self._exec()
        return self

    def _exec(self):
        assert self.proc is None or self.proc.poll() is not None
        self.log_offset = self.log_size()
        cmd = self.command(self.write_config())
        with open(self.log_path, "ab") as log:
            self.exec_time = time.monotonic()
            env = dict(os.environ, AVIARY_LATENCY_TRACE=self.trace_path) if self.trace_path else None
            self.proc = procs.REGISTRY.add_proc(subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                start_new_session=True, env=env))

    def _bind_failed(self):
        return ports.bind_failed(self.log_since(self.log_offset))

    def wait_serving(self, timeout_s=180):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.kind, self.proc.returncode, self.log_tail()))
            if zkraw.try_get(self.port, "/")[0]:
                return
            time.sleep(0.05)
        raise RuntimeError("%s not serving after %d s:\n%s" % (self.kind, timeout_s, self.log_tail()))

    def stop(self, hard=False):
        """SIGTERM (or SIGKILL when hard) and reap."""
        if self.proc is not None:
            procs.kill_group(self.proc, signal.SIGKILL if hard else signal.SIGTERM)

    def hostport(self):
        return "127.0.0.1:%d" % self.port

    def pids(self):
        return [self.proc.pid] if self.proc is not None and self.proc.poll() is None else []

    def rss(self):
        return rss_bytes(self.proc.pid)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def disk(self):
        return dir_size(self.data_dir)

    def snapshots(self):
        return sorted(p for p in glob.glob(os.path.join(self.data_dir, "version-2", "snapshot.*"))
                      if not p.endswith(".tmp"))

    # The ensemble harness's member log readers (they read self.log_path):
    # log_size() is the log's length now, log_since(offset) its text from there.
    log_size = ensemble.Member.log_size
    log_since = ensemble.Member.log_since

    def log_tail(self, n=3000):
        return self.log_since(max(0, self.log_size() - n))

    def wipe(self):
        shutil.rmtree(self.dir, ignore_errors=True)
