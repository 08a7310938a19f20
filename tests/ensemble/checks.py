"""Scenarios shared by test_ensemble.py, test_mixed.py and test_migration.py.

Each takes a started ensemble.Ensemble and the `clients` fixture, and checks
real behaviour through kazoo clients and the members' four-letter words.
A client "pinned" to a member has only that member in its host list, so
what it reads is that member's own tree.
"""

import collections
import subprocess
import sys
import threading
import time

from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

import waits

SERVING = ("leader", "follower", "observer")


def pinned(clients, member, **kw):
    return clients(member.hostport(), **kw)


def settle(ens, *members):
    """Waits until each member has applied a write committed after every
    write made so far (Ensemble.wait_synced): then what a client pinned to
    it reads includes all of them. Used instead of sync() so that the checks
    do not depend on sync (check_sync tests sync itself)."""
    target = ens.mark()
    for m in members:
        ens.wait_synced(m, target=target)


def wait_same_zxid(ens, members, timeout=10.0):
    """Waits until every member in `members` reports the same last zxid
    (srvr Zxid) and returns it. Call after settle(): the marker's own
    client closes its session after its write, so a closeSession txn
    follows the marker and each member applies it in its own time."""
    deadline = time.monotonic() + timeout
    while True:
        zx = {m.sid: m.zxid() for m in members}
        if len(set(zx.values())) == 1:
            return next(iter(zx.values()))
        if time.monotonic() >= deadline:
            raise AssertionError("srvr Zxid still differs between members after %.0fs: %s" % (
                timeout, {sid: hex(z) for sid, z in zx.items()}))
        time.sleep(0.05)


def read_tree(client, parent):
    """{child name: data} under parent, read with pipelined getData."""
    names = client.get_children(parent)
    futures = [(n, client.get_async(parent + "/" + n)) for n in names]
    out = {}
    for n, f in futures:
        try:
            out[n] = f.get(timeout=20)[0]
        except NoNodeError:
            pass
    return out


def write_many(client, parent, count, payload=b"x" * 64, prefix="n"):
    """Creates parent/<prefix><i> for i < count, pipelined; returns names."""
    client.ensure_path(parent)
    futures = [client.create_async("%s/%s%05d" % (parent, prefix, i), payload + b"%d" % i)
               for i in range(count)]
    for f in futures:
        f.get(timeout=30)
    return ["%s%05d" % (prefix, i) for i in range(count)]


def check_roles(ens):
    """Exactly one leader among the voters; the other voters follow and
    the observers observe."""
    modes = {m.sid: m.mode() for m in ens.members if m.alive()}
    leaders = [sid for sid, mode in modes.items() if mode == "leader"]
    assert len(leaders) == 1, modes
    for m in ens.members:
        if m.alive() and m.sid != leaders[0]:
            assert modes[m.sid] == ("observer" if m.observer else "follower"), modes
    return ens.members[leaders[0] - 1]


def check_writes_visible_everywhere(ens, clients, parent="/vis"):
    """A write through each member (observers included) is read back on
    every member."""
    live = [m for m in ens.members if m.alive()]
    cs = {m.sid: pinned(clients, m) for m in live}
    for sid, c in cs.items():
        try:
            c.create("%s/m%d" % (parent, sid), b"written via %d" % sid, makepath=True)
        except KazooException as e:
            m = ens.members[sid - 1]
            raise AssertionError("create via member %d (%s%s) failed: %r" % (
                sid, m.kind, ", observer" if m.observer else "", e)) from e
    want = {"m%d" % sid: b"written via %d" % sid for sid in cs}
    settle(ens, *live)
    for sid, c in cs.items():
        got = read_tree(c, parent)
        assert got == want, "member %d sees %r" % (sid, got)


