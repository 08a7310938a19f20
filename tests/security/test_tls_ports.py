"""Which ports speak what, and what stops the start: client.portUnification
(TLS and plaintext on clientPort, told apart by the first byte), JKS stores
refused with the keytool command that converts them (and that command
works), and store errors named at start."""

import os
import shutil
import subprocess

import pytest
from kazoo.client import KazooClient

import harness


def test_port_unification_serves_both(start_tls_server, tls_kazoo, pki):
    srv = start_tls_server(raw=True, **{
        "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "client.portUnification": "true",
        "ssl.keyStore.location": pki.server_pem, "ssl.trustStore.location": pki.ca_pem})
    secure = tls_kazoo(srv, port=srv.port)
    secure.create("/unified", b"tls")
    plain = KazooClient(hosts=srv.hostport, timeout=10.0)
    plain.start(timeout=15)
    try:
        assert plain.get("/unified")[0] == b"tls"
        plain.set("/unified", b"plain")
        assert secure.get("/unified")[0] == b"plain"
    finally:
        plain.stop()
        plain.close()
    assert srv.four_letter("ruok") == "imok"  # plaintext four-letter words too
    assert "x509" in srv.log_tail(100000)  # the TLS client got its identity


def _start_fails(cfg_extra, tmp_path):
    cfg = harness.write_config(str(tmp_path), harness.free_port(), cfg_extra)
    p = subprocess.run(harness.server_command(cfg), capture_output=True, text=True, timeout=30, cwd=str(tmp_path))
    assert p.returncode != 0, p.stdout + p.stderr
    return p.stdout + p.stderr


@pytest.mark.skipif(shutil.which("keytool") is None, reason="no keytool to make a JKS store")
def test_jks_refused_with_conversion_command(pki, tmp_path, start_tls_server, tls_kazoo):
    jks = str(tmp_path / "server.jks")
    subprocess.run(["keytool", "-importkeystore", "-noprompt", "-srckeystore", pki.server_p12, "-srcstoretype",
                    "PKCS12", "-srcstorepass", "srvpass", "-destkeystore", jks, "-deststoretype", "JKS",
                    "-deststorepass", "srvpass"], check=True, capture_output=True, timeout=60)
    out = _start_fails(pki.server_cfg(**{"ssl.keyStore.location": jks, "ssl.keyStore.password": "srvpass"}),
                       tmp_path)
    assert "JKS store, which only Java can read" in out, out
    assert "keytool -importkeystore -srckeystore %s -srcstoretype JKS" % jks in out, out
    # A JKS file under a .p12 name is recognised by its content.
    disguised = str(tmp_path / "disguised.p12")
    shutil.copy(jks, disguised)
    assert "JKS store" in _start_fails(pki.server_cfg(**{"ssl.keyStore.location": disguised}), tmp_path)
    # The suggested command converts it, and the result serves.
    line = [x for x in out.splitlines() if "keytool -importkeystore" in x][0].strip()
    cmd = line.split() + ["-srcstorepass", "srvpass", "-deststorepass", "srvpass", "-noprompt"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    converted = jks[:-4] + ".p12"
    srv = start_tls_server(**{"ssl.keyStore.location": converted, "ssl.keyStore.password": "srvpass"})
    assert tls_kazoo(srv).exists("/") is not None


@pytest.mark.parametrize("extra,needle", [
    ({"ssl.keyStore.location": "/nonexistent/server.pem"}, "cannot open /nonexistent/server.pem"),
    ({"ssl.keyStore.password": "s3cr3t-pw", "ssl.keyStore.location": "@p12"}, "ssl.keyStore.location"),
    ({"ssl.keyStore.location": "@noext"}, "ssl.keyStore.type is not set"),
    ({"ssl.trustStore.location": None}, "ssl.clientAuth=need (the default) needs ssl.trustStore.location"),
    ({"ssl.enabledProtocols": "SSLv3"}, "ssl.enabledProtocols: unsupported protocol 'SSLv3'"),
    ({"ssl.authProvider": "foo"}, "No auth provider configured for the SSL authentication scheme 'foo'"),
    ({"ssl.quorum.clientAuth": "want"}, "quorum TLS without client certificates"),
])
def test_start_errors_name_the_key(pki, tmp_path, extra, needle):
    cfg = pki.server_cfg()
    for k, v in extra.items():
        if v is None:
            cfg.pop(k)
        elif v == "@p12":
            cfg[k] = pki.server_p12
        elif v == "@noext":
            shutil.copy(pki.server_pem, str(tmp_path / "server.key"))
            cfg[k] = str(tmp_path / "server.key")
        else:
            cfg[k] = v
    out = _start_fails(cfg, tmp_path)
    assert needle in out, out
    assert "s3cr3t-pw" not in out  # passwords are never echoed


def test_tls_only_without_client_port(pki, tmp_path, tls_kazoo):
    """secureClientPort without clientPort: no plaintext listener at all."""
    secure = harness.free_port()
    data = tmp_path / "data"
    data.mkdir()
    cfg = tmp_path / "zoo.cfg"
    lines = ["tickTime=100", "dataDir=%s" % data, "admin.enableServer=false", "4lw.commands.whitelist=*"]
    lines += ["%s=%s" % kv for kv in pki.server_cfg(secureClientPort=secure, secureClientPortAddress="127.0.0.1").items()]
    cfg.write_text("\n".join(lines) + "\n")
    log = open(str(tmp_path / "server.log"), "wb")
    proc = subprocess.Popen(harness.server_command(str(cfg)), stdout=log, stderr=subprocess.STDOUT,
                            cwd=str(tmp_path), start_new_session=True)
    try:
        class Srv:
            secure_port = secure
        import waits
        waits.wait_until(lambda: b"serving clients on" in (tmp_path / "server.log").read_bytes(), timeout=20)
        zk = tls_kazoo(Srv())
        zk.create("/only-tls", b"1")
        out = (tmp_path / "server.log").read_text()
        assert "no plaintext port, TLS on 127.0.0.1:%d" % secure in out, out
        # The only listening socket the process has is the TLS one.
        inodes = {os.readlink("/proc/%d/fd/%s" % (proc.pid, fd)) for fd in os.listdir("/proc/%d/fd" % proc.pid)}
        listening = []
        for table in ("/proc/%d/net/tcp" % proc.pid, "/proc/%d/net/tcp6" % proc.pid):
            for row in open(table).read().splitlines()[1:]:
                f = row.split()
                if f[3] == "0A" and "socket:[%s]" % f[9] in inodes:  # 0A = LISTEN
                    listening.append(int(f[1].split(":")[1], 16))
        assert listening == [secure], listening
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
