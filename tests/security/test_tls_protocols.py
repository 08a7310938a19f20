"""ssl.protocol, ssl.enabledProtocols and ssl.ciphersuites as ZooKeeper 3.8
applies them (SSLContextAndOptions): by default only TLSv1.2 with
ZooKeeper's cipher list; the keys narrow or widen that; Java suite names."""

import socket
import ssl

import pytest


def negotiate(port, pki, max_version=None, min_version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_pem)
    key, cert, _ = pki.clients["alice"]
    ctx.load_cert_chain(cert, key)
    if max_version:
        ctx.maximum_version = max_version
    if min_version:
        ctx.minimum_version = min_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.version(), s.cipher()[0]


def test_default_is_tls12_with_zookeepers_suites(start_tls_server, pki):
    srv = start_tls_server()
    version, cipher = negotiate(srv.secure_port, pki)  # the client offers TLSv1.3 too
    assert version == "TLSv1.2"
    assert cipher in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384")
    with pytest.raises(ssl.SSLError):  # not in ZooKeeper's list: no AES-CBC without ECDHE, no CHACHA
        negotiate(srv.secure_port, pki, max_version=ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA:CHACHA20")


def test_protocol_tls13(start_tls_server, pki):
    srv = start_tls_server(**{"ssl.protocol": "TLSv1.3"})
    assert negotiate(srv.secure_port, pki)[0] == "TLSv1.3"
    with pytest.raises(ssl.SSLError):
        negotiate(srv.secure_port, pki, max_version=ssl.TLSVersion.TLSv1_2)


def test_enabled_protocols_list(start_tls_server, pki):
    srv = start_tls_server(**{"ssl.enabledProtocols": "TLSv1.2,TLSv1.3"})
    assert negotiate(srv.secure_port, pki)[0] == "TLSv1.3"
    assert negotiate(srv.secure_port, pki, max_version=ssl.TLSVersion.TLSv1_2)[0] == "TLSv1.2"


def test_ciphersuites_by_java_name(start_tls_server, pki):
    srv = start_tls_server(**{"ssl.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_NOT_A_SUITE"})
    assert negotiate(srv.secure_port, pki)[1] == "ECDHE-RSA-AES256-GCM-SHA384"
    with pytest.raises(ssl.SSLError):
        negotiate(srv.secure_port, pki, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    assert "ssl.ciphersuites: unknown cipher suite TLS_NOT_A_SUITE skipped" in srv.log_tail(100000)
