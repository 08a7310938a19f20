"""The replica host end to end (server/quorum_peer.h): real aviary-server
processes (and Apache ZooKeeper 3.8 members) on loopback, started with the
zoo.cfg + myid an operator writes (ensemble.py), driven by kazoo.

Each test proves one guarantee:
  - three Aviary members elect one leader; writes through a follower are
    readable on every member (REQUEST forwarding, PROPOSAL/ACK/COMMIT);
  - kill -9 of the leader under a write load: a new leader, the clients
    fail over, every acknowledged write is on every live member;
  - a follower restarted after missing txns catches up (DIFF from the log);
  - mixed ensembles with Apache ZooKeeper 3.8 in both directions.
"""

import os
import sys
import subprocess
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NodeExistsError, OperationTimeoutError, SessionExpiredError
from kazoo.retry import KazooRetry

sys.path.insert(0, os.path.dirname(__file__))
import digests  # noqa: E402
import ensemble  # noqa: E402

ZK_PRESENT = all(os.path.exists(j) for j in ensemble.ZK_JARS)
needs_zk = pytest.mark.skipif(not ZK_PRESENT, reason="Apache ZooKeeper 3.8 (Debian package zookeeper) not installed")


@pytest.fixture
def make_ensemble():
    made = []

    def make(kinds, **kw):
        e = ensemble.Ensemble(kinds, **kw)
        made.append(e)
        return e

    yield make
    for e in made:
        for m in e.members:  # shown by pytest when the test failed
            print("--- member %d (%s) mode=%r\n%s" % (m.sid, m.kind, m.alive() and m.mode(), m.log_tail(4000)))
        e.stop()


def client(hosts, timeout=10.0):
    c = KazooClient(hosts=hosts, timeout=timeout,
                    connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5))
    c.start(timeout=30)
    return c


def read_all(member, path):
    """Children and data of `path` as `member` alone serves them."""
    c = client(member.hostport())
    try:
        c.sync(path)
        return {name: c.get(path + "/" + name)[0] for name in c.get_children(path)}
    finally:
        c.stop()
        c.close()


def wait_until(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_three_aviary_members_elect_a_leader_and_replicate(make_ensemble):
    ens = make_ensemble(["aviary", "aviary", "aviary"])
    lead = ens.start(timeout=60)
    modes = sorted(m.mode() for m in ens.members)
    assert modes == ["follower", "follower", "leader"]
    mntr = ensemble.four_letter(lead.client_port, "mntr")
    assert "zk_server_state\tleader" in mntr
    wait_until(lambda: "zk_synced_followers\t2" in ensemble.four_letter(lead.client_port, "mntr"),
               what="two synced followers")

    follower = next(m for m in ens.members if m is not lead)
    c = client(follower.hostport())
    try:
        c.create("/r", b"root")
        for i in range(30):
            c.create("/r/n%02d" % i, b"v%d" % i)
        c.set("/r/n00", b"changed")
        c.delete("/r/n29")
        assert c.get("/r/n00")[0] == b"changed"  # read-your-writes on the follower
    finally:
        c.stop()
        c.close()
    want = {"n%02d" % i: b"v%d" % i for i in range(29)}
    want["n00"] = b"changed"
    for m in ens.members:
        assert read_all(m, "/r") == want, "member %d" % m.sid


class Writer(threading.Thread):
    """Creates /load/<name>-<i> in a loop through the whole ensemble; keeps
    the names of every create that was acknowledged."""

    def __init__(self, hosts, name):
        super().__init__(daemon=True)
        self.c = client(hosts)
        self.name = name
        self.acked = []
        self.stop_flag = threading.Event()
        self.errors = 0

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            path = "/load/%s-%05d" % (self.name, i)
            while not self.stop_flag.is_set():
                try:
                    self.c.create(path, b"x")
                    self.acked.append(path)
                    break
                except NodeExistsError:  # an earlier attempt got through
                    self.acked.append(path)
                    break
                except (ConnectionLoss, OperationTimeoutError, SessionExpiredError):
                    self.errors += 1
                    time.sleep(0.05)
            i += 1

    def finish(self):
        self.stop_flag.set()
        self.join(timeout=60)
        self.c.stop()
        self.c.close()


def test_leader_kill9_under_load_loses_no_acknowledged_write(make_ensemble):
    ens = make_ensemble(["aviary", "aviary", "aviary"])
    lead = ens.start(timeout=60)
    setup = client(ens.connect_string())
    setup.create("/load")
    setup.stop()
    setup.close()
    writers = [Writer(ens.connect_string(), "w%d" % i) for i in range(3)]
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) >= 20 for w in writers), what="writes before the kill")
    lead.kill()
    new = ens.wait_for_leader(timeout=60, serving=[m for m in ens.members if m is not lead])
    assert new is not lead
    before = [len(w.acked) for w in writers]
    wait_until(lambda: all(len(w.acked) >= b + 20 for w, b in zip(writers, before)), timeout=60,
               what="writes after the failover")
    for w in writers:
        w.finish()
    acked = {p.rsplit("/", 1)[1] for w in writers for p in w.acked}
    # The old leader comes back (it may hold txns its epoch never
    # committed: TRUNC reloads its state) and follows.
    lead.start()
    wait_until(lambda: lead.mode() == "follower", timeout=60, what="the old leader following")
    for m in ens.members:
        present = set(read_all(m, "/load"))
        missing = acked - present
        assert not missing, "member %d lost acknowledged writes: %s" % (m.sid, sorted(missing)[:10])


