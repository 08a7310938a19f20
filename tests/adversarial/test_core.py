"""Hostile clients against the server core (issue 6, items 3, 4, 6, 13, 14).

Each case attacks a real server and then proves with adv.Guard that other
clients are still served, nothing acknowledged was lost and memory stayed
bounded. The peak resident size (VmHWM) is checked as well where the attack
would make the server build something large and free it again.
"""

import socket
import threading
import time

import pytest

import adv
import rawzk
from rawzk import j_bool, j_buffer, j_int, j_string

OP_AUTH = 100
OP_SASL = 102
OP_MULTI_READ = 22
OP_GET_DATA = 4
OP_SET_DATA = 5
ERR_MARSHALLING = -5
ERR_AUTH_FAILED = -115
AUTH_XID = -4

BIG = 1000 * 1000  # data of the large node: just under jute.maxbuffer


def peak_slack_kb(mb):
    return mb * 1024 * (4 if adv.sanitized() else 1)


def make_big_node(srv, path="/big"):
    c = rawzk.open_session(srv.host, srv.port)
    try:
        err, _ = c.create(path, b"x" * BIG)
        assert err == 0, err
    finally:
        c.close_session()


def multi_read_body(path, count):
    op = j_int(OP_GET_DATA) + j_bool(False) + j_int(-1) + j_string(path) + j_bool(False)
    return op * count + j_int(-1) + j_bool(True) + j_int(-1)


def auth_frame(xid, scheme, auth):
    payload = j_int(xid) + j_int(OP_AUTH) + j_int(0) + j_string(scheme) + j_buffer(auth)
    return rawzk.frame(payload)


# -- item 3: replies and per-connection queues ------------------------------


@pytest.mark.parametrize("ops", [300, 50000])
def test_multiread_of_a_large_node_is_refused_not_built(server, ops):
    make_big_node(server)
    with adv.Guard(server):
        peak_before = adv.hwm_kb(server.pid)
        c = rawzk.open_session(server.host, server.port)
        t0 = time.monotonic()
        _zxid, err, _r = c.call(OP_MULTI_READ, multi_read_body("/big", ops), timeout=10)
        assert err == ERR_MARSHALLING, "multiRead of %d x 1 MB answered err %d" % (ops, err)
        assert time.monotonic() - t0 < 5
        # The connection stays usable: a multiRead that fits is answered.
        _zxid, err, r = c.call(OP_MULTI_READ, multi_read_body("/big", 1), timeout=10)
        assert err == 0
        c.close_session()
        grew = adv.hwm_kb(server.pid) - peak_before
        assert grew <= peak_slack_kb(32), "peak RSS grew by %d KiB" % grew


def test_child_list_over_maxbuffer_is_an_error(server_factory):
    srv = server_factory({"jute.maxbuffer": str(64 * 1024)})
    with adv.Guard(srv):
        c = rawzk.open_session(srv.host, srv.port)
        assert c.create("/kids")[0] == 0
        name = "k" * 900
        for i in range(80):  # 72 KB of names
            assert c.create("/kids/%s%03d" % (name, i))[0] == 0
        _zxid, err, _r = c.call(rawzk.OP_GET_CHILDREN, j_string("/kids") + j_bool(False))
        assert err == ERR_MARSHALLING
        assert c.exists("/kids")[0] == 0, "the connection stays usable"
        c.close_session()


def _pipeline_without_reading(srv, count, stop):
    """One connection sends `count` getData of /big and never reads."""
    c = rawzk.open_session(srv.host, srv.port)
    payload = b""
    for i in range(count):
        body = j_int(i + 1) + j_int(OP_GET_DATA) + j_string("/big") + j_bool(False)
        payload += rawzk.frame(body)
    c.sock.settimeout(0.2)
    sent = 0
    try:
        while sent < len(payload) and not stop.is_set():
            try:
                sent += c.sock.send(payload[sent:sent + 65536])
            except socket.timeout:
                continue
    except OSError:
        pass  # closed by the server: fine
    return c


