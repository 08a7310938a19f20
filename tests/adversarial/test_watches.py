"""Hostile use of watches and ACL-protected nodes (issue 6, items 5, 12, 16).

- a watch flood beyond aviary.maxWatchesPerSession / maxWatchBytesPerSession
  is refused with QUOTAEXCEEDED and the server's memory stays bounded;
- an unauthenticated session's recursive watch on "/" sees nothing that
  happens under a digest-protected subtree (CVE-2024-23944);
- exists() on a node the session may not READ answers NOAUTH (ZOOKEEPER-2590);
- a client-sent deleteContainer (an internal opcode) deletes nothing;
- removeWatches types 4 (persistent) and 5 (persistent recursive) of 3.9;
- multiRead getData/getChildren never register watches (as ZooKeeper: its
  server rebuilds those ops without the watch flag).

AVIARY_TARGET=zookeeper runs the cases ZooKeeper shares against Debian's
ZooKeeper 3.8.0-11+deb12u2, which carries the CVE-2024-23944 fix as a Debian
patch but predates ZOOKEEPER-2590 (3.8.4 / 3.9.2) and 3.9's watcher types.
"""

import base64
import hashlib

import pytest

import adv
import harness
import rawzk
from rawzk import j_bool, j_int, j_long, j_string

OP_GET_CHILDREN = 8
OP_DELETE_CONTAINER = 20
OP_MULTI_READ = 22
OP_CHECK_WATCHES = 17
OP_REMOVE_WATCHES = 18
OP_SET_WATCHES2 = 105
OP_AUTH = 100

ERR_BADARGUMENTS = -8
ERR_NONODE = -101
ERR_NOAUTH = -102
ERR_NOWATCHER = -121
ERR_QUOTA_EXCEEDED = -125

WT_CHILDREN, WT_DATA, WT_ANY, WT_PERSISTENT, WT_RECURSIVE = 1, 2, 3, 4, 5

aviary_only = pytest.mark.skipif(harness.target() == "zookeeper",
                                 reason="Aviary behaviour that ZooKeeper does not share")


def digest_acl(user, password, perms=31):
    h = base64.b64encode(hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()).decode()
    return [(perms, "digest", "%s:%s" % (user, h))]


def add_auth(c, user, password):
    body = j_int(0) + j_string("digest") + rawzk.j_buffer(("%s:%s" % (user, password)).encode())
    _zxid, err, _r = c.read_reply(c.send_request(OP_AUTH, body, xid=-4))
    return err


def get_children(c, path, watch=False):
    _zxid, err, _r = c.call(OP_GET_CHILDREN, j_string(path) + j_bool(watch))
    return err


def remove_watches(c, path, wtype, check=False):
    op = OP_CHECK_WATCHES if check else OP_REMOVE_WATCHES
    _zxid, err, _r = c.call(op, j_string(path) + j_int(wtype))
    return err


