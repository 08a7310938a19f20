"""HTTPS on the AdminServer (ZooKeeper's JettyAdminServer with
admin.forceHttps / admin.portUnification, and 3.9's admin.needClientAuth):
the ssl.quorum.* key and trust stores, made here with the openssl CLI.

- forceHttps: HTTPS answers, plain HTTP fails on the same port.
- portUnification: HTTP and HTTPS on one port (the first byte decides);
  plaintext connections count in insecure_admin_count.
- needClientAuth: no certificate or one from another CA is refused; the
  trust store's client certificate is served (and is an x509 identity for
  snapshot's Authorization: x509).
- the commands answer the same JSON over HTTPS as over HTTP.
- a missing store or a wrong password stops the start with the key's name.
- hostile peers (silent connections, garbage, a slow handshake, a flood of
  connections) neither crash the server nor keep others from the port.
"""

import http.client
import json
import os
import socket
import ssl
import subprocess
import time

import pytest

import conftest
import harness
import http_admin

OPENSSL_DAYS = "2"


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(d, ca, name, subject, server=False):
    """A key and a certificate signed by `ca` (files <name>.key / <name>.crt)."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", subject, cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
        if server:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
             "-out", name + ".crt", "-days", OPENSSL_DAYS, "-extfile", ext, cwd=d)


class Certs:
    def __init__(self, d):
        self.dir = d
        for ca, cn in (("ca", "Admin Test CA"), ("rogue", "Rogue CA")):
            _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem",
                     "-days", OPENSSL_DAYS, "-subj", "/CN=" + cn, cwd=d)
        _issue(d, "ca", "server", "/O=Aviary/CN=localhost", server=True)
        _issue(d, "ca", "client", "/O=Aviary/CN=admin-client")
        _issue(d, "rogue", "intruder", "/CN=intruder")
        p = lambda n: os.path.join(d, n)  # noqa: E731
        # ZooKeeper's PEM key store: the key and the certificate in one file.
        with open(p("server-store.pem"), "wb") as out:
            for n in ("server.key", "server.crt"):
                with open(p(n), "rb") as f:
                    out.write(f.read())
        _openssl("pkcs12", "-export", "-in", "server.crt", "-inkey", "server.key", "-out", "server.p12",
                 "-passout", "pass:srvpass", cwd=d)
        self.server_pem = p("server-store.pem")
        self.server_p12 = p("server.p12")
        self.ca_pem = p("ca.pem")
        self.client = (p("client.crt"), p("client.key"))
        self.intruder = (p("intruder.crt"), p("intruder.key"))


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("admin-https")))


def https_cfg(certs, **extra):
    cfg = {"ssl.quorum.keyStore.location": certs.server_pem, "ssl.quorum.trustStore.location": certs.ca_pem}
    cfg.update(extra)
    return cfg


def context(certs, client=None):
    ctx = ssl.create_default_context(cafile=certs.ca_pem)  # also checks the name: SAN IP 127.0.0.1
    if client is not None:
        ctx.load_cert_chain(*client)
    return ctx


def https(port, path, ctx, method="GET", headers=None, timeout=10.0):
    """(status, headers (lower-case names), body) over HTTPS."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def start(certs, **extra):
    """An Aviary with the AdminServer's HTTPS settings; waits until HTTPS answers."""
    port = conftest.free_port()
    srv = harness.start_server(extra_cfg=conftest.admin_cfg(port, **extra))
    srv.admin_port = port
    ctx = context(certs, certs.client)
    deadline = time.monotonic() + 30
    while True:
        try:
            https(port, "/commands/ruok", ctx, timeout=2.0)
            return srv
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                srv.stop()
                raise RuntimeError("no HTTPS AdminServer on port %d" % port)
            time.sleep(0.1)


def plain_fails(port):
    with pytest.raises((OSError, http.client.HTTPException)):
        http_admin.request(port, "/commands/ruok", timeout=5.0)


