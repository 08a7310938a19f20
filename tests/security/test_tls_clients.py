"""The other real clients over TLS: Apache ZooKeeper's zkCli.sh (Java,
ClientCnxnSocketNetty with zookeeper.client.secure=true, PEM or PKCS12
stores made by the test, hostname verification on as by default), and the
C client where Debian's libzookeeper-mt was built with TLS."""

import ctypes
import ctypes.util
import os
import subprocess

import pytest

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
# Debian's zookeeper.jar manifest lists netty-handler but not netty-codec
# and netty-resolver, which ClientCnxnSocketNetty needs; zkCli.sh puts
# CLIENT_JVMFLAGS after its own -cp, so a -cp there (the last one wins)
# completes the class path. Plaintext zkCli (NIO socket) needs neither.
CLASSPATH = ":".join(["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar"] +
                     ["/usr/share/java/netty-%s.jar" % j for j in ("codec", "resolver")])


def run_zkcli(port, flags, script, timeout=40):
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = " ".join([
        "-cp", CLASSPATH,
        "-Dzookeeper.client.secure=true",
        "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
    ] + flags)
    return subprocess.run([ZKCLI, "-server", "127.0.0.1:%d" % port], input=script, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.skipif(not os.path.exists(ZKCLI), reason="zookeeper package not installed")
@pytest.mark.parametrize("stores", ["pem", "pkcs12"])
def test_zkcli_over_tls(start_tls_server, tls_kazoo, pki, tmp_path, stores):
    srv = start_tls_server()
    if "zkcli" not in pki.clients:
        pki.add_client("zkcli", "CN=zkcli")  # zkCli splits ACLs at commas: a one-RDN subject
    if stores == "pem":
        flags = ["-Dzookeeper.ssl.keyStore.location=%s" % pki.clients["zkcli"][2],
                 "-Dzookeeper.ssl.trustStore.location=%s" % pki.ca_pem]
    else:
        ks = pki.issued["zkcli"].write_p12(str(tmp_path / "zkcli.p12"), "alicepw")
        # A Java trust store: keytool marks the CA as a trusted entry.
        ts = str(tmp_path / "trust.p12")
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", pki.ca_pem,
                        "-keystore", ts, "-storetype", "PKCS12", "-storepass", "trustpw"],
                       check=True, capture_output=True, timeout=60)
        flags = ["-Dzookeeper.ssl.keyStore.location=%s" % ks, "-Dzookeeper.ssl.keyStore.password=alicepw",
                 "-Dzookeeper.ssl.trustStore.location=%s" % ts, "-Dzookeeper.ssl.trustStore.password=trustpw"]
    script = "\n".join([
        "create /cli hello",
        "create /cli/mine x509 x509:CN=zkcli:cdrwa",
        "get /cli/mine",
        "getAcl /cli/mine",
        "quit",
    ]) + "\n"
    p = run_zkcli(srv.secure_port, flags, script)
    out = p.stdout + p.stderr
    assert "Created /cli" in out, out[-3000:]
    assert "Created /cli/mine" in out, out[-3000:]
    lines = [x.strip() for x in p.stdout.splitlines()]
    assert "x509" in lines  # get /cli/mine: readable through the x509 ACL
    assert "'x509,'CN=zkcli" in out
    assert "WatchedEvent state:SyncConnected" in out
    # What the Java client wrote is seen by kazoo over TLS; bob may not read alice's node.
    assert tls_kazoo(srv).get("/cli")[0] == b"hello"
    from kazoo.exceptions import NoAuthError
    with pytest.raises(NoAuthError):
        tls_kazoo(srv, client="bob").get("/cli/mine")


def _zookeeper_mt():
    path = ctypes.util.find_library("zookeeper_mt") or "libzookeeper_mt.so.2"
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def test_c_client_tls_support():
    lib = _zookeeper_mt()
    if lib is None:
        pytest.skip("libzookeeper-mt is not installed")
    if not hasattr(lib, "zookeeper_init_ssl"):
        pytest.skip("Debian's libzookeeper-mt 3.8 is built without OpenSSL: it has no zookeeper_init_ssl, "
                    "so the C client cannot speak TLS (it only defines ZOO_SSL_CONNECTING_STATE)")
    pytest.fail("libzookeeper-mt has zookeeper_init_ssl now: add a C client TLS test")
