"""TLS on the client port (issue 8 part 2): kazoo over TLS on
secureClientPort beside the plaintext clientPort, PEM and PKCS12 stores,
ssl.clientAuth none/want/need, refusals (no client certificate under need,
expired certificate, wrong CA, plaintext on the TLS port, a stalled
handshake), each with a log line and with other clients unaffected."""

import socket
import ssl
import struct
import time

import pytest

import waits


def log_has(srv, text, timeout=5.0):
    waits.wait_until(lambda: text in srv.log_tail(200000), timeout=timeout, what="log line %r" % text)
    return True


def test_kazoo_over_tls_beside_plaintext(start_tls_server, tls_kazoo, pki):
    srv = start_tls_server()
    # A 10 s session: kazoo drops a connection that stays silent for two
    # windows of a third of it. The 500 pipelined creates below once took
    # that long on an ASan server: each one re-hashed /tls's 300 KB of data
    # for the tree digest with a CRC that ran at 27-66 ns a byte in that
    # build (zlib's now; tests/interop/test_scale.py checks the cost).
    secure = tls_kazoo(srv)
    secure.create("/tls", b"over-tls")
    # The plaintext port still serves, the same tree.
    from kazoo.client import KazooClient
    plain = KazooClient(hosts=srv.hostport, timeout=10.0)
    plain.start(timeout=15)
    try:
        assert plain.get("/tls")[0] == b"over-tls"
        plain.set("/tls", b"x" * 300000)  # a large reply crosses many TLS records
        assert secure.get("/tls")[0] == b"x" * 300000
    finally:
        plain.stop()
        plain.close()
    # Pipelined requests over TLS: many async requests in flight at once.
    results = [secure.create_async("/tls/n%04d" % i, b"v") for i in range(500)]
    for r in results:
        r.get(timeout=10)
    assert len(secure.get_children("/tls")) == 500


def _read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "closed after %d/%d bytes" % (len(buf), n)
        buf += chunk
    return buf


def test_each_reply_is_its_own_tls_record(start_tls_server, tls_socket):
    """kazoo waits on select() between replies, which does not see bytes
    OpenSSL already decrypted: a reply sharing a record with the one before
    it is stranded until the next record arrives (the heartbeat then times
    out). So after reading any one whole reply nothing may be left pending."""
    import rawzk
    srv = start_tls_server()
    s = tls_socket(srv.secure_port)
    s.sendall(rawzk.connect_request())
    (n,) = struct.unpack(">i", _read_exact(s, 4))
    _read_exact(s, n)
    path = rawzk.j_string("/") + rawzk.j_bool(False)
    batch = b"".join(rawzk.frame(rawzk.j_int(xid) + rawzk.j_int(rawzk.OP_EXISTS) + path)
                     for xid in range(1, 201))
    s.sendall(batch)  # 200 pipelined requests in one write: their replies are written together
    time.sleep(0.3)
    for xid in range(1, 201):
        (n,) = struct.unpack(">i", _read_exact(s, 4))
        body = _read_exact(s, n)
        assert struct.unpack(">i", body[:4])[0] == xid
        assert s.pending() == 0, "reply %d shares its TLS record with the next reply" % xid


def test_pkcs12_stores(start_tls_server, tls_kazoo, pki):
    srv = start_tls_server(**{
        "ssl.keyStore.location": pki.server_p12, "ssl.keyStore.password": "srvpass",
        "ssl.trustStore.location": pki.ca_p12, "ssl.trustStore.password": "trustpass"})
    zk = tls_kazoo(srv)
    zk.create("/p12", b"ok")
    assert zk.get("/p12")[0] == b"ok"


def test_store_type_from_key_overrides_extension(start_tls_server, tls_kazoo, pki, tmp_path):
    import shutil
    store = str(tmp_path / "server.keystore")  # no known extension
    shutil.copy(pki.server_p12, store)
    srv = start_tls_server(**{"ssl.keyStore.location": store, "ssl.keyStore.type": "PKCS12",
                              "ssl.keyStore.password": "srvpass"})
    assert tls_kazoo(srv).exists("/") is not None


@pytest.mark.parametrize("mode", ["none", "want", "need"])
def test_client_auth_modes(start_tls_server, tls_kazoo, tls_socket, mode):
    srv = start_tls_server(**{"ssl.clientAuth": mode})
    with_cert = tls_kazoo(srv, client="alice")
    with_cert.create("/m", b"1")
    if mode == "need":
        # No certificate: the handshake fails, with a log line.
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            s = tls_socket(srv.secure_port, client=None)
            s.sendall(b"\x00\x00\x00\x00")
            s.recv(1)
        log_has(srv, "TLS handshake failed")
    else:
        anon = tls_kazoo(srv, client=None)
        assert anon.get("/m")[0] == b"1"
    assert with_cert.get("/m")[0] == b"1"  # unaffected


def _refused(tls_socket, port, client):
    try:
        s = tls_socket(port, client=client)
        s.sendall(b"\x00\x00\x00\x2c" + b"\x00" * 44)
        return s.recv(1) == b""
    except (ssl.SSLError, ConnectionError, OSError):
        return True


@pytest.mark.parametrize("client,reason", [
    ("expired", "certificate has expired"),
    ("rogue", "unable to get local issuer certificate"),
])
def test_bad_client_certificates_refused(start_tls_server, tls_kazoo, tls_socket, client, reason):
    srv = start_tls_server()
    good = tls_kazoo(srv)
    good.create("/ok", b"1")
    assert _refused(tls_socket, srv.secure_port, client)
    log_has(srv, reason)
    assert good.get("/ok")[0] == b"1"
    assert srv.alive()


def test_plaintext_client_on_tls_port_refused(start_tls_server, tls_kazoo):
    srv = start_tls_server()
    good = tls_kazoo(srv)
    with socket.create_connection(("127.0.0.1", srv.secure_port), timeout=5) as s:
        s.sendall(b"\x00\x00\x00\x2c" + b"\x00" * 44)  # a plaintext ConnectRequest frame
        assert s.recv(100) == b""
    log_has(srv, "not a TLS handshake on the TLS port")
    with socket.create_connection(("127.0.0.1", srv.secure_port), timeout=5) as s:
        s.sendall(b"ruok")
        assert s.recv(100) == b""
    good.create("/still", b"ok")
    assert srv.four_letter("ruok") == "imok"


def test_stalled_handshake_is_closed(start_tls_server, tls_kazoo):
    srv = start_tls_server(**{"aviary.ssl.handshakeTimeoutMs": 500})
    good = tls_kazoo(srv)
    with socket.create_connection(("127.0.0.1", srv.secure_port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        t0 = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - t0 < 4
    log_has(srv, "TLS handshake not finished within 500 ms")
    assert good.exists("/") is not None
