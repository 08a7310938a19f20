"""Jute encoding of the ZooKeeper client protocol records (no I/O).

Owns: constants (opcodes, error/event names), Writer/Reader for jute
primitives (big-endian int/long, bool as one byte, buffer/ustring as int32
length (-1 = null) + bytes, vector as int32 count + items), and the request
body encoder / reply body decoder for every client opcode, including the
MultiHeader{type, done, err} framing of multi / multiRead. Pure functions.
"""

import base64
import hashlib
import struct

OPS = {
    "create": 1, "delete": 2, "exists": 3, "getData": 4, "setData": 5,
    "getACL": 6, "setACL": 7, "getChildren": 8, "sync": 9, "ping": 11,
    "getChildren2": 12, "check": 13, "multi": 14, "create2": 15,
    "checkWatches": 17, "removeWatches": 18, "createContainer": 19,
    "createTTL": 21, "multiRead": 22, "auth": 100, "setWatches": 101,
    "getEphemerals": 103, "getAllChildrenNumber": 104, "setWatches2": 105,
    "addWatch": 106, "whoAmI": 107, "closeSession": -11, "error": -1,
}
OP_NAMES = {v: k for k, v in OPS.items()}

ERR_NAMES = {
    0: "OK", -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY",
    -3: "DATAINCONSISTENCY", -4: "CONNECTIONLOSS", -5: "MARSHALLINGERROR",
    -6: "UNIMPLEMENTED", -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS",
    -12: "UNKNOWNSESSION", -13: "NEWCONFIGNOQUORUM",
    -14: "RECONFIGINPROGRESS", -100: "APIERROR", -101: "NONODE",
    -102: "NOAUTH", -103: "BADVERSION", -108: "NOCHILDRENFOREPHEMERALS",
    -110: "NODEEXISTS", -111: "NOTEMPTY", -112: "SESSIONEXPIRED",
    -113: "INVALIDCALLBACK", -114: "INVALIDACL", -115: "AUTHFAILED",
    -118: "SESSIONMOVED", -119: "NOTREADONLY",
    -120: "EPHEMERALONLOCALSESSION", -121: "NOWATCHER",
    -122: "REQUESTTIMEOUT", -123: "RECONFIGDISABLED",
    -124: "SESSIONCLOSEDREQUIRESASLAUTH", -125: "QUOTAEXCEEDED",
    -127: "THROTTLEDOP",
}
EVENT_NAMES = {
    -1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
    4: "NodeChildrenChanged", 5: "DataWatchRemoved", 6: "ChildWatchRemoved",
    7: "PersistentWatchRemoved",
}
CREATE_MODES = {
    "persistent": 0, "ephemeral": 1, "persistent_seq": 2, "ephemeral_seq": 3,
    "container": 4, "ttl": 5, "ttl_seq": 6,
}
WATCHER_TYPES = {"children": 1, "data": 2, "any": 3}
ADDWATCH_MODES = {"persistent": 0, "recursive": 1}
XID_NOTIFICATION, XID_PING, XID_AUTH, XID_SETWATCHES = -1, -2, -4, -8


# --- jute primitives -------------------------------------------------------
class Writer:
    def __init__(self):
        self.parts = []

    def int(self, v):
        self.parts.append(struct.pack(">i", v))
        return self

    def long(self, v):
        self.parts.append(struct.pack(">q", v))
        return self

    def bool(self, v):
        self.parts.append(b"\x01" if v else b"\x00")
        return self

    def buffer(self, b):
        if b is None:
            return self.int(-1)
        if isinstance(b, str):
            b = b.encode()
        self.int(len(b))
        self.parts.append(b)
        return self

    string = buffer

    def strings(self, items):
        self.int(len(items))
        for s in items:
            self.string(s)
        return self

    def acls(self, acl):
        if acl is None:
            return self.int(-1)
        self.int(len(acl))
        for perms, scheme, ident in acl:
            self.int(perms).string(scheme).string(ident)
        return self

    def bytes(self):
        return b"".join(self.parts)


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def left(self):
        return len(self.d) - self.p

    def _take(self, n):
        if n > self.left():
            raise ValueError("short record")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        return None if n < 0 else self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", "replace")

    def strings(self):
        n = self.int()
        return None if n < 0 else [self.string() for _ in range(n)]

    def stat(self):
        names = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion",
                 "aversion", "ephemeralOwner", "dataLength", "numChildren",
                 "pzxid")
        kinds = "qqqqiiiqiiq"
        return {n: (self.long() if k == "q" else self.int())
                for n, k in zip(names, kinds)}

    def acls(self):
        n = self.int()
        if n < 0:
            return None
        out = []
        for _ in range(n):
            perms = self.int()
            out.append({"perms": perms, "scheme": self.string(),
                        "id": self.string()})
        return out


