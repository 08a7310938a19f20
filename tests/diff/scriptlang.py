"""Parser and executor of the differential-test script language.

Owns: turning tests/diff/scripts/*.txt into steps and running them against
one server (host, port), producing a raw transcript. Single-threaded per
server. Every wait is bounded (zkwire.Session timeouts, script deadline).

Syntax (one step per line, `#` comments, shell-like quoting):
  @fresh                         directive: run on a freshly started server
  connect NAME [timeout=MS]      open session NAME (records ConnectResponse)
  NAME OP [PATH] [k=v ...] [watch]   one request; waits for its reply
  NAME &OP ...                   pipelined: sent without waiting
  NAME wait                      wait for all pipelined replies
  NAME close                     closeSession, then wait for the server EOF
  NAME eof                       wait (bounded) for the server to close
  NAME multi | NAME multiRead    block of sub-ops, one per line, until `end`
  NAME raw OPCODE [hex=BYTES]    request with an arbitrary opcode/body
  NAME auth SCHEME AUTH [xid=N]  auth packet (xid -4 unless given)
Keys: data=STR|hex:..  nodata (null buffer)  acl=SPEC  mode=NAME|INT
  ttl=MS  version=N  type=children|data|any  save=VAR (store reply zxid)
  setWatches: rel=ZXID dataw=/a,/b existw= childw= persw= recw=
Numbers may be @VAR or @VAR+N / @VAR-N (values saved with save=).
ACL SPEC: comma list of open | read | creator | none | scheme:id:perms
  (perms as letters from "rwcda" or an int); digestpw:user:pw:perms builds
  the digest id from a password.
After every non-pipelined step each open session does an unrecorded ping
round trip (barrier), so all events caused by the step have been received.
"""

import re
import shlex
import time

import zkwire

PERM_BITS = {"r": 1, "w": 2, "c": 4, "d": 8, "a": 16}
BLOCK_OPS = ("multi", "multiRead")
SUB_OPS = ("create", "create2", "createContainer", "createTTL", "delete",
           "setData", "check", "getData", "getChildren")


class Step:
    def __init__(self, line, sess, op, args, pipelined=False, subs=None):
        self.line, self.sess, self.op, self.args = line, sess, op, args
        self.pipelined, self.subs = pipelined, subs or []


class Script:
    def __init__(self, name, steps, fresh, creds):
        self.name, self.steps, self.fresh, self.creds = name, steps, fresh, creds


def parse_perms(s):
    if s.lstrip("-").isdigit():
        return int(s)
    return sum(PERM_BITS[c] for c in s)


def parse_acl(spec):
    out = []
    for part in spec.split(","):
        if part == "open":
            out.append((31, "world", "anyone"))
        elif part == "read":
            out.append((1, "world", "anyone"))
        elif part == "creator":
            out.append((31, "auth", ""))
        elif part == "none":
            pass
        elif part == "null":
            return None
        else:
            scheme, rest = part.split(":", 1)
            ident, perms = rest.rsplit(":", 1)
            if scheme == "digestpw":
                user, pw = ident.split(":", 1)
                scheme, ident = "digest", zkwire.digest_id(user, pw)
            out.append((parse_perms(perms), scheme, ident))
    return out


def parse_script(name, text):
    steps, fresh, creds, block = [], False, [], None
    for lineno, raw in enumerate(text.splitlines(), 1):
        toks = shlex.split(raw, comments=True)
        if not toks:
            continue
        if toks == ["@fresh"]:
            fresh = True
            continue
        if block is not None:
            if toks == ["end"]:
                steps.append(block)
                block = None
            else:
                if toks[0] not in SUB_OPS:
                    raise ValueError(f"{name}:{lineno}: bad sub-op {toks[0]}")
                block.subs.append((toks[0], toks[1:]))
            continue
        if toks[0] == "connect":
            steps.append(Step(lineno, toks[1], "connect", toks[2:]))
            continue
        sess, op, rest = toks[0], toks[1], toks[2:]
        pipelined = op.startswith("&")
        op = op.lstrip("&")
        if op == "auth" and len(rest) >= 2 and rest[0] == "digest":
            creds.append((rest[0], rest[1]))
        step = Step(lineno, sess, op, rest, pipelined)
        if op in BLOCK_OPS:
            block = step
        else:
            steps.append(step)
    if block is not None:
        raise ValueError(f"{name}: unterminated {block.op} block")
    return Script(name, steps, fresh, creds)


def num(s, env):
    m = re.fullmatch(r"@(\w+)([+-]\d+)?", s)
    if m:
        return env[m.group(1)] + int(m.group(2) or 0)
    return int(s, 0)


