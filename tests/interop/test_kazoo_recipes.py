"""kazoo 2.8 recipes against the target server: configuration watch, service
discovery, election, lock, barriers, queues."""

import threading
import time

from kazoo.recipe.barrier import Barrier, DoubleBarrier
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock
from kazoo.recipe.queue import LockingQueue, Queue

import rawzk
from waits import wait_until


def test_config_datawatch_sees_every_change_in_order(zk, zk_factory, base):
    path = base + "/config"
    zk.create(path, b"init")
    watcher_client = zk_factory()
    seen = []

    @watcher_client.DataWatch(path)
    def _on_change(data, stat):
        seen.append((data, stat.version if stat else None))

    wait_until(lambda: seen, what="initial DataWatch call")
    for i in range(5):
        zk.set(path, b"v%d" % i)
        wait_until(lambda: seen[-1][0] == b"v%d" % i, 5, what="change %d" % i)
    assert seen == [(b"init", 0)] + [(b"v%d" % i, i + 1) for i in range(5)]
    zk.delete(path)
    wait_until(lambda: seen[-1] == (None, None), 5, what="deletion seen by DataWatch")


def test_service_discovery_ephemeral_sequential_and_expiry(server, zk, zk_factory, base):
    svc = base + "/services/api"
    zk.ensure_path(svc)
    views = []

    @zk.ChildrenWatch(svc)
    def _on_children(children):
        views.append(sorted(children))

    a = zk_factory()
    node_a = a.create(svc + "/inst-", b"10.0.0.1:80", ephemeral=True, sequence=True)
    # Instance B registers from a raw session with the minimum timeout, then
    # goes silent: the server must expire the session and drop its node.
    b = rawzk.open_session(server.host, server.port, timeout_ms=400)
    assert b.timeout_ms == 400
    err, res = b.create(svc + "/inst-", b"10.0.0.2:80", flags=3)
    assert err == 0, err
    node_b = res[0]
    assert node_b.rsplit("-", 1)[1].isdigit() and len(node_b.rsplit("-", 1)[1]) == 10
    name_a, name_b = node_a.rsplit("/", 1)[1], node_b.rsplit("/", 1)[1]
    assert name_a < name_b
    wait_until(lambda: views[-1] == [name_a, name_b], 5, what="both instances listed")
    t0 = time.monotonic()
    wait_until(lambda: views[-1] == [name_a], 10, what="expired instance removed")
    assert time.monotonic() - t0 < 8
    assert zk.exists(node_b) is None
    b.close()
    # Instance A leaves cleanly: its node disappears too.
    a.stop()
    a.close()
    wait_until(lambda: views[-1] == [], 5, what="closed instance removed")


def test_leader_election_one_leader_at_a_time(zk_factory, base):
    path = base + "/election"
    clients = [zk_factory() for _ in range(3)]
    lock = threading.Lock()
    state = {"leading": 0, "max": 0, "order": []}
    release = {i: threading.Event() for i in range(3)}

    def lead(i):
        with lock:
            state["leading"] += 1
            state["max"] = max(state["max"], state["leading"])
            state["order"].append(i)
        release[i].wait(10)
        with lock:
            state["leading"] -= 1

    elections = [Election(c, path, "node-%d" % i) for i, c in enumerate(clients)]
    threads = []
    for i, e in enumerate(elections):
        t = threading.Thread(target=e.run, args=(lead, i), daemon=True)
        t.start()
        threads.append(t)
        if i == 0:
            wait_until(lambda: state["order"] == [0], 5, what="first leader")
    wait_until(lambda: len(elections[0].contenders()) == 3, 5, what="3 contenders")
    assert elections[0].contenders()[0] == "node-0"
    for step in range(3):
        leader = state["order"][-1]
        release[leader].set()
        if step < 2:
            wait_until(lambda: len(state["order"]) == step + 2, 5, what="next leader")
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert state["max"] == 1
    assert sorted(state["order"]) == [0, 1, 2]


def test_lock_mutual_exclusion_and_fifo_order(zk_factory, base):
    path = base + "/lock"
    n = 4
    clients = [zk_factory() for _ in range(n)]
    locks = [Lock(c, path, "c%d" % i) for i, c in enumerate(clients)]
    guard = threading.Lock()
    state = {"holders": 0, "max": 0, "order": []}

    assert locks[0].acquire(timeout=5)
    state["order"].append(0)

    def contend(i):
        assert locks[i].acquire(timeout=15)
        with guard:
            state["holders"] += 1
            state["max"] = max(state["max"], state["holders"])
            state["order"].append(i)
        time.sleep(0.05)
        with guard:
            state["holders"] -= 1
        locks[i].release()

    threads = []
    for i in range(1, n):
        t = threading.Thread(target=contend, args=(i,), daemon=True)
        t.start()
        threads.append(t)
        # Enqueue contenders one at a time so their node order is known.
        wait_until(lambda: len(locks[0].contenders()) == i + 1, 5, what="contender %d" % i)
    assert locks[0].contenders() == ["c%d" % i for i in range(n)]
    assert state["order"] == [0]  # nobody else got in while 0 holds it
    time.sleep(0.2)
    assert state["order"] == [0]
    locks[0].release()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert state["max"] == 1
    assert state["order"] == list(range(n))
    assert clients[0].get_children(path) == []


