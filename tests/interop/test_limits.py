"""Server limits: maxClientCnxns per IP, jute.maxbuffer (default and small),
and a client that floods requests but never reads its replies.

Facts checked on ZooKeeper 3.8 (NIOServerCnxnFactory):
- a connection over maxClientCnxns from one IP is accepted and closed at once,
  before any handshake reply; closing one frees a slot;
- a frame whose length is > jute.maxbuffer (or < 0) closes the connection
  without a reply; length == jute.maxbuffer is accepted; nothing limits the
  size of a reply;
- ZooKeeper reads jute.maxbuffer only as the JVM system property
  -Djute.maxbuffer (zoo.cfg keys it does not know become "zookeeper.<key>"
  properties, so `jute.maxbuffer=...` in zoo.cfg has no effect); Aviary reads
  it from zoo.cfg (docs/OPERATIONS.md). Tests that need a small limit set both.
"""

import os
import resource
import select
import socket
import statistics
import struct
import threading
import time

import harness
import rawzk
from rawzk import frame, read_all_until_close
from rawzk import RawClient, j_bool, j_buffer, j_int, j_string
from waits import wait_until

SMALL_MAX = 10000
GIB = 1 << 30
# Under ASan/UBSan (ctest sets AVIARY_SANITIZE=1) the server reserves a huge
# shadow address space and carries allocator overhead: no RLIMIT_AS, and a
# looser memory bound.
SANITIZED = os.environ.get("AVIARY_SANITIZE") == "1"
RSS_BOUND = 3 * GIB if SANITIZED else GIB




def send_ignoring_reset(c, data):
    try:
        c.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed already: read_all_until_close will see it


def try_session(srv, timeout=3.0):
    """A handshaken RawClient, or None if the server closed the connection."""
    try:
        c = RawClient(srv.host, srv.port, io_timeout=timeout)
    except ConnectionError:  # a fast close can surface in connect() itself
        return None
    try:
        c.handshake(timeout_ms=10000)
        return c
    except (rawzk.ConnectionClosed, ConnectionError):
        c.close()
        return None


def rejected_without_reply(srv):
    """Open a connection and send a ConnectRequest: True if the server closes
    it without sending a byte, False if it answers or keeps it open."""
    try:
        c = RawClient(srv.host, srv.port)
    except ConnectionError:  # a fast close can surface in connect() itself
        return True
    try:
        send_ignoring_reset(c, rawzk.connect_request(10000))
        return read_all_until_close(c) == b""
    finally:
        c.close()


def create_request(xid, path, data, op=rawzk.OP_CREATE):
    body = j_string(path) + j_buffer(data) + rawzk.j_acls(rawzk.OPEN_ACL_UNSAFE) + j_int(0)
    return frame(j_int(xid) + j_int(op) + body)


def create_with_frame_len(path, frame_len):
    """A create request whose frame length field is exactly frame_len."""
    empty = create_request(1, path, b"")
    return create_request(1, path, b"x" * (frame_len - (len(empty) - 4)))


def assert_healthy(c, path):
    assert c.ping() == 0
    err, stat = c.exists(path)
    assert err == 0 and stat["ephemeralOwner"] == c.session_id


def peer_closed(sock):
    """True if the peer has closed/reset this (non-blocking) socket."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def vm_size(pid):
    """The address space a process has mapped (VmSize), in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize for pid %d (not running?)" % pid)


