"""Fixtures and helpers of the SASL tests (tests/security/test_sasl*.py).

- JAAS files written per test; a server (Aviary, or Apache ZooKeeper 3.8
  with AVIARY_TARGET=zookeeper, to check the same behaviour against it)
  started by the interop harness with SASL configured: the JAAS path is
  given to Aviary as `aviary.sasl.jaasConfig` and to ZooKeeper as
  -Djava.security.auth.login.config.
- a raw SASL exchange (pure-sasl over tests/interop/rawzk) that shows the
  exact reply headers;
- `Kdc`: a real MIT Kerberos KDC on loopback (krb5kdc from krb5-kdc) in a
  temporary directory: realm AVIARY.TEST, the service principal
  zookeeper/localhost with its keytab, client principals with keytabs and a
  ticket cache made by kinit.
Everything runs in temporary directories on free loopback ports and is
bounded in time.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import harness  # noqa: E402
import rawzk  # noqa: E402

SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
DIGEST_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
KRB5_MODULE = "com.sun.security.auth.module.Krb5LoginModule"
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

OP_SASL = 102
ERR_AUTH_FAILED = -115
ERR_SESSION_CLOSED_REQUIRE_SASL_AUTH = -124


def target():
    return harness.target()


def write_jaas(path, sections):
    """sections: {name: [(module, {option: value})]} -> a JAAS file."""
    out = []
    for name, modules in sections.items():
        out.append("%s {" % name)
        for module, opts in modules:
            body = "".join('\n    %s="%s"' % (k, v) if not isinstance(v, bool) else
                           "\n    %s=%s" % (k, str(v).lower()) for k, v in opts.items())
            out.append("  %s required%s;" % (module, body))
        out.append("};")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def digest_server_jaas(path, users):
    return write_jaas(path, {"Server": [(DIGEST_MODULE, {"user_" + u: p for u, p in users.items()})]})


def start_sasl_server(jaas_path, extra_cfg=None, jvm_props=None, env=None):
    """A server with the SASL provider and `jaas_path` (None: no JAAS given)."""
    cfg = {"authProvider.1": SASL_PROVIDER}
    props = dict(jvm_props or {})
    if jaas_path:
        cfg["aviary.sasl.jaasConfig"] = jaas_path
        props["java.security.auth.login.config"] = jaas_path
    cfg.update(extra_cfg or {})
    # ZooKeeper reads these only as system properties.
    for k, v in (extra_cfg or {}).items():
        if k.startswith(("kerberos.", "superUser", "enforce.auth", "sessionRequire")):
            props["zookeeper." + k] = v
    with patched_env(env or {}):
        return harness.start_server(extra_cfg=cfg, jvm_props=props)


patched_env = harness.patched_env


def start_refused(cfg_extra, env=None, timeout=20.0):
    """Runs aviary-server on a config expected to be refused; returns (rc, output)."""
    workdir = tempfile.mkdtemp(prefix="aviary-sasl-refused-")
    try:
        cfg_path = harness.write_config(workdir, harness.free_port(), cfg_extra)
        run_env = dict(os.environ)
        run_env.update(env or {})
        p = subprocess.run(harness.server_command(cfg_path), capture_output=True, text=True, timeout=timeout,
                           env=run_env, cwd=workdir)
        return p.returncode, p.stdout + p.stderr
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def sasl_request(c, token, xid):
    c.send_request(OP_SASL, rawzk.j_buffer(token), xid=xid)
    r = rawzk.Reader(c.read_frame(timeout=5.0))
    hdr = (r.int(), r.long(), r.int())
    body = r.rest()
    return hdr, body


def raw_digest_exchange(srv, user, password):
    """DIGEST-MD5 over a raw session as the Java client runs it (empty first
    token, host zk-sasl-md5); returns (client, [reply headers], completed)."""
    import puresasl.client
    c = rawzk.RawClient(srv.host, srv.port, io_timeout=5.0)
    c.handshake(timeout_ms=10000)
    cli = puresasl.client.SASLClient("zk-sasl-md5", "zookeeper", mechanism="DIGEST-MD5", username=user,
                                     password=password)
    headers = []
    challenge = None
    xid = 0
    for _ in range(5):
        response = cli.process(challenge) if challenge is not None else b""
        if cli.complete and not response and challenge is not None:
            return c, headers, True
        xid += 1
        try:
            hdr, body = sasl_request(c, response or b"", xid)
        except rawzk.ConnectionClosed:
            return c, headers, False
        headers.append(hdr)
        if hdr[2] != 0:
            return c, headers, False
        r = rawzk.Reader(body)
        challenge = r.buffer()
    return c, headers, cli.complete


def wait_log(srv, needle, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in srv.log_tail(200000):
            return True
        time.sleep(0.05)
    return False


def run_zkcli(srv, script, client_jaas=None, extra_jvmflags="", timeout=40, host=None):
    """One zkCli.sh run fed `script` on stdin; returns (stdout, stderr)."""
    env = dict(os.environ)
    flags = extra_jvmflags
    if client_jaas:
        flags += " -Djava.security.auth.login.config=%s" % client_jaas
    env["CLIENT_JVMFLAGS"] = flags.strip()
    hostport = "%s:%d" % (host or srv.host, srv.port)
    p = subprocess.run([ZKCLI, "-server", hostport], input=script, capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p.stdout, p.stderr


# -- Kerberos -------------------------------------------------------------

REALM = "AVIARY.TEST"


class Kdc:
    """An MIT KDC for REALM on 127.0.0.1 in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="aviary-kdc-")
        self.port = harness.free_port()  # tests/ports.py
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.kdc_conf = os.path.join(self.dir, "kdc.conf")
        self.proc = None
        with open(self.krb5_conf, "w") as f:
            f.write("""[libdefaults]
  default_realm = {realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  default_ccache_name = FILE:{d}/ccache-default
[realms]
  {realm} = {{
    kdc = 127.0.0.1:{port}
  }}
[domain_realm]
  localhost = {realm}
""".format(realm=REALM, port=self.port, d=self.dir))
        with open(self.kdc_conf, "w") as f:
            f.write("""[kdcdefaults]
  kdc_ports = {port}
  kdc_tcp_ports = {port}
[realms]
  {realm} = {{
    database_name = {d}/principal
    key_stash_file = {d}/stash
    acl_file = {d}/kadm5.acl
    max_life = 1h
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }}
[logging]
  kdc = FILE:{d}/kdc.log
""".format(realm=REALM, port=self.port, d=self.dir))
        self.env = {"KRB5_CONFIG": self.krb5_conf, "KRB5_KDC_PROFILE": self.kdc_conf,
                    "KRB5RCACHEDIR": self.dir}

    def run(self, *cmd, timeout=30):
        env = dict(os.environ)
        env.update(self.env)
        p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=env)
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s %s" % (cmd, p.stdout, p.stderr))
        return p.stdout

    def start(self):
        self.run("kdb5_util", "create", "-s", "-r", REALM, "-P", "aviary-master-pw")
        env = dict(os.environ)
        env.update(self.env)
        log = open(os.path.join(self.dir, "krb5kdc.out"), "ab")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("krb5kdc exited: %s" % self.tail())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.1)
        raise RuntimeError("krb5kdc did not listen on %d: %s" % (self.port, self.tail()))

    def tail(self):
        with contextlib.suppress(OSError), open(os.path.join(self.dir, "krb5kdc.out")) as f:
            return f.read()[-2000:]
        return ""

    def add_principal(self, name):
        """Creates `name` with a random key; returns its keytab's path."""
        keytab = os.path.join(self.dir, name.replace("/", "_") + ".keytab")
        self.run("kadmin.local", "-r", REALM, "-q", "addprinc -randkey %s@%s" % (name, REALM))
        self.run("kadmin.local", "-r", REALM, "-q", "ktadd -k %s %s@%s" % (keytab, name, REALM))
        return keytab

    def kinit(self, name, keytab):
        """A ticket cache for `name`; returns the KRB5CCNAME value."""
        cache = "FILE:%s/ccache-%s" % (self.dir, name.replace("/", "_"))
        env = dict(self.env, KRB5CCNAME=cache)
        e = dict(os.environ)
        e.update(env)
        p = subprocess.run(["kinit", "-k", "-t", keytab, "%s@%s" % (name, REALM)], capture_output=True, text=True,
                           timeout=30, env=e)
        if p.returncode != 0:
            raise RuntimeError("kinit failed: %s" % p.stderr)
        return cache

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def have_kdc():
    return all(shutil.which(x) or os.path.exists("/usr/sbin/" + x) for x in ("krb5kdc", "kdb5_util", "kadmin.local"))


def stop_clients(*clients):
    """Stops and closes kazoo clients, ignoring the ones already gone."""
    for zk in clients:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass
