"""Crash test: acknowledged writes survive kill -9.

Each round starts the server on the SAME dataDir, runs several client
threads that each issue creates, setData calls and 2-create multis with
unique values (one request in flight per thread), kills the server with
SIGKILL after a seeded random delay, and records every write whose success
reply arrived. The next start (recovery) must show:

- every acknowledged create, with its value;
- for every key, a value that is the last acknowledged one or one sent after
  it (a sent-but-unacknowledged write may or may not have survived);
- every multi entirely or not at all, and every acknowledged one entirely;
- no child that no client ever sent; earlier rounds unchanged.

AVIARY_CRASH_ROUNDS (default 20) sets the round count, AVIARY_CRASH_SEED the
seed (printed). forceSync is left at its default (yes); snapCount is small so
that snapshots and log rolls happen under load.
"""

import os
import random
import signal
import socket
import threading
import time

import durharness
import rawzk

ROUNDS = int(os.environ.get("AVIARY_CRASH_ROUNDS", "20"))
THREADS = 4
KEYS_PER_THREAD = 3
ROOT = "/crash"


class Worker(threading.Thread):
    """One session issuing writes until the connection dies."""

    def __init__(self, port, parent, tid, seed):
        super().__init__(daemon=True)
        self.port = port
        self.parent = parent
        self.tid = tid
        self.rng = random.Random(seed)
        self.creates = {}  # name -> [value, acked]
        self.multis = []  # [name_a, name_b, value, acked]
        self.keys = {}  # name -> [values in send order]
        self.key_acked = {}  # name -> index of last acked value (0 = create)
        self.errors = []
        self.stop_flag = False

    def run(self):
        try:
            c = rawzk.RawClient("127.0.0.1", self.port, io_timeout=10.0)
            c.handshake(timeout_ms=2000)
            for j in range(KEYS_PER_THREAD):
                name = "k-%d-%d" % (self.tid, j)
                value = "s-%d-init-%d" % (self.tid, j)
                self.keys[name] = [value]
                err, _ = c.create("%s/%s" % (self.parent, name), value.encode())
                if err != 0:
                    self.errors.append("create %s: err %d" % (name, err))
                    return
                self.key_acked[name] = 0
            n = 0
            while not self.stop_flag:
                n += 1
                kind = self.rng.random()
                if kind < 0.4:
                    name = "c-%d-%d" % (self.tid, n)
                    value = "v-%d-%d" % (self.tid, n)
                    rec = self.creates[name] = [value, False]
                    err, _ = c.create("%s/%s" % (self.parent, name), value.encode())
                    if err != 0:
                        self.errors.append("create %s: err %d" % (name, err))
                        return
                    rec[1] = True
                elif kind < 0.8:
                    name = "k-%d-%d" % (self.tid, self.rng.randrange(KEYS_PER_THREAD))
                    value = "s-%d-%d" % (self.tid, n)
                    self.keys[name].append(value)
                    err, _ = c.set_data("%s/%s" % (self.parent, name), value.encode())
                    if err != 0:
                        self.errors.append("setData %s: err %d" % (name, err))
                        return
                    self.key_acked[name] = len(self.keys[name]) - 1
                else:
                    a, b = "m-%d-%d-a" % (self.tid, n), "m-%d-%d-b" % (self.tid, n)
                    value = "mv-%d-%d" % (self.tid, n)
                    rec = [a, b, value, False]
                    self.multis.append(rec)
                    err, per_op = durharness.multi_create(
                        c, [("%s/%s" % (self.parent, a), value.encode()),
                            ("%s/%s" % (self.parent, b), value.encode())])
                    if err != 0 or any(per_op):
                        self.errors.append("multi %s: err %d %r" % (a, err, per_op))
                        return
                    rec[3] = True
        except (OSError, rawzk.ConnectionClosed, socket.timeout, ValueError):
            return  # the server was killed


def pipelined_get(c, paths, batch=200):
    """getData for many paths, pipelined. Returns {path: data or None}."""
    out = {}
    for i in range(0, len(paths), batch):
        chunk = paths[i:i + batch]
        xids = [c.send_request(rawzk.OP_GET_DATA, rawzk.j_string(p) + rawzk.j_bool(False))
                for p in chunk]
        for p, xid in zip(chunk, xids):
            _zxid, err, r = c.read_reply(xid, timeout=10.0)
            out[p] = r.buffer().decode() if err == 0 else None
    return out


