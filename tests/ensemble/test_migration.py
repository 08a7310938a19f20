"""Rolling migration (issue 7, item 5): a 3-node ZooKeeper 3.8 ensemble
under a kazoo load with watches and ephemerals has each member replaced in
turn by Aviary - same zoo.cfg and myid, a fresh empty dataDir, synced from
the running ensemble before the next - and then back to ZooKeeper the same
way. No acknowledged write is lost, no session is lost, watches keep firing.

With AVIARY_ENSEMBLE_SUBSTITUTE=zookeeper the "Aviary" steps run ZooKeeper
(a rolling wipe-and-resync of ZooKeeper itself), how the test was proven.
"""

import threading
import time

from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.recipe.watchers import DataWatch

import checks
import ensemble
import support
import waits

ZK, AV = "zookeeper", "aviary"


class Ticker:
    """Sets /mig/watched every 50 ms through its own client; a second client
    (on the whole ensemble) holds a kazoo DataWatch on it and counts the
    values it is told about."""

    def __init__(self, clients, hosts):
        self.writer = clients(hosts)
        self.watcher = clients(hosts)
        self.writer.ensure_path("/mig/watched")
        self.seen = []
        self._stop = threading.Event()
        DataWatch(self.watcher, "/mig/watched", self._on_change)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_change(self, data, stat):
        if data is not None:
            self.seen.append((data, time.monotonic()))

    def _run(self):
        i = 0
        while not self._stop.is_set():
            try:
                self.writer.set("/mig/watched", b"%d" % i)
                i += 1
            except (KazooException, KazooTimeoutError):
                pass
            time.sleep(0.05)

    def events_since(self, t):
        return sum(1 for _, ts in self.seen if ts >= t)

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=10)


def replace_all(ens, clients, kind, load, ticker):
    """Replaces the followers, then the leader, by `kind`; after each step
    the new member has synced and the load and the watch have gone on."""
    lead = ens.leader()
    for m in [x for x in ens.members if x is not lead] + [lead]:
        t_step = time.monotonic()
        target = ens.mark()
        m.replace(kind, wipe=True)
        ens.wait_synced(m, target=target, timeout=40)
        ens.wait_for_leader(timeout=30)
        assert m.mode() in ("leader", "follower")
        load.wait_progress_after(t_step, count=5)
        waits.wait_until(lambda: ticker.events_since(t_step) >= 5, timeout=20,
                                what="watch events after replacing member %d" % m.sid)
        # Fresh dataDir, same myid: the new member has the whole tree.
        pinned = checks.pinned(clients, m)
        checks.settle(ens, m)
        assert pinned.exists("/mig/eph") is not None
        pinned.stop()


def test_rolling_migration_and_back(make_ensemble, clients, request):
    support.require([ZK, AV])
    ens = make_ensemble([ZK, ZK, ZK])
    ens.start()
    hosts = ens.connect_string()
    owner = clients(hosts)
    owner.create("/mig/eph", b"held", ephemeral=True, makepath=True)
    load = checks.WriteLoad(clients, hosts, workers=2, parent="/mig-load").start()
    ticker = Ticker(clients, hosts)
    ticker.thread.start()
    sessions = {id(c): c.client_id[0] for c in [owner, ticker.watcher, ticker.writer] + load.cs}
    try:
        replace_all(ens, clients, AV, load, ticker)
        assert [m.kind for m in ens.members] == [ensemble.substitute(AV)] * 3
        replace_all(ens, clients, ZK, load, ticker)
        assert [m.kind for m in ens.members] == [ensemble.substitute(ZK)] * 3
    finally:
        load.stop()
        ticker.stop()
    assert load.total_acked() > 0 and len(ticker.seen) > 30
    for m in ens.members:
        load.verify(ens, m, checks.pinned(clients, m))
    names = ["owner", "watcher", "ticker"] + ["load%d" % i for i in range(len(load.cs))]
    lost = [n for n, c in zip(names, [owner, ticker.watcher, ticker.writer] + load.cs)
            if c.client_id[0] != sessions[id(c)]]
    assert not lost, "sessions lost (new session ids): %s" % lost
    for m in ens.members:
        st = checks.pinned(clients, m).exists("/mig/eph")
        assert st is not None and st.ephemeralOwner == sessions[id(owner)], "member %d" % m.sid
