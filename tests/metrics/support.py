"""Starting Aviary with the Prometheus metrics provider, scraping /metrics
and reading mntr, for the metrics suite (issue 9).

Owns: one temp dir + zoo.cfg + process per AviaryServer; every wait is
bounded; ports are free loopback ports (tests/ports.py), and a start whose
port was taken meanwhile is retried on new ones.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TESTDATA = os.path.join(HERE, "testdata")
PROMETHEUS_PROVIDER = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
sys.path.insert(0, os.path.join(REPO, "tests"))

import ports  # noqa: E402  (tests/ports.py)

free_port = ports.free_port
START_ATTEMPTS = 3  # as tests/interop/harness.start_server


def aviary_binary():
    b = os.environ.get("AVIARY_SERVER") or os.path.join(REPO, "build", "aviary-server")
    if not os.path.exists(b):
        raise RuntimeError("aviary-server not found: %s (set AVIARY_SERVER)" % b)
    return b


def four_letter(port, cmd, timeout=5.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        s.shutdown(socket.SHUT_WR)
        out, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                break
            out += d
    return out.decode("utf-8", "replace")


def mntr_lines(text):
    """[(key, raw value)] of a mntr answer, in order."""
    return [tuple(line.split("\t", 1)) for line in text.splitlines() if line]


class AviaryServer:
    def __init__(self, metrics_port=None, provider=PROMETHEUS_PROVIDER, extra=None):
        self.dir = tempfile.mkdtemp(prefix="aviary-metrics-")
        self.port = free_port()
        # A port the test chose (a busy one, on purpose) is never replaced.
        self.own_metrics_port = bool(provider) and metrics_port is None
        self.metrics_port = metrics_port if metrics_port is not None else free_port()
        lines = ["tickTime=2000", "dataDir=%s" % os.path.join(self.dir, "data"), "clientPort=%d" % self.port,
                 "clientPortAddress=127.0.0.1", "4lw.commands.whitelist=*", "admin.enableServer=false"]
        if provider:
            lines += ["metricsProvider.className=%s" % provider, "metricsProvider.httpHost=127.0.0.1",
                      "metricsProvider.httpPort=%d" % self.metrics_port]
        lines += ["%s=%s" % kv for kv in (extra or {}).items()]
        os.makedirs(os.path.join(self.dir, "data"))
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None

    def start(self, timeout=20.0):
        """Starts the server; returns once ruok answers imok and, with a
        metrics port of its own, /metrics is served. A port taken by another
        process between its choice and the bind (the log says so) is
        replaced by a new one, up to START_ATTEMPTS starts."""
        for attempt in range(1, START_ATTEMPTS + 1):
            taken = self._start_once(timeout)
            if taken is None:
                return self
            if attempt == START_ATTEMPTS:
                raise RuntimeError("aviary: %s port still taken after %d starts: %s"
                                   % (taken, attempt, self.log_tail()))
            self.stop(keep_dir=True)
            if taken == "client":
                self.port = free_port()
                ports.set_port(self.cfg, "clientPort", self.port)
            else:
                self.metrics_port = free_port()
                ports.set_port(self.cfg, "metricsProvider.httpPort", self.metrics_port)
        return self

    def _start_once(self, timeout):
        """None once serving; "client" or "metrics" when that port was taken."""
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([aviary_binary(), self.cfg], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if ports.bind_failed(self.log_tail()):
                    return "client"
                raise RuntimeError("aviary exited %s: %s" % (self.proc.returncode, self.log_tail()))
            try:
                if four_letter(self.port, "ruok", 1.0) == "imok":
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("aviary did not answer ruok: " + self.log_tail())
        # /metrics starts after the client port; a bind failure there is logged, not fatal.
        deadline = time.monotonic() + timeout
        while self.own_metrics_port and time.monotonic() < deadline:
            if "cannot serve /metrics" in self.log_tail(20000):
                return "metrics"
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=2.0):
                    return None
            except OSError:  # URLError, HTTPError too
                time.sleep(0.05)
        if self.own_metrics_port:
            raise RuntimeError("aviary did not serve /metrics on %d: %s" % (self.metrics_port, self.log_tail()))
        return None

    def log_tail(self, n=3000):
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")

    def hostport(self):
        return "127.0.0.1:%d" % self.port

    def stop(self, keep_dir=False):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def scrape(port, timeout=10.0):
    """(raw text, {family name: family}, {sample name: [samples]}) of /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {}
    for f in families.values():
        for s in f.samples:
            samples.setdefault(s.name, []).append(s)
    return text, families, samples


def value(samples, name, **labels):
    """A sample's value. prometheus-client's parser names a counter's sample
    <name>_total although the text has <name> (what Prometheus stores and
    the dashboard queries; test_prometheus checks the raw text)."""
    for s in samples.get(name, []) or samples.get(name + "_total", []):
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError("%s%s not in the scrape" % (name, labels))


def read_names(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