def test_restarted_follower_catches_up_by_diff(make_ensemble):
    ens = make_ensemble(["aviary", "aviary", "aviary"])
    lead = ens.start(timeout=60)
    c = client(lead.hostport())
    c.create("/d", b"")
    for i in range(10):
        c.create("/d/a%03d" % i, b"before")
    follower = next(m for m in ens.members if m is not lead)
    follower.kill()
    for i in range(200):
        c.create("/d/b%03d" % i, b"missed")
    c.set("/d/a000", b"changed while down")
    follower.start()
    wait_until(lambda: follower.mode() == "follower", timeout=60, what="the follower back")
    got = read_all(follower, "/d")
    assert len(got) == 210
    assert got["a000"] == b"changed while down"
    assert all(got["b%03d" % i] == b"missed" for i in range(200))
    # It synced from the leader's log, not from a snapshot.
    assert "the leader syncs us by DIFF" in follower.log_tail(200000).split("signal")[-1]
    c.stop()
    c.close()


def _mixed_roundtrip(ens, aviary_member):
    """Writes through the Aviary member and through each other member; every
    member serves every write."""
    c = client(aviary_member.hostport())
    try:
        c.create("/mix", b"from-aviary")
        for i in range(20):
            c.create("/mix/a%02d" % i, b"a")
    finally:
        c.stop()
        c.close()
    for m in ens.members:
        if m is aviary_member:
            continue
        o = client(m.hostport())
        try:
            o.create("/mix/z%d" % m.sid, b"z")
        finally:
            o.stop()
            o.close()
    want = {"a%02d" % i: b"a" for i in range(20)}
    for m in ens.members:
        if m is not aviary_member:
            want["z%d" % m.sid] = b"z"
    for m in ens.members:
        assert read_all(m, "/mix") == want, "member %d (%s)" % (m.sid, m.kind)


def _start_in_order(ens, first, then):
    """Starts `first` until one of them leads, then `then`, which must join."""
    for m in first:
        m.start()
    ens.wait_for_leader(timeout=90, serving=first)
    for m in then:
        m.start()
    return ens.wait_for_leader(timeout=90)


@needs_zk
def test_aviary_follows_two_zookeeper_members(make_ensemble):
    ens = make_ensemble(["zookeeper", "zookeeper", "aviary"])
    zk1, zk2, av = ens.members
    lead = _start_in_order(ens, [zk1, zk2], [av])
    assert lead.kind == "zookeeper"
    assert av.mode() == "follower"
    _mixed_roundtrip(ens, av)
    # The Aviary follower compared ZooKeeper's TxnDigests with its tree.
    digests.check_no_mismatch(ens)


@needs_zk
def test_zookeeper_follows_an_aviary_leader(make_ensemble):
    ens = make_ensemble(["zookeeper", "aviary", "aviary"])
    zk, av1, av2 = ens.members
    lead = _start_in_order(ens, [av1, av2], [zk])
    assert lead.kind == "aviary"
    assert zk.mode() == "follower"
    follower_av = av1 if lead is av2 else av2
    _mixed_roundtrip(ens, follower_av)
    # The ZooKeeper follower received the Aviary leader's TxnDigests, logged
    # them and found each equal to its own tree's digest.
    digests.check_no_mismatch(ens)
    total, with_digest = digests.logged_digests(zk)
    assert with_digest >= 20, "ZooKeeper logged %d txns, %d with a digest" % (total, with_digest)


def test_observer_serves_reads_and_forwards_writes(make_ensemble):
    ens = make_ensemble(["aviary", "aviary", "aviary"], observers=["aviary"])
    lead = ens.start(timeout=60)
    obs = ens.members[3]
    assert obs.mode() == "observer"
    # Observers do not count: the leader reports two synced followers.
    wait_until(lambda: "zk_synced_followers\t2" in ensemble.four_letter(lead.client_port, "mntr"),
               what="two synced followers")
    c = client(obs.hostport())
    try:
        c.create("/o", b"via-observer")
        for i in range(10):
            c.create("/o/c%d" % i, b"%d" % i)
    finally:
        c.stop()
        c.close()
    want = {"c%d" % i: b"%d" % i for i in range(10)}
    for m in ens.members:
        assert read_all(m, "/o") == want, "member %d" % m.sid


