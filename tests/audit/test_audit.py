"""The audit log of a scripted kazoo session (every audited write kind, failure
cases, a session close and a session expiry) against Aviary and against Apache
ZooKeeper 3.8, compared line by line and key by key: same lines in the same
order, same keys in the same order, same values once session ids (numbered in
order of first appearance) are normalised. Also: the audit file rotates."""

import os
import signal
import subprocess
import sys

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoAuthError, NodeExistsError, NoNodeError
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE

import audit_support as sup

HERE = os.path.dirname(os.path.abspath(__file__))


def client(srv, **kw):
    zk = KazooClient(hosts=srv.hostport, timeout=10.0, **kw)
    zk.start(timeout=20)
    return zk


def scripted_session(srv):
    """Every kind of audited event, in a fixed order."""
    alice = make_digest_acl("alice", "secret", all=True)
    zk = client(srv)
    zk.add_auth("digest", "alice:secret")
    zk.create("/audit", b"a", acl=OPEN_ACL_UNSAFE)
    with pytest.raises(NodeExistsError):
        zk.create("/audit", b"a")
    seq = zk.create("/audit/seq-", b"", sequence=True, include_data=True)[0]
    zk.create("/audit/eph", b"", ephemeral=True)
    zk.set("/audit", b"x")
    with pytest.raises(BadVersionError):
        zk.set("/audit", b"y", version=99)
    zk.set_acls("/audit", [alice] + READ_ACL_UNSAFE)
    with pytest.raises(NoNodeError):
        zk.set_acls("/missing", OPEN_ACL_UNSAFE)
    zk.create("/audit/locked", b"", acl=[alice])
    anon = client(srv)
    with pytest.raises(NoAuthError):
        anon.create("/audit/locked/x", b"")
    t = zk.transaction()
    t.create("/audit/t1", b"1")
    t.create("/audit/tseq-", b"", sequence=True)
    t.set_data("/audit/t1", b"2")
    t.check("/audit/t1", 1)
    t.delete(seq)
    results = t.commit()
    assert not any(isinstance(r, Exception) for r in results), results
    t = zk.transaction()
    t.create("/audit/t2", b"")
    t.delete("/missing")
    results = t.commit()
    assert isinstance(results[1], NoNodeError)
    zk.delete("/audit/t1")
    with pytest.raises(NoNodeError):
        zk.delete("/missing")
    # A session close removes its ephemeral (a system operation).
    anon.create("/eph2", b"", ephemeral=True)
    anon.stop()
    anon.close()
    # A session expiry removes its ephemeral.
    child = subprocess.Popen([sys.executable, os.path.join(HERE, "expiry_child.py"), srv.hostport, "/exp"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().startswith("0x")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    sup.wait_for(lambda: zk.exists("/exp") is None, 20, "the expired session's ephemeral to go")
    zk.stop()
    zk.close()


def normalised(records):
    sessions = {}
    out = []
    for level, rec in records:
        rec = dict(rec)
        if "session" in rec:
            rec["session"] = sessions.setdefault(rec["session"], f"S{len(sessions) + 1}")
        out.append((level, rec))
    return out


def run(kind):
    srv = sup.Server(kind)
    try:
        srv.start()
        scripted_session(srv)
        srv.stop()
        return sup.audit_records(srv.audit_path)
    finally:
        srv.cleanup()


def test_scripted_session_lines_match_zookeeper():
    ours = run("aviary")
    theirs = run("zookeeper")
    ops = [r["operation"] for _, r in ours]
    # What the script must have produced, whatever ZooKeeper says.
    assert ops[0] == "serverStart" and ops[-1] == "serverStop"
    assert ops.count("ephemeralZNodeDeletionOnSessionCloseOrExpire") == 3
    assert "multiOperation" in ops and "setAcl" in ops
    a, z = normalised(ours), normalised(theirs)
    for i, (ra, rz) in enumerate(zip(a, z)):
        assert ra[1]["__keys__"] == rz[1]["__keys__"], f"line {i}: keys {ra} vs ZooKeeper {rz}"
        assert ra == rz, f"line {i}: {ra} vs ZooKeeper {rz}"
    assert len(a) == len(z), f"{len(a)} lines vs ZooKeeper's {len(z)}: {a[len(z):] or z[len(a):]}"


def test_audit_file_rotates_and_keeps_max_backups():
    srv = sup.Server("aviary", ["aviary.audit.maxFileSize=4KB", "aviary.audit.maxBackups=2"])
    try:
        srv.start()
        zk = client(srv)
        for i in range(120):
            zk.create(f"/n{i}", b"")
        zk.stop()
        zk.close()
        srv.stop()
        files = sorted(f for f in os.listdir(srv.dir) if f.startswith("zookeeper_audit.log"))
        assert files == ["zookeeper_audit.log", "zookeeper_audit.log.1", "zookeeper_audit.log.2"], files
        for f in files:
            assert os.path.getsize(os.path.join(srv.dir, f)) <= 4096
        newest = sup.audit_records(srv.audit_path)
        assert newest[-1][1]["operation"] == "serverStop"
        assert [r["znode"] for _, r in newest if r.get("operation") == "create"][-1] == "/n119"
    finally:
        srv.cleanup()


def test_audit_off_by_default_writes_no_file():
    srv = sup.Server("aviary", audit=False)
    try:
        srv.start()
        zk = client(srv)
        zk.create("/x", b"")
        zk.stop()
        zk.close()
        srv.stop()
        assert not os.path.exists(srv.audit_path)
        assert "ZooKeeper audit is disabled." in srv.output()
    finally:
        srv.cleanup()
