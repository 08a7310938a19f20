"""Backup of a running server under write load, restore into an empty dir.

Every write's zxid is known (create2 returns czxid, setData returns mzxid),
so the exact state at the backup's last_zxid Z is computable: the restored
server must show every create with czxid <= Z (and none after), and for
every key the value of its last setData with mzxid <= Z. The digest of the
restored dir must equal the source's digest --upto Z.
"""

import os
import re
import threading
import time

import durharness
import faults
import rawzk

THREADS = 3
KEYS = 4


class Loader(threading.Thread):
    def __init__(self, port, tid):
        super().__init__(daemon=True)
        self.port, self.tid = port, tid
        self.creates = {}  # path -> (value, czxid)
        self.sets = {}  # key path -> [(value, mzxid)] in order (first = create)
        self.stop_flag = False
        self.error = None

    def run(self):
        try:
            c = rawzk.RawClient("127.0.0.1", self.port, io_timeout=10.0)
            c.handshake(timeout_ms=5000)
            for k in range(KEYS):
                path = "/load/k-%d-%d" % (self.tid, k)
                err, res = c.create(path, b"init")
                assert err == 0, err
                self.sets[path] = [("init", res[1]["czxid"])]
            n = 0
            while not self.stop_flag:
                n += 1
                if n % 2:
                    path, value = "/load/c-%d-%05d" % (self.tid, n), "v%d" % n
                    err, res = c.create(path, value.encode())
                    assert err == 0, "create %s err %d" % (path, err)
                    self.creates[path] = (value, res[1]["czxid"])
                else:
                    path, value = "/load/k-%d-%d" % (self.tid, n % KEYS), "s%d" % n
                    err, stat = c.set_data(path, value.encode())
                    assert err == 0, "setData %s err %d" % (path, err)
                    self.sets[path].append((value, stat["mzxid"]))
            c.close_session()
        except Exception as e:  # reported by the test
            self.error = repr(e)


def _digest(*args):
    out = durharness.run_dump("digest", *args).stdout
    z = re.search(r"last_zxid (0x[0-9a-f]+)", out)
    d = re.search(r"digest (0x[0-9a-f]+)", out)
    assert z and d, out
    return int(z.group(1), 16), d.group(1)


def _last_zxid(text):
    m = re.search(r"last_zxid (0x[0-9a-f]+)", text)
    assert m, text
    return int(m.group(1), 16)


def test_backup_under_load_restores_exact_state(node_factory, tmp_path):
    src = node_factory(extra_cfg={"snapCount": 200, "preAllocSize": 256})
    src.start()
    c = src.client()
    faults.ensure(c, "/load")
    loaders = [Loader(src.port, t) for t in range(THREADS)]
    for ld in loaders:
        ld.start()
    time.sleep(1.5)  # a few snapshots and log rolls happen meanwhile
    backup = tmp_path / "backup"
    out = durharness.run_dump("backup", "--data-dir", src.data_dir, "--out", backup).stdout
    z = _last_zxid(out)
    manifest = (backup / "MANIFEST").read_text()
    assert _last_zxid(manifest) == z
    # Writes after the backup must not appear in it: wait until there are
    # some (a fixed 0.5 s was too short for a loaded sanitizer build).
    deadline = time.monotonic() + 30
    while not any(cz > z for ld in loaders for _v, cz in list(ld.creates.values())):
        assert time.monotonic() < deadline and all(ld.is_alive() for ld in loaders), \
            "no write after the backup within 30 s (loader errors: %r)" % [ld.error for ld in loaders]
        time.sleep(0.05)
    for ld in loaders:
        ld.stop_flag = True
    for ld in loaders:
        ld.join(timeout=20)
        assert ld.error is None, ld.error
    src.stop()
    after = [p for ld in loaders for p, (_v, cz) in ld.creates.items() if cz > z]
    assert after, "no write after the backup; the test proves nothing"

    # The backup verifies, the target must be empty, restore works.
    durharness.run_dump("verify", backup)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    assert durharness.run_dump("restore", backup, "--data-dir", busy, check=False).returncode != 0
    restored = node_factory()
    os.rmdir(restored.data_dir)
    durharness.run_dump("restore", backup, "--data-dir", restored.data_dir)

    # Digest of the restored files == digest of the source at the backup zxid.
    rz, rd = _digest("--data-dir", restored.data_dir)
    sz, sd = _digest("--data-dir", src.data_dir, "--upto", "%#x" % z)
    assert rz == sz == z, (rz, sz, z)
    assert rd == sd, "restored digest %s != source digest at %#x: %s" % (rd, z, sd)
    # The restore tool never modified the backup.
    durharness.run_dump("verify", backup)

    # A server on the restored dir serves exactly the state at z.
    restored.start()
    c = restored.client()
    for ld in loaders:
        for path, (value, cz) in ld.creates.items():
            err, res = c.get_data(path)
            if cz <= z:
                assert err == 0 and res[0] == value.encode(), (path, err)
            else:
                assert err == -101, "%s (czxid %#x > backup %#x) present" % (path, cz, z)
        for path, history in ld.sets.items():
            want = [v for v, mz in history if mz <= z]
            err, res = c.get_data(path)
            if want:
                assert err == 0 and res[0] == want[-1].encode(), (path, res, want[-1])
            else:
                assert err == -101


def test_dump_commands_on_real_files(node, tmp_path):
    node.start()
    c = node.client()
    faults.ensure(c, "/d")
    faults.write_creates(c, "/d", 20, "x")
    node.stop()
    listing = durharness.run_dump("list", node.data_dir).stdout
    assert "snapshot." in listing and "log." in listing, listing
    seg = node.segments()[-1]
    recs = faults.records(seg)
    assert any(r.get("path") == "/d/x-019" for r in recs), recs[-3:]
    text = durharness.run_dump("log", seg).stdout
    assert "/d/x-000" in text
    snap = node.snapshots()[-1]
    assert durharness.run_dump("snapshot", snap, "--json").stdout.startswith("{")
    durharness.run_dump("verify", node.data_dir)
    # A flipped byte in the middle of a record before the tail is reported.
    victim = recs[len(recs) // 2]
    faults.flip_byte(seg, victim["offset"] + victim["length"] // 2)
    p = durharness.run_dump("verify", node.data_dir, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert faults.names_offset(p.stderr, seg, [victim["offset"], victim["offset"] + victim["length"] // 2]), p.stderr
    p = durharness.run_dump("log", seg, check=False)
    assert p.returncode == 1
