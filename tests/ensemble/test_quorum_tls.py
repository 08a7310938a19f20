"""Quorum TLS (issue 8 part 4): sslQuorum=true with ssl.quorum.* stores,
every quorum-port and election-port connection TLS with mutual certificate
authentication and (ZooKeeper's quorum default) hostname verification, so
the certificates carry SAN IP:127.0.0.1. Proven on all-Aviary ensembles and
mixed with Apache ZooKeeper 3.8 members (whose quorum TLS is JSSE sockets:
QuorumCnxManager, Learner, Leader), a member with a certificate from a
wrong CA, and the documented rolling enablement through portUnification.

The test PKI comes from tests/security/pki.py (python3-cryptography).
"""

import os
import socket
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "security"))

import ensemble  # noqa: E402
import pki as pkimod  # noqa: E402
from support import require  # noqa: E402

# ZooKeeper's quorum listener (UnifiedServerSocket, also when TLS-only)
# uses Netty's SslHandler, which needs netty-codec; Debian's zookeeper.jar
# manifest does not list it (docs/security/tls.md, Clients). Without it the
# ZooKeeper listener thread dies at the first connection.
NETTY_JARS = ["/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"]


@pytest.fixture(autouse=True)
def _zookeeper_with_netty_codec(monkeypatch):
    monkeypatch.setattr(ensemble, "ZK_JARS", ensemble.ZK_JARS + NETTY_JARS)


class QuorumPki:
    """A CA; a member certificate (SAN localhost, IP:127.0.0.1, server and
    client EKU) as a PEM key store; the CA as a PEM trust store; the same
    for a rogue CA."""

    def __init__(self, root):
        p = lambda name: os.path.join(root, name)  # noqa: E731
        ca = pkimod.Authority("Aviary Quorum CA")
        rogue = pkimod.Authority("Rogue CA")
        self.member_pem = ca.issue("CN=member,O=Aviary", server=True).write_pem(p("member.pem"))
        self.member_p12 = ca.issue("CN=member,O=Aviary", server=True).write_p12(p("member.p12"), "qpass")
        self.ca_pem = ca.write_trust_pem(p("ca.pem"))
        self.rogue_pem = rogue.issue("CN=member,O=Aviary", server=True).write_pem(p("rogue.pem"))
        # A good CA's certificate without 127.0.0.1 in its SAN.
        self.noip_pem = ca.issue("CN=elsewhere,O=Aviary").write_pem(p("noip.pem"))

    def cfg(self, ssl_quorum=True, store=None, unification=None):
        c = {
            "ssl.quorum.keyStore.location": store or self.member_pem,
            "ssl.quorum.keyStore.type": "PEM",
            "ssl.quorum.trustStore.location": self.ca_pem,
            "ssl.quorum.trustStore.type": "PEM",
        }
        if ssl_quorum is not None:
            c["sslQuorum"] = "true" if ssl_quorum else "false"
        if unification is not None:
            c["portUnification"] = "true" if unification else "false"
        return c


@pytest.fixture(scope="module")
def qpki(tmp_path_factory):
    return QuorumPki(str(tmp_path_factory.mktemp("quorum-pki")))


def write_read_everywhere(ens, clients, path, value):
    """Writes through the ensemble, then reads the value from every live
    member's own client port after it synced."""
    c = clients(ens.connect_string([m for m in ens.members if m.alive()]))
    c.ensure_path(path)
    c.set(path, value)
    target = ens.mark()
    for m in ens.members:
        if not m.alive():
            continue
        ens.wait_synced(m, target=target)
        direct = clients(m.hostport())
        direct.sync(path)
        assert direct.get(path)[0] == value, "member %d (%s)" % (m.sid, m.kind)


def tls_lines(member):
    """Aviary logs each quorum/election connection that opened over TLS."""
    return [ln for ln in member.log_since(0).splitlines()
            if ("quorum transport:" in ln or "election:" in ln) and "TLSv1." in ln]


