"""In an ensemble, as ZooKeeper 3.8 ("logged only on the servers where client
is connected"): a client's writes are audited by the member it is connected
to (a follower that forwarded them), not by the leader nor the others; the
ephemeral deletions of a closed session are audited by every member (each
applies the close). Also the election's INFO lines: role, leader, epoch,
zxid and how long the election took."""

import os
import re
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ensemble"))
import ensemble as ens  # noqa: E402

import audit_support as sup  # noqa: E402


def audit_ops(member):
    path = os.path.join(member.workdir, "zookeeper_audit.log")
    return [(r.get("operation"), r.get("znode")) for _, r in sup.audit_records(path)]


def test_follower_audits_its_clients_writes_every_member_the_ephemeral_deletions():
    e = ens.Ensemble(["aviary"] * 3, extra_cfg={"audit.enable": "true"})
    for m in e.members:
        m.extra_cfg["aviary.audit.logFile"] = os.path.join(m.workdir, "zookeeper_audit.log")
    try:
        leader = e.start()
        follower = e.followers()[0]
        other = [m for m in e.members if m not in (leader, follower)][0]
        zk = KazooClient(hosts=follower.hostport(), timeout=10.0)
        zk.start(timeout=30)
        zk.create("/fa", b"1")
        zk.set("/fa", b"2")
        with pytest.raises(NoNodeError):
            zk.delete("/missing")
        zk.create("/fe", b"", ephemeral=True)
        zk.stop()
        zk.close()
        target = e.mark()
        for m in e.members:
            e.wait_synced(m, target=target)
        logs = {m.sid: open(m.log_path, errors="replace").read() for m in e.members}
        e.stop(keep=True)
        client_ops = [("create", "/fa"), ("setData", "/fa"), ("delete", "/missing"), ("create", "/fe")]
        deletion = ("ephemeralZNodeDeletionOnSessionCloseOrExpire", "/fe")
        ops = audit_ops(follower)
        assert ops[0] == ("serverStart", None) and ops[-1] == ("serverStop", None), ops
        assert [o for o in ops if o in client_ops] == client_ops, ops
        assert deletion in ops
        for m in (leader, other):
            ops = audit_ops(m)
            assert not [o for o in ops if o in client_ops], (m.sid, ops)
            assert deletion in ops, (m.sid, ops)
        # One line per role change with the leader, epoch, zxid, election time.
        for m in e.members:
            role = "LEADING" if m is leader else "FOLLOWING"
            assert re.search(rf"ensemble: {role} \(serving\), leader {leader.sid}, epoch \d+, committed 0x[0-9a-f]+, "
                             r"election took \d+ ms", logs[m.sid]), logs[m.sid][-3000:]
    finally:
        e.stop()