def test_a_member_without_quorum_refuses_clients(make_ensemble):
    ens = make_ensemble(["aviary", "aviary", "aviary"])
    alone = ens.members[0]
    alone.start()
    wait_until(lambda: "not currently serving" in ensemble.four_letter(alone.client_port, "srvr"),
               what="srvr on a member without a quorum")
    c = KazooClient(hosts=alone.hostport(), timeout=2.0)
    with pytest.raises(Exception):
        c.start(timeout=3)
    c.stop()
    c.close()
    assert alone.alive()


# An all-Aviary ensemble stops a learner whose tree diverged from its leader's.
DIGEST_STOP_CFG = {"aviary.digest.stopOnMismatch": "true", "extendedTypesEnabled": "true",
                   "znode.container.checkIntervalMs": "500"}
# The default: a learner stops when its leader is Aviary (LEADERINFO says so).
DIGEST_DEFAULT_CFG = {k: v for k, v in DIGEST_STOP_CFG.items() if k != "aviary.digest.stopOnMismatch"}


def test_aviary_ensemble_digests_match(make_ensemble, clients):
    """Every kind of txn through the leader and a follower: each member's
    tree digest equals the one the leader proposed after every txn (no
    mismatch counted; with stopOnMismatch nobody stopped)."""
    ens = make_ensemble(["aviary", "aviary", "aviary"], extra_cfg=DIGEST_STOP_CFG)
    lead = ens.start(timeout=60)
    follower = next(m for m in ens.members if m is not lead)
    digests.workload(ens, clients, via=follower, other=lead)
    assert digests.wait_swept(ens, clients, lead, ["/dg/c", "/dg/t"]), "container / TTL not swept"
    c = client(follower.hostport())
    c.create("/marker", b"")
    c.stop()
    c.close()
    for m in ens.members:
        wait_until(lambda: read_all(m, "/").get("marker") is not None, what="member %d has the marker" % m.sid)
    digests.check_no_mismatch(ens)
    assert all(m.alive() for m in ens.members)


def _write_standalone_cfg(member):
    """A standalone zoo.cfg on the member's dataDir (no server lines)."""
    path = os.path.join(member.workdir, "standalone.cfg")
    with open(path, "w") as f:
        f.write("tickTime=200\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\n4lw.commands.whitelist=*\n"
                % (member.data_dir, ensemble.free_port()))
        return path


def test_diverged_aviary_follower_stops(make_ensemble):
    """A follower whose files hold a write the ensemble never made (written
    by running it standalone on its dataDir while it was down) rejoins by
    DIFF, whose txns carry no digest; the first proposal after it carries
    the leader's digest, which differs from its tree's: it logs the
    mismatch and stops: its leader is Aviary, so by default (no
    aviary.digest.stopOnMismatch) a mismatch means divergence."""
    ens = make_ensemble(["aviary", "aviary", "aviary"], extra_cfg=DIGEST_DEFAULT_CFG)
    lead = ens.start(timeout=60)
    c = client(lead.hostport())
    c.create("/d", b"")
    follower = next(m for m in ens.members if m is not lead)
    wait_until(lambda: read_all(follower, "/").get("d") is not None, what="the follower has /d")
    follower.stop()
    alone = subprocess.Popen([ensemble.aviary_binary(), _write_standalone_cfg(follower)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: "Mode: standalone" in _srvr_of(follower), what="the standalone server")
        s = client("127.0.0.1:%d" % _standalone_port(follower))
        s.create("/diverged", b"only here")
        s.stop()
        s.close()
    finally:
        alone.terminate()
        alone.wait(timeout=10)
    for i in range(5):
        c.create("/d/n%d" % i, b"x")
    follower.start()
    wait_until(lambda: follower.mode() == "follower" or not follower.alive(), timeout=60, what="the follower back")
    follower.stopped = True  # its exit is the expected outcome
    c.create("/d/after", b"y")  # a proposal with the leader's digest
    wait_until(lambda: not follower.alive(), timeout=30, what="the diverged follower stopping")
    assert follower.proc.returncode == 3
    log = follower.log_since(0)
    assert "Digests are not matching" in log
    assert "diverged from its Aviary leader" in log
    # The others compared the same digest and agree.
    digests.check_no_mismatch(ens, [m for m in ens.members if m is not follower])
    c.stop()
    c.close()


def _standalone_port(member):
    with open(os.path.join(member.workdir, "standalone.cfg")) as f:
        for line in f:
            if line.startswith("clientPort="):
                return int(line.split("=", 1)[1])
    raise AssertionError("no clientPort")


def _srvr_of(member):
    try:
        return ensemble.four_letter(_standalone_port(member), "srvr")
    except OSError:
        return ""