def test_lock_waiters_watch_only_their_predecessor(server, zk_factory, base):
    """No herd effect: each waiter holds a data watch on its predecessor's
    node only (4lw `wchp`, which on ZooKeeper 3.8 lists data watches only),
    and there are no other watches at all (`mntr` zk_watch_count, which
    counts data + child watches: it must grow by exactly 3)."""
    path = base + "/herd"
    clients = [zk_factory() for _ in range(4)]
    locks = [Lock(c, path, "w%d" % i) for i, c in enumerate(clients)]
    assert locks[0].acquire(timeout=5)

    def watch_count():
        mntr = dict(line.split("\t", 1) for line in server.four_letter("mntr").splitlines()
                    if "\t" in line)
        return int(mntr["zk_watch_count"])

    baseline = watch_count()
    threads = []
    for i in range(1, 4):
        t = threading.Thread(target=lambda i=i: (locks[i].acquire(timeout=15), locks[i].release()),
                             daemon=True)
        t.start()
        threads.append(t)
        wait_until(lambda: len(clients[0].get_children(path)) == i + 1, 5)
    nodes = sorted(clients[0].get_children(path), key=lambda s: s[-10:])

    def watched():
        out, cur = {}, None
        for line in server.four_letter("wchp").splitlines():
            if line.startswith("/"):
                cur = line.strip()
                out[cur] = 0
            elif line.strip() and cur:
                out[cur] += 1
        return out

    expected = {path + "/" + nodes[i]: 1 for i in range(3)}
    w = wait_until(lambda: (lambda d: d if {k: v for k, v in d.items() if k.startswith(path)}
                            == expected else None)(watched()), 5, what="predecessor watches")
    assert path not in w
    assert watch_count() == baseline + 3
    locks[0].release()
    for t in threads:
        t.join(10)
        assert not t.is_alive()


def test_barrier_blocks_until_removed(zk, zk_factory, base):
    path = base + "/barrier"
    Barrier(zk, path).create()
    waiters = [Barrier(zk_factory(), path) for _ in range(2)]
    assert waiters[0].wait(timeout=0.3) is False
    results = []
    threads = [threading.Thread(target=lambda b=b: results.append(b.wait(timeout=10)), daemon=True)
               for b in waiters]
    for t in threads:
        t.start()
    time.sleep(0.2)
    assert results == []
    Barrier(zk, path).remove()
    for t in threads:
        t.join(10)
    assert results == [True, True]


def test_double_barrier_enter_and_leave_together(zk_factory, base):
    path = base + "/dbarrier"
    n = 3
    barriers = [DoubleBarrier(zk_factory(), path, n) for _ in range(n)]
    entered, left = [], []
    guard = threading.Lock()

    def member(i):
        barriers[i].enter()
        with guard:
            entered.append((i, time.monotonic()))
        barriers[i].leave()
        with guard:
            left.append((i, time.monotonic()))

    threads = []
    for i in range(n):
        t = threading.Thread(target=member, args=(i,), daemon=True)
        t.start()
        threads.append(t)
        if i < n - 1:
            time.sleep(0.2)
            assert entered == []  # cannot enter before all n arrived
    for t in threads:
        t.join(15)
        assert not t.is_alive()
    assert sorted(i for i, _ in entered) == list(range(n))
    assert sorted(i for i, _ in left) == list(range(n))
    assert max(t for _, t in entered) <= min(t for _, t in left)


def test_queue_priority_and_fifo(zk, zk_factory, base):
    q = Queue(zk, base + "/queue")
    q.put(b"low1", priority=50)
    q.put(b"low2", priority=50)
    q.put(b"high", priority=10)
    q.put(b"default")
    assert len(q) == 4
    consumer = Queue(zk_factory(), base + "/queue")
    assert [consumer.get() for _ in range(4)] == [b"high", b"low1", b"low2", b"default"]
    assert consumer.get() is None
    assert len(q) == 0


def test_locking_queue_consume_once(zk, zk_factory, base):
    path = base + "/lqueue"
    producer = LockingQueue(zk, path)
    producer.put_all([b"a", b"b"])
    producer.put(b"urgent", priority=1)
    c1 = LockingQueue(zk_factory(), path)
    c2 = LockingQueue(zk_factory(), path)
    assert c1.get(timeout=5) == b"urgent"
    assert c1.holds_lock()
    assert c2.get(timeout=5) == b"a"  # the locked item is skipped
    assert c1.consume() and c2.consume()
    assert c1.get(timeout=5) == b"b"
    assert c1.release()  # not consumed: back to the queue
    assert c2.get(timeout=5) == b"b"
    assert c2.consume()
    assert len(producer) == 0
    assert c1.get(timeout=0.3) is None