def test_force_https(certs):
    srv = start(certs, **https_cfg(certs, **{"admin.forceHttps": "true"}))
    try:
        status, headers, body = https(srv.admin_port, "/commands/ruok", context(certs))
        assert status == 200 and json.loads(body) == {"command": "ruok", "error": None}
        assert headers["strict-transport-security"] == "max-age=86400; includeSubDomains"
        status, _, body = https(srv.admin_port, "/commands", context(certs))
        assert status == 200 and b'<a href="/commands/ruok">ruok</a>' in body
        plain_fails(srv.admin_port)
        # The server is unharmed and HTTPS still answers.
        assert https(srv.admin_port, "/commands/ruok", context(certs))[0] == 200
        assert srv.four_letter("ruok").strip() == "imok"
    finally:
        srv.stop()


def test_port_unification_serves_both(certs):
    srv = start(certs, **https_cfg(certs, **{"admin.portUnification": "true"}))
    try:
        before = http_admin.command(srv.admin_port, "monitor")[1].get("insecure_admin_count")
        status, headers, body = http_admin.request(srv.admin_port, "/commands/ruok")
        assert status == 200 and json.loads(body)["command"] == "ruok"
        assert "strict-transport-security" not in headers
        status, headers, body = https(srv.admin_port, "/commands/ruok", context(certs))
        assert status == 200 and json.loads(body)["command"] == "ruok"
        assert "strict-transport-security" in headers
        after = http_admin.command(srv.admin_port, "monitor")[1].get("insecure_admin_count")
        assert after >= before + 2  # the ruok and this monitor over HTTP
    finally:
        srv.stop()


def test_need_client_auth(certs):
    srv = start(certs, **https_cfg(certs, **{"admin.forceHttps": "true", "admin.needClientAuth": "true"}))
    try:
        for client in (None, certs.intruder):
            with pytest.raises((OSError, http.client.HTTPException)):
                https(srv.admin_port, "/commands/ruok", context(certs, client))
        status, _, body = https(srv.admin_port, "/commands/ruok", context(certs, certs.client))
        assert status == 200 and json.loads(body)["command"] == "ruok"
    finally:
        srv.stop()


def test_x509_identity_for_authenticated_commands(certs):
    """3.9's Authorization: x509 takes the verified client certificate."""
    srv = start(certs, **https_cfg(certs, **{
        "admin.portUnification": "true", "admin.needClientAuth": "true", "admin.rateLimiterIntervalInMS": "0",
        "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider"}))
    try:
        status, headers, _ = https(srv.admin_port, "/commands/snapshot?streaming=false", context(certs, certs.client),
                                   headers={"Authorization": "x509"})
        assert status == 200 and "last_zxid" in headers
        status, _, _ = http_admin.request(srv.admin_port, "/commands/snapshot?streaming=false",
                                          headers={"Authorization": "x509"})
        assert status == 401  # plain HTTP has no certificate
    finally:
        srv.stop()


def test_pkcs12_key_store(certs):
    srv = start(certs, **https_cfg(certs, **{"admin.forceHttps": "true",
                                             "ssl.quorum.keyStore.location": certs.server_p12,
                                             "ssl.quorum.keyStore.password": "srvpass"}))
    try:
        assert https(srv.admin_port, "/commands/ruok", context(certs))[0] == 200
    finally:
        srv.stop()


