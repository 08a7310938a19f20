"""Scale: many concurrent sessions, deep pipelining on one connection, and
concurrent kazoo clients racing on a compare-and-swap counter.

All on loopback, each test bounded well under 20 s. The many-sessions test
drives raw non-blocking sockets through `selectors` (no thread per session).
"""

import os
import resource
import selectors
import socket
import struct
import threading
import time

from kazoo.exceptions import BadVersionError

import harness
import rawzk
from rawzk import j_bool, j_buffer, j_int, j_string
from waits import wait_until

# Both targets manage the full N well inside the budget (ZooKeeper ~1.5 s).
N_SESSIONS = 2000
SESSION_TIMEOUT_MS = 20000  # harness maxSessionTimeout: no pings needed
CONNECT_WINDOW = 40  # handshakes in flight at once (ZooKeeper's accept backlog is 50)


def raise_nofile_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request(xid, op, body):
    return frame(j_int(xid) + j_int(op) + body)


def create_body(path, data=b"", flags=rawzk.FLAG_PERSISTENT):
    return j_string(path) + j_buffer(data) + rawzk.j_acls(rawzk.OPEN_ACL_UNSAFE) + j_int(flags)


def exchange(items, deadline):
    """items: [(sock, bytes)] on non-blocking sockets (possibly still
    connecting). Sends each payload once its socket is writable, then reads
    exactly one frame from each. Returns the frame payloads in item order;
    None for a socket the peer closed first."""
    sel = selectors.DefaultSelector()
    out = [None] * len(items)
    state = {}
    for i, (sock, data) in enumerate(items):
        state[sock.fileno()] = [i, sock, memoryview(data), bytearray()]
        sel.register(sock, selectors.EVENT_WRITE, sock.fileno())
    pending = len(items)
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("exchange: %d of %d sockets unanswered" % (pending, len(items)))
            for key, ev in sel.select(timeout=min(left, 1.0)):
                st = state[key.data]
                i, sock, tosend, inbuf = st
                if ev & selectors.EVENT_WRITE:
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError("connect failed: %s" % err)
                    n = sock.send(tosend)
                    st[2] = tosend = tosend[n:]
                    if not len(tosend):
                        sel.modify(sock, selectors.EVENT_READ, key.data)
                    continue
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    sel.unregister(sock)
                    pending -= 1
                    continue
                inbuf += chunk
                if len(inbuf) >= 4:
                    (n,) = struct.unpack(">i", inbuf[:4])
                    if len(inbuf) >= 4 + n:
                        out[i] = bytes(inbuf[4:4 + n])
                        sel.unregister(sock)
                        pending -= 1
    finally:
        sel.close()
    return out


def get_children(c, path):
    _zxid, err, r = c.call(rawzk.OP_GET_CHILDREN, j_string(path) + j_bool(False))
    assert err == 0
    return [r.string() for _ in range(r.int())]