def proc_status(pid):
    """VmRSS / VmHWM (peak RSS) of a process, in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(val.split()[0]) * 1024
    return out


def test_max_client_cnxns_per_ip():
    srv = harness.start_server(extra_cfg={"maxClientCnxns": 5})
    clients = []
    try:
        # The harness's own probe connections may still be counted for a
        # moment, so each of the first five may need a retry.
        for i in range(5):
            c = wait_until(lambda: try_session(srv), timeout=5, what="session %d" % i)
            assert c.create("/c%d" % i, flags=rawzk.FLAG_EPHEMERAL)[0] == 0
            clients.append(c)
        assert rejected_without_reply(srv), "6th connection got a reply or stayed open"
        for i, c in enumerate(clients):
            assert_healthy(c, "/c%d" % i)
        # Free one slot: a new connection is accepted (once the server has
        # noticed the close), and the limit holds again after that.
        clients.pop(0).close_session()
        c = wait_until(lambda: try_session(srv), timeout=5, what="a freed slot")
        assert c.create("/c0", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
        clients.insert(0, c)
        assert rejected_without_reply(srv)
        for i, c in enumerate(clients):
            assert_healthy(c, "/c%d" % i)
        assert srv.alive()
    finally:
        for c in clients:
            c.close()
        srv.stop()


def test_frame_over_default_maxbuffer_closes_only_that_connection(server):
    good = rawzk.open_session(server.host, server.port)
    path = "/limits_good_%d" % good.session_id
    assert good.create(path, b"g", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
    bad = rawzk.open_session(server.host, server.port)
    assert bad.ping() == 0
    bad.send_raw(struct.pack(">i", 0xFFFFF + 1) + j_int(7) + j_int(rawzk.OP_SET_DATA) + b"\0" * 4096)
    assert read_all_until_close(bad) == b""
    bad.close()
    assert_healthy(good, path)
    assert good.set_data(path, b"still here")[0] == 0
    assert good.get_data(path)[1][0] == b"still here"
    good.close_session()
    assert server.alive()


def test_small_maxbuffer_limits_requests_not_replies():
    srv = harness.start_server(extra_cfg={"jute.maxbuffer": SMALL_MAX},
                               jvm_props={"jute.maxbuffer": SMALL_MAX})
    try:
        good = rawzk.open_session(srv.host, srv.port)
        assert good.create("/g", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
        # A frame of exactly jute.maxbuffer bytes is fine...
        c = rawzk.open_session(srv.host, srv.port)
        c.send_raw(create_with_frame_len("/edge", SMALL_MAX))
        _zxid, err, r = c.read_reply(1)
        assert err == 0 and r.string() == "/edge"
        # ...and so is a reply longer than jute.maxbuffer (getData of it).
        err, (data, stat) = c.get_data("/edge")
        assert err == 0 and len(data) > SMALL_MAX - 100 and stat["dataLength"] == len(data)
        assert c.ping() == 0
        c.close_session()
        # One byte more, or a 20000-byte create: closed without a reply.
        for name, req in (("/over1", create_with_frame_len("/over1", SMALL_MAX + 1)),
                          ("/big", create_request(1, "/big", b"y" * 20000))):
            bad = rawzk.open_session(srv.host, srv.port)
            send_ignoring_reset(bad, req)
            assert read_all_until_close(bad) == b"", name
            bad.close()
            assert good.exists(name)[0] == -101  # NONODE: nothing was created
            assert_healthy(good, "/g")
        good.close_session()
        assert srv.alive()
    finally:
        srv.stop()


def test_jute_maxbuffer_in_zoo_cfg():
    """The one deliberate difference: only Aviary reads it from zoo.cfg."""
    srv = harness.start_server(extra_cfg={"jute.maxbuffer": SMALL_MAX})
    try:
        c = rawzk.open_session(srv.host, srv.port)
        c.send_raw(create_request(1, "/big", b"y" * 20000))
        if harness.target() == "zookeeper":
            _zxid, err, _r = c.read_reply(1)
            assert err == 0  # ignored: the default 0xfffff still applies
            c.close_session()
        else:
            assert read_all_until_close(c) == b""
            c.close()
    finally:
        srv.stop()


def test_client_that_never_reads_replies_is_bounded():
    n_requests, node_size = 200000, 100 * 1024
    srv = harness.start_server()
    bad = None
    try:
        if harness.target() == "aviary":
            # Safety net for a shared machine: a runaway server dies at 4 GiB
            # of address space beyond what it mapped at start (fails the
            # test) instead of eating all memory. Beyond: the tree reserves
            # (does not commit) a large address span for its node pool.
            if not SANITIZED:
                limit = vm_size(srv.pid) + 4 * GIB
                resource.prlimit(srv.pid, resource.RLIMIT_AS, (limit, limit))
        setup = rawzk.open_session(srv.host, srv.port)
        assert setup.create("/big", b"z" * node_size)[0] == 0
        setup.close_session()
        before = proc_status(srv.pid)

        probe = rawzk.open_session(srv.host, srv.port, io_timeout=5.0)
        latencies, probe_errors = [], []
        stop = threading.Event()

        def prober():
            i = 0
            while not stop.is_set():
                t = time.monotonic()
                try:
                    if i % 2:
                        assert probe.ping() == 0
                    else:
                        assert probe.exists("/big")[1]["dataLength"] == node_size
                except Exception as e:  # reported below
                    probe_errors.append(repr(e))
                    return
                latencies.append(time.monotonic() - t)
                i += 1
                time.sleep(0.005)

        bad = rawzk.open_session(srv.host, srv.port)
        req = j_string("/big") + j_bool(False)
        blob = b"".join(frame(j_int(x) + j_int(rawzk.OP_GET_DATA) + req)
                        for x in range(1, n_requests + 1))
        bad.sock.setblocking(False)
        th = threading.Thread(target=prober, daemon=True)
        th.start()
        sent, closed_by_server = 0, False
        t0 = time.monotonic()
        send_deadline = t0 + 6.0
        while sent < len(blob) and time.monotonic() < send_deadline:
            select.select([], [bad.sock], [], 0.05)
            try:
                sent += bad.sock.send(blob[sent:sent + (1 << 20)])
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed_by_server = True  # also acceptable: the server gave up on it
                break
        t_send = time.monotonic() - t0
        time.sleep(1.5)  # keep probing while the server works through what it read
        stop.set()
        th.join(6)
        during = proc_status(srv.pid)
        closed_by_server = closed_by_server or peer_closed(bad.sock)
        print("sent %d/%d requests in %.2fs, closed_by_server=%s, probes=%d max=%.3fs "
              "median=%.4fs, rss before=%dMiB peak=%dMiB now=%dMiB"
              % (sent // (len(blob) // n_requests), n_requests, t_send,
                 closed_by_server, len(latencies), max(latencies, default=-1),
                 statistics.median(latencies or [-1]), before["VmRSS"] >> 20,
                 during["VmHWM"] >> 20, during["VmRSS"] >> 20))
        assert srv.alive(), srv.log_tail()
        assert not probe_errors, probe_errors
        # ZooKeeper's worst probe here is < 0.1 s; 0.5 s leaves room for a busy
        # 2-core machine but not for a server that stops serving others. An
        # ASan build copies the 100 KiB replies several times slower (seen:
        # one 0.59 s probe on a quiet machine): twice the room there.
        # One probe can lose its time slice on a shared 2-core machine (CI
        # runs suites side by side), so the bound applies to the 90th
        # percentile, and the single worst gets a looser one: a server that
        # stops serving others fails both.
        assert len(latencies) >= 10
        ordered = sorted(latencies)
        p90, worst = ordered[int(len(ordered) * 0.9)], ordered[-1]
        stall_bound = 1.0 if SANITIZED else 0.5
        assert p90 < stall_bound, "other clients stalled: p90 probe %.2fs" % p90
        assert worst < 4 * stall_bound, "another client stalled for %.2fs" % worst
        assert during["VmHWM"] < RSS_BOUND, "server peak RSS %d MiB" % (during["VmHWM"] >> 20)
        bad.close()
        bad = None
        assert probe.ping() == 0
        assert probe.exists("/big")[0] == 0
        probe.close_session()
        fresh = rawzk.open_session(srv.host, srv.port)
        assert fresh.get_data("/big")[1][1]["dataLength"] == node_size
        fresh.close_session()
        assert proc_status(srv.pid)["VmRSS"] < RSS_BOUND
    finally:
        if bad is not None:
            bad.close()
        srv.stop()