def build_args(op, toks, env):
    """Turn tokens into (opcode, args dict, save var) for zkwire.enc_body."""
    a, save = {}, None
    pos = [t for t in toks if "=" not in t and t not in ("watch", "nodata")]
    kv = dict(t.split("=", 1) for t in toks if "=" in t)
    if "watch" in toks:
        a["watch"] = True
    if op == "auth":
        return 100, {"scheme": pos[0], "auth": pos[1].encode()}, kv.get("save")
    if op == "raw":
        opcode = num(pos[0], env)
        return opcode, {"raw": bytes.fromhex(kv.get("hex", ""))}, kv.get("save")
    opcode = zkwire.OPS[op]
    if pos:
        a["path"] = pos[0]
    for k, v in kv.items():
        if k == "data":
            a["data"] = bytes.fromhex(v[4:]) if v.startswith("hex:") else v.encode()
        elif k == "acl":
            a["acl"] = parse_acl(v)
        elif k == "mode":
            modes = zkwire.ADDWATCH_MODES if op == "addWatch" else zkwire.CREATE_MODES
            a["mode" if op == "addWatch" else "flags"] = modes[v] if v in modes else int(v)
        elif k == "type":
            a["type"] = zkwire.WATCHER_TYPES.get(v) or int(v)
        elif k in ("ttl", "version", "flags"):
            a[k] = num(v, env)
        elif k == "rel":
            a["relativeZxid"] = num(v, env)
        elif k in ("dataw", "existw", "childw", "persw", "recw"):
            key = {"dataw": "data", "existw": "exist", "childw": "child",
                   "persw": "persistent", "recw": "recursive"}[k]
            a[key] = [p for p in v.split(",") if p]
        elif k == "save":
            save = v
        else:
            raise ValueError(f"unknown key {k}")
    if "nodata" in toks:
        a["data"] = None
    if op.startswith("create") and "acl" not in a:
        a["acl"] = parse_acl("open")
    if op == "createContainer":
        a.setdefault("flags", zkwire.CREATE_MODES["container"])
    if op == "createTTL":
        a.setdefault("flags", zkwire.CREATE_MODES["ttl"])
    return opcode, a, save


class Executor:
    """Runs one Script against one server; returns the raw transcript."""

    def __init__(self, host, port, reply_timeout=3.0, deadline_s=60.0):
        self.host, self.port = host, port
        self.reply_timeout, self.deadline_s = reply_timeout, deadline_s
        self.sessions = {}  # name -> Session, in creation order
        self.env = {}
        self.seen = {}      # name -> number of log entries already collected
        self.transcript = []

    def _collect(self, label):
        for name, s in self.sessions.items():
            new = s.log[self.seen[name]:]
            self.seen[name] = len(s.log)
            for rec in new:
                self.transcript.append(dict(step=label, sess=name, **rec))

    def _barrier(self):
        for s in self.sessions.values():
            s.barrier()
            if s.log and s.log[-1].get("kind") == "timeout":
                s.close_socket()  # a dead session is not waited on again

    def run(self, script):
        t_end = time.monotonic() + self.deadline_s
        for st in script.steps:
            if time.monotonic() > t_end:
                self.transcript.append({"step": f"L{st.line}", "kind": "script_deadline"})
                break
            self._step(st)
            if not st.pipelined:
                self._barrier()
                self._collect(f"L{st.line}")
        for name, s in list(self.sessions.items()):
            if not s.eof:
                s.drain_pending()
                s.call(zkwire.OPS["closeSession"])
                s.wait_eof()
            elif not s.closed and s.session_id:
                self._reattach_and_close(name, s)
        self._collect("end")
        for s in self.sessions.values():
            s.close_socket()
        return self.transcript

    def _reattach_and_close(self, name, old):
        """A session whose connection the server dropped (or we abandoned)
        would expire later and consume a zxid at a random time; re-attach
        to it (ConnectRequest with its id and password) and close it now."""
        s = zkwire.Session(self.host, self.port, name, self.reply_timeout)
        s.log = old.log
        s.connect(timeout_ms=30000, session_id=old.session_id, passwd=old.passwd)
        if not s.eof:
            s.call(zkwire.OPS["closeSession"])
            s.wait_eof()
        s.close_socket()

    def _step(self, st):
        if st.op == "connect":
            kv = dict(t.split("=", 1) for t in st.args if "=" in t)
            s = zkwire.Session(self.host, self.port, st.sess, self.reply_timeout)
            self.sessions[st.sess] = s
            self.seen[st.sess] = 0
            s.connect(timeout_ms=int(kv.get("timeout", 30000)))
            return
        s = self.sessions[st.sess]
        if st.op == "wait":
            s.drain_pending()
            return
        if st.op == "eof":
            s.wait_eof()
            return
        if s.eof:
            s.log.append({"kind": "not_sent_eof", "op": st.op})
            return
        if st.op == "close":
            s.drain_pending()
            s.call(zkwire.OPS["closeSession"])
            s.wait_eof()
            return
        save = None
        if st.op in BLOCK_OPS:
            ops = []
            for sub, toks in st.subs:
                opcode, a, _ = build_args(sub, toks, self.env)
                ops.append((opcode, a))
            opcode, a = zkwire.OPS[st.op], {"ops": ops}
            save = dict(t.split("=", 1) for t in st.args if "=" in t).get("save")
        else:
            opcode, a, save = build_args(st.op, st.args, self.env)
        xid = None
        if st.op == "auth":  # auth may name its xid (default -4, as clients)
            xid_kv = dict(t.split("=", 1) for t in st.args if "=" in t).get("xid")
            xid = None if xid_kv is None else num(xid_kv, self.env)
        xid = s.send(opcode, a, xid=xid, opname=st.op)
        if st.pipelined:
            return
        rec = s.wait_xid(xid)
        if save and rec is not None:
            self.env[save] = rec["zxid"]
