"""Tiny raw ZooKeeper wire client for tests that kazoo 2.8 cannot express:
bad input, TTL and container creates, addWatch (persistent watches), and
sessions that go silent so the server expires them.

Frames are int32 big-endian length + payload. Written from the protocol
description (jute records), independent of any client library.
"""

import socket
import struct
import time

OP_CREATE = 1
OP_DELETE = 2
OP_EXISTS = 3
OP_GET_DATA = 4
OP_SET_DATA = 5
OP_GET_CHILDREN = 8
OP_PING = 11
OP_CREATE2 = 15
OP_CREATE_CONTAINER = 19
OP_CREATE_TTL = 21
OP_ADD_WATCH = 106
OP_CLOSE = -11

FLAG_PERSISTENT = 0
FLAG_EPHEMERAL = 1
FLAG_CONTAINER = 4
FLAG_PERSISTENT_TTL = 5
FLAG_PERSISTENT_SEQ_TTL = 6

ADD_WATCH_PERSISTENT = 0
ADD_WATCH_PERSISTENT_RECURSIVE = 1

EV_CREATED = 1
EV_DELETED = 2
EV_DATA_CHANGED = 3
EV_CHILDREN_CHANGED = 4

OPEN_ACL_UNSAFE = [(31, "world", "anyone")]

STAT_FMT = ">qqqqiiiqiiq"
STAT_LEN = struct.calcsize(STAT_FMT)  # 68
STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
               "ephemeralOwner", "dataLength", "numChildren", "pzxid")


def j_int(v):
    return struct.pack(">i", v)


def j_long(v):
    return struct.pack(">q", v)


def j_bool(v):
    return b"\x01" if v else b"\x00"


def j_buffer(b):
    if b is None:
        return j_int(-1)
    return j_int(len(b)) + b


def j_string(s):
    return j_buffer(None if s is None else s.encode("utf-8"))


def j_acls(acls):
    out = j_int(len(acls))
    for perms, scheme, ident in acls:
        out += j_int(perms) + j_string(scheme) + j_string(ident)
    return out


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short record")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def buffer(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8")

    def stat(self):
        return dict(zip(STAT_FIELDS, struct.unpack(STAT_FMT, self.take(STAT_LEN))))

    def rest(self):
        return self.data[self.pos:]


def connect_request(timeout_ms=30000, session_id=0, passwd=b"\0" * 16, last_zxid=0,
                    read_only=False):
    body = j_int(0) + j_long(last_zxid) + j_int(timeout_ms) + j_long(session_id)
    body += j_buffer(passwd) + j_bool(read_only)
    return j_int(len(body)) + body


class ConnectionClosed(Exception):
    pass


