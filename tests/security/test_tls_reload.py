"""Certificate reload without restart (ZooKeeper's client.certReload /
zookeeper.client.certReload, X509Util's file watcher): while kazoo
clients write over TLS, the server's key store and trust store files are
replaced; new handshakes use the new files, and no established session is
dropped (no SUSPENDED/LOST state, every write acknowledged)."""

import os
import shutil
import ssl
import socket
import threading
import time

import pytest
from kazoo.protocol.states import KazooState

import pki as pkimod
import waits


def served_cert_serial(port, pki):
    """The serial number of the certificate a new handshake is served."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_pem)
    key, cert, _ = pki.clients["alice"]
    ctx.load_cert_chain(cert, key)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            der = s.getpeercert(binary_form=True)
    from cryptography import x509
    return x509.load_der_x509_certificate(der).serial_number


def replace_file(path, data):
    """Written beside and renamed into place, as deployment tools do."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Load:
    """Writers over TLS that record every state change and failure."""

    def __init__(self, clients):
        self.clients = clients
        self.states = []
        self.errors = []
        self.acked = 0
        self.stop = threading.Event()
        for c in clients:
            c.add_listener(lambda st: self.states.append(st))
        self.threads = [threading.Thread(target=self.run, args=(i, c)) for i, c in enumerate(clients)]

    def run(self, i, c):
        path = "/load%d" % i
        c.ensure_path(path)
        n = 0
        while not self.stop.is_set():
            try:
                c.create("%s/n" % path, b"x" * 100, sequence=True)
                n += 1
                self.acked += 1
            except Exception as e:  # noqa: BLE001 - every failure is recorded
                self.errors.append(repr(e))
                return

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        for t in self.threads:
            t.join(10)


def test_rotation_under_load(start_tls_server, tls_kazoo, tls_socket, pki, tmp_path):
    key_store = str(tmp_path / "server.pem")
    trust_store = str(tmp_path / "trust.pem")
    shutil.copy(pki.server_pem, key_store)
    shutil.copy(pki.ca_pem, trust_store)
    srv = start_tls_server(**{"ssl.keyStore.location": key_store, "ssl.trustStore.location": trust_store,
                              "client.certReload": "true"})
    old_serial = served_cert_serial(srv.secure_port, pki)
    assert old_serial == pki.server.cert.serial_number

    # A second CA, and a client of it: refused until the trust store has it.
    ca2 = pkimod.Authority("Second CA")
    pki.add_client("carol", "CN=carol,O=Example", ca=ca2)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        s = tls_socket(srv.secure_port, client="carol")
        s.sendall(b"\x00" * 48)
        assert s.recv(1) != b""

    clients = [tls_kazoo(srv, client="alice") for _ in range(4)]
    sessions = [c.client_id[0] for c in clients]
    with Load(clients) as load:
        waits.wait_until(lambda: load.acked > 200, timeout=20, what="load running")
        # New server certificate (new key) from the same CA, and a trust
        # store with both CAs.
        new_server = pki.ca.issue("CN=localhost,O=Aviary,OU=rotated", server=True)
        replace_file(key_store, new_server.key_pem() + new_server.cert_pem())
        with open(pki.ca_pem, "rb") as f:
            both = f.read() + ca2.cert.public_bytes(pkimod.serialization.Encoding.PEM)
        replace_file(trust_store, both)
        waits.wait_until(lambda: "new handshakes use the reloaded certificates" in srv.log_tail(400000),
                         timeout=10, what="reload logged")
        waits.wait_until(lambda: served_cert_serial(srv.secure_port, pki) == new_server.cert.serial_number,
                         timeout=10, what="new certificate served")
        carol = tls_kazoo(srv, client="carol")  # the new CA is trusted now
        carol.create("/carol", b"hi")
        acked_at_rotation = load.acked
        waits.wait_until(lambda: load.acked > acked_at_rotation + 200, timeout=20, what="load after rotation")
    assert load.errors == []
    assert [s for s in load.states if s != KazooState.CONNECTED] == []  # never SUSPENDED or LOST
    assert [c.client_id[0] for c in clients] == sessions
    assert all(c.state == KazooState.CONNECTED for c in clients)
    total = sum(len(clients[0].get_children("/load%d" % i)) for i in range(len(clients)))
    assert total == load.acked


def test_no_reload_unless_enabled(start_tls_server, tls_kazoo, pki, tmp_path):
    key_store = str(tmp_path / "server.pem")
    shutil.copy(pki.server_pem, key_store)
    srv = start_tls_server(**{"ssl.keyStore.location": key_store})  # client.certReload defaults to false
    new_server = pki.ca.issue("CN=localhost,O=Aviary,OU=unused", server=True)
    replace_file(key_store, new_server.key_pem() + new_server.cert_pem())
    time.sleep(1.0)
    assert served_cert_serial(srv.secure_port, pki) == pki.server.cert.serial_number
    assert tls_kazoo(srv).exists("/") is not None


def test_reload_on_kubernetes_secret_swap(start_tls_server, tls_kazoo, pki, tmp_path):
    """A mounted Kubernetes secret: server.pem -> ..data/server.pem, and an
    update swaps the ..data link to a new directory (no event names the file)."""
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    shutil.copy(pki.server_pem, str(v1 / "server.pem"))
    new_server = pki.ca.issue("CN=localhost,O=Aviary,OU=k8s", server=True)
    new_server.write_pem(str(v2 / "server.pem"))
    os.symlink("v1", str(tmp_path / "..data"))
    os.symlink("..data/server.pem", str(tmp_path / "server.pem"))
    srv = start_tls_server(**{"ssl.keyStore.location": str(tmp_path / "server.pem"), "client.certReload": "true"})
    zk = tls_kazoo(srv)
    assert served_cert_serial(srv.secure_port, pki) == pki.server.cert.serial_number
    os.symlink("v2", str(tmp_path / "..data_tmp"))
    os.replace(str(tmp_path / "..data_tmp"), str(tmp_path / "..data"))  # the atomic writer's swap
    waits.wait_until(lambda: served_cert_serial(srv.secure_port, pki) == new_server.cert.serial_number,
                     timeout=10, what="the swapped secret served")
    assert zk.exists("/") is not None  # the established session is still served