def show_bytes(b):
    """Data as text when printable UTF-8, else hex."""
    if b is None:
        return None
    try:
        s = b.decode("utf-8")
        if s.isprintable():
            return s
    except UnicodeDecodeError:
        pass
    return "hex:" + b.hex()


def digest_id(user, password):
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


# --- request bodies ----------------------------------------------------------
def enc_create(w, a, op):
    w.string(a["path"]).buffer(a.get("data", b"")).acls(a.get("acl"))
    w.int(a.get("flags", 0))
    if op == OPS["createTTL"]:
        w.long(a.get("ttl", 0))


def enc_path_watch(w, a, op):
    w.string(a["path"]).bool(a.get("watch", False))


def enc_path(w, a, op):
    w.string(a["path"])


def enc_body(op, a):
    """Encode the request body for opcode `op` from argument dict `a`."""
    w = Writer()
    if "raw" in a:
        return a["raw"]
    if op in (1, 15, 19, 21):
        enc_create(w, a, op)
    elif op in (2, 13):
        w.string(a["path"]).int(a.get("version", -1))
    elif op in (3, 4, 8, 12):
        enc_path_watch(w, a, op)
    elif op == 5:
        w.string(a["path"]).buffer(a.get("data", b"")).int(a.get("version", -1))
    elif op in (6, 9, 104):
        enc_path(w, a, op)
    elif op == 7:
        w.string(a["path"]).acls(a.get("acl")).int(a.get("version", -1))
    elif op in (14, 22):
        for sub_op, sub in a["ops"]:
            w.int(sub_op).bool(False).int(-1)
            w.parts.append(enc_body(sub_op, sub))
        w.int(-1).bool(True).int(-1)
    elif op in (17, 18):
        w.string(a["path"]).int(a.get("type", 3))
    elif op == 100:
        w.int(0).string(a["scheme"]).buffer(a["auth"])
    elif op in (101, 105):
        w.long(a.get("relativeZxid", 0)).strings(a.get("data", []))
        w.strings(a.get("exist", [])).strings(a.get("child", []))
        if op == 105:
            w.strings(a.get("persistent", []))
            w.strings(a.get("recursive", []))
    elif op == 103:
        w.string(a.get("path", "/"))
    elif op == 106:
        w.string(a["path"]).int(a.get("mode", 0))
    return w.bytes()


# --- reply bodies ------------------------------------------------------------
def dec_multi(r):
    results = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            if (typ, err) != (-1, -1):
                results.append({"end": [typ, err]})
            return results
        res = {"type": OP_NAMES.get(typ, typ), "err": ERR_NAMES.get(err, err)}
        if typ == 1:
            res["path"] = r.string()
        elif typ in (15, 19, 21):
            res["path"] = r.string()
            res["stat"] = r.stat()
        elif typ == 5:
            res["stat"] = r.stat()
        elif typ == 4:
            res["data"] = show_bytes(r.buffer())
            res["stat"] = r.stat()
        elif typ == 8:
            ch = r.strings()
            res["children"] = None if ch is None else sorted(ch)
        elif typ == -1:
            res["errbody"] = ERR_NAMES.get(r.int(), "?")
        results.append(res)
        if len(results) > 10000:
            raise ValueError("multi too long")


def dec_body(op, r):
    """Decode a successful reply body for opcode `op`."""
    b = {}
    if op == 1:
        b["path"] = r.string()
    elif op in (15, 19, 21):
        b["path"] = r.string()
        b["stat"] = r.stat()
    elif op in (3, 5, 7):
        b["stat"] = r.stat()
    elif op == 4:
        b["data"] = show_bytes(r.buffer())
        b["stat"] = r.stat()
    elif op == 6:
        b["acl"] = r.acls()
        b["stat"] = r.stat()
    elif op in (8, 12):
        ch = r.strings()
        b["children"] = None if ch is None else sorted(ch)
        if op == 12:
            b["stat"] = r.stat()
    elif op == 9:
        b["path"] = r.string()
    elif op in (14, 22):
        b["results"] = dec_multi(r)
    elif op == 103:
        eph = r.strings()
        b["ephemerals"] = None if eph is None else sorted(eph)
    elif op == 104:
        b["totalNumber"] = r.int()
    elif op == 107:
        n = r.int()
        info = [{"authScheme": r.string(), "user": r.string()}
                for _ in range(max(n, 0))]
        # ZooKeeper lists a connection's auth ids in hash-set order: sort.
        b["clientInfo"] = sorted(info, key=lambda i: (str(i["authScheme"]), str(i["user"])))
    return b
