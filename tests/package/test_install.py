"""`cmake --install` into a temporary prefix: the tree it makes, the
installed binaries, and every example configuration started from them
(host names replaced by loopback with free ports): standalone, and the
3-node ensemble with its observer, which must elect a leader, take a write
through the observer and serve it from a follower."""

import os
import re
import signal
import stat
import subprocess

import pytest
from kazoo.client import KazooClient

from pkgsupport import BUILD_DIR, EXAMPLES, REPO_ROOT, cli_target_exists, four_letter, free_port, mode_of, project_version, run, wait_for

BINARIES = ["aviary-server", "aviary-dump", "aviary-bench"]


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    dest = root / "prefix"
    run(["cmake", "--install", BUILD_DIR, "--prefix", str(dest)])
    return dest


def test_install_tree(prefix):
    expected = list(BINARIES) + (["aviary"] if cli_target_exists() else [])
    for name in expected:
        path = prefix / "bin" / name
        assert path.is_file(), "missing bin/%s" % name
        assert os.stat(path).st_mode & stat.S_IXUSR
    doc = prefix / "share" / "doc" / "aviary"
    for rel in ["README.md", "OPERATIONS.md", "COMPATIBILITY.md", "security/tls.md",
                "examples/standalone.cfg", "examples/ensemble-3.cfg", "examples/observer.cfg",
                "examples/service/aviary.service", "examples/service/zoo.cfg",
                "examples/service/aviary.logrotate", "monitoring/aviary-alerts.yml"]:
        assert (doc / rel).is_file(), "missing share/doc/aviary/%s" % rel
    if os.path.isdir(os.path.join(REPO_ROOT, "docs", "monitoring")):  # alert rules, dashboards
        assert (doc / "monitoring").is_dir()
    # The system component (/etc, the unit) is the package's only: a plain
    # install writes nothing outside the prefix.
    manifest = open(os.path.join(BUILD_DIR, "install_manifest.txt")).read().split()
    outside = [p for p in manifest if not p.startswith(str(prefix) + "/")]
    assert outside == [], outside
    assert not (prefix / "etc").exists()


def test_installed_binaries_run(prefix):
    out = run([str(prefix / "bin" / "aviary-server"), "--version"]).stdout
    assert out.startswith("aviary-server %s " % project_version()), out
    p = subprocess.run([str(prefix / "bin" / "aviary-dump")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode != 0 and "backup" in p.stdout, p.stdout


class Server:
    """One installed aviary-server on a config written by the test."""

    def __init__(self, binary, cfg_path, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([binary, cfg_path], stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self):
        return open(self.log_path).read()


def localise(text, data_dir, ports):
    """An example config with its data directory and hosts made local:
    zkN.example.net:2888:3888 -> 127.0.0.1:<quorum>:<election>, ;2181 and
    clientPort=2181 -> the member's client port."""
    text = re.sub(r"(?m)^dataDir=.*$", "dataDir=" + data_dir, text)

    def member(m):
        n = int(m.group(1))
        return "127.0.0.1:%d:%d" % (ports[n]["quorum"], ports[n]["election"])

    text = re.sub(r"zk(\d)\.example\.net:2888:3888", member, text)
    for n, p in ports.items():
        text = re.sub(r"(?m)^(server\.%d=.*);2181$" % n, r"\1;%d" % p["client"], text)
    return text


def test_standalone_example(prefix, tmp_path):
    port = free_port()
    text = open(os.path.join(EXAMPLES, "standalone.cfg")).read()
    text = localise(text, str(tmp_path / "data"), {}).replace("clientPort=2181", "clientPort=%d" % port)
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text(text)
    srv = Server(str(prefix / "bin" / "aviary-server"), str(cfg), str(tmp_path / "server.log"))
    try:
        wait_for(lambda: mode_of(port), 20, "the standalone example to serve")
        assert mode_of(port) == "standalone"
        zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
        zk.start(timeout=10)
        try:
            zk.create("/example", b"standalone")
            assert zk.get("/example")[0] == b"standalone"
        finally:
            zk.stop()
            zk.close()
        assert four_letter(port, "ruok") == "imok"
    finally:
        assert srv.stop() == 0, srv.output()


def test_ensemble_and_observer_examples(prefix, tmp_path):
    ports = {n: {"client": free_port(), "quorum": free_port(), "election": free_port()} for n in (1, 2, 3, 4)}
    ensemble = open(os.path.join(EXAMPLES, "ensemble-3.cfg")).read()
    observer = open(os.path.join(EXAMPLES, "observer.cfg")).read()
    server4 = re.search(r"(?m)^server\.4=.*$", observer).group(0)
    servers = []
    try:
        for n in (1, 2, 3, 4):
            data = tmp_path / ("m%d" % n)
            data.mkdir()
            (data / "myid").write_text("%d\n" % n)  # as the example's comment says
            # The participants add the observer's server.4 line, as observer.cfg says.
            text = observer if n == 4 else ensemble + "\n" + server4 + "\n"
            text = localise(text, str(data), ports)
            text = text.replace("clientPort=2181", "clientPort=%d" % ports[n]["client"])
            assert "example.net" not in text and ";2181" not in text
            cfg = tmp_path / ("zoo%d.cfg" % n)
            cfg.write_text(text)
            servers.append(Server(str(prefix / "bin" / "aviary-server"), str(cfg), str(tmp_path / ("m%d.log" % n))))

        def modes():
            got = {n: mode_of(ports[n]["client"]) for n in ports}
            return got if None not in got.values() else None

        got = wait_for(modes, 60, "the example ensemble to elect a leader and sync")
        assert sorted(got[n] for n in (1, 2, 3)) == ["follower", "follower", "leader"], got
        assert got[4] == "observer", got
        via_observer = KazooClient(hosts="127.0.0.1:%d" % ports[4]["client"], timeout=10)
        via_observer.start(timeout=15)
        follower = next(n for n in (1, 2, 3) if got[n] == "follower")
        via_follower = KazooClient(hosts="127.0.0.1:%d" % ports[follower]["client"], timeout=10)
        via_follower.start(timeout=15)
        try:
            via_observer.create("/through-observer", b"written")
            via_follower.sync("/through-observer")
            assert via_follower.get("/through-observer")[0] == b"written"
        finally:
            for zk in (via_observer, via_follower):
                zk.stop()
                zk.close()
    finally:
        for s in servers:
            s.stop()
