#!/usr/bin/python3
"""Failover under write load: how long a 3-node ensemble takes to serve
writes again after its leader is killed (SIGKILL), with N znodes in the tree.

    bench/failover.py --kind aviary --znodes 1000000 --reps 3
    bench/failover.py --kind aviary,zookeeper --znodes 100000 --reps 3 --json-only

Per kind: a fresh 3-node ensemble (tests/ensemble/ensemble.py's harness,
tickTime 2000, initLimit 10, syncLimit 5, forceSync on, ZooKeeper with
-Xmx<--zk-heap> and JVM defaults) is filled with --znodes znodes of
--payload bytes (aviary-bench create, under --parents parents when the
bench supports it). Then each repetition:
  1. a raw-protocol write load (setData, --sessions sessions with --depth
     requests in flight each, one Python thread) runs against the two
     members that do not lead, for --before seconds;
  2. the leader is killed with SIGKILL (t = 0);
  3. the load goes on: a session whose connection breaks reconnects at
     once (every --reconnect-ms, to the other survivor next) with its
     session id and password, as a client library does minus its random
     back-off (the Java client sleeps up to 1 s first; that is the client's,
     not the ensemble's);
  4. first_write_s: the first acknowledged write of the NEW epoch (its
     zxid's epoch is above every zxid seen before the kill);
     half_throughput_s: the first time a --window-ms window of
     acknowledgements reaches half the rate before the kill;
  5. the killed member restarts and catches up before the next repetition
     (the leader is then another member), then --settle seconds pass (its
     start-up snapshot).
Also reported: the survivors' own "election took" figures from their logs.
Prints one JSON line per repetition and a summary JSON with the medians
(`measure(kind, ...)` returns the same dict, for bench/compare).
"""

import argparse
import json
import os
import re
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "ensemble"))
import ensemble  # noqa: E402

OP_SET_DATA = 5
LOAD_ROOT = "/failover-load"


def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def _connect_request(session_id, passwd, timeout_ms):
    body = struct.pack(">iqiq", 0, 0, timeout_ms, session_id)
    body += struct.pack(">i", len(passwd)) + passwd + b"\x00"
    return _frame(body)


def _set_request(xid, path, data):
    p = path.encode()
    body = struct.pack(">ii", xid, OP_SET_DATA) + struct.pack(">i", len(p)) + p
    body += struct.pack(">i", len(data)) + data + struct.pack(">i", -1)
    return _frame(body)


class _Session:
    def __init__(self, idx, path):
        self.idx = idx
        self.path = path
        self.sock = None
        self.session_id = 0
        self.passwd = b"\x00" * 16
        self.ready = False
        self.rbuf = b""
        self.xid = 0
        self.inflight = 0
        self.host = idx
        self.retry_at = 0.0


class WriteLoad:
    """setData load over raw sockets; records (time, zxid, err) of every
    reply. Thread-safe readers: acks() snapshots the record."""

    def __init__(self, hosts, sessions=8, depth=4, payload=100, timeout_ms=10000, reconnect_ms=20):
        self.hosts = hosts  # [(host, port)]
        self.depth = depth
        self.data = b"x" * payload
        self.timeout_ms = timeout_ms
        self.reconnect_s = reconnect_ms / 1000.0
        self.sessions = [_Session(i, "%s/s%d" % (LOAD_ROOT, i)) for i in range(sessions)]
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.records = []  # (t, zxid) of successful writes
        self.attached = []  # times a session's handshake succeeded
        self.errors = 0
        self.reconnects = 0
        self.expired = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_flag = True
        self.thread.join(timeout=10)
        for s in self.sessions:
            self._drop(s, count=False)

    def acks(self):
        with self.lock:
            return list(self.records)

    # --- connection handling ---------------------------------------------
    def _dial(self, s, now):
        host, port = self.hosts[s.host % len(self.hosts)]
        try:
            sock = socket.create_connection((host, port), timeout=1.0)
        except OSError:
            s.host += 1
            s.retry_at = now + self.reconnect_s
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        s.sock, s.rbuf, s.ready, s.inflight = sock, b"", False, 0
        sock.sendall(_connect_request(s.session_id, s.passwd, self.timeout_ms))
        self.sel.register(sock, selectors.EVENT_READ, s)

    def _drop(self, s, count=True):
        if s.sock is not None:
            try:
                self.sel.unregister(s.sock)
            except (KeyError, ValueError):
                pass
            s.sock.close()
        s.sock, s.ready, s.inflight = None, False, 0
        if count:
            self.reconnects += 1
            s.host += 1  # the other survivor next
            s.retry_at = time.monotonic() + self.reconnect_s

    def _fill(self, s):
        out = b""
        while s.inflight < self.depth:
            s.xid += 1
            s.inflight += 1
            out += _set_request(s.xid, s.path, self.data)
        if out:
            s.sock.sendall(out)

    def _on_frame(self, s, frame, now):
        if not s.ready:
            _, timeout, sid, plen = struct.unpack_from(">iiqi", frame, 0)
            if timeout <= 0:  # expired: start a new session
                self.expired += 1
                s.session_id, s.passwd = 0, b"\x00" * 16
                return self._drop(s)
            s.session_id, s.passwd, s.ready = sid, frame[20:20 + plen], True
            with self.lock:
                self.attached.append(now)
            return self._fill(s)
        xid, zxid, err = struct.unpack_from(">iqi", frame, 0)
        if xid < 0:
            return  # ping or event
        s.inflight -= 1
        with self.lock:
            if err == 0:
                self.records.append((now, zxid))
            else:
                self.errors += 1
        self._fill(s)

    def _on_readable(self, s):
        try:
            data = s.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self._drop(s)
        now = time.monotonic()
        s.rbuf += data
        while len(s.rbuf) >= 4:
            n = struct.unpack_from(">i", s.rbuf, 0)[0]
            if len(s.rbuf) < 4 + n:
                break
            frame, s.rbuf = s.rbuf[4:4 + n], s.rbuf[4 + n:]
            try:
                self._on_frame(s, frame, now)
            except OSError:
                return self._drop(s)
            if s.sock is None:
                return

    def _run(self):
        while not self.stop_flag:
            now = time.monotonic()
            for s in self.sessions:
                if s.sock is None and now >= s.retry_at:
                    self._dial(s, now)
            for key, _ in self.sel.select(timeout=0.005):
                if key.data.sock is not None:
                    self._on_readable(key.data)


