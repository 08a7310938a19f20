"""Minimal raw ZooKeeper client-protocol client for differential testing.

Owns: one TCP session per `Session` (length-prefixed frames, ConnectRequest
handshake, RequestHeader{xid, type} + body, ReplyHeader{xid, zxid, err}),
and a transcript (`Session.log`, list of dicts) of everything the server
sends, in arrival order: replies, watcher events (xid -1, WatcherEvent body),
EOF and timeouts. Single-threaded: each Session is used by one thread only.
Every blocking read is bounded by a deadline. Record codecs live in jute.py.
"""

import socket
import struct
import time

from jute import *  # noqa: F401,F403  (re-exported: OPS, enc_body, ...)
from jute import (ERR_NAMES, EVENT_NAMES, OP_NAMES, OPS, Reader, Writer,
                  XID_AUTH, XID_NOTIFICATION, XID_PING, XID_SETWATCHES,
                  dec_body, enc_body)


class Session:
    """One client connection. Records every received message in `log`."""

    def __init__(self, host, port, name="s", timeout=5.0):
        self.name, self.wait = name, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.xid = 0
        self.pending = []  # FIFO of (xid, op, record)
        self.log = []      # transcript of received messages (raw values)
        self.eof = False
        self.session_id = None
        self.passwd = None
        self.closed = False  # a closeSession got its reply

    # framing
    def _send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv_frame(self, deadline):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">i", self.buf[:4])[0]
                if n < 0 or n > 64 * 1024 * 1024:
                    raise ValueError(f"bad frame length {n}")
                if len(self.buf) >= 4 + n:
                    frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                return b""  # EOF marker
            self.buf += chunk

    def connect(self, timeout_ms=30000, session_id=0, passwd=b"\0" * 16,
                last_zxid=0, read_only=False):
        w = Writer().int(0).long(last_zxid).int(timeout_ms).long(session_id)
        w.buffer(passwd).bool(read_only)
        self._send_frame(w.bytes())
        frame = self._recv_frame(time.monotonic() + self.wait)
        rec = {"kind": "connect"}
        if frame is None:
            rec["kind"] = "timeout"
        elif frame == b"":
            rec["kind"] = "eof"
        else:
            r = Reader(frame)
            rec.update(protocolVersion=r.int(), timeOut=r.int(),
                       sessionId=r.long())
            pw = r.buffer()
            rec["passwdLen"] = None if pw is None else len(pw)
            rec["readOnly"] = r.bool() if r.left() else None
            if r.left():
                rec["extra"] = r.d[r.p:].hex()
            self.session_id, self.passwd = rec["sessionId"], pw
        self.log.append(rec)
        return rec

    def send(self, op, args=None, xid=None, record=True, opname=None):
        """Send a request without waiting; returns its xid."""
        if xid is None:
            if op == OPS["ping"]:
                xid = XID_PING
            elif op == OPS["auth"]:
                xid = XID_AUTH
            elif op in (OPS["setWatches"], OPS["setWatches2"]):
                xid = XID_SETWATCHES
            else:
                self.xid += 1
                xid = self.xid
        body = enc_body(op, args or {})
        try:
            self._send_frame(struct.pack(">ii", xid, op) + body)
        except OSError:
            self.eof = True
            self.log.append({"kind": "send_failed"})
            return None
        self.pending.append((xid, op, record, opname or OP_NAMES.get(op, op)))
        return xid

    def _handle(self, frame):
        r = Reader(frame)
        xid, zxid, err = r.int(), r.long(), r.int()
        rec = {"xid": xid, "zxid": zxid, "err": ERR_NAMES.get(err, err)}
        if xid == XID_NOTIFICATION:
            rec["kind"] = "event"
            typ, state = r.int(), r.int()
            rec.update(type=EVENT_NAMES.get(typ, typ), state=state,
                       path=r.string())
            record = True
        else:
            rec["kind"] = "reply"
            idx = next((i for i, p in enumerate(self.pending) if p[0] == xid),
                       None)
            if idx is None:
                rec["op"] = "unexpected"
                record = True
            else:
                if idx != 0:
                    rec["out_of_order"] = True
                _, op, record, opname = self.pending.pop(idx)
                rec["op"] = opname
                if op == OPS["closeSession"]:
                    self.closed = True
                if r.left() and (err == 0 or op in (14, 22)):
                    try:
                        rec["body"] = dec_body(op, r)
                    except ValueError as e:
                        rec["decode_error"] = str(e)
        if r.left():
            rec["extra"] = r.d[r.p:].hex()
        if record:
            self.log.append(rec)
        return rec

    def pump(self, until, deadline):
        """Read messages until until(rec) is true, EOF, or the deadline."""
        while True:
            frame = self._recv_frame(deadline)
            if frame is None:
                self.log.append({"kind": "timeout"})
                return None
            if frame == b"":
                self.log.append({"kind": "eof"})
                self.pending.clear()
                return None
            rec = self._handle(frame)
            if until(rec):
                return rec

    def call(self, op, args=None, opname=None, record=True):
        """Send one request and wait (bounded) for its reply."""
        if self.eof:
            self.log.append({"kind": "not_sent_eof", "op": opname or op})
            return None
        xid = self.send(op, args, record=record, opname=opname)
        return self.wait_xid(xid)

    def wait_xid(self, xid):
        if xid is None:
            return None
        return self.pump(lambda r: r["kind"] == "reply" and r["xid"] == xid,
                         time.monotonic() + self.wait)

    def drain_pending(self):
        """Wait for the replies of every request sent so far."""
        deadline = time.monotonic() + self.wait
        while self.pending and not self.eof:
            if self.pump(lambda r: r["kind"] == "reply", deadline) is None:
                return

    def barrier(self):
        """Ping round trip (unrecorded): every message the server queued for
        this session before the ping was processed has then been read."""
        if self.eof:
            return
        self.drain_pending()
        if not self.eof:
            self.call(OPS["ping"], record=False)

    def wait_eof(self, seconds=3.0):
        deadline = time.monotonic() + seconds
        while not self.eof:
            frame = self._recv_frame(deadline)
            if frame is None:
                self.log.append({"kind": "timeout"})
                return
            if frame == b"":
                self.log.append({"kind": "eof"})
                return
            self._handle(frame)

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.eof = True


# --- normalisation -----------------------------------------------------------
ZXID_FIELDS = ("zxid", "czxid", "mzxid", "pzxid")


def normalise(records, base_zxid, session_names):
    """Replace zxids by offsets from base_zxid ("Z+n"; 0 and -1 kept),
    session ids by names (first appearance order), times by "T" (0 kept),
    random passwords by their length (already done at decode)."""
    def zx(v):
        if v in (0, -1) or not isinstance(v, int):
            return v
        return f"Z{v - base_zxid:+d}"

    def sid(v):
        if v == 0:
            return 0
        if v not in session_names:
            session_names[v] = f"sid{len(session_names) + 1}"
        return session_names[v]

    def walk(x, key=None):
        if isinstance(x, dict):
            return {k: walk(v, k) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if key in ZXID_FIELDS:
            return zx(x)
        if key in ("ctime", "mtime"):
            return 0 if x == 0 else "T"
        if key in ("ephemeralOwner", "sessionId"):
            return sid(x)
        return x

    return [walk(r) for r in records]
