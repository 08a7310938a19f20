"""Core znode API through kazoo 2.8: multi, CAS, ACLs, sequential names,
ephemerals, errors, children with stat, watches, sync, session reuse."""

import threading
import time

import pytest
from kazoo.exceptions import (BadVersionError, NoAuthError, NoChildrenForEphemeralsError,
                              NodeExistsError, NoNodeError, NotEmptyError, RolledBackError,
                              RuntimeInconsistency)
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import READ_ACL_UNSAFE, make_digest_acl, make_digest_acl_credential

import harness
from waits import wait_until


def test_multi_success_applies_everything(zk, base):
    zk.create(base + "/old", b"o")
    t = zk.transaction()
    t.create(base + "/a", b"1")
    t.create(base + "/a/b", b"2")
    t.set_data(base + "/old", b"new", version=0)
    t.check(base + "/a", 0)
    t.delete(base + "/old", version=1)
    res = t.commit()
    assert res[0] == base + "/a" and res[1] == base + "/a/b"
    assert res[2].version == 1 and res[2].dataLength == 3
    assert res[3] is True and res[4] is True
    assert zk.get(base + "/a/b")[0] == b"2"
    assert zk.exists(base + "/old") is None


def test_multi_failure_rolls_back_and_reports_per_op(zk, base):
    zk.create(base + "/keep", b"k")
    stat_before = zk.exists(base)
    t = zk.transaction()
    t.create(base + "/x", b"1")
    t.set_data(base + "/keep", b"changed")
    t.delete(base + "/missing")
    t.create(base + "/y", b"2")
    res = t.commit()
    # ZooKeeper: ops before the failing one -> ok-then-rolled-back (err 0,
    # kazoo RolledBackError), the failing op -> its error, ops after -> RUNTIMEINCONSISTENCY (-2).
    assert [type(r) for r in res] == [RolledBackError, RolledBackError, NoNodeError,
                                      RuntimeInconsistency]
    assert zk.exists(base + "/x") is None and zk.exists(base + "/y") is None
    assert zk.get(base + "/keep")[0] == b"k"
    assert zk.exists(base).cversion == stat_before.cversion


def test_multi_check_version_failure(zk, base):
    zk.create(base + "/c", b"")
    t = zk.transaction()
    t.check(base + "/c", 5)
    t.create(base + "/d")
    res = t.commit()
    assert [type(r) for r in res] == [BadVersionError, RuntimeInconsistency]
    assert zk.exists(base + "/d") is None


def test_versioned_set_is_compare_and_swap(zk, zk_factory, base):
    path = base + "/counter"
    zk.create(path, b"0")
    other = zk_factory()
    data, stat = zk.get(path)
    _d2, stat2 = other.get(path)
    assert other.set(path, b"1", version=stat2.version).version == 1
    with pytest.raises(BadVersionError):
        zk.set(path, b"1", version=stat.version)
    with pytest.raises(BadVersionError):
        zk.delete(path, version=0)
    # Retry loop succeeds with fresh version.
    data, stat = zk.get(path)
    assert zk.set(path, b"%d" % (int(data) + 1), version=stat.version).version == 2
    assert zk.get(path)[0] == b"2"
    zk.delete(path, version=2)


def test_digest_acl_auth(server, zk, zk_factory, base):
    acl = make_digest_acl("alice", "secret", all=True)
    path = base + "/private"
    owner = zk_factory(auth_data=[("digest", "alice:secret")])
    owner.create(path, b"hidden", acl=[acl])
    assert owner.get(path)[0] == b"hidden"
    acls, _stat = owner.get_acls(path)
    assert len(acls) == 1 and acls[0].perms == 31
    assert acls[0].id.scheme == "digest"
    assert acls[0].id.id == make_digest_acl_credential("alice", "secret")

    with pytest.raises(NoAuthError):
        zk.get(path)
    with pytest.raises(NoAuthError):
        zk.set(path, b"x")
    with pytest.raises(NoAuthError):
        zk.create(path + "/child")
    if harness.target() == "zookeeper":
        assert zk.exists(path) is not None  # Debian's 3.8.0 predates ZOOKEEPER-2590
    else:
        with pytest.raises(NoAuthError):  # exists needs READ (ZooKeeper 3.8.4 / 3.9.2)
            zk.exists(path)
    assert zk.exists(path + "/missing") is None

    wrong = zk_factory()
    wrong.add_auth("digest", "alice:wrong")
    with pytest.raises(NoAuthError):
        wrong.get(path)

    later = zk_factory()
    later.add_auth("digest", "alice:secret")
    later.set(path, b"seen")
    assert later.get(path)[0] == b"seen"

    # Mixed ACL: world may read, only alice may write.
    pub = base + "/public"
    owner.create(pub, b"p", acl=[make_digest_acl("alice", "secret", all=True),
                                 make_digest_acl("x", "y", read=True)])
    with pytest.raises(NoAuthError):
        zk.get(pub)
    owner.set_acls(pub, [acl] + list(READ_ACL_UNSAFE))
    assert zk.get(pub)[0] == b"p"
    with pytest.raises(NoAuthError):
        zk.set(pub, b"q")
    owner.delete(pub)
    owner.delete(path)