def check_watch_fires_on_other_member(ens, clients, watcher_member, writer_member, path="/watched"):
    """A data watch and a child watch set through one member fire when the
    node is changed through another."""
    w = pinned(clients, watcher_member)
    wr = pinned(clients, writer_member)
    wr.create(path, b"0", makepath=True)
    settle(ens, watcher_member)
    data_ev, child_ev = threading.Event(), threading.Event()
    w.get(path, watch=lambda e: data_ev.set())
    w.get_children(path, watch=lambda e: child_ev.set())
    wr.set(path, b"1")
    wr.create(path + "/child", b"")
    assert data_ev.wait(10), "data watch via %d did not fire on a write via %d" % (
        watcher_member.sid, writer_member.sid)
    assert child_ev.wait(10), "child watch did not fire"
    assert w.get(path)[0] == b"1"


class WriteLoad:
    """`workers` kazoo clients, each on the whole connect string, creating
    sequential znodes parent/w<i>/n- whose data names (worker, op). After a
    ConnectionLoss (or a timeout) the same op is retried until acknowledged:
    such an op may exist more than once (at most once per attempt), every
    other op exactly once."""

    def __init__(self, clients, hosts, workers=4, parent="/load"):
        self.parent = parent
        self.cs = [clients(hosts) for _ in range(workers)]
        self.cs[0].ensure_path(parent)
        for i in range(workers):
            self.cs[0].ensure_path("%s/w%d" % (parent, i))
        self.acked = [[] for _ in range(workers)]  # (op, path, monotonic time)
        self.attempts = [collections.Counter() for _ in range(workers)]
        self.errors = collections.Counter()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self, i):
        c, op = self.cs[i], 0
        while not self._stop.is_set():
            data = b"w%d-%d" % (i, op)
            while not self._stop.is_set():
                self.attempts[i][op] += 1
                try:
                    path = c.create_async("%s/w%d/n-" % (self.parent, i), data,
                                          sequence=True).get(timeout=10)
                    self.acked[i].append((op, path, time.monotonic()))
                    break
                except (KazooException, KazooTimeoutError) as e:
                    self.errors[type(e).__name__] += 1
                    time.sleep(0.05)
            op += 1

    def acked_since(self, t):
        return [sum(1 for a in acks if a[2] >= t) for acks in self.acked]

    def wait_progress_after(self, t, count=10, timeout=30):
        """Every worker has `count` acknowledged writes after time t."""
        waits.wait_until(lambda: min(self.acked_since(t)) >= count, timeout=timeout,
                         what="every load client to write again after t (acked since: %r, errors %r)"
                         % (self.acked_since(t), self.errors))

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(timeout=15)
        assert not any(t.is_alive() for t in self.threads), "load thread stuck"

    def total_acked(self):
        return sum(len(a) for a in self.acked)

    def verify(self, ens, member, client):
        """Every acknowledged write is on `member` (read through `client`,
        pinned to it) with its data; ops never retried exist exactly once,
        retried ones at most once per attempt."""
        who = "member %d (%s)" % (member.sid, member.kind)
        settle(ens, member)
        for i, acks in enumerate(self.acked):
            tree = read_tree(client, "%s/w%d" % (self.parent, i))
            for op, path, _ in acks:
                name = path.rsplit("/", 1)[1]
                assert name in tree, "%s: acknowledged %s (op %d) missing" % (who, path, op)
                assert tree[name] == b"w%d-%d" % (i, op), (who, path, tree[name])
            counts = collections.Counter(tree.values())
            for data, n in counts.items():
                w, op = data.decode().split("-")
                op = int(op)
                tries = self.attempts[i][op]
                assert tries > 0, "%s: %r was never written" % (who, data)
                assert n <= tries, "%s: %r present %d times after %d attempts" % (who, data, n, tries)
                if tries == 1:
                    assert n == 1, (who, data, n)
        return True


