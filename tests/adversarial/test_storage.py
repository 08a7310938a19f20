"""Adversarial cases for storage (issue 6, items 1 and 2).

Item 1: one client could make a txn larger than the log takes (a closeSession
listing ~270 ephemerals under a parent with a 1 MB name; a multi whose every
create expands the session's digest ids through an `auth` ACL). The log refused it,
every later write failed, and writes answered "failed" came back at restart.
Now closeSession lists no paths and every txn is bounded at prepare: the
server keeps taking writes, and after a restart exactly what was
acknowledged is there.

Item 2: an fsync failure under concurrent writers: what was answered
NOTREADONLY must not replay at restart (the log is cut back).
"""

import os
import struct
import subprocess
import threading
import time

import adv
import harness
import rawzk

OP_MULTI = 14
OP_AUTH = 100
Z_BADARGUMENTS = -8
Z_NOTREADONLY = -119
ACL_AUTH = [(31, "auth", "")]


def restart(srv):
    """Stops srv keeping its files and starts a server on the same config."""
    srv.stop(keep_dir=True)
    with open(srv.log_path, "ab") as logf:
        proc = subprocess.Popen(harness.server_command(srv.cfg_path), stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, cwd=srv.workdir, start_new_session=True)
    new = harness.Server(proc, srv.host, srv.port, srv.workdir, srv.cfg_path, srv.log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert new.alive(), "restarted server exited: %s" % new.log_tail()
        try:
            if new.four_letter("ruok", timeout=1.0).strip() == "imok":
                return new
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    new.stop()
    raise AssertionError("restarted server never answered: %s" % new.log_tail())


class Bystanders:
    """Other clients writing all through the attack; records which writes
    were acknowledged and which were answered with an error."""

    def __init__(self, srv, prefix, clients=3):
        self.srv, self.prefix, self.n = srv, prefix, clients
        self.acked, self.failed = set(), set()
        self.stop = threading.Event()
        self.threads = []

    def _run(self, k):
        c = rawzk.open_session(self.srv.host, self.srv.port, timeout_ms=60000, io_timeout=30.0)
        try:
            for i in range(100000):
                if self.stop.is_set():
                    break
                path = "%s/b%d-%05d" % (self.prefix, k, i)
                try:
                    err, _ = c.create(path, b"b")
                except (OSError, rawzk.ConnectionClosed):
                    break  # outcome unknown: counted as neither
                (self.acked if err == 0 else self.failed).add(path)
                time.sleep(0.002)
        finally:
            c.close()

    def __enter__(self):
        c = rawzk.open_session(self.srv.host, self.srv.port)
        assert c.create(self.prefix)[0] == 0
        c.close_session()
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(self.n)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return False

    def check_after_restart(self, srv):
        c = rawzk.open_session(srv.host, srv.port)
        try:
            lost = [p for p in sorted(self.acked) if c.exists(p)[0] != 0]
            back = [p for p in sorted(self.failed) if c.exists(p)[0] == 0]
        finally:
            c.close_session()
        assert lost == [], "acknowledged writes lost at restart: %s" % lost[:5]
        assert back == [], "writes answered with an error came back at restart: %s" % back[:5]


def pipelined(c, requests):
    """Sends (op, body) requests in windows; returns the error codes."""
    errs = []
    for at in range(0, len(requests), 16):
        xids = [c.send_request(op, body) for op, body in requests[at:at + 16]]
        for x in xids:
            _zxid, err, _r = c.read_reply(x, timeout=60)
            errs.append(err)
    return errs


def create_body(path, data=b"", acls=rawzk.OPEN_ACL_UNSAFE, flags=0):
    return rawzk.j_string(path) + rawzk.j_buffer(data) + rawzk.j_acls(acls) + rawzk.j_int(flags)


def test_close_session_with_huge_ephemeral_paths(server_factory):
    # The log takes txns of up to 2 * jute.maxbuffer + 1 KiB. A closeSession
    # that listed its session's ephemeral paths (as it used to) would pass that
    # by far here: 100 paths of ~60 KB (6 MB) against a 129 KiB bound, the
    # issue's 270 ephemerals of ~1 MB at the default jute.maxbuffer, scaled
    # down so that the test stays light.
    max_buffer = 65536
    n_ephemerals = 100
    srv = server_factory({"maxSessionTimeout": 120000, "jute.maxbuffer": max_buffer})
    parent = "/" + "p" * (max_buffer - 5000)  # each child's create is one ~60 KB frame
    with adv.Guard(srv) as g:
        with Bystanders(srv, "/bystanders") as by:
            owner = rawzk.open_session(srv.host, srv.port, timeout_ms=120000, io_timeout=60.0)
            assert owner.create(parent)[0] == 0
            errs = pipelined(owner, [(rawzk.OP_CREATE, create_body(parent + "/e%03d" % i, flags=rawzk.FLAG_EPHEMERAL))
                                     for i in range(n_ephemerals)])
            assert errs == [0] * n_ephemerals, "ephemeral creates failed: %s\n%s" % (sorted(set(errs)), srv.log_tail())
            # ~6 MB of ephemeral paths: the closeSession txn used to list them all.
            t0 = time.monotonic()
            _zxid, err, _r = owner.call(rawzk.OP_CLOSE, b"", timeout=30)
            assert err == 0
            print("closeSession of %d ~60 KB ephemerals answered in %.2f s" % (n_ephemerals, time.monotonic() - t0))
            owner.close()
        g.verify()  # writes still acknowledged
        c = rawzk.open_session(srv.host, srv.port)
        err, stat = c.exists(parent)
        assert err == 0 and stat["numChildren"] == 0, "ephemerals survived their session"
        assert c.delete(parent) == 0
        c.close_session()
    assert by.acked, "no bystander write was acknowledged during the attack"
    srv2 = restart(srv)
    try:
        by.check_after_restart(srv2)
        c = rawzk.open_session(srv2.host, srv2.port)
        assert c.exists(parent)[0] == -101
        for path, data in g.acked.items():
            assert c.get_data(path)[1][0] == data
        c.close_session()
    finally:
        srv2.stop()


def multi_body(ops):
    parts = [struct.pack(">ibi", op, 0, -1) + req for op, req in ops]
    return b"".join(parts) + struct.pack(">ibi", -1, 1, -1)


def multi_errors(r):
    """Per-op error codes of a MultiResponse (0 for a successful op)."""
    errs = []
    while True:
        typ, done, err = struct.unpack(">ibi", r.take(9))
        if done:
            return errs
        if typ == -1:
            errs.append(r.int())
        else:
            errs.append(0)
            r.rest()  # a successful multi would not be read further here
            return errs


def test_multi_expanding_a_huge_digest_id(server_factory):
    srv = server_factory()
    with adv.Guard(srv) as g:
        with Bystanders(srv, "/bystanders") as by:
            c = rawzk.open_session(srv.host, srv.port, io_timeout=60.0)
            # addauth digest user:pw 15 times (with the ip id: the per-connection cap), each
            # id "user:<base64 sha1>" just under the 1 KiB cap on one id.
            for k in range(15):
                user = "u" * 975 + "%02d" % k
                auth = rawzk.j_int(0) + rawzk.j_string("digest") + rawzk.j_buffer((user + ":pw").encode())
                c.send_request(OP_AUTH, auth, xid=-4)
                _zxid, err, _r = c.read_reply(-4, timeout=30)
                assert err == 0, "addauth digest failed: %d" % err
            # A ~1 MB multi of 20,000 creates with the `auth` ACL: each expands
            # to the 15 ids (~15 KB), ~300 MB of txn in all.
            body = multi_body([(rawzk.OP_CREATE, create_body("/b%05d" % i, acls=ACL_AUTH)) for i in range(20000)])
            _zxid, err, r = c.call(OP_MULTI, body, timeout=60)
            errs = multi_errors(r) if err == 0 else [err]
            assert Z_BADARGUMENTS in errs, "oversized multi not refused with BADARGUMENTS: %s" % errs[:5]
            assert c.exists("/b00000")[0] == -101, "a refused multi left a node"
            # The same session goes on writing.
            assert c.create("/after-multi", b"x")[0] == 0
            c.close_session()
        g.verify()
    assert by.acked
    srv2 = restart(srv)
    try:
        by.check_after_restart(srv2)
        c = rawzk.open_session(srv2.host, srv2.port)
        assert c.exists("/b00000")[0] == -101
        assert c.exists("/after-multi")[0] == 0
        c.close_session()
    finally:
        srv2.stop()


def test_fsync_failure_under_concurrent_writers(server_factory):
    """Item 2: the fsync fails while several clients write. Writes answered
    NOTREADONLY never come back after a restart; acknowledged ones all do."""
    os.environ["AVIARY_FAILPOINT"] = "wal_sync_eio_after:150"
    try:
        srv = server_factory()
    finally:
        del os.environ["AVIARY_FAILPOINT"]
    readers = [rawzk.open_session(srv.host, srv.port) for _ in range(2)]
    g = adv.Guard(srv, writes=10)
    g.__enter__()
    with Bystanders(srv, "/w", clients=4) as by:
        deadline = time.monotonic() + 10
        while not by.failed and time.monotonic() < deadline:
            time.sleep(0.05)
    assert by.failed, "the failpoint never failed a write"
    assert srv.alive(), "server died on fsync failure: %s" % srv.log_tail()
    # Reads go on, from sessions opened before the failure.
    for path, data in g.acked.items():
        err, got = readers[0].get_data(path)
        assert err == 0 and got[0] == data
    rss_after = adv.rss_kb(srv.pid)
    assert rss_after - g.rss_before_kb <= g.rss_slack_kb
    for r in readers:
        r.close()
    srv2 = restart(srv)
    try:
        by.check_after_restart(srv2)
        g.srv = srv2
        g.verify()  # acknowledged guard writes are there and a fresh client writes again
    finally:
        srv2.stop()
