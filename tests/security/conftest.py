"""Fixtures for the security suite (issue 8). Generic on purpose: TLS and
x509 tests (test_tls*.py) use them; SASL fixtures live in sasl_support.py.

- `pki`: a test PKI made once per run in a temporary directory (pki.py):
  a CA and a rogue CA, the server's certificate (SAN localhost, 127.0.0.1)
  as PEM and PKCS12 stores, client certificates (alice, bob, admin, an
  expired one, one from the rogue CA).
- `start_tls_server(**cfg)`: an aviary-server (AVIARY_SERVER) with
  clientPort and secureClientPort, the PEM stores and the given zoo.cfg
  keys; `srv.secure_port`, `srv.log_tail()`; stopped after the test.
- `tls_kazoo(srv, client=...)`: a started kazoo client over TLS.
- `tls_socket(port, client=...)`: a raw TLS socket (ssl module), for
  handshakes that must fail.
- Every test is bounded by SIGALRM (SECURITY_TEST_TIMEOUT, default 60 s).
"""

import os
import socket
import ssl
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import harness  # noqa: E402
import pki as pkimod  # noqa: E402
import waits  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("SECURITY_TEST_TIMEOUT", "60"))
NETTY = "org.apache.zookeeper.server.NettyServerCnxnFactory"


@pytest.fixture(autouse=True)
def _bounded_test():
    with waits.time_limit(TEST_TIMEOUT):
        yield


class Pki:
    """Paths of the generated files. Clients: name -> (key, cert, pem_store)."""

    def __init__(self, root):
        self.root = root
        self.ca = pkimod.Authority("Aviary Test CA")
        self.rogue = pkimod.Authority("Rogue CA")
        p = lambda name: os.path.join(root, name)  # noqa: E731
        self.server = self.ca.issue("CN=localhost,O=Aviary", server=True)
        self.server_pem = self.server.write_pem(p("server.pem"))
        self.server_p12 = self.server.write_p12(p("server.p12"), "srvpass")
        self.ca_pem = self.ca.write_trust_pem(p("ca.pem"))
        self.ca_p12 = self.ca.write_trust_p12(p("ca.p12"), "trustpass")
        self.clients = {}
        self.issued = {}
        for name, subject, kw, ca in [
            ("alice", "CN=alice,OU=eng,O=Example", {}, self.ca),
            ("bob", "CN=bob,O=Example", {}, self.ca),
            ("admin", "CN=admin,O=Example", {}, self.ca),
            ("expired", "CN=old,O=Example", {"expired": True}, self.ca),
            ("rogue", "CN=mallory,O=Example", {}, self.rogue),
        ]:
            self.add_client(name, subject, ca, **kw)

    def add_client(self, name, subject, ca=None, **kw):
        issued = (ca or self.ca).issue(subject, **kw)
        p = lambda suffix: os.path.join(self.root, name + suffix)  # noqa: E731
        key, cert = issued.write_key_and_cert(p("-key.pem"), p("-cert.pem"))
        self.clients[name] = (key, cert, issued.write_pem(p("-store.pem")))
        self.issued[name] = issued
        return self.clients[name]

    def server_cfg(self, **extra):
        cfg = {
            "serverCnxnFactory": NETTY,
            "secureClientPort": harness.free_port(),
            "ssl.keyStore.location": self.server_pem,
            "ssl.trustStore.location": self.ca_pem,
        }
        cfg.update(extra)
        return cfg


@pytest.fixture(scope="session")
def pki():
    root = tempfile.mkdtemp(prefix="aviary-pki-")
    return Pki(root)


@pytest.fixture
def start_tls_server(pki):
    servers = []

    def start(raw=False, **extra):
        cfg = extra if raw else pki.server_cfg(**extra)
        srv = harness.start_server(extra_cfg=cfg)
        srv.secure_port = int(cfg["secureClientPort"]) if "secureClientPort" in cfg else None
        servers.append(srv)
        return srv

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def tls_kazoo(pki):
    clients = []

    def make(srv, client="alice", port=None, timeout=15, session_timeout=10.0, **kw):
        args = dict(use_ssl=True, ca=pki.ca_pem, verify_certs=True, timeout=session_timeout)
        if client is not None:
            key, cert, _ = pki.clients[client]
            args.update(keyfile=key, certfile=cert)
        args.update(kw)
        c = KazooClient(hosts="127.0.0.1:%d" % (port or srv.secure_port), **args)
        clients.append(c)
        c.start(timeout=timeout)
        return c

    yield make
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def tls_socket(pki):
    socks = []

    def connect(port, client="alice", timeout=5.0):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(pki.ca_pem)
        if client is not None:
            key, cert, _ = pki.clients[client]
            ctx.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        socks.append(s)
        return s

    yield connect
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