def check_leader_kill_under_load(ens, clients, workers=4):
    """kill -9 of the leader while `workers` clients write: they fail over,
    a new leader is elected, every acknowledged write is on every member
    (the killed one too, once restarted), no write is duplicated beyond
    its retries."""
    load = WriteLoad(clients, ens.connect_string(ens.voters()), workers=workers).start()
    try:
        load.wait_progress_after(time.monotonic(), count=20)
        old = ens.leader()
        t_kill = time.monotonic()
        old.kill()
        new = ens.wait_for_leader(timeout=30)
        assert new is not old
        load.wait_progress_after(t_kill, count=20)
    finally:
        load.stop()
    assert load.total_acked() > 0
    for m in ens.members:
        if m.alive():
            load.verify(ens, m, pinned(clients, m))
    old.start()
    ens.wait_synced(old)
    load.verify(ens, old, pinned(clients, old))
    return old, new, load


def sync_counts(member, aviary=True):
    """(diff_count, snap_count) from a leader's mntr, or None if it does not
    report them (ZooKeeper 3.8 leaders do: LearnerHandler counts each
    learner sync; Aviary's leader counts them the same way). Exact: a second
    learner that a leader dropped and re-synced meanwhile counts too (an
    Aviary leader once did, while it read a long DIFF from preallocated log
    segments on its consensus thread; a ZooKeeper leader under load on a
    busy machine dropped its ZooKeeper observer after syncLimit), which
    check_follower_catch_up takes off by the learners' own logs. aviary=False: None for an Aviary
    leader (under write load on this loaded machine an Aviary leader may
    still drop and re-sync a slow learner; ZooKeeper leaders are checked
    there as before)."""
    if member.kind != "zookeeper" and not aviary:
        return None
    mn = member.mntr()
    if "zk_diff_count" in mn and "zk_snap_count" in mn:
        return int(mn["zk_diff_count"]), int(mn["zk_snap_count"])
    return None


