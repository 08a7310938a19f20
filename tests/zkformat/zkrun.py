"""Run a real Apache ZooKeeper 3.8 (Debian package) or aviary-server on a
given dataDir, drive a workload with kazoo + the raw client, and read back
the whole tree as kazoo sees it. Shared by test_zkformat.py and
make_fixtures.py.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
sys.path.insert(0, os.path.join(HERE, ".."))

import ports  # noqa: E402  (tests/ports.py: one free-port helper for every suite)
import rawzk  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE  # noqa: E402

ZK_JARS = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
]
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


class Proc:
    def __init__(self, proc, port, log_path):
        self.proc, self.port, self.log_path = proc, port, log_path
        self.hostport = "127.0.0.1:%d" % port

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: nothing more is written (no closeSession for live sessions)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def write_cfg(workdir, data_dir, port, extra=None):
    lines = [
        "tickTime=100", "minSessionTimeout=400", "maxSessionTimeout=20000",
        "dataDir=%s" % data_dir, "clientPort=%d" % port, "clientPortAddress=127.0.0.1",
        "admin.enableServer=false", "4lw.commands.whitelist=*",
        "extendedTypesEnabled=true", "preAllocSize=16",
        "znode.container.checkIntervalMs=100",
    ]
    lines += ["%s=%s" % kv for kv in (extra or {}).items()]
    path = os.path.join(workdir, "zoo.cfg")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _ruok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"ruok")
            return s.recv(16) == b"imok"
    except OSError:
        return False


def start(kind, workdir, data_dir, extra=None, timeout=40.0, jvm_props=None, _retries=2):
    """kind: 'zookeeper' or 'aviary'. Waits until a session can be opened
    (on a new port when the server could not bind its own: tests/ports.py).
    jvm_props: extra -D system properties for ZooKeeper."""
    os.makedirs(workdir, exist_ok=True)
    port = ports.free_port()
    cfg = write_cfg(workdir, data_dir, port, extra)
    if kind == "zookeeper":
        cmd = ["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dzookeeper.extendedTypesEnabled=true",
               "-Dznode.container.checkIntervalMs=100",
               "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]
        cmd += ["-D%s=%s" % kv for kv in (jvm_props or {}).items()]
        cmd += ["-cp", ":".join(ZK_JARS), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg]
    else:
        binary = os.environ.get("AVIARY_SERVER") or os.path.join(REPO_ROOT, "build", "aviary-server")
        cmd = [binary, cfg]
    log_path = os.path.join(workdir, "%s.log" % kind)
    with open(log_path, "ab") as logf:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                cwd=workdir, start_new_session=True)
    p = Proc(proc, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if ports.bind_failed(p.log_tail()) and _retries > 0:  # another process took the port first
                return start(kind, workdir, data_dir, extra, timeout, jvm_props, _retries - 1)
            raise RuntimeError("%s exited: %s" % (kind, p.log_tail()))
        if _ruok(port):
            try:
                c = rawzk.open_session("127.0.0.1", port, timeout_ms=4000, io_timeout=2)
                c.close_session()
                c.close()
                return p
            except Exception:  # noqa: BLE001 - not accepting sessions yet
                pass
        time.sleep(0.1)
    p.kill()
    raise RuntimeError("%s did not start: %s" % (kind, p.log_tail()))


def client(p):
    z = KazooClient(hosts=p.hostport, timeout=10)
    z.start(timeout=15)
    return z


def workload(p):
    """Every kind of txn ZooKeeper logs. Leaves one session (the returned
    client) open with an ephemeral, so snapshots carry a live session."""
    z = client(p)
    z.create("/a", b"alpha")
    z.create("/a/seq-", b"s1", sequence=True)
    z.create("/a/seq-", b"s2", sequence=True)
    z.create("/a/eph", b"e", ephemeral=True)
    z.create("/b", b"", include_data=True)  # create2
    z.set("/a", b"alpha2")
    z.set("/b", b"beta", version=0)
    acl = make_digest_acl("user", "pw", all=True)
    z.set_acls("/b", [acl, OPEN_ACL_UNSAFE[0]])
    z.create("/c", b"cc", acl=[make_digest_acl("other", "pw", read=True)])
    try:
        z.create("/a", b"dup")  # error txn (NodeExists)
    except Exception:  # noqa: BLE001
        pass
    t = z.transaction()
    t.create("/m1", b"m")
    t.create("/m1/eph", b"", ephemeral=True)
    t.set_data("/a", b"multi")
    t.check("/b", 1)
    t.delete("/a/seq-0000000000")
    t.commit()
    t = z.transaction()  # failing multi: error txns for every op
    t.create("/m2", b"x")
    t.check("/b", 99)
    t.create("/m3", b"y")
    t.commit()
    raw = rawzk.open_session("127.0.0.1", p.port, timeout_ms=10000)
    raw.create("/cont", b"c", flags=rawzk.FLAG_CONTAINER)
    raw.create("/cont/child", b"k")
    raw.create("/cont2", b"c2", flags=rawzk.FLAG_CONTAINER)
    raw.create("/ttl", b"t", flags=rawzk.FLAG_PERSISTENT_TTL, ttl=3600000)
    raw.create("/ttlshort", b"t", flags=rawzk.FLAG_PERSISTENT_TTL, ttl=200)
    raw.create("/nulldata", None)
    raw.create("/a/seqttl-", b"", flags=rawzk.FLAG_PERSISTENT_SEQ_TTL, ttl=3600000)
    raw.delete("/cont/child")  # the container is now empty, used: reaped (deleteContainer)
    raw.close_session()
    raw.close()
    other = client(p)
    other.create("/a/eph2", b"x", ephemeral=True)
    other.create("/a/eph3", b"y", ephemeral=True)
    other.stop()  # closeSession with its two ephemerals
    other.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (z.exists("/cont") or z.exists("/ttlshort")):
        time.sleep(0.1)
    assert not z.exists("/cont") and not z.exists("/ttlshort"), "container/TTL not reaped"
    z.delete("/c")
    z.set("/", b"rootdata")
    return z


def read_tree(p, auth=(("digest", "user:pw"), ("digest", "other:pw"))):
    """{path: {data(hex or None), stat fields, acl}} for every node, as kazoo sees it."""
    z = client(p)
    try:
        for scheme, cred in auth:
            z.add_auth(scheme, cred)
        out = {}

        def walk(path):
            data, st = z.get(path)
            acls, _ = z.get_acls(path)
            out[path] = {
                "data": data.hex() if data is not None else None,
                "stat": {k: getattr(st, k) for k in (
                    "czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                    "ephemeralOwner", "dataLength", "numChildren", "pzxid")},
                "acl": sorted([a.perms, a.id.scheme, a.id.id] for a in acls),
            }
            for ch in z.get_children(path):
                walk(path.rstrip("/") + "/" + ch)

        walk("/")
        return out
    finally:
        z.stop()
        z.close()


def dump_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def churn(p, n=400, seed=7):
    """Pipelined writes (20 in flight) from two sessions over 60 names, so
    that snapshots taken meanwhile (small snapCount) are fuzzy. Returns the
    client that stays open."""
    import random
    rnd = random.Random(seed)
    z, z2 = client(p), client(p)
    z.ensure_path("/churn")
    pending = []
    for i in range(n):
        c = z if rnd.random() < 0.7 else z2
        path = "/churn/n%02d" % rnd.randrange(60)
        op = rnd.randrange(6)
        if op == 0:
            pending.append(c.create_async(path, b"v%d" % i))
        elif op == 1:
            pending.append(c.set_async(path, b"s%d" % i))
        elif op == 2:
            pending.append(c.delete_async(path))
        elif op == 3:
            pending.append(c.create_async(path + "e", b"", ephemeral=True))
        elif op == 4:
            t = c.transaction()
            t.create(path + "m", b"m")
            t.set_data("/churn", b"%d" % i)
            pending.append(t.commit_async())
        else:
            pending.append(c.create_async(path + "s-", b"q", sequence=True))
        if len(pending) >= 20:
            for f in pending:
                try:
                    f.get(timeout=10)
                except Exception:  # noqa: BLE001 - NodeExists / NoNode are part of the churn
                    pass
            pending = []
    for f in pending:
        try:
            f.get(timeout=10)
        except Exception:  # noqa: BLE001
            pass
    z2.stop()  # closeSession with its ephemerals
    z2.close()
    return z