def test_sequential_suffix_counts_creations_not_deletions(zk, base):
    # ZooKeeper 3.8: the suffix is the number of children ever created under
    # the parent (deletes do not advance it), while the reported cversion
    # counts creations + deletions.
    p = base + "/seq"
    zk.create(p)
    a = zk.create(p + "/n-", sequence=True)
    b = zk.create(p + "/n-", sequence=True)
    assert a == p + "/n-0000000000" and b == p + "/n-0000000001"
    zk.create(p + "/plain")
    zk.delete(p + "/plain")
    assert zk.exists(p).cversion == 4
    c = zk.create(p + "/other", sequence=True)
    assert c == p + "/other0000000003"
    assert zk.exists(p).cversion == 5
    zk.delete(c)
    assert zk.exists(p).cversion == 6
    e = zk.create(p + "/", ephemeral=True, sequence=True)
    assert e == p + "/0000000004"
    assert zk.exists(p).cversion == 7


def test_ephemeral_gone_after_session_close(zk, zk_factory, base):
    c = zk_factory()
    path = c.create(base + "/eph", b"x", ephemeral=True)
    stat = zk.exists(path)
    assert stat.ephemeralOwner == c.client_id[0] and stat.ephemeralOwner != 0
    assert zk.exists(base).ephemeralOwner == 0
    c.stop()
    c.close()
    assert zk.exists(path) is None  # closeSession is synchronous


def test_errors(zk, base):
    zk.create(base + "/a")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/a")
    zk.create(base + "/a/b")
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/a")
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    with pytest.raises(NoNodeError):
        zk.get(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.set(base + "/nope", b"")
    with pytest.raises(NoNodeError):
        zk.delete(base + "/nope")
    eph = zk.create(base + "/eph", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(eph + "/child")
    zk.delete(base, recursive=True)
    assert zk.exists(base) is None


def test_get_children_with_stat(zk, base):
    for name in ("c", "a", "b"):
        zk.create(base + "/" + name, name.encode())
    children, stat = zk.get_children(base, include_data=True)
    assert sorted(children) == ["a", "b", "c"]
    assert stat.numChildren == 3 and stat.cversion == 3
    assert stat.pzxid == zk.exists(base + "/b").czxid  # last child created
    assert stat.pzxid >= zk.exists(base + "/a").czxid
    zk.delete(base + "/c")
    children, stat2 = zk.get_children(base, include_data=True)
    assert sorted(children) == ["a", "b"] and stat2.cversion == 4
    assert stat2.pzxid > stat.pzxid and stat2.mzxid == stat.mzxid


def test_watches_fire_once(zk, zk_factory, base):
    path = base + "/w"
    events = []
    got = threading.Event()

    def cb(ev):
        events.append((ev.type, ev.path))
        got.set()

    watcher = zk_factory()
    assert watcher.exists(path, watch=cb) is None
    zk.create(path, b"1")
    assert got.wait(5)
    assert events == [(EventType.CREATED, path)]
    got.clear()
    watcher.get(path, watch=cb)
    watcher.get_children(base, watch=cb)
    zk.set(path, b"2")
    zk.set(path, b"3")  # one-shot: no second event
    assert got.wait(5)
    zk.create(base + "/other")
    wait_until(lambda: len(events) == 3, 5)
    zk.delete(path)
    zk.delete(base + "/other")
    time.sleep(0.3)
    assert events == [(EventType.CREATED, path), (EventType.CHANGED, path),
                      (EventType.CHILD, base)]


def test_sync(zk, zk_factory, base):
    other = zk_factory()
    zk.create(base + "/s", b"v")
    assert other.sync(base + "/s") == base + "/s"
    assert other.get(base + "/s")[0] == b"v"


def test_reconnect_with_session_id_keeps_ephemerals(zk, zk_factory, base):
    first = zk_factory()
    path = first.create(base + "/eph", b"x", ephemeral=True)
    sid, pw = first.client_id
    states = []
    first.add_listener(lambda s: states.append(s))
    # Move the same session to a second connection.
    second = zk_factory(client_id=(sid, pw))
    assert second.client_id[0] == sid
    assert second.exists(path).ephemeralOwner == sid
    second.create(base + "/eph2", ephemeral=True)
    # Closing the session from the second connection ends it for both.
    second.stop()
    second.close()
    assert zk.exists(path) is None and zk.exists(base + "/eph2") is None
    wait_until(lambda: KazooState.LOST in states, 10, what="first client sees LOST")