def set_watches2(c, rel_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
    body = j_long(rel_zxid)
    for lst in (data, exist, child, persistent, recursive):
        body += j_int(len(lst)) + b"".join(j_string(p) for p in lst)
    xid = c.send_request(OP_SET_WATCHES2, body, xid=-8)
    _zxid, err, _r = c.read_reply(xid)
    return err


def multi_read(c, ops):
    """ops: [(opcode, path, watch)] -> list of per-op err (0 on success)."""
    body = b""
    for op, path, watch in ops:
        body += j_int(op) + j_bool(False) + j_int(-1) + j_string(path) + j_bool(watch)
    body += j_int(-1) + j_bool(True) + j_int(-1)
    _zxid, err, r = c.call(OP_MULTI_READ, body)
    assert err == 0, "multiRead -> %d" % err
    errs = []
    while True:
        typ, done, e = r.int(), r.take(1) != b"\x00", r.int()
        if done:
            return errs
        if typ == -1:
            errs.append(r.int())
        elif typ == rawzk.OP_GET_DATA:
            r.buffer()
            r.stat()
            errs.append(0)
        else:
            n = r.int()
            for _ in range(max(n, 0)):
                r.string()
            errs.append(0)


def drain_events(c, quiet=0.5):
    """Collect notifications until the connection has been quiet for `quiet` s."""
    while True:
        before = len(c.events)
        c.wait_events(before + 1, timeout=quiet)
        if len(c.events) == before:
            return list(c.events)


# --- item 5: watches per session are bounded --------------------------------

@aviary_only
def test_watch_flood_is_refused_past_the_limit_and_memory_stays_bounded(server_factory):
    srv = server_factory({"aviary.maxWatchesPerSession": 200,
                          "aviary.maxWatchBytesPerSession": 4 * 1024 * 1024})
    with adv.Guard(srv, rss_slack_kb=48 * 1024) as g:
        a = rawzk.open_session(srv.host, srv.port)
        assert a.create("/w")[0] == 0
        assert a.create("/w/n")[0] == 0
        assert a.create("/w/m")[0] == 0
        # Every kind counts, in mntr's zk_watch_count unit (one per watched
        # path and watch table): 100 exists watches, a persistent watch (2),
        # a recursive watch (1), a child watch (1), setWatches re-arming (96).
        for i in range(100):
            assert a.exists("/w/missing%03d" % i, watch=True)[0] == ERR_NONODE
        assert a.add_watch("/w", rawzk.ADD_WATCH_PERSISTENT) == 0
        assert a.add_watch("/w/n", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0
        assert get_children(a, "/w/n", watch=True) == 0
        assert set_watches2(a, 1 << 40, exist=["/w/re%03d" % i for i in range(97)]) == ERR_QUOTA_EXCEEDED
        assert set_watches2(a, 1 << 40, exist=["/w/re%03d" % i for i in range(96)]) == 0
        # Full: each kind of new watch is refused with an error, the read not done.
        assert a.exists("/w/one-more", watch=True)[0] == ERR_QUOTA_EXCEEDED
        assert a.get_data("/w/m", watch=True)[0] == ERR_QUOTA_EXCEEDED
        assert get_children(a, "/w/m", watch=True) == ERR_QUOTA_EXCEEDED
        assert a.add_watch("/w/m", rawzk.ADD_WATCH_PERSISTENT) == ERR_QUOTA_EXCEEDED
        assert a.add_watch("/w/m", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == ERR_QUOTA_EXCEEDED
        # Reads without a watch, and re-registering a watch it holds, still work.
        assert a.get_data("/w/n")[0] == 0
        assert a.exists("/w/missing000", watch=True)[0] == ERR_NONODE
        # The registered watches were all kept: they fire.
        b = rawzk.open_session(srv.host, srv.port)
        assert b.create("/w/missing007")[0] == 0
        events = drain_events(a)
        assert (rawzk.EV_CREATED, 3, "/w/missing007") in events
        # A fired one-shot watch frees its slot.
        assert a.exists("/w/one-more", watch=True)[0] == ERR_NONODE

        # Byte flood: exists watches on distinct ~900 KB non-existent paths
        # from several sessions. Without a bound each one keeps its path.
        big = []
        for s in range(4):
            c = rawzk.open_session(srv.host, srv.port, io_timeout=20.0)
            refused = 0
            for i in range(30):
                path = "/w/%d-%d-" % (s, i) + "x" * (900 * 1024)
                err, _ = c.exists(path, watch=True)
                assert err in (ERR_NONODE, ERR_QUOTA_EXCEEDED)
                refused += err == ERR_QUOTA_EXCEEDED
            assert refused >= 25, "session %d: only %d of 30 big watches refused" % (s, refused)
            big.append(c)
        g.verify()
        for c in big + [a, b]:
            c.close()


# --- item 12: watch events and exists() respect READ ------------------------

def _protected_tree(srv):
    """An authenticated session owning /secret (digest-only) and /pub (open)."""
    owner = rawzk.open_session(srv.host, srv.port)
    assert add_auth(owner, "alice", "pw") == 0
    assert owner.create("/secret", acls=digest_acl("alice", "pw"))[0] == 0
    assert owner.create("/pub")[0] == 0
    return owner


def test_recursive_watch_on_root_sees_nothing_under_protected_subtree(server):
    with adv.Guard(server):
        owner = _protected_tree(server)
        spy = rawzk.open_session(server.host, server.port)
        assert spy.add_watch("/", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0
        assert spy.exists("/secret/bob", watch=True)[0] == ERR_NONODE  # allowed: no node, no ACL
        assert spy.add_watch("/secret", rawzk.ADD_WATCH_PERSISTENT) == 0
        friend = rawzk.open_session(server.host, server.port)
        assert add_auth(friend, "alice", "pw") == 0
        assert friend.add_watch("/", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0

        prot = digest_acl("alice", "pw")
        for p in ("/secret/alice-ssn-123", "/secret/bob"):
            assert owner.create(p, b"x", acls=prot)[0] == 0
        assert owner.create("/secret/alice-ssn-123/deep", acls=prot)[0] == 0
        assert owner.set_data("/secret/alice-ssn-123", b"y")[0] == 0
        assert owner.delete("/secret/alice-ssn-123/deep") == 0
        assert owner.create("/secret/open-child")[0] == 0  # world-readable child
        assert owner.create("/pub/visible")[0] == 0

        seen = drain_events(spy)
        leaked = [e for e in seen if e[2].startswith("/secret/") and e[2] != "/secret/open-child"]
        assert leaked == [], "protected paths leaked: %r" % leaked
        assert (rawzk.EV_CREATED, 3, "/pub/visible") in seen
        assert (rawzk.EV_CREATED, 3, "/secret/open-child") in seen
        # NodeChildrenChanged on /secret is checked against /secret's ACL.
        assert not any(e[2] == "/secret" for e in seen), seen
        # The authorised watcher sees everything.
        got = drain_events(friend)
        for p in ("/secret/alice-ssn-123", "/secret/bob", "/secret/alice-ssn-123/deep"):
            assert (rawzk.EV_CREATED, 3, p) in got, got
        assert (rawzk.EV_DELETED, 3, "/secret/alice-ssn-123/deep") in got
        for c in (owner, spy, friend):
            c.close()


def test_exists_on_unreadable_node_is_noauth(server):
    if harness.target() == "zookeeper":
        pytest.skip("Debian ZooKeeper 3.8.0 predates ZOOKEEPER-2590 (3.8.4/3.9.2): it answers a stat")
    with adv.Guard(server):
        owner = _protected_tree(server)
        spy = rawzk.open_session(server.host, server.port)
        assert spy.exists("/secret", watch=True)[0] == ERR_NOAUTH
        assert spy.exists("/secret/missing")[0] == ERR_NONODE
        assert owner.exists("/secret")[0] == 0
        # The refused exists registered no watch.
        assert owner.set_data("/secret", b"z")[0] == 0
        assert drain_events(spy) == []
        owner.close()
        spy.close()


def test_client_sent_delete_container_is_refused(server):
    # Every ZooKeeper 3.8 reads a client's deleteContainer path from the whole
    # packet, header included, and answers BADARGUMENTS; 3.9.x would delete
    # any empty non-ephemeral node without an ACL check. Aviary answers as 3.8.
    with adv.Guard(server):
        owner = _protected_tree(server)
        assert owner.create("/secret/empty", acls=digest_acl("alice", "pw"))[0] == 0
        assert owner.create("/pub/container", flags=rawzk.FLAG_CONTAINER,
                            acls=digest_acl("alice", "pw"))[0] == 0
        hostile = rawzk.open_session(server.host, server.port)
        for path in ("/secret/empty", "/pub/container", "/pub"):
            for body in (path.encode(), j_string(path)):  # raw (3.8) and jute (3.9) forms
                xid = hostile.send_request(OP_DELETE_CONTAINER, body)
                _zxid, err, _r = hostile.read_reply(xid)
                assert err == ERR_BADARGUMENTS, (path, body, err)
        hostile.close()
        for path in ("/secret/empty", "/pub/container", "/pub"):
            assert owner.exists(path)[0] == 0, path
        owner.close()


# --- item 16: removeWatches types 4/5, multiRead watch flags -----------------

@aviary_only
def test_remove_watches_persistent_types(server):
    with adv.Guard(server):
        c = rawzk.open_session(server.host, server.port)
        w = rawzk.open_session(server.host, server.port)
        assert c.create("/r")[0] == 0
        assert c.add_watch("/r", rawzk.ADD_WATCH_PERSISTENT) == 0
        assert c.add_watch("/r", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0
        assert c.get_data("/r", watch=True)[0] == 0
        # Data / Children name only one-shot watches (3.9).
        assert remove_watches(c, "/r", WT_CHILDREN, check=True) == ERR_NOWATCHER
        assert remove_watches(c, "/r", WT_DATA) == 0
        assert remove_watches(c, "/r", WT_DATA) == ERR_NOWATCHER
        assert remove_watches(c, "/r", WT_PERSISTENT, check=True) == 0
        assert remove_watches(c, "/r", WT_RECURSIVE) == 0
        assert remove_watches(c, "/r", WT_RECURSIVE) == ERR_NOWATCHER
        # The persistent watch is still there: it sees /r's change, not /r/x/y.
        assert w.create("/r/x")[0] == 0
        assert w.create("/r/x/y")[0] == 0
        assert w.set_data("/r", b"1")[0] == 0
        ev = drain_events(c)
        assert ev == [(rawzk.EV_CHILDREN_CHANGED, 3, "/r"), (rawzk.EV_DATA_CHANGED, 3, "/r")], ev
        assert remove_watches(c, "/r", WT_PERSISTENT) == 0
        assert remove_watches(c, "/r", WT_PERSISTENT, check=True) == ERR_NOWATCHER
        assert c.add_watch("/r", rawzk.ADD_WATCH_PERSISTENT_RECURSIVE) == 0
        assert get_children(c, "/r", watch=True) == 0
        assert remove_watches(c, "/r", WT_ANY) == 0
        assert remove_watches(c, "/r", WT_ANY, check=True) == ERR_NOWATCHER
        assert remove_watches(c, "/r", 6) != 0
        c.events.clear()
        assert w.set_data("/r", b"2")[0] == 0
        assert w.create("/r/z")[0] == 0
        assert drain_events(c) == []
        c.close()
        w.close()


def test_multi_read_registers_no_watches(server):
    c = rawzk.open_session(server.host, server.port)
    w = rawzk.open_session(server.host, server.port)
    assert c.create("/m")[0] == 0
    errs = multi_read(c, [(rawzk.OP_GET_DATA, "/m", True), (OP_GET_CHILDREN, "/m", True),
                          (rawzk.OP_GET_DATA, "/m/none", True)])
    assert errs == [0, 0, ERR_NONODE]
    assert w.create("/m/c")[0] == 0
    assert w.set_data("/m", b"1")[0] == 0
    assert w.create("/m/none")[0] == 0
    assert drain_events(c) == []
    c.close()
    w.close()