class RawClient:
    """One TCP connection speaking the client protocol. Not thread-safe."""

    def __init__(self, host, port, io_timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=io_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.io_timeout = io_timeout
        self.xid = 0
        self.events = []  # (type, state, path) notifications seen so far
        self.session_id = None
        self.passwd = None
        self.timeout_ms = None

    # -- framing -----------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n, deadline):
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out reading %d bytes" % n)
            self.sock.settimeout(left)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionClosed("peer closed after %d/%d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.io_timeout)
        (n,) = struct.unpack(">i", self.recv_exact(4, deadline))
        return self.recv_exact(n, deadline)

    def is_closed_by_peer(self, timeout=3.0):
        """True if the server closes the connection (EOF/RST) within timeout,
        discarding any frames that arrive first."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        return False

    # -- session -----------------------------------------------------------
    def handshake(self, timeout_ms=30000, session_id=0, passwd=b"\0" * 16):
        self.send_raw(connect_request(timeout_ms, session_id, passwd))
        r = Reader(self.read_frame())
        r.int()  # protocolVersion
        self.timeout_ms = r.int()
        self.session_id = r.long()
        self.passwd = r.buffer()
        return self.timeout_ms, self.session_id, self.passwd

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send_request(self, op, body, xid=None):
        xid = self.next_xid() if xid is None else xid
        payload = j_int(xid) + j_int(op) + body
        self.send_raw(j_int(len(payload)) + payload)
        return xid

    def read_reply(self, xid, timeout=None):
        """Read frames until the reply to xid; notifications are queued.
        Returns (zxid, err, Reader over the body)."""
        deadline = time.monotonic() + (timeout or self.io_timeout)
        while True:
            r = Reader(self.read_frame(max(0.01, deadline - time.monotonic())))
            rx, zxid, err = r.int(), r.long(), r.int()
            if rx == -1:
                self.events.append((r.int(), r.int(), r.string()))
                continue
            if rx == -2:
                continue  # ping reply
            if rx != xid:
                raise AssertionError("reply xid %d, expected %d" % (rx, xid))
            return zxid, err, r

    def call(self, op, body, timeout=None):
        return self.read_reply(self.send_request(op, body), timeout)

    def wait_events(self, count, timeout=5.0):
        """Wait until at least count notifications were received."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            try:
                r = Reader(self.read_frame(max(0.01, deadline - time.monotonic())))
            except socket.timeout:
                break
            rx, _zxid, _err = r.int(), r.long(), r.int()
            if rx == -1:
                self.events.append((r.int(), r.int(), r.string()))
        return self.events

    # -- operations (return err, parsed result) -----------------------------
    def create(self, path, data=b"", flags=FLAG_PERSISTENT, acls=OPEN_ACL_UNSAFE, ttl=None,
               op=None):
        body = j_string(path) + j_buffer(data) + j_acls(acls) + j_int(flags)
        if op is None:
            op = OP_CREATE_TTL if ttl is not None else (
                OP_CREATE_CONTAINER if flags == FLAG_CONTAINER else OP_CREATE2)
        if op == OP_CREATE_TTL:
            body += j_long(ttl if ttl is not None else 0)
        _zxid, err, r = self.call(op, body)
        if err != 0:
            return err, None
        created = r.string()
        stat = r.stat() if op != OP_CREATE else None
        return err, (created, stat)

    def exists(self, path, watch=False):
        _zxid, err, r = self.call(OP_EXISTS, j_string(path) + j_bool(watch))
        return err, (r.stat() if err == 0 else None)

    def get_data(self, path, watch=False):
        _zxid, err, r = self.call(OP_GET_DATA, j_string(path) + j_bool(watch))
        if err != 0:
            return err, None
        return err, (r.buffer(), r.stat())

    def set_data(self, path, data, version=-1):
        _zxid, err, r = self.call(OP_SET_DATA, j_string(path) + j_buffer(data) + j_int(version))
        return err, (r.stat() if err == 0 else None)

    def delete(self, path, version=-1):
        _zxid, err, _r = self.call(OP_DELETE, j_string(path) + j_int(version))
        return err

    def add_watch(self, path, mode):
        _zxid, err, _r = self.call(OP_ADD_WATCH, j_string(path) + j_int(mode))
        return err

    def ping(self, timeout=None):
        """Send a ping (xid -2) and wait for its reply; returns err."""
        payload = j_int(-2) + j_int(OP_PING)
        self.send_raw(j_int(len(payload)) + payload)
        deadline = time.monotonic() + (timeout or self.io_timeout)
        while True:
            r = Reader(self.read_frame(max(0.01, deadline - time.monotonic())))
            rx, _zxid, err = r.int(), r.long(), r.int()
            if rx == -1:
                self.events.append((r.int(), r.int(), r.string()))
            elif rx == -2:
                return err

    def close_session(self):
        try:
            _zxid, err, _r = self.call(OP_CLOSE, b"", timeout=3.0)
            return err
        finally:
            self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def read_all_until_close(c, timeout=3.0):
    """Bytes received until the peer closes; None if it stays open."""
    data = b""
    try:
        while True:
            c.sock.settimeout(timeout)
            chunk = c.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return data


def open_session(host, port, timeout_ms=30000, io_timeout=5.0):
    c = RawClient(host, port, io_timeout)
    c.handshake(timeout_ms)
    return c