def _bench_supports(bench, flag):
    out = subprocess.run([bench, "--help"], capture_output=True, text=True)
    return flag in out.stdout + out.stderr


def _node_count(ens):
    lead = ens.leader()
    return int(lead.srvr().get("Node count", "0")) if lead is not None else 0


def fill(ens, bench, znodes, payload, parents, chunk=200000):
    """Creates about `znodes` znodes of `payload` bytes with aviary-bench,
    in chunks (a chunk that fails, e.g. a session lost on this loaded
    machine, is retried: the leader's node count says what is left)."""
    if znodes <= 0:
        return 0.0
    extra = ["--parents", str(parents)] if parents > 0 and _bench_supports(bench, "--parents") else []
    t0 = time.monotonic()
    base = _node_count(ens)
    failures = 0
    while True:
        left = znodes - (_node_count(ens) - base)
        if left <= 0:
            return time.monotonic() - t0
        cmd = [bench, "--servers", ens.connect_string(), "--workload", "create", "--ops", str(min(left, chunk)),
               "--warmup", "0", "--clients", "16", "--depth", "16", "--payload", str(payload),
               "--root", "/fill", "--json"] + extra
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if out.returncode != 0:
            failures += 1
            print("fill: aviary-bench failed (%d): %s %s" % (out.returncode, out.stdout[-500:], out.stderr[-500:]),
                  file=sys.stderr, flush=True)
            if failures > 5:
                raise RuntimeError("fill failed %d times" % failures)
            time.sleep(2)


def _prepare_load_nodes(ens, sessions):
    from kazoo.client import KazooClient
    c = KazooClient(hosts=ens.connect_string(), timeout=20.0)
    c.start(timeout=60)
    try:
        c.ensure_path(LOAD_ROOT)
        for i in range(sessions):
            c.ensure_path("%s/s%d" % (LOAD_ROOT, i))
    finally:
        c.stop()
        c.close()