def test_many_concurrent_sessions_with_ephemerals():
    raise_nofile_limit()  # before the server starts: the child inherits it
    n = N_SESSIONS
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 2 * n + 100
    srv = harness.start_server(extra_cfg={"maxClientCnxns": 0})
    socks = []
    try:
        obs = rawzk.open_session(srv.host, srv.port, timeout_ms=SESSION_TIMEOUT_MS)
        assert obs.create("/swarm")[0] == 0
        t0 = time.monotonic()
        deadline = t0 + 15.0
        # 1. connect + handshake, CONNECT_WINDOW at a time.
        session_ids = []
        for start in range(0, n, CONNECT_WINDOW):
            batch = []
            for _ in range(min(CONNECT_WINDOW, n - start)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((srv.host, srv.port))
                socks.append(s)
                batch.append((s, rawzk.connect_request(SESSION_TIMEOUT_MS)))
            for reply in exchange(batch, deadline):
                assert reply is not None, "server closed a connection during handshake"
                r = rawzk.Reader(reply)
                r.int()
                assert r.int() == SESSION_TIMEOUT_MS
                sid = r.long()
                assert sid != 0
                session_ids.append(sid)
        assert len(set(session_ids)) == n
        t_handshake = time.monotonic() - t0
        # 2. every session creates one ephemeral node (create2: stat has the owner).
        items = [(s, request(1, rawzk.OP_CREATE2,
                             create_body("/swarm/s%05d" % i, b"%d" % i, rawzk.FLAG_EPHEMERAL)))
                 for i, s in enumerate(socks)]
        for i, reply in enumerate(exchange(items, deadline)):
            assert reply is not None
            r = rawzk.Reader(reply)
            assert (r.int(), r.long() > 0, r.int()) == (1, True, 0)
            assert r.string() == "/swarm/s%05d" % i
            assert r.stat()["ephemeralOwner"] == session_ids[i]
        # 3. one client sees them all.
        kids = get_children(obs, "/swarm")
        assert sorted(kids) == ["s%05d" % i for i in range(n)]
        assert obs.exists("/swarm")[1]["numChildren"] == n
        t_created = time.monotonic() - t0
        # 4. all close their sessions; the server answers, then closes.
        items = [(s, request(2, rawzk.OP_CLOSE, b"")) for s in socks]
        for reply in exchange(items, deadline):
            assert reply is not None
            r = rawzk.Reader(reply)
            assert (r.int(), r.long() > 0, r.int()) == (2, True, 0)
        for s in socks:
            s.close()
        socks = []
        wait_until(lambda: obs.exists("/swarm")[1]["numChildren"] == 0, timeout=10,
                   what="all ephemerals gone")
        assert get_children(obs, "/swarm") == []
        assert obs.ping() == 0
        print("sessions=%d handshake=%.2fs created=%.2fs total=%.2fs"
              % (n, t_handshake, t_created, time.monotonic() - t0))
        obs.close_session()
    finally:
        for s in socks:
            s.close()
        srv.stop()


def test_5000_pipelined_requests_answered_in_order(server, base):
    groups = 1250  # 4 requests each: create2, setData, getData, exists
    c = rawzk.open_session(server.host, server.port, io_timeout=10.0)
    reqs = []
    xid = 0
    for g in range(groups):
        p = "%s/p%05d" % (base, g)
        for op, body in ((rawzk.OP_CREATE2, create_body(p, b"d%d" % g)),
                         (rawzk.OP_SET_DATA, j_string(p) + j_buffer(b"e%d" % g) + j_int(0)),
                         (rawzk.OP_GET_DATA, j_string(p) + j_bool(False)),
                         (rawzk.OP_EXISTS, j_string(p) + j_bool(False))):
            xid += 1
            reqs.append(request(xid, op, body))
    assert xid == 5000
    blob = b"".join(reqs)
    send_err = []

    def sender():  # a thread, so a server that stops reading cannot deadlock us
        try:
            c.sock.sendall(blob)
        except OSError as e:
            send_err.append(e)

    c.sock.settimeout(15.0)
    t0 = time.monotonic()
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    deadline = t0 + 15.0
    last_zxid = 0
    for i in range(5000):
        r = rawzk.Reader(c.read_frame(max(0.1, deadline - time.monotonic())))
        rx, zxid, err = r.int(), r.long(), r.int()
        assert (rx, err) == (i + 1, 0), "reply #%d: xid %d err %d" % (i, rx, err)
        assert zxid >= last_zxid  # zxids never go backwards on one session
        last_zxid = zxid
        g, kind = divmod(i, 4)
        if kind == 0:
            assert r.string() == "%s/p%05d" % (base, g)
            assert r.stat()["version"] == 0
        elif kind == 1:
            assert r.stat()["version"] == 1
        elif kind == 2:
            assert r.buffer() == b"e%d" % g
            assert r.stat()["version"] == 1
        else:
            assert r.stat()["dataLength"] == len(b"e%d" % g)
    th.join(5)
    assert not send_err
    assert c.exists(base)[1]["numChildren"] == groups
    print("5000 pipelined requests in %.2fs" % (time.monotonic() - t0))
    c.close_session()


def _server_cpu_s(pid):
    """The server process's user + system CPU time so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pipelined_creates_cpu_s(server, zk, parent, n):
    cpu0 = _server_cpu_s(server.pid)
    results = [zk.create_async("%s/c%03d" % (parent, i)) for i in range(n)]
    for r in results:
        r.get(timeout=20)
    return _server_cpu_s(server.pid) - cpu0


def test_children_of_a_parent_with_large_data_cost_little_cpu(server, zk, base):
    """A child created (or deleted) changes its parent's stat, so the tree
    digest (ZooKeeper's digest.enabled, on by default) hashes the parent
    again, its data included, before and after the change. With 1 MB in
    the parent that must stay cheap (ZooKeeper's CRC32 runs at the speed of
    the CPU's CRC instructions). Aviary's own table CRC ran at 27-66 ns a
    byte in the ASan build: 256 pipelined creates under a parent holding
    300 KB held one core pass for seconds, and kazoo dropped the connection
    (the security suite's pipelined-over-TLS test, session 11)."""
    n = 100
    small = base + "/small"
    zk.create(small)
    big = base + "/big"
    zk.create(big, b"p" * (1000 * 1000))
    plain_cpu = _pipelined_creates_cpu_s(server, zk, small, n)
    big_cpu = _pipelined_creates_cpu_s(server, zk, big, n)
    extra_ms = (big_cpu - plain_cpu) * 1000.0 / n
    print("server CPU per create: %.2f ms under an empty parent, %.2f ms under a 1 MB one"
          % (plain_cpu * 1000.0 / n, big_cpu * 1000.0 / n))
    # Two CRCs of 1 MB: ~0.5 ms at -O2, ~2 ms in the ASan build (zlib);
    # the table CRC took ~1.6 ms at -O2 and 55-130 ms under ASan.
    assert extra_ms < 20.0, "a 1 MB parent costs %.1f ms of server CPU per child created" % extra_ms


def test_concurrent_kazoo_clients_cas_counter(zk_factory, zk, base):
    threads_n, ops = 8, 200
    counter = base + "/counter"
    zk.create(counter, b"0")
    clients = [zk_factory() for _ in range(threads_n)]
    results = [None] * threads_n
    errors = []
    start = threading.Barrier(threads_n)

    def worker(t):
        c = clients[t]
        mine = "%s/w%d" % (base, t)
        ok = conflicts = 0
        live = []  # my children, in creation order
        try:
            c.create(mine)
            start.wait(5)
            for k in range(ops):
                kind = k % 4
                if kind in (0, 2):  # compare-and-swap increment attempt
                    data, stat = c.get(counter)
                    try:
                        c.set(counter, b"%d" % (int(data) + 1), version=stat.version)
                        ok += 1
                    except BadVersionError:
                        conflicts += 1
                elif kind == 1:
                    live.append(c.create(mine + "/n", b"%d" % k, sequence=True))
                elif k % 8 == 3:
                    assert sorted(c.get_children(mine)) == sorted(p.rsplit("/", 1)[1] for p in live)
                else:
                    c.delete(live.pop(0))
            results[t] = (ok, conflicts, live)
        except Exception as e:  # reported by the main thread
            errors.append((t, repr(e)))

    t0 = time.monotonic()
    ths = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads_n)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(18)
    assert not errors, errors
    assert all(r is not None for r in results), "a worker did not finish"
    total_ok = sum(r[0] for r in results)
    total_conflicts = sum(r[1] for r in results)
    assert total_ok + total_conflicts == threads_n * ops // 2
    assert total_ok > 0
    data, stat = zk.get(counter)
    assert int(data) == total_ok
    assert stat.version == total_ok  # one version per successful set
    for t, (_ok, _c, live) in enumerate(results):
        mine = "%s/w%d" % (base, t)
        assert sorted(zk.get_children(mine)) == sorted(p.rsplit("/", 1)[1] for p in live)
        assert zk.exists(mine).cversion == ops // 4 + ops // 8  # creates + deletes
    print("cas: %d ok, %d conflicts in %.2fs" % (total_ok, total_conflicts, time.monotonic() - t0))