def check_follower_catch_up(ens, clients, follower, txns, purge=False, load=False):
    """Stops `follower`, commits `txns` txns without it (creates and
    setData), optionally purges old snapshots/logs on the others, restarts
    it and checks - through a client pinned to it, without sync - that its
    tree equals the leader's. With `load`, clients keep writing through the
    others while it restarts and syncs (a ZooKeeper leader's SNAP is then
    fuzzy: it reflects txns after its zxid), and every acknowledged write
    must be on it afterwards. Returns how the follower says it was synced
    (['DIFF'], ['SNAP'], from its log: Member.sync_modes) and the leader's
    (diff, snap) counter increase (None unless the leader reports them), less
    the re-syncs of other learners the leader dropped meanwhile (each
    learner's own log says how it was synced)."""
    ens.wait_synced(follower)  # it has txns of this epoch before it stops
    follower.stop()
    ens.wait_for_leader(timeout=30)
    lead = ens.leader()
    others = [m for m in ens.members if m.alive()]
    c = clients(ens.connect_string(others))
    parent = "/catch-%d-%d" % (follower.sid, int(time.monotonic() * 1000))
    creates = txns // 2
    write_many(c, parent, creates)
    c.create(parent + "-hot", b"", makepath=True)
    futures = [c.set_async(parent + "-hot", b"v%d" % i) for i in range(txns - creates)]
    for f in futures:
        f.get(timeout=30)
    if load:
        # Ballast: a snapshot of a few MB takes the leader long enough to
        # stream that the load's txns land while it is written.
        # Through the leader: a learner (an observer) may drop its clients.
        write_many(pinned(clients, lead), parent + "-ballast", 100, payload=b"b" * 50000)
    if purge:
        for m in others:
            m.purge(retain=3)
    before = sync_counts(lead, aviary=not load)
    target = lead.zxid()
    log_from = follower.log_size()
    # The other learners: under load on a busy machine a leader may drop one
    # that did not answer within syncLimit (1 s; a ZooKeeper leader dropped
    # its ZooKeeper observer, "Read timed out") and re-sync it, which its
    # counters count too. Each learner logs how it was synced.
    bystanders = [m for m in ens.members if m.alive() and m is not lead]
    bystander_from = {m.sid: m.log_size() for m in bystanders}
    writes = WriteLoad(clients, ens.connect_string(others), workers=2, parent=parent + "-load").start() if load else None
    try:
        follower.start()
        ens.wait_synced(follower, target=target)
        if writes is not None:
            writes.wait_progress_after(time.monotonic(), count=20)
    finally:
        if writes is not None:
            writes.stop()
    assert ens.leader() is lead, "the restarted member must join the established leader"
    if writes is not None:
        assert follower.alive(), "member %d (%s) died while syncing under load" % (follower.sid, follower.kind)
        writes.verify(ens, follower, pinned(clients, follower))
        # Txns the fuzzy snapshot already reflected are expected, not mismatches.
        mismatches = follower.mntr().get("zk_learner_apply_mismatches")
        assert mismatches in (None, "0"), "member %d applied %s txns unlike the leader" % (follower.sid, mismatches)
    want = read_tree(pinned(clients, lead), parent)
    assert len(want) == creates
    fc = pinned(clients, follower)
    assert read_tree(fc, parent) == want
    assert fc.get(parent + "-hot")[0] == b"v%d" % (txns - creates - 1)
    modes = follower.sync_modes(since=log_from)
    if before is None:
        return modes, None
    # Every learner serves again (a re-synced one has logged its sync) before
    # the counters are read.
    settle(ens, *bystanders)
    after = sync_counts(lead, aviary=not load)
    if after is None:
        return modes, None
    resyncs = [mode for m in bystanders for mode in m.sync_modes(since=bystander_from[m.sid])]
    # A leader counts a TRUNC with the DIFFs (ZooKeeper's LearnerHandler).
    diffs = sum(1 for mode in resyncs if mode in ("DIFF", "TRUNC"))
    snaps = sum(1 for mode in resyncs if mode == "SNAP")
    if resyncs:
        sys.stderr.write("note: the leader re-synced other learners meanwhile: %r\n" % resyncs)
    return modes, (after[0] - before[0] - diffs, after[1] - before[1] - snaps)


