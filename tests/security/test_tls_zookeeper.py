"""The same zoo.cfg TLS settings on Apache ZooKeeper 3.8 (the Debian
package, NettyServerCnxnFactory): proof that the keys the security suite
gives Aviary are ZooKeeper's own, and that ZooKeeper derives the same x509
ids (the node alice protects with x509:<her DN> is hers on both)."""

import os

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, Permissions

import harness

ALICE = "CN=alice,OU=eng,O=Example"
# The server's Netty TLS handler needs netty-codec (and the client side
# netty-resolver), which Debian's zookeeper.jar manifest does not list.
EXTRA_JARS = ["/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"]


@pytest.fixture
def zookeeper_target(monkeypatch):
    if not os.path.exists(harness.ZK_JARS[0]):
        pytest.skip("Apache ZooKeeper (Debian package zookeeper) is not installed")
    monkeypatch.setenv("AVIARY_TARGET", "zookeeper")
    monkeypatch.setattr(harness, "ZK_JARS", harness.ZK_JARS + EXTRA_JARS)


@pytest.mark.parametrize("target", ["aviary", "zookeeper"])
def test_same_tls_config_same_x509_behaviour(request, pki, tls_kazoo, target):
    if target == "zookeeper":
        request.getfixturevalue("zookeeper_target")
    cfg = pki.server_cfg(**{"ssl.clientAuth": "want",
                            "X509AuthenticationProvider.superUser": "CN=admin,O=Example"})
    srv = harness.start_server(extra_cfg=cfg)
    srv.secure_port = cfg["secureClientPort"]
    try:
        alice = tls_kazoo(srv, client="alice", timeout=30)
        alice.create("/mine", b"a", acl=[ACL(Permissions.ALL, Id("x509", ALICE))])
        assert alice.get("/mine")[0] == b"a"
        with pytest.raises(NoAuthError):
            tls_kazoo(srv, client="bob", timeout=30).get("/mine")
        with pytest.raises(NoAuthError):
            tls_kazoo(srv, client=None, timeout=30).get("/mine")  # want: anonymous TLS is served
        assert tls_kazoo(srv, client="admin", timeout=30).get("/mine")[0] == b"a"  # superUser
    finally:
        srv.stop()
