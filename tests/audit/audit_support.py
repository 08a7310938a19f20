"""Servers for the audit / logging suite: Aviary or Apache ZooKeeper 3.8
(Debian package), standalone on 127.0.0.1 on a free port, in a temporary
directory, with the audit log on. ZooKeeper's audit logger
(org.apache.zookeeper.audit.Slf4jAuditLogger) is sent to
<dir>/zookeeper_audit.log by a log4j 1.2 configuration written here: Debian's
ZooKeeper 3.8 logs through slf4j-log4j12 and /etc/zookeeper/conf/log4j.properties
(upstream 3.8 ships logback; its RFAAUDIT appender is the same appender)."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

import ports  # noqa: E402  (tests/ports.py)
AVIARY = os.environ.get("AVIARY_SERVER", os.path.join(REPO_ROOT, "build", "aviary-server"))
ZK_JARS = ["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar",
           "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-log4j12.jar",
           "/usr/share/java/log4j-1.2.jar"]

# ZooKeeper's RFAAUDIT appender (conf/log4j.properties of 3.6/3.7, logback.xml of 3.8).
LOG4J = """log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{{ISO8601}} - %-5p [%t:%C{{1}}@%L] - %m%n
log4j.logger.org.apache.zookeeper.audit.Slf4jAuditLogger=INFO, RFAAUDIT
log4j.additivity.org.apache.zookeeper.audit.Slf4jAuditLogger=false
log4j.appender.RFAAUDIT=org.apache.log4j.RollingFileAppender
log4j.appender.RFAAUDIT.File={dir}/zookeeper_audit.log
log4j.appender.RFAAUDIT.layout=org.apache.log4j.PatternLayout
log4j.appender.RFAAUDIT.layout.ConversionPattern=%d{{ISO8601}} %p %c{{2}}: %m%n
log4j.appender.RFAAUDIT.Threshold=INFO
log4j.appender.RFAAUDIT.MaxFileSize=10MB
log4j.appender.RFAAUDIT.MaxBackupIndex=10
"""


free_port = ports.free_port
START_ATTEMPTS = 3  # as tests/interop/harness.start_server


def ruok(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"ruok")
            return s.recv(16) == b"imok"
    except OSError:
        return False


class Server:
    def __init__(self, kind, extra_cfg=(), args=(), audit=True):
        self.kind = kind
        self.audit = audit
        self.dir = tempfile.mkdtemp(prefix=f"aviary-audit-{kind}-")
        self.port = free_port()
        self.cfg_path = os.path.join(self.dir, "zoo.cfg")
        self.audit_path = os.path.join(self.dir, "zookeeper_audit.log")
        self.extra_cfg = list(extra_cfg)
        self.args = list(args)
        self.proc = None
        os.makedirs(os.path.join(self.dir, "data"))
        self.write_cfg()

    @property
    def hostport(self):
        return f"127.0.0.1:{self.port}"

    def write_cfg(self, extra=None):
        lines = [f"dataDir={self.dir}/data", f"clientPort={self.port}", "clientPortAddress=127.0.0.1",
                 "tickTime=200", "maxClientCnxns=0", "admin.enableServer=false", "forceSync=no",
                 "4lw.commands.whitelist=*"]
        if self.audit:
            lines.append("audit.enable=true")
        if self.kind == "aviary" and self.audit:
            lines.append(f"aviary.audit.logFile={self.audit_path}")
        lines += self.extra_cfg if extra is None else extra
        with open(self.cfg_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=40.0):
        """Starts the server and waits for ruok. A client port taken by
        another process since it was chosen (the server exits saying so) is
        replaced by a new one, up to START_ATTEMPTS starts; the audit lines
        of a failed start are cut off again."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                audit_size = os.path.getsize(self.audit_path)
            except OSError:
                audit_size = None
            if self._start_once(timeout):
                return self
            if attempt == START_ATTEMPTS:
                raise RuntimeError(f"{self.kind}: client port still taken after {attempt} starts: "
                                   f"{self.output()[-2000:]}")
            if audit_size is None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.audit_path)
            else:
                os.truncate(self.audit_path, audit_size)
            self.port = free_port()
            ports.set_port(self.cfg_path, "clientPort", self.port)
        return self

    def _start_once(self, timeout):
        """True once ruok answers; False when the client port was taken."""
        out = open(os.path.join(self.dir, "stdout.log"), "wb")
        if self.kind == "zookeeper":
            log4j = os.path.join(self.dir, "log4j.properties")
            with open(log4j, "w") as f:
                f.write(LOG4J.format(dir=self.dir))
            cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", ":".join(ZK_JARS),
                   f"-Dlog4j.configuration=file:{log4j}", "-Dzookeeper.audit.enable=true",
                   "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
                   "org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg_path]
        else:
            cmd = [AVIARY] + self.args + [self.cfg_path]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if ports.bind_failed(self.output()):
                    return False
                raise RuntimeError(f"{self.kind} exited {self.proc.returncode}: {self.output()[-2000:]}")
            if ruok(self.port):
                return True
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.kind} did not answer ruok in {timeout}s")

    def output(self):
        with open(os.path.join(self.dir, "stdout.log"), errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM, as systemd stops it: ZooKeeper's shutdown hook logs serverStop."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (INFO|ERROR) audit\.Slf4jAuditLogger: (.*)$")


def audit_records(path):
    """[(level, {key: value})] of an audit file, in order; asserts the layout."""
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            assert m, f"not an audit line: {line!r}"
            pairs = m.group(3).split("\t")
            rec = {}
            keys = []
            for p in pairs:
                k, _, v = p.partition("=")
                keys.append(k)
                rec[k] = v
            rec["__keys__"] = tuple(keys)
            out.append((m.group(2), rec))
    return out


def wait_for(pred, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