def plaintext_refused(port, payload=b"\x00\x00\x00\x10plaintext-peer!!"):
    """A plaintext peer on a TLS-only port gets the connection closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(5)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            return True
        return True


def test_all_aviary_ssl_quorum(make_ensemble, clients, qpki):
    require(["aviary"] * 3)
    ens = make_ensemble(["aviary"] * 3, extra_cfg=qpki.cfg())
    ens.start()
    write_read_everywhere(ens, clients, "/tls", b"one")
    for m in ens.members:
        assert tls_lines(m), "member %d logged no TLS connection:\n%s" % (m.sid, m.log_tail())
    # Plaintext on the TLS-only ports is refused, with a clear log line,
    # and the ensemble is not disturbed.
    # (A follower closes quorum-port connections at once: the leader's.)
    for victim, port in [(ens.leader(), ens.leader().quorum_port), (ens.followers()[0], ens.followers()[0].election_port)]:
        before = victim.log_size()
        plaintext_refused(port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "not a TLS handshake" not in victim.log_since(before):
            time.sleep(0.1)
        assert "not a TLS handshake" in victim.log_since(before), victim.log_since(before)
    write_read_everywhere(ens, clients, "/tls", b"undisturbed")
    # The leader dies; the others elect over TLS and keep every write.
    old = ens.leader()
    old.kill()
    ens.wait_for_leader(60)
    write_read_everywhere(ens, clients, "/tls", b"two")
    old.start()
    write_read_everywhere(ens, clients, "/tls", b"three")


def test_pkcs12_stores(make_ensemble, clients, qpki):
    require(["aviary"] * 3)
    cfg = qpki.cfg(store=qpki.member_p12)
    cfg.update({"ssl.quorum.keyStore.type": "PKCS12", "ssl.quorum.keyStore.password": "qpass"})
    ens = make_ensemble(["aviary"] * 3, extra_cfg=cfg)
    ens.start()
    write_read_everywhere(ens, clients, "/p12", b"ok")


@pytest.mark.parametrize("kinds,leader_kind", [
    (["aviary", "zookeeper", "zookeeper"], "zookeeper"),  # 2 ZooKeeper + 1 Aviary
    (["zookeeper", "aviary", "aviary"], "aviary"),        # an Aviary leader serves a ZooKeeper follower
])
def test_mixed_ssl_quorum(make_ensemble, clients, qpki, kinds, leader_kind):
    require(kinds)
    ens = make_ensemble(kinds, extra_cfg=qpki.cfg())
    ens.start(first=ens.members[1:])  # the two highest ids elect first: member 3 leads
    ens.wait_for_leader(60)
    assert ens.leader().kind == leader_kind
    write_read_everywhere(ens, clients, "/mixed", b"tls")
    for m in ens.members:
        if m.kind == "aviary":
            assert tls_lines(m), "member %d logged no TLS connection:\n%s" % (m.sid, m.log_tail())
    # The follower of the other kind survives a leader change too.
    ens.leader().kill()
    ens.wait_for_leader(60)
    write_read_everywhere(ens, clients, "/mixed", b"after")


def wait_logged(members, text, timeout=30.0):
    """Waits until one of `members` has logged `text`."""
    deadline = time.monotonic() + timeout
    while not any(text in m.log_since(0) for m in members):
        assert time.monotonic() < deadline, "no member of %s logged %r within %.0fs:\n%s" % (
            [m.sid for m in members], text, timeout, "\n".join(m.log_tail() for m in members))
        time.sleep(0.2)


def start_without(ens, bad):
    """The other members elect a leader; then `bad` starts and tries to
    join, over and over, for a few seconds."""
    good = [m for m in ens.members if m is not bad]
    for m in good:
        m.start()
    ens.wait_for_leader(60, serving=good)
    bad.start()
    time.sleep(4)
    assert bad.alive(), bad.log_tail()


@pytest.mark.parametrize("store_attr,why", [
    ("rogue_pem", "certificate rejected"),   # signed by a CA the others do not trust
    ("noip_pem", "certificate rejected"),    # right CA, but 127.0.0.1 is not in its SAN
])
def test_untrusted_member_is_refused(make_ensemble, clients, qpki, store_attr, why):
    require(["aviary"] * 3)
    ens = make_ensemble(["aviary"] * 3, extra_cfg=qpki.cfg())
    bad = ens.members[2]
    bad.extra_cfg = qpki.cfg(store=getattr(qpki, store_attr))
    start_without(ens, bad)
    assert bad.mode() not in ("leader", "follower"), bad.log_tail()
    good = ens.members[:2]
    # The refusal is logged at the first attempt, which a loaded machine may
    # delay past the 4 s above: wait for the lines rather than assume them.
    wait_logged(good + [bad], why)
    wait_logged(good, "refused")
    c = clients(ens.connect_string(good))
    c.create("/still-quorate", b"yes")
    assert all(m.mode() in ("leader", "follower") for m in good)


def test_wrong_ca_member_mixed_with_zookeeper(make_ensemble, clients, qpki):
    """ZooKeeper members refuse Aviary's rogue certificate as well."""
    kinds = ["zookeeper", "zookeeper", "aviary"]
    require(kinds)
    ens = make_ensemble(kinds, extra_cfg=qpki.cfg())
    ens.members[2].extra_cfg = qpki.cfg(store=qpki.rogue_pem)
    start_without(ens, ens.members[2])
    assert ens.members[2].mode() not in ("leader", "follower"), ens.members[2].log_tail()
    c = clients(ens.connect_string(ens.members[:2]))
    c.create("/zk-quorate", b"yes")


def rolling_restart(ens, clients, cfg, value):
    for m in ens.members:
        m.extra_cfg = cfg
        m.stop()
        m.start()
        ens.wait_for_leader(60)
        ens.wait_synced(m)
    write_read_everywhere(ens, clients, "/rolling", value)