@pytest.mark.parametrize("extra,needle", [
    ({"admin.forceHttps": "true"}, "ssl.quorum.keyStore.location"),
    ({"admin.portUnification": "true", "ssl.quorum.keyStore.location": "/nonexistent/server.pem"},
     "ssl.quorum.keyStore"),
    ({"admin.forceHttps": "true", "ssl.quorum.keyStore.location": "P12", "ssl.quorum.keyStore.password": "wrong"},
     "ssl.quorum.keyStore"),
    ({"admin.forceHttps": "true", "admin.needClientAuth": "true", "ssl.quorum.keyStore.location": "PEM"},
     "ssl.quorum.trustStore.location"),
])
def test_bad_store_stops_the_start(certs, tmp_path, extra, needle):
    extra = {k: {"P12": certs.server_p12, "PEM": certs.server_pem}.get(v, v) for k, v in extra.items()}
    cfg = harness.write_config(str(tmp_path), conftest.free_port(),
                               conftest.admin_cfg(conftest.free_port(), **extra))
    r = subprocess.run(harness.server_command(cfg), capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and needle in r.stderr, r.stderr


def _json_shape(v):
    if isinstance(v, dict):
        return {k: _json_shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_shape(x) for x in v[:1]]
    return type(v).__name__


# Answers that do not change between two calls on an idle server.
STABLE = {"ruok", "conf", "configuration", "environment", "dirs", "is_read_only", "get_trace_mask",
          "initial_configuration", "leader", "voting_view", "zabstate", "last_snapshot"}


def test_commands_same_json_over_https(certs):
    srv = start(certs, **https_cfg(certs, **{"admin.portUnification": "true"}))
    try:
        _, _, links = http_admin.request(srv.admin_port, "/commands")
        names = [line.split('">')[1].split("<")[0] for line in links.decode().splitlines() if line.startswith("<a ")]
        assert "ruok" in names and "monitor" in names
        ctx = context(certs)
        for name in names:
            if name in ("snapshot", "restore"):
                continue  # authenticated and rate limited: test_x509_identity_for_authenticated_commands
            status, _, body = http_admin.request(srv.admin_port, "/commands/" + name)
            status_s, _, body_s = https(srv.admin_port, "/commands/" + name, ctx)
            assert status == status_s, name
            plain, secure = json.loads(body), json.loads(body_s)
            if name in STABLE:
                assert plain == secure, name
            else:
                assert _json_shape(plain).keys() == _json_shape(secure).keys(), name
    finally:
        srv.stop()


def _hostile_cfg(certs):
    # admin.idleTimeout bounds the TLS handshake too (at most 10 s): 2 s here.
    return https_cfg(certs, **{"admin.portUnification": "true", "admin.idleTimeout": "2000"})


def test_hostile_peers_do_not_block_others(certs):
    srv = start(certs, **_hostile_cfg(certs))
    port = srv.admin_port
    socks = []
    try:
        # Silent connections, half a TLS record, garbage after a TLS record
        # type, and many more connections than the gate keeps (256).
        for i in range(320):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 4 == 1:
                s.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello header, then nothing
            elif i % 4 == 2:
                s.sendall(b"\x16" + os.urandom(300))
            socks.append(s)
        t0 = time.monotonic()
        status, _, _ = https(port, "/commands/ruok", context(certs), timeout=10)
        assert status == 200
        status, _, _ = http_admin.request(port, "/commands/ruok", timeout=10)
        assert status == 200
        assert time.monotonic() - t0 < 8
        # A silent connection is closed by the server once the handshake time is over.
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.monotonic()
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 8
        s.close()
    finally:
        for s in socks:
            s.close()
    try:
        assert srv.alive()
        assert https(port, "/commands/ruok", context(certs))[0] == 200
        assert srv.four_letter("ruok").strip() == "imok"
    finally:
        srv.stop()


def test_slow_handshake_is_bounded(certs):
    """A ClientHello dripped a byte at a time is cut at the handshake deadline."""
    srv = start(certs, **_hostile_cfg(certs))
    try:
        hello = _client_hello(certs)
        s = socket.create_connection(("127.0.0.1", srv.admin_port), timeout=10)
        t0 = time.monotonic()
        closed = False
        try:
            for b in hello:
                s.sendall(bytes([b]))
                time.sleep(0.25)
                if time.monotonic() - t0 > 8:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            try:
                s.settimeout(5)
                closed = s.recv(1) == b""
            except (ConnectionResetError, BrokenPipeError):
                closed = True
        assert closed and time.monotonic() - t0 < 9
        s.close()
        assert https(srv.admin_port, "/commands/ruok", context(certs))[0] == 200
    finally:
        srv.stop()


def _client_hello(certs):
    """The bytes of a real ClientHello (ssl's memory BIOs)."""
    ctx = context(certs)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()
