"""SASL GSSAPI (Kerberos) on the client port (issue 8) against a real MIT
KDC started on loopback by the test: the server's JAAS Krb5LoginModule
section (keytab + principal zookeeper/localhost@AVIARY.TEST), kazoo with
pure-sasl's GSSAPI (python3-kerberos) and zkCli.sh with a Krb5LoginModule
Client section; the authenticated principal as the `sasl` ACL id, with
kerberos.removeRealmFromPrincipal / removeHostFromPrincipal."""

import os

import pytest

import sasl_support as ss
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

pytestmark = pytest.mark.skipif(not ss.have_kdc(), reason="krb5-kdc not installed")


@pytest.fixture(scope="module")
def kdc():
    k = ss.Kdc().start()
    k.server_keytab = k.add_principal("zookeeper/localhost")
    k.client_keytab = k.add_principal("client")
    k.other_keytab = k.add_principal("other/localhost")
    yield k
    k.stop()


@pytest.fixture
def kerberos_server(kdc):
    started = []

    def start(extra_cfg=None):
        jaas = ss.write_jaas(os.path.join(kdc.dir, "server-jaas-%d.conf" % len(started)), {"Server": [(
            ss.KRB5_MODULE, {"useKeyTab": True, "keyTab": kdc.server_keytab, "storeKey": True,
                             "useTicketCache": False, "principal": "zookeeper/localhost@" + ss.REALM})]})
        srv = ss.start_sasl_server(jaas, extra_cfg=extra_cfg, env=kdc.env,
                                   jvm_props={"java.security.krb5.conf": kdc.krb5_conf})
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()


def gssapi_client(kdc, srv, name, keytab):
    cache = kdc.kinit(name, keytab)
    os.environ.update(kdc.env)
    os.environ["KRB5CCNAME"] = cache
    zk = KazooClient(hosts="localhost:%d" % srv.port, timeout=10,
                     sasl_options={"mechanism": "GSSAPI", "service": "zookeeper",
                                   "principal": "%s@%s" % (name, ss.REALM)})
    zk.start(timeout=20)
    return zk


def test_kazoo_gssapi_identity_is_the_principal(kdc, kerberos_server):
    srv = kerberos_server()
    zk = gssapi_client(kdc, srv, "client", kdc.client_keytab)
    anon = KazooClient(hosts=srv.hostport, timeout=10)
    anon.start(timeout=15)
    try:
        zk.create("/krb", b"k", acl=[make_acl("auth", "", all=True)])
        acl = zk.get_acls("/krb")[0]
        assert [(a.id.scheme, a.id.id) for a in acl] == [("sasl", "client@" + ss.REALM)]
        assert zk.get("/krb")[0] == b"k"
        with pytest.raises(NoAuthError):
            anon.get("/krb")
    finally:
        ss.stop_clients(zk, anon)


def test_kazoo_gssapi_remove_realm_and_host(kdc, kerberos_server):
    srv = kerberos_server({"kerberos.removeRealmFromPrincipal": "true",
                           "kerberos.removeHostFromPrincipal": "true"})
    zk = gssapi_client(kdc, srv, "other/localhost", kdc.other_keytab)
    try:
        zk.create("/short", b"s", acl=[make_acl("auth", "", all=True)])
        acl = zk.get_acls("/short")[0]
        assert [(a.id.scheme, a.id.id) for a in acl] == [("sasl", "other")]
    finally:
        ss.stop_clients(zk)


@pytest.mark.skipif(not os.path.exists(ss.ZKCLI), reason="zookeeper package not installed")
def test_zkcli_gssapi(kdc, kerberos_server):
    srv = kerberos_server()
    jaas = ss.write_jaas(os.path.join(kdc.dir, "client-jaas.conf"), {"Client": [(
        ss.KRB5_MODULE, {"useKeyTab": True, "keyTab": kdc.client_keytab, "storeKey": True,
                         "useTicketCache": False, "principal": "client@" + ss.REALM})]})
    out, err = ss.run_zkcli(srv, "whoami\ncreate /zkcli-krb x\nquit\n", client_jaas=jaas, host="localhost",
                            extra_jvmflags="-Djava.security.krb5.conf=%s" % kdc.krb5_conf)
    assert "sasl: client@" + ss.REALM in out, out + err
    assert "Created /zkcli-krb" in err, err
