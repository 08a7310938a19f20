"""x509 authentication (issue 8 part 3, ZooKeeper's X509AuthenticationProvider):
a verified client certificate's subject, exactly as Java's
X500Principal.getName() prints it, becomes the connection's ("x509", DN)
identity; x509 ACLs grant by it; X509AuthenticationProvider.superUser is
a super user; without the provider an x509 ACL is InvalidACL."""

import os
import re
import shutil
import subprocess

import pytest
from kazoo.exceptions import InvalidACLError, NoAuthError
from kazoo.security import ACL, Id, Permissions

import pki as pkimod
import waits

HERE = os.path.dirname(os.path.abspath(__file__))
ALICE = "CN=alice,OU=eng,O=Example"
BOB = "CN=bob,O=Example"


def x509_acl(dn, perms=Permissions.ALL):
    return ACL(perms, Id("x509", dn))


def test_x509_identity_in_acl(start_tls_server, tls_kazoo):
    srv = start_tls_server()
    alice = tls_kazoo(srv, client="alice")
    bob = tls_kazoo(srv, client="bob")
    alice.create("/alice", b"secret", acl=[x509_acl(ALICE)])
    assert alice.get("/alice")[0] == b"secret"
    with pytest.raises(NoAuthError):
        bob.get("/alice")
    with pytest.raises(NoAuthError):
        bob.set("/alice", b"stolen")
    with pytest.raises(NoAuthError):
        bob.create("/alice/child")
    with pytest.raises(NoAuthError):
        bob.set_acls("/alice", [ACL(Permissions.ALL, Id("world", "anyone"))])
    # A plaintext client has no x509 identity.
    from kazoo.client import KazooClient
    plain = KazooClient(hosts=srv.hostport, timeout=10.0)
    plain.start(timeout=15)
    try:
        with pytest.raises(NoAuthError):
            plain.get("/alice")
    finally:
        plain.stop()
        plain.close()
    assert alice.get("/alice")[0] == b"secret"  # unchanged
    waits.wait_until(lambda: "Authenticated Id '%s' for Scheme 'x509'" % ALICE in srv.log_tail(200000))


def test_auth_scheme_expands_to_x509_id(start_tls_server, tls_kazoo):
    srv = start_tls_server()
    alice = tls_kazoo(srv, client="alice")
    alice.create("/auth", b"v", acl=[ACL(Permissions.READ | Permissions.WRITE, Id("auth", ""))])
    acls, _ = alice.get_acls("/auth")
    assert [(a.id.scheme, a.id.id) for a in acls] == [("x509", ALICE)]
    with pytest.raises(NoAuthError):
        tls_kazoo(srv, client="bob").get("/auth")


def test_super_user(start_tls_server, tls_kazoo):
    srv = start_tls_server(**{"X509AuthenticationProvider.superUser": "CN=admin,O=Example"})
    alice = tls_kazoo(srv, client="alice")
    alice.create("/private", b"p", acl=[x509_acl(ALICE, Permissions.READ)])
    admin = tls_kazoo(srv, client="admin")
    assert admin.get("/private")[0] == b"p"
    admin.set("/private", b"changed")  # super passes every check
    with pytest.raises(NoAuthError):
        tls_kazoo(srv, client="bob").get("/private")


def test_x509_acl_without_provider_is_invalid():
    import harness
    srv = harness.start_server()
    try:
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=srv.hostport, timeout=10.0)
        zk.start(timeout=15)
        try:
            with pytest.raises(InvalidACLError):
                zk.create("/x", b"", acl=[x509_acl(ALICE)])
        finally:
            zk.stop()
            zk.close()
    finally:
        srv.stop()


def test_x509_provider_without_tls_accepts_acls():
    import harness
    srv = harness.start_server(extra_cfg={
        "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider"})
    try:
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=srv.hostport, timeout=10.0)
        zk.start(timeout=15)
        try:
            zk.create("/x", b"", acl=[x509_acl(ALICE)])
            with pytest.raises(NoAuthError):
                zk.get("/x")
        finally:
            zk.stop()
            zk.close()
    finally:
        srv.stop()


# Subjects whose RFC 2253 form exercises every rule: escapes, leading and
# trailing spaces, multi-valued RDNs, keywords vs dotted OIDs (hex DER),
# non-ASCII.
TRICKY = [
    [("C", "US"), ("O", "Example, Inc."), ("OU", "R&D + QA"), ("CN", '  alice =#; <x> "q" \\ ')],
    [("DC", "com"), ("DC", "example"), [("CN", "multi"), ("UID", "u1")], ("EMAIL", "a@b.c")],
    [("CN", "Ünïcødé 名前"), ("T", "boss"), ("SERIALNUMBER", "123"), ("STREET", "1 Main St")],
    [("CN", "#hash"), ("L", "trail ")],
]


@pytest.mark.skipif(shutil.which("javac") is None,
                    reason="no JDK (javac) to run the X500Principal.getName() program as a source file")
def test_dn_matches_java_x500principal(start_tls_server, tls_kazoo, pki, tmp_path):
    names = []
    for i, subject in enumerate(TRICKY):
        pki.add_client("tricky%d" % i, subject)
        names.append("tricky%d" % i)
    certs = [pki.clients[n][1] for n in names]
    java = subprocess.run(["java", os.path.join(HERE, "X500Name.java")] + certs, capture_output=True,
                          text=True, timeout=60, encoding="utf-8")
    assert java.returncode == 0, java.stderr
    expected = java.stdout.splitlines()
    assert len(expected) == len(names)
    srv = start_tls_server()
    for name, dn in zip(names, expected):
        zk = tls_kazoo(srv, client=name)
        # The id the server derived must equal Java's string byte for byte:
        # the node is readable only through an ACL naming exactly that DN.
        path = "/" + name
        zk.create(path, b"mine", acl=[x509_acl(dn)])
        assert zk.get(path)[0] == b"mine"
        logged = re.findall(r"Authenticated Id '(.*)' for Scheme 'x509'", srv.log_tail(400000))
        assert dn in logged
