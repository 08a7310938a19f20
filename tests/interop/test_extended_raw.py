"""Features kazoo 2.8 has no API for, spoken on the raw wire: persistent and
persistent-recursive watches (addWatch), TTL nodes, container nodes."""

import time

import rawzk
from waits import wait_until

CONNECTED = 3  # KeeperState.SyncConnected


def test_persistent_recursive_watch(server, zk, base):
    w = rawzk.open_session(server.host, server.port)
    try:
        assert w.add_watch(base, rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0
        zk.create(base + "/a", b"1")
        zk.create(base + "/a/b", b"2")
        zk.set(base + "/a", b"3")
        zk.set(base + "/a", b"4")
        zk.delete(base + "/a/b")
        zk.set(base, b"root")
        evs = w.wait_events(6, timeout=5)
        assert evs == [
            (rawzk.EV_CREATED, CONNECTED, base + "/a"),
            (rawzk.EV_CREATED, CONNECTED, base + "/a/b"),
            (rawzk.EV_DATA_CHANGED, CONNECTED, base + "/a"),
            (rawzk.EV_DATA_CHANGED, CONNECTED, base + "/a"),
            (rawzk.EV_DELETED, CONNECTED, base + "/a/b"),
            (rawzk.EV_DATA_CHANGED, CONNECTED, base),
        ]
        # Still armed (never one-shot), and no NodeChildrenChanged at all.
        zk.create(base + "/c")
        assert w.wait_events(7, timeout=5)[-1] == (rawzk.EV_CREATED, CONNECTED, base + "/c")
        assert all(t != rawzk.EV_CHILDREN_CHANGED for t, _s, _p in w.events)
    finally:
        w.close_session()


def test_persistent_watch_is_not_one_shot(server, zk, base):
    w = rawzk.open_session(server.host, server.port)
    try:
        assert w.add_watch(base, rawzk.ADD_WATCH_PERSISTENT) == 0
        zk.set(base, b"1")
        zk.set(base, b"2")
        zk.create(base + "/x")
        zk.create(base + "/x/deeper")  # not reported: not recursive
        zk.create(base + "/y")
        zk.delete(base + "/x/deeper")
        zk.delete(base + "/x")
        evs = w.wait_events(5, timeout=5)
        time.sleep(0.2)
        w.ping()  # flush anything else in flight
        assert w.events == [
            (rawzk.EV_DATA_CHANGED, CONNECTED, base),
            (rawzk.EV_DATA_CHANGED, CONNECTED, base),
            (rawzk.EV_CHILDREN_CHANGED, CONNECTED, base),
            (rawzk.EV_CHILDREN_CHANGED, CONNECTED, base),
            (rawzk.EV_CHILDREN_CHANGED, CONNECTED, base),
        ], evs
        # addWatch on a missing path is allowed; creation is then reported.
        assert w.add_watch(base + "/later", rawzk.ADD_WATCH_PERSISTENT) == 0
        zk.create(base + "/later")
        assert (rawzk.EV_CREATED, CONNECTED, base + "/later") in w.wait_events(7, 5)
    finally:
        w.close_session()


def test_ttl_node_expires(server, zk, base):
    c = rawzk.open_session(server.host, server.port)
    try:
        err, res = c.create(base + "/ttl", b"t", flags=rawzk.FLAG_PERSISTENT_TTL, ttl=300)
        assert err == 0
        path, stat = res
        assert path == base + "/ttl"
        # The server stores ephemeralOwner 0xFF00..|ttl internally, but clients
        # are shown 0 (create2 reply and exists alike).
        assert stat["ephemeralOwner"] == 0
        assert zk.exists(path).ephemeralOwner == 0
        err, res = c.create(base + "/ttlseq-", flags=rawzk.FLAG_PERSISTENT_SEQ_TTL, ttl=60000)
        assert err == 0 and res[0] == base + "/ttlseq-0000000001"
        # Not a TTL mode, or a TTL out of range: BADARGUMENTS (-8).
        assert c.create(base + "/bad1", flags=rawzk.FLAG_PERSISTENT, ttl=1000)[0] == -8
        assert c.create(base + "/bad2", flags=rawzk.FLAG_PERSISTENT_TTL, ttl=0)[0] == -8
        assert c.create(base + "/bad3", flags=rawzk.FLAG_PERSISTENT_TTL, ttl=-5)[0] == -8
        assert zk.exists(path) is not None
        # A TTL node with children is kept; once empty and idle past its TTL it is reaped.
        wait_until(lambda: zk.exists(path) is None, 10, what="TTL node reaped")
        assert zk.exists(base + "/ttlseq-0000000001") is not None
        assert zk.exists(base + "/bad1") is None
    finally:
        c.close_session()


def test_container_node_reaped_after_last_child_goes(server, zk, base):
    c = rawzk.open_session(server.host, server.port)
    try:
        err, res = c.create(base + "/box", b"c", flags=rawzk.FLAG_CONTAINER)
        assert err == 0
        path, stat = res
        # Stored owner is 0x8000000000000000 internally, shown to clients as 0.
        assert stat["ephemeralOwner"] == 0
        assert zk.exists(path).ephemeralOwner == 0
        err, res = c.create(base + "/never-used", flags=rawzk.FLAG_CONTAINER)
        assert err == 0
        zk.create(path + "/child", b"x")
        time.sleep(0.5)
        assert zk.exists(path) is not None  # has a child: kept
        zk.delete(path + "/child")
        wait_until(lambda: zk.exists(path) is None, 10, what="container reaped")
        # A container that never had a child is not reaped.
        assert zk.exists(base + "/never-used") is not None
    finally:
        c.close_session()


def test_silent_session_expires_after_timeout(server, zk, base):
    c = rawzk.open_session(server.host, server.port, timeout_ms=400)
    assert c.timeout_ms == 400
    err, _ = c.create(base + "/eph", flags=rawzk.FLAG_EPHEMERAL)
    assert err == 0
    t0 = time.monotonic()
    wait_until(lambda: zk.exists(base + "/eph") is None, 10, what="expiry")
    elapsed = time.monotonic() - t0
    assert 0.2 < elapsed < 5, elapsed
    # The server drops the expired session's connection.
    assert c.is_closed_by_peer(timeout=5)
    c.close()