def try_write(clients, hosts, path, wait_s=5.0):
    """True if a create through `hosts` is acknowledged within wait_s."""
    c = clients(hosts, start=False, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    try:
        c.start(timeout=wait_s)
        c.create_async(path, b"", makepath=True).get(timeout=wait_s)
        return True
    except (KazooException, KazooTimeoutError):
        return False
    finally:
        c.stop()  # nothing left queued that could be sent later


def retry_until(fn, timeout=20.0, what="operation"):
    """Calls fn() until it returns without a kazoo error (the client may be
    reconnecting or getting a new session); returns its result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (KazooException, KazooTimeoutError) as e:
            if time.monotonic() >= deadline:
                raise AssertionError("%s still failing after %.0fs: %r" % (what, timeout, e))
            time.sleep(0.1)


def create_retrying(client, path, data, timeout=20.0, what=None):
    """client.create(path, data) until acknowledged (retry_until). An
    attempt that failed with a connection loss or a timeout may still have
    been committed: a later NodeExistsError then counts as the create
    (its data is checked), not as a failure."""
    tried = [False]

    def attempt():
        try:
            return client.create(path, data)
        except NodeExistsError:
            if not tried[0]:
                raise
            got = client.get(path)[0]
            assert got == data, "%s exists with %r, not the %r written" % (path, got, data)
            return path
        except (KazooException, KazooTimeoutError):
            tried[0] = True
            raise
    return retry_until(attempt, timeout=timeout, what=what or "create %s" % path)


def check_observer(ens, clients, obs):
    """The observer serves reads and forwards writes; with two of three
    voters down and the observer up, no write is accepted; once a voter
    returns, writes through the observer work again."""
    assert obs.observer and obs.mode() == "observer"
    voters = ens.voters()
    co, cv = pinned(clients, obs), clients(ens.connect_string(voters))
    cv.create("/obs/from-voter", b"v", makepath=True)
    settle(ens, obs)
    assert co.get("/obs/from-voter")[0] == b"v"
    co.create("/obs/from-observer", b"o")
    settle(ens, *voters)
    assert cv.get("/obs/from-observer")[0] == b"o"
    lead = ens.leader()
    down = [m for m in voters if m is not lead][:1] + [lead]
    for m in down:
        m.stop()
    survivor = [m for m in voters if m not in down][0]
    waits.wait_until(lambda: obs.mode() != "observer" and survivor.mode() not in SERVING,
                     timeout=20, what="observer and lone voter to stop serving")
    assert not try_write(clients, ens.connect_string([obs, survivor]), "/obs/minority", wait_s=4.0), \
        "a write was accepted by one voter + an observer"
    down[0].start()
    ens.wait_for_leader(timeout=30)
    ens.wait_synced(obs)
    create_retrying(co, "/obs/after", b"a", what="write via the observer")
    settle(ens, down[0])
    assert pinned(clients, down[0]).exists("/obs/after")
    assert pinned(clients, survivor).exists("/obs/minority") is None


def check_sync(ens, clients):
    """sync() through each member, right after a write through another
    member, makes the next read through it see that write."""
    live = [m for m in ens.members if m.alive()]
    cs = {m.sid: pinned(clients, m) for m in live}
    cs[live[0].sid].ensure_path("/sync")
    for i, m in enumerate(live):
        writer = live[(i + 1) % len(live)]
        path = "/sync/for-%d" % m.sid
        cs[writer.sid].create(path, b"by %d" % writer.sid)
        try:
            cs[m.sid].sync("/sync")
        except KazooException as e:
            raise AssertionError("sync via member %d (%s%s, leader %s) failed: %r" % (
                m.sid, m.kind, ", observer" if m.observer else "", ens.leader().kind, e)) from e
        assert cs[m.sid].get(path)[0] == b"by %d" % writer.sid, "member %d" % m.sid


# Connects to argv[1] (resuming session argv[2]/argv[3] if given), creates
# or checks the ephemeral argv[4], prints "<session id> <password hex>
# <ephemeral owner>" and exits without closing the session.
SESSION_HOP = r"""
import os, sys
from kazoo.client import KazooClient
hosts, sid, pw, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kw = {"client_id": (sid, bytes.fromhex(pw))} if sid else {}
c = KazooClient(hosts=hosts, timeout=8.0, **kw)
c.start(timeout=20)
if not sid:
    c.create(path, b"", ephemeral=True, makepath=True)
c.sync(path)
st = c.exists(path)
print(c.client_id[0], c.client_id[1].hex(), st.ephemeralOwner if st else 0, flush=True)
os._exit(0)
"""


def hop(member, sid, pw, path):
    out = subprocess.run([sys.executable, "-c", SESSION_HOP, member.hostport(), str(sid), pw, path],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    got_sid, got_pw, owner = out.stdout.split()
    return int(got_sid), got_pw, int(owner)


def check_session_moves(ens):
    """For every ordered pair of voters: a session made (with an ephemeral)
    on the first resumes on the second with its id and password, and still
    owns its ephemeral. All failing pairs are reported together."""
    voters = ens.voters()
    lost = []
    for origin in voters:
        for other in [m for m in voters if m is not origin]:
            path = "/moves/%d-to-%d" % (origin.sid, other.sid)
            sid, pw, owner = hop(origin, 0, "", path)
            assert owner == sid
            got, _, owner = hop(other, sid, pw, path)
            if got != sid or owner != sid:
                lost.append("made on member %d (%s), expired on member %d (%s)" % (
                    origin.sid, origin.kind, other.sid, other.kind))
    assert not lost, "sessions lost when moving: " + "; ".join(lost)
