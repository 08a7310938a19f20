"""Fixtures: an Aviary standalone server with its AdminServer on a free port,
and (for the field comparison) Apache ZooKeeper 3.8 with its Jetty
AdminServer, both on loopback."""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
sys.path.insert(0, os.path.join(HERE, "..", "ensemble"))

import harness  # noqa: E402
import http_admin  # noqa: E402



def digest_id(user, password):
    """DigestAuthenticationProvider.generateDigest("user:password")."""
    raw = hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()
    return "%s:%s" % (user, base64.b64encode(raw).decode())


SUPER_DIGEST = digest_id("super", "secret")

JETTY_JARS = ["jetty9-server", "jetty9-servlet", "jetty9-http", "jetty9-io", "jetty9-util", "jetty9-security",
              "servlet-api", "jackson-databind", "jackson-core", "jackson-annotations"]


# Client and AdminServer ports, an ensemble member's too: tests/ports.py.
free_port = harness.free_port


def wait_http(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            http_admin.request(port, "/commands/ruok", timeout=2.0)
            return  # any HTTP answer: it listens
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("no AdminServer on port %d" % port)


def admin_cfg(port, **extra):
    cfg = {"admin.enableServer": "true", "admin.serverPort": port, "admin.serverAddress": "127.0.0.1",
           "DigestAuthenticationProvider.superDigest": SUPER_DIGEST}
    cfg.update(extra)
    return cfg


def start_aviary(**extra):
    port = free_port()
    srv = harness.start_server(extra_cfg=admin_cfg(port, **extra))
    srv.admin_port = port
    wait_http(port)
    return srv


@pytest.fixture
def aviary():
    srv = start_aviary(**{"admin.rateLimiterIntervalInMS": "1500"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def aviary_shared():
    srv = start_aviary()
    yield srv
    srv.stop()


def zk_classpath():
    return zk_classpath_with(harness.ZK_JARS)


def zk_classpath_with(zk_jars):
    """ZooKeeper's jars plus Jetty's for its AdminServer; None without Jetty."""
    jars = list(zk_jars)
    for name in JETTY_JARS:
        path = "/usr/share/java/%s.jar" % name
        if not os.path.exists(path):
            return None
        jars.append(path)
    return ":".join(jars)


class ZooKeeper:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="aviary-admin-zk-")
        self.port = free_port()
        self.admin_port = free_port()
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("tickTime=2000\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "admin.serverPort=%d\nadmin.serverAddress=127.0.0.1\n4lw.commands.whitelist=*\n"
                    % (self.dir, self.port, self.admin_port))
        self.log = open(os.path.join(self.dir, "zk.log"), "wb")
        self.proc = subprocess.Popen(
            ["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", zk_classpath(),
             "-Dzookeeper.admin.enableServer=true", "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(self.admin_port, timeout=60.0)

    @property
    def hostport(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def zookeeper():
    if zk_classpath() is None:
        pytest.skip("Jetty jars for ZooKeeper's AdminServer are not installed")
    zk = ZooKeeper()
    yield zk
    zk.stop()
