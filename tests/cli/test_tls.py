"""`aviary` over TLS (zkCli.sh's zookeeper.client.secure=true with the
zookeeper.ssl.* properties in -client-configuration) against an Aviary
server's secureClientPort; certificates made here with the openssl CLI.

- with the client certificate and the CA: commands run over TLS (the
  server sees the x509 identity);
- no client certificate (the server's default ssl.clientAuth=need), a trust
  store of another CA, or hostname verification against a certificate that
  does not name the host: the connection fails, nothing is created;
- PKCS12 stores work as PEM ones;
- the same settings as -Dzookeeper.* flags in CLIENT_JVMFLAGS / JVMFLAGS
  (what zkCli.sh hands its JVM), under the file's.
"""

import os
import subprocess

import pytest

import conftest
import harness

DAYS = "2"


def _openssl(d, *args):
    subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True, timeout=60)


def _issue(d, ca, name, subject, san=None):
    _openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", subject)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
        if san:
            f.write("subjectAltName=" + san + "\n")
    _openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".crt", "-days", DAYS, "-extfile", name + ".ext")
    with open(os.path.join(d, name + ".pem"), "wb") as out:  # ZooKeeper's PEM store: key + certificate
        for ext in (".key", ".crt"):
            with open(os.path.join(d, name + ext), "rb") as f:
                out.write(f.read())
    return os.path.join(d, name + ".pem")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cli-tls"))
    for ca in ("ca", "rogue"):
        _openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem",
                 "-days", DAYS, "-subj", "/CN=" + ca)
    p = {"dir": d, "ca": os.path.join(d, "ca.pem"), "rogue_ca": os.path.join(d, "rogue.pem")}
    p["server"] = _issue(d, "ca", "server", "/CN=localhost", san="DNS:localhost,IP:127.0.0.1")
    p["other_server"] = _issue(d, "ca", "other", "/CN=elsewhere", san="DNS:elsewhere.example")
    p["client"] = _issue(d, "ca", "client", "/O=Aviary/CN=cli-user")
    _openssl(d, "pkcs12", "-export", "-in", "client.crt", "-inkey", "client.key", "-out", "client.p12",
             "-passout", "pass:clipass")
    p["client_p12"] = os.path.join(d, "client.p12")
    return p


@pytest.fixture(scope="module")
def tls_server(pki):
    port = harness.free_port()
    srv = harness.start_server(extra_cfg={
        "secureClientPort": port,
        "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.keyStore.location": pki["server"], "ssl.trustStore.location": pki["ca"]})
    srv.secure_port = port
    yield srv
    srv.stop()


def _config(tmp_path, name, **props):
    f = tmp_path / (name + ".properties")
    f.write_text("".join("%s=%s\n" % kv for kv in props.items()))
    return str(f)


def _run(port, cfg, *args, host="127.0.0.1"):
    return conftest.run_cli("%s:%d" % (host, port), "-timeout", "4000", "-client-configuration", cfg, *args)


GOOD = {"zookeeper.client.secure": "true", "zookeeper.clientCnxnSocket": "org.apache.zookeeper.ClientCnxnSocketNetty"}


def test_commands_over_tls(pki, tls_server, tmp_path):
    cfg = _config(tmp_path, "good", **GOOD, **{"zookeeper.ssl.keyStore.location": pki["client"],
                                                "zookeeper.ssl.trustStore.location": pki["ca"]})
    r = _run(tls_server.secure_port, cfg, "create", "/cli-tls", "over-tls")
    assert r.rc == 0 and r.err.strip() == "Created /cli-tls", r
    r = _run(tls_server.secure_port, cfg, "get", "/cli-tls")
    assert r.rc == 0 and r.out == "over-tls\n", r
    r = _run(tls_server.secure_port, cfg, "whoami")
    assert r.rc == 0 and "CN=cli-user,O=Aviary" in r.out, r  # the x509 identity
    # The same data on the plaintext port: it was the server, over TLS.
    r = conftest.run_cli(tls_server.hostport, "get", "/cli-tls")
    assert r.out == "over-tls\n", r


def test_pkcs12_and_localhost(pki, tls_server, tmp_path):
    cfg = _config(tmp_path, "p12", **GOOD, **{"zookeeper.ssl.keyStore.location": pki["client_p12"],
                                               "zookeeper.ssl.keyStore.password": "clipass",
                                               "zookeeper.ssl.trustStore.location": pki["ca"]})
    r = _run(tls_server.secure_port, cfg, "ls", "/", host="localhost")
    assert r.rc == 0 and "zookeeper" in r.out, r


