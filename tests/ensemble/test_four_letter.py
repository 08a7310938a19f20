"""Four-letter words on every role of an ensemble (issue 9, item 1): an
all-Aviary ensemble (3 voters + 1 observer) against an all-ZooKeeper 3.8
ensemble of the same shape and the same client activity. On the leader, a
follower and the observer, srvr / stat / conf / dump / isro / wchs / crst / srst / gtmk and mntr's
zk_server_state are compared by structure (tests/diff/four_letter.py's
shape: values that legitimately differ - ports, ids, times, sizes - are
placeholders; lines, keys, their order and fixed values such as
`Mode: follower`, `peerType=1` or `Global Sessions(4):` must be equal).
And `hash`: past the 128th txn every member logs the same zxid and digest.
"""

import os
import sys
import time

from kazoo.client import KazooClient

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "diff"))

import ensemble  # noqa: E402
import four_letter  # noqa: E402

WORDS = ["srvr", "stat", "conf", "dump", "isro", "mntr", "wchs", "crst", "srst", "gtmk"]


def role_replies(make_ensemble, kind):
    """{role: {word: reply}} for leader, follower, observer of a fresh
    ensemble of `kind` where each member has one client with an ephemeral
    node and a data watch."""
    ens = make_ensemble([kind] * 3, observers=[kind])
    ens.start()
    clients = []
    try:
        for m in ens.members:
            zk = KazooClient(hosts=m.hostport(), timeout=8.0)
            zk.start(timeout=20)
            clients.append(zk)
            zk.create("/e%d" % m.sid, b"x", ephemeral=True)
            zk.get("/e%d" % m.sid, watch=lambda e: None)
        # Past the epoch's 128th txn: one digest log entry (hash) everywhere.
        clients[0].create("/w", b"")
        while clients[0].set("/w", b"y").mzxid & 0xFFFFFFFF < 0x84:  # no watch fires
            pass
        for zk in clients:
            zk.sync("/")
        time.sleep(0.5)
        leader = ens.leader()
        follower = next(m for m in ens.members if m is not leader and not m.observer)
        observer = next(m for m in ens.members if m.observer)
        out = {}
        for role, m in (("leader", leader), ("follower", follower), ("observer", observer)):
            out[role] = {w: ensemble.four_letter(m.client_port, w, timeout=5.0) for w in WORDS}
        out["hash"] = [ensemble.four_letter(m.client_port, "hash", timeout=5.0) for m in ens.members]
        return out
    finally:
        for zk in clients:
            zk.stop()
            zk.close()
        ens.stop()


def test_four_letter_words_on_every_role(make_ensemble):
    zk = role_replies(make_ensemble, "zookeeper")
    av = role_replies(make_ensemble, "aviary")
    diffs = []
    for role in ("leader", "follower", "observer"):
        assert ("Mode: %s\n" % role) in av[role]["srvr"], av[role]["srvr"]
        assert av[role]["isro"] == "rw"
        assert av[role]["mntr"].split("\n")[1] == "zk_server_state\t%s" % role
        for w in WORDS:
            a, b = four_letter.shape(w, zk[role][w]), four_letter.shape(w, av[role][w])
            if a != b:
                diffs.append("%s %s:\n  zookeeper: %r\n  aviary:    %r" % (role, w, a, b))
    assert not diffs, "\n".join(diffs)
    # hash: every member logged the same (zxid, digest) - the same tree at
    # the epoch's 128th txn - on both kinds, one entry each.
    for kind, got in (("zookeeper", zk), ("aviary", av)):
        lines = [h.splitlines() for h in got["hash"]]
        assert len(lines[0]) == 1 and lines[0][0].endswith(tuple("0123456789")), (kind, got["hash"])
        assert all(ls == lines[0] for ls in lines), (kind, got["hash"])
        assert lines[0][0].split(":")[0].endswith("80"), (kind, got["hash"])
    # The shapes that matter, spelled out: a learner lists the global
    # session table, the leader its expiry buckets; conf carries the quorum.
    assert "Global Sessions(4):" in av["follower"]["dump"]
    assert "Global Sessions(4):" in av["observer"]["dump"]
    assert "Session Sets (" in av["leader"]["dump"]
    assert av["observer"]["conf"].split("peerType=")[1].startswith("1\n")
    assert av["leader"]["conf"].endswith("version=0")
    assert "Proposal sizes last/min/max: " in av["leader"]["srvr"]