@pytest.mark.parametrize("kinds", [["aviary"] * 3, ["aviary", "zookeeper", "aviary"]])
def test_rolling_enablement(make_ensemble, clients, qpki, kinds):
    """zookeeperAdmin.md "Upgrading existing non-TLS cluster with no
    downtime": portUnification on; then sslQuorum on; then portUnification
    off - one rolling restart each, the ensemble serving throughout."""
    require(kinds)
    ens = make_ensemble(kinds)
    ens.start()
    write_read_everywhere(ens, clients, "/rolling", b"plain")
    rolling_restart(ens, clients, qpki.cfg(ssl_quorum=False, unification=True), b"step1")
    rolling_restart(ens, clients, qpki.cfg(ssl_quorum=True, unification=True), b"step2")
    rolling_restart(ens, clients, qpki.cfg(ssl_quorum=True, unification=False), b"step3")
    for m in ens.members:
        if m.kind == "aviary":
            assert tls_lines(m), m.log_tail()


def test_reload_cert_files(make_ensemble, clients, qpki):
    """sslQuorumReloadCertFiles=true: a member refused for its wrong-CA
    certificate joins once a good certificate replaces the store file,
    without a restart."""
    require(["aviary"] * 3)
    ens = make_ensemble(["aviary"] * 3, extra_cfg=qpki.cfg())
    bad = ens.members[2]
    store_dir = os.path.join(ens.root, "m3-stores")
    os.makedirs(store_dir)
    store = os.path.join(store_dir, "quorum.pem")
    with open(qpki.rogue_pem, "rb") as src, open(store, "wb") as dst:
        dst.write(src.read())
    bad.extra_cfg = dict(qpki.cfg(store=store), sslQuorumReloadCertFiles="true")
    start_without(ens, bad)
    assert bad.mode() not in ("leader", "follower")
    pid = bad.proc.pid
    with open(qpki.member_pem, "rb") as src:
        good = src.read()
    with open(store + ".tmp", "wb") as dst:
        dst.write(good)
    os.rename(store + ".tmp", store)  # as a secret rotation does: rename into place
    ens.wait_synced(bad, timeout=40)
    assert bad.proc.pid == pid and bad.alive()
    assert "quorum TLS: key/trust store changed" in bad.log_since(0), bad.log_tail()
    write_read_everywhere(ens, clients, "/reloaded", b"yes")


def test_hostile_peers_on_tls_ports(make_ensemble, clients, qpki):
    """Garbage after a TLS record byte, a handshake that never finishes and
    an oversized one: each closed with a log line; the ensemble serves on."""
    require(["aviary"] * 3)
    cfg = dict(qpki.cfg(), **{"aviary.ssl.quorum.handshakeTimeoutMs": "1000"})
    ens = make_ensemble(["aviary"] * 3, extra_cfg=cfg)
    ens.start()
    lead = ens.leader()
    follower = ens.followers()[0]
    for member, port in [(lead, lead.quorum_port), (follower, follower.election_port)]:
        before = member.log_size()
        # A TLS record header announcing a handshake, then junk.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x20" + os.urandom(32))
            s.settimeout(5)
            assert s.recv(4096) is not None  # an alert, or the close
        # A handshake that stalls: closed after the 1 s bound.
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01")
            s.settimeout(5)
            assert s.recv(4096) == b""
        assert time.monotonic() - t0 < 4.5
        # An endless stream of handshake records.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            try:
                s.sendall(b"\x16\x03\x01\x40\x00" + b"\x01" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
        deadline = time.monotonic() + 20  # the lines come at once unless the machine is loaded
        while time.monotonic() < deadline and (member.log_since(before).count("refused") < 2
                                               or "timed out" not in member.log_since(before)):
            time.sleep(0.1)
        log = member.log_since(before)
        assert log.count("refused") >= 2 and "timed out" in log, log
    write_read_everywhere(ens, clients, "/hostile", b"fine")
    assert all(m.alive() for m in ens.members)


@pytest.mark.parametrize("kinds", [["aviary"] * 3, ["zookeeper", "aviary", "aviary"], ["aviary", "zookeeper", "zookeeper"]])
def test_snap_over_tls(make_ensemble, clients, qpki, kinds):
    """A follower whose log the leader purged is synced by SNAP (a raw
    snapshot body after the SNAP packet) over the TLS quorum connection;
    with a mix, across kinds (Aviary leader to ZooKeeper follower, and
    ZooKeeper leader to Aviary follower)."""
    import checks
    require(kinds)
    ens = make_ensemble(kinds, snap_count=50, extra_cfg=qpki.cfg())
    ens.start(first=ens.members[1:])
    other = [m for m in ens.followers() if m.kind != ens.leader().kind]
    follower = (other or ens.followers())[0]
    modes, _ = checks.check_follower_catch_up(ens, clients, follower, txns=1500, purge=True)
    assert modes == ["SNAP"], modes
    write_read_everywhere(ens, clients, "/after-snap", b"ok")
