"""Local sessions in an ensemble (localSessionsEnabled /
localSessionsUpgradingEnabled, issue 7 item 2), with real processes:

  - all Aviary, upgrading on: a client of a follower has a local session (no
    createSession txn anywhere), its persistent writes reach every member,
    its first ephemeral upgrades it (the node is on every member with
    ephemeralOwner = its id) and its close removes the node everywhere; a
    local session that only reads and then disconnects or expires leaves no
    txn on any member;
  - all Aviary, upgrading off: an ephemeral create from a local session
    fails with EPHEMERALONLOCALSESSION (-120) on a follower and on the
    leader, persistent creates work;
  - mixed: a ZooKeeper 3.8 follower of an Aviary leader, and an Aviary
    follower of a ZooKeeper leader, with local sessions on everywhere: the
    follower's client writes and creates an ephemeral through the leader of
    the other kind;
  - everywhere: a local session re-attaches on its member and is expired on
    any other (REVALIDATE: the leader calls it invalid), observers included.

kazoo (2.x) knows no exception for -120: its table's default raises
RuntimeError inside the connection thread, so the code is registered here.
"""

import socket
import struct
import time

import pytest
from kazoo.exceptions import EXCEPTIONS, ZookeeperError

import checks
import support
import waits

AV, ZK = "aviary", "zookeeper"
UPGRADING = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}
NO_UPGRADING = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "false"}


class EphemeralOnLocalSessionError(ZookeeperError):
    code = -120


if -120 not in EXCEPTIONS:
    EXCEPTIONS[-120] = EphemeralOnLocalSessionError


def pinned(clients, member):
    return clients(member.hostport(), connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5})


