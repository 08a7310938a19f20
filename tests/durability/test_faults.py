"""Fault tests on real files written by a real server: torn log tail,
corrupt records before the tail (refusal, then --repair), a corrupt newest
snapshot, fsync failure (AVIARY_FAILPOINT), and sessions with ephemerals
across a restart.

Damage is always done on copies (faults.clone) of the files a server wrote.
"""

import os
import re
import socket
import time

import durharness
import faults
import rawzk

WARN_TORN = re.compile(r"torn|truncat|partial|incomplete", re.I)


def _fill_and_crash(node, batches, per_batch=25):
    """One server run per batch; each writes per_batch creates under /f and
    the run ends with kill -9. Returns {path: value} of everything acked."""
    expected = {}
    for b in range(batches):
        node.start()
        c = node.client()
        faults.ensure(c, "/f")
        expected.update(faults.write_creates(c, "/f", per_batch, "b%d" % b))
        node.kill9()
    return expected


def test_torn_tail_is_truncated_and_earlier_data_kept(node, node_factory):
    node.start()
    c = node.client()
    faults.ensure(c, "/f")
    expected = faults.write_creates(c, "/f", 30, "t")
    assert c.create("/f/last", b"last")[0] == 0
    node.kill9()  # the session stays open: /f/last is the last record

    copy = faults.clone(node, node_factory)
    seg = copy.segments()[-1]
    recs = faults.records(seg)
    assert recs, "no records in %s" % seg
    last = recs[-1]
    assert last.get("path") == "/f/last", "last record is %r" % last
    with open(seg, "r+b") as f:
        f.truncate(last["offset"] + last["length"] // 2)

    copy.start()
    assert WARN_TORN.search(copy.log()), "no torn-tail warning in log:\n" + copy.log()
    c = copy.client()
    assert faults.missing(c, expected) == []
    assert c.exists("/f/last")[0] == -101, "half-written record was applied"
    # The log goes on after the truncation point and survives another crash.
    more = faults.write_creates(c, "/f", 10, "after")
    copy.kill9()
    copy.start()
    c = copy.client()
    assert faults.missing(c, expected) == []
    assert faults.missing(c, more) == []


def _corrupt_case(node, node_factory, where):
    """Returns (copy, damaged segment, offsets that may be named, paths
    written before the damaged record)."""
    expected = _fill_and_crash(node, 2)
    copy = faults.clone(node, node_factory)
    segs = copy.segments()
    if where == "last":
        seg = segs[-1]
    else:
        # The oldest segment with data; remove newer snapshots so that
        # recovery has to replay it.
        seg = next(s for s in segs if len(faults.records(s)) >= 5)
        for snap in copy.snapshots():
            if durharness.zxid_of(snap) >= durharness.zxid_of(seg):
                os.remove(snap)
        assert seg != segs[-1], "expected more than one segment: %s" % segs
    recs = faults.records(seg)
    assert len(recs) >= 5, "too few records in %s: %d" % (seg, len(recs))
    victim = recs[len(recs) // 2]
    byte = victim["offset"] + victim["length"] // 2
    faults.flip_byte(seg, byte)
    in_seg = {r.get("path"): r["zxid"] for r in recs}
    # Written before the damaged record: earlier in this segment, or (when
    # the last segment is damaged) in an older one.
    before = {p: v for p, v in expected.items()
              if (p in in_seg and in_seg[p] < victim["zxid"]) or (p not in in_seg and where == "last")}
    return copy, seg, [victim["offset"], byte], before


def _check_refusal_then_repair(copy, seg, offsets, before):
    rc, out = copy.run_to_exit()
    assert rc is not None, "server started on a corrupt log:\n" + out[-2000:]
    assert rc != 0
    assert faults.names_offset(out, seg, offsets), (
        "message does not name %s and offset %s:\n%s" % (os.path.basename(seg), offsets, out[-2000:]))
    copy.start(args=["--repair"])
    c = copy.client()
    assert faults.missing(c, before) == []
    # After repair the server writes and recovers normally.
    more = faults.write_creates(c, "/f", 5, "repaired")
    copy.kill9()
    copy.start()
    c = copy.client()
    assert faults.missing(c, more) == []
    assert faults.missing(c, before) == []


def test_corrupt_record_before_tail_refuses_start(node, node_factory):
    copy, seg, offsets, before = _corrupt_case(node, node_factory, "last")
    _check_refusal_then_repair(copy, seg, offsets, before)


def test_corrupt_record_in_older_segment_refuses_start(node, node_factory):
    copy, seg, offsets, before = _corrupt_case(node, node_factory, "older")
    _check_refusal_then_repair(copy, seg, offsets, before)


def test_corrupt_newest_snapshot_falls_back_to_older(node, node_factory):
    expected = _fill_and_crash(node, 3, per_batch=20)
    node.start()  # writes a snapshot of everything at startup
    c = node.client()
    expected.update(faults.write_creates(c, "/f", 10, "final"))
    node.stop()
    copy = faults.clone(node, node_factory)
    snaps = copy.snapshots()
    assert len(snaps) >= 2, "need two snapshots, have %s" % snaps
    newest = snaps[-1]
    faults.flip_byte(newest, os.path.getsize(newest) // 2)
    copy.start()
    c = copy.client()
    assert faults.missing(c, expected) == []
    assert os.path.basename(newest) in copy.log(), "the skipped snapshot is not named:\n" + copy.log()


def test_fsync_failure_stops_acks_keeps_reads_and_acked_data(node):
    n_ok = 40
    node.start(env={"AVIARY_FAILPOINT": "wal_sync_eio_after:%d" % n_ok})
    reader = node.client(timeout_ms=15000)
    probe = node.client(timeout_ms=15000, io_timeout=3.0)
    writer = node.client(timeout_ms=15000, io_timeout=3.0)
    faults.ensure(writer, "/f")
    acked = {}
    failed_at = None
    for i in range(n_ok * 3):
        path, value = "/f/w-%03d" % i, "w-%03d" % i
        try:
            err, _ = writer.create(path, value.encode())
        except (socket.timeout, rawzk.ConnectionClosed, OSError):
            failed_at = (i, "no reply")
            break
        if err != 0:
            failed_at = (i, "err %d" % err)
            break
        acked[path] = value
    assert failed_at is not None, "all %d writes acknowledged despite the failpoint" % (n_ok * 3)
    assert len(acked) <= n_ok, "%d writes acknowledged after %d fsyncs" % (len(acked), n_ok)
    # Later writes are not acknowledged either, from another session.
    try:
        err, _ = probe.create("/f/after-failure", b"x")
        assert err != 0, "write acknowledged after the log failed"
    except (socket.timeout, rawzk.ConnectionClosed, OSError):
        pass
    assert node.alive(), "server died on fsync failure:\n" + node.log()[-2000:]
    # Reads still work, on a session opened before the failure that has no
    # write pending (a session's reads wait behind its earlier writes).
    if acked:
        err, res = reader.get_data(sorted(acked)[-1])
        assert err == 0 and res[0] == acked[sorted(acked)[-1]].encode(), "read after failure: err %d" % err
    err, _res = reader.get_data("/f")
    assert err == 0, "read failed after the log failed: err %d" % err
    log = node.log()
    assert re.search(r"fsync|sync|EIO|Input/output", log, re.I), "log does not say why:\n" + log[-2000:]
    node.kill9()
    node.start()  # without the failpoint
    c = node.client()
    assert faults.missing(c, acked) == []


def test_session_and_ephemeral_survive_restart(node):
    node.start()
    c = node.client(timeout_ms=15000)
    sid, pw = c.session_id, c.passwd
    assert c.create("/eph", b"e", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
    node.kill9()
    node.start()
    # The ephemeral is visible to others right after recovery...
    other = node.client()
    err, stat = other.exists("/eph")
    assert err == 0 and stat["ephemeralOwner"] == sid, (err, stat)
    # ...and the owner reattaches with its id and password.
    again = rawzk.RawClient("127.0.0.1", node.port)
    timeout, sid2, _pw = again.handshake(timeout_ms=15000, session_id=sid, passwd=pw)
    assert sid2 == sid and timeout > 0, "session not reattached (timeout %d, id %#x)" % (timeout, sid2)
    assert again.exists("/eph")[0] == 0
    # It is still the owner: closing the session removes the ephemeral.
    assert again.close_session() == 0
    time.sleep(0.2)
    assert other.exists("/eph")[0] == -101


def test_graceful_restart_keeps_data_and_zxids_grow(node):
    node.start()
    c = node.client()
    faults.ensure(c, "/g")
    expected = faults.write_creates(c, "/g", 20, "a")
    _e, (_p, stat1) = c.create("/g/z1", b"z")
    node.stop()
    node.start()
    c = node.client()
    assert faults.missing(c, expected) == []
    _e, (_p, stat2) = c.create("/g/z2", b"z")
    assert stat2["czxid"] > stat1["czxid"], "zxid went back: %#x after %#x" % (stat2["czxid"], stat1["czxid"])


def test_dead_sessions_expire_after_restart(node):
    """A session that does not come back after a restart still expires
    (its timeout restarts at recovery), removing its ephemerals."""
    node.start()
    c = node.client(timeout_ms=1500)
    assert c.create("/gone", b"e", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
    node.kill9()
    node.start()
    other = node.client()
    assert other.exists("/gone")[0] == 0, "ephemeral lost at restart"
    deadline = time.monotonic() + 10
    while other.exists("/gone")[0] == 0:
        assert time.monotonic() < deadline, "ephemeral of a dead session never expired"
        time.sleep(0.1)
    # The expiry is durable too.
    node.kill9()
    node.start()
    assert node.client().exists("/gone")[0] == -101


def _write_until_failure(c, prefix, limit):
    """Creates prefix-NNN until one is not acknowledged. Returns (acked,
    {path: outcome}) where outcome is an error code or "lost" (connection)."""
    acked, failed = {}, {}
    for i in range(limit):
        path, value = "%s-%03d" % (prefix, i), "v-%03d" % i
        try:
            err, _ = c.create(path, value.encode())
        except (socket.timeout, rawzk.ConnectionClosed, OSError):
            failed[path] = "lost"
            break
        if err != 0:
            failed[path] = err
            break
        acked[path] = value
    return acked, failed


def test_writes_answered_failed_do_not_come_back_after_restart(node):
    """Issue 6, item 2: the failing fsync's batch reached the file through
    pwrite; it was answered NOTREADONLY, so it must not replay at restart
    (the log is cut back to the last successful fsync)."""
    n_ok = 30
    node.start(env={"AVIARY_FAILPOINT": "wal_sync_eio_after:%d" % n_ok})
    writers = [node.client(timeout_ms=15000, io_timeout=3.0) for _ in range(3)]
    faults.ensure(writers[0], "/r")
    acked, failed = {}, {}
    for round_ in range(n_ok):
        # Several sessions write at once so that one fsync covers several.
        xids = []
        for k, w in enumerate(writers):
            body = rawzk.j_string("/r/w%d-%03d" % (k, round_)) + rawzk.j_buffer(b"x")
            body += rawzk.j_acls(rawzk.OPEN_ACL_UNSAFE) + rawzk.j_int(0)
            xids.append(w.send_request(rawzk.OP_CREATE, body))
        for k, w in enumerate(writers):
            path = "/r/w%d-%03d" % (k, round_)
            try:
                _zxid, err, _body = w.read_reply(xids[k])
            except (socket.timeout, rawzk.ConnectionClosed, OSError):
                failed[path] = "lost"
                continue
            (failed.__setitem__(path, err) if err != 0 else acked.__setitem__(path, "x"))
        if failed:
            break
    assert failed, "the failpoint never failed a write"
    assert all(v == -119 for v in failed.values()), "not answered NOTREADONLY: %r" % failed  # ZNOTREADONLY
    node.kill9()
    node.start()
    c = node.client()
    assert faults.missing(c, acked) == []
    back = [p for p in failed if c.exists(p)[0] == 0]
    assert back == [], "writes answered NOTREADONLY came back after restart: %s" % back


def test_unknown_outcome_is_connection_loss(node):
    """If the log cannot be cut back, the writes of the failed batch may
    replay: their clients see connection loss (outcome unknown), never an
    error they could trust."""
    n_ok = 20
    node.start(env={"AVIARY_FAILPOINT": "wal_sync_eio_after:%d,wal_rollback_eio" % n_ok})
    w = node.client(timeout_ms=15000, io_timeout=3.0)
    probe = node.client(timeout_ms=15000, io_timeout=3.0)
    faults.ensure(w, "/u")
    acked, failed = _write_until_failure(w, "/u/w", n_ok * 3)
    assert list(failed.values()) == ["lost"], "expected connection loss, got %r" % failed
    assert node.alive()
    assert probe.create("/u/after", b"x")[0] == -119  # later writes: certainly not logged
    node.kill9()
    node.start()
    c = node.client()
    assert faults.missing(c, acked) == []
