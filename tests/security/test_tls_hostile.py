"""Hostile TLS input against a running server: garbage records after a
good handshake, a flood of stalled handshakes, a handshake that never ends
growing; each closes only the offending connection (with a log line) while
a kazoo client over TLS keeps being served."""

import socket
import ssl
import time

import waits


def handshake_raw(port, pki, client="alice"):
    """A completed TLS handshake over a raw socket (ssl memory BIOs), so
    that bytes that are not TLS records can be sent afterwards."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_pem)
    key, cert, _ = pki.clients[client]
    ctx.load_cert_chain(cert, key)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(out.read())
            data = s.recv(65536)
            assert data, "closed during handshake"
            inc.write(data)
    s.sendall(out.read())
    return s


def test_garbage_records_after_handshake(start_tls_server, tls_kazoo, pki):
    srv = start_tls_server()
    good = tls_kazoo(srv)
    good.create("/g", b"1")
    s = handshake_raw(srv.secure_port, pki)
    s.sendall(b"\x17\x03\x03\x00\x20" + b"\xaa" * 32)  # an application record that does not decrypt
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    s.close()
    waits.wait_until(lambda: "TLS read failed" in srv.log_tail(200000), timeout=5)
    assert good.get("/g")[0] == b"1"


def test_stalled_handshake_flood(start_tls_server, tls_kazoo):
    srv = start_tls_server(**{"aviary.ssl.handshakeTimeoutMs": 1000})
    good = tls_kazoo(srv)
    stalled = []
    for _ in range(50):
        c = socket.create_connection(("127.0.0.1", srv.secure_port), timeout=5)
        c.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello header that never completes
        stalled.append(c)
    for i in range(20):  # served meanwhile
        good.create("/flood%d" % i, b"v")
    t0 = time.monotonic()
    for c in stalled:
        assert c.recv(10) == b""  # each closed by the server
        c.close()
    assert time.monotonic() - t0 < 5
    assert srv.log_tail(400000).count("TLS handshake not finished within 1000 ms") >= 50
    assert good.exists("/") is not None


def test_endless_handshake_bytes_bounded(start_tls_server, tls_kazoo):
    srv = start_tls_server()
    good = tls_kazoo(srv)
    with socket.create_connection(("127.0.0.1", srv.secure_port), timeout=10) as s:
        # A handshake record header claiming the maximum length, then filler:
        # OpenSSL rejects it, or the 256 KiB handshake bound closes it.
        s.sendall(b"\x16\x03\x01\x40\x00")
        sent = 0
        try:
            while sent < (1 << 20):
                s.sendall(b"\x00" * 16384)
                sent += 16384
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(5)
        got = b""
        try:
            while True:  # a TLS alert at most, then the close: not waiting for more
                d = s.recv(100)
                if not d:
                    break
                got += d
        except ConnectionResetError:
            pass
        assert got == b"" or got[0] == 0x15, got
    waits.wait_until(lambda: "closing 127.0.0.1" in srv.log_tail(200000), timeout=5)
    assert good.exists("/") is not None
    assert srv.alive()