def _recv_exactly(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def raw_connect(member, timeout_ms=1000, session_id=0, passwd=b"\0" * 16):
    """A bare ConnectRequest to `member`: (socket, session id, password) of
    its ConnectResponse (session id 0: expired), or (None, 0, b"") when the
    member closed the connection without one."""
    s = socket.create_connection(("127.0.0.1", member.client_port), timeout=10)
    body = struct.pack(">iqiqi", 0, 0, timeout_ms, session_id, len(passwd)) + passwd + b"\0"
    s.sendall(struct.pack(">i", len(body)) + body)
    head = _recv_exactly(s, 4)
    rsp = _recv_exactly(s, struct.unpack(">i", head)[0]) if head else None
    if rsp is None:
        s.close()
        return None, 0, b""
    _, _, got, plen = struct.unpack(">iiqi", rsp[:20])
    return s, got, rsp[20:20 + plen]


def check_local_session_stays_on_its_member(member, elsewhere):
    """A local session of `member` re-attaches there, and is expired on
    `elsewhere` (its leader calls it invalid, or it is the leader)."""
    s, sid, pw = raw_connect(member, timeout_ms=4000)
    assert sid != 0
    s.close()
    s, got, _ = raw_connect(member, 4000, sid, pw)
    assert got == sid, "member %d (%s) did not re-attach its local session" % (member.sid, member.kind)
    s.close()
    s, got, _ = raw_connect(elsewhere, 4000, sid, pw)
    assert got == 0, "member %d (%s) took member %d's local session 0x%x" % (
        elsewhere.sid, elsewhere.kind, member.sid, sid)
    if s is not None:
        s.close()


def zxids(ens):
    return {m.sid: m.zxid() for m in ens.members}


def wait_gone(ens, clients, path):
    for m in ens.members:
        c = pinned(clients, m)
        waits.wait_until(lambda: c.exists(path) is None, timeout=20,
                         what="%s gone on member %d (%s)" % (path, m.sid, m.kind))


def check_upgrade_through(ens, clients, member, root):
    """A client of `member` (local session): persistent writes, then an
    ephemeral (the upgrade), seen on every member; its close removes it."""
    c = pinned(clients, member)
    sid = c.client_id[0]
    c.create(root + "/p1", b"one", makepath=True)
    c.create(root + "/p2", b"two")
    c.create(root + "/eph", b"e", ephemeral=True)
    checks.settle(ens, *ens.members)
    for m in ens.members:
        r = pinned(clients, m)
        assert r.get(root + "/p1")[0] == b"one", "member %d" % m.sid
        data, stat = r.get(root + "/eph")
        assert stat.ephemeralOwner == sid, "member %d (%s): owner 0x%x, session 0x%x" % (
            m.sid, m.kind, stat.ephemeralOwner, sid)
    c.stop()
    c.close()
    wait_gone(ens, clients, root + "/eph")
    assert pinned(clients, ens.members[0]).exists(root + "/p2") is not None


def test_local_sessions_upgrade_all_aviary(make_ensemble, clients):
    support.require([AV, AV, AV])
    ens = make_ensemble([AV, AV, AV], observers=[AV], extra_cfg=UPGRADING)
    lead = ens.start()
    f = ens.followers()[0]
    obs = ens.members[3]
    checks.settle(ens, *ens.members)
    before = zxids(ens)
    # A local session: no createSession txn on any member; counted local.
    c = pinned(clients, f)
    c.get("/")
    time.sleep(0.5)
    assert zxids(ens) == before, "a new session made a txn"
    assert int(f.mntr()["zk_local_sessions"]) >= 1
    glob = int(lead.mntr()["zk_global_sessions"])
    # ... nor does its close.
    c.stop()
    c.close()
    # A local session that disconnects without closing expires on its
    # member alone (1 s timeout), again without a txn.
    s, sid, _ = raw_connect(f, timeout_ms=1000)
    s.close()
    waits.wait_until(lambda: int(f.mntr()["zk_local_sessions"]) == 0, timeout=15,
                     what="the follower's local sessions expired")
    assert zxids(ens) == before, "a local session's close or expiry made a txn"
    assert int(lead.mntr()["zk_global_sessions"]) == glob
    check_upgrade_through(ens, clients, f, "/ls")
    check_upgrade_through(ens, clients, lead, "/ll")
    check_upgrade_through(ens, clients, obs, "/lo")
    other = [m for m in ens.followers() if m is not f][0]
    check_local_session_stays_on_its_member(f, other)
    check_local_session_stays_on_its_member(f, lead)
    check_local_session_stays_on_its_member(lead, f)


def test_local_sessions_without_upgrading(make_ensemble, clients):
    support.require([AV, AV, AV])
    ens = make_ensemble([AV, AV, AV], extra_cfg=NO_UPGRADING)
    lead = ens.start()
    f = ens.followers()[0]
    for m, root in ((f, "/nf"), (lead, "/nl")):
        c = pinned(clients, m)
        c.create(root + "/p", b"persistent", makepath=True)
        with pytest.raises(EphemeralOnLocalSessionError):
            c.create(root + "/eph", b"", ephemeral=True)
        with pytest.raises(EphemeralOnLocalSessionError):
            c.create(root + "/seq-", b"", ephemeral=True, sequence=True)
        c.create(root + "/p2", b"still served")  # the session goes on
        checks.settle(ens, *ens.members)
        for r in ens.members:
            rc = pinned(clients, r)
            assert rc.get(root + "/p2")[0] == b"still served"
            assert rc.exists(root + "/eph") is None
            assert sorted(rc.get_children(root)) == ["p", "p2"], "member %d (%s)" % (r.sid, r.kind)


MIXED = {
    # ZooKeeper 1 follows Aviary 3 (2 and 3 start first).
    "zk_follower_av_leader": dict(kinds=[ZK, AV, AV], first=[1, 2], leader_sid=3, client=0),
    # Aviary 3 follows ZooKeeper 2 (1 and 2 start first).
    "av_follower_zk_leader": dict(kinds=[ZK, ZK, AV], first=[0, 1], leader_sid=2, client=2),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_local_sessions_mixed(make_ensemble, clients, name):
    cfg = MIXED[name]
    support.require(cfg["kinds"], *(["snap_install"] if cfg["kinds"].count(ZK) == 2 else []))
    ens = make_ensemble(cfg["kinds"], extra_cfg=UPGRADING)
    lead = ens.start(first=[ens.members[i] for i in cfg["first"]])
    assert lead.sid == cfg["leader_sid"], "leader %d (%s)" % (lead.sid, lead.kind)
    f = ens.members[cfg["client"]]
    asked = cfg["kinds"]  # by id: AVIARY_ENSEMBLE_SUBSTITUTE may run both kinds as one
    assert f.mode() == "follower" and asked[f.sid - 1] != asked[lead.sid - 1], (f.mode(), f.kind, lead.kind)
    checks.settle(ens, *ens.members)
    before = lead.zxid()
    c = pinned(clients, f)
    c.get("/")
    time.sleep(0.5)
    assert lead.zxid() == before, "a local session made a txn"
    check_upgrade_through(ens, clients, f, "/mx")
    other = [m for m in ens.followers() if m is not f][0]
    assert asked[other.sid - 1] != asked[f.sid - 1]
    check_local_session_stays_on_its_member(f, other)
    check_local_session_stays_on_its_member(other, f)