def verify_round(c, parent, workers):
    """Checks one round's writes; returns (acknowledged, found, problems)."""
    problems = []
    err, children = durharness.get_children(c, parent)
    assert err == 0, "round parent %s missing after restart (err %d)" % (parent, err)
    children = set(children)
    sent = set()
    for w in workers:
        sent.update(w.creates)
        sent.update(w.keys)
        for a, b, _v, _ack in w.multis:
            sent.update((a, b))
    stray = children - sent
    if stray:
        problems.append("children nobody created: %s" % sorted(stray)[:5])
    paths = ["%s/%s" % (parent, n) for n in sorted(children & sent)]
    values = {p.rsplit("/", 1)[1]: v for p, v in pipelined_get(c, paths).items()}
    acked = found = 0
    for w in workers:
        for name, (value, ack) in w.creates.items():
            if ack:
                acked += 1
                if values.get(name) == value:
                    found += 1
                else:
                    problems.append("acked create %s: found %r" % (name, values.get(name)))
            elif name in values and values[name] != value:
                problems.append("unacked create %s has value %r" % (name, values[name]))
        for a, b, value, ack in w.multis:
            has_a, has_b = a in values, b in values
            if has_a != has_b:
                problems.append("multi half applied: %s=%s %s=%s" % (a, has_a, b, has_b))
            if ack:
                acked += 1
                if values.get(a) == value and values.get(b) == value:
                    found += 1
                else:
                    problems.append("acked multi %s lost" % a)
        for name, sent_values in w.keys.items():
            if name not in w.key_acked:
                continue  # its create was never acknowledged
            last = w.key_acked[name]
            # values 0..last were all acknowledged (one request in flight per thread)
            acked += last + 1
            got = values.get(name)
            if got in sent_values[last:]:
                found += last + 1
            else:
                problems.append("key %s: value %r, expected one of %r" % (name, got, sent_values[last:]))
    return acked, found, problems


def test_acknowledged_writes_survive_kill9(node_factory, capsys):
    seed = int(os.environ.get("AVIARY_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
    rng = random.Random(seed)
    signal.alarm(max(240, ROUNDS * 12))
    with capsys.disabled():
        print("\ncrash test: seed %d (AVIARY_CRASH_SEED), %d rounds" % (seed, ROUNDS))
    node = node_factory(extra_cfg={"snapCount": 300, "preAllocSize": 1024})
    history = []  # (parent, number of children found)
    prev = None  # (parent, workers) of the round not yet verified
    total_acked = 0
    for rnd in range(ROUNDS + 1):
        node.start()
        c = node.client()
        try:
            if prev is not None:
                parent, workers = prev
                acked, found, problems = verify_round(c, parent, workers)
                errors = [e for w in workers for e in w.errors]
                with capsys.disabled():
                    print("round %d (seed %d): acknowledged %d, found %d" % (rnd - 1, seed, acked, found))
                assert not errors, "server refused writes: %s" % errors[:5]
                assert not problems, "round %d (seed %d): %s\n%s" % (rnd - 1, seed, problems[:10], node.log()[-3000:])
                assert acked == found
                total_acked += acked
                _err, kids = durharness.get_children(c, parent)
                history.append((parent, len(kids)))
            for parent, count in history:  # earlier rounds are unchanged
                err, kids = durharness.get_children(c, parent)
                assert err == 0 and len(kids) == count, "%s changed: %d -> %s" % (
                    parent, count, None if kids is None else len(kids))
            if rnd == ROUNDS:
                break
            if rnd == 0:
                assert c.create(ROOT)[0] in (0, -110)
            parent = "%s/r%03d" % (ROOT, rnd)
            assert c.create(parent)[0] == 0
        finally:
            c.close_session()
        workers = [Worker(node.port, parent, t, rng.randrange(1 << 30)) for t in range(THREADS)]
        for w in workers:
            w.start()
        # Mostly mid-load; sometimes right after startup (startup snapshot
        # and log roll still in progress).
        time.sleep(rng.uniform(0.0, 0.05) if rng.random() < 0.2 else rng.uniform(0.15, 1.2))
        node.kill9()
        for w in workers:
            w.stop_flag = True
            w.join(timeout=15)
            assert not w.is_alive(), "worker stuck after kill"
        prev = (parent, workers)
    node.stop()
    assert total_acked > ROUNDS * 10, "too few writes acknowledged: %d" % total_acked
