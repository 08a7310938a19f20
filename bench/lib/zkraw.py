"""A minimal raw ZooKeeper client (jute over TCP, no threads, no retries):
enough to open a session, create a node, read it and close, with short
timeouts. bench/compare uses it where a full client's own retry back-off
would blur a measurement: readiness probes and restart-to-first-read.

Wire format (zookeeper.jute): every packet is a 4-byte big-endian length
and a body; ConnectRequest {int protocolVersion, long lastZxidSeen, int
timeOut, long sessionId, buffer passwd, bool readOnly}; a request is
{int xid, int type} + body; a reply {int xid, long zxid, int err} + body.
"""

import socket
import struct
import time

from .ensemble_harness import ensemble

OP_CREATE = 1
OP_GET_DATA = 4
OP_CLOSE = -11
ZNODEEXISTS = -110
OPEN_ACL_UNSAFE = [(0x1F, "world", "anyone")]


class ZkError(Exception):
    """A reply with a non-zero err, or a broken/closed connection."""

    def __init__(self, msg, code=None):
        super().__init__(msg)
        self.code = code


def _string(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack(">i", len(b)) + b


def _buffer(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


class RawSession:
    def __init__(self, host, port, timeout_s=2.0, session_timeout_ms=10000):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.xid = 0
        req = struct.pack(">iqiq", 0, 0, session_timeout_ms, 0) + _buffer(b"\0" * 16) + b"\0"
        self._send(req)
        body = self._recv()
        if len(body) < 20:
            raise ZkError("short ConnectResponse (%d bytes): session refused" % len(body))
        _, self.negotiated_ms, self.session_id = struct.unpack(">iiq", body[:16])
        if self.session_id == 0:
            raise ZkError("session refused (id 0)")

    def _send(self, body):
        self.sock.sendall(struct.pack(">i", len(body)) + body)

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ZkError("connection closed")
            out += chunk
        return out

    def _recv(self):
        (n,) = struct.unpack(">i", self._recv_exact(4))
        if n < 0 or n > 64 << 20:
            raise ZkError("bad frame length %d" % n)
        return self._recv_exact(n)

    def call(self, op, body):
        """Sends one request and returns the reply body after its header;
        skips watch events (xid -1) and pings (xid -2)."""
        self.xid += 1
        self._send(struct.pack(">ii", self.xid, op) + body)
        while True:
            reply = self._recv()
            xid, _zxid, err = struct.unpack(">iqi", reply[:16])
            if xid < 0:
                continue
            if xid != self.xid:
                raise ZkError("reply xid %d, expected %d" % (xid, self.xid))
            if err != 0:
                raise ZkError("error %d" % err, err)
            return reply[16:]

    def get_data(self, path):
        body = self.call(OP_GET_DATA, _string(path) + b"\0")
        (n,) = struct.unpack(">i", body[:4])
        return None if n < 0 else body[4:4 + n]

    def create(self, path, data, exist_ok=True):
        acl = struct.pack(">i", len(OPEN_ACL_UNSAFE))
        for perms, scheme, ident in OPEN_ACL_UNSAFE:
            acl += struct.pack(">i", perms) + _string(scheme) + _string(ident)
        try:
            self.call(OP_CREATE, _string(path) + _buffer(data) + acl + struct.pack(">i", 0))
        except ZkError as e:
            if not (exist_ok and e.code == ZNODEEXISTS):
                raise

    def close(self):
        try:
            self.call(OP_CLOSE, b"")
        except (ZkError, OSError):
            pass
        finally:
            self.sock.close()


def try_get(port, path, host="127.0.0.1"):
    """One attempt: (True, data) when getData(path) succeeded, (False,
    None) when the server is not serving it yet (refused, closed, session
    refused, node missing)."""
    try:
        s = RawSession(host, port, timeout_s=1.0)
    except (OSError, ZkError):
        return False, None
    try:
        return True, s.get_data(path)
    except (OSError, ZkError):
        return False, None
    finally:
        s.close()


def wait_first_read(port, path, expect, deadline_s, poll_s=0.005):
    """Polls until getData(path) returns `expect`; returns the monotonic
    time of that success, or None at the deadline (monotonic)."""
    while time.monotonic() < deadline_s:
        if try_get(port, path) == (True, expect):
            return time.monotonic()
        time.sleep(poll_s)
    return None


def four_letter(port, cmd, timeout_s=5.0):
    """The answer to a four-letter word ('' when the server does not answer):
    the ensemble harness's, which reads until EOF or the timeout."""
    return ensemble.four_letter(port, cmd, timeout=timeout_s)


def node_count(port):
    """`srvr`'s Node count, or None."""
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Node count:"):
            return int(line.split(":", 1)[1])
    return None