@pytest.mark.parametrize("case", ["no-client-cert", "other-ca", "plaintext-port"])
def test_refused_connections(pki, tls_server, tmp_path, case):
    props = dict(GOOD, **{"zookeeper.ssl.keyStore.location": pki["client"],
                          "zookeeper.ssl.trustStore.location": pki["ca"]})
    port = tls_server.secure_port
    if case == "no-client-cert":
        del props["zookeeper.ssl.keyStore.location"]
    elif case == "other-ca":
        props["zookeeper.ssl.trustStore.location"] = pki["rogue_ca"]
    else:
        port = tls_server.port
    r = _run(port, _config(tmp_path, case, **props), "create", "/refused-" + case)
    assert r.rc != 0 and r.out == "", r
    if case == "other-ca":
        assert "certificate" in r.err, r
    assert conftest.run_cli(tls_server.hostport, "stat", "/refused-" + case).rc != 0  # nothing created


def test_hostname_verification(pki, tmp_path):
    port = harness.free_port()
    srv = harness.start_server(extra_cfg={
        "secureClientPort": port, "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.keyStore.location": pki["other_server"], "ssl.trustStore.location": pki["ca"]})
    try:
        props = dict(GOOD, **{"zookeeper.ssl.keyStore.location": pki["client"],
                              "zookeeper.ssl.trustStore.location": pki["ca"]})
        r = _run(port, _config(tmp_path, "verify", **props), "ls", "/")
        assert r.rc != 0 and "certificate" in r.err, r  # the certificate names elsewhere.example
        props["zookeeper.ssl.hostnameVerification"] = "false"
        r = _run(port, _config(tmp_path, "noverify", **props), "ls", "/")
        assert r.rc == 0 and "zookeeper" in r.out, r
    finally:
        srv.stop()


def test_bad_store_is_named(pki, tls_server, tmp_path):
    cfg = _config(tmp_path, "bad", **GOOD, **{"zookeeper.ssl.keyStore.location": pki["client_p12"],
                                               "zookeeper.ssl.keyStore.password": "wrong",
                                               "zookeeper.ssl.trustStore.location": pki["ca"]})
    r = _run(tls_server.secure_port, cfg, "ls", "/")
    assert r.rc != 0 and "zookeeper.ssl.keyStore" in r.err, r


def _flags(props):
    return " ".join("-D%s=%s" % kv for kv in props.items())


def test_tls_from_jvm_flags(pki, tls_server, tmp_path):
    """zkCli.sh's CLIENT_JVMFLAGS / JVMFLAGS -Dzookeeper.* flags: read as
    ZKClientConfig reads its system properties (JVMFLAGS after
    CLIENT_JVMFLAGS; a -client-configuration file overrides both)."""
    good = dict(GOOD, **{"zookeeper.ssl.keyStore.location": pki["client"],
                         "zookeeper.ssl.trustStore.location": pki["ca"]})
    rogue = dict(good, **{"zookeeper.ssl.trustStore.location": pki["rogue_ca"]})
    hostport = "127.0.0.1:%d" % tls_server.secure_port

    def run(env_flags, *args):
        env = {k: v for k, v in os.environ.items() if k not in ("CLIENT_JVMFLAGS", "JVMFLAGS")}
        env.update(env_flags)
        return conftest.run_cli(hostport, "-timeout", "4000", *args, env=env)

    r = run({"CLIENT_JVMFLAGS": "-Xmx256m " + _flags(good) + " -Dlog4j.debug"}, "create", "/cli-jvmflags", "v")
    assert r.rc == 0 and r.err.strip() == "Created /cli-jvmflags", r
    r = run({"CLIENT_JVMFLAGS": _flags(good)}, "whoami")
    assert r.rc == 0 and "CN=cli-user,O=Aviary" in r.out, r  # the x509 identity: it was TLS
    r = run({}, "stat", "/cli-jvmflags")  # no flags: plaintext to the TLS port fails
    assert r.rc != 0, r
    r = run({"CLIENT_JVMFLAGS": _flags(rogue)}, "create", "/cli-jvmflags-rogue")
    assert r.rc != 0 and "certificate" in r.err, r
    # JVMFLAGS comes after CLIENT_JVMFLAGS on zkCli.sh's java command line.
    r = run({"CLIENT_JVMFLAGS": _flags(rogue), "JVMFLAGS": "-Dzookeeper.ssl.trustStore.location=" + pki["ca"]},
            "get", "/cli-jvmflags")
    assert r.rc == 0 and r.out == "v\n", r
    # The -client-configuration file wins over the flags.
    cfg = _config(tmp_path, "over-flags", **{"zookeeper.ssl.trustStore.location": pki["ca"]})
    r = run({"CLIENT_JVMFLAGS": _flags(rogue)}, "-client-configuration", cfg, "get", "/cli-jvmflags")
    assert r.rc == 0 and r.out == "v\n", r
    # A SASL login asked for in the flags is refused, as in the file.
    r = run({"CLIENT_JVMFLAGS": _flags(good) + " -Dzookeeper.sasl.clientconfig=Client"}, "ls", "/")
    assert r.rc == 2 and r.err.startswith("Error: CLIENT_JVMFLAGS / JVMFLAGS: zookeeper.sasl.clientconfig"), r
    assert conftest.run_cli(tls_server.hostport, "stat", "/cli-jvmflags-rogue").rc != 0  # nothing created