def _wait_all_synced(ens, timeout=600.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        zx = [m.zxid() for m in ens.members]
        if min(zx) >= 0 and len(set(zx)) == 1 and ens.leader() is not None:
            return
        time.sleep(0.5)
    raise RuntimeError("members not in sync: %r" % [m.zxid() for m in ens.members])


ELECTION_RE = [re.compile(r"election took (\d+) ms"), re.compile(r"LEADER ELECTION TOOK - (\d+) MS")]


def _election_ms(member, since):
    for line in member.log_since(since).splitlines():
        for rx in ELECTION_RE:
            m = rx.search(line)
            if m:
                return int(m.group(1))
    return None


def analyse(acks, t_kill, before_s, window_s):
    """first_write_s / half_throughput_s from the acknowledgements."""
    pre = [z for t, z in acks if t < t_kill]
    old_epoch = max(z for z in pre) >> 32 if pre else 0
    rate_before = sum(1 for t, _ in acks if t_kill - before_s <= t < t_kill) / before_s
    first = next((t for t, z in acks if t >= t_kill and (z >> 32) > old_epoch), None)
    half = None
    if first is not None:
        times = [t for t, _ in acks if t >= first]
        lo = 0
        for hi, t in enumerate(times):
            while times[lo] < t - window_s:
                lo += 1
            if (hi - lo + 1) / window_s >= rate_before / 2:
                half = t
                break
    return {
        "rate_before_ops": round(rate_before, 1),
        "first_write_s": None if first is None else round(first - t_kill, 4),
        "half_throughput_s": None if half is None else round(half - t_kill, 4),
        "old_epoch": old_epoch,
    }


def one_failover(ens, a):
    lead = ens.leader()
    survivors = [m for m in ens.members if m is not lead and m.alive()]
    hosts = [("127.0.0.1", m.client_port) for m in survivors]
    offsets = {m.sid: m.log_size() for m in survivors}
    load = WriteLoad(hosts, sessions=a.sessions, depth=a.depth, payload=a.payload,
                     reconnect_ms=a.reconnect_ms).start()
    try:
        time.sleep(a.before)
        t_kill = time.monotonic()
        lead.kill()
        deadline = t_kill + a.after
        while time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        load.stop()
    r = analyse(load.acks(), t_kill, min(2.0, a.before), a.window_ms / 1000.0)
    after_kill = [t for t in load.attached if t >= t_kill]
    r["first_reattach_s"] = round(min(after_kill) - t_kill, 4) if after_kill else None
    r.update({"killed": lead.sid, "errors": load.errors, "reconnects": load.reconnects,
              "expired_sessions": load.expired,
              "election_ms": {m.sid: _election_ms(m, offsets[m.sid]) for m in survivors}})
    lead.start()
    return r


def measure(kind, znodes=1000000, reps=3, payload=100, parents=1000, sessions=8, depth=8, before=4.0,
            after=20.0, window_ms=200, reconnect_ms=20, zk_heap="2g", bench=None, verbose=True,
            settle=10.0):
    """Runs the failover benchmark for one kind; returns the summary dict."""
    a = argparse.Namespace(payload=payload, sessions=sessions, depth=depth, before=before, after=after,
                           window_ms=window_ms, reconnect_ms=reconnect_ms)
    bench = bench or os.path.join(REPO_ROOT, "build", "aviary-bench")
    # tickTime 2000 for this ensemble only: the module's value is read when
    # a member writes its zoo.cfg (at each start), so it is put back when
    # the ensemble stops - a later ensemble of the same process (a test in
    # the same pytest run) gets the default again.
    tick_before = ensemble.TICK_TIME_MS
    ensemble.TICK_TIME_MS = 2000
    os.environ.setdefault("AVIARY_ZK_LOGLEVEL", "info")
    ens = ensemble.Ensemble([kind] * 3, zk_jvm=["-Xmx%s" % zk_heap], extra_cfg={"maxSessionTimeout": 40000})
    runs = []
    try:
        ens.start(timeout=120)
        fill_s = fill(ens, bench, znodes, payload, parents)
        _prepare_load_nodes(ens, sessions)
        _wait_all_synced(ens)
        for rep in range(reps):
            # A member that just started (or restarted after the last kill)
            # writes its start-up snapshot from a forked child: let that end.
            time.sleep(settle)
            r = one_failover(ens, a)
            r.update({"kind": kind, "rep": rep, "znodes": znodes})
            if verbose:
                print(json.dumps(r), flush=True)
            runs.append(r)
            ens.wait_for_leader(timeout=300)
            _wait_all_synced(ens)
    finally:
        ens.stop()
        ensemble.TICK_TIME_MS = tick_before

    def med(key):
        vals = [r[key] for r in runs if r[key] is not None]
        return round(statistics.median(vals), 4) if vals else None

    return {"kind": kind, "znodes": znodes, "payload": payload, "reps": len(runs), "fill_s": round(fill_s, 1),
            "first_write_s_median": med("first_write_s"), "half_throughput_s_median": med("half_throughput_s"),
            "rate_before_ops_median": med("rate_before_ops"),
            "failed_reps": sum(1 for r in runs if r["first_write_s"] is None), "runs": runs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", default="aviary", help="aviary, zookeeper, or a comma-separated list")
    ap.add_argument("--znodes", type=int, default=1000000)
    ap.add_argument("--payload", type=int, default=100)
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--before", type=float, default=4.0, help="seconds of load before the kill")
    ap.add_argument("--after", type=float, default=20.0, help="seconds of load after the kill")
    ap.add_argument("--window-ms", type=int, default=200)
    ap.add_argument("--reconnect-ms", type=int, default=20)
    ap.add_argument("--zk-heap", default="2g")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="seconds to wait before each kill (start-up snapshots of restarted members)")
    ap.add_argument("--bench", default=None)
    ap.add_argument("--json-only", action="store_true", help="print only the summary line(s)")
    a = ap.parse_args()
    for kind in [k.strip() for k in a.kind.split(",") if k.strip()]:
        if kind not in ("aviary", "zookeeper"):
            ap.error("unknown kind %r" % kind)
        s = measure(kind, a.znodes, a.reps, a.payload, a.parents, a.sessions, a.depth, a.before, a.after,
                    a.window_ms, a.reconnect_ms, a.zk_heap, a.bench, verbose=not a.json_only,
                    settle=a.settle)
        print(json.dumps(s), flush=True)


if __name__ == "__main__":
    main()
