"""Real-process ensemble tests (issue 7, item 5): 3 voters of the kinds in
AVIARY_ENSEMBLE_KINDS (default aviary,aviary,aviary; e.g.
AVIARY_ENSEMBLE_KINDS=zookeeper,zookeeper,zookeeper runs the same tests on
Apache ZooKeeper 3.8, which is how they were proven) plus, where a test
needs one, an observer of kind AVIARY_ENSEMBLE_OBSERVER."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.protocol.states import KeeperState

import checks
import ensemble
import support
import waits
from checks import pinned

KINDS = support.voter_kinds()
OBS = support.observer_kind()


def test_election_and_rejoin(make_ensemble, clients):
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
    lead = checks.check_roles(ens)
    for m in ens.members:
        ens.wait_synced(m)
    lead.stop()
    new = ens.wait_for_leader(timeout=30)
#Both survivors vote and have the same last zxid : the higher id leads.
    assert new.sid == max(m.sid for m in ens.members if m is not lead), new.sid
    lead.start()
    ens.wait_for_leader(timeout=30)
    assert ens.leader() is new, "a restarted member must follow the established leader"
    checks.check_roles(ens)


def test_writes_through_each_member_and_cross_member_watches(make_ensemble, clients):
    support.require(KINDS + [OBS], "observer")
    ens = make_ensemble(KINDS, observers=[OBS])
    ens.start()
    checks.check_roles(ens)
    checks.check_writes_visible_everywhere(ens, clients)
    m = ens.members
    checks.check_watch_fires_on_other_member(ens, clients, m[0], m[1], "/w1")
    checks.check_watch_fires_on_other_member(ens, clients, m[2], m[3], "/w2")  # observer writes
    checks.check_watch_fires_on_other_member(ens, clients, m[3], m[0], "/w3")  # observer watches
    checks.settle(ens, *m)  # after the last writes (a marker, its closeSession), all equal
    checks.wait_same_zxid(ens, m)


def test_sync_through_every_member(make_ensemble, clients, request):
    support.require(KINDS + [OBS])
    ens = make_ensemble(KINDS, observers=[OBS])
    ens.start()
    checks.check_sync(ens, clients)


def test_pipelined_writes_and_syncs_through_a_follower_keep_their_order(make_ensemble, clients):
    """One session pipelines setData and sync() through a follower (an
    Aviary follower sends its writes to the leader from its core thread,
    its syncs from its consensus thread): every reply arrives, the sets
    commit in the order they were sent (ascending mzxid), and a read after
    the last sync sees the last value."""
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
    follower = ens.followers()[0]
    c = pinned(clients, follower)
    c.ensure_path("/order")
    pending = []
    for i in range(400):
        pending.append(("set", i, c.set_async("/order", b"%d" % i)))
        if i % 7 == 3:
            pending.append(("sync", i, c.sync_async("/order")))
    last_mzxid = 0
    for kind, i, res in pending:
        got = res.get(timeout=30)
        if kind == "set":
            assert got.mzxid > last_mzxid, "set %d committed before an earlier set of the same session" % i
            last_mzxid = got.mzxid
    c.sync("/order")
    data, stat = c.get("/order")
    assert data == b"399" and stat.mzxid == last_mzxid


def test_session_moves_between_members(make_ensemble, clients, request):
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
    checks.check_session_moves(ens)


def test_leader_kill_under_write_load(make_ensemble, clients, request):
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
    old, new, load = checks.check_leader_kill_under_load(ens, clients, workers=4)
    assert sum(load.attempts[i][op] for i in range(4) for op in load.attempts[i]) >= load.total_acked()


def test_killed_leader_with_uncommitted_tail_rejoins_by_trunc(make_ensemble, clients):
    """The leader logs writes its followers never see (they are SIGSTOPped,
    then killed with what they had not read), then is killed; the followers
    restart, elect a new leader and commit more. The old leader restarts with
    that uncommitted tail in its log (and, on Aviary and ZooKeeper alike, in
    the state it replays at start): the new leader sends TRUNC, the tail is
    dropped from its log and tree, and it rejoins without another restart."""
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
    lead = checks.check_roles(ens)
    c = clients(ens.connect_string())
    c.create("/t/committed", b"1", makepath=True)
    lc = pinned(clients, lead)
    lc.exists("/t")  # its session is committed everywhere
    checks.settle(ens, *ens.members)
    followers = [m for m in ens.members if m is not lead]
    def fsyncs():
        return int(lead.mntr().get("zk_cnt_fsynctime", "-1"))

    for f in followers:
        f._signal(signal.SIGSTOP)
    try:
        before = fsyncs()
        assert before >= 0, "no zk_cnt_fsynctime in the leader's mntr: %r" % lead.mntr()
        for i in range(5):
            lc.create_async("/t/tail%d" % i, b"x")  # logged by the leader alone
        # Within syncLimit (1 s) it still leads and logs them: wait for that
        # fsync (a fixed 0.3 s was a guess that a loaded machine can miss).
        waits.wait_until(lambda: fsyncs() > before, timeout=5.0, interval=0.01,
                         what="the leader to fsync the tail it proposed (zk_cnt_fsynctime > %d)" % before)
    finally:
        for f in followers:
            f.kill()  # what they had not read dies with them
    lead.kill()
    for f in followers:
        f.start()
    ens.wait_for_leader(timeout=30)
    nc = clients(ens.connect_string(followers))
    checks.create_retrying(nc, "/t/after", b"2", what="write after the election")
    log_from = lead.log_size()
    lead.start()
    ens.wait_synced(lead)
    assert "TRUNC" in lead.sync_modes(since=log_from), lead.sync_modes(since=log_from)
    assert lead.alive()
    oc = pinned(clients, lead)
    assert oc.get("/t/after")[0] == b"2"
    assert oc.get("/t/committed")[0] == b"1"
    assert sorted(oc.get_children("/t")) == ["after", "committed"]


def test_follower_catches_up_by_diff(make_ensemble, clients):
    support.require(KINDS)
    ens = make_ensemble(KINDS)
    ens.start()
# 300 txns : within the leader's in-memory committed log (ZooKeeper keeps
# 500) and its txn log, so the follower gets a DIFF.
    modes, counts = checks.check_follower_catch_up(ens, clients, ens.followers()[0], txns=300)
    assert modes == ["DIFF"], "the follower's log says it was synced by %r" % modes
    if counts is not None:
        assert counts == (1, 0), "the leader counted (diff, snap) += %r" % (counts,)


def test_follower_catches_up_by_snap_after_purge(make_ensemble, clients, request):
    support.require(KINDS)
    ens = make_ensemble(KINDS, snap_count=50)
    ens.start()
# 1500 txns with a snapshot every <= 50 and the old logs purged(as
#autopurge with snapRetainCount = 3 would) on the live members : the
#follower's last zxid is older than any log the leader still holds.
    modes, counts = checks.check_follower_catch_up(ens, clients, ens.followers()[0], txns=1500,
                                                   purge=True)
    assert modes == ["SNAP"], "the follower's log says it was synced by %r" % modes
    if counts is not None:
        assert counts == (0, 1), "the leader counted (diff, snap) += %r" % (counts,)


@pytest.mark.parametrize("factor,want", [("0.33", "SNAP"), ("0", "DIFF")])
def test_follower_catch_up_follows_the_snapshot_size_factor(make_ensemble, clients, factor, want):
    """ZooKeeper's snapshotSizeFactor rule (zookeeper.snapshotSizeFactor):
    700 txns missed (more than the 500 a leader keeps in its committed log),
    a snapshot and a log roll every <= 50 txns, nothing purged, so the
    leader's log still holds every missed txn. The log files a DIFF would
    read (after the one it starts in; preallocated, so 64 MiB each) are far
    larger than 0.33 x the snapshot: SNAP. A factor of 0 sets no limit:
    DIFF."""
    support.require(KINDS)
    ens = make_ensemble(KINDS, snap_count=50, extra_cfg={"snapshotSizeFactor": factor})
    ens.start()
    modes, counts = checks.check_follower_catch_up(ens, clients, ens.followers()[0], txns=700)
    assert modes == [want], "the follower's log says it was synced by %r" % modes
    if counts is not None:
        assert counts == ((1, 0) if want == "DIFF" else (0, 1)), "the leader counted (diff, snap) += %r" % (counts,)


def test_follower_catches_up_by_snap_of_a_large_tree(make_ensemble, clients):
    """A SNAP of a tree of about 5 MB (more than the leader's 4 MB send
    window: an Aviary leader streams it from a child forked for it, as the
    learner reads): the restarted follower gets every byte, and the
    ensemble takes writes afterwards."""
    support.require(KINDS)
    ens = make_ensemble(KINDS, snap_count=200)
    ens.start()
    follower = ens.followers()[0]
    ens.wait_synced(follower)
    follower.stop()
    ens.wait_for_leader(timeout=30)
    lead = ens.leader()
    others = [m for m in ens.members if m.alive()]
    c = clients(ens.connect_string(others))
    payload = b"y" * (80 * 1024)
    for batch in range(4):  # 64 nodes of 80 KiB
        checks.write_many(c, "/big", 16, payload=payload, prefix="b%d-" % batch)
#Enough snapshots after the follower's last zxid that purging keeps
#none of the log it would need, and more txns than a ZooKeeper leader
#keeps in memory for DIFF(500).
    deadline = time.monotonic() + 90
    batch = 0
    while batch < 6 or any(len([f for f in os.listdir(m.version_dir()) if f.startswith("snapshot.") and "." not in f[9:]]) < 5
              for m in others):
        assert time.monotonic() < deadline, "too few snapshots"
        checks.write_many(c, "/small", 100, prefix="s%d-" % batch)
        batch += 1
    for m in others:
        m.purge(retain=3)
    target = lead.zxid()
    log_from = follower.log_size()
    follower.start()
    ens.wait_synced(follower, target=target, timeout=90)
    assert follower.sync_modes(since=log_from) == ["SNAP"]
    assert ens.leader() is lead
    want = checks.read_tree(pinned(clients, lead), "/big")
    assert len(want) == 64
    got = checks.read_tree(pinned(clients, follower), "/big")
    assert sorted(got) == sorted(want)
    assert all(got[n] == want[n] for n in want)
    c.create("/after-big-snap", b"ok")  # the ensemble still takes writes


def test_observer_reads_forwards_and_is_no_quorum(make_ensemble, clients):
    support.require(KINDS + [OBS], "observer")
    ens = make_ensemble(KINDS, observers=[OBS])
    ens.start()
    checks.check_observer(ens, clients, ens.members[3])

#ZooKeeper 3.8's read - only server refuses to reconnect a global session
#("Refusing global session reconnection in RO mode") and answers a new
#session's ConnectRequest with a response kazoo cannot parse unless local
#sessions are enabled : the read - only tests run with them, as an operator
#using read - only mode must.
RO_CFG = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}


def _wait_state(client, state, timeout=30):
    waits.wait_until(lambda: client.client_state == state, timeout=timeout,
                     what="client state %s (is %s)" % (state, client.client_state))


def test_read_only_mode(make_ensemble, clients):
    """kazoo's read-only test (kazoo/tests/test_connection.py
    TestReadOnlyMode) on this ensemble, plus the way back: a read_only
    client whose server loses the quorum goes CONNECTED_RO, reads, gets
    NotReadOnlyCallError for writes, and is read-write again once the quorum
    returns."""
    support.require(KINDS, "read_only")
    ens = make_ensemble(KINDS, read_only=True, extra_cfg=RO_CFG)
    ens.start()
    survivor = ens.members[0]
    ro = clients(survivor.hostport(), read_only=True)
    ro.create("/ro/data", b"before", makepath=True)
    _wait_state(ro, KeeperState.CONNECTED)
    for m in ens.members[1:]:
        m.stop()
    waits.wait_until(lambda: survivor.mode() == "read-only", timeout=30,
                     what="survivor in read-only mode")
#kazoo and the C client probe with isro for a read - write server.
    assert ensemble.four_letter(survivor.client_port, "isro") == "ro"
    assert survivor.mntr().get("zk_server_state") == "read-only"
    _wait_state(ro, KeeperState.CONNECTED_RO)
    assert ro.get("/ro/data")[0] == b"before"
    assert ro.get_children("/ro") == ["data"]
    fresh = clients(survivor.hostport(), read_only=True)
    assert fresh.client_state == KeeperState.CONNECTED_RO
    assert fresh.get("/ro/data")[0] == b"before"
    with pytest.raises(NotReadOnlyCallError):
        ro.create("/ro/new", b"")
    with pytest.raises(NotReadOnlyCallError):
        ro.set("/ro/data", b"after")
    for m in ens.members[1:]:
        m.start()
    ens.wait_for_leader(timeout=30)
    _wait_state(ro, KeeperState.CONNECTED, timeout=40)
    assert ensemble.four_letter(survivor.client_port, "isro") == "rw"
    checks.retry_until(lambda: ro.set("/ro/data", b"after"), what="write after quorum returned")
    assert pinned(clients, ens.members[2]).get("/ro/data")[0] == b"after"


def _c_read_only_client():
    """The C client program built from tests/interop/c_read_only_client.c."""
    path = os.environ.get("C_READ_ONLY_CLIENT") or os.path.join(
        ensemble.REPO_ROOT, "build", "tests", "interop", "c_read_only_client")
    return path if os.path.exists(path) else None


def _run_c_client(binary, member, path):
    done = subprocess.run([binary, member.hostport(), path], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, timeout=40)
    return done.stdout.decode("utf-8", "replace").splitlines()


def test_read_only_mode_c_client(make_ensemble, clients):
    """The C client's read-only flag (ZOO_READONLY): ZOO_READONLY_STATE on a
    member without quorum, reads served, create and sync ZNOTREADONLY (-119);
    ZOO_CONNECTED_STATE and writes once the quorum is back."""
    support.require(KINDS, "read_only")
    binary = _c_read_only_client()
    if binary is None:
        pytest.skip("c_read_only_client not built (libzookeeper-mt-dev; tests/interop)")
    ens = make_ensemble(KINDS, read_only=True, extra_cfg=RO_CFG)
    ens.start()
    survivor = ens.members[0]
    clients(survivor.hostport()).create("/roc", b"before")
    for m in ens.members[1:]:
        m.stop()
    waits.wait_until(lambda: survivor.mode() == "read-only", timeout=30,
                     what="survivor in read-only mode")
    assert _run_c_client(binary, survivor, "/roc") == ["state ro", "get 0 before", "create -119", "sync -119"]
    for m in ens.members[1:]:
        m.start()
    ens.wait_for_leader(timeout=30)
    waits.wait_until(lambda: survivor.mode() in ("leader", "follower"), timeout=30,
                     what="survivor serving read-write")
    assert _run_c_client(binary, survivor, "/roc") == ["state rw", "get 0 before", "create 0", "sync 0"]


def test_lagging_server_refuses_client_with_newer_zxid(make_ensemble, clients, request):
    """A client that has seen zxid Z is not served by a member whose last
    zxid is older (here: a member restarted alone in read-only mode after
    missing writes), while a fresh client is."""
    support.require(KINDS, "read_only")
    ens = make_ensemble(KINDS, read_only=True, extra_cfg=RO_CFG)
    ens.start()
    lag = ens.members[0]
    if lag.mode() == "leader":
        pytest.fail("member 1 should not lead a fresh ensemble")
    lag.stop()
    others = ens.members[1:]
#x may use every member; while `lag` is down it is served by the others.
    x = clients(ens.connect_string(), read_only=True)
#An ephemeral makes x's session global, so that it can move between
#members(a local session expires when its server goes away, and a
#new session starts with no zxid seen).
    x.create("/lag-owner", b"", ephemeral=True)
    for i in range(20):
        x.create("/lag/n%d" % i, b"", makepath=True)
    seen = x.last_zxid
    for m in others:
        m.stop()
    lag.start()
    waits.wait_until(lambda: lag.mode() == "read-only", timeout=30, what="lagging member read-only")
    assert lag.zxid() < seen
    fresh = clients(lag.hostport(), read_only=True)
    _wait_state(fresh, KeeperState.CONNECTED_RO)
    assert fresh.exists("/lag") is None, "the lagging member has the writes it missed"
#Now only `lag` is up, serving read - only clients; x retries it for 3 s
#and must be refused.
    time.sleep(3.0)
    assert x.client_state not in (KeeperState.CONNECTED, KeeperState.CONNECTED_RO), \
        "a server with last zxid 0x%x served a client that saw 0x%x" % (lag.zxid(), seen)
    if lag.kind == "zookeeper":
        assert "as it has seen zxid 0x%x" % seen in lag.log_tail(200000), \
            "ZooKeeper did not log the refusal for the zxid reason"
    others[0].start()
    ens.wait_for_leader(timeout=30)
    checks.retry_until(lambda: x.get("/lag/n19"), timeout=30, what="x served once lag caught up")


EPHEMERAL_HOLDER = r"""
import sys, time
from kazoo.client import KazooClient
c = KazooClient(hosts=sys.argv[1], timeout=2.0)
c.start(timeout=20)
c.create("/eph/holder", b"", ephemeral=True, makepath=True)
print("created", flush=True)
time.sleep(600)
"""


def test_ephemerals_vanish_everywhere_after_expiry(make_ensemble, clients):
    support.require(KINDS + [OBS], "observer")
    ens = make_ensemble(KINDS, observers=[OBS])
    ens.start()
    holder = subprocess.Popen([sys.executable, "-c", EPHEMERAL_HOLDER, ens.members[0].hostport()],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert holder.stdout.readline().strip() == b"created"
        watchers = [pinned(clients, m) for m in ens.members]
        gone = []
        checks.settle(ens, *ens.members)
        for c in watchers:
            ev = threading.Event()
            assert c.exists("/eph/holder", watch=lambda e, ev=ev: ev.set()) is not None
            gone.append(ev)
    finally:
        holder.kill()  # the client dies without closing its session
        holder.wait()
    for m, c, ev in zip(ens.members, watchers, gone):
        assert ev.wait(20), "member %d: ephemeral still there 20 s after its client died" % m.sid
        assert c.exists("/eph/holder") is None


def test_leader_srvr_and_mntr_count_as_zookeeper(make_ensemble, clients):
    """What ZooKeeper 3.8's leader shows once established, before any write
    (read from a real one: AVIARY_ENSEMBLE_KINDS=zookeeper,...): srvr Zxid
    is the new epoch's first zxid (Leader sets lastProcessedZxid to epoch
    << 32) while a follower shows what it applied;
    mntr counts learners
    with observers (zk_learners), synced followers and observers apart
    (zk_synced_followers, zk_synced_observers, zk_synced_non_voting_followers)
    and the SYNCs pending (zk_pending_syncs)."""
    support.require(KINDS + [KINDS[0]])
    ens = make_ensemble(KINDS, observers=[KINDS[0]])
    lead = ens.start()
    want = {"zk_learners": "3", "zk_synced_followers": "2", "zk_synced_non_voting_followers": "0",
            "zk_synced_observers": "1", "zk_pending_syncs": "0"}

    def counts():
        mn = lead.mntr()
        return {
    k: mn.get(k) for k in want
    }

    deadline = time.monotonic() + 30
    while counts() != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counts() == want
#ZooKeeper 3.4's zk_followers(3.8 has only zk_learners), kept for
#check_zookeeper.py and the Datadog check : the learner count.
    assert lead.mntr().get("zk_followers") == ("3" if lead.kind == "aviary" else None)
#A new leader 's proposal sizes (ZooKeeper' s BufferStats) : none yet.
    assert lead.srvr().get("Proposal sizes last/min/max") == "-1/-1/-1", lead.srvr()
    assert [lead.mntr().get("zk_%s_proposal_size" % k) for k in ("last", "min", "max")] == ["-1"] * 3
    assert "Proposal sizes last/min/max" not in ens.followers()[0].srvr()
    assert lead.zxid() == 1 << 32, "leader srvr Zxid %#x" % lead.zxid()
    for f in ens.followers():
        assert f.zxid() == 0, "member %d srvr Zxid %#x" % (f.sid, f.zxid())
    c = clients(lead.hostport())
    czxid = c.create("/after-election", b"", include_data=True)[1].czxid
    assert czxid == (1 << 32) + 2  # after the session's createSession
    assert lead.zxid() == czxid  # the last applied, from the first write on
    last, low, high = (int(v) for v in lead.srvr()["Proposal sizes last/min/max"].split("/"))
    assert 0 < low <= last <= high, (last, low, high)  # createSession, then the create
    assert lead.mntr()["zk_last_proposal_size"] == str(last)