def test_pipelined_reads_without_reading_replies_stay_bounded(server):
    make_big_node(server)
    with adv.Guard(server) as g:
        peak_before = adv.hwm_kb(server.pid)
        stop = threading.Event()
        conns = []
        threads = [threading.Thread(target=lambda: conns.append(_pipeline_without_reading(server, 600, stop)))
                   for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(3)
        g.verify()  # others are served while the hostile connections hang on
        stop.set()
        for t in threads:
            t.join(10)
        for c in conns:
            c.close()
        grew = adv.hwm_kb(server.pid) - peak_before
        # Three connections, each at most one pass of replies on the core
        # (64 MiB) plus the network's backlog (64 MiB): not 600 MB each.
        assert grew <= peak_slack_kb(3 * 160), "peak RSS grew by %d KiB" % grew


# -- item 4: addauth ------------------------------------------------------


def test_addauth_flood_with_big_ids_is_refused(server):
    with adv.Guard(server):
        c = rawzk.open_session(server.host, server.port)
        user = b"u" * (900 * 1000)
        flood = b"".join(auth_frame(AUTH_XID, "digest", user + b"%d:pw" % i) for i in range(100))
        try:
            c.send_raw(flood)
        except OSError:
            pass
        r = rawzk.Reader(c.read_frame())
        xid, _zxid, err = r.int(), r.long(), r.int()
        assert (xid, err) == (AUTH_XID, ERR_AUTH_FAILED)
        assert c.is_closed_by_peer(5.0)


def test_addauth_flood_of_distinct_ids_is_capped(server):
    with adv.Guard(server):
        c = rawzk.open_session(server.host, server.port)
        c.send_raw(b"".join(auth_frame(AUTH_XID, "digest", b"user%d:pw" % i) for i in range(200)))
        errs = []
        try:
            while True:
                r = rawzk.Reader(c.read_frame(timeout=5))
                xid, _zxid, err = r.int(), r.long(), r.int()
                assert xid == AUTH_XID
                errs.append(err)
        except (rawzk.ConnectionClosed, ConnectionResetError):
            pass
        # The connection's ip identity plus 15 digests; the 16th is refused
        # and the connection closed.
        assert errs == [0] * 15 + [ERR_AUTH_FAILED], "%d replies: %s" % (len(errs), errs)


# -- item 6: requests behind the handshake ---------------------------------


def test_flood_behind_the_handshake_stays_bounded(server):
    with adv.Guard(server) as g:
        peak_before = adv.hwm_kb(server.pid)
        data = b"d" * (256 * 1024)
        frames = b"".join(
            rawzk.frame(j_int(i + 1) + j_int(OP_SET_DATA) + j_string("/nonexistent") + j_buffer(data) + j_int(-1))
            for i in range(100))
        socks = []
        for _ in range(3):
            s = socket.create_connection((server.host, server.port), timeout=5)
            s.settimeout(0.2)
            socks.append(s)
            # The handshake and 25 MB behind it, in one write.
            msg = rawzk.connect_request() + frames
            sent = 0
            deadline = time.monotonic() + 5
            while sent < len(msg) and time.monotonic() < deadline:
                try:
                    sent += s.send(msg[sent:sent + 262144])
                except socket.timeout:
                    continue
                except OSError:
                    break
        g.verify()
        for s in socks:
            s.close()
        grew = adv.hwm_kb(server.pid) - peak_before
        assert grew <= peak_slack_kb(3 * 80), "peak RSS grew by %d KiB" % grew


# -- item 13: SASL --------------------------------------------------------


def test_sasl_is_refused_on_the_wire(server):
    with adv.Guard(server):
        c = rawzk.open_session(server.host, server.port)
        xid = c.send_request(OP_SASL, j_buffer(b""), xid=1)
        r = rawzk.Reader(c.read_frame())
        got = (r.int(), r.long(), r.int())
        assert got == (xid, 0, ERR_AUTH_FAILED)
        assert c.is_closed_by_peer(3.0)


def test_kazoo_with_sasl_fails_fast(server):
    from kazoo.client import KazooClient
    from kazoo.exceptions import AuthFailedError, ConnectionClosedError
    from kazoo.protocol.states import KeeperState

    with adv.Guard(server):
        zk = KazooClient(hosts="%s:%d" % (server.host, server.port), timeout=5,
                         sasl_options={"mechanism": "DIGEST-MD5", "username": "u", "password": "p"})
        states = []
        callback = zk._session_callback

        def record(state):
            states.append(state)
            callback(state)

        zk._session_callback = record
        t0 = time.monotonic()
        try:
            zk.start_async()
            while KeeperState.AUTH_FAILED not in states and time.monotonic() - t0 < 5:
                time.sleep(0.02)
            assert KeeperState.AUTH_FAILED in states, states
            time.sleep(0.5)
            # It stopped there: no reconnect, no retried SASL exchange.
            after = states[states.index(KeeperState.AUTH_FAILED) + 1:]
            assert KeeperState.CONNECTED not in after, states
            with pytest.raises((AuthFailedError, ConnectionClosedError)):
                zk.get("/")
        finally:
            zk.stop()
            zk.close()


# -- item 14: the auth reply's xid ------------------------------------------


def test_auth_reply_echoes_the_xid(server):
    with adv.Guard(server):
        c = rawzk.open_session(server.host, server.port)
        c.send_raw(auth_frame(7, "digest", b"alice:pw"))
        r = rawzk.Reader(c.read_frame())
        assert (r.int(), r.long(), r.int()) == (7, 0, 0)
        assert c.exists("/")[0] == 0
        c.close_session()
